// R18 items 1-2 over real HTTP, on each engine: cards are saved only through the gateway's page and
// its signed notification, never with their number in Casella's database; card renewal is a
// separate, explicit choice per mailbox; removing a card switches it off and says which mailboxes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clock } from '../../src/clock.ts';
import { Client, forEachServer, provisionHolder } from '../support/http.ts';

async function saveCard(c: Client, cardNumber: string, expiry = '12/34') {
  const started = await c.post('/api/payment-methods');
  assert.equal(started.status, 201, JSON.stringify(started.body));
  const page = await fetch(started.body.setup.setupUrl);
  assert.equal(page.status, 200);
  const text = await page.text();
  for (const label of ['Numero carta', 'Scadenza', 'CVC', 'Salva carta']) assert.ok(text.includes(label), label);
  const posted = await fetch(started.body.setup.setupUrl, { method: 'POST', body: new URLSearchParams({ cardNumber, expiry, cvc: '123' }), redirect: 'manual' });
  return { setup: started.body.setup, posted };
}

forEachServer('saved cards and the card renewal choice (R18)', (t) => {
  const holder = async (opts: Parameters<typeof provisionHolder>[1] = {}) => {
    const h = await provisionHolder(t.op, opts);
    const c = new Client(t.s.baseUrl);
    assert.equal((await c.login(h.mailbox.address, h.password)).status, 200);
    return { ...h, c };
  };

  test('a card is saved through the gateway page: brand, last 4, expiry; never its number; card renewal stays off', async () => {
    const h = await holder({ mailboxes: 2 });
    assert.deepEqual((await h.c.get('/api/payment-methods')).body, { paymentMethods: [] });
    const { posted } = await saveCard(h.c, '4242 4242 4242 4242', '08/31');
    assert.equal(posted.status, 303);
    const list = (await h.c.get('/api/payment-methods')).body.paymentMethods;
    assert.equal(list.length, 1);
    assert.deepEqual({ ...list[0], id: undefined, createdAt: undefined }, { id: undefined, createdAt: undefined, brand: 'visa', last4: '4242', expMonth: 8, expYear: 2031, mailboxIds: [] });
    // R18: saving a card switches nothing on.
    for (const m of (await h.c.get('/api/mailboxes')).body.mailboxes) assert.equal(m.cardRenewal, null);
    // R12: no full card number anywhere in the database's rows about cards.
    const rows = await t.s.app.db.query('SELECT row_to_json(p)::text AS j FROM payment_methods p WHERE customer_id = $1', [h.customer.id]);
    assert.ok(!rows.some((r: any) => r.j.includes('4242424242424242')));
  });

  test('a wrong card number is refused on the page and nothing is saved; a replayed notification saves one card', async () => {
    const h = await holder();
    const { posted, setup } = await saveCard(h.c, '4242424242424241');
    assert.equal(posted.status, 422);
    assert.deepEqual((await h.c.get('/api/payment-methods')).body.paymentMethods, []);
    const again = await fetch(setup.setupUrl, { method: 'POST', body: new URLSearchParams({ cardNumber: '4000000000000341', expiry: '12/34', cvc: '123' }), redirect: 'manual' });
    assert.equal(again.status, 303);
    // The setup is used: its page no longer takes a card, and a second post saves nothing.
    const third = await fetch(setup.setupUrl, { method: 'POST', body: new URLSearchParams({ cardNumber: '4242424242424242', expiry: '12/34', cvc: '123' }), redirect: 'manual' });
    assert.equal(third.status, 303);
    const list = (await h.c.get('/api/payment-methods')).body.paymentMethods;
    assert.deepEqual(list.map((p: any) => p.last4), ['0341']);
  });

  test('no billing data, no card: 409 billing_profile_required', async () => {
    const h = await holder({ billingProfile: false });
    const res = await h.c.post('/api/payment-methods');
    assert.equal(res.status, 409);
    assert.equal(res.body.error.code, 'billing_profile_required');
  });

  test('card renewal per mailbox: on with a card, off with null; another holder\'s card 404; removal switches it off and names the mailboxes', async () => {
    const h = await holder({ mailboxes: 2 });
    const other = await holder();
    await saveCard(h.c, '4242424242424242');
    await saveCard(other.c, '4242424242424242');
    const [card] = (await h.c.get('/api/payment-methods')).body.paymentMethods;
    const [otherCard] = (await other.c.get('/api/payment-methods')).body.paymentMethods;
    const [m1, m2] = h.mailboxes;

    const foreign = await h.c.patch(`/api/mailboxes/${m1.id}`, { cardRenewal: { paymentMethodId: otherCard.id } });
    assert.equal(foreign.status, 404);
    const unknownField = await h.c.patch(`/api/mailboxes/${m1.id}`, { cardRenewal: { paymentMethodId: card.id, extra: 1 } });
    assert.equal(unknownField.status, 422);

    const on = await h.c.patch(`/api/mailboxes/${m1.id}`, { cardRenewal: { paymentMethodId: card.id } });
    assert.equal(on.status, 200);
    assert.deepEqual(on.body.mailbox.cardRenewal, { paymentMethodId: card.id, last4: '4242' });
    assert.equal((await h.c.get(`/api/mailboxes/${m2.id}`)).body.mailbox.cardRenewal, null);
    await h.c.patch(`/api/mailboxes/${m2.id}`, { cardRenewal: { paymentMethodId: card.id } });
    const off = await h.c.patch(`/api/mailboxes/${m2.id}`, { cardRenewal: null });
    assert.equal(off.body.mailbox.cardRenewal, null);
    assert.equal(off.body.mailbox.autoRenew, true);
    assert.deepEqual((await h.c.get('/api/payment-methods')).body.paymentMethods[0].mailboxIds, [m1.id]);

    assert.equal((await other.c.delete(`/api/payment-methods/${card.id}`)).status, 404);
    const removed = await h.c.delete(`/api/payment-methods/${card.id}`);
    assert.equal(removed.status, 200);
    assert.deepEqual(removed.body, { mailboxesSwitchedOff: [m1.id] });
    assert.equal((await h.c.get(`/api/mailboxes/${m1.id}`)).body.mailbox.cardRenewal, null);
    assert.deepEqual((await h.c.get('/api/payment-methods')).body.paymentMethods, []);
    assert.equal((await h.c.patch(`/api/mailboxes/${m1.id}`, { cardRenewal: { paymentMethodId: card.id } })).status, 404);
  });

  test('paying a top-up by card does not switch card renewal on', async () => {
    const h = await holder();
    await saveCard(h.c, '4242424242424242');
    const topup = (await h.c.post('/api/credit/topups', { amountCents: 1000 })).body.topup;
    const paid = await fetch(topup.checkoutUrl, { method: 'POST', body: new URLSearchParams({ cardNumber: '4242424242424242', expiry: '12/34', cvc: '123' }), redirect: 'manual' });
    assert.equal(paid.status, 303);
    const after = (await h.c.get(`/api/credit/topups/${topup.id}`)).body.topup;
    assert.equal(after.status, 'succeeded');
    assert.equal(after.method, 'card');
    assert.equal((await h.c.get(`/api/mailboxes/${h.mailbox.id}`)).body.mailbox.cardRenewal, null);
  });

  test('pages: Metodi di pagamento from the credit page and the profile, Aggiungi carta, Rinnova con la carta on the mailbox card, Rimuovi says which mailboxes', async () => {
    const h = await holder();
    const postForm = (path: string, fields: Record<string, string>) =>
      h.c.request('POST', path, new URLSearchParams({ _csrf: h.c.csrfToken, ...fields }).toString(), { 'content-type': 'application/x-www-form-urlencoded' });
    for (const from of ['/credit', '/profilo']) assert.match((await h.c.get(from)).body, /href="\/metodi-di-pagamento">Metodi di pagamento</);
    const empty = (await h.c.get('/metodi-di-pagamento')).body as string;
    assert.match(empty, /Nessuna carta salvata/);
    assert.match(empty, /Aggiungi carta/);
    const add = await postForm('/metodi-di-pagamento', {});
    assert.equal(add.status, 303);
    assert.match(add.headers.get('location')!, /\/test-gateway\/setup\//);
    await fetch(add.headers.get('location')!, { method: 'POST', body: new URLSearchParams({ cardNumber: '4242424242424242', expiry: '12/34', cvc: '123' }), redirect: 'manual' });
    const [card] = (await h.c.get('/api/payment-methods')).body.paymentMethods;
    const mailboxPage = (await h.c.get(`/mailboxes/${h.mailbox.id}`)).body as string;
    assert.match(mailboxPage, /Rinnova con la carta/);
    assert.match(mailboxPage, /visa che termina con 4242 \(scade 12\/2034\)/);
    assert.match(mailboxPage, /id="card-none" name="paymentMethodId" value="" checked/, 'off by default');
    assert.equal((await postForm(`/mailboxes/${h.mailbox.id}/card-renewal`, { paymentMethodId: card.id })).status, 303);
    assert.equal((await h.c.get(`/api/mailboxes/${h.mailbox.id}`)).body.mailbox.cardRenewal.paymentMethodId, card.id);
    const list = (await h.c.get('/metodi-di-pagamento')).body as string;
    assert.match(list, /•••• 4242/);
    assert.ok(list.includes(`Rinnova: ${h.mailbox.address}`));
    assert.match(list, />Rimuovi</);
    const removed = await postForm(`/metodi-di-pagamento/${card.id}/rimuovi`, {});
    assert.equal(removed.status, 200);
    // One mailbox: said in the singular.
    assert.ok((removed.body as string).includes(`Il rinnovo con la carta è disattivato per ${h.mailbox.address}: la casella si rinnoverà solo dal credito.`));
    assert.equal((await h.c.get(`/api/mailboxes/${h.mailbox.id}`)).body.mailbox.cardRenewal, null);
  });

  test('Conferma il pagamento on the top-up\'s page (and its API) leads to the test gateway\'s authentication page; 409 once paid', async () => {
    clock.setRome('2026-11-10T10:00');
    const h = await holder();
    await saveCard(h.c, '4000002760003184');
    const [card] = (await h.c.get('/api/payment-methods')).body.paymentMethods;
    await h.c.patch(`/api/mailboxes/${h.mailbox.id}`, { cardRenewal: { paymentMethodId: card.id } });
    clock.setRome('2026-11-24T06:00');
    assert.equal((await t.op.post('/api/admin/jobs/daily')).status, 200);
    const [charged] = await t.s.app.db.query<{ id: string }>('SELECT id FROM topups WHERE customer_id = $1 AND payment_method_id IS NOT NULL', [h.customer.id]);
    const topupId = charged!.id;
    const authenticate = `${t.s.baseUrl}/test-gateway/authenticate/${topupId}`;
    assert.deepEqual((await h.c.post(`/api/credit/topups/${topupId}/confirmation`)).body, { confirmationUrl: authenticate });
    const page = (await h.c.get(`/credit/topups/${topupId}`)).body as string;
    assert.match(page, /che termina con 3184/);
    const clicked = await h.c.request('POST', `/credit/topups/${topupId}/conferma`, new URLSearchParams({ _csrf: h.c.csrfToken }).toString(), { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(clicked.status, 303);
    assert.equal(clicked.headers.get('location'), authenticate);
    assert.equal((await fetch(authenticate, { method: 'POST', redirect: 'manual' })).status, 303);
    assert.equal((await h.c.get(`/api/credit/topups/${topupId}`)).body.topup.status, 'succeeded');
    const again = await h.c.post(`/api/credit/topups/${topupId}/confirmation`);
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'topup_not_pending');
  });
});
