// R18 (and R17's refunds) on Stripe: every call the Stripe gateways make, against the local stand-in
// of Stripe's API (test/support/stripe-stand-in.ts), which checks the exact requests and answers as
// Stripe documents: a PaymentIntent on success; a 402 `card_error` with `code`, `decline_code` and
// the PaymentIntent on a decline or when the bank wants authentication; the first answer again for
// a repeated Idempotency-Key.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config.ts';
import { failureCodeOf, STRIPE_API_VERSION, stripeGateway, stripeSavedCardGateway } from '../../src/payments/stripe-gateway.ts';
import type { SavedCard } from '../../src/payments/saved-cards.ts';
import type { TopupRow } from '../../src/services/rows.ts';
import { startStripeStandIn, type StripeStandIn } from '../support/stripe-stand-in.ts';

let stripe: StripeStandIn;
before(async () => {
  stripe = await startStripeStandIn({ secretKey: 'sk_test_123' });
});
after(() => stripe.close());

const gateway = () => stripeSavedCardGateway('sk_test_123', stripe.apiBase, () => 'https://casella.example');
const lastRequest = () => stripe.requests[stripe.requests.length - 1]!;

/** A card saved as the holder saves it: a Stripe customer, a setup session, the card on Stripe's page, the SetupIntent read. */
async function savedCard(cardNumber: string, customerId = `cus_casella_${cardNumber}`): Promise<SavedCard> {
  const started = await gateway().startCardSetup({ id: `set_${cardNumber}_${stripe.requests.length}`, customerId, gatewayCustomer: null }, { returnUrl: 'https://c/ok', cancelUrl: 'https://c/ko' });
  const session = stripe.session(started.gatewaySessionId!)!;
  await stripe.completeSetup(session.id, cardNumber, { expMonth: 8, expYear: 2031, deliver: false });
  const card = await gateway().readSetupCard(stripe.session(session.id)!.setup_intent!);
  assert.ok(card);
  return card;
}

const charge = (card: SavedCard, key: string, chargeCents = 610) =>
  gateway().chargeSavedCard({ topupId: 'top_1', chargeCents, currency: 'eur', cardReference: card.reference, gatewayCustomer: card.gatewayCustomer, idempotencyKey: key });

test('saving a card: a Stripe customer, then Checkout in setup mode for cards, each with its Idempotency-Key', async () => {
  const from = stripe.requests.length;
  const started = await gateway().startCardSetup({ id: 'set_1', customerId: 'cus_casella_1', gatewayCustomer: null }, { returnUrl: 'https://c/ok', cancelUrl: 'https://c/ko' });
  const seen = stripe.requests.slice(from);
  assert.deepEqual(seen.map((s) => `${s.method} ${s.path}`), ['POST /v1/customers', 'POST /v1/checkout/sessions']);
  for (const s of seen) {
    assert.equal(s.headers.authorization, 'Bearer sk_test_123');
    assert.equal(s.headers['content-type'], 'application/x-www-form-urlencoded');
    // Stripe's SDK names the API version; Casella pins the one its parameters are written for.
    assert.equal(s.headers['stripe-version'], STRIPE_API_VERSION);
  }
  assert.deepEqual(seen[0]!.form, { 'metadata[casella_customer_id]': 'cus_casella_1' });
  assert.equal(seen[0]!.headers['idempotency-key'], 'customer-cus_casella_1');
  const customer = stripe.session(started.gatewaySessionId!)!.customer!;
  assert.match(customer, /^cus_/);
  assert.deepEqual(seen[1]!.form, {
    mode: 'setup', currency: 'eur', customer, 'payment_method_types[0]': 'card', client_reference_id: 'set_1', success_url: 'https://c/ok', cancel_url: 'https://c/ko', 'metadata[setup_id]': 'set_1',
  });
  assert.equal(seen[1]!.headers['idempotency-key'], 'set_1');
  assert.deepEqual(started, { setupUrl: `https://checkout.stripe.com/c/pay/${started.gatewaySessionId}`, gatewaySessionId: started.gatewaySessionId });
  // A holder with a Stripe customer already gets no second one.
  const again = stripe.requests.length;
  await gateway().startCardSetup({ id: 'set_2', customerId: 'cus_casella_1', gatewayCustomer: customer }, { returnUrl: 'https://c/ok', cancelUrl: 'https://c/ko' });
  assert.deepEqual(stripe.requests.slice(again).map((s) => s.path), ['/v1/checkout/sessions']);
});

