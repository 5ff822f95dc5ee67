// R4, R5, R9: quoting and placing orders, completing them against the wallet, cancelling and
// expiring the ones that wait for a top-up. Each public function is one transaction.
import type { Tx } from '../db/database.ts';
import { addYears, compareDates, type CalendarDate } from '../domain/calendar.ts';
import { activeExtraGb, manualRenewalWindow } from '../domain/mailbox.ts';
import { cents, type Cents } from '../domain/money.ts';
import { quoteExtraSpace, type ExtraSpaceQuote, type QuoteRefusal } from '../domain/pricing.ts';
import { manualRenewalAmount } from '../domain/renewal.ts';
import { settle, settlementQueue } from '../domain/settlement.ts';
import { ACCOUNTS, chargePostings } from '../ledger/postings.ts';
import { journalCtes } from '../ledger/journal.ts';
import { outboxInsert } from '../mail/outbox.ts';
import { SqlParams } from '../db/sql-params.ts';
import { orderCompleted } from '../mail/templates.ts';
import { newId } from '../ids.ts';
import { clock } from '../clock.ts';
import type { ServiceContext } from './context.ts';
import { DomainError, invalid, notFound } from './errors.ts';
import { lockHolderMailbox, mailboxFacts, readBalance, readMailbox, type LockedHolderMailbox, type MailboxRow, type OrderRow } from './rows.ts';

const HOUR_MS = 3_600_000;

function refusalError(r: QuoteRefusal): DomainError {
  switch (r.code) {
    case 'invalid_quantity':
      return invalid({ quantityGb: 'must be a whole number of GB, at least 1' });
    case 'mailbox_not_active':
      return new DomainError('mailbox_not_active', 'Extra space can be bought only for an active mailbox before its expiry date');
    case 'limit_exceeded':
      return new DomainError(
        'limit_exceeded',
        `A mailbox can have at most ${r.maxGb} GB of extra space; it has ${r.currentGb} GB`,
        { quantityGb: `at most ${r.maxGb - r.currentGb} more GB` },
      );
  }
}

export async function quoteExtraSpaceFor(
  ctx: ServiceContext,
  customerId: string,
  mailboxId: string,
  quantityGb: number,
): Promise<{ quote: ExtraSpaceQuote; balanceCents: Cents; mailbox: MailboxRow }> {
  const mailbox = await readMailbox(ctx.db, mailboxId, customerId);
  if (!mailbox) throw notFound('mailbox');
  const quote = quoteExtraSpace(mailboxFacts(mailbox), quantityGb, clock.today(), ctx.catalogue);
  if (!quote.ok) throw refusalError(quote.error);
  return { quote: quote.value, balanceCents: await readBalance(ctx.db, customerId), mailbox };
}

export interface PlacedOrder {
  order: OrderRow;
  balanceCents: Cents;
}

/** A new order, not yet written: it waits for a top-up unless it is completed in the same statement. */
function newOrder(
  o: Pick<OrderRow, 'customer_id' | 'mailbox_id' | 'kind' | 'quantity_gb' | 'rule' | 'amount_cents' | 'period_ends_on' | 'active_until'>,
  now: Date,
  hoursToWait: number,
): OrderRow {
  return { id: newId('ord'), ...o, status: 'awaiting_topup', created_at: now, expires_at: new Date(now.getTime() + hoursToWait * HOUR_MS), completed_at: null };
}

/** The INSERT of an order row, for a statement of the caller's; returns the row. */
function orderInsert(p: SqlParams, o: OrderRow): string {
  return `INSERT INTO orders (id, customer_id, mailbox_id, kind, quantity_gb, rule, amount_cents, status, period_ends_on,
       active_until, created_at, expires_at, completed_at)
     VALUES (${[o.id, o.customer_id, o.mailbox_id, o.kind, o.quantity_gb, o.rule, o.amount_cents, o.status, o.period_ends_on,
       o.active_until, o.created_at, o.expires_at, o.completed_at].map((v) => p.add(v)).join(', ')}) RETURNING *`;
}

/** R4 + R5: price extra space on today's date and settle it now, or leave it awaiting a top-up. */
export async function placeExtraSpaceOrder(
  ctx: ServiceContext,
  customerId: string,
  mailboxId: string,
  quantityGb: number,
): Promise<PlacedOrder> {
  const now = clock.now();
  const today = clock.today();
  return ctx.db.transaction(async (tx) => {
    const locked = await lockHolderMailbox(tx, customerId, mailboxId);
    if (!locked) throw notFound('mailbox');
    const quote = quoteExtraSpace(mailboxFacts(locked.mailbox), quantityGb, today, ctx.catalogue);
    if (!quote.ok) throw refusalError(quote.error);
    const order = newOrder(
      {
        customer_id: customerId,
        mailbox_id: mailboxId,
        kind: 'extra_inbox_space',
        quantity_gb: quantityGb,
        rule: quote.value.rule,
        amount_cents: quote.value.amountCents,
        period_ends_on: locked.mailbox.expires_on,
        active_until: locked.mailbox.expires_on,
      },
      now,
      ctx.catalogue.orderAwaitingTopupHours,
    );
    return settleNewOrder(ctx, tx, order, locked, now);
  });
}

