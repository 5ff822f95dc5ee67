// R18 items 3-4 over real HTTP with the test clock, on each engine: every saved-card test number
// through the whole cycle (charge 7 days before E, retries at E−3 and E−1, authentication, the
// renewal at E from credit), one charge per (mailbox, period) whatever is run again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clock } from '../../src/clock.ts';
import { Client, forEachServer, provisionHolder } from '../support/http.ts';
import { outboxOf } from '../support/fixtures.ts';

forEachServer('renewal by saved card (R18)', (t) => {
  const holder = async (cardNumber: string, opts: Parameters<typeof provisionHolder>[1] = {}) => {
    clock.setRome('2026-11-10T10:00');
    const h = await provisionHolder(t.op, { expiresOn: '2026-12-01', ...opts });
    const c = new Client(t.s.baseUrl);
    assert.equal((await c.login(h.mailbox.address, h.password)).status, 200);
    const setup = (await c.post('/api/payment-methods')).body.setup;
    const saved = await fetch(setup.setupUrl, { method: 'POST', body: new URLSearchParams({ cardNumber, expiry: '12/34', cvc: '123' }), redirect: 'manual' });
    assert.equal(saved.status, 303);
    const [card] = (await c.get('/api/payment-methods')).body.paymentMethods;
    assert.equal((await c.patch(`/api/mailboxes/${h.mailbox.id}`, { cardRenewal: { paymentMethodId: card.id } })).status, 200);
    return { ...h, c, card };
  };
  const dailyOn = async (day: string) => {
    clock.setRome(`${day}T06:00`);
    const res = await t.op.post('/api/admin/jobs/daily');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.summary;
  };
  const gatewayCharges = async (mailboxId: string) =>
    t.s.app.db.query<{ outcome: string; amount_cents: number }>(
      `SELECT g.outcome, g.amount_cents FROM test_gateway_charges g JOIN card_charge_attempts a ON a.topup_id = g.topup_id WHERE a.mailbox_id = $1 ORDER BY a.attempt`,
      [mailboxId],
    );
  const savedCardTopups = async (c: Client, customerId: string) => {
    const rows = await t.s.app.db.query<{ id: string }>(`SELECT id FROM topups WHERE customer_id = $1 AND payment_method_id IS NOT NULL ORDER BY created_at`, [customerId]);
    return Promise.all(rows.map(async (r) => (await c.get(`/api/credit/topups/${r.id}`)).body.topup));
  };
  const subjects = async (customerId: string) => (await outboxOf(t.s.app.ctx, customerId)).map((e) => e.subject);

  test('4242: charged 7 days before E for what the renewal needs, invoiced; renewed at E from credit; never charged twice', async () => {
    const h = await holder('4242424242424242', { creditCents: 200 });
    await dailyOn('2026-11-23');
    assert.deepEqual(await gatewayCharges(h.mailbox.id), [], 'not before E − 7');
    await dailyOn('2026-11-24');
    const [topup] = await savedCardTopups(h.c, h.customer.id);
    // 500 − 200 of credit = 300 net, + 22 % VAT = 366 on the card.
    assert.equal(topup.method, 'saved_card');
    assert.equal(topup.status, 'succeeded');
    assert.deepEqual([topup.amountCents, topup.vatCents, topup.chargeCents], [300, 66, 366]);
    assert.ok(topup.invoiceId, 'invoiced like a card payment (R15)');
    assert.equal((await h.c.get('/api/me')).body.credit.balanceCents, 500);
    await dailyOn('2026-11-24');
    await dailyOn('2026-11-28');
    await dailyOn('2026-11-30');
    assert.equal((await gatewayCharges(h.mailbox.id)).length, 1);
    await dailyOn('2026-12-01');
    const m = (await h.c.get(`/api/mailboxes/${h.mailbox.id}`)).body.mailbox;
    assert.equal(m.expiresOn, '2027-12-01');
    assert.equal(m.status, 'active');
    assert.equal((await h.c.get('/api/me')).body.credit.balanceCents, 0);
    assert.equal((await gatewayCharges(h.mailbox.id)).length, 1);
    assert.ok((await subjects(h.customer.id)).some((s) => s.startsWith('Ricarica effettuata')));
  });

  test('enough credit: the card is not charged', async () => {
    const h = await holder('4242424242424242', { creditCents: 500 });
    await dailyOn('2026-11-24');
    assert.deepEqual(await gatewayCharges(h.mailbox.id), []);
    await dailyOn('2026-12-01');
    assert.equal((await h.c.get(`/api/mailboxes/${h.mailbox.id}`)).body.mailbox.expiresOn, '2027-12-01');
  });

  for (const [number, code] of [['4000000000000341', 'card_declined'], ['4000000000009995', 'insufficient_funds']] as const) {
    test(`${number}: fails ${code}, e-mails at once, leaves an order to pay, retries at E−3 and E−1, then the mailbox expires at E`, async () => {
      const h = await holder(number);
      await dailyOn('2026-11-24');
      let topups = await savedCardTopups(h.c, h.customer.id);
      assert.deepEqual(topups.map((x) => [x.status, x.failureCode]), [['failed', code]]);
      const mails = await outboxOf(t.s.app.ctx, h.customer.id);
      const failed = mails.filter((e) => e.subject.startsWith('Pagamento non riuscito'));
      assert.equal(failed.length, 1);
      assert.match(failed[0]!.text_body, /28 novembre 2026/, 'names the next attempt');
      assert.match(failed[0]!.text_body, /1° dicembre 2026.*scadrà/s, 'says what happens at E');
      const orders = (await h.c.get('/api/orders')).body.orders;
      assert.deepEqual(orders.map((o: any) => [o.kind, o.status, o.mailboxId]), [['renewal', 'awaiting_topup', h.mailbox.id]]);
      // The banner on every holder page.
      for (const path of ['/', '/credit', '/profilo']) {
        const pageText = (await h.c.get(path)).body as string;
        assert.ok(pageText.includes(`Pagamento non riuscito: la carta non è stata addebitata per il rinnovo di ${h.mailbox.address}`), path);
      }
      await dailyOn('2026-11-25');
      assert.equal((await gatewayCharges(h.mailbox.id)).length, 1, 'no retry before E − 3');
      await dailyOn('2026-11-28');
      await dailyOn('2026-11-28');
      await dailyOn('2026-11-30');
      topups = await savedCardTopups(h.c, h.customer.id);
      assert.deepEqual(topups.map((x) => x.status), ['failed', 'failed', 'failed']);
      assert.equal((await gatewayCharges(h.mailbox.id)).length, 3);
      assert.equal((await subjects(h.customer.id)).filter((s) => s.startsWith('Pagamento non riuscito')).length, 3);
      await dailyOn('2026-12-01');
      assert.equal((await h.c.get(`/api/mailboxes/${h.mailbox.id}`)).body.mailbox.status, 'expired');
      assert.equal((await gatewayCharges(h.mailbox.id)).length, 3);
    });
  }

  test('4000002760003184: authentication required, e-mailed link, Autorizza completes the charge; renewed at E', async () => {
    const h = await holder('4000002760003184');
    await dailyOn('2026-11-24');
    const [topup] = await savedCardTopups(h.c, h.customer.id);
    assert.equal(topup.status, 'pending');
    const mail = (await outboxOf(t.s.app.ctx, h.customer.id)).find((e) => e.subject.startsWith('Conferma il pagamento'));
    assert.ok(mail, 'Conferma il pagamento sent');
    const link = `${t.s.baseUrl}/test-gateway/authenticate/${topup.id}`;
    assert.ok(mail.text_body.includes(link), mail.text_body);
    const page = await fetch(link);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Autorizza/);
    assert.ok(((await h.c.get('/')).body as string).includes(`href="/test-gateway/authenticate/${topup.id}"`), 'banner with the link');
    // Run again before the holder acts: the same attempt is not charged again.
    await dailyOn('2026-11-25');
    assert.equal((await gatewayCharges(h.mailbox.id)).length, 1);
    const authorised = await fetch(link, { method: 'POST', redirect: 'manual' });
    assert.equal(authorised.status, 303);
    const after = (await h.c.get(`/api/credit/topups/${topup.id}`)).body.topup;
    assert.equal(after.status, 'succeeded');
    assert.ok(after.invoiceId);
    assert.equal((await h.c.get('/api/me')).body.credit.balanceCents, 500);
    assert.ok(!((await h.c.get('/')).body as string).includes('Conferma il pagamento:'), 'no banner once paid');
    assert.equal((await fetch(link, { method: 'POST', redirect: 'manual' })).status, 404, 'authorised once');
    await dailyOn('2026-12-01');
    assert.equal((await h.c.get(`/api/mailboxes/${h.mailbox.id}`)).body.mailbox.expiresOn, '2027-12-01');
    assert.equal((await gatewayCharges(h.mailbox.id)).length, 1);
  });

  test('a job missed from E−7 to E−1 catches up on E, before the renewal', async () => {
    const h = await holder('4242424242424242');
    await dailyOn('2026-12-01');
    const m = (await h.c.get(`/api/mailboxes/${h.mailbox.id}`)).body.mailbox;
    assert.equal(m.expiresOn, '2027-12-01');
    assert.equal((await gatewayCharges(h.mailbox.id)).length, 1);
  });

  test('card renewal off (never switched on): nothing is charged, the mailbox expires at E', async () => {
    clock.setRome('2026-11-10T10:00');
    const h = await provisionHolder(t.op, { expiresOn: '2026-12-01' });
    const c = new Client(t.s.baseUrl);
    await c.login(h.mailbox.address, h.password);
    const setup = (await c.post('/api/payment-methods')).body.setup;
    await fetch(setup.setupUrl, { method: 'POST', body: new URLSearchParams({ cardNumber: '4242424242424242', expiry: '12/34', cvc: '123' }), redirect: 'manual' });
    await dailyOn('2026-11-24');
    await dailyOn('2026-12-01');
    assert.equal((await c.get(`/api/mailboxes/${h.mailbox.id}`)).body.mailbox.status, 'expired');
    assert.deepEqual(await gatewayCharges(h.mailbox.id), []);
  });

  test('Carta in scadenza: a card that will have expired by its next charge date, announced 30 days before that date, once', async () => {
    clock.setRome('2026-12-08T10:00');
    const h = await provisionHolder(t.op, { expiresOn: '2027-01-20' });
    const c = new Client(t.s.baseUrl);
    await c.login(h.mailbox.address, h.password);
    const setup = (await c.post('/api/payment-methods')).body.setup;
    // Good through December 2026; the charge for E = 20 January 2027 is on 13 January.
    await fetch(setup.setupUrl, { method: 'POST', body: new URLSearchParams({ cardNumber: '4242424242424242', expiry: '12/26', cvc: '123' }), redirect: 'manual' });
    const [card] = (await c.get('/api/payment-methods')).body.paymentMethods;
    await c.patch(`/api/mailboxes/${h.mailbox.id}`, { cardRenewal: { paymentMethodId: card.id } });
    const expiring = async () => (await outboxOf(t.s.app.ctx, h.customer.id)).filter((e) => e.subject.startsWith('Carta in scadenza'));
    await dailyOn('2026-12-13');
    assert.equal((await expiring()).length, 0, 'not before 30 days ahead of the charge');
    await dailyOn('2026-12-14');
    const [mail] = await expiring();
    assert.ok(mail);
    assert.equal(mail.subject, 'Carta in scadenza: visa che termina con 4242');
    assert.ok(mail.text_body.includes(h.mailbox.address));
    assert.match(mail.text_body, /13 gennaio 2027/);
    await dailyOn('2026-12-15');
    assert.equal((await expiring()).length, 1, 'once');
  });

  test('the dashboard\'s "il credito non basta" counts what the card will pay', async () => {
    const h = await holder('4242424242424242');
    const short = 'Il credito non basta per i rinnovi dei prossimi 90 giorni';
    assert.ok(!((await h.c.get('/')).body as string).includes(short), 'the card pays the renewal');
    await h.c.patch(`/api/mailboxes/${h.mailbox.id}`, { cardRenewal: null });
    assert.ok(((await h.c.get('/')).body as string).includes(short), 'without the card the credit is short');
  });
});
