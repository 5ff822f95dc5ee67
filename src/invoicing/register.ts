// R15 for the accountant: a month's VAT sales register as CSV, and the month's FatturaPA files as
// one zip. Both read the month in bounded batches by (year, sequence) and stream what they make, so
// memory stays flat however many invoices the month has.
import { Zip, ZipDeflate } from 'fflate';
import type { Database, Queryable } from '../db/database.ts';
import { buyerFiscalId, buyerName, type BillingProfile } from '../domain/billing-profile.ts';
import { decimalAmount, ratePercent } from '../domain/invoice.ts';
import { date, startOfDayInRome } from '../domain/calendar.ts';
import { ACCOUNTS } from '../ledger/postings.ts';
import { invoiceDocument, type InvoiceRow } from '../services/invoices.ts';
import { fatturaPaXml } from './fatturapa.ts';

const BATCH_SIZE_MAX = 1000;

export interface MonthRange {
  /** First day of the month and first day of the next, YYYY-MM-DD. */
  from: string;
  until: string;
}

export function monthRange(month: string): MonthRange | null {
  const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month);
  if (!m) return null;
  const first = date(`${month}-01`);
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
/**
 * Text a holder typed (the buyer's name), made inert for spreadsheets: a cell starting with = + - @
 * would be read as a formula when the accountant opens the register, so it gets a leading '.
 */
export const spreadsheetSafe = (v: string): string => (/^[=+\-@\t\r]/.test(v) ? `'${v}` : v);
export const csvLine = (fields: readonly string[]): string => fields.map(csvField).join(',') + '\r\n';

export const REGISTER_HEADER = ['numero', 'data', 'cliente', 'partita_iva_o_codice_fiscale', 'imponibile', 'aliquota_iva', 'iva', 'totale', 'stato_sdi'];

/** The ledger's VAT account over the same month (Europe/Rome days): what the register must add up to. */
export async function ledgerVatOfMonth(db: Queryable, range: MonthRange): Promise<number> {
  const [row] = await db.query<{ vat: number | null }>(
    `SELECT sum(p.amount_cents) AS vat FROM ledger_postings p JOIN ledger_transactions t ON t.id = p.transaction_id
      WHERE p.account = $1 AND t.created_at >= $2 AND t.created_at < $3`,
    [ACCOUNTS.vatPayable, new Date(startOfDayInRome(date(range.from))), new Date(startOfDayInRome(date(range.until)))],
  );
  return Number(row?.vat ?? 0);
}

type RegisterRow = Pick<InvoiceRow, 'year' | 'sequence' | 'number' | 'issued_on' | 'net_cents' | 'vat_cents' | 'total_cents' | 'vat_rate_basis_points' | 'sdi_status'> & { buyer: BillingProfile };

/**
 * The register's lines: one per invoice, then the totals by VAT rate, the month's total, and the
 * ledger's VAT account for the month beside it (they must agree to the cent, R15).
 */
export async function* vatRegisterCsv(db: Database, range: MonthRange): AsyncGenerator<string> {
  yield csvLine(REGISTER_HEADER);
  const byRate = new Map<number, { net: number; vat: number; total: number; count: number }>();
  for await (const batch of invoicesOfMonth<RegisterRow>(db, range, 'year, sequence, number, issued_on, net_cents, vat_cents, total_cents, vat_rate_basis_points, sdi_status, buyer')) {
    let chunk = '';
    for (const r of batch) {
      chunk += csvLine([
        r.number,
        r.issued_on,
        spreadsheetSafe(buyerName(r.buyer)),
        buyerFiscalId(r.buyer),
        decimalAmount(r.net_cents),
        ratePercent(r.vat_rate_basis_points),
        decimalAmount(r.vat_cents),
        decimalAmount(r.total_cents),
        r.sdi_status,
      ]);
      const sum = byRate.get(r.vat_rate_basis_points) ?? { net: 0, vat: 0, total: 0, count: 0 };
      sum.net += r.net_cents;
      sum.vat += r.vat_cents;
      sum.total += r.total_cents;
      sum.count++;
      byRate.set(r.vat_rate_basis_points, sum);
    }
    yield chunk;
  }
  let all = { net: 0, vat: 0, total: 0, count: 0 };
  for (const [rate, s] of [...byRate].sort((a, b) => a[0] - b[0])) {
    yield csvLine([`totale aliquota ${ratePercent(rate)}`, '', `${s.count} fatture`, '', decimalAmount(s.net), ratePercent(rate), decimalAmount(s.vat), decimalAmount(s.total), '']);
    all = { net: all.net + s.net, vat: all.vat + s.vat, total: all.total + s.total, count: all.count + s.count };
  }
  yield csvLine(['totale', '', `${all.count} fatture`, '', decimalAmount(all.net), '', decimalAmount(all.vat), decimalAmount(all.total), '']);
  yield csvLine(['iva_conto_contabile', '', ACCOUNTS.vatPayable, '', '', '', decimalAmount(await ledgerVatOfMonth(db, range)), '', '']);
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
