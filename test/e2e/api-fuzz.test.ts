// Property: no input, however malformed, gets a 5xx (API.md "Conventions"). Random bodies, headers
// and path ids are thrown at every endpoint, as a holder, as an operator and as nobody.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { clock } from '../../src/clock.ts';
import { engineNames } from '../support/engines.ts';
import { Client, provisionHolder, startTestServer, type TestServer } from '../support/http.ts';

const ROUTES: [method: string, path: string][] = [
  ['POST', '/api/session'], ['DELETE', '/api/session'], ['GET', '/api/me'], ['GET', '/api/mailboxes'],
  ['GET', '/api/mailboxes/:id'], ['PATCH', '/api/mailboxes/:id'], ['POST', '/api/mailboxes/:id/extra-space/quote'],
  ['POST', '/api/mailboxes/:id/extra-space/orders'], ['POST', '/api/mailboxes/:id/renewal'], ['GET', '/api/orders'],
  ['GET', '/api/orders/:id'], ['POST', '/api/orders/:id/cancel'], ['GET', '/api/credit'], ['POST', '/api/credit/topups'],
  ['GET', '/api/credit/topups/:id'], ['POST', '/api/payments/webhook/test'], ['POST', '/api/payments/webhook/:id'],
  ['GET', '/test-gateway/checkout/:id'], ['POST', '/test-gateway/checkout/:id'], ['POST', '/api/admin/customers'],
  ['GET', '/api/admin/customers/:id'], ['POST', '/api/admin/mailboxes'], ['PATCH', '/api/admin/mailboxes/:id'],
  ['POST', '/api/admin/customers/:id/credit-adjustments'], ['GET', '/api/admin/ledger/verify'], ['GET', '/api/test/clock'],
  ['PUT', '/api/test/clock'], ['GET', '/:id'], ['GET', '/api/:id'],
  ['GET', '/api/payment-methods'], ['POST', '/api/payment-methods'], ['DELETE', '/api/payment-methods/:id'],
  ['GET', '/test-gateway/setup/:id'], ['POST', '/test-gateway/setup/:id'], ['GET', '/test-gateway/authenticate/:id'], ['POST', '/test-gateway/authenticate/:id'],
];

const FIELDS = ['quantityGb', 'amountCents', 'orderId', 'address', 'password', 'autoRenew', 'extraSpaceAutoRenew', 'name',
  'referenceEmail', 'customerId', 'type', 'expiresOn', 'usedBytes', 'reason', 'now', 'cardNumber', 'expiry', 'cvc', 'locale', 'taxCode', '__proto__', 'constructor'];

const jsonValue = fc.oneof(
  fc.integer(), fc.double(), fc.string(), fc.boolean(), fc.constant(null), fc.constant(Number.MAX_SAFE_INTEGER), fc.constant(-1),
  fc.constant(1e300), fc.constant('2027-02-30'), fc.array(fc.integer(), { maxLength: 3 }), fc.dictionary(fc.string(), fc.integer(), { maxKeys: 2 }),
);
const body = fc.oneof(
  fc.dictionary(fc.constantFrom(...FIELDS), jsonValue, { maxKeys: 5 }).map((o) => JSON.stringify(o)),
  fc.json(),
  fc.string(),
  fc.constant(''),
  fc.constant('{"quantityGb":'),
  fc.constant('null'),
);

for (const engine of engineNames()) {
  describe(`API fuzz [${engine}]`, () => {
    let s: TestServer;
    const ids: string[] = [];
    const auths: Record<string, Record<string, string>> = {};
    before(async () => {
      clock.setRome('2026-06-10T10:00');
      s = await startTestServer(engine);
      const op = new Client(s.baseUrl, s.operatorToken);
      const h = await provisionHolder(op, { creditCents: 5000 });
      const c = new Client(s.baseUrl);
      await c.login(h.mailbox.address, h.password);
      const order = (await c.post(`/api/mailboxes/${h.mailbox.id}/extra-space/orders`, { quantityGb: 1 })).body.order;
      const topup = (await c.post('/api/credit/topups', { amountCents: 500 })).body.topup;
      ids.push(h.mailbox.id, h.customer.id, order.id, topup.id);
      auths.holder = { cookie: c.cookie, 'x-csrf-token': c.csrfToken };
      auths.operator = { authorization: `Bearer ${s.operatorToken}` };
      auths.nobody = {};
    });
    after(async () => s.close());

    test('random requests to every endpoint never get a 5xx, and errors keep the API.md shape', async () => {
      const id = fc.oneof(fc.constantFrom(...ids), fc.string({ maxLength: 120 }).map(encodeURIComponent), fc.constant('%00'), fc.constant('..'));
      const contentType = fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain', 'application/json; charset=utf-8', undefined);
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...ROUTES), id, body, contentType, fc.constantFrom('holder', 'operator', 'nobody'), fc.option(fc.string({ maxLength: 20 })),
          async ([method, path], pathId, payload, ct, who, idemKey) => {
            const headers: Record<string, string> = { ...auths[who] };
            if (ct) headers['content-type'] = ct;
            if (idemKey !== null && /^[\x21-\x7e]*$/.test(idemKey)) headers['idempotency-key'] = idemKey;
            const res = await s.server.inject({ method: method as 'GET', url: path.replace(':id', pathId || 'x'), headers, ...(method === 'GET' ? {} : { payload }) });
            assert.ok(res.statusCode < 500, `${method} ${path} → ${res.statusCode}: ${res.body.slice(0, 300)}`);
            if (res.statusCode >= 400 && res.headers['content-type']?.toString().startsWith('application/json')) {
              const parsed = JSON.parse(res.body);
              assert.equal(typeof parsed.error.code, 'string');
              assert.equal(typeof parsed.error.message, 'string');
            }
          }),
        { numRuns: 400 },
      );
      assert.equal((await new Client(s.baseUrl, s.operatorToken).get('/api/admin/ledger/verify')).body.ok, true);
    });
  });
}
