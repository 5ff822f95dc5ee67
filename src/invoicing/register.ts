// R15 for the accountant: a month's VAT sales register as CSV, and the month's FatturaPA files as
// one zip. Both read the month in bounded batches by (year, sequence) and stream what they make, so
// memory stays flat however many invoices the month has.
import { Zip, ZipDeflate } from 'fflate';
import type { Database, Queryable } from '../db/database.ts';
import { buyerFiscalId, buyerName, type BillingProfile } from '../domain/billing-profile.ts';
import { CREDIT_NOTE_TYPE, decimalAmount, ratePercent } from '../domain/invoice.ts';
import { NATURA_NOT_SUBJECT_7_TER, type VatTreatment } from '../domain/vat.ts';
import { date, parseInputDate, startOfDayInRome } from '../domain/calendar.ts';
import { ACCOUNTS } from '../ledger/postings.ts';
import { invoiceDocument, type InvoiceRow } from '../services/billing/invoices.ts';
import { fatturaPaXml } from './fatturapa.ts';

const BATCH_SIZE_MAX = 1000;

export interface MonthRange {
  /** First day of the month and first day of the next, YYYY-MM-DD. */
  from: string;
  until: string;
}

/** A month YYYY-MM within INPUT_YEAR_MIN..INPUT_YEAR_MAX (issue 19: 0000-01 and 9999-12 reached SQL), or null. */
export function monthRange(month: string): MonthRange | null {
  const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month);
  if (!m) return null;
  const first = parseInputDate(`${month}-01`);
  if (!first) return null;
  return { from: first.toString(), until: first.add({ months: 1 }).toString() };
}

/**
 * The month's invoices by date and number, a batch at a time: keyset pagination on the index
 * (issued_on, year, sequence), so each batch is a range scan however large the month (no OFFSET,
 * no sort, no cursor held open). Numbers follow dates, so this is also number order.
 */
async function* invoicesOfMonth<R extends { issued_on: string; year: number; sequence: number }>(db: Queryable, range: MonthRange, columns: string): AsyncGenerator<R[]> {
  let after = { issuedOn: range.from, year: 0, sequence: 0 };
  for (;;) {
    const batch = await db.query<R>(
      `SELECT ${columns} FROM invoices
        WHERE (issued_on, year, sequence) > ($1::date, $2::int, $3::int) AND issued_on < $4
        ORDER BY issued_on, year, sequence LIMIT $5`,
      [after.issuedOn, after.year, after.sequence, range.until, BATCH_SIZE_MAX],
    );
    if (!batch.length) return;
    yield batch;
    const last = batch[batch.length - 1]!;
    after = { issuedOn: last.issued_on, year: last.year, sequence: last.sequence };
    if (batch.length < BATCH_SIZE_MAX) return;
  }
}

