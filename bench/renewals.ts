// `casella bench renewals --mailboxes N [--json]`: N holders with one mailbox each, all due today with
// 2 GB of extra space — half with credit for both, a quarter for the mailbox only, a quarter with
// nothing — seeded with bulk SQL, then the real daily job, timed, then the ledger verified.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openApp } from '../src/app.ts';
import { clock } from '../src/clock.ts';
import type { AppConfig } from '../src/config.ts';
import type { Database } from '../src/db/database.ts';
import { cpuSince, markCpu, type PhaseCpu } from './cpu.ts';
import { verifyLedger } from '../src/ledger/verify.ts';
import { hashPassword } from '../src/services/access/passwords.ts';
import { runDailyJob } from '../src/services/daily.ts';
import { peakRssMb, progress } from '../src/cli/progress.ts';
import { profileStatements } from './statement-profile.ts';

/** Rows seeded per INSERT statement, so the seed's memory stays flat too. */
const seedChunkRowsMax = 50_000;
export const mailboxesMax = 10_000_000;

export interface RenewalBenchResult {
  mailboxes: number;
  seconds: number;
  renewalsPerSecond: number;
  peakRssMb: number;
  ledgerOk: boolean;
  /** With --cpu: the CPU the daily job cost this process and PostgreSQL's backends serving its database. */
  cpu?: PhaseCpu;
}

/**
 * Seeds holders bench-1..N. Wallet credit is given by an opening adjustment with its postings, as an
 * operator would, so the ledger verifies before and after the job.
 */
