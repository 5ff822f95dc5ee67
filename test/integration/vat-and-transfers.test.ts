// R16 VAT by buyer, R17 bank transfers and R15 "numbers follow dates" in the services, on both
// engines: what a German or Swiss company is charged and invoiced, a transfer recorded exactly as a
// card payment (once, for its amount, before it expires), payments across midnight and New Year,
// and, after every test, a ledger that verifies and a register whose VAT is the ledger's.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachEngine } from '../support/engines.ts';
import { holderWithMailbox, outboxOf } from '../support/fixtures.ts';
import { schemaErrors } from '../support/fatturapa-schema.ts';
import { clock } from '../../src/clock.ts';
import { applyPaymentOutcome, createTopup, recordBankTransfer, readTopup, type PaymentOutcome } from '../../src/services/billing/topups.ts';
import { invoiceDocument, readInvoice, type InvoiceRow } from '../../src/services/billing/invoices.ts';
import { saveBillingProfile } from '../../src/services/billing/billing-profiles.ts';
import { placeExtraSpaceOrder } from '../../src/services/billing/orders.ts';
import { runDailyJob } from '../../src/services/daily.ts';
import { SYSTEM } from '../../src/services/audit.ts';
import { DomainError } from '../../src/services/errors.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { fatturaPaXml } from '../../src/invoicing/fatturapa.ts';
import { monthRange, vatRegisterCsv } from '../../src/invoicing/register.ts';
import { formatBankReference } from '../../src/domain/bank-transfer.ts';
import type { TestEngine } from '../support/engines.ts';

const GERMAN_COMPANY = { kind: 'business', companyName: 'Müller GmbH', vatNumber: 'DE123456789', address: { street: 'Hauptstraße', streetNumber: '5', postalCode: '10115', city: 'Berlin', country: 'DE' } };
const SWISS_COMPANY = { kind: 'business', companyName: 'Käse AG', vatNumber: 'CHE-123.456.789', address: { street: 'Bahnhofstrasse', postalCode: '8001', city: 'Zürich', country: 'CH' } };
const OPERATOR = { kind: 'token' as const, id: 'op_test' };

let eventCounter = 0;
const pay = (topupId: string, paidAt: Date | null = null): PaymentOutcome => ({ gateway: 'test', eventId: `evt-${++eventCounter}-${topupId}`, topupId, outcome: 'succeeded', paidAt });

const refusal = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (err) {
    if (err instanceof DomainError) return err.code;
    throw err;
  }
  return 'no refusal';
};

