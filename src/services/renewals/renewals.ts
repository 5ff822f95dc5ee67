// R7 renewals on day E, R8 termination after grace, and the renewal forecast, for the daily job.
// Set-based: each batch of mailboxes is claimed with one statement (FOR UPDATE SKIP LOCKED, so
// concurrent runs share the work instead of waiting), planned in JS, and written with a few
// multi-row statements, all in one transaction. Memory stays bounded by the batch size.
import type { Tx } from '../../db/database.ts';
import { addDays, addYears, date, isBefore, type CalendarDate } from '../../domain/calendar.ts';
import { baseBytes, BYTES_PER_GB, type Catalogue } from '../../domain/catalogue.ts';
import { graceEndsOn } from '../../domain/mailbox.ts';
import { cents, type Cents } from '../../domain/money.ts';
import { mailboxRenewalOf, type RenewalPlan } from '../../domain/renewal.ts';
import { addonDue, dueRenewals, mailboxDue, planHolderRenewals, type DueRenewal, type HolderRenewalPlan, type PlannedRenewal } from '../../domain/holder-renewals.ts';
import { ACCOUNTS } from '../../ledger/postings.ts';
import { writeCharges, type ChargeEntry } from '../../ledger/journal.ts';
import { mailboxTerminated, renewalMailKind, renewalOutcome } from '../../mail/templates.ts';
import type { Locale } from '../../i18n/format.ts';
import { clock } from '../../clock.ts';
import type { ServiceContext } from '../context.ts';
import { enqueueEmails, type OutgoingEmail } from '../../mail/outbox.ts';
import { holderMailbox, lockWallets, MAILBOX_COLUMNS, type MailboxRow } from '../rows.ts';
import { planWithCards } from '../../domain/card-renewal.ts';
import { holderCards, readCardRenewals, type CardRenewalRow } from './card-renewals.ts';

export interface RenewalCounts {
  mailboxesRenewed: number;
  addonsRenewed: number;
  addonsDeactivated: number;
  mailboxesExpired: number;
}

type ClaimedRow = MailboxRow & { reference_email: string; locale: Locale };

interface BatchResult extends RenewalCounts {
  claimed: number;
  processed: number;
}

/**
 * R7 for every active mailbox with E <= today. A renewed mailbox whose new E is still not after
 * today (the job did not run for years) is picked again by a later batch of the same run, so each
 * overdue year is renewed, and charged, in turn while the credit lasts.
 */
export async function renewDueMailboxes(
  ctx: ServiceContext,
  today: CalendarDate,
  batchSizeMax: number,
  onProgress?: (done: number) => void,
  workers = 1,
): Promise<RenewalCounts> {
  const total: RenewalCounts = { mailboxesRenewed: 0, addonsRenewed: 0, addonsDeactivated: 0, mailboxesExpired: 0 };
  let done = 0;
  // Several workers (PostgreSQL; PGlite has one connection, so one worker) split the holders between
  // them by a hash of the holder's id, so no two ever wait for the same wallet or mailbox, and each
  // claim skips the other workers' rows without trying their locks. SKIP LOCKED still shares the
  // work with a concurrent run. Each worker stops when it can claim nothing more.
  const n = Math.max(1, workers);
  const worker = async (_: unknown, share: number): Promise<void> => {
    for (;;) {
      const now = clock.now();
      const r = await ctx.db.transaction((tx) => renewBatch(ctx, tx, today, batchSizeMax, now, { share, of: n }));
      total.mailboxesRenewed += r.mailboxesRenewed;
      total.addonsRenewed += r.addonsRenewed;
      total.addonsDeactivated += r.addonsDeactivated;
      total.mailboxesExpired += r.mailboxesExpired;
      done += r.processed;
      onProgress?.(done);
      // Nothing left we can claim (the rest, if any, is being renewed by a concurrent run), or a
      // batch made no progress (a period already settled while the mailbox still shows it: skip it
      // rather than loop for ever; see renewBatch).
      if (r.claimed === 0 || r.processed === 0) return;
    }
  };
  await Promise.all(Array.from({ length: n }, worker));
  return total;
}

