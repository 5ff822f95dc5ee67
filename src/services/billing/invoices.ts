// R15: one invoice per succeeded card payment, issued inside the transaction that credits the wallet,
// numbered per calendar year with no gap and no duplicate; read by holders and operators; a
// rejected one corrected and sent again with the same number and date.
import type { Queryable, Tx } from '../../db/database.ts';
import { validateBillingProfile, type BillingProfile, NO_SDI_CODE } from '../../domain/billing-profile.ts';
import { dateInRome } from '../../domain/calendar.ts';
import { CREDIT_NOTE_TYPE, DOCUMENT_TYPE, invoiceAmounts, invoiceFileName, type InvoiceDocument, type PaymentMethodKind, type Seller } from '../../domain/invoice.ts';
import { termsOf, type VatTreatment } from '../../domain/vat.ts';
import { clock } from '../../clock.ts';
import type { ServiceContext } from '../context.ts';
import { DomainError, invalid, notFound } from '../errors.ts';
import { audit, type Actor } from '../audit.ts';

export type SdiStatus = 'issued' | 'sent' | 'delivered' | 'rejected' | 'not_delivered';

export interface InvoiceRow {
  id: string;
  customer_id: string;
  topup_id: string;
  year: number;
  sequence: number;
  number: string;
  issued_on: string;
  document_type: string;
  net_cents: number;
  vat_cents: number;
  total_cents: number;
  vat_rate_basis_points: number;
  /** R16: standard, or without Italian VAT (reverse_charge, not_subject) with its Natura. */
  vat_treatment: VatTreatment;
  natura: string | null;
  /** R15: the day the money was paid; null on invoices issued before it was recorded (then the invoice's date). */
  payment_date: string | null;
  payment_method: PaymentMethodKind;
  buyer: BillingProfile;
  seller: Seller;
  transmission_seq: number;
  file_name: string;
  sdi_status: SdiStatus;
  sdi_message: string | null;
  attempts: number;
  next_attempt_at: Date;
  last_error: string | null;
  sent_at: Date | null;
  outcome_at: Date | null;
  created_at: Date;
  /** R17: a credit note's (TD04) invoice, its number and date; null on invoices. */
  related_invoice_id: string | null;
  related_number: string | null;
  related_issued_on: string | null;
  refund_id: string | null;
}

/** The columns lists and registers read: everything but the snapshots. */
export const INVOICE_SUMMARY_COLUMNS = `id, customer_id, topup_id, year, sequence, number, issued_on, document_type, net_cents,
  vat_cents, total_cents, vat_rate_basis_points, vat_treatment, natura, payment_date, payment_method, transmission_seq, file_name, sdi_status, sdi_message, attempts, last_error,
  sent_at, outcome_at, created_at, related_invoice_id, related_number, related_issued_on, refund_id`;

export interface IssueInput {
  invoiceId: string;
  customerId: string;
  topup: {
    id: string;
    amount_cents: number;
    vat_cents: number;
    charge_cents: number;
    vat_rate_basis_points: number | null;
    vat_treatment: VatTreatment;
    method: PaymentMethodKind;
  };
  seller: Seller;
  /** Used when the top-up predates its rate being recorded. */
  vatRateBasisPoints: number;
  /** The instant read under the year's counter lock (`lockInvoiceYear`): the invoice's date. */
  at: Date;
  /** R15: the day the money was paid (Europe/Rome), on or before the invoice's date. */
  paidOn: string;
  /**
   * R17: issue a credit note (TD04) instead: these amounts, citing the invoice it corrects, whose
   * VAT data (rate) it reuses. Numbered by the same counter as invoices.
   */
  creditNote?: { refundId: string | null; invoice: Pick<InvoiceRow, 'id' | 'number' | 'issued_on' | 'vat_rate_basis_points'>; netCents: number; vatCents: number };
}

/** Bounded: crossing New Year while waiting for the counter lock takes a second round at most. */
const YEAR_LOCK_ROUNDS_MAX = 3;

/**
 * R15 "numbers follow dates": locks the counter row of the current year and only then reads the
 * clock, so whoever takes the next number reads a later instant than whoever took the one before.
 * Returns that instant, which dates the invoice (and the payment's ledger entry, so the register's
 * month and the ledger's agree). Held until the caller's transaction ends. If the year turned
 * while waiting, the new year's row is locked too (the old one stays locked, unchanged).
 */
