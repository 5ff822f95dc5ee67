// The gateways' pure parts: card decisions on the test page, and signed notifications (test, Stripe).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { passesLuhn } from '../../src/payments/luhn.ts';
import { decideCard, testGateway, testNotification } from '../../src/payments/test-gateway.ts';
import { stripeGateway } from '../../src/payments/stripe-gateway.ts';
import { signPayload, verifySignature } from '../../src/payments/signature.ts';

const NOW = new Date('2026-11-27T12:00:00Z');
const nowS = Math.floor(NOW.getTime() / 1000);

test('Luhn: the test cards pass, a changed digit fails, non-digits fail', () => {
  for (const n of ['4242424242424242', '4000000000000002', '4000000000009995', '4000056655665556']) assert.ok(passesLuhn(n), n);
  for (const n of ['4242424242424241', '1234', '4242-4242-4242-4242', '', '42424242424242424242']) assert.ok(!passesLuhn(n), n);
});

test('test card page: decisions by card number, expiry and CVC checked', () => {
  const card = (cardNumber: string, expiry = '12/30', cvc = '123') => decideCard({ cardNumber, expiry, cvc }, NOW);
  assert.deepEqual(card('4242 4242 4242 4242'), { ok: true, outcome: 'succeeded' });
  assert.deepEqual(card('4000000000000002'), { ok: true, outcome: 'failed', failureCode: 'card_declined' });
  assert.deepEqual(card('4000000000009995'), { ok: true, outcome: 'failed', failureCode: 'insufficient_funds' });
  assert.deepEqual(card('4242424242424241'), { ok: false, fields: { cardNumber: 'invalid' } });
  assert.deepEqual(card('4242424242424242', '10/26'), { ok: false, fields: { expiry: 'past' } });
  assert.deepEqual(card('4242424242424242', '11/26'), { ok: true, outcome: 'succeeded' }); // valid to the month's end
  assert.deepEqual(card('4242424242424242', '13/30', '12'), { ok: false, fields: { expiry: 'format', cvc: 'invalid' } });
});

test('signatures: right secret within 5 minutes verifies; wrong secret, stale, malformed do not', () => {
  const body = Buffer.from('{"id":"evt_1"}');
  assert.deepEqual(verifySignature('s', body, signPayload('s', body, nowS), nowS), { ok: true });
  assert.deepEqual(verifySignature('s', body, signPayload('s', body, nowS - 299), nowS), { ok: true });
  assert.deepEqual(verifySignature('s', body, signPayload('s', body, nowS - 301), nowS), { ok: false, reason: 'stale' });
  assert.deepEqual(verifySignature('s', body, signPayload('x', body, nowS), nowS), { ok: false, reason: 'mismatch' });
  assert.deepEqual(verifySignature('s', Buffer.from('{"id":"evt_2"}'), signPayload('s', body, nowS), nowS), { ok: false, reason: 'mismatch' });
  assert.deepEqual(verifySignature('s', body, undefined, nowS), { ok: false, reason: 'missing' });
  assert.deepEqual(verifySignature('s', body, 'v1=abc', nowS), { ok: false, reason: 'malformed' });
});

test('test gateway notifications: signed, read back, and a tampered body is rejected', () => {
  const g = testGateway('secret', () => 'http://casella.test');
  const n = testNotification('secret', { topupId: 'top_1', outcome: 'failed', failureCode: 'card_declined' }, nowS);
  const read = g.readNotification(Buffer.from(n.body), { 'casella-signature': n.signature }, nowS);
  assert.equal(read.kind, 'outcome');
  if (read.kind === 'outcome') assert.deepEqual({ ...read.outcome, eventId: 'x' }, { gateway: 'test', eventId: 'x', topupId: 'top_1', outcome: 'failed', failureCode: 'card_declined', paidAt: null });
  // R15: the time the card was charged travels in the signed notification, for the invoice's payment date.
  const paid = testNotification('secret', { topupId: 'top_1', outcome: 'succeeded', failureCode: null, paidAt: '2032-12-31T22:59:58.000Z' }, nowS);
  const readPaid = g.readNotification(Buffer.from(paid.body), { 'casella-signature': paid.signature }, nowS);
  assert.equal(readPaid.kind === 'outcome' && readPaid.outcome.paidAt?.toISOString(), '2032-12-31T22:59:58.000Z');
  const tampered = n.body.replace('failed', 'succeeded');
  assert.equal(g.readNotification(Buffer.from(tampered), { 'casella-signature': n.signature }, nowS).kind, 'rejected');
  // Signed, but not an event: said to be malformed (422), not unverified.
  const odd = Buffer.from('[1,2,3]');
  assert.equal(g.readNotification(odd, { 'casella-signature': signPayload('secret', odd, nowS) }, nowS).kind, 'malformed');
});