/** Which holders a worker renews: those whose id hashes to `share` modulo `of`. */
interface Share {
  share: number;
  of: number;
}

async function renewBatch(ctx: ServiceContext, tx: Tx, today: CalendarDate, batchSizeMax: number, now: Date, part: Share): Promise<BatchResult> {
  const c = ctx.catalogue;
  const result: BatchResult = { claimed: 0, processed: 0, mailboxesRenewed: 0, addonsRenewed: 0, addonsDeactivated: 0, mailboxesExpired: 0 };
  const claimed = await tx.query<ClaimedRow>(
    `SELECT ${MAILBOX_COLUMNS}, c.reference_email, c.locale
       FROM mailboxes m LEFT JOIN addons a ON a.mailbox_id = m.id JOIN customers c ON c.id = m.customer_id
      WHERE m.status = 'active' AND m.expires_on <= $1
        -- R7.3: a period already settled (renewed by hand, or by a run that committed) is never
        -- charged again; the insert into renewals below is the backstop under the row locks.
        -- OFFSET 0 keeps the check a sub-plan probed by the primary key for each candidate. Without
        -- it the planner may turn NOT EXISTS into a merge anti-join on the period date, comparing
        -- each due mailbox with every record of that date (all of them, on a night when a
        -- register's mailboxes expire together): 100,000 renewals took 222 s instead of 30 with
        -- batches of 5,000, 520 s under a generic plan. A scalar sub-query ("(SELECT …) IS NULL")
        -- is a probe too, but is estimated to keep 0.5 % of the rows, and PGlite then sorted every
        -- due mailbox for each batch (112 s instead of 35).
        AND NOT EXISTS (SELECT 1 FROM renewals r WHERE r.mailbox_id = m.id AND r.service = 'mailbox' AND r.period_ends_on = m.expires_on OFFSET 0)
        -- The worker's share is written into the text (small integers of ours, not input), so each
        -- worker's claim is a prepared statement of its own, planned for its own condition.
        ${part.of > 1 ? `AND abs(hashtext(m.customer_id)::int8) % ${part.of} = ${part.share}` : ''}
      ORDER BY m.expires_on LIMIT $2
      FOR UPDATE OF m SKIP LOCKED`,
    [today.toString(), batchSizeMax],
  );
  result.claimed = claimed.length;
  if (!claimed.length) return result;

  // Each holder's mailboxes draw on one running balance, in expiry order.
  const rows = [...claimed].sort((a, b) => cmp(a.customer_id, b.customer_id) || cmp(a.expires_on, b.expires_on) || cmp(a.address, b.address));

  const balance = await lockWallets(tx, rows.map((m) => m.customer_id));
  const plans = await planClaimedHolders(tx, rows, balance, today, c);

  const charges: ChargeEntry[] = [];
  const ren = { mailbox: [] as string[], service: [] as string[], period: [] as string[], outcome: [] as string[], amount: [] as number[], charge: [] as number[] };
  const mbx = { id: [] as string[], status: [] as string[], expires: [] as string[] };
  const add = { mailbox: [] as string[], status: [] as string[], until: [] as string[], readGb: [] as number[], readUntil: [] as string[] };
  const emails: OutgoingEmail[] = [];

  for (const holder of plans) {
    // The ledger's balances follow its own order of charges (one per mailbox, its extra space with it).
    let ledgerBalance = holder.balanceBeforeCents;
    const mailboxItems: PlannedRenewal[] = [];
    const addonItems: (PlannedRenewal | undefined)[] = [];
    for (const r of holder.plan.renewals) (r.service === 'mailbox' ? mailboxItems : addonItems)[r.mailboxIndex] = r;
    holder.rows.forEach((m, index) => {
      const mailboxItem = mailboxItems[index]!;
      const addonItem = addonItems[index] ?? null;
      // The ledger's own balance after this mailbox's charge (set on the fresh plan, not spread into
      // a copy: a spread costs microseconds a mailbox in the job).
      const plan: RenewalPlan = mailboxRenewalOf(mailboxItem, addonItem);
      ledgerBalance = cents(ledgerBalance - plan.chargedCents);
      plan.balanceAfterCents = ledgerBalance;
      let charge = -1;
      if (plan.chargedCents > 0) {
        charge = charges.length;
        charges.push({
          customerId: m.customer_id,
          kind: 'renewal',
          chargedCents: plan.chargedCents,
          balanceAfterCents: plan.balanceAfterCents,
          text: {
            key: 'renewal',
            address: m.address,
            until: plan.newExpiresOn!.toString(),
            extraGb: plan.addon.outcome === 'renewed' ? plan.addon.quantityGb : 0,
          },
          revenue: [
            { account: ACCOUNTS.revenueMailbox, amountCents: plan.mailbox.outcome === 'renewed' ? plan.mailbox.priceCents : cents(0) },
            { account: ACCOUNTS.revenueExtraSpace, amountCents: plan.addon.outcome === 'renewed' ? plan.addon.priceCents : cents(0) },
          ],
          orderId: null,
          mailboxId: m.id,
        });
      }
      // One record per (service, period): what happened and, when renewed, what it cost.
      const recordRenewal = (service: 'mailbox' | 'extra_inbox_space', period: string, outcome: string, priceCents: number) => {
        ren.mailbox.push(m.id);
        ren.service.push(service);
        ren.period.push(period);
        ren.outcome.push(outcome);
        ren.amount.push(outcome === 'renewed' ? priceCents : 0);
        ren.charge.push(outcome === 'renewed' ? charge : -1);
      };
      recordRenewal('mailbox', m.expires_on, plan.mailbox.outcome, plan.mailbox.priceCents);
      if (addonItem) {
        recordRenewal('extra_inbox_space', addonItem.periodEndsOn.toString(), plan.addon.outcome, plan.addon.priceCents);
        add.mailbox.push(m.id);
        add.status.push(addonItem.renewed ? 'active' : 'deactivated');
        add.until.push(addonItem.renewed ? addYears(addonItem.periodEndsOn, 1).toString() : m.addon_active_until!);
        add.readGb.push(m.addon_quantity_gb!);
        add.readUntil.push(m.addon_active_until!);
        if (addonItem.renewed) result.addonsRenewed++;
        else result.addonsDeactivated++;
      }
      mbx.id.push(m.id);
      mbx.status.push(plan.mailbox.outcome === 'renewed' ? 'active' : 'expired');
      mbx.expires.push(plan.newExpiresOn ? plan.newExpiresOn.toString() : m.expires_on);
      if (plan.mailbox.outcome === 'renewed') result.mailboxesRenewed++;
      else result.mailboxesExpired++;
      emails.push(renewalEmail(ctx, m, plan));
      result.processed++;
    });
    // TIGER_STYLE: the ledger's charges land on the balance the plan left.
    if (ledgerBalance !== holder.plan.balanceAfterCents) throw new Error(`invariant: charges leave ${ledgerBalance}, the plan ${holder.plan.balanceAfterCents}`);
  }

  const chargeIds = await writeCharges(tx, charges, now);
  // Under the mailbox locks nobody else can have settled these periods: a conflict here is a bug,
  // and the primary key's unique violation rolls the whole batch back, which keeps "charged at most
  // once" whatever it is. (A plain insert: ON CONFLICT's speculative insertion cost a third more.)
  await tx.query(
    `INSERT INTO renewals (mailbox_id, service, period_ends_on, outcome, amount_cents, ledger_transaction_id, created_at)
     SELECT mid, s, p, o, a, t, $7 FROM unnest($1::text[], $2::text[], $3::date[], $4::text[], $5::int8[], $6::text[]) AS v(mid, s, p, o, a, t)`,
    [ren.mailbox, ren.service, ren.period, ren.outcome, ren.amount, ren.charge.map((i) => (i < 0 ? null : chargeIds[i]!)), now],
  );
  await tx.query(
    // R19: a renewed period is of the type staff chose for it (next_type), priced so by the plan. Only
    // a batch holding such a mailbox names the type: a type in the SET list fires the type trigger's
    // check on every row, a sixth of this statement's time on a night without type changes.
    rows.some((m) => m.next_type !== null)
      ? `UPDATE mailboxes m SET status = v.s, expires_on = v.e, updated_at = $4,
                type = CASE WHEN v.e > m.expires_on THEN coalesce(m.next_type, m.type) ELSE m.type END,
                next_type = CASE WHEN v.e > m.expires_on THEN NULL ELSE m.next_type END
           FROM unnest($1::text[], $2::text[], $3::date[]) AS v(id, s, e) WHERE m.id = v.id`
      : `UPDATE mailboxes m SET status = v.s, expires_on = v.e, updated_at = $4
           FROM unnest($1::text[], $2::text[], $3::date[]) AS v(id, s, e) WHERE m.id = v.id`,
    [mbx.id, mbx.status, mbx.expires, now],
  );
  if (add.mailbox.length) {
    // Written only where the add-on is still as planned on: the claim locks the mailbox without
    // waiting, and an add-on changed by a purchase committed between the claim's snapshot and its
    // lock would be renewed at the wrong size. Such a batch rolls back and the next run redoes it.
    const written = await tx.query(
      `UPDATE addons a SET status = v.s, active_until = v.u, updated_at = $6
         FROM unnest($1::text[], $2::text[], $3::date[], $4::int4[], $5::date[]) AS v(id, s, u, q, r)
        WHERE a.mailbox_id = v.id AND a.status = 'active' AND a.quantity_gb = v.q AND a.active_until = v.r
        RETURNING 1`,
      [add.mailbox, add.status, add.until, add.readGb, add.readUntil, now],
    );
    if (written.length !== add.mailbox.length) throw new Error('the extra space of a claimed mailbox changed during the renewal; the batch is rolled back');
  }
  await enqueueEmails(tx, emails, now);
  return result;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

interface ClaimedHolder {
  rows: ClaimedRow[];
  balanceBeforeCents: Cents;
  plan: HolderRenewalPlan;
}

/**
 * R7.3: each holder's claimed mailboxes planned in the job's order, every due mailbox before any
 * extra space. A batch settles a holder's extra space only when it holds all that the holder has
 * due today; otherwise (more of the holder's mailboxes due in a later batch or held by a concurrent
 * run, extra space paid until before E, or a mailbox renewed to a date still past) it settles the
 * mailboxes, whose decisions come first whatever follows, and leaves the extra space of renewed
 * mailboxes to renewAddonsAfterMailboxes, which runs once every mailbox is settled. Extra space of
 * an expired mailbox goes with it here (R7.2).
 */
async function planClaimedHolders(tx: Tx, rows: readonly ClaimedRow[], balance: Map<string, Cents>, today: CalendarDate, c: Catalogue): Promise<ClaimedHolder[]> {
  const holders: ClaimedHolder[] = [];
  const due = new Map<ClaimedHolder, DueRenewal[]>();
  for (let from = 0; from < rows.length; ) {
    let to = from + 1;
    while (to < rows.length && rows[to]!.customer_id === rows[from]!.customer_id) to++;
    const holderRows = rows.slice(from, to);
    const items = holderRows.flatMap((m, index) => {
      const facts = holderMailbox(m);
      return facts.addon?.status === 'active' ? [mailboxDue(facts, index, today, c), addonDue(facts, index, today, c)] : [mailboxDue(facts, index, today, c)];
    });
    const balanceBeforeCents = cents(balance.get(rows[from]!.customer_id) ?? 0);
    const holder = { rows: holderRows, balanceBeforeCents, plan: planHolderRenewals(items, balanceBeforeCents) };
    holders.push(holder);
    due.set(holder, items);
    from = to;
  }
  const deferred = new Set<ClaimedHolder>();
  for (const h of holders) {
    const addonOwnDate = h.plan.renewals.some((r) => r.service === 'extra_inbox_space' && !r.withMailbox && r.reason !== 'mailbox_expired');
    // A renewed period ending this year cannot be due again by today; only older ones need the date.
    const renewedStillDue = h.plan.renewals.some(
      (r) => r.service === 'mailbox' && r.renewed && r.periodEndsOn.year < today.year && !isBefore(today, addYears(r.periodEndsOn, 1)),
    );
    if (addonOwnDate || renewedStillDue) deferred.add(h);
  }
  // Only a renewal of extra space can come out differently once more of the holder's mailboxes are
  // counted before it: a deactivation stays one with less credit.
  const toCheck = holders.filter((h) => !deferred.has(h) && h.plan.renewals.some((r) => r.service === 'extra_inbox_space' && r.renewed));
  if (toCheck.length) {
    // The claimed mailboxes are filtered out here rather than in SQL: `NOT (id = ANY(batch))` compares
    // each row with the whole batch, a second of the daily job on 100,000 mailboxes.
    const claimed = new Set(toCheck.flatMap((h) => h.rows.map((m) => m.id)));
    const dueNow = await tx.query<{ id: string; customer_id: string }>(
      `SELECT m.id, m.customer_id FROM mailboxes m LEFT JOIN addons a ON a.mailbox_id = m.id
        WHERE m.customer_id = ANY($1::text[]) AND m.status = 'active'
          AND (m.expires_on <= $2 OR (a.status = 'active' AND a.active_until <= $2))`,
      [toCheck.map((h) => h.rows[0]!.customer_id), today.toString()],
    );
    const incomplete = new Set(dueNow.filter((o) => !claimed.has(o.id)).map((o) => o.customer_id));
    for (const h of toCheck) if (incomplete.has(h.rows[0]!.customer_id)) deferred.add(h);
  }
  for (const h of deferred) {
    // The mailboxes' decisions are the same without the extra space after them; extra space of a
    // mailbox that expires goes with it now, the rest waits.
    const expired = new Set(h.plan.renewals.filter((r) => r.service === 'mailbox' && !r.renewed).map((r) => r.mailboxIndex));
    const items = due.get(h)!.filter((r) => r.service === 'mailbox' || expired.has(r.mailboxIndex));
    h.plan = planHolderRenewals(items, h.balanceBeforeCents);
  }
  return holders;
}

function renewalEmail(ctx: ServiceContext, m: ClaimedRow, plan: RenewalPlan): OutgoingEmail {
  const c = ctx.catalogue;
  // Extra space left for after the mailboxes (addon 'none' while still active) keeps its GB until settled.
  const extraGbKept = plan.addon.outcome === 'renewed' ? plan.addon.quantityGb : plan.addon.outcome === 'none' && m.addon_status === 'active' ? m.addon_quantity_gb! : 0;
  const newTotalBytes = baseBytes(c, m.type) + extraGbKept * BYTES_PER_GB;
  const usedBytes = Number(m.used_bytes);
  const overQuota = plan.mailbox.outcome === 'renewed' && usedBytes > newTotalBytes ? { usedBytes, totalBytes: newTotalBytes } : null;
  const content = renewalOutcome(m.locale, {
    address: m.address,
    periodEndsOn: plan.periodEndsOn,
    newExpiresOn: plan.newExpiresOn,
    mailbox: plan.mailbox,
    addon: plan.addon,
    chargedCents: plan.chargedCents,
    balanceCents: plan.balanceAfterCents,
    missingCents: plan.missingCents,
    overQuota,
    graceEndsOn: graceEndsOn(plan.periodEndsOn, c),
    mailboxUrl: `${ctx.publicUrl}/mailboxes/${m.id}`,
    creditUrl: `${ctx.publicUrl}/credit`,
  });
  return { customerId: m.customer_id, kind: renewalMailKind(plan), to: m.reference_email, locale: m.locale, content };
}

/**
 * R8: an expired mailbox past E + grace becomes terminated, and its holder gets a "Casella cessata"
 * e-mail in the same transaction. Bounded batches; returns how many.
 */
export async function terminatePastGrace(ctx: ServiceContext, today: CalendarDate, batchSizeMax: number): Promise<number> {
  // isPastGrace: today > E + grace, i.e. E < today - grace.
  const cutoff = addDays(today, -ctx.catalogue.graceDays).toString();
  let total = 0;
  for (;;) {
    const now = clock.now();
    const n = await ctx.db.transaction(async (tx) => {
      const rows = await tx.query<{ id: string; address: string; customer_id: string; expires_on: string; reference_email: string; locale: Locale }>(
        `WITH t AS (
           UPDATE mailboxes SET status = 'terminated', updated_at = $3
            WHERE id IN (SELECT id FROM mailboxes WHERE status = 'expired' AND expires_on < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)
              AND status = 'expired' AND expires_on < $1
            RETURNING id, address, customer_id, expires_on)
         SELECT t.id, t.address, t.customer_id, t.expires_on::text AS expires_on, c.reference_email, c.locale
           FROM t JOIN customers c ON c.id = t.customer_id`,
        [cutoff, batchSizeMax, now],
      );
      const emails: OutgoingEmail[] = rows.map((m) => {
        const expiredOn = date(m.expires_on);
        return {
          customerId: m.customer_id,
          kind: 'mailbox_terminated',
          to: m.reference_email,
          locale: m.locale,
          content: mailboxTerminated(m.locale, {
            address: m.address,
            expiredOn,
            graceEndedOn: graceEndsOn(expiredOn, ctx.catalogue),
            mailboxUrl: `${ctx.publicUrl}/mailboxes/${m.id}`,
          }),
        };
      });
      await enqueueEmails(tx, emails, now);
      return rows.length;
    });
    total += n;
    if (n === 0) return total;
  }
}

export interface RenewalForecastItem {
  mailboxId: string;
  address: string;
  expiresOn: string;
  /** null for extra space renewed on its own end (R7.5), its mailbox not being due. */
  mailbox: 'renewed' | 'expired' | null;
  addon: 'renewed' | 'deactivated' | 'none';
  chargedCents: Cents;
  missingCents: Cents;
  /** R18: what this mailbox's saved card will add to the credit before its renewal (0 when none). */
  cardChargeCents: Cents;
}

export interface RenewalForecast {
  onDate: string;
  mailboxes: number;
  renewed: number;
  expired: number;
  addonsRenewed: number;
  deactivated: number;
  chargedCents: Cents;
  missingCents: Cents;
  /** R18: what saved cards will add to the credit before these renewals (charges to come and in flight). */
  cardChargesCents: Cents;
  items: RenewalForecastItem[];
  itemsTruncated: boolean;
}

/**
 * What the daily runs up to `onDate` would do with today's balances (API.md `forecast --on`):
 * every renewal of an active mailbox due by onDate, each holder's planned as the job and the expiry
 * alerts plan them (planHolderRenewals, R7.3), so the forecast for a mailbox's E says what its alerts
 * say. Reads only, streaming the holders in bounded batches. One period per service.
 */
export async function forecastRenewals(
  ctx: ServiceContext,
  onDate: CalendarDate,
  opts: { itemsMax?: number; batchSizeMax?: number } = {},
): Promise<RenewalForecast> {
  const itemsMax = opts.itemsMax ?? 1000;
  const batchSizeMax = opts.batchSizeMax ?? 5000;
  const today = clock.today();
  const f: RenewalForecast = {
    onDate: onDate.toString(),
    mailboxes: 0,
    renewed: 0,
    expired: 0,
    addonsRenewed: 0,
    deactivated: 0,
    chargedCents: cents(0),
    missingCents: cents(0),
    cardChargesCents: cents(0),
    items: [],
    itemsTruncated: false,
  };
  // R18: the cards of the holders of each batch (a holder straddling two batches is read twice, same rows).
  let cards = new Map<string, CardRenewalRow[]>();
  // A holder's rows may straddle two batches: they are planned once the next holder's begin.
  let holderRows: ForecastRow[] = [];
  let after: [string, string] = ['', ''];
  for (;;) {
    const rows = await ctx.db.query<ForecastRow>(
      `SELECT ${MAILBOX_COLUMNS}, w.balance_cents
         FROM mailboxes m LEFT JOIN addons a ON a.mailbox_id = m.id LEFT JOIN wallets w ON w.customer_id = m.customer_id
        WHERE m.status = 'active' AND (m.expires_on <= $1 OR (a.status = 'active' AND a.active_until <= $1)) AND (m.customer_id, m.id) > ($2, $3)
        ORDER BY m.customer_id, m.id LIMIT $4`,
      [onDate.toString(), after[0], after[1], batchSizeMax],
    );
    const straddling = holderRows[0]?.customer_id;
    const batchCards = await readCardRenewals(ctx.db, [...new Set(rows.map((r) => r.customer_id))]);
    if (straddling !== undefined && cards.has(straddling) && !batchCards.has(straddling)) batchCards.set(straddling, cards.get(straddling)!);
    cards = batchCards;
    for (const row of rows) {
      if (holderRows.length && holderRows[0]!.customer_id !== row.customer_id) {
        forecastHolder(ctx, holderRows, cards.get(holderRows[0]!.customer_id), today, onDate, f, itemsMax);
        holderRows = [];
      }
      holderRows.push(row);
    }
    if (rows.length < batchSizeMax) {
      if (holderRows.length) forecastHolder(ctx, holderRows, cards.get(holderRows[0]!.customer_id), today, onDate, f, itemsMax);
      return f;
    }
    const last = rows.at(-1)!;
    after = [last.customer_id, last.id];
  }
}

type ForecastRow = MailboxRow & { balance_cents: number | null };

/** One holder's part of the forecast: the plan's outcomes, a mailbox with the extra space renewed with it. */
function forecastHolder(
  ctx: ServiceContext,
  rows: readonly ForecastRow[],
  cardRows: readonly CardRenewalRow[] | undefined,
  today: CalendarDate,
  onDate: CalendarDate,
  f: RenewalForecast,
  itemsMax: number,
): void {
  // R18 (issue 22 item 5): the saved cards' charges, each from its day, as the alerts count them.
  const cards = holderCards(cardRows, rows.map((r) => r.id), today, ctx.catalogue.cardRenewalDaysBefore);
  const { plan, charges, cardCents } = planWithCards(dueRenewals(rows.map(holderMailbox), today, onDate, ctx.catalogue), cents(Number(rows[0]!.balance_cents ?? 0)), cards, today, ctx.catalogue);
  f.cardChargesCents = cents(f.cardChargesCents + cardCents);
  const cardChargeOf = (mailboxIndex: number) => charges.get(mailboxIndex)?.cents ?? cents(0);
  const addonWithMailbox = new Map(plan.renewals.filter((r) => r.withMailbox).map((r) => [r.mailboxIndex, r]));
  for (const item of plan.renewals) {
    const m = rows[item.mailboxIndex]!;
    if (item.service === 'mailbox') {
      const addon = addonWithMailbox.get(item.mailboxIndex) ?? null;
      const view = mailboxRenewalOf(item, addon);
      tally(f, itemsMax, {
        mailboxId: m.id,
        address: m.address,
        expiresOn: m.expires_on,
        mailbox: view.mailbox.outcome,
        addon: view.addon.outcome,
        chargedCents: view.chargedCents,
        missingCents: view.missingCents,
        cardChargeCents: cardChargeOf(item.mailboxIndex),
      });
    } else if (!item.withMailbox) {
      // R7.6: extra space paid until before E, on its own date.
      tally(f, itemsMax, {
        mailboxId: m.id,
        address: m.address,
        expiresOn: item.periodEndsOn.toString(),
        mailbox: null,
        addon: item.renewed ? 'renewed' : 'deactivated',
        chargedCents: item.renewed ? item.priceCents : cents(0),
        missingCents: item.missingCents,
        cardChargeCents: cents(0),
      });
    }
  }
}

/** One outcome of the forecast: counted, summed, and listed while the list has room. */
function tally(f: RenewalForecast, itemsMax: number, item: RenewalForecastItem): void {
  if (item.mailbox !== null) f.mailboxes++;
  if (item.mailbox === 'renewed') f.renewed++;
  if (item.mailbox === 'expired') f.expired++;
  if (item.addon === 'renewed') f.addonsRenewed++;
  if (item.addon === 'deactivated') f.deactivated++;
  f.chargedCents = cents(f.chargedCents + item.chargedCents);
  f.missingCents = cents(f.missingCents + item.missingCents);
  if (f.items.length < itemsMax) f.items.push(item);
  else f.itemsTruncated = true;
}
