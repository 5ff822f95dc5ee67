// `casella bench register --invoices N [--credit-notes M]`: N invoices and M credit notes (R17, TD04,
// default N / 10) in one month, made quickly in SQL
// (generate_series), numbered in date order as real ones are, then the month's VAT register streamed to nowhere, with its time and the
// process's peak memory: the register must stay flat however large the month (R15). Runs on
// DATABASE_URL (a fresh database is advised: it adds N top-ups and invoices) or, without it, on an
// embedded database in a temporary folder.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase } from '../src/db/database.ts';
import { migrate } from '../src/db/migrate.ts';
import { monthRange, vatRegisterCsv } from '../src/invoicing/register.ts';
import { DEMO_SELLER } from '../src/domain/invoice.ts';
import { peakRssMb, progress } from '../src/cli/progress.ts';

export const invoicesMax = 10_000_000;
const BUYER = {
  kind: 'business', givenName: null, familyName: null, companyName: 'Studio Benchmark S.r.l.', taxCode: null, vatNumber: '00488410010',
  address: { street: 'Via Roma', streetNumber: '1', postalCode: '00184', city: 'Roma', province: 'RM', country: 'IT' }, sdiCode: 'M5UXCR1', sdiPec: null,
};

export async function runRegisterBench(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { invoices: { type: 'string', default: '1000000' }, 'credit-notes': { type: 'string' }, json: { type: 'boolean' } } });
  const count = Number(values.invoices);
  const notes = values['credit-notes'] === undefined ? Math.floor(count / 10) : Number(values['credit-notes']);
  if (!Number.isInteger(count) || count < 1 || count > invoicesMax || !Number.isInteger(notes) || notes < 0 || notes > count) {
    console.error(`usage: casella bench register --invoices N [--credit-notes M] [--json]   (1 ≤ N ≤ ${invoicesMax}, 0 ≤ M ≤ N; DATABASE_URL, or an embedded database in a temporary folder)`);
    return 2;
  }
  const url = process.env.DATABASE_URL || undefined;
  const dir = url ? null : mkdtempSync(join(tmpdir(), 'casella-register-'));
  const db = await openDatabase({ url, dataDir: dir ?? undefined });
  try {
    await migrate(db);
    const year = 2099; // a year of its own, so the bench never meets real invoices
    const month = `${year}-03`;
    const bar = progress('making invoices');
    const t0 = performance.now();
    const customer = `cus_bench_register_${Date.now().toString(36)}`;
    await db.query(`INSERT INTO customers (id, name, reference_email, created_at) VALUES ($1, 'Benchmark', 'bench@example.com', now())`, [customer]);
    const batch = 100_000;
    const [{ start }] = (await db.query<{ start: number }>('SELECT coalesce(max(sequence), 0) AS start FROM invoices WHERE year = $1', [year])) as [{ start: number }];
    for (let from = 1; from <= count; from += batch) {
      const to = Math.min(count, from + batch - 1);
      await db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO topups (id, customer_id, amount_cents, vat_cents, charge_cents, status, gateway, created_at, vat_rate_basis_points)
           SELECT $1 || '_' || n, $2, 1000 + n % 5000, (2 * (1000 + n % 5000) * 2200 + 10000) / 20000,
                  1000 + n % 5000 + (2 * (1000 + n % 5000) * 2200 + 10000) / 20000, 'succeeded', 'test', now(), 2200
             FROM generate_series($3::int, $4::int) AS n`,
          [`top_bench_${customer}`, customer, start + from, start + to],
        );
        await tx.query(
          `INSERT INTO invoices (id, customer_id, topup_id, year, sequence, number, issued_on, document_type, net_cents, vat_cents, total_cents,
                                 vat_rate_basis_points, buyer, seller, transmission_seq, file_name, sdi_status, next_attempt_at, created_at)
           SELECT 'inv_' || $1 || '_' || n, $2, $1 || '_' || n, $5::int, n, $5::int || '/' || lpad(n::text, 7, '0'),
                  make_date($5::int, 3, 1 + ((n - $8::int - 1) * 28 / $9::int)), 'TD01', t.amount_cents, t.vat_cents, t.charge_cents, 2200, $6::jsonb, $7::jsonb,
                  -n, 'IT_bench_' || $1 || '_' || n || '.xml', 'delivered', now(), now()
             FROM generate_series($3::int, $4::int) AS n JOIN topups t ON t.id = $1 || '_' || n`,
          [`top_bench_${customer}`, customer, start + from, start + to, year, JSON.stringify(BUYER), JSON.stringify(DEMO_SELLER), start, count],
        );
      });
      bar.update(`${to}/${count}`);
    }
    // R17: credit notes, each citing one of the month's invoices, numbered after them by the same counter.
    for (let from = 1; from <= notes; from += batch) {
      const to = Math.min(notes, from + batch - 1);
      await db.query(
        `INSERT INTO invoices (id, customer_id, topup_id, year, sequence, number, issued_on, document_type, net_cents, vat_cents, total_cents,
                               vat_rate_basis_points, buyer, seller, transmission_seq, file_name, sdi_status, next_attempt_at, created_at,
                               related_invoice_id, related_number, related_issued_on)
         SELECT 'inv_cn_' || $1 || '_' || n, $2, i.topup_id, $5::int, $6::int + $7::int + n, $5::int || '/' || lpad(($6::int + $7::int + n)::text, 7, '0'),
                greatest(i.issued_on, make_date($5::int, 3, 1 + ((n - 1) * 28 / $8::int))), 'TD04', i.net_cents / 2, i.vat_cents / 2, i.net_cents / 2 + i.vat_cents / 2,
                2200, i.buyer, i.seller, -($6::int + $7::int + n), 'IT_bench_cn_' || $1 || '_' || n || '.xml', 'delivered', now(), now(), i.id, i.number, i.issued_on
           FROM generate_series($3::int, $4::int) AS n JOIN invoices i ON i.id = 'inv_' || $1 || '_' || ($6::int + n)`,
        [`top_bench_${customer}`, customer, from, to, year, start, count, notes],
      );
      bar.update(`credit notes ${to}/${notes}`);
    }
    const madeSeconds = (performance.now() - t0) / 1000;
    bar.done(`${count} invoices and ${notes} credit notes in ${madeSeconds.toFixed(1)} s`);

    // The kernel's high-water mark would count the inserts above; the export's own memory is sampled.
    const mb = (bytes: number) => Math.round(bytes / 1048576);
    const rssBefore = process.memoryUsage().rss;
    let rssMax = rssBefore;
    const exporting = progress('register');
    const t1 = performance.now();
    let bytes = 0;
    let lines = 0;
    for await (const chunk of vatRegisterCsv(db, monthRange(month)!)) {
      bytes += Buffer.byteLength(chunk);
      rssMax = Math.max(rssMax, process.memoryUsage().rss);
      lines += chunk.split('\n').length - 1;
      if (lines % 100_000 < 1000) exporting.update(`${lines} lines`);
    }
    const seconds = (performance.now() - t1) / 1000;
    exporting.done(`${lines} lines, ${(bytes / 1e6).toFixed(1)} MB in ${seconds.toFixed(1)} s`);
    const result = {
      engine: db.engine,
      invoices: count,
      creditNotes: notes,
      makeSeconds: Math.round(madeSeconds * 10) / 10,
      registerSeconds: Math.round(seconds * 10) / 10,
      registerLines: lines,
      registerMb: Math.round(bytes / 1e5) / 10,
      rssMbAtRegisterStart: mb(rssBefore),
      rssMbMaxDuringRegister: mb(rssMax),
      peakRssMbOfProcess: peakRssMb(),
    };
    if (values.json) console.log(JSON.stringify(result));
    else console.log(`register of ${count} invoices and ${notes} credit notes: ${result.registerSeconds} s, ${result.registerMb} MB; RSS ${result.rssMbAtRegisterStart} MB at its start, at most ${result.rssMbMaxDuringRegister} MB while it ran`);
    // Leave no benchmark invoices in a database someone may use.
    await db.query(`DELETE FROM invoices WHERE customer_id = $1 AND document_type = 'TD04'`, [customer]);
    await db.query('DELETE FROM invoices WHERE customer_id = $1', [customer]);
    await db.query('DELETE FROM topups WHERE customer_id = $1', [customer]);
    await db.query('DELETE FROM customers WHERE id = $1', [customer]);
    return 0;
  } finally {
    await db.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
