// Issue 19, "What a new user hit" (items 11–14), over HTTP without JavaScript: the words a holder
// reads, the language carried through the login, prices read the way the buyer pays them, and the
// flows that took a new user too many clicks or charged twice without asking.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clock } from '../../src/clock.ts';
import { BYTES_PER_GB } from '../../src/domain/catalogue.ts';
import { BUSINESS_WITH_CODE } from '../support/billing.ts';
import { outboxOf } from '../support/fixtures.ts';
import { Client, forEachServer, provisionHolder } from '../support/http.ts';
import { formFields, postForm, submitPageForm } from '../support/web-forms.ts';

/** What a reader sees: the text between tags, entities decoded, spaces collapsed. */
const visible = (page: string): string =>
  page
    .replace(/<(script|style)[\s\S]*?<\/\1>/g, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');

async function payByCard(checkoutUrl: string) {
  const res = await fetch(checkoutUrl, { method: 'POST', body: new URLSearchParams({ cardNumber: '4242424242424242', expiry: '12/34', cvc: '123' }), redirect: 'manual' });
  return { status: res.status, location: res.headers.get('location') };
}

forEachServer('issue 19: what a new user hit', (t) => {
  const holder = async (opts: Parameters<typeof provisionHolder>[1] = {}) => {
    const h = await provisionHolder(t.op, opts);
    const client = new Client(t.s.baseUrl);
    assert.equal((await client.login(h.mailbox.address, h.password)).status, 200);
    return { ...h, client };
  };
  const page = async (c: Client, path: string): Promise<string> => {
    const res = await c.get<string>(path);
    assert.equal(res.status, 200, path);
    return res.body;
  };

  test('item 11: the mailbox card says "2 GB, attivo fino al 1° dicembre 2026", then "disattivato il …"; the greeting is "Ciao"', async () => {
    clock.setRome('2026-06-10T10:00');
    const h = await holder({ creditCents: 2000, expiresOn: '2026-12-01' });
    assert.equal((await h.client.post(`/api/mailboxes/${h.mailbox.id}/extra-space/orders`, { quantityGb: 2 })).body.order.status, 'completed');
    const card = visible(await page(h.client, `/mailboxes/${h.mailbox.id}`));
    assert.match(card, /Spazio Extra Inbox : 2 GB, attivo fino al 1° dicembre 2026\./);
    assert.doesNotMatch(card, /attivo, attivo/);
    assert.match(card, /Prossimo rinnovo Il 1° dicembre 2026/);
    const dashboard = visible(await page(h.client, '/'));
    assert.match(dashboard, /Ciao, Studio \d+\./);
    assert.doesNotMatch(dashboard, /Benvenut/);

    // Its renewal switched off, the space ends with the period.
    assert.equal((await h.client.patch(`/api/mailboxes/${h.mailbox.id}`, { extraSpaceAutoRenew: false })).status, 200);
    clock.setRome('2026-12-01T09:00');
    assert.equal((await t.op.post('/api/admin/jobs/daily')).status, 200);
    const after = visible(await page(h.client, `/mailboxes/${h.mailbox.id}`));
    assert.match(after, /2 GB, disattivato il 1° dicembre 2026\./);
    assert.doesNotMatch(after, /disattivato, attivo/);
  });

  test('item 11: an expired mailbox shows until when it can be renewed, not a "Prossimo rinnovo" in the past', async () => {
    clock.setRome('2026-06-10T10:00');
    const h = await holder({ expiresOn: '2026-06-08' });
    assert.equal((await t.op.post('/api/admin/jobs/daily')).status, 200);
    assert.equal((await h.client.get(`/api/mailboxes/${h.mailbox.id}`)).body.mailbox.status, 'expired');
    const card = visible(await page(h.client, `/mailboxes/${h.mailbox.id}`));
    assert.doesNotMatch(card, /Prossimo rinnovo/);
    // "dal 8 giugno" would be wrong: the article elides before otto.
    assert.match(card, /Rinnovo Rinnovabile fino al 6 settembre 2026\. Il nuovo anno decorre dalla data di scadenza \(8 giugno 2026\)/);
    assert.match(card, /è scaduta l'8 giugno 2026: continua a ricevere i messaggi/);
  });

  test('item 11: "mancano tre mesi o meno" on the free rule; no "ne ha già 0" on the limit', async () => {
    clock.setRome('2026-09-01T10:00');
    const h = await holder({ creditCents: 1000, expiresOn: '2026-12-01' });
    const quote = visible(await page(h.client, `/mailboxes/${h.mailbox.id}/extra-space?quantityGb=1`));
    assert.match(quote, /Regola applicata: mancano tre mesi o meno: gratuito fino alla scadenza ?\./);
    const over = await h.client.get<string>(`/mailboxes/${h.mailbox.id}/extra-space?quantityGb=51`);
    assert.equal(over.status, 422);
    assert.match(visible(over.body), /al massimo 50 GB di Spazio Extra Inbox: puoi acquistarne al massimo 50\./);
    assert.doesNotMatch(visible(over.body), /ne ha già 0/);
  });

  test('item 11: the usage warning says "l\'80%", and what happens to new mail in plain words', async () => {
    clock.setRome('2026-06-10T10:00');
    const h = await holder({ expiresOn: '2026-12-01', usedBytes: Math.round(0.85 * BYTES_PER_GB) });
    assert.equal((await t.op.post('/api/admin/jobs/daily')).status, 200);
    const warning = (await outboxOf(t.s.app.ctx, h.customer.id)).find((m) => m.kind === 'usage_warning');
    assert.ok(warning, 'a usage warning was queued');
    assert.match(warning.text_body, /ha superato l'80% del suo spazio/);
    assert.doesNotMatch(warning.text_body, /il 80%/);
    const dashboard = visible(await page(h.client, '/'));
    assert.match(dashboard, /il mittente riceverà un avviso di mancata consegna e a te non arriverà nulla/);
    assert.doesNotMatch(dashboard, /e tu nulla/);
  });

  test('item 12: Accept-Language is honoured on a first visit, and <html lang> follows', async () => {
    const get = (headers: Record<string, string>) => fetch(`${t.s.baseUrl}/login`, { headers }).then((r) => r.text());
    const en = await get({ 'accept-language': 'en-GB,en;q=0.9,it;q=0.4' });
    assert.match(en, /<html lang="en">/);
    assert.match(en, /<h1>Customer area login<\/h1>/);
    const it = await get({ 'accept-language': 'fr-FR,fr;q=0.9,it;q=0.8,en;q=0.5' });
    assert.match(it, /<html lang="it">/);
    assert.match(await get({}), /<html lang="it">/);
    // The switch beats the browser's wish.
    assert.match(await get({ 'accept-language': 'en', cookie: 'casella_lang=it' }), /<html lang="it">/);
  });

  test('item 12: English chosen on the login page stays after logging in (and becomes the holder\'s)', async () => {
    clock.setRome('2026-06-10T10:00');
    const h = await provisionHolder(t.op, {});
    const c = new Client(t.s.baseUrl);
    c.cookie = 'casella_lang=en';
    const login = await c.get<string>('/login');
    assert.match(login.body, /<html lang="en">/);
    const res = await postForm(c, '/login', { ...formFields(login.body, '/login'), address: h.mailbox.address, password: h.password });
    assert.equal(res.status, 303);
    const dashboard = await page(c, '/');
    assert.match(dashboard, /<html lang="en">/);
    assert.match(visible(dashboard), /Hello, Studio \d+\./);
    const me = await fetch(`${t.s.baseUrl}/api/me`, { headers: { cookie: c.cookie } }).then((r) => r.json());
    assert.equal(me.customer.locale, 'en');
 
    // A link from another site sets no choice, so it cannot reach a holder's language at login.
    const crossSite = await fetch(`${t.s.baseUrl}/lang/en?next=/login`, { headers: { 'sec-fetch-site': 'cross-site' }, redirect: 'manual' });
    assert.equal(crossSite.status, 303);
    assert.doesNotMatch(crossSite.headers.get('set-cookie') ?? '', /casella_lang=/);
  });

  test('item 13: a person reads the price with VAT first, a business the net; the credit says "IVA esclusa"', async () => {
    clock.setRome('2026-06-10T10:00');
    const person = await holder({ creditCents: 2000, expiresOn: '2026-12-01' });
    const personCard = visible(await page(person.client, `/mailboxes/${person.mailbox.id}`));
    assert.match(personCard, /Casella 6,10 € IVA inclusa \(5,00 € \+ IVA\)/);
    const noProfile = await holder({ creditCents: 2000, expiresOn: '2026-12-01', billingProfile: false });
    assert.match(visible(await page(noProfile.client, `/mailboxes/${noProfile.mailbox.id}`)), /Casella 6,10 € IVA inclusa \(5,00 € \+ IVA\)/);

    const business = await holder({ creditCents: 2000, expiresOn: '2026-12-01' });
    assert.equal((await t.op.put(`/api/admin/customers/${business.customer.id}/billing-profile`, BUSINESS_WITH_CODE)).status, 200);
    assert.match(visible(await page(business.client, `/mailboxes/${business.mailbox.id}`)), /Casella 5,00 € \+ IVA \(6,10 € IVA inclusa\)/);
    const businessQuote = visible(await page(business.client, `/mailboxes/${business.mailbox.id}/extra-space?quantityGb=2`));
    assert.match(businessQuote, /Prezzo 6,00 € \+ IVA \(7,32 € IVA inclusa\)/);

    const quote = await page(person.client, `/mailboxes/${person.mailbox.id}/extra-space?quantityGb=2`);
    assert.match(visible(quote), /Prezzo 7,32 € IVA inclusa \(6,00 € \+ IVA\)/);
    assert.match(visible(quote), /Credito residuo 20,00 € IVA esclusa/);
    // The live price of casella.js uses the same template.
    assert.match(quote, /data-t-price="\{gross\} IVA inclusa \(\{net\} \+ IVA\)"/);
    assert.match(visible(await page(person.client, '/')), /Credito residuo 20,00 € IVA esclusa/);
    assert.match(visible(await page(person.client, '/credit')), /Credito residuo 20,00 € IVA esclusa/);
  });

  test('item 14: the same space bought again minutes later asks "Hai appena acquistato …: confermi?" before charging', async () => {
    clock.setRome('2026-06-10T10:00');
    const h = await holder({ creditCents: 3000, expiresOn: '2026-12-01' });
    const path = `/mailboxes/${h.mailbox.id}/extra-space`;
    const buy = () => submitPageForm(h.client, `${path}?quantityGb=2`, path);
    const first = await buy();
    assert.equal(first.res.headers.get('location'), `/mailboxes/${h.mailbox.id}?msg=purchaseDone`);
    clock.setRome('2026-06-10T10:03');
    const second = await buy();
    assert.equal(second.res.status, 303);
    assert.equal(second.res.headers.get('location'), `${path}/again?quantityGb=2`);
    const balance = async () => (await h.client.get('/api/credit')).body.balanceCents;
    assert.equal(await balance(), 2400, 'nothing charged before the answer');
    const ask = await page(h.client, `${path}/again?quantityGb=2`);
    assert.match(visible(ask), new RegExp(`Hai appena acquistato 2 GB di Spazio Extra Inbox per la casella ${h.mailbox.address.replace(/\./g, '\\.')} \\(alle 10:00\\): confermi un altro acquisto di 2 GB\\?`));
    const yes = await postForm(h.client, path, formFields(ask, path));
    assert.equal(yes.headers.get('location'), `/mailboxes/${h.mailbox.id}?msg=purchaseDone`);
    assert.equal(await balance(), 1800);
    // Another quantity is another decision; and after the window the same one is not asked about.
    const other = await submitPageForm(h.client, `${path}?quantityGb=1`, path);
    assert.equal(other.res.headers.get('location'), `/mailboxes/${h.mailbox.id}?msg=purchaseDone`);
    clock.setRome('2026-06-10T10:30');
    const later = await buy();
    assert.equal(later.res.headers.get('location'), `/mailboxes/${h.mailbox.id}?msg=purchaseDone`);
  });

  test('item 14: a partita IVA typed with IT and spaces is normalised (API and form)', async () => {
    clock.setRome('2026-06-10T10:00');
    const h = await holder({ billingProfile: false });
    const put = await h.client.put('/api/me/billing-profile', { ...BUSINESS_WITH_CODE, vatNumber: 'IT 004 884 100 10' });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal(put.body.billingProfile.vatNumber, '00488410010');
    const form = await page(h.client, '/profilo/fatturazione');
    const saved = await postForm(h.client, '/profilo/fatturazione', { ...formFields(form, '/profilo/fatturazione'), vatNumber: 'it00488410010' });
    assert.equal(saved.status, 303, saved.body);
    assert.equal((await h.client.get('/api/me/billing-profile')).body.billingProfile.vatNumber, '00488410010');
  });

  test('item 14: the billing form has the person\'s and the company\'s fields apart; what the other kind holds is dropped', async () => {
    clock.setRome('2026-06-10T10:00');
    const h = await holder({ billingProfile: false });
    const form = await page(h.client, '/profilo/fatturazione');
    assert.match(form, /<fieldset class="kind-fields kind-person"><legend>Dati del privato<\/legend>[\s\S]*?name="givenName"[\s\S]*?<\/fieldset>/);
    assert.match(form, /<fieldset class="kind-fields kind-business"><legend>Dati dell&#39;azienda o del professionista<\/legend>[\s\S]*?name="companyName"[\s\S]*?name="vatNumber"[\s\S]*?<\/fieldset>/);
    assert.match(form, /<div class="check"><input type="radio" id="bp-kind-person"[^>]*><label for="bp-kind-person">/);
    // A person whose hidden company fields still hold text (typed before choosing "Privato").
    const saved = await postForm(h.client, '/profilo/fatturazione', {
      ...formFields(form, '/profilo/fatturazione'),
      kind: 'person',
      givenName: 'Mario',
      familyName: 'Rossi',
      taxCode: 'RSSMRA85T10A562S',
      companyName: 'Rossi S.r.l.',
      vatNumber: '00488410010',
      'address.street': 'Via Roma',
      'address.postalCode': '00184',
      'address.city': 'Roma',
      'address.province': 'RM',
    });
    assert.equal(saved.status, 303, saved.body);
    const stored = (await h.client.get('/api/me/billing-profile')).body.billingProfile;
    assert.deepEqual([stored.kind, stored.companyName, stored.vatNumber, stored.givenName], ['person', null, null, 'Mario']);
  });

  test('item 14: the result page after paying links the invoice', async () => {
    clock.setRome('2026-06-10T10:00');
    const h = await holder({});
    const topup = (await h.client.post('/api/credit/topups', { amountCents: 1000 })).body.topup;
    assert.equal((await payByCard(topup.checkoutUrl)).location, `/credit/topups/${topup.id}`);
    const invoiceId = (await h.client.get(`/api/credit/topups/${topup.id}`)).body.topup.invoiceId;
    assert.ok(invoiceId);
    const result = await page(h.client, `/credit/topups/${topup.id}`);
    assert.match(result, new RegExp(`<a href="/fatture/${invoiceId}/pdf" download>Scarica la fattura \\(PDF\\)</a>`));
    assert.match(visible(result), /aggiunti 10,00 € di credito \(IVA esclusa\); addebito sulla carta 12,20 €, IVA inclusa/);
    assert.equal((await h.client.get(`/fatture/${invoiceId}/pdf`)).status, 200);
  });
});
