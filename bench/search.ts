// `casella bench search --holders N`: R19's staff search on a big book. The book (bench/search-book.ts:
// N holders with Italian names, 2N mailboxes, an invoice for a fifth of them) is made in bulk SQL; then
// 200 searches as staff type them — whole addresses and their beginnings, whole names and parts of
// names with or without accents, codici fiscali, partite IVA, reference e-mails, invoice numbers, and
// searches that find nobody — each timed from the client, with p50 and p99 overall and by kind,
// after a few searches for nobody that warm the connection up (timed apart).
// Each search is also checked: an identifier finds its holder first, a name or a beginning finds
// someone, a miss finds nobody; the command fails otherwise.
// Runs on DATABASE_URL (an empty database, or with --reuse one this command filled with the same N)
// or an embedded database in a temporary folder.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase, type Database, type Queryable } from '../src/db/database.ts';
import { migrate } from '../src/db/migrate.ts';
import { searchHolders } from '../src/services/staff/search.ts';
import { peakRssMb, progress } from '../src/cli/progress.ts';
import { percentile } from './purchase.ts';
import { INVOICE_YEAR, PEC_DOMAIN, hasInvoice, holderId, isBusiness, makeSearchBook, readHolders, slug, type BookHolder } from './search-book.ts';

export const holdersMax = 5_000_000;
const ROUNDS_MAX = 20;

/** What a search must find: its holder first, someone, or nobody. */
type Expect = { first: string } | { among: string } | 'some' | 'none';
interface Search {
  kind: string;
  q: string;
  expect: Expect;
}

/** How many of the 200 searches each kind gets, roughly as a support desk types them (they add up to 200). */
const MIX: [kind: string, count: number][] = [
  ['address', 16],
  ['address-beginning', 34],
  ['name', 24],
  ['name-part', 30],
  ['codice-fiscale', 20],
  ['partita-iva', 14],
  ['reference-email', 16],
  ['invoice', 16],
  ['miss', 30],
];

const MISSES = [
  'Wojciechowski',
  'zz.nessuno@' + PEC_DOMAIN,
  'qqzz.',
  'ZZZZZZ99Z99Z999Z',
  'IT 99999999999',
  'nessuno@example.invalid',
  `${INVOICE_YEAR - 1}/000001`,
  'Rossi Zappalà',
  'Maria Giuseppe Esposito Colombo',
  'Xyzzy',
];

/** A pseudo-random pick that is the same on every run. */
const pick = <T>(items: readonly T[], k: number): T => items[(k * 2654435761) % 4294967291 % items.length]!;
const dropAccents = (s: string): string => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '');