/** R9: renew by hand from 90 days before E and during grace; the period moves from E, not from today. */
export async function placeRenewalOrder(ctx: ServiceContext, customerId: string, mailboxId: string): Promise<PlacedOrder> {
  const now = clock.now();
  const today = clock.today();
  return ctx.db.transaction(async (tx) => {
    const locked = await lockHolderMailbox(tx, customerId, mailboxId);
    if (!locked) throw notFound('mailbox');
    const { mailbox } = locked;
    const facts = mailboxFacts(mailbox);
    const window = manualRenewalWindow(facts, today, ctx.catalogue);
    if (!window.allowed) {
      const why =
        window.reason === 'too_early'
          ? `Renewal opens on ${window.opensOn}, 90 days before expiry`
          : 'The mailbox is past its grace period and can no longer be renewed here';
      throw new DomainError('not_renewable', why);
    }
    const waiting = await tx.query(
      `SELECT 1 FROM orders WHERE mailbox_id = $1 AND kind = 'renewal' AND status = 'awaiting_topup' AND expires_at > $2`,
      [mailboxId, now],
    );
    if (waiting.length) throw new DomainError('not_renewable', 'A renewal of this mailbox is already waiting for a top-up');
    const amount = manualRenewalAmount(facts, ctx.catalogue);
    const order = newOrder(
      {
        customer_id: customerId,
        mailbox_id: mailboxId,
        kind: 'renewal',
        quantity_gb: amount.quantityGb,
        rule: null,
        amount_cents: amount.totalCents,
        period_ends_on: mailbox.expires_on,
        active_until: addYears(facts.expiresOn, 1).toString(),
      },
      now,
      ctx.catalogue.orderAwaitingTopupHours,
    );
    return settleNewOrder(ctx, tx, order, locked, now);
  });
}

/** R5: a new order is completed at once when the credit covers it, or written to wait for a top-up. */
async function settleNewOrder(ctx: ServiceContext, tx: Tx, order: OrderRow, locked: LockedHolderMailbox, now: Date): Promise<PlacedOrder> {
  const decision = settle(order.amount_cents, locked.balance, ctx.catalogue.topupMinCents);
  if (decision.outcome === 'await_topup') {
    const p = new SqlParams();
    const [written] = await tx.query<OrderRow>(orderInsert(p, order), p.values);
    return { order: written!, balanceCents: locked.balance };
  }
  const done = await completeOrder(ctx, tx, { order, written: false }, locked, now);
  if (!done.ok) throw new Error(`order ${order.id} could not complete: ${done.reason}`);
  return done.value;
}

type Completion = { ok: true; value: PlacedOrder } | { ok: false; reason: string };

/**
 * Completes an order: the wallet (locked by the caller) pays, the mailbox's space or period
 * changes, and the holder is told, all in the caller's transaction. The order is either new (not yet
 * written: it is written completed) or a waiting one. Returns why not when the order no longer fits
 * the mailbox (it changed while the order waited).
 *
 * The order row, the extra space, the journal entry and the e-mail are written by one statement:
 * on a loaded server a purchase costs about one round trip per statement (docs/PERFORMANCE.md).
 */
