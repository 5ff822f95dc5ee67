// `casella bench refunds --refunds N --concurrency C`: R17 refunds per second. H holders each pay
// top-ups (made through the services, as the webhook would), then N operator refunds run C at a
// time through the whole path: the pending record with its wallet hold, the test gateway (which
// refunds at once, in its own table), and the completion with the VAT reversal, the credit note
// (numbered by the invoices' counter, which every refund takes in turn) and the e-mail. Runs on
// DATABASE_URL (a fresh database is advised) or an embedded database in a temporary folder.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { openDatabase } from '../src/db/database.ts';
import { migrate } from '../src/db/migrate.ts';
import { DEFAULT_CATALOGUE } from '../src/domain/catalogue.ts';
import { SYSTEM } from '../src/services/audit.ts';
import { createCustomer } from '../src/services/mailboxes/provision.ts';
import { saveBillingProfile } from '../src/services/billing/billing-profiles.ts';
import { applyPaymentOutcome, createTopup } from '../src/services/billing/topups.ts';
import { refundPayment } from '../src/services/billing/refunds.ts';
import { testGateway } from '../src/payments/test-gateway.ts';
import { verifyLedger } from '../src/ledger/verify.ts';
import type { ServiceContext } from '../src/services/context.ts';
import { peakRssMb, progress } from '../src/cli/progress.ts';
import { percentile } from './purchase.ts';

export const refundsMax = 1_000_000;
export const refundConcurrencyMax = 64;
/** Each top-up takes this many refunds (so refunds of one payment also queue on its lock). */
const REFUNDS_PER_TOPUP = 4;
const TOPUP_NET_CENTS = 10_000;

const BILLING = {
  kind: 'person',
  givenName: 'Mario',
  familyName: 'Rossi',
  taxCode: 'RSSMRA85T10A562S',
  address: { street: 'Via Roma', streetNumber: '1', postalCode: '00184', city: 'Roma', province: 'RM', country: 'IT' },
  sdiCode: '0000000',
};

export async function runRefundBench(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { refunds: { type: 'string', default: '2000' }, concurrency: { type: 'string', default: '8' }, json: { type: 'boolean' } } });
  const count = Number(values.refunds);
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(count) || count < 1 || count > refundsMax || !Number.isInteger(concurrency) || concurrency < 1 || concurrency > refundConcurrencyMax) {
    console.error(`usage: casella bench refunds --refunds N --concurrency C [--json]   (1 ≤ N ≤ ${refundsMax}, 1 ≤ C ≤ ${refundConcurrencyMax})`);
    return 2;
  }
  const url = process.env.DATABASE_URL || undefined;
  const dir = url ? null : mkdtempSync(join(tmpdir(), 'casella-refunds-'));
  const db = await openDatabase({ url, dataDir: dir ?? undefined, poolSizeMax: concurrency + 2 });
  try {
    await migrate(db);
    const ctx: ServiceContext = { db, catalogue: DEFAULT_CATALOGUE, publicUrl: 'http://casella.bench' };
    const gateway = testGateway('bench', () => ctx.publicUrl);
    const topupCount = Math.ceil(count / REFUNDS_PER_TOPUP);
    const holders = Math.min(concurrency, topupCount);
    const bar = progress('paying top-ups');
    const customers: string[] = [];
    for (let h = 0; h < holders; h++) {
      const c = await createCustomer(ctx, SYSTEM, { name: `Bench ${h}`, referenceEmail: `bench-refunds-${randomUUID()}@example.com` });
      await saveBillingProfile(ctx, SYSTEM, c.id, BILLING);
      customers.push(c.id);
    }
    const topupIds: string[] = [];
    for (let i = 0; i < topupCount; i++) {
      const t = await createTopup(ctx, customers[i % holders]!, TOPUP_NET_CENTS, null, 'test');
      await applyPaymentOutcome(ctx, { gateway: 'test', eventId: `evt-bench-${t.id}`, topupId: t.id, outcome: 'succeeded' });
      topupIds.push(t.id);
      if (i % 100 === 0) bar.update(`${i}/${topupCount}`);
    }
    bar.done(`${topupCount} top-ups paid`);

    const running = progress('refunds');
    const latencies: number[] = [];
    let next = 0;
    let errors = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (;;) {
          const n = next++;
          if (n >= count) return;
          const started = performance.now();
          try {
            const r = await refundPayment(ctx, gateway, { kind: 'token', id: 'bench' }, topupIds[n % topupCount]!, 1_000 + (n % 7), 'benchmark', null);
            if (r.status !== 'succeeded') errors++;
          } catch {
            errors++;
          }
          latencies.push(performance.now() - started);
          if (n % 200 === 0) running.update(`${n}/${count}`);
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    running.done(`${count} refunds in ${seconds.toFixed(1)} s`);
    const ledger = await verifyLedger(db);
    latencies.sort((a, b) => a - b);
    const result = {
      engine: db.engine,
      refunds: count,
      concurrency,
      seconds: Math.round(seconds * 10) / 10,
      refundsPerSecond: Math.round((count / seconds) * 10) / 10,
      refundP50Ms: Math.round(percentile(latencies, 50)),
      refundP99Ms: Math.round(percentile(latencies, 99)),
      errors,
      ledgerOk: ledger.ok,
      peakRssMb: peakRssMb(),
    };
    if (values.json) console.log(JSON.stringify(result));
    else console.log(`${count} refunds at concurrency ${concurrency}: ${result.refundsPerSecond}/s, p50 ${result.refundP50Ms} ms, p99 ${result.refundP99Ms} ms, ${errors} errors, ledger ${ledger.ok ? 'ok' : 'NOT ok'}`);
    return errors === 0 && ledger.ok ? 0 : 1;
  } finally {
    await db.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