test('the completed setup\'s card: the SetupIntent read with its payment method expanded; brand, last 4, expiry, customer, never the number', async () => {
  const card = await savedCard('4242424242424242');
  const req = lastRequest();
  assert.equal(req.method, 'GET');
  assert.match(req.path, /^\/v1\/setup_intents\/seti_[0-9a-f]+$/);
  // Stripe's SDK encodes arrays with indexes (`expand[0]`), which Stripe takes as it takes `expand[]`.
  assert.deepEqual(req.query, { 'expand[0]': 'payment_method' });
  assert.match(card.reference, /^pm_/);
  assert.match(card.gatewayCustomer!, /^cus_/);
  assert.deepEqual({ ...card, reference: '', gatewayCustomer: '' }, { reference: '', gatewayCustomer: '', brand: 'visa', last4: '4242', expMonth: 8, expYear: 2031 });
  assert.ok(!JSON.stringify(card).includes('4242424242424242'));
  // A setup not (yet) succeeded saved no card.
  const open = await gateway().startCardSetup({ id: 'set_open', customerId: 'cus_casella_open', gatewayCustomer: null }, { returnUrl: 'https://c/ok', cancelUrl: 'https://c/ko' });
  assert.equal(await gateway().readSetupCard(stripe.session(open.gatewaySessionId!)!.setup_intent!), null);
  await assert.rejects(gateway().readSetupCard('seti_unknown'), /not read/);
});

test('an off-session PaymentIntent: exact parameters and Idempotency-Key; succeeded', async () => {
  const card = await savedCard('4242424242424242', 'cus_casella_ok');
  const r = await charge(card, 'casella-card-renewal-mbx_1-2026-12-01-1');
  assert.equal(r.outcome, 'succeeded');
  const req = lastRequest();
  assert.equal(`${req.method} ${req.path}`, 'POST /v1/payment_intents');
  assert.equal(req.headers.authorization, 'Bearer sk_test_123');
  assert.equal(req.headers['idempotency-key'], 'casella-card-renewal-mbx_1-2026-12-01-1');
  assert.equal(req.headers['content-type'], 'application/x-www-form-urlencoded');
  assert.deepEqual(req.form, {
    amount: '610', currency: 'eur', customer: card.gatewayCustomer, payment_method: card.reference, off_session: 'true', confirm: 'true', 'metadata[topup_id]': 'top_1',
  });
  const pi = stripe.paymentIntents().find((p) => p.id === (r.outcome === 'succeeded' ? r.reference : ''));
  assert.deepEqual([pi?.status, pi?.amount, pi?.currency], ['succeeded', 610, 'eur']);
});

test('the same key again gets the same PaymentIntent (a retried or recovered call charges once); the same key with another amount is refused', async () => {
  const card = await savedCard('4242424242424242', 'cus_casella_same');
  const before = stripe.paymentIntents().length;
  const first = await charge(card, 'key-same');
  const second = await charge(card, 'key-same');
  assert.deepEqual(second, first);
  assert.equal(stripe.paymentIntents().length, before + 1, 'one PaymentIntent');
  await assert.rejects(charge(card, 'key-same', 999), /not answered/);
  assert.equal(stripe.paymentIntents().length, before + 1);
});

test('authentication_required, declines by Casella\'s codes (card_declined, insufficient_funds, expired_card), and a Stripe error that is no answer', async () => {
  const auth = await charge(await savedCard('4000002760003184'), 'key-auth');
  assert.equal(auth.outcome, 'requires_action');
  assert.equal(auth.outcome === 'requires_action' && auth.actionUrl, 'https://casella.example/credit/topups/top_1');
  assert.match(auth.outcome === 'requires_action' ? auth.reference : '', /^pi_/);
  for (const [number, code] of [['4000000000000341', 'card_declined'], ['4000000000009995', 'insufficient_funds'], ['4000000000000069', 'expired_card']] as const) {
    const r = await charge(await savedCard(number), `key-${number}`);
    assert.equal(r.outcome, 'failed', number);
    assert.equal(r.outcome === 'failed' && r.failureCode, code, number);
    assert.match(r.outcome === 'failed' ? r.reference ?? '' : '', /^pi_/, 'the declined PaymentIntent is named');
  }
  // A payment method of another Stripe customer: Stripe refuses the request (400), which is no answer about the card.
  const card = await savedCard('4242424242424242', 'cus_casella_x');
  const other = await savedCard('4242424242424242', 'cus_casella_y');
  await assert.rejects(
    gateway().chargeSavedCard({ topupId: 'top_2', chargeCents: 610, currency: 'eur', cardReference: card.reference, gatewayCustomer: other.gatewayCustomer, idempotencyKey: 'key-mixed' }),
    /not answered/,
  );
  await assert.rejects(stripeSavedCardGateway('sk_test_wrong', stripe.apiBase).chargeSavedCard({ topupId: 'top_3', chargeCents: 610, currency: 'eur', cardReference: card.reference, gatewayCustomer: card.gatewayCustomer, idempotencyKey: 'key-wrong' }), /not answered/);
});

