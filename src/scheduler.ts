// What `casella serve` runs besides HTTP: the daily job at start and after each midnight in
// Europe/Rome (checked every minute against the clock, so the test clock moving a day runs it too),
// guarded by an advisory lock so one instance runs it; and the outbox delivery loop all the time.
import { savedCardGatewayFor } from './payments/registry.ts';
import type { App } from './app.ts';
import { clock } from './clock.ts';
import type { CalendarDate } from './domain/calendar.ts';
import { runDailyJob, type DailySummary } from './services/daily.ts';
import { emailBrandOf } from './brand.ts';
import { startDeliveryLoop, type DeliveryLoop } from './mail/delivery.ts';
import { checkChangedUsage } from './services/usage.ts';
import { startSdiLoop, type SdiLoop } from './invoicing/sdi-delivery.ts';
import { channelOf } from './invoicing/channel-of.ts';

export const DAILY_JOB_LOCK_KEY = 7_300_002;
const DAY_CHECK_INTERVAL_MS = 60_000;

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
      try {
        let summary: DailySummary | null = null;
        const ran = await app.db.whileHoldingLock(DAILY_JOB_LOCK_KEY, async () => {
          summary = await runDailyJob(app.ctx, { savedCards: savedCardGatewayFor(app.config, app.db) }); // R18
        });
        lastRunFor = today;
        if (ran) log.info({ day: today.toString(), summary }, 'daily job done');
        else log.info({ day: today.toString() }, 'daily job running in another instance');
        delivery?.kick();
      } catch (err) {
        // Not marked as run: the next check tries again; the job is safe to repeat.
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

  runIfNewDay();
  const timer = setInterval(tick, opts.dayCheckIntervalMs ?? DAY_CHECK_INTERVAL_MS);
  timer.unref();

  return {
    delivery,
    sdi,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      await usageRunning;
      await delivery?.stop();
      await sdi.stop();
    },
  };
}
