// R18 on Stripe over real HTTP, on each engine, with Casella configured for Stripe and pointed at the
// local stand-in of Stripe's API (STRIPE_API_BASE): `Aggiungi carta` through Checkout in setup mode
// ends with the card saved from Stripe's signed webhook; the daily job's off-session PaymentIntent;
// declines; and `authentication_required` completed by the holder on a Checkout Session in payment
// mode, credited once whatever is clicked twice, replayed, expired or notified late.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { clock } from '../../src/clock.ts';
import { engineNames } from '../support/engines.ts';
import { outboxOf } from '../support/fixtures.ts';
import { Client, provisionHolder, startTestServer, type TestServer } from '../support/http.ts';
import { startStripeStandIn, type SeenRequest, type StripeStandIn } from '../support/stripe-stand-in.ts';
import { formFields, postForm } from '../support/web-forms.ts';

const E = '2026-12-01';

for (const engine of engineNames()) {
  describe(`renewal by saved card on Stripe (R18) [${engine}]`, () => {
    let stripe: StripeStandIn;
    let s: TestServer;
    let op: Client;
    before(async () => {
      clock.setRome('2026-11-10T10:00');
      stripe = await startStripeStandIn();
      s = await startTestServer(engine, {
        PAYMENT_GATEWAY: 'stripe',
        STRIPE_SECRET_KEY: stripe.secretKey,
        STRIPE_WEBHOOK_SECRET: stripe.webhookSecret,
        STRIPE_API_BASE: stripe.apiBase,
      });
      stripe.webhookUrl = `${s.baseUrl}/api/payments/webhook/stripe`;
      op = new Client(s.baseUrl, s.operatorToken);
    });
    after(async () => {
      await s?.close();
      await stripe?.close();
    });

    const requestsSince = (from: number, match?: (r: SeenRequest) => boolean) => stripe.requests.slice(from).filter((r) => !match || match(r));
    const paymentIntentRequests = (customer: string) => stripe.requests.filter((r) => r.path === '/v1/payment_intents' && r.form.customer === customer);

    /** A holder whose card `cardNumber` is saved on Stripe's page, and (unless told) renews the mailbox. */
    const holder = async (cardNumber: string, opts: Parameters<typeof provisionHolder>[1] & { cardRenewal?: boolean } = {}) => {
      clock.setRome('2026-11-10T10:00');
      const h = await provisionHolder(op, { expiresOn: E, ...opts });
      const c = new Client(s.baseUrl);
      assert.equal((await c.login(h.mailbox.address, h.password)).status, 200);
      const started = await c.post('/api/payment-methods');
      assert.equal(started.status, 201, JSON.stringify(started.body));
      const session = stripe.sessionOfUrl(started.body.setup.setupUrl);
      assert.ok(session, 'setupUrl is the Checkout Session\'s page');
      const saved = await stripe.completeSetup(session.id, cardNumber, { expMonth: 8, expYear: 2031 });
      assert.deepEqual(saved.delivered, { status: 200, body: { received: true, result: 'saved' } });
      const [card] = (await c.get('/api/payment-methods')).body.paymentMethods;
      const [row] = await s.app.db.query<{ gateway_reference: string; gateway_customer: string }>('SELECT gateway_reference, gateway_customer FROM payment_methods WHERE id = $1', [card.id]);
      if (opts.cardRenewal !== false) assert.equal((await c.patch(`/api/mailboxes/${h.mailbox.id}`, { cardRenewal: { paymentMethodId: card.id } })).status, 200);
      return { ...h, c, card, setup: started.body.setup, session, stripeCustomer: row!.gateway_customer, stripePaymentMethod: row!.gateway_reference, setupEvent: saved.event };
    };
    const dailyOn = async (day: string) => {
      clock.setRome(`${day}T06:00`);
      const res = await op.post('/api/admin/jobs/daily');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.summary;
    };
    const cardTopups = async (h: { c: Client; customer: { id: string } }) => {
      const rows = await s.app.db.query<{ id: string }>('SELECT id FROM topups WHERE customer_id = $1 AND payment_method_id IS NOT NULL ORDER BY created_at', [h.customer.id]);
      return Promise.all(rows.map(async (r) => (await h.c.get(`/api/credit/topups/${r.id}`)).body.topup));
    };
    const subjects = async (customerId: string) => (await outboxOf(s.app.ctx, customerId)).map((e) => e.subject);
    /** `Conferma il pagamento` on the top-up's page, as the holder's browser posts it. */
    const confirmOnPage = async (c: Client, topupId: string) => {
      const page = await c.get<string>(`/credit/topups/${topupId}`);
      assert.equal(page.status, 200);
      return postForm(c, `/credit/topups/${topupId}/conferma`, formFields(page.body, `/credit/topups/${topupId}/conferma`));
    };

    test('Aggiungi carta: Checkout in setup mode, then Stripe\'s signed webhook saves the SetupIntent\'s card once (brand, last 4, expiry, Stripe ids; never the number)', async () => {
      clock.setRome('2026-11-10T10:00');
      const h = await provisionHolder(op, { expiresOn: E, mailboxes: 2 });
      const c = new Client(s.baseUrl);
      await c.login(h.mailbox.address, h.password);
      const from = stripe.requests.length;
      const started = await c.post('/api/payment-methods');
      assert.equal(started.status, 201);
      const opened = requestsSince(from);
      assert.deepEqual(opened.map((r) => `${r.method} ${r.path}`), ['POST /v1/customers', 'POST /v1/checkout/sessions']);
      assert.deepEqual(opened[0]!.form, { 'metadata[casella_customer_id]': h.customer.id });
      const session = stripe.sessionOfUrl(started.body.setup.setupUrl)!;
      assert.deepEqual(opened[1]!.form, {
        mode: 'setup', currency: 'eur', customer: session.customer, 'payment_method_types[0]': 'card', client_reference_id: started.body.setup.id,
        success_url: `${s.baseUrl}/metodi-di-pagamento`, cancel_url: `${s.baseUrl}/metodi-di-pagamento`, 'metadata[setup_id]': started.body.setup.id,
      });
      assert.equal(opened[1]!.headers['idempotency-key'], started.body.setup.id);
      assert.deepEqual((await c.get('/api/payment-methods')).body.paymentMethods, [], 'nothing saved before Stripe says so');

      // A forged notification is refused before anything is read or saved.
      const { event } = await stripe.completeSetup(session.id, '4242424242424242', { expMonth: 8, expYear: 2031, deliver: false });
      const beforeForged = stripe.requests.length;
      const forged = await stripe.deliver(event, 'whsec_forged');
      assert.equal(forged.status, 400);
      assert.equal(forged.body.error.code, 'invalid_signature');
      assert.equal(stripe.requests.length, beforeForged, 'no Stripe call for a forged event');
      assert.deepEqual((await c.get('/api/payment-methods')).body.paymentMethods, []);

      const delivered = await stripe.deliver(event);
      assert.deepEqual(delivered, { status: 200, body: { received: true, result: 'saved' } });
      const read = requestsSince(beforeForged);
      assert.equal(read.length, 1);
      assert.equal(`${read[0]!.method} ${read[0]!.path}`, `GET /v1/setup_intents/${session.setup_intent}`);
      assert.deepEqual(read[0]!.query, { 'expand[0]': 'payment_method' });
      const list = (await c.get('/api/payment-methods')).body.paymentMethods;
      assert.equal(list.length, 1);
      assert.deepEqual({ ...list[0], id: undefined, createdAt: undefined }, { id: undefined, createdAt: undefined, brand: 'visa', last4: '4242', expMonth: 8, expYear: 2031, mailboxIds: [] });
      const [row] = await s.app.db.query<{ gateway: string; gateway_reference: string; gateway_customer: string }>('SELECT gateway, gateway_reference, gateway_customer FROM payment_methods WHERE id = $1', [list[0].id]);
      const si = await fetch(`${stripe.apiBase}/setup_intents/${session.setup_intent}`, { headers: { authorization: `Bearer ${stripe.secretKey}` } }).then((r) => r.json());
      assert.deepEqual(row, { gateway: 'stripe', gateway_reference: si.payment_method, gateway_customer: session.customer });
      // R18: saving a card switches nothing on.
      for (const m of (await c.get('/api/mailboxes')).body.mailboxes) assert.equal(m.cardRenewal, null);
      // R12: the number reaches neither the database nor the logs.
      for (const table of ['payment_methods', 'card_setups', 'audit_log', 'payment_events']) {
        const rows = await s.app.db.query<{ j: string }>(`SELECT row_to_json(x)::text AS j FROM ${table} x`);
        assert.ok(!rows.some((r) => r.j.includes('4242424242424242')), table);
      }
      assert.ok(!s.logs.some((l) => l.includes('4242424242424242')));

      // Stripe retries and replays: one card per setup, and Stripe is not asked again.
      const beforeReplay = stripe.requests.length;
      assert.deepEqual(await stripe.deliver(event), { status: 200, body: { received: true, result: 'duplicate' } });
      assert.equal(stripe.requests.length, beforeReplay);
      assert.equal((await c.get('/api/payment-methods')).body.paymentMethods.length, 1);
      const stranger = { ...event, id: 'evt_stranger', data: { object: { ...(event as any).data.object, client_reference_id: 'set_unknown' } } };
      assert.deepEqual(await stripe.deliver(stranger), { status: 200, body: { received: true, result: 'unknown_setup' } });

      // A second card: the holder's Stripe customer is reused.
      const fromSecond = stripe.requests.length;
      const again = await c.post('/api/payment-methods');
      assert.deepEqual(requestsSince(fromSecond).map((r) => r.path), ['/v1/checkout/sessions']);
      assert.equal(requestsSince(fromSecond)[0]!.form.customer, session.customer);
      await stripe.completeSetup(stripe.sessionOfUrl(again.body.setup.setupUrl)!.id, '5555555555554444');
      assert.deepEqual((await c.get('/api/payment-methods')).body.paymentMethods.map((p: any) => [p.brand, p.last4]), [['visa', '4242'], ['mastercard', '4444']]);
    });

    test('4242: the off-session PaymentIntent 7 days before E, exactly as Stripe documents it; invoiced; renewed at E; one PaymentIntent', async () => {
      const h = await holder('4242424242424242', { creditCents: 200 });
      await dailyOn('2026-11-23');
      assert.deepEqual(paymentIntentRequests(h.stripeCustomer), [], 'not before E − 7');
      await dailyOn('2026-11-24');
      const [sent] = paymentIntentRequests(h.stripeCustomer);
      const [topup] = await cardTopups(h);
      assert.ok(sent && topup);
      assert.equal(sent.method, 'POST');
      assert.equal(sent.headers.authorization, `Bearer ${stripe.secretKey}`);
      assert.equal(sent.headers['idempotency-key'], `casella-card-renewal-${h.mailbox.id}-${E}-1`);
      // 500 − 200 of credit = 300 net, + 22 % VAT = 366 on the card.
      assert.deepEqual(sent.form, {
        amount: '366', currency: 'eur', customer: h.stripeCustomer, payment_method: h.stripePaymentMethod, off_session: 'true', confirm: 'true', 'metadata[topup_id]': topup.id,
      });
      assert.equal(topup.method, 'saved_card');
      assert.equal(topup.status, 'succeeded');
      assert.ok(topup.invoiceId, 'invoiced like a card payment (R15)');
      assert.equal((await h.c.get('/api/me')).body.credit.balanceCents, 500);
      for (const day of ['2026-11-24', '2026-11-28', '2026-11-30']) await dailyOn(day);
      await dailyOn(E);
      assert.equal((await h.c.get(`/api/mailboxes/${h.mailbox.id}`)).body.mailbox.expiresOn, '2027-12-01');
      assert.equal(paymentIntentRequests(h.stripeCustomer).length, 1);
      assert.deepEqual(stripe.paymentIntents().filter((p) => p.customer === h.stripeCustomer).map((p) => [p.status, p.amount]), [['succeeded', 366]]);
    });

    for (const [number, code, reason] of [
      ['4000000000000341', 'card_declined', 'carta rifiutata'],
      ['4000000000009995', 'insufficient_funds', 'fondi insufficienti'],
      ['4000000000000069', 'expired_card', 'carta scaduta'],
    ] as const) {
      test(`${number}: Stripe declines (${code}): the top-up fails with it, Pagamento non riuscito at once, an order to pay, a new attempt with a new key at E−3`, async () => {
        const h = await holder(number);
        await dailyOn('2026-11-24');
        const topups = await cardTopups(h);
        assert.deepEqual(topups.map((t) => [t.status, t.failureCode]), [['failed', code]]);
        const failed = (await outboxOf(s.app.ctx, h.customer.id)).filter((e) => e.subject.startsWith('Pagamento non riuscito'));
        assert.equal(failed.length, 1);
        assert.ok(failed[0]!.text_body.includes(`motivo: ${reason}`), failed[0]!.text_body);
        assert.deepEqual((await h.c.get('/api/orders')).body.orders.map((o: any) => [o.kind, o.status]), [['renewal', 'awaiting_topup']]);
        await dailyOn('2026-11-28');
        assert.deepEqual(paymentIntentRequests(h.stripeCustomer).map((r) => r.headers['idempotency-key']), [
          `casella-card-renewal-${h.mailbox.id}-${E}-1`,
          `casella-card-renewal-${h.mailbox.id}-${E}-2`,
        ]);
        assert.equal(stripe.paymentIntents().filter((p) => p.customer === h.stripeCustomer && p.status === 'succeeded').length, 0);
      });
    }

    test('4000002760003184: authentication_required → Conferma il pagamento → the top-up\'s page → Checkout in payment mode; paid once, whatever is clicked twice or replayed', async () => {
      const h = await holder('4000002760003184');
      await dailyOn('2026-11-24');
      const [topup] = await cardTopups(h);
      assert.equal(topup.status, 'pending');
      const mail = (await outboxOf(s.app.ctx, h.customer.id)).find((e) => e.subject.startsWith('Conferma il pagamento'));
      assert.ok(mail, 'Conferma il pagamento sent');
      const link = `${s.baseUrl}/credit/topups/${topup.id}`;
      assert.ok(mail.text_body.includes(link), mail.text_body);
      assert.ok(((await h.c.get('/')).body as string).includes(`href="/credit/topups/${topup.id}"`), 'the banner links the same page');
      const page = (await h.c.get(`/credit/topups/${topup.id}`)).body as string;
      assert.match(page, /Conferma il pagamento<\/button>/);
      assert.ok(page.includes('che termina con 3184'));

      const from = stripe.requests.length;
      const first = await confirmOnPage(h.c, topup.id);
      assert.equal(first.status, 303);
      const opened = requestsSince(from, (r) => r.path === '/v1/checkout/sessions');
      assert.equal(opened.length, 1);
      const session = stripe.sessionOfUrl(first.headers.get('location')!)!;
      assert.ok(session, 'the holder is sent to the Checkout Session\'s page');
      assert.equal(opened[0]!.headers['idempotency-key'], `casella-card-renewal-${h.mailbox.id}-${E}-1-confirm-first`);
      assert.deepEqual(opened[0]!.form, {
        mode: 'payment',
        customer: h.stripeCustomer,
        client_reference_id: topup.id,
        success_url: link,
        cancel_url: link,
        'payment_method_types[0]': 'card',
        'line_items[0][quantity]': '1',
        'line_items[0][price_data][currency]': 'eur',
        'line_items[0][price_data][unit_amount]': String(topup.chargeCents),
        'line_items[0][price_data][product_data][name]': 'Ricarica credito Casella per il rinnovo automatico (IVA inclusa)',
        'metadata[topup_id]': topup.id,
        'metadata[casella_purpose]': 'card_charge_confirmation',
        'payment_intent_data[metadata][topup_id]': topup.id,
      });
      // A second click, and the API: the same page, read back from Stripe, none opened.
      const second = await confirmOnPage(h.c, topup.id);
      assert.equal(second.headers.get('location'), first.headers.get('location'));
      const api = await h.c.post(`/api/credit/topups/${topup.id}/confirmation`);
      assert.deepEqual(api.body, { confirmationUrl: first.headers.get('location') });
      assert.equal(requestsSince(from, (r) => r.method === 'POST' && r.path === '/v1/checkout/sessions').length, 1);
      assert.ok(requestsSince(from).some((r) => r.method === 'GET' && r.path === `/v1/checkout/sessions/${session.id}`));
      // The job does not charge the same attempt off-session again.
      await dailyOn('2026-11-25');
      assert.equal(paymentIntentRequests(h.stripeCustomer).length, 1);

      const paid = await stripe.payCheckout(session.id);
      assert.deepEqual(paid.delivered, { status: 200, body: { received: true, result: 'applied' } });
      const after = (await h.c.get(`/api/credit/topups/${topup.id}`)).body.topup;
      assert.equal(after.status, 'succeeded');
      assert.ok(after.invoiceId);
      assert.equal((await h.c.get('/api/me')).body.credit.balanceCents, 500);
      assert.deepEqual(await stripe.deliver(paid.event), { status: 200, body: { received: true, result: 'duplicate_event' } });
      assert.equal((await h.c.get('/api/me')).body.credit.balanceCents, 500);
      assert.equal((await h.c.get('/api/invoices')).body.invoices.length, 1);
      assert.ok(!((await h.c.get('/')).body as string).includes(`href="/credit/topups/${topup.id}"`), 'no banner once paid');
      const done = await h.c.post(`/api/credit/topups/${topup.id}/confirmation`);
      assert.equal(done.status, 409);
      assert.equal(done.body.error.code, 'topup_not_pending');
      assert.equal((await postForm(h.c, `/credit/topups/${topup.id}/conferma`, formFields(page, `/credit/topups/${topup.id}/conferma`))).headers.get('location'), `/credit/topups/${topup.id}`);

      await dailyOn(E);
      assert.equal((await h.c.get(`/api/mailboxes/${h.mailbox.id}`)).body.mailbox.expiresOn, '2027-12-01');
      // Money taken once: the off-session attempt took nothing, the page's PaymentIntent the charge.
      assert.deepEqual(
        stripe.paymentIntents().filter((p) => p.customer === h.stripeCustomer).map((p) => [p.status, p.amount]),
        [['requires_payment_method', topup.chargeCents], ['succeeded', topup.chargeCents]],
      );
      assert.equal(after.invoiceId, (await h.c.get(`/api/credit/topups/${topup.id}`)).body.topup.invoiceId);
      assert.ok((await subjects(h.customer.id)).some((x) => x.startsWith('Ricarica effettuata')));
    });

    test('a confirmation page left to expire fails nothing: the next click opens a new one, and only that one can be paid', async () => {
      const h = await holder('4000002760003184');
      await dailyOn('2026-11-24');
      const [topup] = await cardTopups(h);
      const first = stripe.sessionOfUrl((await confirmOnPage(h.c, topup.id)).headers.get('location')!)!;
      const expired = await stripe.expireCheckout(first.id);
      assert.deepEqual(expired.delivered, { status: 200, body: { received: true, result: 'ignored' } });
      assert.equal((await h.c.get(`/api/credit/topups/${topup.id}`)).body.topup.status, 'pending');
      const from = stripe.requests.length;
      const next = await confirmOnPage(h.c, topup.id);
      const second = stripe.sessionOfUrl(next.headers.get('location')!)!;
      assert.ok(second && second.id !== first.id);
      const opened = requestsSince(from, (r) => r.path === '/v1/checkout/sessions' && r.method === 'POST');
      assert.deepEqual(opened.map((r) => r.headers['idempotency-key']), [`casella-card-renewal-${h.mailbox.id}-${E}-1-confirm-${first.id}`]);
      await assert.rejects(stripe.payCheckout(first.id), /no open payment session/);
      assert.deepEqual((await stripe.payCheckout(second.id)).delivered, { status: 200, body: { received: true, result: 'applied' } });
      assert.equal((await h.c.get('/api/me')).body.credit.balanceCents, 500);
    });

    test('paid on Stripe\'s page, back before the webhook: credited when the holder comes back; the late webhook finds it decided', async () => {
      const h = await holder('4000002760003184');
      await dailyOn('2026-11-24');
      const [topup] = await cardTopups(h);
      const session = stripe.sessionOfUrl((await confirmOnPage(h.c, topup.id)).headers.get('location')!)!;
      const paid = await stripe.payCheckout(session.id, { deliver: false });
      const back = await confirmOnPage(h.c, topup.id);
      assert.equal(back.headers.get('location'), `/credit/topups/${topup.id}`);
      const now = (await h.c.get(`/api/credit/topups/${topup.id}`)).body.topup;
      assert.equal(now.status, 'succeeded');
      assert.equal((await h.c.get('/api/me')).body.credit.balanceCents, 500);
      assert.deepEqual(await stripe.deliver(paid.event), { status: 200, body: { received: true, result: 'already_decided' } });
      assert.equal((await h.c.get('/api/me')).body.credit.balanceCents, 500);
      assert.equal((await h.c.get('/api/invoices')).body.invoices.length, 1);
    });

    test('Stripe down: the setup webhook answers 500 and Stripe\'s retry saves the card; Conferma il pagamento says nothing was charged and works once Stripe is back', async () => {
      clock.setRome('2026-11-10T10:00');
      const h = await provisionHolder(op, { expiresOn: E });
      const c = new Client(s.baseUrl);
      await c.login(h.mailbox.address, h.password);
      const setupSession = stripe.sessionOfUrl((await c.post('/api/payment-methods')).body.setup.setupUrl)!;
      const { event } = await stripe.completeSetup(setupSession.id, '4000002760003184', { deliver: false });
      stripe.outage = true;
      try {
        assert.equal((await stripe.deliver(event)).status, 500);
      } finally {
        stripe.outage = false;
      }
      assert.deepEqual((await c.get('/api/payment-methods')).body.paymentMethods, []);
      assert.deepEqual(await stripe.deliver(event), { status: 200, body: { received: true, result: 'saved' } });
      const [card] = (await c.get('/api/payment-methods')).body.paymentMethods;
      await c.patch(`/api/mailboxes/${h.mailbox.id}`, { cardRenewal: { paymentMethodId: card.id } });
      await dailyOn('2026-11-24');
      const [topup] = await cardTopups({ c, customer: h.customer });
      const page = (await c.get(`/credit/topups/${topup.id}`)).body as string;
      stripe.outage = true;
      let refused;
      try {
        refused = await postForm(c, `/credit/topups/${topup.id}/conferma`, formFields(page, `/credit/topups/${topup.id}/conferma`));
      } finally {
        stripe.outage = false;
      }
      assert.equal(refused.status, 502);
      assert.ok(refused.body.includes('Il servizio di pagamento non risponde: non è stato addebitato nulla.'));
      assert.match(refused.body, /Conferma il pagamento<\/button>/, 'the holder may try again');
      assert.equal((await s.app.db.query('SELECT 1 FROM topups WHERE id = $1 AND gateway_session_id IS NULL', [topup.id])).length, 1, 'no page kept');
      const retried = await confirmOnPage(c, topup.id);
      assert.ok(stripe.sessionOfUrl(retried.headers.get('location')!), 'a Checkout Session once Stripe is back');
    });

    test('another holder\'s charge, or a top-up that waits for nothing: 404 and 409; the gateway not reached', async () => {
      const h = await holder('4000002760003184');
      const other = await holder('4242424242424242', { cardRenewal: false });
      await dailyOn('2026-11-24');
      const [topup] = await cardTopups(h);
      const paidOnPage = await other.c.post('/api/credit/topups', { amountCents: 1000 });
      assert.equal(paidOnPage.status, 201);
      const from = stripe.requests.length;
      const notWaiting = await other.c.post(`/api/credit/topups/${paidOnPage.body.topup.id}/confirmation`);
      assert.equal(notWaiting.status, 409);
      assert.equal(notWaiting.body.error.code, 'topup_not_pending');
      assert.equal((await other.c.post(`/api/credit/topups/${topup.id}/confirmation`)).status, 404);
      const page = (await h.c.get(`/credit/topups/${topup.id}`)).body as string;
      assert.equal((await postForm(other.c, `/credit/topups/${topup.id}/conferma`, formFields(page, `/credit/topups/${topup.id}/conferma`))).status, 403, 'another session\'s CSRF token');
      assert.equal((await other.c.post('/api/credit/topups/top_unknown/confirmation')).status, 404);
      assert.deepEqual(requestsSince(from), []);
    });
  });
}
