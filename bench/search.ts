// `casella bench search --holders N`: R19's staff search on a big book. N holders (names with
// accents, fiscal codes, reference e-mails) and two mailboxes each are made in bulk SQL
// (generate_series), a tenth of the holders with business billing data; then 200 searches of every
// kind staff type — an address's beginning, a whole address, part of a name without accents, a codice
// fiscale, a partita IVA, a reference e-mail — each timed from the client, with p50 and p99.
// Runs on DATABASE_URL (a fresh database: it refuses one that holds holders) or an embedded database
// in a temporary folder.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase } from '../src/db/database.ts';
import { migrate } from '../src/db/migrate.ts';
import { searchHolders } from '../src/services/staff/search.ts';
import { peakRssMb, progress } from '../src/cli/progress.ts';
import { percentile } from './purchase.ts';

export const holdersMax = 5_000_000;
const SEARCHES = 200;
const SEED_BATCH = 100_000;
// Names are made from these parts, so a part of a name matches many holders, as real names do.
const GIVEN = ['Nicolò', 'Lucía', 'Andrea', 'Giulia', 'Matteo', 'Chiara', 'Luca', 'Sofía', 'Élise', 'Marco', 'Francesca', 'Pietro', 'Anna', 'Giorgio', 'Elena', 'Tommaso'];
const FAMILY = ['Rossi', 'Bianchi', 'Esposito', 'Romano', 'Colombo', 'Ricci', 'Marino', 'Greco', 'Bruno', 'Gallo', 'Conti', 'De Luca', 'Mancini', 'Costa', 'Giordano', 'Rizzo', 'Lombardi', 'Moretti', 'Barbieri', 'Fontana', 'Santoro', 'Mariani', 'Rinaldi', 'Caruso', 'Ferrara', 'Galli', 'Martini', 'Leone', 'Longo', 'Gentile', 'Martinelli', 'Vitale'];

