// The HTTP API of API.md over real HTTP, on each engine: shapes, error codes, access, CSRF, payments.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { clock } from '../../src/clock.ts';
import { engineNames } from '../support/engines.ts';
import { Client, provisionHolder, startTestServer, type TestServer } from '../support/http.ts';
import { outboxOf } from '../support/fixtures.ts';
import { signPayload } from '../../src/payments/signature.ts';
import { buildServer } from '../../src/http/server.ts';

const GOOD_CARD = '4242424242424242';

async function payByCard(checkoutUrl: string, cardNumber: string, expiry = '12/34', cvc = '123') {
  const res = await fetch(checkoutUrl, {
    method: 'POST',
    body: new URLSearchParams({ cardNumber, expiry, cvc }),
    redirect: 'manual',
  });
  return { status: res.status, location: res.headers.get('location'), text: await res.text() };
}

for (const engine of engineNames()) {
  describe(`HTTP API [${engine}]`, () => {
    let s: TestServer;
    let op: Client;
    before(async () => {
      clock.setRome('2026-06-10T10:00');
      s = await startTestServer(engine);
      op = new Client(s.baseUrl, s.operatorToken);
    });
    after(async () => s.close());

    const holder = async (opts: Parameters<typeof provisionHolder>[1] = {}) => {
      const h = await provisionHolder(op, opts);
      const c = new Client(s.baseUrl);
      const res = await c.login(h.mailbox.address, h.password);
      assert.equal(res.status, 200);
      return { ...h, c };
    };
    const outbox = (customerId: string) => outboxOf(s.app.ctx, customerId);

    test('health, OpenAPI document and its reference page', async () => {
      assert.deepEqual((await fetch(`${s.baseUrl}/healthz`).then((r) => r.json())), { status: 'ok' });
      const doc = await fetch(`${s.baseUrl}/api/openapi.json`).then((r) => r.json());
      assert.equal(doc.openapi, '3.1.0');
      assert.ok(doc.paths['/api/mailboxes/{id}/extra-space/orders'].post);
      assert.ok(doc.paths['/api/admin/jobs/daily'].post);
      const docs = await fetch(`${s.baseUrl}/api/docs`, { redirect: 'follow' });
      assert.equal(docs.status, 200);
      assert.match(await docs.text(), /swagger/i);
    });

    test('sessions: wrong password 401, cookie flags, /api/me, logout needs CSRF and ends the session', async () => {
      const h = await provisionHolder(op, { creditCents: 700 });
      const c = new Client(s.baseUrl);
      const wrong = await c.post('/api/session', { address: h.mailbox.address, password: 'not-the-password' });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.error.code, 'invalid_credentials');
      assert.equal((await c.get('/api/me')).body.error.code, 'unauthenticated');

      const ok = await c.post('/api/session', { address: h.mailbox.address.toUpperCase(), password: h.password });
      assert.equal(ok.status, 200);
      const setCookie = ok.headers.get('set-cookie')!;
      assert.match(setCookie, /HttpOnly/i);
      assert.match(setCookie, /SameSite=Lax/i);
      assert.doesNotMatch(setCookie, /Secure/); // PUBLIC_URL is http here
      assert.deepEqual(ok.body.customer, { ...h.customer });
      c.csrfToken = ok.body.csrfToken;
      const me = await c.get('/api/me');
      assert.deepEqual(me.body, { customer: h.customer, csrfToken: ok.body.csrfToken, credit: { balanceCents: 700, currency: 'EUR', disputedCents: 0, debtCents: 0 } });

      assert.equal((await c.delete('/api/session', { 'x-csrf-token': 'wrong' })).status, 403);
      assert.equal((await c.delete('/api/session')).status, 204);
      assert.equal((await c.get('/api/me')).status, 401);
    });

    test('a holder sees all own mailboxes, none of another holder (404), and no operator API', async () => {
      const a = await holder({ mailboxes: 2, creditCents: 1000 });
      const b = await holder({ creditCents: 1000 });
      const list = await a.c.get('/api/mailboxes');
      assert.deepEqual(list.body.mailboxes.map((m: any) => m.id).sort(), a.mailboxes.map((m: any) => m.id).sort());
      const mine = (await a.c.get(`/api/mailboxes/${a.mailboxes[1].id}`)).body.mailbox;
      assert.deepEqual(mine.space, { baseGb: 1, extraGb: 0, totalGb: 1, usedBytes: 0, totalBytes: 1024 ** 3 });
      assert.deepEqual(mine.renewal, { dueOn: '2026-12-01', mailboxPriceCents: 500, addonsPriceCents: 0, totalCents: 500 });

      const bOrder = (await b.c.post(`/api/mailboxes/${b.mailbox.id}/extra-space/orders`, { quantityGb: 1 })).body.order;
      const bTopup = (await b.c.post('/api/credit/topups', { amountCents: 500 })).body.topup;
      for (const [method, path, body] of [
        ['GET', `/api/mailboxes/${b.mailbox.id}`],
        ['PATCH', `/api/mailboxes/${b.mailbox.id}`, { autoRenew: false }],
        ['POST', `/api/mailboxes/${b.mailbox.id}/extra-space/quote`, { quantityGb: 1 }],
        ['POST', `/api/mailboxes/${b.mailbox.id}/extra-space/orders`, { quantityGb: 1 }],
        ['POST', `/api/mailboxes/${b.mailbox.id}/renewal`],
        ['GET', `/api/orders/${bOrder.id}`],
        ['POST', `/api/orders/${bOrder.id}/cancel`],
        ['GET', `/api/credit/topups/${bTopup.id}`],
        ['POST', '/api/credit/topups', { amountCents: 500, orderId: bOrder.id }],
      ] as const) {
        const res = await a.c.request(method, path, body);
        assert.equal(res.status, 404, `${method} ${path}`);
        assert.equal(res.body.error.code, 'not_found');
      }
      assert.equal((await b.c.get(`/api/mailboxes/${b.mailbox.id}`)).body.mailbox.autoRenew, true);
      assert.equal((await b.c.get('/api/credit')).body.balanceCents, 700);

      const asOperator = await a.c.get(`/api/admin/customers/${a.customer.id}`);
      assert.equal(asOperator.status, 401);
      assert.equal((await a.c.post('/api/admin/jobs/daily')).status, 401);
    });

    test('state-changing calls without the CSRF header get 403 and change nothing', async () => {
      const a = await holder({ creditCents: 1000 });
      for (const [method, path, body] of [
        ['POST', `/api/mailboxes/${a.mailbox.id}/extra-space/orders`, { quantityGb: 1 }],
        ['PATCH', `/api/mailboxes/${a.mailbox.id}`, { autoRenew: false }],
        ['POST', '/api/credit/topups', { amountCents: 500 }],
        ['POST', `/api/mailboxes/${a.mailbox.id}/renewal`],
      ] as const) {
        const res = await a.c.request(method, path, body, { 'x-csrf-token': '' });
        assert.equal(res.status, 403, `${method} ${path}`);
        assert.equal(res.body.error.code, 'csrf_failed');
      }
      assert.equal((await a.c.get('/api/orders')).body.orders.length, 0);
      assert.equal((await a.c.get('/api/credit')).body.balanceCents, 1000);
    });

    test('quantity: 0, negative, fractional, string, null, unknown field → 422 validation_failed; over 50 GB → limit_exceeded', async () => {
      const a = await holder({ creditCents: 100_000 });
      const path = `/api/mailboxes/${a.mailbox.id}/extra-space/orders`;
      for (const body of [{ quantityGb: 0 }, { quantityGb: -1 }, { quantityGb: 1.5 }, { quantityGb: '2' }, { quantityGb: null }, { quantityGb: 1, note: 'x' }, {}, '{"quantityGb":', []]) {
        const res = await a.c.post(path, body);
        assert.equal(res.status, 422, JSON.stringify(body));
        assert.equal(res.body.error.code, 'validation_failed');
        assert.equal(typeof res.body.error.fields, 'object');
      }
      const over = await a.c.post(path, { quantityGb: 51 });
      assert.equal(over.status, 422);
      assert.equal(over.body.error.code, 'limit_exceeded');
      assert.equal((await a.c.post(path, { quantityGb: 50 })).status, 201);
      assert.equal((await a.c.post(path, { quantityGb: 1 })).body.error.code, 'limit_exceeded');
      assert.equal((await a.c.get('/api/credit')).body.balanceCents, 100_000 - 50 * 300);
    });

    test('an expired period: 409 mailbox_not_active; unknown ids: 404', async () => {
      const a = await holder({ creditCents: 1000, expiresOn: '2026-06-01' });
      const res = await a.c.post(`/api/mailboxes/${a.mailbox.id}/extra-space/orders`, { quantityGb: 1 });
      assert.equal(res.status, 409);
      assert.equal(res.body.error.code, 'mailbox_not_active');
      assert.equal((await a.c.post(`/api/mailboxes/${a.mailbox.id}/extra-space/quote`, { quantityGb: 1 })).body.error.code, 'mailbox_not_active');
      for (const path of ['/api/orders/ord_nope', '/api/credit/topups/top_nope', '/api/mailboxes/mbx_nope']) {
        assert.equal((await a.c.get(path)).status, 404, path);
      }
      assert.equal((await a.c.get('/api/credit')).body.balanceCents, 1000);
    });

    test('R4+R5 journey: quote, short credit waits, card top-up for the order completes it; receipts sent', async () => {
      const a = await holder({ creditCents: 200 });
      const quote = (await a.c.post(`/api/mailboxes/${a.mailbox.id}/extra-space/quote`, { quantityGb: 3 })).body.quote;
      assert.deepEqual(quote, {
        quantityGb: 3, unitPriceCents: 300, rule: 'full_year', amountCents: 900, activeFrom: '2026-06-10', activeUntil: '2026-12-01',
        renewalOn: '2026-12-01', renewalAmountCents: 900, renewalGb: 3, balanceCents: 200, shortfallCents: 700,
      });
      const placed = await a.c.post(`/api/mailboxes/${a.mailbox.id}/extra-space/orders`, { quantityGb: 3 });
      assert.equal(placed.status, 201);
      const order = placed.body.order;
      assert.equal(order.status, 'awaiting_topup');
      assert.equal(order.shortfallCents, 700);
      assert.equal(order.topupRequiredCents, 700);
      assert.equal(order.completedAt, null);

      const created = await a.c.post('/api/credit/topups', { amountCents: 700, orderId: order.id });
      assert.equal(created.status, 201);
      const topup = created.body.topup;
      assert.deepEqual(
        { amountCents: topup.amountCents, vatCents: topup.vatCents, chargeCents: topup.chargeCents, status: topup.status, orderId: topup.orderId },
        { amountCents: 700, vatCents: 154, chargeCents: 854, status: 'pending', orderId: order.id },
      );
      assert.equal(topup.checkoutUrl, `${s.baseUrl}/test-gateway/checkout/${topup.id}`);
      const pageHtml = await fetch(topup.checkoutUrl).then((r) => r.text());
      for (const label of ['Numero carta', 'Scadenza', 'CVC', 'Paga']) assert.ok(pageHtml.includes(label), label);

      const paid = await payByCard(topup.checkoutUrl, GOOD_CARD);
      assert.equal(paid.status, 303);
      assert.equal(paid.location, `/credit/topups/${topup.id}`);

      const after = (await a.c.get(`/api/credit/topups/${topup.id}`)).body.topup;
      assert.equal(after.status, 'succeeded');
      assert.equal(after.checkoutUrl, null);
      assert.deepEqual(after.settledOrderIds, [order.id]);
      const done = (await a.c.get(`/api/orders/${order.id}`)).body.order;
      assert.equal(done.status, 'completed');
      assert.equal(done.shortfallCents, 0);
      const credit = (await a.c.get('/api/credit')).body;
      assert.equal(credit.balanceCents, 0);
      assert.deepEqual(credit.transactions.map((t: any) => [t.kind, t.amountCents, t.balanceAfterCents]), [
        ['purchase', -900, 0],
        ['topup', 700, 900],
        ['adjustment', 200, 200],
      ]);
      assert.equal((await a.c.get(`/api/mailboxes/${a.mailbox.id}`)).body.mailbox.space.totalGb, 4);
      const mails = (await outbox(a.customer.id)).map((m) => m.subject);
      assert.ok(mails.some((m) => m.startsWith('Ricarica effettuata')), mails.join());
      assert.ok(mails.some((m) => m.startsWith('Ordine completato')), mails.join());
      assert.equal((await op.get('/api/admin/ledger/verify')).body.ok, true);
    });

    test('20 concurrent orders against credit for 3: exactly 3 complete, the balance ends at 0', async () => {
      const a = await holder({ creditCents: 900 });
      const results = await Promise.all(
        Array.from({ length: 20 }, () => a.c.post(`/api/mailboxes/${a.mailbox.id}/extra-space/orders`, { quantityGb: 1 })),
      );
      assert.ok(results.every((r) => r.status === 201), results.map((r) => r.status).join());
      const statuses = results.map((r) => r.body.order.status);
      assert.equal(statuses.filter((x) => x === 'completed').length, 3);
      assert.equal(statuses.filter((x) => x === 'awaiting_topup').length, 17);
      assert.equal((await a.c.get('/api/credit')).body.balanceCents, 0);
      assert.equal((await a.c.get(`/api/mailboxes/${a.mailbox.id}`)).body.mailbox.space.extraGb, 3);
      assert.equal((await op.get('/api/admin/ledger/verify')).body.ok, true);
    });

    test('Idempotency-Key: same body answers the first response once; another body is 422', async () => {
      const a = await holder({ creditCents: 1000 });
      const path = `/api/mailboxes/${a.mailbox.id}/extra-space/orders`;
      const key = { 'idempotency-key': 'k-1' };
      const first = await a.c.post(path, { quantityGb: 1 }, key);
      const again = await a.c.post(path, { quantityGb: 1 }, key);
      assert.equal(again.status, 201);
      assert.deepEqual(again.body, first.body);
      assert.equal((await a.c.get('/api/orders')).body.orders.length, 1);
      assert.equal((await a.c.get('/api/credit')).body.balanceCents, 700);
      const other = await a.c.post(path, { quantityGb: 2 }, key);
      assert.equal(other.status, 422);
      assert.equal(other.body.error.code, 'idempotency_conflict');
      // Another holder's identical key is another request.
      const b = await holder({ creditCents: 1000 });
      assert.equal((await b.c.post(`/api/mailboxes/${b.mailbox.id}/extra-space/orders`, { quantityGb: 1 }, key)).status, 201);
      // Top-ups too.
      const t1 = await a.c.post('/api/credit/topups', { amountCents: 500 }, { 'idempotency-key': 't-1' });
      const t2 = await a.c.post('/api/credit/topups', { amountCents: 500 }, { 'idempotency-key': 't-1' });
      assert.equal(t2.body.topup.id, t1.body.topup.id);
    });

    test('payments: forged and replayed notifications change nothing; a declined card credits nothing; a Luhn-invalid number is refused on the page', async () => {
      const a = await holder({});
      const topup = (await a.c.post('/api/credit/topups', { amountCents: 1000 })).body.topup;
      const webhook = `${s.baseUrl}/api/payments/webhook/test`;
      const event = JSON.stringify({ id: 'evt_forged', topupId: topup.id, outcome: 'succeeded', failureCode: null });
      const now = Math.floor(Date.now() / 1000);
      for (const signature of [signPayload('not-the-secret', event, now), signPayload(s.app.config.testGatewaySecret, event, now - 600), '', 't=1,v1=zz']) {
        const res = await fetch(webhook, { method: 'POST', headers: { 'content-type': 'application/json', 'casella-signature': signature }, body: event });
        assert.equal(res.status, 400);
        assert.equal((await res.json()).error.code, 'invalid_signature');
      }
      assert.equal((await a.c.get('/api/credit')).body.balanceCents, 0);

      // A genuine notification, replayed: credited once.
      const genuine = JSON.stringify({ id: 'evt_genuine_1', topupId: topup.id, outcome: 'succeeded', failureCode: null });
      const sig = signPayload(s.app.config.testGatewaySecret, genuine, now);
      for (let i = 0; i < 3; i++) {
        const res = await fetch(webhook, { method: 'POST', headers: { 'content-type': 'application/json', 'casella-signature': sig }, body: genuine });
        assert.equal(res.status, 200);
      }
      assert.equal((await a.c.get('/api/credit')).body.balanceCents, 1000);
      // A second, different event for the same top-up does not credit it again either.
      const other = JSON.stringify({ id: 'evt_genuine_2', topupId: topup.id, outcome: 'succeeded', failureCode: null });
      await fetch(webhook, { method: 'POST', headers: { 'content-type': 'application/json', 'casella-signature': signPayload(s.app.config.testGatewaySecret, other, now) }, body: other });
      assert.equal((await a.c.get('/api/credit')).body.balanceCents, 1000);
      assert.equal((await outbox(a.customer.id)).filter((m) => m.kind === 'topup_receipt').length, 1);

      const declined = (await a.c.post('/api/credit/topups', { amountCents: 1000 })).body.topup;
      const d = await payByCard(declined.checkoutUrl, '4000 0000 0000 0002');
      assert.equal(d.status, 303);
      const dAfter = (await a.c.get(`/api/credit/topups/${declined.id}`)).body.topup;
      assert.equal(dAfter.status, 'failed');
      assert.equal(dAfter.failureCode, 'card_declined');
      const poor = (await a.c.post('/api/credit/topups', { amountCents: 1000 })).body.topup;
      await payByCard(poor.checkoutUrl, '4000000000009995');
      assert.equal((await a.c.get(`/api/credit/topups/${poor.id}`)).body.topup.failureCode, 'insufficient_funds');
      assert.equal((await a.c.get('/api/credit')).body.balanceCents, 1000);
      assert.equal((await outbox(a.customer.id)).filter((m) => m.kind === 'topup_receipt').length, 1);

      const luhn = (await a.c.post('/api/credit/topups', { amountCents: 1000 })).body.topup;
      const refused = await payByCard(luhn.checkoutUrl, '4242424242424241');
      assert.equal(refused.status, 422);
      assert.match(refused.text, /Numero carta non valido/);
      assert.equal((await a.c.get(`/api/credit/topups/${luhn.id}`)).body.topup.status, 'pending');
      const events = await s.app.db.query('SELECT 1 FROM payment_events WHERE topup_id = $1', [luhn.id]);
      assert.equal(events.length, 0);
    });

    test('an English holder pays on a test gateway page in English and reads the statement in English', async () => {
      const a = await holder({ locale: 'en', creditCents: 200 });
      const topup = (await a.c.post('/api/credit/topups', { amountCents: 1000 })).body.topup;
      const pageHtml = await fetch(topup.checkoutUrl).then((r) => r.text());
      assert.match(pageHtml, /<html lang="en"/);
      for (const label of ['Card payment', 'Card number', 'Expiry date', 'Pay', '€10.00']) assert.ok(pageHtml.includes(label), label);
      assert.doesNotMatch(pageHtml, /Numero carta|Paga\b/);
      const refused = await payByCard(topup.checkoutUrl, '4242424242424241');
      assert.match(refused.text, /Invalid card number/);
      assert.equal((await payByCard(topup.checkoutUrl, GOOD_CARD)).status, 303);
      assert.deepEqual((await a.c.get('/api/credit')).body.transactions.map((t: any) => t.description), ['Card top-up', 'Adjustment: credito iniziale']);
    });

    test('the card number appears in no table and no log line', async () => {
      const a = await holder({});
      const card = '4000056655665556'; // Luhn-valid, accepted like a real card
      const topup = (await a.c.post('/api/credit/topups', { amountCents: 300 })).body.topup;
      assert.equal((await payByCard(topup.checkoutUrl, card)).status, 303);
      assert.equal((await a.c.get('/api/credit')).body.balanceCents, 300);
      const tables = await s.app.db.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
      );
      assert.ok(tables.length > 10);
      for (const { table_name } of tables) {
        const hits = await s.app.db.query(`SELECT 1 FROM "${table_name}" t WHERE row_to_json(t)::text LIKE $1 OR row_to_json(t)::text LIKE $2`, [`%${card}%`, '%4242424242424242%']);
        assert.equal(hits.length, 0, table_name);
      }
      assert.ok(s.logs.length > 0);
      assert.ok(s.logs.every((l) => !l.includes(card) && !l.includes('4242424242424242')));
    });

    test('30 wrong passwords in a row are throttled with 429 and Retry-After, even for the right password', async () => {
      const h = await provisionHolder(op, {});
      const c = new Client(s.baseUrl);
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 30; i++) {
        const res = await c.post('/api/session', { address: h.mailbox.address, password: `wrong-${i}` });
        statuses.push(res.status);
        if (res.status === 429) {
          retryAfter = res.headers.get('retry-after');
          assert.equal(res.body.error.code, 'rate_limited');
        }
      }
      assert.deepEqual(statuses.slice(0, 5), [401, 401, 401, 401, 401]);
      assert.ok(statuses.slice(5).every((x) => x === 429), statuses.join());
      assert.ok(Number(retryAfter) > 0);
      assert.equal((await c.post('/api/session', { address: h.mailbox.address, password: h.password })).status, 429);
      await s.app.db.query('DELETE FROM login_throttle'); // the other tests share this client address
    });

    test('renewal: 409 before the 90-day window, 201 within it; cancel only what waits', async () => {
      const early = await holder({ creditCents: 1000, expiresOn: '2027-06-01' });
      const refused = await early.c.post(`/api/mailboxes/${early.mailbox.id}/renewal`);
      assert.equal(refused.status, 409);
      assert.equal(refused.body.error.code, 'not_renewable');

      const due = await holder({ creditCents: 200, expiresOn: '2026-08-01' });
      const waiting = await due.c.post(`/api/mailboxes/${due.mailbox.id}/renewal`);
      assert.equal(waiting.status, 201);
      assert.equal(waiting.body.order.kind, 'renewal');
      assert.equal(waiting.body.order.status, 'awaiting_topup');
      assert.equal(waiting.body.order.shortfallCents, 300);
      const cancelled = await due.c.post(`/api/orders/${waiting.body.order.id}/cancel`);
      assert.equal(cancelled.body.order.status, 'cancelled');
      const again = await due.c.post(`/api/orders/${waiting.body.order.id}/cancel`);
      assert.equal(again.status, 409);
      assert.equal(again.body.error.code, 'order_not_pending');

      await op.post(`/api/admin/customers/${due.customer.id}/credit-adjustments`, { amountCents: 300, reason: 'saldo' });
      const renewed = await due.c.post(`/api/mailboxes/${due.mailbox.id}/renewal`, {});
      assert.equal(renewed.body.order.status, 'completed');
      assert.equal(renewed.body.order.activeUntil, '2027-08-01');
      assert.equal((await due.c.get(`/api/mailboxes/${due.mailbox.id}`)).body.mailbox.expiresOn, '2027-08-01');
    });

    test('PATCH mailbox switches auto-renewal; orders list newest first', async () => {
      const a = await holder({ creditCents: 1000 });
      const res = await a.c.patch(`/api/mailboxes/${a.mailbox.id}`, { extraSpaceAutoRenew: false });
      assert.equal(res.status, 200);
      assert.equal(res.body.mailbox.autoRenew, true);
      assert.equal(res.body.mailbox.extraSpaceAutoRenew, false);
      assert.equal((await a.c.patch(`/api/mailboxes/${a.mailbox.id}`, { autoRenew: 'no' })).status, 422);
      const o1 = (await a.c.post(`/api/mailboxes/${a.mailbox.id}/extra-space/orders`, { quantityGb: 1 })).body.order;
      clock.set(clock.nowMs() + 1000);
      const o2 = (await a.c.post(`/api/mailboxes/${a.mailbox.id}/extra-space/orders`, { quantityGb: 1 })).body.order;
      assert.deepEqual((await a.c.get('/api/orders')).body.orders.map((o: any) => o.id), [o2.id, o1.id]);
    });

    test('operator API: validation, taken address, usage, adjustments below zero refused, audit log, daily job, ledger', async () => {
      assert.equal((await op.post('/api/admin/customers', { name: 'X', referenceEmail: 'not-an-email' })).body.error.fields.referenceEmail !== undefined, true);
      const h = await provisionHolder(op, { creditCents: 500, billingProfile: false });
      const taken = await op.post('/api/admin/mailboxes', { customerId: h.customer.id, address: h.mailbox.address, password: 'abcdefgh12', type: 'standard', expiresOn: '2027-01-01' });
      assert.equal(taken.status, 422);
      assert.equal(taken.body.error.code, 'validation_failed');
      const bad = await op.post('/api/admin/mailboxes', { customerId: h.customer.id, address: 'nope', password: 'abcdefgh12', type: 'gold', expiresOn: '2027-02-30' });
      assert.equal(bad.status, 422);
      const usage = await op.patch(`/api/admin/mailboxes/${h.mailbox.id}`, { usedBytes: 1000 });
      assert.equal(usage.body.mailbox.space.usedBytes, 1000);
      assert.equal((await op.patch('/api/admin/mailboxes/mbx_nope', { usedBytes: 1 })).status, 404);
      const below = await op.post(`/api/admin/customers/${h.customer.id}/credit-adjustments`, { amountCents: -600, reason: 'errore' });
      assert.equal(below.status, 422);
      const refund = await op.post(`/api/admin/customers/${h.customer.id}/credit-adjustments`, { amountCents: -200, reason: 'storno' });
      assert.equal(refund.status, 201);
      assert.equal(refund.body.transaction.balanceAfterCents, 300);
      const view = await op.get(`/api/admin/customers/${h.customer.id}`);
      assert.equal(view.body.credit.balanceCents, 300);
      assert.equal(view.body.mailboxes.length, 1);
      assert.equal((await op.get('/api/admin/customers/cus_nope')).status, 404);
      const audit = await s.app.db.query<{ action: string; actor_kind: string }>(
        `SELECT action, actor_kind FROM audit_log WHERE entity_id IN ($1, $2) ORDER BY id`,
        [h.customer.id, h.mailbox.id],
      );
      assert.deepEqual(audit.map((x) => x.action), ['customer.create', 'mailbox.create', 'credit.adjust', 'mailbox.update', 'credit.adjust']);
      assert.ok(audit.every((x) => x.actor_kind === 'token'));
      const daily = await op.post('/api/admin/jobs/daily');
      assert.equal(daily.status, 200);
      assert.deepEqual(Object.keys(daily.body.summary).sort(), ['addonsDeactivated', 'addonsRenewed', 'alertsQueued', 'cardChargesAttempted', 'cardChargesAuthenticationRequired', 'cardChargesFailed', 'cardChargesSucceeded', 'mailboxesExpired', 'mailboxesRenewed', 'mailboxesTerminated', 'ordersExpired', 'usageWarningsQueued']);
      assert.equal((await new Client(s.baseUrl, 'cop_wrong').get('/api/admin/ledger/verify')).status, 401);
      const verify = await op.get('/api/admin/ledger/verify');
      assert.equal(verify.body.ok, true);
      assert.ok(verify.body.customersChecked >= 1);
    });

    test('test clock: readable, moves only forward, needs an operator, absent without CASELLA_TEST_CLOCK', async () => {
      const now = (await op.get('/api/test/clock')).body.now;
      assert.equal(Date.parse(now), clock.nowMs());
      assert.equal((await new Client(s.baseUrl).put('/api/test/clock', { now: '2030-01-01T00:00:00Z' })).status, 401);
      const back = await op.put('/api/test/clock', { now: '2020-01-01T00:00:00+01:00' });
      assert.equal(back.status, 409);
      const fwd = await op.put('/api/test/clock', { now: '2026-12-24T09:00:00+01:00' });
      assert.equal(fwd.status, 200);
      assert.equal(clock.today().toString(), '2026-12-24');
      assert.equal((await op.put('/api/test/clock', { now: 'domani' })).status, 422);
      const without = await buildServer({ ...s.app, config: { ...s.app.config, testClock: false } });
      assert.equal((await without.inject({ method: 'GET', url: '/api/test/clock' })).statusCode, 404);
      await without.close();
    });
  });
}
