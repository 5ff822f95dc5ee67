// R15 on the holder's pages, without JavaScript: the first card payment asks for the billing data on
// the way and then carries on where the holder was; "Fatture" lists the invoice with "Scarica XML"
// and "Scarica PDF"; another holder's invoice is not found.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { clock } from '../../src/clock.ts';
import { Client, provisionHolder, startTestServer, type TestServer } from '../support/http.ts';
import { formFields, postForm, submitPageForm } from '../support/web-forms.ts';
import { schemaErrors } from '../support/fatturapa-schema.ts';

let s: TestServer;
before(async () => {
  clock.setRome('2026-06-10T10:00');
  s = await startTestServer('pglite');
});
after(async () => s.close());

const holder = async (billingProfile: boolean) => {
  const op = new Client(s.baseUrl, s.operatorToken);
  const h = await provisionHolder(op, { billingProfile });
  const client = new Client(s.baseUrl);
  assert.equal((await client.login(h.mailbox.address, h.password)).status, 200);
  return { ...h, client };
};

test('R15.1: the first top-up asks for "Dati di fatturazione", names each wrong field, then goes back to the top-up with the amount typed', async () => {
  const h = await holder(false);
  const { res } = await submitPageForm(h.client, '/credit', '/credit/topups', { amount: '12,00' });
  assert.equal(res.status, 303);
  const billing = res.headers.get('location')!;
  assert.equal(billing, '/profilo/fatturazione?next=%2Fcredit%3Famount%3D12%252C00');
  assert.equal((await s.app.db.query('SELECT 1 FROM topups WHERE customer_id = $1', [h.customer.id])).length, 0, 'nothing is charged yet');

  const page = await h.client.get<string>(billing);
  assert.equal(page.status, 200);
  assert.match(page.body, /<h1>Dati di fatturazione<\/h1>/);
  assert.match(page.body, /Prima di pagare con la carta servono i dati di fatturazione/);
  const fields = formFields(page.body, '/profilo/fatturazione');
  assert.equal(fields.next, '/credit?amount=12%2C00');

  const wrong = await postForm(h.client, '/profilo/fatturazione', {
    ...fields,
    kind: 'person',
    givenName: 'Mario',
    familyName: 'Rossi',
    taxCode: 'RSSMRA85T10A562X',
    'address.street': 'Via Roma',
    'address.postalCode': '1018',
    'address.city': 'Roma',
    'address.province': 'RM',
  });
  assert.equal(wrong.status, 422);
  assert.match(wrong.body, /class="error-summary" role="alert"/);
  assert.match(wrong.body, /<label for="bp-taxCode">Codice fiscale<\/label>\s*<input id="bp-taxCode" name="taxCode" type="text" value="RSSMRA85T10A562X" aria-invalid="true" aria-describedby="bp-taxCode-hint bp-taxCode-error">/);
  assert.match(wrong.body, /id="bp-taxCode-error">Codice fiscale non valido/);
  assert.match(wrong.body, /id="bp-address-postalCode-error">Il CAP ha 5 cifre\./);

  const fixed = await postForm(h.client, '/profilo/fatturazione', { ...formFields(wrong.body, '/profilo/fatturazione'), taxCode: 'RSSMRA85T10A562S', 'address.postalCode': '00184' });
  assert.equal(fixed.status, 303, fixed.body);
  assert.equal(fixed.headers.get('location'), '/credit?amount=12%2C00');
  const credit = await h.client.get<string>('/credit?amount=12%2C00');
  assert.match(credit.body, /<input id="amount" name="amount"[^>]* value="12,00"/);

  const paid = await submitPageForm(h.client, '/credit?amount=12%2C00', '/credit/topups');
  assert.equal(paid.res.status, 303);
  const checkout = new URL(paid.res.headers.get('location')!, s.baseUrl);
  assert.match(checkout.pathname, /^\/test-gateway\/checkout\//);
  const card = await fetch(checkout, { method: 'POST', body: new URLSearchParams({ cardNumber: '4242424242424242', expiry: '12/34', cvc: '123' }), redirect: 'manual' });
  assert.equal(card.status, 303);

  const list = await h.client.get<string>('/fatture');
  assert.equal(list.status, 200);
  assert.match(list.body, /<a href="\/fatture" aria-current="page">Fatture<\/a>/);
  const xmlLink = /<a href="(\/fatture\/[^"]+\/xml)" aria-describedby="[^"]+" download>Scarica XML<\/a>/.exec(list.body);
  const pdfLink = /<a href="(\/fatture\/[^"]+\/pdf)" aria-describedby="[^"]+" download>Scarica PDF<\/a>/.exec(list.body);
  assert.ok(xmlLink && pdfLink, list.body);
  assert.match(list.body, /2026\/\d{6}/);
  assert.match(list.body, /12,00 €/);
  assert.match(list.body, /14,64 €/);
  const xml = await h.client.get<string>(xmlLink[1]!);
  assert.equal(xml.status, 200);
  assert.deepEqual(await schemaErrors(xml.body), []);
  const pdf = await fetch(s.baseUrl + pdfLink[1]!, { headers: { cookie: h.client.cookie } });
  assert.equal(pdf.headers.get('content-type'), 'application/pdf');
  assert.equal(Buffer.from(await pdf.arrayBuffer()).subarray(0, 5).toString(), '%PDF-');

  const other = await holder(true);
  assert.equal((await other.client.get(xmlLink[1]!)).status, 404);
  assert.equal((await other.client.get(pdfLink[1]!)).status, 404);
  assert.doesNotMatch((await other.client.get<string>('/fatture')).body, /Scarica XML/);
});

