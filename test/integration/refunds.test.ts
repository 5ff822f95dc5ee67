// R17 in the services, on both engines: refunds with credit notes, withdrawal, closing, charge-backs,
// exactly once under concurrency, retries and a crash between the gateway and the completion.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachEngine, type TestEngine } from '../support/engines.ts';
import { holderWithMailbox, outboxOf } from '../support/fixtures.ts';
import { BUSINESS_WITH_CODE } from '../support/billing.ts';
import { schemaErrors } from '../support/fatturapa-schema.ts';
import { clock } from '../../src/clock.ts';
import { applyPaymentOutcome, createTopup } from '../../src/services/billing/topups.ts';
import { invoiceDocument, listInvoices, readInvoice } from '../../src/services/billing/invoices.ts';
import { closeAccountRefund, recoverPendingRefunds, refundPayment, withdrawFromTopup, type RefundRow } from '../../src/services/billing/refunds.ts';
import { applyDispute, readDisputedAndDebt } from '../../src/services/billing/disputes.ts';
import { placeExtraSpaceOrder } from '../../src/services/billing/orders.ts';
import { saveBillingProfile } from '../../src/services/billing/billing-profiles.ts';
import { SYSTEM } from '../../src/services/audit.ts';
import { adjustCredit } from '../../src/services/billing/credit.ts';
import { DomainError } from '../../src/services/errors.ts';
import { readBalance } from '../../src/services/rows.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { testGateway } from '../../src/payments/test-gateway.ts';
import type { PaymentGateway } from '../../src/payments/gateway.ts';
import { fatturaPaXml } from '../../src/invoicing/fatturapa.ts';
import { monthRange, vatRegisterCsv } from '../../src/invoicing/register.ts';

const gateway = testGateway('secret', () => 'http://casella.test');
const operator = { kind: 'token' as const, id: 'op-test' };
let events = 0;

async function paidTopup(e: TestEngine, customerId: string, netCents: number) {
  const t = await createTopup(e.ctx, customerId, netCents, null, 'test');
  const applied = await applyPaymentOutcome(e.ctx, { gateway: 'test', eventId: `evt-${++events}-${t.id}`, topupId: t.id, outcome: 'succeeded' });
  assert.equal(applied.result, 'applied');
  return applied.topup!;
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof DomainError) return err.code;
    throw err;
  }
  return 'no refusal';
}

const gatewayRefunds = async (e: TestEngine, topupId: string) =>
  (await e.db.query<{ idempotency_key: string; charge_cents: number }>('SELECT idempotency_key, charge_cents FROM test_gateway_refunds WHERE topup_id = $1', [topupId])).map((r) => ({
    key: r.idempotency_key,
    chargeCents: Number(r.charge_cents),
  }));

async function vatAgrees(e: TestEngine) {
  const [row] = await e.db.query<{ documents: number; ledger: number }>(
    `SELECT (SELECT coalesce(sum(CASE WHEN document_type = 'TD04' THEN -vat_cents ELSE vat_cents END), 0) FROM invoices)::int8 AS documents,
            (SELECT coalesce(sum(amount_cents), 0) FROM ledger_postings WHERE account = 'vat_payable')::int8 AS ledger`,
  );
  assert.equal(Number(row!.documents), Number(row!.ledger), 'the documents\' VAT equals the ledger\'s');
  const report = await verifyLedger(e.db);
  assert.deepEqual(report.problems, []);
}

