// Card top-ups (R1, R5, R6): a pending top-up becomes succeeded or failed once, through a verified
// gateway notification; credit is added once, then waiting orders are settled.
import { addVat, cents } from '../domain/money.ts';
import { recordTransaction } from '../ledger/journal.ts';
import { topupPostings } from '../ledger/postings.ts';
import { enqueueEmail } from '../mail/outbox.ts';
import { topupReceipt } from '../mail/templates.ts';
import { newId } from '../ids.ts';
import { DEMO_SELLER } from '../domain/invoice.ts';
import { issueInvoice } from './invoices.ts';
import { requireBillingProfile } from './billing-profiles.ts';
import { clock } from '../clock.ts';
import type { ServiceContext } from './context.ts';
import { DomainError, invalid, notFound } from './errors.ts';
import { settleWaitingOrders } from './orders.ts';
import { payDebtFirst } from './disputes.ts';
import { lockWallet, readCustomer, TOPUP_MONEY_BACK_COLUMNS, type OrderRow, type TopupRow } from './rows.ts';

export function topupAmountProblem(amount: unknown, ctx: ServiceContext): string | null {
  const { topupMinCents: min, topupMaxCents: max } = ctx.catalogue;
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount)) return 'must be a whole number of cents';
  if (amount < min || amount > max) return `must be between ${min} and ${max} cents`;
  return null;
}

export async function createTopup(
  ctx: ServiceContext,
  customerId: string,
  amountCents: number,
  orderId: string | null,
  gateway: string,
): Promise<TopupRow> {
  const problem = topupAmountProblem(amountCents, ctx);
  if (problem) throw invalid({ amountCents: problem });
  const now = clock.now();
  const split = addVat(cents(amountCents), ctx.catalogue.vatRateBasisPoints);
  return ctx.db.transaction(async (tx) => {
    await requireBillingProfile(tx, customerId);
    if (orderId !== null) {
      const [order] = await tx.query<OrderRow>('SELECT * FROM orders WHERE id = $1 AND customer_id = $2', [orderId, customerId]);
      if (!order) throw notFound('order');
      if (order.status !== 'awaiting_topup' || order.expires_at.getTime() <= now.getTime()) {
        throw new DomainError('order_not_pending', 'The order is no longer waiting for a top-up');
      }
    }
    const [row] = await tx.query<TopupRow>(
      `INSERT INTO topups (id, customer_id, amount_cents, vat_cents, charge_cents, status, gateway, order_id, created_at, vat_rate_basis_points)
       VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $9) RETURNING *`,
      [newId('top'), customerId, split.netCents, split.vatCents, split.grossCents, gateway, orderId, now, ctx.catalogue.vatRateBasisPoints],
    );
    return row!;
  });
}

export async function readTopup(ctx: ServiceContext, customerId: string | null, topupId: string): Promise<TopupRow> {
  const [row] = await ctx.db.query<TopupRow>(
    `SELECT t.*, i.id AS invoice_id, ${TOPUP_MONEY_BACK_COLUMNS} FROM topups t LEFT JOIN invoices i ON i.topup_id = t.id AND i.document_type <> 'TD04'
      WHERE t.id = $1 AND ($2::text IS NULL OR t.customer_id = $2)`,
    [
    topupId,
    customerId,
  ]);
  if (!row) throw notFound('top-up');
  return row;
}

export interface PaymentOutcome {
  gateway: string;
  /** The gateway's own event id: a replay carries the same one. */
  eventId: string;
  topupId: string;
  outcome: 'succeeded' | 'failed';
  failureCode?: string | null;
  gatewayReference?: string | null;
}

export type PaymentApplication = 'applied' | 'duplicate_event' | 'already_decided' | 'unknown_topup';

