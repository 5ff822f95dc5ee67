// R18 items 3-4 over real HTTP with the test clock, on each engine: every saved-card test number
// through the whole cycle (charge 7 days before E, retries at E−3 and E−1, authentication, the
// renewal at E from credit), one charge per (mailbox, period) whatever is run again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clock } from '../../src/clock.ts';
import { Client, forEachServer, provisionHolder } from '../support/http.ts';
import { outboxOf } from '../support/fixtures.ts';

forEachServer('renewal by saved card (R18)', (t) => {
  const holder = async (cardNumber: string, opts: Parameters<typeof provisionHolder>[1] & { now?: string; cardExpiry?: string } = {}) => {
    clock.setRome(opts.now ?? '2026-11-10T10:00');
    const h = await provisionHolder(t.op, { expiresOn: '2026-12-01', ...opts });
    const c = new Client(t.s.baseUrl);
    assert.equal((await c.login(h.mailbox.address, h.password)).status, 200);
    const setup = (await c.post('/api/payment-methods')).body.setup;
    const saved = await fetch(setup.setupUrl, { method: 'POST', body: new URLSearchParams({ cardNumber, expiry: opts.cardExpiry ?? '12/34', cvc: '123' }), redirect: 'manual' });
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

  test('a malformed card choice names the field inside, not the "or null" of its union', async () => {
    const h = await holder('4242424242424242');
    for (const paymentMethodId of [123, '']) {
      const res = await h.c.patch(`/api/mailboxes/${h.mailbox.id}`, { cardRenewal: { paymentMethodId } });
      assert.equal(res.status, 422);
      assert.deepEqual(Object.keys(res.body.error.fields), ['cardRenewal.paymentMethodId'], JSON.stringify(res.body));
    }
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
      // The order waits until the next attempt (28 November starts at 00:00 in Rome), and the e-mail says so.
      assert.equal(orders[0].expiresAt, '2026-11-27T23:00:00.000Z');
      assert.match(failed[0]!.text_body, /in attesa di pagamento fino al 27 novembre 2026/);
      await dailyOn('2026-11-26');
      assert.deepEqual((await h.c.get('/api/orders')).body.orders.map((o: any) => o.status), ['awaiting_topup'], 'still there two days later');
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
    // The gateway refuses a card already expired on the machine's own clock, as a bank would; the
    // card is saved with that clock on 8 December 2026, so the test does not depend on the day it runs.
    clock.setWallOffset(Date.parse('2026-12-08T09:00:00Z') - Date.now());
    try {
      await c.login(h.mailbox.address, h.password);
      const setup = (await c.post('/api/payment-methods')).body.setup;
      // Good through December 2026; the charge for E = 20 January 2027 is on 13 January.
      const saved = await fetch(setup.setupUrl, { method: 'POST', body: new URLSearchParams({ cardNumber: '4242424242424242', expiry: '12/26', cvc: '123' }), redirect: 'manual' });
      assert.equal(saved.status, 303, 'the card is accepted on 8 December 2026');
    } finally {
      clock.setWallOffset(0);
    }
    await c.login(h.mailbox.address, h.password);
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
    // What happens at E if nothing is done, with E's date.
    assert.match(mail.text_body, /la carta non sarà addebitata: il 20 gennaio 2027, alla scadenza, la casella \S+ si rinnoverà solo se il credito basta; altrimenti scadrà e non potrà più inviare messaggi/);
    await dailyOn('2026-12-15');
    assert.equal((await expiring()).length, 1, 'once');
    // On its charge day the card, expired by then, is not sent to the gateway: the mailbox expires at E.
    await dailyOn('2027-01-13');
    assert.deepEqual(await gatewayCharges(h.mailbox.id), []);
    await dailyOn('2027-01-20');
    assert.equal((await c.get(`/api/mailboxes/${h.mailbox.id}`)).body.mailbox.status, 'expired');
  });

  test('the dashboard\'s "il credito non basta" counts what the card will pay', async () => {
    const h = await holder('4242424242424242');
    const short = 'Il credito non basta per i rinnovi dei prossimi 90 giorni';
    assert.ok(!((await h.c.get('/')).body as string).includes(short), 'the card pays the renewal');
    await h.c.patch(`/api/mailboxes/${h.mailbox.id}`, { cardRenewal: null });
    assert.ok(((await h.c.get('/')).body as string).includes(short), 'without the card the credit is short');
  });

  // Issue 22 item 3: the charge is the holder's plan (planHolderRenewals), not the mailbox alone.
  const buyExtra = async (c: Client, mailboxId: string, quantityGb: number) => {
    const res = await c.post(`/api/mailboxes/${mailboxId}/extra-space/orders`, { quantityGb });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.deepEqual([res.body.order.status, res.body.order.amountCents], ['completed', 0], 'free until expiry (R4)');
  };
  const addonOf = async (c: Client, mailboxId: string) => (await c.get(`/api/mailboxes/${mailboxId}`)).body.mailbox.addons[0];

  test('item 3: two mailboxes and extra space with partial credit: the card pays exactly what the plan lacks, and every renewal then succeeds from credit', async () => {
    // A renews by card at E = 1 December with 1 GB (3 €); the holder's other mailbox was due on
    // 28 November with 2 GB (6 €), and staff moved its own expiry a year on: its 2 GB still end on
    // 28 November and fall due on their own date, before A (R7.6). 7 € of credit.
    const h = await holder('4242424242424242', { creditCents: 700 });
    const a = h.mailbox;
    await buyExtra(h.c, a.id, 1);
    const other = await t.op.post('/api/admin/mailboxes', { customerId: h.customer.id, address: `r76-${a.address}`, password: h.password, type: 'standard', expiresOn: '2026-11-28' });
    assert.equal(other.status, 201, JSON.stringify(other.body));
    const r76 = other.body.mailbox;
    await buyExtra(h.c, r76.id, 2);
    // Renewed by hand with its space's renewal off (paid by 5 € added for it), then switched on: the
    // mailbox runs to 2027-11-28 and its 2 GB still end on 2026-11-28 (a goodwill extension would
    // carry the space along).
    assert.equal((await t.op.post(`/api/admin/customers/${h.customer.id}/credit-adjustments`, { amountCents: 500, reason: 'rinnovo a mano' })).status, 201);
    assert.equal((await h.c.patch(`/api/mailboxes/${r76.id}`, { extraSpaceAutoRenew: false })).status, 200);
    const renewed = await h.c.post(`/api/mailboxes/${r76.id}/renewal`, {});
    assert.equal(renewed.status, 201, JSON.stringify(renewed.body));
    assert.equal((await h.c.patch(`/api/mailboxes/${r76.id}`, { extraSpaceAutoRenew: true })).status, 200);
    assert.equal((await addonOf(h.c, r76.id)).activeUntil, '2026-11-28');
    await dailyOn('2026-11-24');
    const [topup] = await savedCardTopups(h.c, h.customer.id);
    // Plan: 28 Nov B's 2 GB 6 € (of 7 €, 1 € left); 1 Dec A 5 €, A's 1 GB 3 €: 7 € missing.
    assert.deepEqual([topup.status, topup.amountCents, topup.vatCents, topup.chargeCents], ['succeeded', 700, 154, 854]);
    assert.equal((await h.c.get('/api/me')).body.credit.balanceCents, 1400);
    await dailyOn('2026-11-28');
    assert.equal((await addonOf(h.c, r76.id)).activeUntil, '2027-11-28', "B's 2 GB renewed on their own date");
    assert.equal((await h.c.get('/api/me')).body.credit.balanceCents, 800);
    await dailyOn('2026-12-01');
    const renewedA = (await h.c.get(`/api/mailboxes/${a.id}`)).body.mailbox;
    assert.deepEqual([renewedA.status, renewedA.expiresOn, renewedA.addons[0].activeUntil, renewedA.addons[0].status], ['active', '2027-12-01', '2027-12-01', 'active']);
    assert.equal((await h.c.get('/api/me')).body.credit.balanceCents, 0);
    assert.equal((await gatewayCharges(a.id)).length, 1);
  });

  test("item 3: R5's minimum top-up when the plan lacks less", async () => {
    // A with 1 GB: 8 € due, 7,50 € of credit: 0,50 € lacking, the minimum top-up is 1 €.
    const h = await holder('4242424242424242', { creditCents: 750 });
    await buyExtra(h.c, h.mailbox.id, 1);
    await dailyOn('2026-11-24');
    const [topup] = await savedCardTopups(h.c, h.customer.id);
    assert.deepEqual([topup.status, topup.amountCents, topup.chargeCents], ['succeeded', 100, 122]);
    await dailyOn('2026-12-01');
    const m = (await h.c.get(`/api/mailboxes/${h.mailbox.id}`)).body.mailbox;
    assert.deepEqual([m.expiresOn, m.addons[0].activeUntil], ['2027-12-01', '2027-12-01']);
    assert.equal((await h.c.get('/api/me')).body.credit.balanceCents, 50);
  });

  // Issue 22 item 5: the expiry alerts and the forecast count what the card will pay.
  const alertsOf = async (customerId: string) => (await outboxOf(t.s.app.ctx, customerId)).filter((e) => e.subject.startsWith('Avviso scadenza servizio'));

  test('item 5: the alert of a mailbox renewing by card does not announce an expiry for lack of credit, and names the charge', async () => {
    const h = await holder('4242424242424242', { creditCents: 200 });
    await dailyOn('2026-11-16'); // 15 days before E
    const [alert] = await alertsOf(h.customer.id);
    assert.ok(alert, 'alert sent');
    assert.doesNotMatch(alert.text_body, /non basta/);
    assert.doesNotMatch(alert.text_body, /Credito mancante/);
    assert.match(alert.text_body, /il 24 novembre 2026 addebiteremo sulla carta visa che termina con 4242 la ricarica di 3,00 €/);
    assert.match(alert.text_body, /Ricariche con carta previste/);
    const forecast = (await t.op.get('/api/admin/forecast?on=2026-12-01')).body;
    const item = forecast.items.find((i: any) => i.mailboxId === h.mailbox.id);
    assert.deepEqual([item.mailbox, item.missingCents, item.cardChargeCents], ['renewed', 0, 300]);
    // The same holder without card renewal: the next alert (7 days) says what is missing.
    await h.c.patch(`/api/mailboxes/${h.mailbox.id}`, { cardRenewal: null });
    const without = (await t.op.get('/api/admin/forecast?on=2026-12-01')).body.items.find((i: any) => i.mailboxId === h.mailbox.id);
    assert.deepEqual([without.mailbox, without.missingCents, without.cardChargeCents], ['expired', 300, 0]);
    await dailyOn('2026-11-24');
    const [, second] = await alertsOf(h.customer.id);
    assert.ok(second, 'second alert');
    assert.match(second.text_body, /Il credito non basta per il rinnovo automatico/);
    assert.match(second.text_body, /Credito mancante/);
  });

  test('item 4: authentication required is not retried off-session at E−3 and E−1; unconfirmed, the mailbox expires at E; the summary counts it', async () => {
    const h = await holder('4000002760003184');
    const first = await dailyOn('2026-11-24');
    assert.deepEqual(
      [first.cardChargesAttempted, first.cardChargesSucceeded, first.cardChargesFailed, first.cardChargesAuthenticationRequired],
      [1, 0, 0, 1],
    );
    for (const day of ['2026-11-28', '2026-11-30']) {
      const summary = await dailyOn(day);
      assert.equal(summary.cardChargesAttempted, 0, day);
    }
    assert.equal((await gatewayCharges(h.mailbox.id)).length, 1, 'one off-session attempt');
    // The last alert (1 day before E) does not count a charge waiting for the holder.
    const last = (await alertsOf(h.customer.id)).at(-1)!;
    assert.match(last.text_body, /Il credito non basta per il rinnovo automatico/);
    await dailyOn('2026-12-01');
    assert.equal((await h.c.get(`/api/mailboxes/${h.mailbox.id}`)).body.mailbox.status, 'expired');
    assert.equal((await gatewayCharges(h.mailbox.id)).length, 1);
  });

  test('the daily summary counts card charges: attempted, succeeded, failed; stored with the run', async () => {
    const ok = await holder('4242424242424242');
    const declined = await holder('4000000000000341');
    const summary = await dailyOn('2026-11-24');
    assert.ok(summary.cardChargesAttempted >= 2 && summary.cardChargesSucceeded >= 1 && summary.cardChargesFailed >= 1, JSON.stringify(summary));
    assert.deepEqual((await gatewayCharges(ok.mailbox.id)).map((g) => g.outcome), ['succeeded']);
    assert.deepEqual((await gatewayCharges(declined.mailbox.id)).map((g) => g.outcome), ['failed']);
    const overview = (await t.op.get('/api/admin/overview')).body;
    assert.equal(overview.dailyJob.summary.cardChargesAttempted, summary.cardChargesAttempted, 'the staff overview shows the last run');
    const [run] = await t.s.app.db.query<{ summary: any }>('SELECT summary FROM daily_job_runs ORDER BY id DESC LIMIT 1');
    assert.deepEqual(
      [run!.summary.cardChargesAttempted, run!.summary.cardChargesSucceeded, run!.summary.cardChargesFailed, run!.summary.cardChargesAuthenticationRequired],
      [summary.cardChargesAttempted, summary.cardChargesSucceeded, summary.cardChargesFailed, summary.cardChargesAuthenticationRequired],
    );
  });

  test('item 5: a card known not to pay (expired by its charge day) is not counted: the alert and the forecast show the shortfall', async () => {
    // E = 1 March 2035, charge on 22 February 2035; the card is good through December 2034.
    const h = await holder('4242424242424242', { now: '2035-01-10T10:00', expiresOn: '2035-03-01', cardExpiry: '12/34' });
    const item = (await t.op.get('/api/admin/forecast?on=2035-03-01')).body.items.find((i: any) => i.mailboxId === h.mailbox.id);
    assert.deepEqual([item.mailbox, item.missingCents, item.cardChargeCents], ['expired', 500, 0]);
    await dailyOn('2035-01-30'); // 30 days before E
    const [alert] = await alertsOf(h.customer.id);
    assert.ok(alert);
    assert.match(alert.text_body, /Il credito non basta per il rinnovo automatico/);
    assert.doesNotMatch(alert.text_body, /addebiteremo sulla carta/);
  });
});
