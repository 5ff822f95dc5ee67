// R17 through the HTTP API and the pages: an operator's refund and its credit note on the holder's
// Fatture, the holder's withdrawal (API and the `Recedi` button), closing, and the test gateway's
// charge-back notifications with disputedCents/debtCents in GET /api/me and the banner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, forEachServer, provisionHolder } from '../support/http.ts';
import { outboxOf } from '../support/fixtures.ts';
import { BUSINESS_WITH_CODE } from '../support/billing.ts';

const GOOD_CARD = '4242424242424242';

forEachServer('R17 money back over HTTP', (t) => {
  const holder = async (opts: Parameters<typeof provisionHolder>[1] = {}) => {
    const h = await provisionHolder(t.op, { expiresOn: '2027-03-01', ...opts });
    const c = new Client(t.s.baseUrl);
    assert.equal((await c.login(h.mailbox.address, h.password)).status, 200);
    return { ...h, c };
  };
  const paidTopup = async (c: Client, amountCents: number) => {
    const started = await c.post('/api/credit/topups', { amountCents });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const paid = await fetch(started.body.topup.checkoutUrl, { method: 'POST', body: new URLSearchParams({ cardNumber: GOOD_CARD, expiry: '12/34', cvc: '123' }), redirect: 'manual' });
    assert.equal(paid.status, 303);
    return (await c.get(`/api/credit/topups/${started.body.topup.id}`)).body.topup;
  };
  const dispute = (topupId: string, status: string) =>
    fetch(`${t.s.baseUrl}/test-gateway/disputes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ topupId, status }) });

  test('R17: an operator refunds part of a payment; the refund, the top-up and the TD04 on the holder\'s Fatture say so; bounds answer 409 refund_not_allowed', async () => {
    const h = await holder();
    const topup = await paidTopup(h.c, 5_000);
    const key = { 'idempotency-key': 'refund-1' };
    const made = await t.op.post(`/api/admin/topups/${topup.id}/refunds`, { amountCents: 2_000, reason: 'disservizio' }, key);
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const refund = made.body.refund;
    assert.deepEqual([refund.amountCents, refund.vatCents, refund.chargeCents, refund.kind, refund.status], [2_000, 440, 2_440, 'refund', 'succeeded']);
    const again = await t.op.post(`/api/admin/topups/${topup.id}/refunds`, { amountCents: 2_000, reason: 'disservizio' }, key);
    assert.equal(again.body.refund.id, refund.id, 'the same Idempotency-Key refunds once');
    assert.equal((await t.op.post(`/api/admin/topups/${topup.id}/refunds`, { amountCents: 1_000, reason: 'altro' }, key)).body.error.code, 'idempotency_conflict');
    const tooMuch = await t.op.post(`/api/admin/topups/${topup.id}/refunds`, { amountCents: 3_001, reason: 'troppo' });
    assert.deepEqual([tooMuch.status, tooMuch.body.error.code], [409, 'refund_not_allowed']);
    assert.equal((await t.op.post(`/api/admin/topups/${topup.id}/refunds`, { amountCents: 100 })).body.error.code, 'reason_required');
    assert.equal((await h.c.get(`/api/credit/topups/${topup.id}`)).body.topup.refundedCents, 2_000);
    assert.equal((await h.c.get('/api/me')).body.credit.balanceCents, 3_000);
    assert.deepEqual((await h.c.get('/api/refunds')).body.refunds.map((r: any) => r.id), [refund.id]);
    const invoices = (await h.c.get('/api/invoices')).body.invoices;
    assert.deepEqual(invoices.map((i: any) => [i.documentType, i.totalCents]), [['TD04', 2_440], ['TD01', 6_100]]);
    assert.equal(invoices[0].id, refund.creditNoteId);
    assert.equal(invoices[0].relatedInvoiceId, invoices[1].id);
    assert.match((await h.c.get(`/api/invoices/${refund.creditNoteId}/xml`)).body, /<TipoDocumento>TD04<\/TipoDocumento>/);
    const fatture = await h.c.get('/fatture');
    assert.match(fatture.body, new RegExp(invoices[0].number.replace('/', '\\/')));
    assert.ok((await outboxOf(t.s.app.ctx, h.customer.id)).some((m) => m.subject.startsWith('Rimborso effettuato')));
    assert.equal((await t.op.get('/api/admin/ledger/verify')).body.ok, true);
  });

  test('R17 withdrawal: a person withdraws from the credit page with `Recedi`; a business gets 409 withdrawal_not_allowed', async () => {
    const h = await holder();
    const topup = await paidTopup(h.c, 3_000);
    const page = await h.c.get('/credit');
    assert.match(page.body, /Recedi/);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const once = /name="_once" value="([^"]+)"/.exec(page.body)?.[1];
    const form = new URLSearchParams({ _csrf: csrf, ...(once ? { _once: once } : {}) });
    const posted = await h.c.request('POST', `/credit/topups/${topup.id}/withdrawal`, form.toString(), { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(posted.status, 303, posted.body);
    const refunds = (await h.c.get('/api/refunds')).body.refunds;
    assert.deepEqual(refunds.map((r: any) => [r.kind, r.amountCents, r.status]), [['withdrawal', 3_000, 'succeeded']]);
    assert.doesNotMatch((await h.c.get('/credit')).body, /Recedi/);
    const again = await h.c.post(`/api/credit/topups/${topup.id}/withdrawal`, {});
    assert.deepEqual([again.status, again.body.error.code], [409, 'withdrawal_not_allowed']);

    const b = await holder();
    assert.equal((await b.c.put('/api/me/billing-profile', BUSINESS_WITH_CODE)).status, 200);
    const bt = await paidTopup(b.c, 1_000);
    assert.equal((await b.c.post(`/api/credit/topups/${bt.id}/withdrawal`, {})).body.error.code, 'withdrawal_not_allowed');
    assert.doesNotMatch((await b.c.get('/credit')).body, /Recedi/);
  });

  test('R17 closing: 409 while a mailbox is active; once terminated, the balance goes back to the card payments', async () => {
    const h = await holder();
    await paidTopup(h.c, 1_000);
    await paidTopup(h.c, 2_000);
    const refused = await t.op.post(`/api/admin/customers/${h.customer.id}/closing-refund`, { reason: 'chiusura' });
    assert.deepEqual([refused.status, refused.body.error.code], [409, 'refund_not_allowed']);
    await t.s.app.db.query(`UPDATE mailboxes SET status = 'terminated' WHERE customer_id = $1`, [h.customer.id]);
    const closed = await t.op.post(`/api/admin/customers/${h.customer.id}/closing-refund`, { reason: 'chiusura' });
    assert.equal(closed.status, 201, JSON.stringify(closed.body));
    assert.deepEqual(closed.body.refunds.map((r: any) => [r.kind, r.amountCents]), [['closing', 2_000], ['closing', 1_000]]);
    assert.equal((await t.op.get(`/api/admin/customers/${h.customer.id}`)).body.credit.balanceCents, 0);
    assert.equal((await t.op.get(`/api/admin/customers/${h.customer.id}/refunds`)).body.refunds.length, 2);
  });

  test('R17 charge-back: the test gateway\'s dispute freezes the credit, shown apart in GET /api/me with a banner; lost leaves a debt the next top-up pays', async () => {
    const h = await holder();
    const topup = await paidTopup(h.c, 2_000);
    assert.equal((await t.op.post(`/api/admin/customers/${h.customer.id}/credit-adjustments`, { amountCents: -1_500, reason: 'spesa simulata' })).status, 201);
    assert.equal((await dispute(topup.id, 'opened')).status, 204);
    assert.deepEqual((await h.c.get('/api/me')).body.credit, { balanceCents: 0, currency: 'EUR', disputedCents: 500, debtCents: 0 });
    assert.match((await h.c.get('/')).body, /contestato/);
    assert.equal((await dispute(topup.id, 'lost')).status, 204);
    assert.deepEqual((await h.c.get('/api/me')).body.credit, { balanceCents: 0, currency: 'EUR', disputedCents: 0, debtCents: 1_500 });
    assert.equal((await h.c.get(`/api/credit/topups/${topup.id}`)).body.topup.dispute, 'lost');
    assert.match((await h.c.get('/credit')).body, /debito/);
    await paidTopup(h.c, 2_000);
    assert.deepEqual((await h.c.get('/api/me')).body.credit, { balanceCents: 500, currency: 'EUR', disputedCents: 0, debtCents: 0 });
    assert.equal((await dispute('top_nope', 'opened')).status, 404);
    assert.equal((await dispute(topup.id, 'maybe')).status, 422);
    assert.equal((await t.op.get('/api/admin/ledger/verify')).body.ok, true);
  });
});
