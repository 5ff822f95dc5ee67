// R16 and R17 over HTTP: a German company's billing data, top-up and invoice say no Italian VAT;
// a top-up by bank transfer shows the account and the causale (API and credit page, `Carta` and
// `Bonifico`), and the operator's recording of the transfer is idempotent and refuses a wrong
// amount, a second time and an unknown reference.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, forEachServer, provisionHolder } from '../support/http.ts';
import { schemaErrors } from '../support/fatturapa-schema.ts';
import { submitPageForm } from '../support/web-forms.ts';

const GOOD_CARD = '4242424242424242';
const GERMAN_COMPANY = { kind: 'business', companyName: 'Müller GmbH', vatNumber: '123456789', sdiCode: 'M5UXCR1', address: { street: 'Hauptstraße', streetNumber: '5', postalCode: '10115', city: 'Berlin', province: null, country: 'DE' } };

forEachServer('R16, R17 over HTTP', (t) => {
  const holder = async () => {
    const h = await provisionHolder(t.op, {});
    const c = new Client(t.s.baseUrl);
    assert.equal((await c.login(h.mailbox.address, h.password)).status, 200);
    return { ...h, c };
  };

  test('R16: a German company\'s 12,34 € top-up charges 12,34 €, on the card page too, and its invoice is N2.1 reverse charge to XXXXXXX', async () => {
    const h = await holder();
    const saved = await h.c.put('/api/me/billing-profile', GERMAN_COMPANY);
    assert.equal(saved.status, 200, JSON.stringify(saved.body));
    assert.deepEqual([saved.body.billingProfile.sdiCode, saved.body.billingProfile.vatNumber], ['XXXXXXX', '123456789']);
    const wrong = await h.c.put('/api/me/billing-profile', { ...GERMAN_COMPANY, vatNumber: 'DE1234' });
    assert.equal(wrong.status, 422);
    assert.ok(wrong.body.error.fields.vatNumber);

    const started = await h.c.post('/api/credit/topups', { amountCents: 1234 });
    assert.equal(started.status, 201);
    const topup = started.body.topup;
    assert.deepEqual([topup.amountCents, topup.vatCents, topup.chargeCents, topup.vatTreatment, topup.method, topup.bankTransfer], [1234, 0, 1234, 'reverse_charge', 'card', null]);
    const page = await (await fetch(topup.checkoutUrl)).text();
    assert.match(page, /12,34 €/);
    assert.doesNotMatch(page, /15,05/);
    assert.match(page, /inversione contabile/);
    const paid = await fetch(topup.checkoutUrl, { method: 'POST', body: new URLSearchParams({ cardNumber: GOOD_CARD, expiry: '12/34', cvc: '123' }), redirect: 'manual' });
    assert.equal(paid.status, 303);
    const after = (await h.c.get(`/api/credit/topups/${topup.id}`)).body.topup;
    assert.equal(after.status, 'succeeded');
    assert.equal(after.paidAt !== null, true);
    const invoice = (await h.c.get(`/api/invoices/${after.invoiceId}`)).body.invoice;
    assert.deepEqual([invoice.netCents, invoice.vatCents, invoice.totalCents, invoice.vatRatePercent, invoice.natura, invoice.vatTreatment, invoice.paymentDate, invoice.paymentMethod], [1234, 0, 1234, 0, 'N2.1', 'reverse_charge', '2026-06-10', 'card']);
    const xml = await h.c.get(`/api/invoices/${invoice.id}/xml`);
    assert.deepEqual(await schemaErrors(xml.body), []);
    assert.match(xml.body, /<CodiceDestinatario>XXXXXXX<\/CodiceDestinatario>/);
    assert.match(xml.body, /inversione contabile, art\. 7-ter DPR 633\/72/);
    // The quote page adds no VAT for this buyer either.
    const quote = await fetch(`${t.s.baseUrl}/mailboxes/${h.mailbox.id}/extra-space?quantityGb=1`, { headers: { cookie: h.c.cookie } });
    assert.match(await quote.text(), /IVA non applicata: inversione contabile/);
  });

  test('R17: a top-up by bank transfer shows the account and the causale, idempotently; the operator records it once, for its amount', async () => {
    const h = await holder();
    const key = { 'idempotency-key': `bt-${h.customer.id}` };
    const started = await h.c.post('/api/credit/topups', { amountCents: 1000, method: 'bank_transfer' }, key);
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const again = await h.c.post('/api/credit/topups', { amountCents: 1000, method: 'bank_transfer' }, key);
    assert.deepEqual(again.body, started.body, 'the same key gives the same top-up');
    const topup = started.body.topup;
    assert.deepEqual([topup.status, topup.checkoutUrl, topup.chargeCents, topup.method], ['pending', null, 1220, 'bank_transfer']);
    assert.match(topup.bankTransfer.reference, /^CAS-[A-Z0-9]{4}-[A-Z0-9]{4}$/);
    assert.equal(topup.bankTransfer.expiresOn, '2026-06-20');
    assert.equal(topup.bankTransfer.iban, 'IT60X0542811101000000123456');
    assert.ok(topup.bankTransfer.causale.startsWith(topup.bankTransfer.reference));
    const page = await (await fetch(`${t.s.baseUrl}/credit/topups/${topup.id}`, { headers: { cookie: h.c.cookie } })).text();
    assert.match(page, /IT60X0542811101000000123456/);
    assert.ok(page.includes(topup.bankTransfer.reference));

    const record = (body: Record<string, unknown>, headers: Record<string, string> = {}) => t.op.post('/api/admin/bank-transfers', body, headers);
    const base = { reference: topup.bankTransfer.reference, chargeCents: 1220, receivedOn: '2026-06-10', reason: 'estratto conto' };
    assert.equal((await record({ ...base, chargeCents: 1000 })).body.error.code, 'amount_mismatch');
    assert.equal((await record({ ...base, chargeCents: 1000 })).status, 409);
    assert.equal((await record({ ...base, reference: 'CAS-AAAA-AAAA' })).status, 404);
    const noReason = await record({ ...base, reason: '' });
    assert.deepEqual([noReason.status, noReason.body.error.code], [422, 'reason_required']);
    assert.equal((await record({ ...base, extra: 1 })).status, 422, 'unknown fields are refused');
    const opKey = { 'idempotency-key': `rec-${topup.id}` };
    const recorded = await record(base, opKey);
    assert.equal(recorded.status, 201, JSON.stringify(recorded.body));
    assert.equal(recorded.body.topup.status, 'succeeded');
    const replay = await record(base, opKey);
    assert.deepEqual([replay.status, replay.body], [201, recorded.body], 'a retried request gets the first answer, no second credit');
    const second = await record(base);
    assert.deepEqual([second.status, second.body.error.code], [409, 'topup_not_pending']);
    assert.equal((await h.c.get('/api/me')).body.credit.balanceCents, 1000);
    const invoice = (await h.c.get(`/api/invoices/${recorded.body.topup.invoiceId}`)).body.invoice;
    assert.deepEqual([invoice.paymentMethod, invoice.paymentDate, invoice.totalCents], ['bank_transfer', '2026-06-10', 1220]);
    const verify = await t.op.get('/api/admin/ledger/verify');
    assert.equal(verify.body.ok, true);
  });

  test('R17: the credit page offers Carta and Bonifico; Bonifico leads to the transfer\'s details', async () => {
    const h = await holder();
    const credit = await (await fetch(`${t.s.baseUrl}/credit`, { headers: { cookie: h.c.cookie } })).text();
    assert.match(credit, /<label for="method-card">Carta<\/label>/);
    assert.match(credit, /<label for="method-bank_transfer">Bonifico<\/label>/);
    const { fields, res: posted } = await submitPageForm(h.c, '/credit', '/credit/topups', { amount: '25', method: 'bank_transfer' });
    assert.equal(fields.method, 'bank_transfer');
    assert.equal(posted.status, 303, posted.body);
    const location = posted.headers.get('location')!;
    assert.match(location, /^\/credit\/topups\/top_/);
    const details = await (await fetch(`${t.s.baseUrl}${location}`, { headers: { cookie: h.c.cookie } })).text();
    assert.match(details, /Paga con bonifico/);
    assert.match(details, /30,50 €/);
    assert.match(details, /CAS-[A-Z0-9]{4}-[A-Z0-9]{4} ricarica credito PEC/);
  });
});
