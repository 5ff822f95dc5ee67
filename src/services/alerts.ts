// R10: expiry alerts at the catalogue's milestones before E (90, 60, 30, 15, 7, 1 days by default).
// After missed days only the latest milestone reached is sent; alerts_sent keeps it at most once per
// (mailbox, E, milestone), whatever runs concurrently. A renewed mailbox has a new E, so the alerts
// for the old one stop by themselves.
import { addDays, daysBetween, date, type CalendarDate } from '../domain/calendar.ts';
import { alertMilestoneDue } from '../domain/alerts.ts';
import { cents, maxCents, type Cents } from '../domain/money.ts';
import { addonRenewalPrice, mailboxRenewalPrice, planRenewal } from '../domain/renewal.ts';
import { extraGbRenewedWithMailbox } from '../domain/mailbox.ts';
import { expiryAlert, type AlertServiceOutcome } from '../mail/templates.ts';
import type { Locale } from '../i18n/format.ts';
import { clock } from '../clock.ts';
import type { ServiceContext } from './context.ts';
import { enqueueEmails, type OutgoingEmail } from '../mail/outbox.ts';
import { MAILBOX_COLUMNS, mailboxFacts, type MailboxRow } from './rows.ts';

type AlertRow = MailboxRow & { reference_email: string; locale: Locale; balance_cents: number; sent: number[] | null };

export async function queueExpiryAlerts(ctx: ServiceContext, today: CalendarDate, batchSizeMax: number): Promise<number> {
  const c = ctx.catalogue;
  const horizon = addDays(today, Math.max(...c.alertMilestonesDays));
  let after: [string, string] = [today.toString(), ''];
  let queued = 0;
  for (;;) {
    const now = clock.now();
    const { n, last } = await ctx.db.transaction(async (tx) => {
      const rows = await tx.query<AlertRow>(
        `SELECT ${MAILBOX_COLUMNS}, c.reference_email, c.locale, coalesce(w.balance_cents, 0)::int8 AS balance_cents,
                ARRAY(SELECT s.milestone_days FROM alerts_sent s WHERE s.mailbox_id = m.id AND s.expires_on = m.expires_on) AS sent
           FROM mailboxes m LEFT JOIN addons a ON a.mailbox_id = m.id JOIN customers c ON c.id = m.customer_id
                LEFT JOIN wallets w ON w.customer_id = m.customer_id
          WHERE m.status = 'active' AND m.expires_on > $1 AND m.expires_on <= $2 AND (m.expires_on, m.id) > ($3::date, $4)
          ORDER BY m.expires_on, m.id LIMIT $5`,
        [today.toString(), horizon.toString(), after[0], after[1], batchSizeMax],
      );
      const due: { row: AlertRow; milestone: number }[] = [];
      for (const row of rows) {
        const milestone = alertMilestoneDue(date(row.expires_on), today, c.alertMilestonesDays, (row.sent ?? []).map(Number));
        if (milestone !== null) due.push({ row, milestone });
      }
      let n = 0;
      if (due.length) {
        const inserted = await tx.query<{ mailbox_id: string }>(
          `INSERT INTO alerts_sent (mailbox_id, expires_on, milestone_days, sent_at)
           SELECT id, e, d, $4 FROM unnest($1::text[], $2::date[], $3::int[]) AS v(id, e, d)
           ON CONFLICT DO NOTHING RETURNING mailbox_id`,
          [due.map((d) => d.row.id), due.map((d) => d.row.expires_on), due.map((d) => d.milestone), now],
        );
        const mine = new Set(inserted.map((r) => r.mailbox_id));
        const emails = due.filter((d) => mine.has(d.row.id)).map((d) => alertEmail(ctx, d.row, today));
        await enqueueEmails(tx, emails, now);
        n = emails.length;
      }
      const l = rows.at(-1);
      return { n, last: rows.length === batchSizeMax && l ? ([l.expires_on, l.id] as [string, string]) : null };
    });
    queued += n;
    if (!last) return queued;
    after = last;
  }
}

function alertEmail(ctx: ServiceContext, m: AlertRow, today: CalendarDate): OutgoingEmail {
  const c = ctx.catalogue;
  const facts = mailboxFacts(m);
  const balanceCents = cents(Number(m.balance_cents));
  // The daily job's own plan for E with today's balance: the alert promises what it would do.
  const plan = planRenewal(facts, balanceCents, c, facts.expiresOn);
  const services: { label: 'mailbox' | 'extra_inbox_space'; quantityGb?: number; priceCents: Cents; outcome: AlertServiceOutcome }[] = [
    {
      label: 'mailbox',
      priceCents: mailboxRenewalPrice(facts, c),
      outcome: !facts.autoRenew ? 'switched_off' : plan.mailbox.outcome === 'renewed' ? 'renews' : 'needs_credit',
    },
  ];
  // Extra space due at E is the add-on ending with the mailbox; one ending earlier renews on its own date (R7.5).
  const extraGb = extraGbRenewedWithMailbox(facts);
  if (extraGb > 0) {
    services.push({
      label: 'extra_inbox_space',
      quantityGb: extraGb,
      priceCents: addonRenewalPrice(extraGb, c),
      outcome: !facts.extraSpaceAutoRenew ? 'switched_off' : plan.addon.outcome === 'renewed' ? 'renews' : 'needs_credit',
    });
  }
  // What the holder wants renewed: the mailbox (by hand when its auto-renewal is off) and its extra
  // space unless that renewal is switched off.
  const wanted = services.filter((s) => s.label === 'mailbox' || s.outcome !== 'switched_off');
  const totalCents = cents(wanted.reduce((s, x) => s + x.priceCents, 0));
  const shortfallCents = cents(Math.max(0, totalCents - balanceCents));
  return {
    customerId: m.customer_id,
    kind: 'expiry_alert',
    to: m.reference_email,
    locale: m.locale,
    content: expiryAlert(m.locale, {
      address: m.address,
      expiresOn: facts.expiresOn,
      daysLeft: daysBetween(today, facts.expiresOn),
      services,
      totalCents,
      balanceCents,
      shortfallCents,
      topupCents: shortfallCents > 0 ? maxCents(shortfallCents, c.topupMinCents) : cents(0),
      autoRenew: facts.autoRenew,
      creditUrl: `${ctx.publicUrl}/credit`,
    }),
  };
}
