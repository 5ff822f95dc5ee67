// The daily job (API.md POST /api/admin/jobs/daily, `casella daily`, the scheduler), for today:
// R5 waiting orders expire, R7 renewals on day E, R8 termination after grace, R10 expiry alerts,
// R11 usage warnings, R18 card charges. Every step works in bounded batches, each batch one transaction, and is
// idempotent: a second run the same day (or a concurrent one) changes nothing and queues nothing.
import { clock } from '../clock.ts';
import { queueExpiryAlerts } from './renewals/alerts.ts';
import type { ServiceContext } from './context.ts';
import { expireWaitingOrders } from './billing/orders.ts';
import { renewAddonsAfterMailboxes } from './renewals/addon-renewals.ts';
import { renewDueMailboxes, terminatePastGrace } from './renewals/renewals.ts';
import { checkChangedUsage } from './mailboxes/usage.ts';
import { purgeExpired } from './purge.ts';
import { runCardRenewals } from './renewals/card-renewals.ts';
import type { SavedCardGateway } from '../payments/saved-cards.ts';

export { forecastRenewals } from './renewals/renewals.ts';
import { expireBankTransfers } from './billing/topups.ts';

export interface DailySummary {
  alertsQueued: number;
  usageWarningsQueued: number;
  mailboxesRenewed: number;
  addonsRenewed: number;
  addonsDeactivated: number;
  mailboxesExpired: number;
  mailboxesTerminated: number;
  ordersExpired: number;
  /** R18 (issue 22): saved-card charges sent to the gateway in this run, and how they were answered. */
  cardChargesAttempted: number;
  cardChargesSucceeded: number;
  cardChargesFailed: number;
  cardChargesAuthenticationRequired: number;
}

/** A run without the card step (no gateway for saved cards), or one recorded before it was counted. */
export const NO_CARD_CHARGES = { cardChargesAttempted: 0, cardChargesSucceeded: 0, cardChargesFailed: 0, cardChargesAuthenticationRequired: 0 } as const;

export type DailyStep = 'orders' | 'renewals' | 'terminations' | 'alerts' | 'usage' | 'purge';

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
  const startedAt = clock.now();

  const ordersExpired = await expireWaitingOrders(ctx);
  progress('orders', ordersExpired);
  // R18 (issue 22): card charges before the renewals, so a charge caught up on E is credit at E.
  // For R20 several processes may run this at once: claims are per (mailbox, period) and leased.
  const cards = opts.savedCards ? await runCardRenewals(ctx, opts.savedCards, { batchSizeMax }) : NO_CARD_CHARGES;
  // R17: transfer top-ups unpaid after 10 days expire (the summary's shape is API.md's; not counted there).
  await expireBankTransfers(ctx);
  // Renewals before terminations: a mailbox that expires today (even long overdue) gets its grace
  // counted from its E, and is terminated in this same run only if that grace is already over.
  const workers = ctx.db.engine === 'postgres' ? (opts.workers ?? dailyWorkersDefault) : 1;
  const renewals = await renewDueMailboxes(ctx, today, batchSizeMax, (n) => progress('renewals', n), workers);
  // R7.3: extra space after every due mailbox; R7.6: whatever the mailbox's E.
  const addons = await renewAddonsAfterMailboxes(ctx, today, batchSizeMax);
  const mailboxesTerminated = await terminatePastGrace(ctx, today, batchSizeMax);
  progress('terminations', mailboxesTerminated);
  const alertsQueued = await queueExpiryAlerts(ctx, today, batchSizeMax);
  progress('alerts', alertsQueued);
  const usageWarningsQueued = await checkChangedUsage(ctx, batchSizeMax);
  progress('usage', usageWarningsQueued);
  // Issue 19: housekeeping last, outside the summary API.md fixes.
  const purged = await purgeExpired(ctx, batchSizeMax);
  progress('purge', Object.values(purged).reduce((sum, n) => sum + n, 0));

  const summary: DailySummary = {
    alertsQueued,
    usageWarningsQueued,
    ...renewals,
    addonsRenewed: renewals.addonsRenewed + addons.addonsRenewed,
    addonsDeactivated: renewals.addonsDeactivated + addons.addonsDeactivated,
    mailboxesTerminated,
    ordersExpired,
    cardChargesAttempted: cards.cardChargesAttempted,
    cardChargesSucceeded: cards.cardChargesSucceeded,
    cardChargesFailed: cards.cardChargesFailed,
    cardChargesAuthenticationRequired: cards.cardChargesAuthenticationRequired,
  };
  // R19: the staff's overview shows when the job last ran and what it did.
  await ctx.db.query('INSERT INTO daily_job_runs (day, started_at, finished_at, summary) VALUES ($1, $2, $3, $4)', [
    today.toString(), startedAt, clock.now(), JSON.stringify(summary),
  ]);
  return summary;
}
