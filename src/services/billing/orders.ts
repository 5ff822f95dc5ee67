// R4, R5, R9: quoting and placing orders, completing them against the wallet, cancelling and
// expiring the ones that wait for a top-up. Each public function is one transaction.
import type { Tx } from '../../db/database.ts';
import { date } from '../../domain/calendar.ts';
import { subCents, type Cents } from '../../domain/money.ts';
import { planOrderCompletion, planRenewalOrder, type CompletionPlan, type OrderTerms } from '../../domain/order-plan.ts';
import { quoteExtraSpace, type ExtraSpaceQuote, type QuoteRefusal } from '../../domain/pricing.ts';
import { settle, settlementQueue } from '../../domain/settlement.ts';
import { ACCOUNTS } from '../../ledger/postings.ts';
import { assertChargesLanded, chargesCtes, CHARGES_MISMATCH } from '../../ledger/journal.ts';
import { outboxInsert } from '../../mail/outbox.ts';
import { SqlParams } from '../../db/sql-params.ts';
import { orderCompleted } from '../../mail/templates.ts';
import { newId } from '../../ids.ts';
import { clock } from '../../clock.ts';
import type { ServiceContext } from '../context.ts';
import { DomainError, invalid, notFound } from '../errors.ts';
import { lockHolderMailbox, mailboxFacts, readBalance, readMailbox, type LockedHolderMailbox, type MailboxRow, type OrderRow } from '../rows.ts';

const HOUR_MS = 3_600_000;