test('failureCodeOf: Stripe\'s code and decline_code as the failure codes Casella names', () => {
  assert.equal(failureCodeOf({ type: 'card_error', code: 'card_declined', decline_code: 'generic_decline' }), 'card_declined');
  assert.equal(failureCodeOf({ type: 'card_error', code: 'card_declined', decline_code: 'insufficient_funds' }), 'insufficient_funds');
  assert.equal(failureCodeOf({ type: 'card_error', code: 'expired_card' }), 'expired_card');
  assert.equal(failureCodeOf({ type: 'card_error', code: 'card_declined', decline_code: 'expired_card' }), 'expired_card');
  assert.equal(failureCodeOf({ type: 'card_error', code: 'incorrect_cvc' }), 'incorrect_cvc');
  assert.equal(failureCodeOf({ type: 'card_error' }), 'card_declined');
});

test('confirming a charge on-session: Checkout in payment mode for the amount and the Stripe customer; the same key, the same page; read back open, paid, expired', async () => {
  const card = await savedCard('4000002760003184', 'cus_casella_confirm');
  const open = () =>
    gateway().openChargeConfirmation({
      topupId: 'top_9', chargeCents: 732, currency: 'eur', gatewayCustomer: card.gatewayCustomer, idempotencyKey: 'casella-card-renewal-mbx_9-2026-12-01-1-confirm-first',
      returnUrl: 'https://casella.example/credit/topups/top_9',
    });
  const page = await open();
  const req = lastRequest();
  assert.equal(`${req.method} ${req.path}`, 'POST /v1/checkout/sessions');
  assert.equal(req.headers['idempotency-key'], 'casella-card-renewal-mbx_9-2026-12-01-1-confirm-first');
  assert.deepEqual(req.form, {
    mode: 'payment',
    customer: card.gatewayCustomer,
    client_reference_id: 'top_9',
    success_url: 'https://casella.example/credit/topups/top_9',
    cancel_url: 'https://casella.example/credit/topups/top_9',
    'payment_method_types[0]': 'card',
    'line_items[0][quantity]': '1',
    'line_items[0][price_data][currency]': 'eur',
    'line_items[0][price_data][unit_amount]': '732',
    'line_items[0][price_data][product_data][name]': 'Ricarica credito Casella per il rinnovo automatico (IVA inclusa)',
    'metadata[topup_id]': 'top_9',
    'metadata[casella_purpose]': 'card_charge_confirmation',
    'payment_intent_data[metadata][topup_id]': 'top_9',
  });
  assert.deepEqual(await open(), page, 'the same key gives the same page');
  assert.equal(lastRequest().headers['idempotency-key'], 'casella-card-renewal-mbx_9-2026-12-01-1-confirm-first');
  assert.deepEqual(await gateway().readChargeConfirmation(page.sessionId!), { state: 'open' });
  assert.deepEqual(`${lastRequest().method} ${lastRequest().path}`, `GET /v1/checkout/sessions/${page.sessionId}`);
  const paid = await stripe.payCheckout(page.sessionId!, { deliver: false });
  const pi = (paid.event as any).data.object.payment_intent;
  assert.deepEqual(await gateway().readChargeConfirmation(page.sessionId!), { state: 'paid', reference: pi });
  assert.deepEqual(stripe.paymentIntents().find((p) => p.id === pi)?.metadata, { topup_id: 'top_9' });
  const other = await gateway().openChargeConfirmation({
    topupId: 'top_10', chargeCents: 500, currency: 'eur', gatewayCustomer: card.gatewayCustomer, idempotencyKey: 'k-10', returnUrl: 'https://casella.example/credit/topups/top_10',
  });
  await stripe.expireCheckout(other.sessionId!, { deliver: false });
  assert.deepEqual(await gateway().readChargeConfirmation(other.sessionId!), { state: 'expired' });
  await assert.rejects(
    gateway().openChargeConfirmation({ topupId: 'top_11', chargeCents: 500, currency: 'eur', gatewayCustomer: null, idempotencyKey: 'k-11', returnUrl: 'https://c' }),
    /Stripe customer/,
  );
});

