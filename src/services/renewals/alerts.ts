// R10: expiry alerts at the catalogue's milestones before E (90, 60, 30, 15, 7, 1 days by default).
// After missed days only the latest milestone reached is sent; alerts_sent keeps it at most once per
// (mailbox, E, milestone), whatever runs concurrently. A renewed mailbox has a new E, so the alerts
// for the old one stop by themselves.
import { addDays, daysBetween, date, type CalendarDate } from '../../domain/calendar.ts';
import { alertMilestoneDue } from '../../domain/alerts.ts';
import { cents, type Cents } from '../../domain/money.ts';
import { dueRenewals, topupForShortfall, type PlannedRenewal } from '../../domain/holder-renewals.ts';
import { planWithCards } from '../../domain/card-renewal.ts';
import { holderCards, readCardRenewals, type CardRenewalRow } from './card-renewals.ts';
import { expiryAlert, type AlertOtherRenewal, type AlertServiceOutcome } from '../../mail/templates.ts';
import type { Tx } from '../../db/database.ts';
import type { Locale } from '../../i18n/format.ts';
import { clock } from '../../clock.ts';
import type { ServiceContext } from '../context.ts';
import { enqueueEmails, type OutgoingEmail } from '../../mail/outbox.ts';
import { holderMailbox, MAILBOX_COLUMNS, mailboxFacts, type MailboxRow } from '../rows.ts';

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
        const sending = due.filter((d) => mine.has(d.row.id));
        const holders = await readAlertHolders(tx, sending.map((d) => d.row), now);
        const emails = sending.map((d) => alertEmail(ctx, d.row, today, holders.get(d.row.customer_id)!));
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

interface AlertHolder {
  /** The holder's active mailboxes with something due by the latest E of the batch's alerts. */
  mailboxes: MailboxRow[];
  waitingOrdersCents: Cents;
  /** R18: the holder's mailboxes renewing by card, with their charge for this period. */
  cards: CardRenewalRow[];
}

/**
 * R10: what each alerted holder has due up to the alert's E (their other mailboxes and extra space),
 * and their waiting orders, which any top-up settles first (R5). Bounded by the batch's holders.
 */
async function readAlertHolders(tx: Tx, rows: readonly AlertRow[], now: Date): Promise<Map<string, AlertHolder>> {
  const holders = new Map<string, AlertHolder>();
  if (!rows.length) return holders;
  const customerIds = [...new Set(rows.map((r) => r.customer_id))];
  const latest = rows.reduce((max, r) => (r.expires_on > max ? r.expires_on : max), rows[0]!.expires_on);
  for (const id of customerIds) holders.set(id, { mailboxes: [], waitingOrdersCents: cents(0), cards: [] });
  const mailboxes = await tx.query<MailboxRow>(
    `SELECT ${MAILBOX_COLUMNS} FROM mailboxes m LEFT JOIN addons a ON a.mailbox_id = m.id
      WHERE m.customer_id = ANY($1::text[]) AND m.status = 'active' AND (m.expires_on <= $2 OR (a.status = 'active' AND a.active_until <= $2))
      ORDER BY m.customer_id, m.address`,
    [customerIds, latest],
  );
  for (const m of mailboxes) holders.get(m.customer_id)!.mailboxes.push(m);
  const waiting = await tx.query<{ customer_id: string; cents: number }>(
    `SELECT customer_id, sum(amount_cents)::int8 AS cents FROM orders
      WHERE customer_id = ANY($1::text[]) AND status = 'awaiting_topup' AND expires_at > $2 GROUP BY customer_id`,
    [customerIds, now],
  );
  for (const w of waiting) holders.get(w.customer_id)!.waitingOrdersCents = cents(Number(w.cents));
  for (const [customerId, cards] of await readCardRenewals(tx, customerIds)) holders.get(customerId)!.cards = cards;
  return holders;
}

function alertEmail(ctx: ServiceContext, m: AlertRow, today: CalendarDate, holder: AlertHolder): OutgoingEmail {
  const c = ctx.catalogue;
  const facts = mailboxFacts(m);
  const balanceCents = cents(Number(m.balance_cents));
  // R10: the job's own plan (R7.3) for every renewal of the holder due up to this E, with today's
  // balance: the alert promises what the job will do. A mailbox whose automatic renewal is off is
  // counted as renewed by hand, which is what the alert asks of its holder.
  const mailboxes = holder.mailboxes.map((row) => (row.id === m.id ? { ...holderMailbox(row), autoRenew: true } : holderMailbox(row)));
  const own = holder.mailboxes.findIndex((row) => row.id === m.id);
  if (own < 0) throw new Error(`invariant: alerted mailbox ${m.id} is not among its holder's due mailboxes`);
  // R18 (issue 22 item 5): what the saved cards will add, each charge from its day, is credit too.
  const ids = holder.mailboxes.map((row) => row.id);
  const cards = holderCards(holder.cards, ids, today, c.cardRenewalDaysBefore);
  const { plan, charges, cardCents } = planWithCards(dueRenewals(mailboxes, today, facts.expiresOn, c), balanceCents, cards, today, c);
  const ownCharge = charges.get(own);
  const ownCard = holder.cards.find((card) => card.mailboxId === m.id);
  const isOwn = (r: PlannedRenewal) => r.mailboxIndex === own && (r.service === 'mailbox' || r.withMailbox);
  const ownMailbox = plan.renewals.find((r) => isOwn(r) && r.service === 'mailbox')!;
  const ownExtra = plan.renewals.find((r) => isOwn(r) && r.service === 'extra_inbox_space');
  const services: { label: 'mailbox' | 'extra_inbox_space'; quantityGb?: number; priceCents: Cents; outcome: AlertServiceOutcome }[] = [
    { label: 'mailbox', priceCents: ownMailbox.priceCents, outcome: !facts.autoRenew ? 'switched_off' : ownMailbox.renewed ? 'renews' : 'needs_credit' },
  ];
  if (ownExtra) {
    services.push({
      label: 'extra_inbox_space',
      quantityGb: ownExtra.quantityGb,
      priceCents: ownExtra.priceCents,
      outcome: ownExtra.blockedBy === 'auto_renew_off' ? 'switched_off' : ownExtra.renewed ? 'renews' : 'needs_credit',
    });
  }
  // The others that draw on the credit: what the holder did not switch off.
  const others: AlertOtherRenewal[] = plan.renewals
    .filter((r) => !isOwn(r) && r.wanted)
    .map((r) => ({
      address: r.address,
      service: r.service,
      quantityGb: r.quantityGb,
      on: r.periodEndsOn,
      priceCents: r.priceCents,
      outcome: r.renewed ? 'renews' : 'needs_credit',
    }));
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
      others,
      totalCents: plan.neededCents,
      balanceCents,
      cardCents: cents(cardCents),
      card: ownCharge && ownCard ? { brand: ownCard.brand, last4: ownCard.last4, on: ownCharge.on, amountCents: ownCharge.cents } : null,
      shortfallCents: plan.shortfallCents,
      topupCents: topupForShortfall(plan.shortfallCents, holder.waitingOrdersCents, c),
      autoRenew: facts.autoRenew,
      creditUrl: `${ctx.publicUrl}/credit`,
    }),
  };
}