function refusalError(r: QuoteRefusal): DomainError {
  switch (r.code) {
    case 'invalid_quantity':
      return invalid({ quantityGb: 'must be a whole number of GB, at least 1' });
    case 'mailbox_not_active':
      return new DomainError('mailbox_not_active', 'Extra space can be bought only for an active mailbox before its expiry date');
    case 'extra_space_due':
      return new DomainError('mailbox_not_active', 'The extra space is due for renewal today: buy more after the daily renewal has run');
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
  return { id: newId('ord'), ...o, status: 'awaiting_topup', created_at: now, expires_at: new Date(now.getTime() + hoursToWait * HOUR_MS), completed_at: null, cancel_reason: null };
}

/** The INSERT of an order row, for a statement of the caller's; returns the row. */
function orderInsert(p: SqlParams, o: OrderRow): string {
  return `INSERT INTO orders (id, customer_id, mailbox_id, kind, quantity_gb, rule, amount_cents, status, period_ends_on,
       active_until, created_at, expires_at, completed_at)
     VALUES (${[o.id, o.customer_id, o.mailbox_id, o.kind, o.quantity_gb, o.rule, o.amount_cents, o.status, o.period_ends_on,
       o.active_until, o.created_at, o.expires_at, o.completed_at].map((v) => p.add(v)).join(', ')}) RETURNING *`;
}

/** The add-on changed between the read the plan used and the write (see lockHolderMailbox). */
class StaleAddonError extends Error {
  constructor(mailboxId: string) {
    super(`the extra space of ${mailboxId} changed while its mailbox's lock was awaited`);
  }
}

/**
 * One transaction planned on the add-on read with the locks (one round trip, the common case);
 * if the write finds the add-on changed meanwhile, once more with the add-on read after the locks,
 * which cannot be stale.
 */
async function onFreshAddon<T>(ctx: ServiceContext, body: (tx: Tx, rereadAddon: boolean) => Promise<T>): Promise<T> {
  try {
    return await ctx.db.transaction((tx) => body(tx, false));
  } catch (e) {
    if (!(e instanceof StaleAddonError)) throw e;
  }
  return ctx.db.transaction((tx) => body(tx, true));
}

/** R4 + R5: price extra space on today's date and settle it now, or leave it awaiting a top-up. */
export async function placeExtraSpaceOrder(
  ctx: ServiceContext,
  customerId: string,
  mailboxId: string,
  quantityGb: number,
  /** The amount the buyer was shown, when known: a purchase never charges other than what was shown. */
  expectedAmountCents?: number,
): Promise<PlacedOrder> {
  const now = clock.now();
  const today = clock.today();
  return onFreshAddon(ctx, async (tx, rereadAddon) => {
    const locked = await lockHolderMailbox(tx, customerId, mailboxId, { rereadAddon });
    if (!locked) throw notFound('mailbox');
    const quote = quoteExtraSpace(mailboxFacts(locked.mailbox), quantityGb, today, ctx.catalogue);
    if (!quote.ok) throw refusalError(quote.error);
    // The mailbox may have changed since the quote (a renewal in another tab, the daily job, the
    // date): the three-month rule can then turn a free quote into a full year.
    if (expectedAmountCents !== undefined && quote.value.amountCents !== expectedAmountCents) {
      throw new DomainError('quote_changed', `The price is now ${quote.value.amountCents} cents, not the ${expectedAmountCents} shown: quote again`, {
        expectedAmountCents: `the price is now ${quote.value.amountCents}`,
      });
    }
    const order = newOrder(
      {
        customer_id: customerId,
        mailbox_id: mailboxId,
        kind: 'extra_inbox_space',
        quantity_gb: quantityGb,
        rule: quote.value.rule,
        amount_cents: quote.value.amountCents,
        // The period it was priced on, which it extends to and no further (R7.5).
        period_ends_on: quote.value.activeUntil.toString(),
        active_until: quote.value.activeUntil.toString(),
      },
      now,
      ctx.catalogue.orderAwaitingTopupHours,
    );
    return settleNewOrder(ctx, tx, order, locked, now);
  });
}

/**
 * R9: renew by hand from 90 days before E and during grace; the period moves from E, not from today.
 * `waitsUntil`: when an order left waiting for payment lapses, where not after the usual
 * `orderAwaitingTopupHours` (R18: the order a failed card charge leaves waits until the next attempt).
 */
export async function placeRenewalOrder(ctx: ServiceContext, customerId: string, mailboxId: string, opts: { waitsUntil?: Date } = {}): Promise<PlacedOrder> {
  const now = clock.now();
  const today = clock.today();
  return onFreshAddon(ctx, async (tx, rereadAddon) => {
    const locked = await lockHolderMailbox(tx, customerId, mailboxId, { rereadAddon });
    if (!locked) throw notFound('mailbox');
    const terms = planRenewalOrder(mailboxFacts(locked.mailbox), today, ctx.catalogue);
    if (!terms.ok) {
      throw new DomainError(
        'not_renewable',
        terms.error.code === 'too_early'
          ? `Renewal opens on ${terms.error.opensOn}, 90 days before expiry`
          : 'The mailbox is past its grace period and can no longer be renewed here',
      );
    }
    const waiting = await tx.query(
      `SELECT 1 FROM orders WHERE mailbox_id = $1 AND kind = 'renewal' AND status = 'awaiting_topup' AND expires_at > $2`,
      [mailboxId, now],
    );
    if (waiting.length) throw new DomainError('not_renewable', 'A renewal of this mailbox is already waiting for a top-up');
    const order = newOrder(
      {
        customer_id: customerId,
        mailbox_id: mailboxId,
        kind: 'renewal',
        quantity_gb: terms.value.quantityGb,
        rule: null,
        amount_cents: terms.value.amountCents,
        period_ends_on: terms.value.periodEndsOn.toString(),
        active_until: terms.value.activeUntil.toString(),
      },
      now,
      ctx.catalogue.orderAwaitingTopupHours,
    );
    if (opts.waitsUntil && opts.waitsUntil.getTime() > order.expires_at.getTime()) order.expires_at = opts.waitsUntil;
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
  // Placed on the facts just read under the same locks, so it must fit them.
  const plan = planOrderCompletion(orderTerms(order), mailboxFacts(locked.mailbox), clock.today(), ctx.catalogue);
  if (!plan.ok) throw new Error(`invariant: order ${order.id} placed but does not complete: ${plan.error}`);
  return writeCompletion(ctx, tx, { order, written: false }, locked, plan.value, now);
}

const orderTerms = (o: OrderRow): OrderTerms => ({
  kind: o.kind,
  quantityGb: o.quantity_gb,
  amountCents: o.amount_cents,
  periodEndsOn: date(o.period_ends_on),
});

/**
 * Writes a completion planned by planOrderCompletion: the wallet (locked by the caller) pays, the
 * mailbox's space or period changes, and the holder is told, in the caller's transaction. No rules
 * here: the plan says what to charge and what to extend. The order is either new (not yet written:
 * it is written completed) or a waiting one.
 *
 * The order row, the extra space, the period, the journal entry and the e-mail are written by one
 * statement: on a loaded server a purchase costs about one round trip per statement
 * (docs/PERFORMANCE.md).
 */
async function writeCompletion(
  ctx: ServiceContext,
  tx: Tx,
  target: { order: OrderRow; written: boolean },
  /** The wallet's balance and the mailbox, read under the locks the caller holds. */
  { balance, holder, mailbox }: LockedHolderMailbox,
  plan: CompletionPlan,
  now: Date,
): Promise<PlacedOrder> {
  const { order } = target;
  /** Whether the order row exists yet: the statement below completes it, or inserts it completed. */
  let written = target.written;
  const activeUntil = plan.activeUntil.toString();
  if (plan.renewedPeriods.length) {
    // R7.3: (service, period) renewed at most once. An 'expired' or 'deactivated' record left by
    // the daily job becomes the renewal; a 'renewed' one cannot exist while the mailbox still shows
    // the period (the plan checked it under the lock), so a refusal here is a bug and rolls back.
    // The order is written first, since the records refer to it.
    if (!written) {
      const po = new SqlParams();
      await tx.query(orderInsert(po, order), po.values);
      written = true;
    }
    const claimed = await tx.query(
      `INSERT INTO renewals (mailbox_id, service, period_ends_on, outcome, amount_cents, order_id, created_at)
       SELECT $1, s, p, 'renewed', a, $2, $3 FROM unnest($4::text[], $5::date[], $6::int8[]) AS v(s, p, a)
       ON CONFLICT (mailbox_id, service, period_ends_on) DO UPDATE
         SET outcome = 'renewed', amount_cents = EXCLUDED.amount_cents, order_id = EXCLUDED.order_id, created_at = EXCLUDED.created_at
         WHERE renewals.outcome <> 'renewed'
       RETURNING 1`,
      [
        mailbox.id,
        order.id,
        now,
        plan.renewedPeriods.map((r) => r.service),
        plan.renewedPeriods.map((r) => r.periodEndsOn.toString()),
        plan.renewedPeriods.map((r) => r.amountCents),
      ],
    );
    if (claimed.length !== plan.renewedPeriods.length) throw new Error(`invariant: a period of order ${order.id} was already renewed`);
  }
  const p = new SqlParams();
  const ctes: string[] = [
    written
      ? `done AS (
         UPDATE orders SET status = 'completed', completed_at = ${p.add(now)}, active_until = ${p.add(activeUntil)}
          WHERE id = ${p.add(order.id)} AND status = 'awaiting_topup' RETURNING *)`
      : `done AS (${orderInsert(p, { ...order, status: 'completed', completed_at: now, active_until: activeUntil })})`,
  ];
  if (plan.newExpiresOn) {
    ctes.push(`period AS (
       UPDATE mailboxes SET status = 'active', expires_on = ${p.add(plan.newExpiresOn.toString())}, updated_at = ${p.add(now)},
              type = coalesce(next_type, type), next_type = NULL
        WHERE id = ${p.add(mailbox.id)})`);
  }
  let spaceWritten = 'NULL';
  if (plan.addon) {
    // The add-on is written only if it is still as the plan read it (no row, or the same GB, state
    // and end): see lockHolderMailbox on why it may not be, and the retry that follows.
    const sameAsRead =
      mailbox.addon_status === null
        ? 'false'
        : `addons.status = ${p.add(mailbox.addon_status)} AND addons.quantity_gb = ${p.add(mailbox.addon_quantity_gb)}
           AND addons.active_until = ${p.add(mailbox.addon_active_until)}`;
    ctes.push(`space AS (
       INSERT INTO addons (mailbox_id, quantity_gb, status, active_until, updated_at)
       VALUES (${p.add(mailbox.id)}, ${p.add(plan.addon.quantityGb)}, 'active', ${p.add(plan.addon.activeUntil.toString())}, ${p.add(now)})
       ON CONFLICT (mailbox_id) DO UPDATE SET
         quantity_gb = EXCLUDED.quantity_gb, status = 'active', active_until = EXCLUDED.active_until, updated_at = EXCLUDED.updated_at
         WHERE ${sameAsRead}
       RETURNING 1)`);
    spaceWritten = '(SELECT count(*) FROM space)';
  }
  const balanceAfter = subCents(balance, plan.chargeCents);
  let mismatch = '0';
  if (plan.chargeCents > 0) {
    ctes.push(
      chargesCtes(
        p,
        [
          {
            customerId: order.customer_id,
            kind: order.kind === 'renewal' ? 'renewal' : 'purchase',
            chargedCents: plan.chargeCents,
            balanceAfterCents: balanceAfter,
            text:
              order.kind === 'renewal'
                ? { key: 'renewal', address: mailbox.address, until: plan.activeUntil.toString(), extraGb: order.quantity_gb }
                : { key: 'extra_space', address: mailbox.address, gb: order.quantity_gb },
            revenue: [
              { account: ACCOUNTS.revenueMailbox, amountCents: plan.revenue.mailboxCents },
              { account: ACCOUNTS.revenueExtraSpace, amountCents: plan.revenue.extraSpaceCents },
            ],
            orderId: order.id,
            mailboxId: mailbox.id,
          },
        ],
        now,
      ).ctes,
    );
    mismatch = `(SELECT n FROM ${CHARGES_MISMATCH})`;
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
          activeUntil: plan.activeUntil,
          balanceCents: balanceAfter,
          mailboxUrl: `${ctx.publicUrl}/mailboxes/${mailbox.id}`,
        }),
      },
    ],
    now,
  );
  ctes.push(`email AS (${email.sql})`);
  const [updated] = await tx.query<OrderRow & { charges_mismatch: unknown; space_written: unknown }>(
    `WITH ${ctes.join(',\n')} SELECT done.*, ${mismatch} AS charges_mismatch, ${spaceWritten} AS space_written FROM done`,
    p.values,
  );
  // A waiting order is completed only if it is still waiting (the caller holds its lock: anything
  // else is a bug, and the throw rolls the whole statement back).
  if (!updated) throw new Error(`invariant: order ${order.id} was not waiting`);
  assertChargesLanded(updated.charges_mismatch);
  if (plan.addon && Number(updated.space_written) !== 1) throw new StaleAddonError(mailbox.id);
  const { charges_mismatch: _m, space_written: _s, ...row } = updated;
  return { order: row, balanceCents: balanceAfter };
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
  const today = clock.today();
  for (const order of settlementQueue(waiting, firstOrderId)) {
    const locked = (await lockHolderMailbox(tx, customerId, order.mailbox_id, { rereadAddon: true }))!;
    if (order.amount_cents > locked.balance) break;
    const plan = planOrderCompletion(orderTerms(order), mailboxFacts(locked.mailbox), today, ctx.catalogue);
    if (plan.ok) {
      await writeCompletion(ctx, tx, { order, written: true }, locked, plan.value, now);
      settled.push(order.id);
    } else {
      await tx.query(`UPDATE orders SET status = 'cancelled', closed_at = $2, cancel_reason = $3 WHERE id = $1`, [order.id, now, plan.error]);
    }
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