/** Applies a verified notification at most once per event and at most once per top-up. */
export async function applyPaymentOutcome(ctx: ServiceContext, n: PaymentOutcome): Promise<{ result: PaymentApplication; topup: TopupRow | null }> {
  const now = clock.now();
  return ctx.db.transaction(async (tx) => {
    const [topup] = await tx.query<TopupRow>('SELECT * FROM topups WHERE id = $1 AND gateway = $2 FOR UPDATE', [n.topupId, n.gateway]);
    if (!topup) return { result: 'unknown_topup', topup: null };
    const fresh = await tx.query(
      `INSERT INTO payment_events (gateway, event_id, topup_id, outcome, received_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT DO NOTHING RETURNING 1`,
      [n.gateway, n.eventId, n.topupId, n.outcome, now],
    );
    if (!fresh.length) return { result: 'duplicate_event', topup };
    if (topup.status !== 'pending') return { result: 'already_decided', topup };
    await lockWallet(tx, topup.customer_id);
    if (n.outcome === 'failed') {
      const [failed] = await tx.query<TopupRow>(
        `UPDATE topups SET status = 'failed', failure_code = $2, gateway_reference = $3, decided_at = $4 WHERE id = $1 RETURNING *`,
        [topup.id, n.failureCode ?? 'payment_failed', n.gatewayReference ?? null, now],
      );
      return { result: 'applied', topup: failed! };
    }
    const credited = await recordTransaction(tx, {
      customerId: topup.customer_id,
      kind: 'topup',
      text: { key: 'topup' },
      postings: topupPostings(topup.customer_id, topup.amount_cents, topup.vat_cents),
      topupId: topup.id,
      at: now,
    });
    // R17: a debt left by a lost charge-back is paid first from the credit just added.
    const debtPaid = await payDebtFirst(tx, topup.customer_id, topup.amount_cents, now);
    const customer = (await readCustomer(tx, topup.customer_id))!;
    // R15: the invoice's id is known now, so the receipt can link its courtesy copy; the invoice
    // itself is written last (below), to hold its year's counter for as short a time as possible.
    const invoiceId = newId('inv');
    await enqueueEmail(
      tx,
      {
        customerId: customer.id,
        kind: 'topup_receipt',
        to: customer.reference_email,
        locale: customer.locale,
        content: topupReceipt(customer.locale, {
          amountCents: topup.amount_cents,
          vatCents: topup.vat_cents,
          chargeCents: topup.charge_cents,
          balanceCents: cents(credited.balanceAfterCents - debtPaid),
          creditUrl: `${ctx.publicUrl}/credit`,
          invoicePdfUrl: `${ctx.publicUrl}/fatture/${invoiceId}/pdf`,
        }),
      },
      now,
    );
    const settled = await settleWaitingOrders(ctx, tx, topup.customer_id, topup.order_id);
    const [succeeded] = await tx.query<TopupRow>(
      `UPDATE topups SET status = 'succeeded', gateway_reference = $2, decided_at = $3, settled_order_ids = $4 WHERE id = $1 RETURNING *`,
      [topup.id, n.gatewayReference ?? null, now, settled],
    );
    await issueInvoice(tx, {
      invoiceId,
      customerId: topup.customer_id,
      topup,
      seller: ctx.seller ?? DEMO_SELLER,
      vatRateBasisPoints: ctx.catalogue.vatRateBasisPoints,
      at: now,
    });
    return { result: 'applied', topup: { ...succeeded!, invoice_id: invoiceId } };
  });
}


/** Keeps the hosted checkout page a gateway made for the top-up (Stripe gives one URL per session). */
export async function recordCheckout(ctx: ServiceContext, topupId: string, checkoutUrl: string | null, sessionId: string | null): Promise<TopupRow> {
  const [row] = await ctx.db.query<TopupRow>(
    'UPDATE topups SET checkout_url = $2, gateway_session_id = $3 WHERE id = $1 RETURNING *',
    [topupId, checkoutUrl, sessionId],
  );
  return row!;
}

/** The gateway could not even open a checkout: the top-up fails at once, nothing was charged. */
export async function failCheckout(ctx: ServiceContext, topupId: string): Promise<void> {
  await ctx.db.query(
    `UPDATE topups SET status = 'failed', failure_code = 'checkout_unavailable', decided_at = $2 WHERE id = $1 AND status = 'pending'`,
    [topupId, clock.now()],
  );
}