async function completeOrder(
  ctx: ServiceContext,
  tx: Tx,
  target: { order: OrderRow; written: boolean },
  /** The wallet's balance and the mailbox, read under the locks the caller holds. */
  { balance, holder, mailbox }: LockedHolderMailbox,
  now: Date,
): Promise<Completion> {
  const { order } = target;
  /** Whether the order row exists yet: the statement below completes it, or inserts it completed. */
  let written = target.written;
  const today = clock.today();
  const facts = mailboxFacts(mailbox);
  const p = new SqlParams();
  const ctes: string[] = [];
  let activeUntil: CalendarDate;
  if (order.kind === 'extra_inbox_space') {
    if (facts.status !== 'active' || compareDates(today, facts.expiresOn) >= 0) return { ok: false, reason: 'mailbox_not_active' };
    if (activeExtraGb(facts) + order.quantity_gb > ctx.catalogue.extraSpace.maxGbPerMailbox) return { ok: false, reason: 'limit_exceeded' };
    activeUntil = facts.expiresOn;
    ctes.push(`space AS (
       INSERT INTO addons (mailbox_id, quantity_gb, status, active_until, updated_at)
       VALUES (${p.add(mailbox.id)}, ${p.add(order.quantity_gb)}, 'active', ${p.add(activeUntil.toString())}, ${p.add(now)})
       ON CONFLICT (mailbox_id) DO UPDATE SET
         quantity_gb = CASE WHEN addons.status = 'active' THEN addons.quantity_gb + EXCLUDED.quantity_gb ELSE EXCLUDED.quantity_gb END,
         status = 'active', active_until = EXCLUDED.active_until, updated_at = EXCLUDED.updated_at)`);
  } else {
    if (mailbox.expires_on !== order.period_ends_on) return { ok: false, reason: 'period_already_renewed' };
    if (!manualRenewalWindow(facts, today, ctx.catalogue).allowed) return { ok: false, reason: 'not_renewable' };
    activeUntil = addYears(facts.expiresOn, 1);
    // R7.3: (service, period) renewed at most once. An 'expired' record left by the daily job is
    // turned into the renewal; a 'renewed' one means somebody else already paid for this period.
    // Its own statement: what follows depends on its answer. The order is written first, since the
    // record refers to it.
    if (!written) {
      const po = new SqlParams();
      await tx.query(orderInsert(po, order), po.values);
      written = true;
    }
    const claimed = await tx.query(
      `INSERT INTO renewals (mailbox_id, service, period_ends_on, outcome, amount_cents, order_id, created_at)
       VALUES ($1, 'mailbox', $2, 'renewed', $3, $4, $5)
       ON CONFLICT (mailbox_id, service, period_ends_on) DO UPDATE
         SET outcome = 'renewed', amount_cents = EXCLUDED.amount_cents, order_id = EXCLUDED.order_id, created_at = EXCLUDED.created_at
         WHERE renewals.outcome <> 'renewed'
       RETURNING 1`,
      [mailbox.id, mailbox.expires_on, order.amount_cents, order.id, now],
    );
    if (!claimed.length) return { ok: false, reason: 'period_already_renewed' };
    ctes.push(`period AS (
       UPDATE mailboxes SET status = 'active', expires_on = ${p.add(activeUntil.toString())}, updated_at = ${p.add(now)}
        WHERE id = ${p.add(mailbox.id)})`);
    if (order.quantity_gb > 0 && facts.addon?.status === 'active') {
      const addonCents = order.amount_cents - ctx.catalogue.mailboxTypes[mailbox.type].renewalPriceCents;
      ctes.push(`space_period AS (
         INSERT INTO renewals (mailbox_id, service, period_ends_on, outcome, amount_cents, order_id, created_at)
         VALUES (${p.add(mailbox.id)}, 'extra_inbox_space', ${p.add(mailbox.expires_on)}, 'renewed', ${p.add(addonCents)}, ${p.add(order.id)}, ${p.add(now)})
         ON CONFLICT DO NOTHING)`);
      ctes.push(`space AS (
         UPDATE addons SET active_until = ${p.add(activeUntil.toString())}, updated_at = ${p.add(now)} WHERE mailbox_id = ${p.add(mailbox.id)})`);
    }
  }
  const completed: OrderRow = { ...order, status: 'completed', completed_at: now, active_until: activeUntil.toString() };
  // A waiting order is completed only if it is still waiting (the caller holds its lock: anything
  // else is a bug, and the throw below rolls the whole statement back).
  ctes.unshift(
    written
      ? `done AS (
         UPDATE orders SET status = 'completed', completed_at = ${p.add(now)}, active_until = ${p.add(completed.active_until)}
          WHERE id = ${p.add(order.id)} AND status = 'awaiting_topup' RETURNING *)`
      : `done AS (${orderInsert(p, completed)})`,
  );
  const balanceAfter = cents(balance - order.amount_cents);
  if (order.amount_cents > 0) {
    const mailboxPart = order.kind === 'renewal' ? ctx.catalogue.mailboxTypes[mailbox.type].renewalPriceCents : 0;
    ctes.push(
      journalCtes(p, {
        customerId: order.customer_id,
        kind: order.kind === 'renewal' ? 'renewal' : 'purchase',
        description:
          order.kind === 'renewal'
            ? `Rinnovo ${mailbox.address} fino al ${activeUntil}`
            : `Spazio Extra Inbox ${order.quantity_gb} GB per ${mailbox.address}`,
        postings: chargePostings(order.customer_id, [
          { account: ACCOUNTS.revenueMailbox, amountCents: cents(mailboxPart) },
          { account: ACCOUNTS.revenueExtraSpace, amountCents: cents(order.amount_cents - mailboxPart) },
        ]),
        orderId: order.id,
        mailboxId: mailbox.id,
        at: now,
      }).ctes,
    );
  }
  const email = outboxInsert(
    p,
    [
      {
        customerId: holder.id,
        kind: 'order_completed',
        to: holder.reference_email,
        locale: holder.locale,
        content: orderCompleted(holder.locale, {
          address: mailbox.address,
          kind: order.kind,
          quantityGb: order.quantity_gb,
          amountCents: order.amount_cents,
          activeUntil,
          balanceCents: balanceAfter,
          mailboxUrl: `${ctx.publicUrl}/mailboxes/${mailbox.id}`,
        }),
      },
    ],
    now,
  );
  ctes.push(`email AS (${email.sql})`);
  const [updated] = await tx.query<OrderRow>(`WITH ${ctes.join(',\n')} SELECT * FROM done`, p.values);
  if (!updated) throw new Error(`order ${order.id} was not waiting`);
  return { ok: true, value: { order: updated, balanceCents: balanceAfter } };
}