function searchesFor(kind: string, k: number, h: BookHolder): Search {
  const address = pick(h.addresses, k);
  const [given, ...rest] = h.name.split(' ');
  // The surname, or a company's most telling word: the last word of four letters or more, without dots.
  const family = h.name.split(' ').filter((word) => /^[\p{L}']{4,}$/u.test(word)).at(-1) ?? h.name;
  switch (kind) {
    case 'address':
      return { kind, q: k % 4 === 0 ? address.toUpperCase() : address, expect: { first: h.id } };
    case 'address-beginning': {
      const local = address.split('@')[0]!;
      const q = k % 5 === 0 ? `${local}@` : address.slice(0, Math.max(3, Math.ceil(local.length * (0.4 + (k % 4) * 0.15))));
      return { kind, q, expect: 'some' };
    }
    case 'name': {
      const forms = [h.name, dropAccents(h.name).toLowerCase(), h.name.toUpperCase(), `${rest.join(' ')} ${given}`];
      return { kind, q: forms[k % forms.length]!, expect: 'some' };
    }
    case 'name-part': {
      const middle = slug(family).length >= 6 ? slug(family).slice(1, 5) : slug(family);
      const forms = [dropAccents(family).toLowerCase(), given!, middle, h.name.split(' ').slice(0, 2).join(' ').slice(0, -2)];
      return { kind, q: forms[k % forms.length]!, expect: 'some' };
    }
    case 'codice-fiscale':
      return { kind, q: k % 3 === 0 ? h.taxCode.toLowerCase() : h.taxCode, expect: { first: h.id } };
    case 'partita-iva': {
      const vat = h.vatNumber!;
      return { kind, q: [vat, `IT${vat}`, `IT ${vat}`][k % 3]!, expect: { first: h.id } };
    }
    case 'reference-email':
      // Two namesakes may share an e-mail (a family's), so the holder is among the first, not always first.
      return { kind, q: h.referenceEmail, expect: { among: h.id } };
    case 'invoice': {
      const [year, sequence] = h.invoiceNumber!.split('/');
      return { kind, q: k % 2 === 0 ? h.invoiceNumber! : `${year}/${Number(sequence)}`, expect: { first: h.id } };
    }
    default:
      return { kind, q: MISSES[k % MISSES.length]!, expect: 'none' };
  }
}

/** The 200 searches, over holders spread through the book, kinds interleaved. */
async function makeSearches(db: Queryable, holders: number, round: number): Promise<Search[]> {
  const wanted: { kind: string; k: number; i: number }[] = [];
  for (const [kind, count] of MIX) {
    for (let k = 0; k < count; k++) {
      let i = 1 + ((k * 7919 + kind.length * 104729 + round * 15485863) % holders);
      // Each kind from holders who have that identifier.
      while ((kind === 'partita-iva' && !isBusiness(i)) || (kind === 'codice-fiscale' && isBusiness(i)) || (kind === 'invoice' && !hasInvoice(i))) i = (i % holders) + 1;
      wanted.push({ kind, k, i });
    }
  }
  const facts = await readHolders(db, wanted.map((w) => holderId(w.i)));
  const searches = wanted.map((w, n) => searchesFor(w.kind, w.k, facts[n]!));
  // Interleaved, as they would come in.
  return searches.map((s, n) => ({ s, order: (n * 7919) % searches.length })).sort((a, b) => a.order - b.order).map((x) => x.s);
}

/** Searches for nobody, one of each shape, made before the timed rounds. */
const WARM_UP = ['Warm Up', 'warm.up@example.invalid', 'warmup', 'WRMPUA80A01H501U', 'IT 00000000000', '1999/1', "Warm D'Up", 'zz'];
const timedSearch = async (db: Database, q: string): Promise<number> => {
  const t = performance.now();
  await searchHolders(db, q);
  return performance.now() - t;
};

const round2 = (ms: number) => Number(ms.toFixed(2));
const summary = (times: number[]) => {
  const sorted = [...times].sort((a, b) => a - b);
  return { p50Ms: round2(percentile(sorted, 50)), p99Ms: round2(percentile(sorted, 99)), maxMs: round2(sorted.at(-1) ?? 0) };
};

export async function runSearchBench(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { holders: { type: 'string', default: '1000000' }, rounds: { type: 'string', default: '1' }, json: { type: 'boolean' }, reuse: { type: 'boolean' } },
  });
  const holders = Number(values.holders);
  const roundsWanted = Number(values.rounds);
  if (!Number.isInteger(holders) || holders < 100 || holders > holdersMax || !Number.isInteger(roundsWanted) || roundsWanted < 1 || roundsWanted > ROUNDS_MAX) {
    console.error(
      `usage: casella bench search --holders N [--rounds R] [--reuse] [--json]   (100 ≤ N ≤ ${holdersMax}, two mailboxes each; R ≤ ${ROUNDS_MAX} rounds of 200 searches, each of other holders; DATABASE_URL, or an embedded database in a temporary folder; --reuse searches a book this command made before with the same N)`,
    );
    return 2;
  }
  const url = process.env.DATABASE_URL || undefined;
  const dir = url ? null : mkdtempSync(join(tmpdir(), 'casella-search-'));
  const db = await openDatabase({ url, dataDir: dir ?? undefined });
  try {
    await migrate(db);
    const [{ n }] = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM customers')) as [{ n: number }];
    const [{ ours }] = (await db.query<{ ours: boolean }>('SELECT EXISTS (SELECT 1 FROM customers WHERE id = $1) AS ours', [holderId(holders)])) as [{ ours: boolean }];
    let seedSeconds: number | null = null;
    const seedSteps: Record<string, number> = {};
    if (n > 0 && !(values.reuse && n === holders && ours)) {
      console.error(`bench search: the database already holds holders; give it an empty one${values.reuse ? ` (or one this command filled with --holders ${n})` : ''}`);
      return 2;
    }
    if (n === 0) {
      const bar = progress('making the book');
      const t0 = performance.now();
      let stepStart = t0;
      let current = '';
      const lap = () => {
        if (current) seedSteps[current] = Number(((performance.now() - stepStart) / 1000).toFixed(1));
        stepStart = performance.now();
      };
      await makeSearchBook(db, holders, (what) => {
        lap();
        current = what;
        bar.update(what);
      });
      lap();
      seedSeconds = (performance.now() - t0) / 1000;
      bar.done(`${holders.toLocaleString('en')} holders, ${(2 * holders).toLocaleString('en')} mailboxes in ${seedSeconds.toFixed(1)} s`);
    }
    type Book = { holders: number; mailboxes: number; invoices: number; database: number; searched: number };
    const [book] = (await db.query<Book>(
      `SELECT (SELECT count(*) FROM customers)::int AS holders, (SELECT count(*) FROM mailboxes)::int AS mailboxes,
              (SELECT count(*) FROM invoices)::int AS invoices, pg_database_size(current_database())::bigint AS database,
              (SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c
                WHERE c.relname IN ('customers', 'mailboxes', 'billing_profiles', 'invoices') AND c.relnamespace = 'public'::regnamespace)::bigint AS searched`,
    )) as [Book];

    // A connection's first searches load pg_trgm and unaccent (whose rules file is read then) and
    // fill its catalog caches: tens of milliseconds once, which a server's pooled connections pay
    // when they open. They are made first, timed apart, and the rounds measure what follows.
    const warmUp = performance.now();
    const firstSearchMs = await timedSearch(db, WARM_UP[0]!);
    for (const q of WARM_UP.slice(1)) await searchHolders(db, q);
    const warmUpMs = performance.now() - warmUp;

    // Each round searches other holders of the same book, so a round does not find its pages cached
    // by the one before.
    const timed: { kind: string; q: string; ms: number; results: number }[] = [];
    const wrong: string[] = [];
    const rounds: { p50Ms: number; p99Ms: number; maxMs: number; loadAverage1m: number }[] = [];
    for (let round = 0; round < roundsWanted; round++) {
      const times: number[] = [];
      for (const { kind, q, expect } of await makeSearches(db, holders, round)) {
        const t = performance.now();
        const results = await searchHolders(db, q);
        const ms = performance.now() - t;
        times.push(ms);
        timed.push({ kind, q, ms, results: results.length });
        const ok =
          expect === 'none' ? results.length === 0
          : expect === 'some' ? results.length > 0
          : 'first' in expect ? results[0]?.customerId === expect.first
          : results.some((r) => r.customerId === expect.among);
        if (!ok) wrong.push(`${kind} "${q}": ${results.length} results, first ${results[0]?.customerId ?? 'none'}; expected ${JSON.stringify(expect)}`);
      }
      rounds.push({ ...summary(times), loadAverage1m: Number(loadavg()[0]!.toFixed(2)) });
    }
    const byKind = new Map<string, number[]>();
    for (const { kind, ms } of timed) byKind.set(kind, [...(byKind.get(kind) ?? []), ms]);
    const mb = (bytes: number) => Math.round(bytes / 1048576);
    const result = {
      engine: db.engine,
      holders: book.holders,
      mailboxes: book.mailboxes,
      invoices: book.invoices,
      searches: timed.length,
      wrong: wrong.length,
      ...summary(timed.map((x) => x.ms)),
      rounds,
      firstSearchMs: round2(firstSearchMs),
      warmUpSearches: WARM_UP.length,
      warmUpMs: round2(warmUpMs),
      byKind: Object.fromEntries([...byKind].map(([kind, times]) => [kind, { searches: times.length, ...summary(times) }])),
      seedSeconds: seedSeconds === null ? null : Number(seedSeconds.toFixed(1)),
      seedSteps,
      databaseMb: mb(book.database),
      searchedTablesMb: mb(book.searched),
      cpus: cpus().length,
      peakRssMb: peakRssMb(),
    };
    for (const line of wrong) console.error(`bench search: wrong answer: ${line}`);
    if (values.json) console.log(JSON.stringify(result));
    else {
      console.log(`search on ${book.holders.toLocaleString('en')} holders, ${book.mailboxes.toLocaleString('en')} mailboxes (${db.engine}): ${timed.length} searches, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, max ${result.maxMs} ms (${wrong.length} wrong)`);
      console.log(`  before the rounds: ${WARM_UP.length} searches for nobody on the new connection in ${result.warmUpMs} ms, the first ${result.firstSearchMs} ms`);
      for (const [n, r] of rounds.entries()) console.log(`  round ${n + 1}: p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, max ${r.maxMs} ms, load average ${r.loadAverage1m} on ${result.cpus} cores`);
      for (const [kind, v] of Object.entries(result.byKind)) console.log(`  ${kind.padEnd(18)} ${String(v.searches).padStart(3)} searches, p50 ${v.p50Ms} ms, p99 ${v.p99Ms} ms, max ${v.maxMs} ms`);
      console.log('  slowest:');
      for (const slow of [...timed].sort((a, b) => b.ms - a.ms).slice(0, 8)) console.log(`    ${slow.ms.toFixed(1).padStart(7)} ms  ${slow.kind.padEnd(18)} ${JSON.stringify(slow.q)} (${slow.results} results)`);
      console.log(`  database ${result.databaseMb} MB (the four searched tables with their indexes ${result.searchedTablesMb} MB)${seedSeconds === null ? '' : `, made in ${result.seedSeconds} s (${Object.entries(seedSteps).map(([step, seconds]) => `${step} ${seconds} s`).join(', ')})`}`);
    }
    return wrong.length === 0 ? 0 : 1;
  } finally {
    await db.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