export async function seedDueMailboxes(db: Database, n: number, today: string, onProgress?: (done: number) => void): Promise<void> {
  const passwordHash = await hashPassword('bench-password');
  const at = clock.now();
  for (let from = 1; from <= n; from += seedChunkRowsMax) {
    const to = Math.min(n, from + seedChunkRowsMax - 1);
    // Credit class by holder number: 0,1 → both (500 + 2 × 300); 2 → the mailbox only; 3 → nothing.
    const credit = `(CASE g % 4 WHEN 0 THEN 1100 WHEN 1 THEN 1100 WHEN 2 THEN 500 ELSE 0 END)`;
    await db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO customers (id, name, reference_email, locale, created_at)
         SELECT 'cus_bench' || g, 'Bench holder ' || g, 'bench' || g || '@example.com', 'it', $3 FROM generate_series($1::int, $2::int) g`,
        [from, to, at],
      );
      await tx.query(
        `INSERT INTO wallets (customer_id, balance_cents, updated_at)
         SELECT 'cus_bench' || g, ${credit}, $3 FROM generate_series($1::int, $2::int) g`,
        [from, to, at],
      );
      await tx.query(
        `INSERT INTO ledger_transactions (id, customer_id, kind, wallet_amount_cents, balance_after_cents, description, created_at)
         SELECT 'txn_bench' || g, 'cus_bench' || g, 'adjustment', ${credit}, ${credit}, 'Credito iniziale (benchmark)', $3
           FROM generate_series($1::int, $2::int) g WHERE g % 4 <> 3`,
        [from, to, at],
      );
      await tx.query(
        `INSERT INTO ledger_postings (transaction_id, account, amount_cents)
         SELECT 'txn_bench' || g, a.account, a.sign * ${credit}
           FROM generate_series($1::int, $2::int) g
          CROSS JOIN LATERAL (VALUES ('wallet:cus_bench' || g, 1), ('adjustments', -1)) AS a(account, sign)
          WHERE g % 4 <> 3`,
        [from, to],
      );
      await tx.query(
        `INSERT INTO mailboxes (id, customer_id, address, password_hash, type, status, expires_on, used_bytes, created_at, updated_at)
         SELECT 'mbx_bench' || g, 'cus_bench' || g, 'bench' || g || '@pec.bench.test', $3, 'standard', 'active', $4::date,
                (g % 1000) * 1048576, $5, $5
           FROM generate_series($1::int, $2::int) g`,
        [from, to, passwordHash, today, at],
      );
      await tx.query(
        `INSERT INTO addons (mailbox_id, quantity_gb, status, active_until, updated_at)
         SELECT 'mbx_bench' || g, 2, 'active', $3::date, $4 FROM generate_series($1::int, $2::int) g`,
        [from, to, today, at],
      );
    });
    onProgress?.(to);
  }
  // A book in its steady state: the usage pass (R11) has already looked at these mailboxes' usage.
  await db.exec('TRUNCATE usage_changes');
  await db.exec('ANALYZE');
}

export async function runRenewalBench(config: AppConfig, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { mailboxes: { type: 'string' }, json: { type: 'boolean' }, 'data-dir': { type: 'string' }, workers: { type: 'string' }, profile: { type: 'boolean' }, cpu: { type: 'boolean' } } });
  const workers = values.workers === undefined ? undefined : Number(values.workers);
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1 && workers <= 8)) {
    console.error('--workers must be a whole number from 1 to 8');
    return 2;
  }
  const n = Number(values.mailboxes);
  if (!Number.isSafeInteger(n) || n < 1 || n > mailboxesMax) {
    console.error(`usage: casella bench renewals --mailboxes N [--workers W] [--profile] [--cpu] [--json]   (1 ≤ N ≤ ${mailboxesMax})`);
    return 2;
  }
  if (config.production) {
    console.error('the benchmark is refused in production: it renews every mailbox due today');
    return 2;
  }
  // The embedded engine gets a fresh folder unless one is named, so a bench never touches ./data.
  if (!config.databaseUrl) config.dataDir = values['data-dir'] ?? mkdtempSync(join(tmpdir(), 'casella-bench-'));
  const app = await openApp(config, { poolSizeMax: 10 });
  try {
    const [{ count }] = (await app.db.query<{ count: number }>('SELECT count(*)::int8 AS count FROM customers')) as [{ count: number }];
    if (count > 0) {
      console.error(`the database already holds ${count} holders; the benchmark needs an empty, throwaway database`);
      return 2;
    }
    const today = clock.today().toString();
    const seed = progress('seeding');
    const seedStart = performance.now();
    await seedDueMailboxes(app.db, n, today, (done) => seed.update(`${done}/${n} mailboxes`));
    seed.done(`${n} mailboxes due ${today} in ${((performance.now() - seedStart) / 1000).toFixed(1)} s (${app.db.engine})`);
    // The seed's dirty pages are written now, so the checkpoint they would force falls outside the
    // timed job: otherwise a build whose seed writes more (an index more) pays for it in the job.
    await app.db.query('CHECKPOINT');

    // --profile times each statement of the job from the client (the timing itself costs little).
    const profile = values.profile ? profileStatements(app.db) : null;
    const ctx = profile ? { ...app.ctx, db: profile.db } : app.ctx;
    const job = progress('daily job');
    // --cpu: PostgreSQL's backends are found by their database's name, on this machine.
    const cpuDatabase = values.cpu && config.databaseUrl ? decodeURIComponent(new URL(config.databaseUrl).pathname.slice(1)) : null;
    const cpuMark = values.cpu ? markCpu(cpuDatabase) : null;
    const started = performance.now();
    const summary = await runDailyJob(ctx, workers === undefined ? {} : { workers });
    const seconds = (performance.now() - started) / 1000;
    const spent = cpuMark ? cpuSince(cpuMark, cpuDatabase) : undefined;
    const cpu = spent ? { processMs: Math.round(spent.processMs), postgresMs: spent.postgresMs } : undefined;
    job.done(`${JSON.stringify(summary)} in ${seconds.toFixed(2)} s${cpu ? `, CPU ${cpu.processMs} ms here + ${cpu.postgresMs ?? '?'} ms PostgreSQL` : ''}`);
    if (profile) for (const line of profile.report()) console.error(line);

    const verify = progress('ledger verify');
    const report = await verifyLedger(app.db);
    verify.done(report.ok ? `ok (${report.customersChecked} holders)` : `FAILED: ${JSON.stringify(report.problems.slice(0, 5))}`);
    const expectedRenewed = n - Math.floor((n + 1) / 4); // every holder but class 3
    const exact = summary.mailboxesRenewed === expectedRenewed;
    if (!exact) console.error(`expected ${expectedRenewed} mailboxes renewed, the job reports ${summary.mailboxesRenewed}`);
    const result: RenewalBenchResult = {
      mailboxes: n,
      seconds: Math.round(seconds * 1000) / 1000,
      renewalsPerSecond: Math.round(summary.mailboxesRenewed / seconds),
      peakRssMb: peakRssMb(),
      ledgerOk: report.ok,
      ...(cpu ? { cpu } : {}),
    };
    if (values.json) console.log(JSON.stringify(result));
    else console.log(`${n} mailboxes: daily job ${result.seconds} s, ${result.renewalsPerSecond} renewals/s, peak RSS ${result.peakRssMb} MB, ledger ${report.ok ? 'ok' : 'NOT ok'}`);
    return report.ok && exact ? 0 : 1;
  } finally {
    await app.db.close();
  }
}