forEachEngine('R16, R17 bank transfers, R15 numbers follow dates', (use) => {
  const holder = async (profile: Record<string, unknown> | null = null, opts: { creditCents?: number } = {}) => {
    const h = await holderWithMailbox(use().ctx, { expiresOn: clock.today().add({ months: 6 }).toString(), ...opts });
    if (profile) await saveBillingProfile(use().ctx, SYSTEM, h.customer.id, profile);
    return h;
  };
  const invoiceOf = async (topupId: string): Promise<InvoiceRow> => {
    const t = await readTopup(use().ctx, null, topupId);
    return readInvoice(use().db, null, t.invoice_id!);
  };

  /** The register's VAT, group by group and in all, equals the ledger's VAT account for the month (R15, R16). */
  const registerAgreesWithLedger = async (month: string) => {
    let csv = '';
    for await (const chunk of vatRegisterCsv(use().db, monthRange(month)!)) csv += chunk;
    const lines = csv.trim().split('\r\n');
    const vatOf = (prefix: string) => lines.find((l) => l.startsWith(`${prefix},`))?.split(',')[6] ?? null;
    const groups = lines.filter((l) => l.startsWith('totale ')).map((l) => l.split(',')[0]!.slice('totale '.length));
    for (const group of groups) assert.equal(vatOf(`iva_conto_contabile ${group}`), vatOf(`totale ${group}`), `${month} ${group}`);
    assert.equal(vatOf('iva_conto_contabile'), vatOf('totale'), month);
    return lines;
  };

  afterEach(async () => {
    const report = await verifyLedger(use().db);
    assert.deepEqual(report.problems, []);
    assert.ok(report.ok);
  });

  test('R16: the audit\'s German company tops up 12,34 €: charged 12,34 €, reverse charge, N2.1 invoice with "inversione contabile", XXXXXXX and IdPaese DE', async () => {
    const { ctx } = use();
    clock.setRome('2031-04-10T10:00');
    const { customer } = await holder(GERMAN_COMPANY);
    const topup = await createTopup(ctx, customer.id, 1234, null, 'test');
    assert.deepEqual([topup.amount_cents, topup.vat_cents, topup.charge_cents, topup.vat_treatment], [1234, 0, 1234, 'reverse_charge']);
    await applyPaymentOutcome(ctx, pay(topup.id));
    const invoice = await invoiceOf(topup.id);
    assert.deepEqual([invoice.net_cents, invoice.vat_cents, invoice.total_cents, invoice.vat_rate_basis_points, invoice.natura, invoice.vat_treatment], [1234, 0, 1234, 0, 'N2.1', 'reverse_charge']);
    const xml = fatturaPaXml(invoiceDocument(invoice), invoice.transmission_seq);
    assert.deepEqual(await schemaErrors(xml), []);
    assert.match(xml, /<CodiceDestinatario>XXXXXXX<\/CodiceDestinatario>/);
    assert.match(xml, /<CessionarioCommittente><DatiAnagrafici><IdFiscaleIVA><IdPaese>DE<\/IdPaese><IdCodice>123456789<\/IdCodice>/);
    assert.match(xml, /<Natura>N2\.1<\/Natura><ImponibileImporto>12\.34<\/ImponibileImporto><Imposta>0\.00<\/Imposta><RiferimentoNormativo>inversione contabile, art\. 7-ter DPR 633\/72<\/RiferimentoNormativo>/);
    const receipt = (await outboxOf(ctx, customer.id)).find((m) => m.subject.startsWith('Ricarica effettuata'))!;
    assert.match(receipt.text_body, /12,34 €/);
    assert.doesNotMatch(receipt.text_body, /15,05/);
    assert.match(receipt.text_body, /non applicata \(inversione contabile/);
  });

  test('R16: a Swiss company pays no Italian VAT (not subject); an Italian holder pays 22 %; the register totals each rate and each Natura apart and matches the ledger', async () => {
    const { ctx } = use();
    clock.setRome('2031-05-10T10:00');
    const swiss = await holder(SWISS_COMPANY);
    const italian = await holder();
    const german = await holder(GERMAN_COMPANY);
    const paid = [];
    for (const [h, amount] of [[swiss, 10_000], [italian, 1234], [german, 500], [italian, 999]] as const) {
      const t = await createTopup(ctx, h.customer.id, amount, null, 'test');
      await applyPaymentOutcome(ctx, pay(t.id));
      paid.push(await invoiceOf(t.id));
    }
    assert.deepEqual(paid.map((i) => [i.vat_treatment, i.vat_cents, i.natura]), [['not_subject', 0, 'N2.1'], ['standard', 271, null], ['reverse_charge', 0, 'N2.1'], ['standard', 220, null]]);
    const swissXml = fatturaPaXml(invoiceDocument(paid[0]!), paid[0]!.transmission_seq);
    assert.deepEqual(await schemaErrors(swissXml), []);
    assert.match(swissXml, /<IdPaese>CH<\/IdPaese><IdCodice>CHE123456789<\/IdCodice>/);
    assert.match(swissXml, /operazione non soggetta, art\. 7-ter DPR 633\/72/);
    const lines = await registerAgreesWithLedger('2031-05');
    const total = (label: string) => lines.find((l) => l.startsWith(`totale ${label},`))!.split(',');
    assert.deepEqual(total('aliquota 22.00').slice(4, 8), ['22.33', '22.00', '4.91', '27.24']);
    assert.deepEqual(total('natura N2.1 inversione contabile').slice(4, 10), ['5.00', '0.00', '0.00', '5.00', '', 'N2.1']);
    assert.deepEqual(total('natura N2.1 non soggetta').slice(4, 10), ['100.00', '0.00', '0.00', '100.00', '', 'N2.1']);
  });

  test('R15: a payment made at 23:59:58 on 31 December and notified after midnight is invoiced in the new year, and says it was paid on 31 December', async () => {
    const { ctx } = use();
    clock.setRome('2032-12-31T23:50');
    const { customer } = await holder();
    const topup = await createTopup(ctx, customer.id, 1000, null, 'test');
    clock.setRome('2032-12-31T23:59:58');
    const paidAt = clock.now();
    clock.setRome('2033-01-01T00:00:03');
    await applyPaymentOutcome(ctx, pay(topup.id, paidAt));
    const invoice = await invoiceOf(topup.id);
    assert.deepEqual([invoice.number, invoice.issued_on, invoice.payment_date], ['2033/000001', '2033-01-01', '2032-12-31']);
    const xml = fatturaPaXml(invoiceDocument(invoice), invoice.transmission_seq);
    assert.deepEqual(await schemaErrors(xml), []);
    assert.match(xml, /<Data>2033-01-01<\/Data>/);
    assert.match(xml, /<DataScadenzaPagamento>2032-12-31<\/DataScadenzaPagamento>/);
    assert.match(xml, /Pagata con carta di pagamento il 2032-12-31/);
    assert.equal((await readTopup(ctx, null, topup.id)).paid_at!.getTime(), paidAt.getTime());
    await registerAgreesWithLedger('2032-12');
    await registerAgreesWithLedger('2033-01');
  });

  /**
   * A payment that starts at `before` and waits for a lock (`lockSql`, held by something else) while
   * the clock passes midnight to `after`, where another payment is made first (PostgreSQL only: the
   * embedded engine runs one transaction at a time, so nothing waits).
   */
  const raceAcrossMidnight = async (before: string, after: string, lock: 'wallet' | 'counter') => {
    const { ctx, db } = use();
    clock.setRome(before);
    const slow = await holder();
    const fast = await holder();
    const slowTopup = await createTopup(ctx, slow.customer.id, 1000, null, 'test');
    const fastTopup = await createTopup(ctx, fast.customer.id, 1000, null, 'test');
    const year = clock.today().year;
    await db.query('INSERT INTO invoice_counters (year, last_number) VALUES ($1, 0) ON CONFLICT DO NOTHING', [year]);
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked = () => {};
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holding = db.transaction(async (tx) => {
      if (lock === 'wallet') await tx.query('SELECT 1 FROM wallets WHERE customer_id = $1 FOR UPDATE', [slow.customer.id]);
      else await tx.query('SELECT 1 FROM invoice_counters WHERE year = $1 FOR UPDATE', [year]);
      locked();
      await held;
    });
    await isLocked;
    const paidAt = clock.now();
    const slowPayment = applyPaymentOutcome(ctx, pay(slowTopup.id, paidAt));
    // Wait (bounded) until the slow payment is blocked on that lock.
    for (let i = 0; i < 1000; i++) {
      const [w] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`);
      if (w!.n > 0) break;
      await new Promise((r) => setImmediate(r));
    }
    clock.setRome(after);
    // With the counter held, the fast payment waits too, unless the year has turned.
    const fastPayment = applyPaymentOutcome(ctx, pay(fastTopup.id, clock.now()));
    if (lock === 'wallet' || clock.today().year !== year) await fastPayment;
    release();
    await holding;
    await Promise.all([slowPayment, fastPayment]);
    return { fast: await invoiceOf(fastTopup.id), slow: await invoiceOf(slowTopup.id), paidOn: dateOf(paidAt) };
  };
  const dateOf = (at: Date) => new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Rome' }).format(at);

  test('R15: a payment that starts before midnight and waits gets a number after one made after midnight, and their dates follow the numbers', async (t) => {
    if (use().name !== 'postgres') return t.skip('the embedded engine runs one transaction at a time: nothing waits');
    const { fast, slow, paidOn } = await raceAcrossMidnight('2034-03-10T23:59:59', '2034-03-11T00:00:01', 'wallet');
    assert.ok(slow.sequence > fast.sequence);
    assert.ok(slow.issued_on >= fast.issued_on, `number ${slow.number} dated ${slow.issued_on} comes after ${fast.number} dated ${fast.issued_on}`);
    assert.deepEqual([slow.issued_on, slow.payment_date, paidOn], ['2034-03-11', '2034-03-10', '2034-03-10'], 'the day it was paid is still stated');
    await registerAgreesWithLedger('2034-03');
  });

  test('R15: across New Year, a payment of 31 December that waits is numbered in the new year after the first one of 1 January, and says when it was paid', async (t) => {
    if (use().name !== 'postgres') return t.skip('the embedded engine runs one transaction at a time: nothing waits');
    const { fast, slow } = await raceAcrossMidnight('2038-12-31T23:59:59', '2039-01-01T00:00:01', 'wallet');
    assert.deepEqual([fast.number, fast.issued_on], ['2039/000001', '2039-01-01']);
    assert.deepEqual([slow.number, slow.issued_on, slow.payment_date], ['2039/000002', '2039-01-01', '2038-12-31']);
    await registerAgreesWithLedger('2038-12');
    await registerAgreesWithLedger('2039-01');
  });

  test('R15: a payment waiting for the year\'s counter while the year turns takes the new year\'s number and date', async (t) => {
    if (use().name !== 'postgres') return t.skip('the embedded engine runs one transaction at a time: nothing waits');
    const { fast, slow } = await raceAcrossMidnight('2040-12-31T23:59:59', '2041-01-01T00:00:01', 'counter');
    assert.equal(fast.year, 2041);
    assert.equal(slow.year, 2041);
    assert.equal(slow.issued_on, '2041-01-01');
    assert.equal(slow.payment_date, '2040-12-31');
    const [counter2040] = await use().db.query<{ last_number: number }>('SELECT last_number FROM invoice_counters WHERE year = 2040');
    assert.equal(counter2040!.last_number, 0, 'no number of 2040 was used');
    await registerAgreesWithLedger('2041-01');
  });

  test('R17: a bank transfer is credited and invoiced as a card payment, once, for its amount; unknown references are 404; the waiting order settles on it', async () => {
    const { ctx } = use();
    clock.setRome('2035-02-02T09:00');
    const { customer, mailbox } = await holder(GERMAN_COMPANY);
    const placed = await placeExtraSpaceOrder(ctx, customer.id, mailbox.id, 2);
    assert.equal(placed.order.status, 'awaiting_topup');
    const topup = await createTopup(ctx, customer.id, 600, placed.order.id, 'test', 'bank_transfer');
    assert.deepEqual([topup.status, topup.method, topup.charge_cents, topup.bank_expires_on, topup.gateway], ['pending', 'bank_transfer', 600, '2035-02-12', 'bank_transfer']);
    assert.equal(await refusal(applyPaymentOutcome(ctx, { ...pay(topup.id), gateway: 'test' }).then((r) => (r.result === 'unknown_topup' ? Promise.reject(new DomainError('not_found', 'x')) : r))), 'not_found', 'no card notification can pay a transfer');
    const reference = formatBankReference(topup.bank_reference!);

    clock.setRome('2035-02-02T15:00');
    assert.equal(await refusal(recordBankTransfer(ctx, OPERATOR, { reference, chargeCents: 601, receivedOn: '2035-02-02', reason: 'estratto conto' })), 'amount_mismatch');
    assert.equal(await refusal(recordBankTransfer(ctx, OPERATOR, { reference: 'CAS-AAAA-AAAA', chargeCents: 600, receivedOn: '2035-02-02', reason: 'estratto conto' })), 'not_found');
    assert.equal(await refusal(recordBankTransfer(ctx, OPERATOR, { reference, chargeCents: 600, receivedOn: '2035-02-02', reason: ' ' })), 'reason_required');
    // An instant transfer of the 2nd, recorded the next morning (the order waits 24 hours, R5): the
    // invoice is dated the 3rd and says it was paid on the 2nd.
    clock.setRome('2035-02-03T08:30');
    const succeeded = await recordBankTransfer(ctx, OPERATOR, { reference: reference.toLowerCase(), chargeCents: 600, receivedOn: '2035-02-02', reason: 'estratto conto del 2 febbraio' });
    assert.equal(succeeded.status, 'succeeded');
    assert.deepEqual(succeeded.settled_order_ids, [placed.order.id]);
    assert.equal(await refusal(recordBankTransfer(ctx, OPERATOR, { reference, chargeCents: 600, receivedOn: '2035-02-02', reason: 'again' })), 'topup_not_pending');
    const invoice = await invoiceOf(topup.id);
    assert.deepEqual([invoice.issued_on, invoice.payment_date, invoice.payment_method, invoice.natura, invoice.total_cents], ['2035-02-03', '2035-02-02', 'bank_transfer', 'N2.1', 600]);
    const xml = fatturaPaXml(invoiceDocument(invoice), invoice.transmission_seq);
    assert.deepEqual(await schemaErrors(xml), []);
    assert.match(xml, /<ModalitaPagamento>MP05<\/ModalitaPagamento>/);
    const [entry] = await ctx.db.query<{ actor_kind: string; reason: string; after: { invoiceId: string } }>(`SELECT actor_kind, reason, after FROM audit_log WHERE action = 'bank_transfer.record' AND entity_id = $1`, [topup.id]);
    assert.deepEqual([entry!.actor_kind, entry!.reason, entry!.after.invoiceId], ['token', 'estratto conto del 2 febbraio', invoice.id]);
    const [credited] = await ctx.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ledger_transactions WHERE topup_id = $1`, [topup.id]);
    assert.equal(credited!.n, 1);
    const receipt = (await outboxOf(ctx, customer.id)).find((m) => m.subject.startsWith('Ricarica effettuata'))!;
    assert.match(receipt.text_body, /Pagato con bonifico/);
    await registerAgreesWithLedger('2035-02');
  });

  test('R17: an unpaid transfer expires after 10 days (the daily job); recording it then is 409 topup_not_pending, nothing credited', async () => {
    const { ctx } = use();
    clock.setRome('2036-06-01T10:00');
    const { customer } = await holder();
    const topup = await createTopup(ctx, customer.id, 1000, null, 'test', 'bank_transfer');
    assert.equal(topup.charge_cents, 1220);
    clock.setRome('2036-06-11T10:00');
    await runDailyJob(ctx);
    assert.equal((await readTopup(ctx, null, topup.id)).status, 'pending', 'still waiting on its tenth day');
    clock.setRome('2036-06-12T00:30');
    // Past its tenth day it is refused even before the job marks it.
    assert.equal(await refusal(recordBankTransfer(ctx, OPERATOR, { reference: topup.bank_reference!, chargeCents: 1220, receivedOn: '2036-06-11', reason: 'tardi' })), 'topup_not_pending');
    await runDailyJob(ctx);
    assert.equal((await readTopup(ctx, null, topup.id)).status, 'expired');
    assert.equal(await refusal(recordBankTransfer(ctx, OPERATOR, { reference: topup.bank_reference!, chargeCents: 1220, receivedOn: '2036-06-11', reason: 'tardi' })), 'topup_not_pending');
    const [credited] = await ctx.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ledger_transactions WHERE topup_id = $1`, [topup.id]);
    assert.equal(credited!.n, 0);
  });

  test('R17: two operators recording the same transfer at once credit it once', async () => {
    const { ctx } = use();
    clock.setRome('2037-01-10T10:00');
    const { customer } = await holder();
    const topup = await createTopup(ctx, customer.id, 1000, null, 'test', 'bank_transfer');
    const input = { reference: topup.bank_reference!, chargeCents: 1220, receivedOn: '2037-01-10', reason: 'estratto conto' };
    const outcomes = await Promise.all([0, 1, 2].map(() => recordBankTransfer(ctx, OPERATOR, input).then(() => 'ok', (e: DomainError) => e.code)));
    assert.deepEqual(outcomes.sort(), ['ok', 'topup_not_pending', 'topup_not_pending']);
    const [credited] = await ctx.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM invoices WHERE topup_id = $1`, [topup.id]);
    assert.equal(credited!.n, 1);
  });
});

export type { TestEngine };