forEachEngine('R17 money back', (use) => {
  test('R17 refund: part of a payment goes back to the card; the wallet drops by the net; a TD04 cites the invoice and reverses net and VAT', async () => {
    const e = use();
    clock.setRome('2031-04-10T10:00');
    const { customer } = await holderWithMailbox(e.ctx, { expiresOn: '2031-12-01' });
    const topup = await paidTopup(e, customer.id, 10_000);
    clock.setRome('2031-04-12T09:00');
    const refund = await refundPayment(e.ctx, gateway, operator, topup.id, 2_500, 'servizio non reso', null);
    assert.deepEqual([refund.status, Number(refund.amount_cents), Number(refund.vat_cents), Number(refund.charge_cents)], ['succeeded', 2_500, 550, 3_050]);
    assert.equal(await readBalance(e.db, customer.id), 7_500);
    assert.deepEqual(await gatewayRefunds(e, topup.id), [{ key: refund.id, chargeCents: 3_050 }]);
    const invoices = await listInvoices(e.db, customer.id);
    assert.deepEqual(invoices.map((i) => [i.document_type, Number(i.net_cents), Number(i.vat_cents), Number(i.total_cents)]), [
      ['TD04', 2_500, 550, 3_050],
      ['TD01', 10_000, 2_200, 12_200],
    ]);
    const [note, invoice] = invoices as [(typeof invoices)[0], (typeof invoices)[0]];
    assert.equal(note.id, refund.credit_note_id);
    assert.equal(note.sequence, invoice.sequence + 1, 'numbered by the invoices\' counter, no gap');
    assert.equal(note.issued_on, '2031-04-12');
    assert.deepEqual([note.related_invoice_id, note.related_number, note.related_issued_on], [invoice.id, invoice.number, '2031-04-10']);
    const xml = fatturaPaXml(invoiceDocument(await readInvoice(e.db, customer.id, note.id)), 1);
    assert.match(xml, /<TipoDocumento>TD04<\/TipoDocumento>/);
    assert.match(xml, new RegExp(`<DatiFattureCollegate><IdDocumento>${invoice.number}</IdDocumento><Data>2031-04-10</Data></DatiFattureCollegate>`));
    assert.deepEqual(await schemaErrors(xml), []);
    const mail = (await outboxOf(e.ctx, customer.id)).find((m) => m.kind === 'refund_made');
    assert.match(mail!.subject, /^Rimborso effettuato: 30,50 €$/);
    // The register subtracts the credit note.
    let csv = '';
    for await (const chunk of vatRegisterCsv(e.db, monthRange('2031-04')!)) csv += chunk;
    assert.match(csv, new RegExp(`${note.number.replace('/', '\\/')},2031-04-12,.*,-25\\.00,22\\.00,-5\\.50,-30\\.50`));
    assert.match(csv, /totale aliquota 22\.00,,"1 fatture, 1 note di credito",,75\.00,22\.00,16\.50,91\.50/);
    await vatAgrees(e);
  });

  test('R17 refund bounds: never more than the payment has left nor the balance; the refund that empties it takes exactly the VAT left', async () => {
    const e = use();
    clock.setRome('2031-05-02T10:00');
    const { customer } = await holderWithMailbox(e.ctx, { expiresOn: '2031-12-01' });
    const topup = await paidTopup(e, customer.id, 1_001); // VAT 220 (220.22 rounded)
    assert.equal(await refusal(refundPayment(e.ctx, gateway, operator, topup.id, 1_002, 'troppo', null)), 'refund_not_allowed');
    assert.equal(await refusal(refundPayment(e.ctx, gateway, operator, topup.id, 500, '', null)), 'reason_required');
    const first = await refundPayment(e.ctx, gateway, operator, topup.id, 333, 'parte', null);
    const second = await refundPayment(e.ctx, gateway, operator, topup.id, 333, 'parte', null);
    const last = await refundPayment(e.ctx, gateway, operator, topup.id, 335, 'resto', null);
    assert.deepEqual([first, second, last].map((r) => Number(r.vat_cents)), [73, 73, 74]);
    assert.equal([first, second, last].reduce((s, r) => s + Number(r.vat_cents), 0), Number(topup.vat_cents));
    assert.equal(await refusal(refundPayment(e.ctx, gateway, operator, topup.id, 1, 'ancora', null)), 'refund_not_allowed');
    // Bounded by the balance too: credit spent is not given back.
    const other = await paidTopup(e, customer.id, 5_000);
    await e.db.query(`UPDATE wallets SET balance_cents = balance_cents WHERE customer_id = $1`, [customer.id]);
    const balance = await readBalance(e.db, customer.id);
    assert.equal(balance, 5_000);
    assert.equal(await refusal(refundPayment(e.ctx, gateway, operator, other.id, 5_001, 'troppo', null)), 'refund_not_allowed');
    await vatAgrees(e);
  });

  test('R17 exactly once: 12 concurrent refunds of one payment never exceed it; the same Idempotency-Key refunds once', async () => {
    const e = use();
    clock.setRome('2031-06-02T10:00');
    const { customer } = await holderWithMailbox(e.ctx, { expiresOn: '2031-12-01' });
    const topup = await paidTopup(e, customer.id, 10_000);
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => refundPayment(e.ctx, gateway, operator, topup.id, 1_500, 'parallelo', null)));
    const made = results.filter((r): r is PromiseFulfilledResult<RefundRow> => r.status === 'fulfilled').map((r) => r.value);
    const refused = results.filter((r) => r.status === 'rejected').map((r) => ((r as PromiseRejectedResult).reason as DomainError).code);
    assert.equal(made.length, 6);
    assert.deepEqual(new Set(refused), new Set(['refund_not_allowed']));
    assert.equal((await gatewayRefunds(e, topup.id)).reduce((s, r) => s + r.chargeCents, 0), 6 * 1_830);
    const key = { scope: 'operator:op-test', key: 'k-1', hash: 'h-1' };
    const again = await Promise.all([1, 2, 3].map(() => refundPayment(e.ctx, gateway, operator, topup.id, 100, 'chiave', key)));
    assert.equal(new Set(again.map((r) => r.id)).size, 1);
    assert.equal(await refusal(refundPayment(e.ctx, gateway, operator, topup.id, 200, 'chiave', { ...key, hash: 'h-2' })), 'idempotency_conflict');
    assert.equal(await readBalance(e.db, customer.id), 10_000 - 9_000 - 100);
    await vatAgrees(e);
  });

  test('R17 crash between the gateway and the completion: the refund stays pending, no credit note; recovery completes it once', async () => {
    const e = use();
    clock.setRome('2031-07-02T10:00');
    const { customer } = await holderWithMailbox(e.ctx, { expiresOn: '2031-12-01' });
    const topup = await paidTopup(e, customer.id, 4_000);
    // The gateway refunds, then the process "dies" before Casella hears the answer.
    const dying: PaymentGateway = { ...gateway, refund: async (db, r) => (await gateway.refund(db, r), Promise.reject(new Error('killed'))) };
    const pending = await refundPayment(e.ctx, dying, operator, topup.id, 1_000, 'crash', null);
    assert.equal(pending.status, 'pending');
    assert.equal(await readBalance(e.db, customer.id), 3_000, 'the net is held at once');
    assert.equal((await listInvoices(e.db, customer.id)).filter((i) => i.document_type === 'TD04').length, 0);
    assert.deepEqual((await verifyLedger(e.db)).problems, []);
    assert.equal(await recoverPendingRefunds(e.ctx, gateway, { everyPending: true }), 1);
    assert.equal(await recoverPendingRefunds(e.ctx, gateway, { everyPending: true }), 0);
    assert.equal((await gatewayRefunds(e, topup.id)).length, 1, 'the gateway refunded once');
    const notes = (await listInvoices(e.db, customer.id)).filter((i) => i.document_type === 'TD04');
    assert.equal(notes.length, 1);
    // A gateway that refuses for good: the held net comes back.
    const refusing: PaymentGateway = { ...gateway, refund: async () => ({ status: 'failed', gatewayRefundId: null, failureCode: 'charge_expired' }) };
    const failed = await refundPayment(e.ctx, refusing, operator, topup.id, 500, 'rifiutato', null);
    assert.equal(failed.status, 'failed');
    assert.equal(await readBalance(e.db, customer.id), 3_000);
    await vatAgrees(e);
  });

  test('R17 withdrawal: a person takes back the unspent part within 14 days, once; a business or the 15th day is refused', async () => {
    const e = use();
    clock.setRome('2031-08-01T10:00');
    const { customer, mailbox } = await holderWithMailbox(e.ctx, { expiresOn: '2031-12-01' });
    const topup = await paidTopup(e, customer.id, 2_000);
    const bought = await placeExtraSpaceOrder(e.ctx, customer.id, mailbox.id, 1, undefined);
    const spent = Number(bought.order.amount_cents);
    assert.ok(spent > 0 && spent < 2_000);
    clock.setRome('2031-08-15T22:00'); // the 14th day after the payment
    const w = await withdrawFromTopup(e.ctx, gateway, customer.id, topup.id, null);
    assert.deepEqual([w.kind, w.status, Number(w.amount_cents)], ['withdrawal', 'succeeded', 2_000 - spent]);
    assert.equal(await readBalance(e.db, customer.id), 0);
    assert.equal(await refusal(withdrawFromTopup(e.ctx, gateway, customer.id, topup.id, null)), 'withdrawal_not_allowed');
    const late = await paidTopup(e, customer.id, 1_000);
    clock.setRome('2031-08-30T10:00'); // 15 days on
    assert.equal(await refusal(withdrawFromTopup(e.ctx, gateway, customer.id, late.id, null)), 'withdrawal_not_allowed');
    const business = await holderWithMailbox(e.ctx, { expiresOn: '2031-12-01' });
    await saveBillingProfile(e.ctx, SYSTEM, business.customer.id, BUSINESS_WITH_CODE);
    const b = await paidTopup(e, business.customer.id, 1_000);
    assert.equal(await refusal(withdrawFromTopup(e.ctx, gateway, business.customer.id, b.id, null)), 'withdrawal_not_allowed');
    assert.equal(await refusal(withdrawFromTopup(e.ctx, gateway, business.customer.id, topup.id, null)), 'not_found');
    await vatAgrees(e);
  });

  test('R17 closing: refused while a mailbox is not terminated; then the balance goes back to the payments, newest first; a second closing changes nothing', async () => {
    const e = use();
    clock.setRome('2031-09-01T10:00');
    const { customer, mailbox } = await holderWithMailbox(e.ctx, { expiresOn: '2031-12-01' });
    const older = await paidTopup(e, customer.id, 3_000);
    clock.setRome('2031-09-02T10:00');
    const newer = await paidTopup(e, customer.id, 1_000);
    await placeExtraSpaceOrder(e.ctx, customer.id, mailbox.id, 1, undefined);
    const balance = await readBalance(e.db, customer.id);
    assert.equal(await refusal(closeAccountRefund(e.ctx, gateway, operator, customer.id, 'chiusura')), 'refund_not_allowed');
    await e.db.query(`UPDATE mailboxes SET status = 'terminated' WHERE id = $1`, [mailbox.id]);
    const refunds = await closeAccountRefund(e.ctx, gateway, operator, customer.id, 'chiusura');
    assert.deepEqual(refunds.map((r) => [r.topup_id, Number(r.amount_cents), r.status]), [
      [newer.id, 1_000, 'succeeded'],
      [older.id, balance - 1_000, 'succeeded'],
    ]);
    assert.equal(await readBalance(e.db, customer.id), 0);
    const again = await closeAccountRefund(e.ctx, gateway, operator, customer.id, 'chiusura');
    assert.deepEqual(new Set(again.map((r) => r.id)), new Set(refunds.map((r) => r.id)));
    await vatAgrees(e);
  });

  test('R17 charge-back: opened freezes the credit at once, won gives it back, lost turns what was spent into a debt the next top-up pays first', async () => {
    const e = use();
    clock.setRome('2031-10-01T10:00');
    const { customer, mailbox } = await holderWithMailbox(e.ctx, { expiresOn: '2032-09-01' });
    const disputed = await paidTopup(e, customer.id, 2_000);
    const notice = (status: 'opened' | 'won' | 'lost', topupId = disputed.id) => ({ gateway: 'test', eventId: `d-${++events}`, topupId, paymentReference: null, status });
    const opened = notice('opened');
    assert.equal((await applyDispute(e.ctx, opened)).result, 'applied');
    assert.equal((await applyDispute(e.ctx, opened)).result, 'duplicate_event');
    assert.equal(await readBalance(e.db, customer.id), 0, 'nothing left to spend');
    assert.deepEqual(await readDisputedAndDebt(e.db, customer.id), { disputedCents: 2_000, debtCents: 0 });
    const order = await placeExtraSpaceOrder(e.ctx, customer.id, mailbox.id, 1, undefined);
    assert.equal(order.order.status, 'awaiting_topup', 'no purchase is paid from disputed credit');
    assert.equal(await refusal(refundPayment(e.ctx, gateway, operator, disputed.id, 100, 'no', null)), 'refund_not_allowed');
    await applyDispute(e.ctx, notice('won'));
    assert.equal(await readBalance(e.db, customer.id), 2_000);
    assert.deepEqual(await readDisputedAndDebt(e.db, customer.id), { disputedCents: 0, debtCents: 0 });
    // A second payment, mostly spent, then disputed and lost.
    await e.db.query(`UPDATE orders SET status = 'cancelled' WHERE customer_id = $1 AND status = 'awaiting_topup'`, [customer.id]);
    const second = await paidTopup(e, customer.id, 1_000);
    await adjustCredit(e.ctx, SYSTEM, customer.id, -(await readBalance(e.db, customer.id)) + 400, 'spesa');
    const balanceBefore = await readBalance(e.db, customer.id);
    await applyDispute(e.ctx, notice('opened', second.id));
    const frozen = Math.min(1_000, balanceBefore);
    assert.equal(await readBalance(e.db, customer.id), balanceBefore - frozen);
    await applyDispute(e.ctx, notice('lost', second.id));
    const debt = 1_000 - frozen;
    assert.deepEqual(await readDisputedAndDebt(e.db, customer.id), { disputedCents: 0, debtCents: debt });
    const notes = (await listInvoices(e.db, customer.id)).filter((i) => i.document_type === 'TD04');
    assert.deepEqual(notes.map((n) => [Number(n.net_cents), Number(n.vat_cents)]), [[1_000, 220]], 'the reversed payment\'s invoice is annulled');
    const balanceAfterLoss = await readBalance(e.db, customer.id);
    await paidTopup(e, customer.id, 5_000);
    assert.equal(await readBalance(e.db, customer.id), balanceAfterLoss + 5_000 - debt, 'the next top-up pays the debt first');
    assert.deepEqual(await readDisputedAndDebt(e.db, customer.id), { disputedCents: 0, debtCents: 0 });
    await vatAgrees(e);
  });
});