export async function runSearchBench(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { holders: { type: 'string', default: '1000000' }, json: { type: 'boolean' } } });
  const holders = Number(values.holders);
  if (!Number.isInteger(holders) || holders < 100 || holders > holdersMax) {
    console.error(`usage: casella bench search --holders N [--json]   (100 ≤ N ≤ ${holdersMax}; two mailboxes each; DATABASE_URL, or an embedded database in a temporary folder)`);
    return 2;
  }
  const url = process.env.DATABASE_URL || undefined;
  const dir = url ? null : mkdtempSync(join(tmpdir(), 'casella-search-'));
  const db = await openDatabase({ url, dataDir: dir ?? undefined });
  try {
    await migrate(db);
    const [{ n }] = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM customers')) as [{ n: number }];
    if (n > 0) {
      console.error('bench search: the database already holds holders; give it an empty one');
      return 2;
    }
    const bar = progress('making holders');
    const t0 = performance.now();
    for (let from = 1; from <= holders; from += SEED_BATCH) {
      const to = Math.min(holders, from + SEED_BATCH - 1);
      await db.transaction(async (tx) => {
        // Holder i: given name i % 16, family name (i / 16) % 32, a number to make it unique; a codice
        // fiscale-shaped code; an e-mail; mailboxes box<i>a@ and box<i>b@.
        await tx.query(
          `INSERT INTO customers (id, name, tax_code, reference_email, created_at)
           SELECT 'cus_b' || lpad(i::text, 8, '0'), ($3::text[])[1 + i % 16] || ' ' || ($4::text[])[1 + (i / 16) % 32] || ' ' || i,
                  'BNC' || lpad(i::text, 13, '0'), 'titolare' || i || '@example.com', now()
             FROM generate_series($1::int, $2::int) AS i`,
          [from, to, GIVEN, FAMILY],
        );
        await tx.query(
          `INSERT INTO mailboxes (id, customer_id, address, password_hash, type, status, expires_on, created_at, updated_at)
           SELECT 'mbx_b' || lpad(i::text, 8, '0') || s, 'cus_b' || lpad(i::text, 8, '0'), 'box' || i || s || '@pec.example.it', 'x', 'standard', 'active', DATE '2027-06-01', now(), now()
             FROM generate_series($1::int, $2::int) AS i, unnest(ARRAY['a', 'b']) AS s`,
          [from, to],
        );
        await tx.query(
          `INSERT INTO billing_profiles (customer_id, profile, updated_at)
           SELECT 'cus_b' || lpad(i::text, 8, '0'),
                  jsonb_build_object('kind', 'business', 'companyName', 'Studio ' || ($3::text[])[1 + (i / 16) % 32] || ' ' || i || ' S.r.l.', 'vatNumber', lpad(i::text, 11, '0')),
                  now()
             FROM generate_series($1::int, $2::int) AS i WHERE i % 10 = 0`,
          [from, to, FAMILY],
        );
      });
      bar.update(`${to.toLocaleString('en')} of ${holders.toLocaleString('en')}`);
    }
    await db.query('ANALYZE customers');
    await db.query('ANALYZE mailboxes');
    await db.query('ANALYZE billing_profiles');
    const seedSeconds = (performance.now() - t0) / 1000;
    bar.done(`${holders.toLocaleString('en')} holders, ${(2 * holders).toLocaleString('en')} mailboxes in ${seedSeconds.toFixed(1)} s`);

    // 200 searches, a sixth of each kind, over holders spread through the book.
    const pick = (k: number) => 1 + Math.floor(((k * 7919) % 1000) / 1000 * (holders - 1));
    const queries: { kind: string; q: string }[] = [];
    for (let k = 0; k < SEARCHES; k++) {
      const i = pick(k);
      const ten = Math.max(10, Math.floor(i / 10) * 10);
      const kinds = [
        { kind: 'address-beginning', q: `box${i}` },
        { kind: 'address', q: `box${i}b@pec.example.it` },
        { kind: 'name', q: `${FAMILY[Math.floor(i / 16) % 32]!.toLowerCase()} ${i}` },
        { kind: 'codice-fiscale', q: `bnc${String(i).padStart(13, '0')}` },
        { kind: 'partita-iva', q: `IT ${String(ten).padStart(11, '0')}` },
        { kind: 'reference-email', q: `titolare${i}@example.com` },
      ];
      queries.push(kinds[k % kinds.length]!);
    }
    const timesMs: number[] = [];
    const byKind = new Map<string, number[]>();
    let empty = 0;
    for (const { kind, q } of queries) {
      const t = performance.now();
      const results = await searchHolders(db, q);
      const ms = performance.now() - t;
      if (!results.length) empty++;
      timesMs.push(ms);
      byKind.set(kind, [...(byKind.get(kind) ?? []), ms]);
    }
    const result = {
      engine: db.engine,
      holders,
      mailboxes: 2 * holders,
      searches: SEARCHES,
      searchesWithoutResult: empty,
      p50Ms: Number(percentile([...timesMs].sort((a, b) => a - b), 50).toFixed(2)),
      p99Ms: Number(percentile([...timesMs].sort((a, b) => a - b), 99).toFixed(2)),
      maxMs: Number(Math.max(...timesMs).toFixed(2)),
      byKind: Object.fromEntries([...byKind].map(([k, v]) => [k, { p50Ms: Number(percentile([...v].sort((a, b) => a - b), 50).toFixed(2)), p99Ms: Number(percentile([...v].sort((a, b) => a - b), 99).toFixed(2)) }])),
      seedSeconds: Number(seedSeconds.toFixed(1)),
      peakRssMb: peakRssMb(),
    };
    if (values.json) console.log(JSON.stringify(result));
    else {
      console.log(`search on ${holders.toLocaleString('en')} holders (${db.engine}): ${SEARCHES} searches, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, max ${result.maxMs} ms (${empty} without a result)`);
      for (const [k, v] of Object.entries(result.byKind)) console.log(`  ${k.padEnd(18)} p50 ${v.p50Ms} ms, p99 ${v.p99Ms} ms`);
    }
    return empty === 0 ? 0 : 1;
  } finally {
    await db.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
