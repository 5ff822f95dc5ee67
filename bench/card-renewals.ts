// `casella bench card-renewals --mailboxes N [--json]` (R18): N holders with one mailbox each renewing
// by a saved card on the test gateway, due cardRenewalDaysBefore days from today, with the credit
// classes of `bench renewals` (half covered, a quarter covering the mailbox only, a quarter nothing);
// then the real card step of the daily job: charges per second and peak memory, then the ledger.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openApp } from '../src/app.ts';
import { clock } from '../src/clock.ts';
import type { AppConfig } from '../src/config.ts';
import type { Database } from '../src/db/database.ts';
import { addDays } from '../src/domain/calendar.ts';
import { validateBillingProfile } from '../src/domain/billing-profile.ts';
import { verifyLedger } from '../src/ledger/verify.ts';
import { testSavedCardGateway } from '../src/payments/saved-cards.ts';
import { runCardRenewals } from '../src/services/renewals/card-renewals.ts';
import { peakRssMb, progress } from '../src/cli/progress.ts';
import { seedDueMailboxes } from './renewals.ts';

const seedChunkRowsMax = 50_000;
export const cardMailboxesMax = 1_000_000;

/** A person's billing data for every bench holder (R15: a saved-card top-up is invoiced). */
const BENCH_BILLING = {
  kind: 'person', givenName: 'Mario', familyName: 'Rossi', taxCode: 'RSSMRA85T10A562S',
  address: { street: 'Via Roma', streetNumber: '10', postalCode: '00184', city: 'Roma', province: 'RM', country: 'IT' }, sdiCode: '0000000',
};

/** `bench renewals`' holders, each with a saved test card (charges succeed) chosen for its mailbox. */
export async function seedCardRenewals(db: Database, n: number, dueOn: string, onProgress?: (done: number) => void): Promise<void> {
  await seedDueMailboxes(db, n, dueOn);
  const profile = validateBillingProfile(BENCH_BILLING);
  if (!profile.ok) throw new Error('bench billing profile is not valid');
  const at = clock.now();
  for (let from = 1; from <= n; from += seedChunkRowsMax) {
    const to = Math.min(n, from + seedChunkRowsMax - 1);
    await db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO billing_profiles (customer_id, profile, updated_at) SELECT 'cus_bench' || g, $3, $4 FROM generate_series($1::int, $2::int) g`,
        [from, to, JSON.stringify(profile.value), at],
      );
      await tx.query(
        `INSERT INTO payment_methods (id, customer_id, gateway, gateway_reference, brand, last4, exp_month, exp_year, created_at)
         SELECT 'pm_bench' || g, 'cus_bench' || g, 'test', 'tcard_ok_' || lpad(to_hex(g), 12, '0'), 'visa', '4242', 12, 2034, $3
           FROM generate_series($1::int, $2::int) g`,
        [from, to, at],
      );
      await tx.query(
        `UPDATE mailboxes SET card_renewal_payment_method_id = 'pm_bench' || substr(id, 10) WHERE id = ANY (SELECT 'mbx_bench' || g FROM generate_series($1::int, $2::int) g)`,
        [from, to],
      );
    });
    onProgress?.(to);
  }
  await db.exec('ANALYZE');
}

export async function runCardRenewalBench(config: AppConfig, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { mailboxes: { type: 'string' }, json: { type: 'boolean' }, concurrency: { type: 'string' } } });
  const n = Number(values.mailboxes);
  const concurrency = values.concurrency === undefined ? undefined : Number(values.concurrency);
  if (!Number.isSafeInteger(n) || n < 1 || n > cardMailboxesMax || (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1 && concurrency <= 64))) {
    console.error(`usage: casella bench card-renewals --mailboxes N [--concurrency C] [--json]   (1 ≤ N ≤ ${cardMailboxesMax}, 1 ≤ C ≤ 64)`);
    return 2;
  }
  if (config.production) {
    console.error('the benchmark is refused in production');
    return 2;
  }
  if (!config.databaseUrl) config.dataDir = mkdtempSync(join(tmpdir(), 'casella-bench-'));
  const app = await openApp(config, { poolSizeMax: 10 });
  try {
    const [{ count }] = (await app.db.query<{ count: number }>('SELECT count(*)::int8 AS count FROM customers')) as [{ count: number }];
    if (count > 0) {
      console.error(`the database already holds ${count} holders; the benchmark needs an empty, throwaway database`);
      return 2;
    }
    const dueOn = addDays(clock.today(), app.ctx.catalogue.cardRenewalDaysBefore).toString();
    const seed = progress('seeding');
    await seedCardRenewals(app.db, n, dueOn, (done) => seed.update(`${done}/${n}`));
    seed.done(`${n} mailboxes renewing by card, due ${dueOn} (${app.db.engine})`);
    // As in `bench renewals`: the seed's dirty pages are written before the timed step, not during it.
    await app.db.query('CHECKPOINT');
    const job = progress('card renewals');
    const started = performance.now();
    const summary = await runCardRenewals(app.ctx, testSavedCardGateway(app.db, () => app.config.publicUrl), concurrency === undefined ? {} : { concurrencyMax: concurrency });
    const seconds = (performance.now() - started) / 1000;
    job.done(`${JSON.stringify(summary)} in ${seconds.toFixed(2)} s`);
    const report = await verifyLedger(app.db);
    // Classes 2 (mailbox only: the extra space is short) and 3 (nothing) need a charge.
    const expected = Math.floor((n + 2) / 4) + Math.floor((n + 1) / 4);
    const [{ charged }] = (await app.db.query<{ charged: number }>(`SELECT count(*)::int AS charged FROM test_gateway_charges`)) as [{ charged: number }];
    const exact = summary.cardChargesSucceeded === expected && charged === expected;
    if (!exact) console.error(`expected ${expected} charges, the run reports ${summary.cardChargesSucceeded} and the gateway ${charged}`);
    const result = {
      mailboxes: n,
      charges: summary.cardChargesSucceeded,
      seconds: Math.round(seconds * 1000) / 1000,
      chargesPerSecond: Math.round(summary.cardChargesSucceeded / seconds),
      peakRssMb: peakRssMb(),
      ledgerOk: report.ok,
    };
    if (values.json) console.log(JSON.stringify(result));
    else console.log(`${n} mailboxes: ${result.charges} card charges in ${result.seconds} s, ${result.chargesPerSecond} charges/s, peak RSS ${result.peakRssMb} MB, ledger ${report.ok ? 'ok' : 'NOT ok'}`);
    return report.ok && exact ? 0 : 1;
  } finally {
    await app.db.close();
  }
}
