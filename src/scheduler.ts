// What `casella serve` runs besides HTTP: the daily job at start and after each midnight in
// Europe/Rome (checked every minute against the clock, so the test clock moving a day runs it too),
// guarded by an advisory lock so one instance runs it; and the outbox delivery loop all the time.
import { savedCardGatewayFor } from './payments/registry.ts';
// R20: with several processes on one database the day's job runs once: the process that finishes it
// records the day in job_runs, and the others, finding the lock taken, look again at the next check
// instead of taking the day as done; if the runner is killed its lock goes with its connection, and
// the next check of another process (within a minute) runs the job (each step is safe to repeat).
import type { App } from './app.ts';
import { clock } from './clock.ts';
import type { CalendarDate } from './domain/calendar.ts';
import { runDailyJob, type DailySummary } from './services/daily.ts';
import { emailBrandOf } from './brand.ts';
import { startDeliveryLoop, type DeliveryLoop } from './mail/delivery.ts';
import { checkChangedUsage } from './services/mailboxes/usage.ts';
import { startSdiLoop, type SdiLoop } from './invoicing/sdi-delivery.ts';
import { channelOf } from './invoicing/channel-of.ts';
import { gatewayFor } from './payments/registry.ts';
import { recoverPendingRefunds } from './services/billing/refunds.ts';
import type { Database } from './db/database.ts';
import { observeDailyJob } from './metrics.ts';

export const DAILY_JOB_LOCK_KEY = 7_300_002;
const DAY_CHECK_INTERVAL_MS = 60_000;
const DAILY_JOB = 'daily';

/** Whether the scheduled daily job already finished for `day`, in any process. */
export async function dailyJobDone(db: Database, day: CalendarDate): Promise<boolean> {
  const rows = await db.query(`SELECT 1 FROM job_runs WHERE job = $1 AND day = $2`, [DAILY_JOB, day.toString()]);
  return rows.length > 0;
}

async function recordDailyJobDone(db: Database, day: CalendarDate): Promise<void> {
  await db.query(`INSERT INTO job_runs (job, day, finished_at) VALUES ($1, $2, $3) ON CONFLICT (job, day) DO NOTHING`, [
    DAILY_JOB,
    day.toString(),
    new Date(clock.wallMs()),
  ]);
}
/** R17: how often pending refunds left by a crash or an unreachable gateway are driven again. */
const REFUND_RECOVERY_INTERVAL_MS = 10_000;

export interface SchedulerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface Scheduler {
  stop(): Promise<void>;
  /** The delivery loop, to kick after e-mails are queued; null without SMTP_URL. */
  delivery: DeliveryLoop | null;
  /** R15: sends invoices to SdI and collects its answers, all the time. */
  sdi: SdiLoop;
}

export function startScheduler(app: App, log: SchedulerLogger, opts: { dayCheckIntervalMs?: number } = {}): Scheduler {
  let lastRunFor: CalendarDate | null = null;
  let running: Promise<void> | null = null;
  let stopped = false;

  const delivery = app.config.smtpUrl
    ? startDeliveryLoop(app.db, { smtpUrl: app.config.smtpUrl, mailFrom: app.config.mailFrom, logger: log, brand: emailBrandOf(app.config.brand, app.config.publicUrl) })
    : null;
  const sdi = startSdiLoop(app.db, channelOf(app), { logger: log });

  const runIfNewDay = () => {
    if (stopped || running) return;
    const today = clock.today();
    if (lastRunFor && lastRunFor.equals(today)) return;
    running = (async () => {
      const startedMs = clock.wallMs();
      let outcome = 'elsewhere' as 'ran' | 'done already' | 'elsewhere';
      try {
        let summary: DailySummary | null = null;
        await app.db.whileHoldingLock(DAILY_JOB_LOCK_KEY, async () => {
          if (await dailyJobDone(app.db, today)) {
            outcome = 'done already';
            return;
          }
          summary = await runDailyJob(app.ctx, { savedCards: savedCardGatewayFor(app.config, app.db) }); // R18
          await recordDailyJobDone(app.db, today);
          outcome = 'ran';
        });
        if (outcome === 'ran') {
          observeDailyJob((clock.wallMs() - startedMs) / 1000, summary);
          log.info({ day: today.toString(), summary }, 'daily job done');
        } else if (outcome === 'done already') {
          log.info({ day: today.toString() }, 'daily job already done today');
        } else {
          // Not marked as run here: if that process dies, the next check runs it.
          log.info({ day: today.toString() }, 'daily job running in another instance');
        }
        if (outcome !== 'elsewhere') lastRunFor = today;
        delivery?.kick();
      } catch (err) {
        // Not marked as run: the next check tries again; the job is safe to repeat.
        observeDailyJob((clock.wallMs() - startedMs) / 1000, null);
        log.error({ err }, 'daily job failed');
      } finally {
        running = null;
      }
    })();
  };

  // R11 with usage reported continuously by the mail server (R14): warnings go out within a minute
  // of the report, not at the next daily run. The pass costs what changed since it last ran.
  let usageRunning: Promise<void> | null = null;
  const runUsagePass = () => {
    if (stopped || running || usageRunning) return;
    usageRunning = (async () => {
      try {
        if ((await checkChangedUsage(app.ctx, 1000)) > 0) delivery?.kick();
      } catch (err) {
        log.error({ err }, 'usage pass failed');
      } finally {
        usageRunning = null;
      }
    })();
  };
  const tick = () => {
    runIfNewDay();
    runUsagePass();
  };

  // R17: a refund left pending (a crash between its steps, a gateway that did not answer) is driven
  // again with the same idempotency key. At start-up every pending one is: no request of this
  // process can still be driving it.
  const gateway = gatewayFor(app.config);
  let refundsRunning: Promise<void> | null = null;
  const runRefundRecovery = (everyPending: boolean) => {
    if (stopped || refundsRunning) return;
    refundsRunning = (async () => {
      try {
        const finished = await recoverPendingRefunds(app.ctx, gateway, { everyPending });
        if (finished > 0) {
          log.info({ finished }, 'pending refunds finished');
          delivery?.kick();
        }
      } catch (err) {
        log.error({ err }, 'refund recovery failed');
      } finally {
        refundsRunning = null;
      }
    })();
  };

  runIfNewDay();
  runRefundRecovery(true);
  const timer = setInterval(tick, opts.dayCheckIntervalMs ?? DAY_CHECK_INTERVAL_MS);
  timer.unref();
  const refundTimer = setInterval(() => runRefundRecovery(false), REFUND_RECOVERY_INTERVAL_MS);
  refundTimer.unref();

  return {
    delivery,
    sdi,
    async stop() {
      stopped = true;
      clearInterval(timer);
      clearInterval(refundTimer);
      await running;
      await refundsRunning;
      await usageRunning;
      await delivery?.stop();
      await sdi.stop();
    },
  };
}