export async function lockInvoiceYear(tx: Tx): Promise<Date> {
  let year = dateInRome(clock.nowMs()).year;
  for (let round = 0; round < YEAR_LOCK_ROUNDS_MAX; round++) {
    await tx.query(
      `INSERT INTO invoice_counters (year, last_number) VALUES ($1, 0) ON CONFLICT (year) DO NOTHING`,
      [year],
    );
    await tx.query('SELECT last_number FROM invoice_counters WHERE year = $1 FOR UPDATE', [year]);
    const now = clock.now();
    const yearNow = dateInRome(now.getTime()).year;
    if (yearNow === year) return now;
    year = yearNow;
  }
  throw new Error('the year kept changing while its invoice counter was being locked');
}

/** Billing data missing at payment time (a top-up started before they were required): the operator completes them. */
const MISSING_BUYER_MESSAGE = 'Dati di fatturazione mancanti al momento del pagamento: completarli e reinviare';

function placeholderBuyer(name: string): BillingProfile {
  return {
    kind: 'person',
    givenName: name,
    familyName: '-',
    companyName: null,
    taxCode: null,
    vatNumber: null,
    address: { street: '-', streetNumber: null, postalCode: '00000', city: '-', province: null, country: 'IT' },
    sdiCode: NO_SDI_CODE,
    sdiPec: null,
  };
}

/**
 * Issues the top-up's invoice inside the caller's transaction, as its last write: the year's counter
 * row stays locked until the commit, so concurrent payments take numbers in commit order, and a
 * payment that rolls back (or a process killed before the commit) leaves no number used.
 */
export async function issueInvoice(tx: Tx, input: IssueInput): Promise<void> {
  const note = input.creditNote;
  const amounts = note
    ? invoiceAmounts({ amountCents: note.netCents, vatCents: note.vatCents, chargeCents: note.netCents + note.vatCents })
    : invoiceAmounts({ amountCents: input.topup.amount_cents, vatCents: input.topup.vat_cents, chargeCents: input.topup.charge_cents });
  const issuedOn = dateInRome(input.at.getTime());
  const terms = termsOf(input.topup.vat_treatment, input.topup.vat_rate_basis_points ?? input.vatRateBasisPoints);
  if (terms.treatment !== 'standard' && amounts.vatCents !== 0) throw new Error(`a ${terms.treatment} top-up carries VAT: ${amounts.vatCents}`);
  const [facts] = await tx.query<{ profile: BillingProfile | null; customer_name: string; transmission_seq: number }>(
    `SELECT (SELECT profile FROM billing_profiles WHERE customer_id = $1) AS profile,
            (SELECT name FROM customers WHERE id = $1) AS customer_name,
            nextval('invoice_transmission_seq') AS transmission_seq`,
    [input.customerId],
  );
  const buyer = facts!.profile ?? placeholderBuyer(facts!.customer_name);
  const status: SdiStatus = facts!.profile ? 'issued' : 'rejected';
  const message = facts!.profile ? null : MISSING_BUYER_MESSAGE;
  const fileName = invoiceFileName(input.seller, facts!.transmission_seq);
  const written = await tx.query(
    `WITH counter AS (
       UPDATE invoice_counters SET last_number = last_number + 1 WHERE year = $3
       RETURNING last_number),
     issued AS (
       INSERT INTO invoices (id, customer_id, topup_id, year, sequence, number, issued_on, document_type, net_cents, vat_cents,
                             total_cents, vat_rate_basis_points, buyer, seller, transmission_seq, file_name, sdi_status, sdi_message,
                             next_attempt_at, created_at, vat_treatment, natura, payment_date, payment_method,
                             related_invoice_id, related_number, related_issued_on, refund_id)
       SELECT $1, $2, $4, $3, last_number,
              $3::text || '/' || CASE WHEN last_number < 1000000 THEN lpad(last_number::text, 6, '0') ELSE last_number::text END,
              $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $17, $16, $16, $18, $19, $20, $21, $22, $23, $24::date, $25
         FROM counter
       RETURNING id, file_name, sdi_status, sdi_message, created_at)
     INSERT INTO invoice_events (invoice_id, at, file_name, status, message)
     SELECT id, created_at, file_name, sdi_status, sdi_message FROM issued RETURNING invoice_id`,
    [
      input.invoiceId,
      input.customerId,
      issuedOn.year,
      input.topup.id,
      issuedOn.toString(),
      note ? CREDIT_NOTE_TYPE : DOCUMENT_TYPE,
      amounts.netCents,
      amounts.vatCents,
      amounts.totalCents,
      terms.rateBasisPoints,
      JSON.stringify(buyer),
      JSON.stringify(input.seller),
      facts!.transmission_seq,
      fileName,
      status,
      input.at,
      message,
      terms.treatment,
      terms.natura,
      input.paidOn,
      input.topup.method,
      note?.invoice.id ?? null,
      note?.invoice.number ?? null,
      note?.invoice.issued_on ?? null,
      note?.refundId ?? null,
    ],
  );
  // The counter row exists only if lockInvoiceYear locked it in this transaction, for this year.
  if (written.length !== 1) throw new Error(`invoice ${input.invoiceId} not written: the counter of ${issuedOn.year} was not locked first`);
}