test('top-ups on Checkout in payment mode, and refunds keyed by the refund id (R17), against the same stand-in', async () => {
  const g = stripeGateway('sk_test_123', 'whsec_x', stripe.apiBase);
  const topup = { id: 'top_pay', charge_cents: 1220 } as TopupRow;
  const started = await g.startCheckout(topup, { returnUrl: 'https://c/back', cancelUrl: 'https://c/back' });
  const req = lastRequest();
  assert.equal(req.headers['idempotency-key'], 'top_pay');
  assert.deepEqual(req.form, {
    mode: 'payment', client_reference_id: 'top_pay', success_url: 'https://c/back', cancel_url: 'https://c/back', 'line_items[0][quantity]': '1',
    'line_items[0][price_data][currency]': 'eur', 'line_items[0][price_data][unit_amount]': '1220',
    'line_items[0][price_data][product_data][name]': 'Ricarica credito Casella (IVA inclusa)', 'metadata[topup_id]': 'top_pay',
  });
  const paid = await stripe.payCheckout(started.gatewaySessionId!, { deliver: false });
  const pi = (paid.event as any).data.object.payment_intent as string;
  const refund = await g.refund(null as never, { refundId: 'ref_1', topup: { id: 'top_pay', gateway: 'stripe', gateway_reference: pi }, chargeCents: 610, gatewayRefundId: null });
  assert.equal(refund.status, 'succeeded');
  assert.equal(lastRequest().headers['idempotency-key'], 'ref_1');
  assert.deepEqual(lastRequest().form, { payment_intent: pi, amount: '610', 'metadata[refund_id]': 'ref_1', 'metadata[topup_id]': 'top_pay' });
  const again = await g.refund(null as never, { refundId: 'ref_1', topup: { id: 'top_pay', gateway: 'stripe', gateway_reference: pi }, chargeCents: 610, gatewayRefundId: refund.gatewayRefundId });
  assert.deepEqual(again, refund);
  assert.equal(`${lastRequest().method} ${lastRequest().path}`, `GET /v1/refunds/${refund.gatewayRefundId}`);
  const tooMuch = await g.refund(null as never, { refundId: 'ref_2', topup: { id: 'top_pay', gateway: 'stripe', gateway_reference: pi }, chargeCents: 5000, gatewayRefundId: null });
  assert.deepEqual(tooMuch, { status: 'failed', gatewayRefundId: null, failureCode: 'amount_too_large' });
});

test('STRIPE_API_BASE: Stripe\'s API by default; a stand-in over http outside production; only https in production', () => {
  assert.equal(loadConfig({}).stripeApiBase, 'https://api.stripe.com/v1');
  assert.equal(loadConfig({ STRIPE_API_BASE: 'http://127.0.0.1:9999/v1/' }).stripeApiBase, 'http://127.0.0.1:9999/v1');
  assert.throws(() => loadConfig({ STRIPE_API_BASE: 'api.stripe.com' }), /STRIPE_API_BASE is not a URL/);
  assert.throws(() => loadConfig({ STRIPE_API_BASE: 'ftp://127.0.0.1/v1' }), /STRIPE_API_BASE must be an http or https URL/);
  const production = { NODE_ENV: 'production', PAYMENT_GATEWAY: 'stripe', STRIPE_SECRET_KEY: 'sk', STRIPE_WEBHOOK_SECRET: 'wh' };
  assert.throws(() => loadConfig({ ...production, STRIPE_API_BASE: 'http://egress-proxy/v1' }), /STRIPE_API_BASE must be an https URL/);
  assert.throws(() => loadConfig({ ...production, STRIPE_API_BASE: 'https://egress-proxy/v1' }), (err: Error) => !/STRIPE_API_BASE/.test(err.message), 'https passes (the start then stops on the seller)');
  // Stripe's SDK always requests /v1/... on the host: another path could not be kept, so it is refused.
  assert.equal(loadConfig({ STRIPE_API_BASE: 'https://egress-proxy:8443/v1' }).stripeApiBase, 'https://egress-proxy:8443/v1');
  for (const other of ['http://127.0.0.1:9999', 'http://127.0.0.1:9999/', 'https://egress-proxy/stripe/v1', 'https://egress-proxy/v2', 'https://egress-proxy/v1/x']) {
    assert.throws(() => loadConfig({ STRIPE_API_BASE: other }), /STRIPE_API_BASE must have the path \/v1/, other);
  }
  assert.throws(() => loadConfig({ STRIPE_API_BASE: 'https://egress-proxy/v1?x=1' }), /without credentials, query or fragment/);
  assert.throws(() => loadConfig({ STRIPE_API_BASE: 'https://u:p@egress-proxy/v1' }), /without credentials, query or fragment/);
});

test('the stand-in refuses payment_method_types on a Checkout Session at Stripe-Version endive (2026-09-30) and later, as Stripe does', async () => {
  const post = (version: string) =>
    fetch(`${stripe.apiBase}/checkout/sessions`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk_test_123', 'content-type': 'application/x-www-form-urlencoded', 'stripe-version': version },
      body: new URLSearchParams({ mode: 'setup', currency: 'eur', 'payment_method_types[0]': 'card', success_url: 'https://c/ok' }),
    });
  const refused = await post('2026-11-18.endive');
  assert.equal(refused.status, 400);
  assert.equal(((await refused.json()) as any).error.param, 'payment_method_types[0]');
  assert.equal((await post(STRIPE_API_VERSION)).status, 200);
});
