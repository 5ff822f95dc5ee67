// R7.6 and R7.3 for the daily job: extra space whose paid period ends before its mailbox's E (bought
// after a manual renewal was priced without it, or left by renewDueMailboxes for after a holder's
// mailboxes) is renewed from credit on its own end, or deactivated, whatever the mailbox's E. It
// runs after the mailboxes' renewals: credit keeps PEC mailboxes working before optional add-ons.
// Such add-ons are few: the claim scans the active add-ons due by today once per run.
import type { Tx } from '../../db/database.ts';
import { date, type CalendarDate } from '../../domain/calendar.ts';
import type { Catalogue } from '../../domain/catalogue.ts';
import { cents, type Cents } from '../../domain/money.ts';
import { addonDue, planHolderRenewals } from '../../domain/holder-renewals.ts';
import { addonRenewalOf, type AddonRenewalPlan } from '../../domain/renewal.ts';
import { writeCharges, type ChargeEntry } from '../../ledger/journal.ts';
import { ACCOUNTS } from '../../ledger/postings.ts';
import { enqueueEmails, type OutgoingEmail } from '../../mail/outbox.ts';
import { addonRenewalOutcome } from '../../mail/templates.ts';
import type { Locale } from '../../i18n/format.ts';
import { clock } from '../../clock.ts';
import type { ServiceContext } from '../context.ts';
import { holderMailbox, lockWallets, MAILBOX_COLUMNS, type MailboxRow } from '../rows.ts';

export interface AddonRenewalCounts {
  addonsRenewed: number;
  addonsDeactivated: number;
}

type ClaimedRow = MailboxRow & { reference_email: string; locale: Locale };

/** Every add-on ending before its mailbox and due by today, in bounded batches, one transaction each. */
export async function renewAddonsAfterMailboxes(ctx: ServiceContext, today: CalendarDate, batchSizeMax: number): Promise<AddonRenewalCounts> {
  const total: AddonRenewalCounts = { addonsRenewed: 0, addonsDeactivated: 0 };
  // Each add-on is settled once per period end (R7.3), and a renewal moves its end a year on, so a
  // batch that settles nothing ends the run. An add-on still due after its renewal (the job did
  // not run for a year while its mailbox was renewed by hand twice) is claimed again, once per year
  // it is behind; its mailbox's E, at most a year and 90 days ahead of today, bounds that.
  for (;;) {
    const now = clock.now();
    const r = await ctx.db.transaction((tx) => renewAddonBatch(ctx, tx, today, batchSizeMax, now));
    total.addonsRenewed += r.addonsRenewed;
    total.addonsDeactivated += r.addonsDeactivated;
    if (r.addonsRenewed + r.addonsDeactivated === 0) return total;
  }
}