export function invoiceDocument(row: InvoiceRow): InvoiceDocument {
  return {
    number: row.number,
    issuedOn: row.issued_on,
    documentType: row.document_type,
    netCents: row.net_cents,
    vatCents: row.vat_cents,
    totalCents: row.total_cents,
    vatRateBasisPoints: row.vat_rate_basis_points,
    buyer: row.buyer,
    seller: row.seller,
    paymentReference: row.topup_id,
    vatTreatment: row.vat_treatment ?? 'standard',
    paymentDate: row.payment_date ?? row.issued_on,
    paymentMethod: row.payment_method ?? 'card',
    related: row.related_number && row.related_issued_on ? { number: row.related_number, issuedOn: row.related_issued_on } : null,
  };
}

/** Newest first. A holder's invoices are few (one per top-up); bounded all the same. */
const HOLDER_INVOICES_MAX = 1000;
export async function listInvoices(db: Queryable, customerId: string): Promise<InvoiceRow[]> {
  return db.query<InvoiceRow>(
    `SELECT ${INVOICE_SUMMARY_COLUMNS}, buyer, seller FROM invoices WHERE customer_id = $1 ORDER BY year DESC, sequence DESC LIMIT $2`,
    [customerId, HOLDER_INVOICES_MAX],
  );
}

/** One invoice; `customerId` null for operators. Another holder's invoice is not found (R12). */
export async function readInvoice(db: Queryable, customerId: string | null, invoiceId: string): Promise<InvoiceRow> {
  const [row] = await db.query<InvoiceRow>(
    'SELECT * FROM invoices WHERE id = $1 AND ($2::text IS NULL OR customer_id = $2)',
    [invoiceId, customerId],
  );
  if (!row) throw notFound('invoice');
  return row;
}

export async function invoiceIdOfTopup(db: Queryable, topupId: string): Promise<string | null> {
  const [row] = await db.query<{ id: string }>(`SELECT id FROM invoices WHERE topup_id = $1 AND document_type <> 'TD04'`, [topupId]);
  return row?.id ?? null;
}

/** Operators: invoices issued from `from` to `to` (inclusive), optionally in one SdI state. */
export const PERIOD_INVOICES_MAX = 10_000;
export async function listInvoicesIssued(db: Queryable, from: string, to: string, status: SdiStatus | null): Promise<InvoiceRow[]> {
  return db.query<InvoiceRow>(
    `SELECT ${INVOICE_SUMMARY_COLUMNS}, buyer, seller FROM invoices
      WHERE issued_on BETWEEN $1 AND $2 AND ($3::text IS NULL OR sdi_status = $3)
      ORDER BY year, sequence LIMIT $4`,
    [from, to, status, PERIOD_INVOICES_MAX],
  );
}

export interface InvoiceEvent {
  at: Date;
  file_name: string;
  status: string;
  message: string | null;
}
export async function invoiceEvents(db: Queryable, invoiceId: string): Promise<InvoiceEvent[]> {
  return db.query<InvoiceEvent>('SELECT at, file_name, status, message FROM invoice_events WHERE invoice_id = $1 ORDER BY seq', [invoiceId]);
}

/**
 * Operators: a rejected invoice, its buyer data corrected if given, goes out again with the same
 * number and date under a new file name (SdI refuses a file name it has seen).
 */
