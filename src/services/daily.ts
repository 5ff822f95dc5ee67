// The daily job (API.md POST /api/admin/jobs/daily, `casella daily`, the scheduler), for today:
// R5 waiting orders expire, R7 renewals on day E, R8 termination after grace, R10 expiry alerts,
// R11 usage warnings. Every step works in bounded batches, each batch one transaction, and is
// idempotent: a second run the same day (or a concurrent one) changes nothing and queues nothing.
import { clock } from '../clock.ts';
import { queueExpiryAlerts } from './alerts.ts';
import type { ServiceContext } from './context.ts';
import { expireWaitingOrders } from './orders.ts';
import { renewAddonsEndingBeforeMailbox } from './addon-renewals.ts';
import { renewDueMailboxes, terminatePastGrace } from './renewals.ts';
import { checkChangedUsage } from './usage.ts';
import { runCardRenewals } from './card-renewals.ts';
import type { SavedCardGateway } from '../payments/saved-cards.ts';

export { forecastRenewals } from './renewals.ts';

export interface DailySummary {
  alertsQueued: number;
  usageWarningsQueued: number;
  mailboxesRenewed: number;
  addonsRenewed: number;
  addonsDeactivated: number;
  mailboxesExpired: number;
  mailboxesTerminated: number;
  ordersExpired: number;
}

export type DailyStep = 'orders' | 'renewals' | 'terminations' | 'alerts' | 'usage';

export interface DailyJobOptions {
  /** Mailboxes per batch (one transaction each). */
  batchSizeMax?: number;
  /**
   * Renewal batches run at once, each worker on its own share of the holders (PostgreSQL only;
   * PGlite has one connection). Default 2: on two cores, 1,000,000 renewals took 209 s instead of
   * 299 s with one (docs/PERFORMANCE.md).
   */
  workers?: number;
  /** R18: the gateway that charges saved cards; without it the card step does not run. */
  savedCards?: SavedCardGateway;
  /** Called after each renewal batch and after each step, for progress on a terminal. */
  onProgress?: (step: DailyStep, done: number) => void;
}

export const dailyBatchSizeDefault = 1000;
export const dailyWorkersDefault = 2;

export async function runDailyJob(ctx: ServiceContext, opts: DailyJobOptions = {}): Promise<DailySummary> {
  const batchSizeMax = opts.batchSizeMax ?? dailyBatchSizeDefault;
  const progress = opts.onProgress ?? (() => {});
  const today = clock.today();

  const ordersExpired = await expireWaitingOrders(ctx);
  progress('orders', ordersExpired);
  // R18 (issue 22): card charges before the renewals, so a charge caught up on E is credit at E.
  // For R20 several processes may run this at once: claims are per (mailbox, period) and leased.
  if (opts.savedCards) await runCardRenewals(ctx, opts.savedCards, { batchSizeMax });
  // Renewals before terminations: a mailbox that expires today (even long overdue) gets its grace
  // counted from its E, and is terminated in this same run only if that grace is already over.
  // R7.5: extra space ending before its mailbox first, so that by E an add-on still active ends with it.
  const addons = await renewAddonsEndingBeforeMailbox(ctx, today, batchSizeMax);
  const workers = ctx.db.engine === 'postgres' ? (opts.workers ?? dailyWorkersDefault) : 1;
  const renewals = await renewDueMailboxes(ctx, today, batchSizeMax, (n) => progress('renewals', n), workers);
  const mailboxesTerminated = await terminatePastGrace(ctx, today, batchSizeMax);
  progress('terminations', mailboxesTerminated);
  const alertsQueued = await queueExpiryAlerts(ctx, today, batchSizeMax);
  progress('alerts', alertsQueued);
  const usageWarningsQueued = await checkChangedUsage(ctx, batchSizeMax);
  progress('usage', usageWarningsQueued);

  return {
    alertsQueued,
    usageWarningsQueued,
    ...renewals,
    addonsRenewed: renewals.addonsRenewed + addons.addonsRenewed,
    addonsDeactivated: renewals.addonsDeactivated + addons.addonsDeactivated,
    mailboxesTerminated,
    ordersExpired,
  };
}
