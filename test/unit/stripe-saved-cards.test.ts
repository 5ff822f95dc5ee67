// R18 on Stripe: the off-session charge and the setup session, against a local stand-in of Stripe's
// API that checks the exact requests and answers as Stripe documents (PaymentIntent on success; a
// 402 with `error: {type: "card_error", code, decline_code, payment_intent}` on a decline or when
// the bank wants authentication; the same answer again for a repeated Idempotency-Key).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { stripeSavedCardGateway } from '../../src/payments/stripe-gateway.ts';

interface Seen { method: string; path: string; headers: IncomingMessage['headers']; form: Record<string, string> }
const seen: Seen[] = [];
const answered = new Map<string, { status: number; body: unknown }>();
let server: Server;
let base = '';

function stripeAnswer(path: string, form: Record<string, string>): { status: number; body: unknown } {
  if (path === '/v1/customers') return { status: 200, body: { id: 'cus_TEST1', object: 'customer' } };
  if (path === '/v1/checkout/sessions') return { status: 200, body: { id: 'cs_test_1', object: 'checkout.session', mode: form.mode, url: 'https://checkout.stripe.com/c/pay/cs_test_1' } };
  const pi = (status: string) => ({ id: `pi_${answered.size + 1}`, object: 'payment_intent', amount: Number(form.amount), currency: form.currency, status });
  switch (form.payment_method) {
    case 'pm_ok':
      return { status: 200, body: pi('succeeded') };
    case 'pm_auth':
      return { status: 402, body: { error: { type: 'card_error', code: 'authentication_required', decline_code: 'authentication_required', message: 'This payment requires authentication.', payment_intent: pi('requires_payment_method') } } };
    case 'pm_declined':
      return { status: 402, body: { error: { type: 'card_error', code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.', payment_intent: pi('requires_payment_method') } } };
    case 'pm_funds':
      return { status: 402, body: { error: { type: 'card_error', code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.', payment_intent: pi('requires_payment_method') } } };
    default:
      return { status: 500, body: { error: { type: 'api_error', message: 'Something went wrong on Stripe\'s end.' } } };
  }
}

before(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const form = Object.fromEntries(new URLSearchParams(raw));
      seen.push({ method: req.method!, path: req.url!, headers: req.headers, form });
      const key = String(req.headers['idempotency-key']);
      // Stripe: a repeated Idempotency-Key gets the first answer, status code included.
      const answer = answered.get(key) ?? stripeAnswer(req.url!, form);
      answered.set(key, answer);
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

const charge = (paymentMethod: string, key: string) =>
  stripeSavedCardGateway('sk_test_123', base, () => 'https://casella.example').chargeSavedCard({
    topupId: 'top_1', chargeCents: 610, currency: 'eur', cardReference: paymentMethod, gatewayCustomer: 'cus_TEST1', idempotencyKey: key,
  });

test('an off-session PaymentIntent: exact parameters and Idempotency-Key; succeeded', async () => {
  seen.length = 0;
  const r = await charge('pm_ok', 'casella-card-renewal-mbx_1-2026-12-01-1');
  assert.deepEqual(r, { outcome: 'succeeded', reference: r.outcome === 'succeeded' ? r.reference : '' });
  assert.equal(seen.length, 1);
  const req = seen[0]!;
  assert.equal(req.method, 'POST');
  assert.equal(req.path, '/v1/payment_intents');
  assert.equal(req.headers.authorization, 'Bearer sk_test_123');
  assert.equal(req.headers['idempotency-key'], 'casella-card-renewal-mbx_1-2026-12-01-1');
  assert.equal(req.headers['content-type'], 'application/x-www-form-urlencoded');
  assert.deepEqual(req.form, {
    amount: '610', currency: 'eur', customer: 'cus_TEST1', payment_method: 'pm_ok', off_session: 'true', confirm: 'true', 'metadata[topup_id]': 'top_1',
  });
});

test('the same key again gets the same PaymentIntent (a retried or recovered call charges once)', async () => {
  const first = await charge('pm_ok', 'key-same');
  const second = await charge('pm_ok', 'key-same');
  assert.deepEqual(second, first);
});

test('authentication_required, declines by decline_code, and a Stripe error that is no answer', async () => {
  const auth = await charge('pm_auth', 'key-auth');
  assert.equal(auth.outcome, 'requires_action');
  assert.equal(auth.outcome === 'requires_action' && auth.actionUrl, 'https://casella.example/credit/topups/top_1');
  assert.deepEqual(await charge('pm_declined', 'key-declined'), { outcome: 'failed', failureCode: 'generic_decline', reference: (answered.get('key-declined')!.body as any).error.payment_intent.id });
  const funds = await charge('pm_funds', 'key-funds');
  assert.equal(funds.outcome === 'failed' && funds.failureCode, 'insufficient_funds');
  await assert.rejects(charge('pm_broken', 'key-broken'), /not answered/);
});

test('saving a card: a Stripe customer, then Checkout in setup mode', async () => {
  seen.length = 0;
  const g = stripeSavedCardGateway('sk_test_123', base);
  const started = await g.startCardSetup({ id: 'set_1', customerId: 'cus_casella_1', gatewayCustomer: null }, { returnUrl: 'https://c/ok', cancelUrl: 'https://c/ko' });
  assert.deepEqual(started, { setupUrl: 'https://checkout.stripe.com/c/pay/cs_test_1', gatewaySessionId: 'cs_test_1' });
  assert.deepEqual(seen.map((s) => s.path), ['/v1/customers', '/v1/checkout/sessions']);
  assert.deepEqual(seen[1]!.form, {
    mode: 'setup', currency: 'eur', customer: 'cus_TEST1', client_reference_id: 'set_1', success_url: 'https://c/ok', cancel_url: 'https://c/ko', 'metadata[setup_id]': 'set_1',
  });
  assert.equal(seen[1]!.headers['idempotency-key'], 'set_1');
});