export async function resendInvoice(ctx: ServiceContext, actor: Actor, invoiceId: string, buyerInput: Record<string, unknown> | null, reason: string): Promise<InvoiceRow> {
  let buyer: BillingProfile | null = null;
  if (buyerInput) {
    const checked = validateBillingProfile(buyerInput);
    if (!checked.ok) throw invalid(Object.fromEntries(Object.entries(checked.fields).map(([k, v]) => [`buyer.${k}`, v])));
    buyer = checked.value;
  }
  const now = clock.now();
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx.query<InvoiceRow>('SELECT * FROM invoices WHERE id = $1 FOR UPDATE', [invoiceId]);
    if (!row) throw notFound('invoice');
    if (row.sdi_status !== 'rejected') throw new DomainError('invoice_not_rejected', `Only a rejected invoice can be sent again; this one is ${row.sdi_status}`);
    const [seq] = await tx.query<{ n: number }>(`SELECT nextval('invoice_transmission_seq') AS n`);
    const fileName = invoiceFileName(row.seller, seq!.n);
    const [updated] = await tx.query<InvoiceRow>(
      `UPDATE invoices SET buyer = COALESCE($2::jsonb, buyer), transmission_seq = $3, file_name = $4, sdi_status = 'issued',
              sdi_message = NULL, attempts = 0, last_error = NULL, next_attempt_at = $5, sent_at = NULL, outcome_at = NULL
        WHERE id = $1 RETURNING *`,
      // Due now by the machine's clock, which the SdI worker's retries follow.
      [invoiceId, buyer ? JSON.stringify(buyer) : null, seq!.n, fileName, new Date(clock.wallMs())],
    );
    await tx.query(`INSERT INTO invoice_events (invoice_id, at, file_name, status, message) VALUES ($1, $2, $3, 'issued', $4)`, [
      invoiceId,
      now,
      fileName,
      buyer ? 'corretto e reinviato' : 'reinviato',
    ]);
    await audit(tx, actor, { action: 'invoice.resend', entityKind: 'invoice', entityId: invoiceId, reason, before: { fileName: row.file_name, buyer: row.buyer }, after: { fileName, buyer: updated!.buyer } }, now);
    return updated!;
  });
}

export const SDI_OUTCOMES = ['delivered', 'rejected', 'not_delivered'] as const;
const SDI_MESSAGE_MAX = 1000;
export type SdiOutcome = { status: (typeof SDI_OUTCOMES)[number]; message: string | null };

/**
 * Records SdI's answer about one transmitted file (RC, NS or MC), once: an answer about a file that
 * is no longer the invoice's current one, or that came already, changes nothing.
 */
export async function recordSdiOutcome(tx: Queryable, fileName: string, outcome: SdiOutcome, at: Date): Promise<boolean> {
  const rows = await tx.query<{ id: string }>(
    `WITH updated AS (
       UPDATE invoices SET sdi_status = $2, sdi_message = $3, outcome_at = $4
        WHERE file_name = $1 AND sdi_status = 'sent'
       RETURNING id, file_name)
     INSERT INTO invoice_events (invoice_id, at, file_name, status, message)
     SELECT id, $4, file_name, $2, $3 FROM updated RETURNING invoice_id AS id`,
    [fileName, outcome.status, outcome.message, at],
  );
  return rows.length === 1;
}

/** Operators, for channels that bring no answers (directory): SdI's outcome as the intermediary reported it. */
export async function recordOutcomeByOperator(ctx: ServiceContext, actor: Actor, invoiceId: string, outcome: SdiOutcome, reason: string): Promise<InvoiceRow> {
  // The console's form sends text: checked here as the API's schema checks it.
  if (!(SDI_OUTCOMES as readonly string[]).includes(outcome.status)) throw invalid({ status: `must be one of ${SDI_OUTCOMES.join(', ')}` });
  if (outcome.message !== null && outcome.message.length > SDI_MESSAGE_MAX) throw invalid({ message: `must be at most ${SDI_MESSAGE_MAX} characters` });
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx.query<InvoiceRow>('SELECT * FROM invoices WHERE id = $1 FOR UPDATE', [invoiceId]);
    if (!row) throw notFound('invoice');
    if (row.sdi_status !== 'sent') throw new DomainError('invoice_not_sent', `Only an invoice sent to SdI can get an outcome; this one is ${row.sdi_status}`);
    const now = clock.now();
    await recordSdiOutcome(tx, row.file_name, outcome, now);
    await audit(tx, actor, { action: 'invoice.outcome', entityKind: 'invoice', entityId: invoiceId, reason, before: { sdiStatus: row.sdi_status }, after: outcome }, now);
    return (await tx.query<InvoiceRow>('SELECT * FROM invoices WHERE id = $1', [invoiceId]))[0]!;
  });
}