const csvField = (v: string): string => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
/** What makes a spreadsheet read a cell as a formula: = + - @ (or a tab or CR before them), after any blanks and quotes. */
const FORMULA_START = /^[\s"']*[=+\-@]|^[\t\r]/;
/**
 * Text a holder typed (the buyer's name, a foreign VAT number), made inert for spreadsheets: a cell
 * starting with = + - @ would be read as a formula when the accountant opens the register, so it
 * gets a leading '. Excel set to Italian splits a CSV on ';' rather than ',', so every piece after
 * a ';' is a cell of its own there and is guarded the same way (issue 19).
 */
export const spreadsheetSafe = (v: string): string =>
  v
    .split(';')
    .map((piece) => (FORMULA_START.test(piece) ? `'${piece}` : piece))
    .join(';');
export const csvLine = (fields: readonly string[]): string => fields.map(csvField).join(',') + '\r\n';

export const REGISTER_HEADER = ['numero', 'data', 'cliente', 'partita_iva_o_codice_fiscale', 'imponibile', 'aliquota_iva', 'iva', 'totale', 'stato_sdi', 'natura', 'data_pagamento'];

/** R16: the register totals each rate and each Natura apart (and, within N2.1, reverse charge apart from not subject). */
const TREATMENT_WORDS: Record<VatTreatment, string> = { standard: '', reverse_charge: 'inversione contabile', not_subject: 'non soggetta' };
type VatKey = `${VatTreatment}:${number}`;
const vatKey = (treatment: VatTreatment, rateBasisPoints: number): VatKey => `${treatment}:${treatment === 'standard' ? rateBasisPoints : 0}`;
const vatKeyLabel = (key: VatKey): string => {
  const [treatment, rate] = key.split(':') as [VatTreatment, string];
  return treatment === 'standard' ? `aliquota ${ratePercent(Number(rate))}` : `natura ${NATURA_NOT_SUBJECT_7_TER} ${TREATMENT_WORDS[treatment]}`;
};
/** Standard rates first (by rate), then the Natura groups. */
const vatKeyOrder = (a: VatKey, b: VatKey): number => {
  const [ta, ra] = a.split(':');
  const [tb, rb] = b.split(':');
  if ((ta === 'standard') !== (tb === 'standard')) return ta === 'standard' ? -1 : 1;
  return ta === tb ? Number(ra) - Number(rb) : ta! < tb! ? -1 : 1;
};

/**
 * The ledger's VAT account over the same month (Europe/Rome days), by the rate and treatment of the
 * top-up each posting came from: what the register must add up to, group by group. A payment's
 * ledger entry is dated by the instant its invoice is (R15, `lockInvoiceYear`), so both fall in the same month.
 */
export async function ledgerVatOfMonth(db: Queryable, range: MonthRange): Promise<Map<VatKey | 'other', number>> {
  const rows = await db.query<{ vat_treatment: VatTreatment | null; rate: number | null; vat: number | null }>(
    `SELECT tp.vat_treatment, tp.vat_rate_basis_points AS rate, sum(p.amount_cents) AS vat
       FROM ledger_postings p JOIN ledger_transactions t ON t.id = p.transaction_id LEFT JOIN topups tp ON tp.id = t.topup_id
      WHERE p.account = $1 AND t.created_at >= $2 AND t.created_at < $3
      GROUP BY tp.vat_treatment, tp.vat_rate_basis_points`,
    [ACCOUNTS.vatPayable, new Date(startOfDayInRome(date(range.from))), new Date(startOfDayInRome(date(range.until)))],
  );
  const byKey = new Map<VatKey | 'other', number>();
  for (const r of rows) {
    const key = r.vat_treatment ? vatKey(r.vat_treatment, Number(r.rate ?? 0)) : 'other';
    byKey.set(key, (byKey.get(key) ?? 0) + Number(r.vat ?? 0));
  }
  return byKey;
}

type RegisterRow = Pick<InvoiceRow, 'year' | 'sequence' | 'number' | 'issued_on' | 'document_type' | 'net_cents' | 'vat_cents' | 'total_cents' | 'vat_rate_basis_points' | 'sdi_status' | 'vat_treatment' | 'natura' | 'payment_date'> & { buyer: BillingProfile };

/**
 * The register's lines: one per invoice, then the totals by VAT rate and by Natura, the month's
 * total, and the ledger's VAT account for the month beside it, in all and group by group (they must
 * agree to the cent, R15, R16).
 */
export async function* vatRegisterCsv(db: Database, range: MonthRange): AsyncGenerator<string> {
  yield csvLine(REGISTER_HEADER);
  const byKey = new Map<VatKey, { net: number; vat: number; total: number; count: number; notes: number }>();
  const columns = 'year, sequence, number, issued_on, document_type, net_cents, vat_cents, total_cents, vat_rate_basis_points, sdi_status, vat_treatment, natura, payment_date, buyer';
  for await (const batch of invoicesOfMonth<RegisterRow>(db, range, columns)) {
    let chunk = '';
    for (const row of batch) {
      // R17: a credit note (TD04) is registered with its amounts subtracted.
      const sign = row.document_type === CREDIT_NOTE_TYPE ? -1 : 1;
      const r = { ...row, net_cents: sign * row.net_cents, vat_cents: sign * row.vat_cents, total_cents: sign * row.total_cents };
      chunk += csvLine([
        r.number,
        r.issued_on,
        spreadsheetSafe(buyerName(r.buyer)),
        spreadsheetSafe(buyerFiscalId(r.buyer)),
        decimalAmount(r.net_cents),
        ratePercent(r.vat_rate_basis_points),
        decimalAmount(r.vat_cents),
        decimalAmount(r.total_cents),
        r.sdi_status,
        r.natura ?? '',
        r.payment_date ?? r.issued_on,
      ]);
      const key = vatKey(r.vat_treatment, r.vat_rate_basis_points);
      const sum = byKey.get(key) ?? { net: 0, vat: 0, total: 0, count: 0, notes: 0 };
      sum.net += r.net_cents;
      sum.vat += r.vat_cents;
      sum.total += r.total_cents;
      // R17: credit notes are counted apart from invoices.
      if (sign > 0) sum.count++;
      else sum.notes++;
      byKey.set(key, sum);
    }
    yield chunk;
  }
  let all = { net: 0, vat: 0, total: 0, count: 0, notes: 0 };
  const counted = (s: { count: number; notes: number }) => (s.notes ? `${s.count} fatture, ${s.notes} note di credito` : `${s.count} fatture`);
  const keys = [...byKey.keys()].sort(vatKeyOrder);
  for (const key of keys) {
    const s = byKey.get(key)!;
    const [treatment, rate] = key.split(':') as [VatTreatment, string];
    const natura = treatment === 'standard' ? '' : NATURA_NOT_SUBJECT_7_TER;
    yield csvLine([`totale ${vatKeyLabel(key)}`, '', counted(s), '', decimalAmount(s.net), ratePercent(Number(rate)), decimalAmount(s.vat), decimalAmount(s.total), '', natura, '']);
    all = { net: all.net + s.net, vat: all.vat + s.vat, total: all.total + s.total, count: all.count + s.count, notes: all.notes + s.notes };
  }
  yield csvLine(['totale', '', counted(all), '', decimalAmount(all.net), '', decimalAmount(all.vat), decimalAmount(all.total), '', '', '']);
  const ledger = await ledgerVatOfMonth(db, range);
  const ledgerAll = [...ledger.values()].reduce((a, b) => a + b, 0);
  yield csvLine(['iva_conto_contabile', '', ACCOUNTS.vatPayable, '', '', '', decimalAmount(ledgerAll), '', '', '', '']);
  const ledgerKeys = [...new Set<VatKey | 'other'>([...keys, ...ledger.keys()])];
  for (const key of ledgerKeys) {
    const label = key === 'other' ? 'altro' : vatKeyLabel(key);
    yield csvLine([`iva_conto_contabile ${label}`, '', ACCOUNTS.vatPayable, '', '', '', decimalAmount(ledger.get(key) ?? 0), '', '', '', '']);
  }
}

type ExportRow = InvoiceRow;

/** The month's FatturaPA files (each under its current file name) as one zip, streamed. */
export function monthZip(db: Database, range: MonthRange): AsyncIterable<Uint8Array> {
  return {
    async *[Symbol.asyncIterator]() {
      const pending: Uint8Array[] = [];
      let failure: Error | null = null;
      const zip = new Zip((err, data) => {
        if (err) failure = err;
        else pending.push(data);
      });
      for await (const batch of invoicesOfMonth<ExportRow>(db, range, '*')) {
        for (const row of batch) {
          const file = new ZipDeflate(row.file_name, { level: 6 });
          zip.add(file);
          file.push(new TextEncoder().encode(fatturaPaXml(invoiceDocument(row), row.transmission_seq)), true);
        }
        if (failure) throw failure;
        while (pending.length) yield pending.shift()!;
      }
      zip.end();
      if (failure) throw failure;
      while (pending.length) yield pending.shift()!;
    },
  };
}
