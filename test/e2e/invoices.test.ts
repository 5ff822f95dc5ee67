// R15 through the HTTP API: billing data before the first card payment, one invoice per paid
// top-up with its FatturaPA file and courtesy copy, the SdI simulator's three answers and the
// operator's correction of a rejected invoice, and the month's register and zip.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { unzipSync, strFromU8 } from 'fflate';
import { clock } from '../../src/clock.ts';
import { Client, forEachServer, provisionHolder } from '../support/http.ts';
import { outboxOf } from '../support/fixtures.ts';
import { schemaErrors } from '../support/fatturapa-schema.ts';
import { BUSINESS_WITH_CODE, BUSINESS_WITH_PEC, PERSON_PROFILE } from '../support/billing.ts';
import { sdiRound } from '../../src/invoicing/sdi-delivery.ts';
import { simulatorChannel, SIMULATOR_NOT_DELIVERED_CODE, SIMULATOR_REJECTED_CODE } from '../../src/invoicing/sdi-channel.ts';

const GOOD_CARD = '4242424242424242';

forEachServer('R15 invoices over HTTP', (t) => {
  const holder = async (opts: Parameters<typeof provisionHolder>[1] = {}) => {
    const h = await provisionHolder(t.op, opts);
    const c = new Client(t.s.baseUrl);
    assert.equal((await c.login(h.mailbox.address, h.password)).status, 200);
    return { ...h, c };
  };
  /** A card top-up paid on the test gateway's page; the top-up as the API shows it afterwards. */
  const paidTopup = async (c: Client, amountCents: number) => {
    const started = await c.post('/api/credit/topups', { amountCents });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const paid = await fetch(started.body.topup.checkoutUrl, { method: 'POST', body: new URLSearchParams({ cardNumber: GOOD_CARD, expiry: '12/34', cvc: '123' }), redirect: 'manual' });
    assert.equal(paid.status, 303);
    return (await c.get(`/api/credit/topups/${started.body.topup.id}`)).body.topup;
  };
  /** The simulator answers a minute after it receives a file, as SdI does later. */
  const simulator = () => simulatorChannel(t.s.app.db, 60_000);
  let wallOffsetMs = 0;
  /** A round of the SdI worker a minute and a bit later (of the machine's time, which retries follow). */
  const roundLater = async () => {
    wallOffsetMs += 61_000;
    clock.setWallOffset(wallOffsetMs);
    return sdiRound(t.s.app.db, simulator());
  };
  after(() => clock.setWallOffset(0));

  test('R15.1: no card payment before the billing data; each wrong field is named; then the top-up goes ahead', async () => {
    const h = await holder({ billingProfile: false });
    assert.deepEqual((await h.c.get('/api/me/billing-profile')).body, { billingProfile: null });
    const refused = await h.c.post('/api/credit/topups', { amountCents: 1000 });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'billing_profile_required');

    const wrong = await h.c.put('/api/me/billing-profile', { ...PERSON_PROFILE, taxCode: 'RSSMRA85T10A562X', address: { ...PERSON_PROFILE.address, postalCode: '123', province: 'Roma' } });
    assert.equal(wrong.status, 422);
    assert.deepEqual(Object.keys(wrong.body.error.fields).sort(), ['address.postalCode', 'address.province', 'taxCode']);
    assert.equal((await h.c.put('/api/me/billing-profile', { ...PERSON_PROFILE, nickname: 'x' })).status, 422, 'unknown fields are refused');

    const saved = await h.c.put('/api/me/billing-profile', BUSINESS_WITH_CODE);
    assert.equal(saved.status, 200, JSON.stringify(saved.body));
    assert.equal(saved.body.billingProfile.vatNumber, '00488410010');
    assert.ok(saved.body.billingProfile.updatedAt);
    assert.equal((await h.c.get('/api/me/billing-profile')).body.billingProfile.companyName, BUSINESS_WITH_CODE.companyName);
    assert.equal((await h.c.post('/api/credit/topups', { amountCents: 1000 })).status, 201);
  });

  test('R15.2-5: a paid top-up has one invoice: number, date, amounts, a schema-valid file, a courtesy PDF, a link in the receipt; 404 for others', async () => {
    const h = await holder({ locale: 'en' });
    const topup = await paidTopup(h.c, 1234);
    assert.equal(topup.status, 'succeeded');
    assert.ok(topup.invoiceId);

    const list = (await h.c.get('/api/invoices')).body.invoices;
    assert.equal(list.length, 1);
    const invoice = list[0];
    assert.equal(invoice.id, topup.invoiceId);
    assert.match(invoice.number, /^2026\/\d{6}$/);
    assert.equal(invoice.issuedOn, '2026-06-10');
    assert.equal(invoice.documentType, 'TD01');
    assert.deepEqual([invoice.netCents, invoice.vatCents, invoice.totalCents, invoice.vatRatePercent], [1234, 271, 1505, 22]);
    assert.deepEqual([invoice.netCents, invoice.totalCents], [topup.amountCents, topup.chargeCents]);
    assert.equal(invoice.topupId, topup.id);
    assert.match(invoice.fileName, /^IT01234567897_[0-9A-Z]{5}\.xml$/);
    assert.equal(invoice.sdiStatus, 'issued');
    assert.deepEqual((await h.c.get(`/api/invoices/${invoice.id}`)).body.invoice, invoice);

    const xml = await h.c.get(`/api/invoices/${invoice.id}/xml`);
    assert.equal(xml.status, 200);
    assert.match(xml.headers.get('content-type')!, /^application\/xml/);
    assert.match(xml.headers.get('content-disposition')!, new RegExp(invoice.fileName));
    assert.deepEqual(await schemaErrors(xml.body), []);
    assert.match(xml.body, /<CodiceFiscale>RSSMRA85T10A562S<\/CodiceFiscale>/);

    const pdf = await fetch(`${t.s.baseUrl}/api/invoices/${invoice.id}/pdf`, { headers: { cookie: h.c.cookie } });
    assert.equal(pdf.status, 200);
    assert.equal(pdf.headers.get('content-type'), 'application/pdf');
    assert.equal(Buffer.from(await pdf.arrayBuffer()).subarray(0, 5).toString(), '%PDF-');

    const receipt = (await outboxOf(t.s.app.ctx, h.customer.id)).find((m) => /^Top-up completed/.test(m.subject));
    assert.ok(receipt);
    assert.ok(receipt.text_body.includes(`/fatture/${invoice.id}/pdf`), receipt.text_body);

    const other = await holder({});
    for (const path of ['', '/xml', '/pdf']) assert.equal((await other.c.get(`/api/invoices/${invoice.id}${path}`)).status, 404);
    assert.deepEqual((await other.c.get('/api/invoices')).body.invoices, []);
  });

  test('R15.4: the simulator answers later: RC delivered, NS rejected and listed for the operator, corrected and sent again with the same number and date; MC not delivered', async () => {
    const delivered = await holder({});
    const rejected = await holder({ billingProfile: false });
    const notDelivered = await holder({ billingProfile: false });
    assert.equal((await rejected.c.put('/api/me/billing-profile', { ...BUSINESS_WITH_CODE, sdiCode: SIMULATOR_REJECTED_CODE })).status, 200);
    assert.equal((await notDelivered.c.put('/api/me/billing-profile', { ...BUSINESS_WITH_PEC, sdiPec: null, sdiCode: SIMULATOR_NOT_DELIVERED_CODE })).status, 200);
    const ids: string[] = [];
    for (const h of [delivered, rejected, notDelivered]) ids.push((await paidTopup(h.c, 2000)).invoiceId);

    await sdiRound(t.s.app.db, simulator());
    for (const [i, h] of [delivered, rejected, notDelivered].entries()) assert.equal((await h.c.get(`/api/invoices/${ids[i]}`)).body.invoice.sdiStatus, 'sent');
    await roundLater();
    assert.equal((await delivered.c.get(`/api/invoices/${ids[0]}`)).body.invoice.sdiStatus, 'delivered');
    const mc = (await notDelivered.c.get(`/api/invoices/${ids[2]}`)).body.invoice;
    assert.equal(mc.sdiStatus, 'not_delivered');
    assert.match(mc.sdiMessage, /cassetto fiscale/);
    const ns = (await rejected.c.get(`/api/invoices/${ids[1]}`)).body.invoice;
    assert.equal(ns.sdiStatus, 'rejected');
    assert.match(ns.sdiMessage, /00311/);

    // The operator's list of rejected invoices shows it with the reason.
    const listed = await t.op.get('/api/admin/invoices?from=2026-06-01&to=2026-06-30&status=rejected');
    assert.equal(listed.status, 200);
    const entry = listed.body.invoices.find((i: { id: string }) => i.id === ids[1]);
    assert.ok(entry, JSON.stringify(listed.body));
    assert.match(entry.sdiMessage, /00311/);
    assert.equal(entry.buyerName, BUSINESS_WITH_CODE.companyName);

    assert.equal((await t.op.post(`/api/admin/invoices/${ids[0]}/resend`, { reason: 'prova' })).status, 409, 'a delivered invoice is not sent again');
    assert.equal((await t.op.post(`/api/admin/invoices/${ids[1]}/resend`, {})).body.error.code, 'reason_required', 'R19: a staff action says why');
    const badFix = await t.op.post(`/api/admin/invoices/${ids[1]}/resend`, { buyer: { ...BUSINESS_WITH_CODE, sdiCode: 'AB' }, reason: 'codice destinatario corretto' });
    assert.equal(badFix.status, 422);
    assert.ok(badFix.body.error.fields['buyer.sdiCode']);
    const fixed = await t.op.post(`/api/admin/invoices/${ids[1]}/resend`, { buyer: BUSINESS_WITH_CODE, reason: 'codice destinatario corretto' });
    assert.equal(fixed.status, 200, JSON.stringify(fixed.body));
    assert.equal(fixed.body.invoice.sdiStatus, 'issued');
    assert.equal(fixed.body.invoice.number, ns.number);
    assert.equal(fixed.body.invoice.issuedOn, ns.issuedOn);
    assert.notEqual(fixed.body.invoice.fileName, ns.fileName, 'SdI refuses a file name it has seen');

    await sdiRound(t.s.app.db, simulator());
    await roundLater();
    const resent = (await rejected.c.get(`/api/invoices/${ids[1]}`)).body.invoice;
    assert.equal(resent.sdiStatus, 'delivered');
    assert.equal(resent.number, ns.number);
    const history = (await t.op.get(`/api/admin/invoices/${ids[1]}`)).body;
    assert.deepEqual(history.events.map((e: { status: string }) => e.status), ['issued', 'sent', 'rejected', 'issued', 'sent', 'delivered']);
    assert.equal(history.buyer.sdiCode, BUSINESS_WITH_CODE.sdiCode);
    const xml = await t.op.get(`/api/admin/invoices/${ids[1]}/xml`);
    assert.match(xml.body, /<CodiceDestinatario>M5UXCR1<\/CodiceDestinatario>/);
    assert.deepEqual(await schemaErrors(xml.body), []);
  });

  test('R15.6: the month\'s VAT register reconciles with the ledger\'s VAT account to the cent; the zip holds the month\'s files', async () => {
    const h = await holder({});
    for (const amount of [101, 333, 999, 12_345]) await paidTopup(h.c, amount);
    const invoices = (await t.op.get('/api/admin/invoices?from=2026-06-01&to=2026-06-30')).body.invoices;
    assert.ok(invoices.length >= 4);

    const csv = await fetch(`${t.s.baseUrl}/api/admin/invoices/register?month=2026-06`, { headers: { authorization: `Bearer ${t.s.operatorToken}` } });
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type')!, /^text\/csv/);
    const lines = (await csv.text()).trim().split('\r\n');
    assert.equal(lines[0], 'numero,data,cliente,partita_iva_o_codice_fiscale,imponibile,aliquota_iva,iva,totale,stato_sdi,natura,data_pagamento');
    const rows = lines.slice(1).filter((l) => /^2026\//.test(l));
    assert.equal(rows.length, invoices.length);
    const cents = (text: string) => Math.round(Number(text) * 100);
    const vatOfRows = rows.reduce((sum, l) => sum + cents(l.split(',').at(-5)!), 0);
    const total = lines.find((l) => l.startsWith('totale,'))!.split(',');
    const byRate = lines.find((l) => l.startsWith('totale aliquota 22.00'))!.split(',');
    const ledger = lines.find((l) => l.startsWith('iva_conto_contabile'))!.split(',');
    assert.equal(cents(total[6]!), vatOfRows);
    assert.equal(cents(byRate[6]!), vatOfRows);
    // R15: the invoices' VAT equals the ledger's VAT account for the period.
    const [ledgerVat] = await t.s.app.db.query<{ vat: number }>(
      `SELECT sum(amount_cents) AS vat FROM ledger_postings p JOIN ledger_transactions t ON t.id = p.transaction_id
        WHERE account = 'vat_payable' AND t.created_at >= '2026-06-01T00:00:00+02:00' AND t.created_at < '2026-07-01T00:00:00+02:00'`,
    );
    assert.equal(vatOfRows, Number(ledgerVat!.vat));
    assert.equal(cents(ledger[6]!), vatOfRows);
    assert.equal(invoices.reduce((s: number, i: { vatCents: number }) => s + i.vatCents, 0), vatOfRows);

    const zip = await fetch(`${t.s.baseUrl}/api/admin/invoices/export?month=2026-06`, { headers: { authorization: `Bearer ${t.s.operatorToken}` } });
    assert.equal(zip.status, 200);
    assert.equal(zip.headers.get('content-type'), 'application/zip');
    const files = unzipSync(new Uint8Array(await zip.arrayBuffer()));
    assert.deepEqual(Object.keys(files).sort(), invoices.map((i: { fileName: string }) => i.fileName).sort());
    const first = strFromU8(files[invoices[0].fileName]!);
    assert.deepEqual(await schemaErrors(first), []);
    assert.equal((await t.op.get('/api/admin/invoices/register?month=2026-13')).status, 422);
    const empty = await fetch(`${t.s.baseUrl}/api/admin/invoices/export?month=2025-01`, { headers: { authorization: `Bearer ${t.s.operatorToken}` } });
    assert.deepEqual(Object.keys(unzipSync(new Uint8Array(await empty.arrayBuffer()))), []);
  });
});
