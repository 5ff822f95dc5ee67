// The daily job (API.md POST /api/admin/jobs/daily, `casella daily`, the scheduler).
// So far it expires waiting orders (R5); renewals, expiry, grace, alerts and usage warnings
// (R7, R8, R10, R11) are the daily-job issue's work and will extend this function.
import type { ServiceContext } from './context.ts';
import { expireWaitingOrders } from './orders.ts';

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

export async function runDailyJob(ctx: ServiceContext): Promise<DailySummary> {
  const ordersExpired = await expireWaitingOrders(ctx);
  return {
    alertsQueued: 0,
    usageWarningsQueued: 0,
    mailboxesRenewed: 0,
    addonsRenewed: 0,
    addonsDeactivated: 0,
    mailboxesExpired: 0,
    mailboxesTerminated: 0,
    ordersExpired,
  };
}
