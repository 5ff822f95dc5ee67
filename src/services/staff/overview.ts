// R19: the provider at a glance — today's daily job, the e-mail and SdI backlogs, rejected invoices,
// what the holders' credit amounts to, the renewals of the next 30 days and what their holders lack,
// and the month's VAT. Aggregates over indexed columns; nothing here walks a holder at a time.
import type { Queryable } from '../../db/database.ts';
import type { Catalogue } from '../../domain/catalogue.ts';
import { addDays, type CalendarDate } from '../../domain/calendar.ts';
import { NO_CARD_CHARGES, type DailySummary } from '../daily.ts';

export const RENEWALS_HORIZON_DAYS = 30;

export interface Overview {
  today: string;
  dailyJob: { lastRunAt: string | null; summary: DailySummary | null };
  outboxPending: number;
  outboxFailed: number;
  invoicesRejected: number;
  creditLiabilityCents: number;
  renewalsNext30Days: { count: number; amountCents: number; shortfallCents: number };
  vatThisMonthCents: number;
}

export async function readOverview(db: Queryable, catalogue: Catalogue, today: CalendarDate): Promise<Overview> {
  const horizon = addDays(today, RENEWALS_HORIZON_DAYS);
  const monthStart = today.with({ day: 1 });
  const nextMonth = monthStart.add({ months: 1 });
  const [run] = await db.query<{ finished_at: Date; summary: DailySummary }>('SELECT finished_at, summary FROM daily_job_runs ORDER BY id DESC LIMIT 1');
  const [counts] = await db.query<{ pending: number; failed: number; rejected: number; liability: number; vat: number }>(
    `SELECT (SELECT count(*)::int FROM outbox WHERE status = 'pending') AS pending,
            (SELECT count(*)::int FROM outbox WHERE status = 'failed') AS failed,
            (SELECT count(*)::int FROM invoices WHERE sdi_status = 'rejected') AS rejected,
            (SELECT coalesce(sum(balance_cents), 0)::bigint FROM wallets) AS liability,
            (SELECT coalesce(sum(vat_cents), 0)::bigint FROM invoices WHERE issued_on >= $1 AND issued_on < $2) AS vat`,
    [monthStart.toString(), nextMonth.toString()],
  );
  // What falls due from today to the horizon with renewal on, priced as the job will price it, and per
  // holder what the balance does not cover (order does not change the total a holder lacks).
  const [due] = await db.query<{ count: number; amount: number; shortfall: number }>(
    `WITH due AS (
       SELECT m.customer_id,
              CASE m.type WHEN 'pro' THEN $3::bigint ELSE $4::bigint END
              + CASE WHEN a.status = 'active' AND m.extra_space_auto_renew THEN a.quantity_gb * $5::bigint ELSE 0 END AS amount
         FROM mailboxes m LEFT JOIN addons a ON a.mailbox_id = m.id
        WHERE m.status = 'active' AND m.auto_renew AND m.expires_on >= $1 AND m.expires_on <= $2
     ), per_holder AS (
       SELECT d.customer_id, count(*) AS n, sum(d.amount) AS amount FROM due d GROUP BY d.customer_id
     )
     SELECT coalesce(sum(p.n), 0)::int AS count, coalesce(sum(p.amount), 0)::bigint AS amount,
            coalesce(sum(greatest(p.amount - coalesce(w.balance_cents, 0), 0)), 0)::bigint AS shortfall
       FROM per_holder p LEFT JOIN wallets w ON w.customer_id = p.customer_id`,
    [today.toString(), horizon.toString(), catalogue.mailboxTypes.pro.renewalPriceCents, catalogue.mailboxTypes.standard.renewalPriceCents, catalogue.extraSpace.pricePerGbYearCents],
  );
  return {
    today: today.toString(),
    // Runs recorded before the card counts (issue 22) read as having made no card charge.
    dailyJob: { lastRunAt: run?.finished_at.toISOString() ?? null, summary: run ? { ...NO_CARD_CHARGES, ...run.summary } : null },
    outboxPending: counts!.pending,
    outboxFailed: counts!.failed,
    invoicesRejected: counts!.rejected,
    creditLiabilityCents: counts!.liability,
    renewalsNext30Days: { count: due!.count, amountCents: due!.amount, shortfallCents: due!.shortfall },
    vatThisMonthCents: counts!.vat,
  };
}
