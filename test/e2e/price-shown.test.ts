// A purchase never charges other than the price the buyer was shown. Found by an attack on the
// money paths: a confirm form that showed "Gratuito" bought a full year (150 €) after the mailbox
// was renewed between the quote and the click, because the price was worked out again on submit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clock } from '../../src/clock.ts';
import { Client, forEachServer, provisionHolder } from '../support/http.ts';
import { formFields, postForm } from '../support/web-forms.ts';

forEachServer('the price shown is the price charged', (t) => {
  const holder = async (opts: Parameters<typeof provisionHolder>[1]) => {
    const h = await provisionHolder(t.op, opts);
    const c = new Client(t.s.baseUrl);
    assert.equal((await c.login(h.mailbox.address, h.password)).status, 200);
    return { ...h, c };
  };
  const balanceOf = async (c: Client) => (await c.get('/api/credit')).body.balanceCents as number;

  test('the confirm form that showed a free quote refuses to buy a full year once the mailbox was renewed, and shows the new price', async () => {
    clock.setRome('2026-12-01T10:00');
    const { c, mailbox } = await holder({ creditCents: 20_000, expiresOn: '2026-12-10' });
    const buyPage = `/mailboxes/${mailbox.id}/extra-space`;
    const quote = await c.get<string>(`${buyPage}?quantityGb=50`);
    assert.match(quote.body, /gratuito fino alla scadenza/);
    const confirm = formFields(quote.body, buyPage);
    assert.equal(confirm.expectedAmountCents, '0');
    // The holder renews by hand in another tab before clicking.
    assert.equal((await c.post(`/api/mailboxes/${mailbox.id}/renewal`)).body.order.status, 'completed');
    const before = await balanceOf(c);
    const clicked = await postForm(c, buyPage, confirm);
    assert.equal(clicked.status, 409, clicked.body);
    assert.match(clicked.body, /Il prezzo è cambiato/);
    assert.match(clicked.body, /mancano più di tre mesi alla scadenza/);
    assert.match(clicked.body, /150,00 €/);
    assert.equal(await balanceOf(c), before, 'nothing was bought');
    assert.equal((await c.get(`/api/mailboxes/${mailbox.id}`)).body.mailbox.space.extraGb, 0);
    // The page shows the new quote with a fresh form: confirming it buys at the price it shows.
    const again = formFields(clicked.body, buyPage);
    assert.equal(again.expectedAmountCents, '15000');
    assert.notEqual(again._once, confirm._once);
    assert.equal((await postForm(c, buyPage, again)).status, 303);
    assert.equal(await balanceOf(c), before - 15_000);
  });

  test('the API refuses an order whose expectedAmountCents is not today\'s price with 409 quote_changed, and buys when it is', async () => {
    clock.setRome('2026-06-10T10:00');
    const { c, mailbox } = await holder({ creditCents: 10_000, expiresOn: '2026-12-01' });
    const path = `/api/mailboxes/${mailbox.id}/extra-space/orders`;
    const refused = await c.post(path, { quantityGb: 2, expectedAmountCents: 0 });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'quote_changed');
    assert.equal(await balanceOf(c), 10_000);
    const bought = await c.post(path, { quantityGb: 2, expectedAmountCents: 600 });
    assert.deepEqual([bought.status, bought.body.order.amountCents], [201, 600]);
    assert.equal((await c.post(path, { quantityGb: 1 })).status, 201, 'without it, today\'s price as before');
  });
  test('the quote says what the renewal covers and how many GB more fit; a deactivated add-on shows no renewal price', async () => {
    clock.setRome('2026-06-10T10:00');
    const { c, mailbox } = await holder({ creditCents: 20_000, expiresOn: '2026-12-01' });
    const buyPage = `/mailboxes/${mailbox.id}/extra-space`;
    assert.equal((await c.post(`/api/mailboxes/${mailbox.id}/extra-space/orders`, { quantityGb: 2 })).status, 201);
    const quote = await c.get<string>(`${buyPage}?quantityGb=2`);
    assert.match(quote.body, /si rinnova con la casella: 14,64 € IVA inclusa \(12,00 € \+ IVA\) per 4 GB, 2 GB che hai già e 2 GB nuovi/);
    const api = (await c.post(`/api/mailboxes/${mailbox.id}/extra-space/quote`, { quantityGb: 2 })).body.quote;
    assert.deepEqual([api.renewalGb, api.renewalAmountCents], [4, 1200]);
    const over = await c.get<string>(`${buyPage}?quantityGb=49`);
    assert.equal(over.status, 422);
    assert.match(over.body, /al massimo 50 GB di Spazio Extra Inbox: questa ne ha già 2, puoi aggiungerne al massimo 48/);

    // The card's renewal names the extra space it renews.
    assert.match((await c.get<string>(`/mailboxes/${mailbox.id}`)).body, /<dt>Spazio Extra Inbox 2 GB<\/dt><dd>7,32 € IVA inclusa \(6,00 € \+ IVA\)/);
    // The holder switches the extra space's renewal off: the card says it will not be renewed; on E
    // it is deactivated and advertises no price.
    assert.equal((await c.patch(`/api/mailboxes/${mailbox.id}`, { extraSpaceAutoRenew: false })).status, 200);
    assert.match((await c.get<string>(`/mailboxes/${mailbox.id}`)).body, /<dt>Spazio Extra Inbox 2 GB<\/dt><dd>non si rinnova: il suo rinnovo automatico è disattivato/);
    clock.setRome('2026-12-01T03:00');
    await t.op.post('/api/admin/jobs/daily');
    const addon = (await c.get(`/api/mailboxes/${mailbox.id}`)).body.mailbox.addons[0];
    assert.deepEqual([addon.status, addon.renewalPriceCents], ['deactivated', null]);
    const card = await c.get<string>(`/mailboxes/${mailbox.id}`);
    assert.match(card.body, /disattivato/);
    assert.match(card.body, /Non si rinnova: per riavere lo spazio acquistalo di nuovo/);
    assert.doesNotMatch(card.body, /Rinnovo del servizio/);
  });
});