async function renewAddonBatch(ctx: ServiceContext, tx: Tx, today: CalendarDate, batchSizeMax: number, now: Date): Promise<AddonRenewalCounts> {
  const counts: AddonRenewalCounts = { addonsRenewed: 0, addonsDeactivated: 0 };
  const claimed = await tx.query<ClaimedRow>(
    `SELECT ${MAILBOX_COLUMNS}, c.reference_email, c.locale
       FROM addons a JOIN mailboxes m ON m.id = a.mailbox_id JOIN customers c ON c.id = m.customer_id
      WHERE a.status = 'active' AND a.active_until <= $1 AND a.active_until < m.expires_on AND m.status = 'active'
        -- R7.3: a period already settled is never settled again (see renewals.ts on OFFSET 0).
        AND NOT EXISTS (SELECT 1 FROM renewals r
                         WHERE r.mailbox_id = m.id AND r.service = 'extra_inbox_space' AND r.period_ends_on = a.active_until OFFSET 0)
      ORDER BY m.customer_id, a.active_until, m.address LIMIT $2
      FOR UPDATE OF m, a SKIP LOCKED`,
    [today.toString(), batchSizeMax],
  );
  if (!claimed.length) return counts;
  const balance = await lockWallets(tx, claimed.map((m) => m.customer_id));
  const plans = planClaimedAddons(claimed, balance, today, ctx.catalogue);

  const charges: ChargeEntry[] = [];
  const records: { mailbox: string; period: string; outcome: string; amount: number; charge: number; activeUntil: string }[] = [];
  const emails: OutgoingEmail[] = [];
  for (const m of claimed) {
    const plan = plans.get(m.id)!;
    let charge = -1;
    if (plan.outcome === 'renewed') {
      charge = charges.length;
      charges.push({
        customerId: m.customer_id,
        kind: 'renewal',
        chargedCents: plan.chargedCents,
        balanceAfterCents: plan.balanceAfterCents,
        text: { key: 'extra_space_renewal', address: m.address, gb: plan.quantityGb, until: plan.newActiveUntil!.toString() },
        revenue: [{ account: ACCOUNTS.revenueExtraSpace, amountCents: plan.chargedCents }],
        orderId: null,
        mailboxId: m.id,
      });
      counts.addonsRenewed++;
    } else counts.addonsDeactivated++;
    records.push({
      mailbox: m.id,
      period: plan.periodEndsOn.toString(),
      outcome: plan.outcome,
      amount: plan.chargedCents,
      charge,
      activeUntil: (plan.newActiveUntil ?? plan.periodEndsOn).toString(),
    });
    emails.push(addonEmail(ctx, m, plan));
  }
  const chargeIds = await writeCharges(tx, charges, now);
  // Under the add-on's lock nobody else can have settled this period: a conflict is a bug and the
  // primary key's violation rolls the batch back.
  await tx.query(
    `INSERT INTO renewals (mailbox_id, service, period_ends_on, outcome, amount_cents, ledger_transaction_id, created_at)
     SELECT mid, 'extra_inbox_space', p, o, a, t, $6 FROM unnest($1::text[], $2::date[], $3::text[], $4::int8[], $5::text[]) AS v(mid, p, o, a, t)`,
    [
      records.map((r) => r.mailbox),
      records.map((r) => r.period),
      records.map((r) => r.outcome),
      records.map((r) => r.amount),
      records.map((r) => (r.charge < 0 ? null : chargeIds[r.charge]!)),
      now,
    ],
  );
  await tx.query(
    `UPDATE addons a SET status = CASE WHEN v.o = 'renewed' THEN 'active' ELSE 'deactivated' END, active_until = v.u, updated_at = $4
       FROM unnest($1::text[], $2::text[], $3::date[]) AS v(id, o, u) WHERE a.mailbox_id = v.id`,
    [records.map((r) => r.mailbox), records.map((r) => r.outcome), records.map((r) => r.activeUntil), now],
  );
  await enqueueEmails(tx, emails, now);
  return counts;
}

/**
 * R7.3: each holder's claimed extra space in the job's order (earliest end, then address), drawing
 * on one balance. No mailbox of theirs is still due: renewDueMailboxes settled them all before.
 */
function planClaimedAddons(claimed: readonly ClaimedRow[], balance: Map<string, Cents>, today: CalendarDate, c: Catalogue): Map<string, AddonRenewalPlan> {
  const plans = new Map<string, AddonRenewalPlan>();
  for (let from = 0; from < claimed.length; ) {
    let to = from + 1;
    while (to < claimed.length && claimed[to]!.customer_id === claimed[from]!.customer_id) to++;
    const rows = claimed.slice(from, to);
    const due = rows.map((m, index) => addonDue(holderMailbox(m), index, today, c));
    const plan = planHolderRenewals(due, cents(balance.get(rows[0]!.customer_id) ?? 0));
    for (const item of plan.renewals) plans.set(rows[item.mailboxIndex]!.id, addonRenewalOf(item, date(rows[item.mailboxIndex]!.expires_on)));
    from = to;
  }
  return plans;
}

function addonEmail(ctx: ServiceContext, m: ClaimedRow, plan: AddonRenewalPlan): OutgoingEmail {
  return {
    customerId: m.customer_id,
    kind: plan.outcome === 'renewed' ? 'renewal_completed' : 'addon_deactivated',
    to: m.reference_email,
    locale: m.locale,
    content: addonRenewalOutcome(m.locale, {
      address: m.address,
      quantityGb: plan.quantityGb,
      periodEndsOn: plan.periodEndsOn,
      outcome: plan.outcome,
      reason: plan.reason,
      newActiveUntil: plan.newActiveUntil,
      priceCents: plan.priceCents,
      chargedCents: plan.chargedCents,
      balanceCents: plan.balanceAfterCents,
      missingCents: plan.missingCents,
      mailboxUrl: `${ctx.publicUrl}/mailboxes/${m.id}`,
      creditUrl: `${ctx.publicUrl}/credit`,
    }),
  };
}
