// R20: what Casella tells Prometheus (API.md "Metrics"). One registry per process: counters are
// incremented where things happen (HTTP hook, payments, logins, the daily job); backlogs are read
// from the database when Prometheus scrapes (src/http/metrics.ts). Labels take values from small
// fixed sets only (route templates, outcomes, methods): never ids, addresses or free text, so the
// number of series stays bounded whatever the traffic.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DailySummary } from './services/daily.ts';

export const registry = new Registry();
// What an operator graphs besides Casella's own: memory, CPU, event-loop lag, handles, GC.
collectDefaultMetrics({ register: registry });

export const httpRequestsTotal = new Counter({
  name: 'casella_http_requests_total',
  help: 'HTTP requests answered, by method, route template and status code',
  labelNames: ['method', 'route', 'status'] as const,
  registers: [registry],
});

export const httpRequestDurationSeconds = new Histogram({
  name: 'casella_http_request_duration_seconds',
  help: 'Time from the request arriving to its answer being sent, by method and route template',
  labelNames: ['method', 'route'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

export const dailyJobRunsTotal = new Counter({
  name: 'casella_daily_job_runs_total',
  help: 'Daily job runs in this process, by outcome (done, failed)',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export const dailyJobDurationSeconds = new Histogram({
  name: 'casella_daily_job_duration_seconds',
  help: 'How long the daily job ran',
  buckets: [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
  registers: [registry],
});

export const renewalsTotal = new Counter({
  name: 'casella_renewals_total',
  help: 'What the daily job did to services at their end: renewed, expired (too little credit), addon_renewed, addon_deactivated, terminated',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export const paymentsTotal = new Counter({
  name: 'casella_payments_total',
  help: 'Payment outcomes applied (each top-up once), by method (card) and outcome (succeeded, failed)',
  labelNames: ['method', 'outcome'] as const,
  registers: [registry],
});

export const refundsTotal = new Counter({
  name: 'casella_refunds_total',
  help: 'Refunds (withdrawals of a top-up), by outcome (succeeded, failed)',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export const loginFailuresTotal = new Counter({
  name: 'casella_login_failures_total',
  help: 'Logins refused for a wrong password or code',
  registers: [registry],
});

/** Counts one daily job run and what it did; `summary` null: it failed. */
export function observeDailyJob(durationSeconds: number, summary: DailySummary | null): void {
  dailyJobRunsTotal.inc({ outcome: summary ? 'done' : 'failed' });
  dailyJobDurationSeconds.observe(durationSeconds);
  if (!summary) return;
  renewalsTotal.inc({ outcome: 'renewed' }, summary.mailboxesRenewed);
  renewalsTotal.inc({ outcome: 'expired' }, summary.mailboxesExpired);
  renewalsTotal.inc({ outcome: 'addon_renewed' }, summary.addonsRenewed);
  renewalsTotal.inc({ outcome: 'addon_deactivated' }, summary.addonsDeactivated);
  renewalsTotal.inc({ outcome: 'terminated' }, summary.mailboxesTerminated);
}

// Known series start at 0, so that rate() and alerts see them before the first event.
for (const outcome of ['done', 'failed']) dailyJobRunsTotal.inc({ outcome }, 0);
for (const outcome of ['renewed', 'expired', 'addon_renewed', 'addon_deactivated', 'terminated']) renewalsTotal.inc({ outcome }, 0);
for (const outcome of ['succeeded', 'failed']) paymentsTotal.inc({ method: 'card', outcome }, 0);
for (const outcome of ['succeeded', 'failed']) refundsTotal.inc({ outcome }, 0);
loginFailuresTotal.inc(0);