test('Stripe webhook: paid sessions succeed, unpaid are ignored, failures and expiry fail, forged are rejected', () => {
  const g = stripeGateway('sk_test_x', 'whsec_x');
  const event = (type: string, payment_status = 'paid') =>
    Buffer.from(JSON.stringify({ id: `evt_${type}`, type, created: 1_900_000_000, data: { object: { id: 'cs_1', client_reference_id: 'top_9', payment_status, payment_intent: 'pi_1' } } }));
  const read = (body: Buffer, secret = 'whsec_x') => g.readNotification(body, { 'stripe-signature': signPayload(secret, body, nowS) }, nowS);
  const completed = read(event('checkout.session.completed'));
  assert.deepEqual(completed, { kind: 'outcome', outcome: { gateway: 'stripe', eventId: 'evt_checkout.session.completed', topupId: 'top_9', gatewayReference: 'pi_1', paidAt: new Date(1_900_000_000_000), outcome: 'succeeded' } });
  assert.equal(read(event('checkout.session.completed', 'unpaid')).kind, 'ignored');
  assert.equal((read(event('checkout.session.async_payment_failed')) as { outcome: { outcome: string } }).outcome.outcome, 'failed');
  assert.equal((read(event('checkout.session.expired')) as { outcome: { failureCode: string } }).outcome.failureCode, 'checkout_expired');
  assert.equal(read(event('customer.created')).kind, 'ignored');
  assert.equal(read(event('checkout.session.completed'), 'whsec_forged').kind, 'rejected');
});

test('Stripe webhook, R18: a completed setup session names its SetupIntent; setup sessions otherwise, and expired confirmation pages, are ignored', () => {
  const g = stripeGateway('sk_test_x', 'whsec_x');
  const read = (type: string, object: Record<string, unknown>) => {
    const body = Buffer.from(JSON.stringify({ id: `evt_${type}`, type, created: 1_900_000_000, data: { object } }));
    return g.readNotification(body, { 'stripe-signature': signPayload('whsec_x', body, nowS) }, nowS);
  };
  const setup = { id: 'cs_set', object: 'checkout.session', mode: 'setup', client_reference_id: 'set_1', customer: 'cus_1', setup_intent: 'seti_1', payment_status: 'no_payment_required', status: 'complete' };
  assert.deepEqual(read('checkout.session.completed', setup), {
    kind: 'card_setup_completed',
    setup: { gateway: 'stripe', eventId: 'evt_checkout.session.completed', setupId: 'set_1', gatewaySessionId: 'cs_set', setupIntentId: 'seti_1', gatewayCustomer: 'cus_1' },
  });
  assert.equal(read('checkout.session.expired', { ...setup, status: 'expired' }).kind, 'ignored', 'an abandoned setup fails no top-up');
  assert.equal(read('checkout.session.completed', { ...setup, setup_intent: null }).kind, 'ignored');
  assert.equal(read('checkout.session.completed', { ...setup, client_reference_id: 'x'.repeat(300) }).kind, 'ignored');
  const confirmation = { id: 'cs_pay', mode: 'payment', client_reference_id: 'top_1', payment_status: 'unpaid', status: 'expired', metadata: { topup_id: 'top_1', casella_purpose: 'card_charge_confirmation' } };
  assert.equal(read('checkout.session.expired', confirmation).kind, 'ignored', 'the charge still waits for its holder');
  assert.equal(read('checkout.session.expired', { ...confirmation, metadata: { topup_id: 'top_1' } }).kind, 'outcome', 'an ordinary top-up page that expired fails its top-up');
  const paid = read('checkout.session.completed', { ...confirmation, status: 'complete', payment_status: 'paid', payment_intent: 'pi_2' });
  assert.equal(paid.kind === 'outcome' && paid.outcome.topupId, 'top_1');
  assert.equal(paid.kind === 'outcome' && paid.outcome.gatewayReference, 'pi_2');
});