/**
 * R5: after credit arrives (the caller holds the wallet lock), settle waiting orders: the one the
 * top-up was for first, then oldest first, while the balance covers them. Orders that no longer fit
 * their mailbox are cancelled, orders past 24 hours expire; neither is charged.
 */
export async function settleWaitingOrders(ctx: ServiceContext, tx: Tx, customerId: string, firstOrderId: string | null): Promise<string[]> {
  const now = clock.now();
  await expireWaitingOrdersOf(tx, customerId, now);
  const waiting = await tx.query<OrderRow>(
    `SELECT * FROM orders WHERE customer_id = $1 AND status = 'awaiting_topup' ORDER BY created_at, id FOR UPDATE`,
    [customerId],
  );
  const settled: string[] = [];
  for (const order of settlementQueue(waiting, firstOrderId)) {
    const locked = (await lockHolderMailbox(tx, customerId, order.mailbox_id))!;
    if (order.amount_cents > locked.balance) break;
    const done = await completeOrder(ctx, tx, { order, written: true }, locked, now);
    if (done.ok) settled.push(order.id);
    else await tx.query(`UPDATE orders SET status = 'cancelled', closed_at = $2 WHERE id = $1`, [order.id, now]);
  }
  return settled;
}

async function expireWaitingOrdersOf(tx: Tx, customerId: string, now: Date): Promise<void> {
  await tx.query(
    `UPDATE orders SET status = 'expired', closed_at = $2 WHERE customer_id = $1 AND status = 'awaiting_topup' AND expires_at <= $2`,
    [customerId, now],
  );
}

/** R5: waiting orders expire after 24 hours, nothing charged. Bounded batches; returns how many. */
export async function expireWaitingOrders(ctx: ServiceContext, batchSizeMax = 5_000): Promise<number> {
  const now = clock.now();
  let total = 0;
  for (;;) {
    const rows = await ctx.db.query<{ id: string }>(
      `UPDATE orders SET status = 'expired', closed_at = $1
        WHERE id IN (SELECT id FROM orders WHERE status = 'awaiting_topup' AND expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)
        RETURNING id`,
      [now, batchSizeMax],
    );
    total += rows.length;
    if (rows.length < batchSizeMax) return total;
  }
}

export async function cancelOrder(ctx: ServiceContext, customerId: string, orderId: string): Promise<OrderRow> {
  const now = clock.now();
  return ctx.db.transaction(async (tx) => {
    const [order] = await tx.query<OrderRow>('SELECT * FROM orders WHERE id = $1 AND customer_id = $2 FOR UPDATE', [orderId, customerId]);
    if (!order) throw notFound('order');
    if (order.status !== 'awaiting_topup' || order.expires_at.getTime() <= now.getTime()) {
      throw new DomainError('order_not_pending', 'Only an order awaiting a top-up can be cancelled');
    }
    const [cancelled] = await tx.query<OrderRow>(
      `UPDATE orders SET status = 'cancelled', closed_at = $2 WHERE id = $1 RETURNING *`,
      [orderId, now],
    );
    return cancelled!;
  });
}

export async function readOrders(ctx: ServiceContext, customerId: string, limit = 200): Promise<OrderRow[]> {
  return ctx.db.query<OrderRow>('SELECT * FROM orders WHERE customer_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2', [customerId, limit]);
}

export async function readOrder(ctx: ServiceContext, customerId: string, orderId: string): Promise<OrderRow> {
  const [o] = await ctx.db.query<OrderRow>('SELECT * FROM orders WHERE id = $1 AND customer_id = $2', [orderId, customerId]);
  if (!o) throw notFound('order');
  return o;
}