test('R15.1: the saved billing data show in the form again, and the page is reachable from "Fatture"', async () => {
  const h = await holder(true);
  const list = await h.client.get<string>('/fatture');
  assert.match(list.body, /<a href="\/profilo\/fatturazione">Dati di fatturazione<\/a>/);
  assert.match(list.body, /Nessuna fattura/);
  const page = await h.client.get<string>('/profilo/fatturazione');
  const fields = formFields(page.body, '/profilo/fatturazione');
  assert.equal(fields.kind, 'person');
  assert.equal(fields.taxCode, 'RSSMRA85T10A562S');
  assert.equal(fields['address.province'], 'RM');
  const saved = await postForm(h.client, '/profilo/fatturazione', { ...fields, kind: 'business', companyName: 'Rossi S.r.l.', vatNumber: '00488410010', taxCode: '' });
  assert.equal(saved.status, 303);
  assert.equal(saved.headers.get('location'), '/profilo/fatturazione?saved=1');
  assert.match((await h.client.get<string>('/profilo/fatturazione?saved=1')).body, /Dati di fatturazione salvati\./);
  assert.equal((await h.client.get('/api/me/billing-profile')).body.billingProfile.vatNumber, '00488410010');
});

test('R15.1, issue 19 item 14: "Ricarica e completa l\'ordine" without billing data asks for them, then goes straight on to the card payment of that order', async () => {
  const h = await holder(false);
  const placed = await h.client.post(`/api/mailboxes/${h.mailbox.id}/extra-space/orders`, { quantityGb: 2 });
  assert.equal(placed.body.order.status, 'awaiting_topup');
  const { res } = await submitPageForm(h.client, '/orders', `/orders/${placed.body.order.id}/pay`);
  assert.equal(res.status, 303);
  assert.equal(res.headers.get('location'), `/profilo/fatturazione?order=${placed.body.order.id}`);
  assert.equal((await s.app.db.query('SELECT 1 FROM topups WHERE customer_id = $1', [h.customer.id])).length, 0);
  const page = await h.client.get<string>(res.headers.get('location')!);
  assert.match(page.body, /Appena li salvi passi al pagamento della ricarica che completa l&#39;ordine|Appena li salvi passi al pagamento della ricarica che completa l'ordine/);
  const form = {
    ...formFields(page.body, '/profilo/fatturazione'),
    kind: 'business',
    companyName: 'Rossi S.r.l.',
    vatNumber: '00488410010',
    'address.street': 'Via Roma',
    'address.postalCode': '00184',
    'address.city': 'Roma',
    'address.province': 'RM',
  };
  const saved = await postForm(h.client, '/profilo/fatturazione', form);
  assert.equal(saved.status, 303, saved.body);
  // One form: saved, and on to the gateway's page of a top-up tied to the order.
  assert.match(saved.headers.get('location')!, /\/test-gateway\/checkout\//);
  const topups = await s.app.db.query<{ order_id: string }>('SELECT order_id FROM topups WHERE customer_id = $1', [h.customer.id]);
  assert.deepEqual(topups.map((t) => t.order_id), [placed.body.order.id]);
  // The same form posted again (a double click) starts no second top-up.
  const again = await postForm(h.client, '/profilo/fatturazione', form);
  assert.equal(again.headers.get('location'), saved.headers.get('location'));
  assert.equal((await s.app.db.query('SELECT 1 FROM topups WHERE customer_id = $1', [h.customer.id])).length, 1);
});
