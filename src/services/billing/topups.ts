// Top-ups (R1, R5, R6, R16, R17): a pending top-up becomes succeeded or failed once, through a
// verified gateway notification or an operator recording a bank transfer; credit is added once,
// then waiting orders are settled, and the invoice is issued, all by one path (`creditTopup`).
import { randomBytes } from 'node:crypto';
import { cents } from '../../domain/money.ts';
import { chargeFor, vatTermsFor } from '../../domain/vat.ts';
import { bankTransferExpired, bankTransferExpiresOn, bankReference, DEMO_BANK_ACCOUNT, normaliseBankReference, type BankAccount } from '../../domain/bank-transfer.ts';
import { compareDates, date, dateInRome, parseDate } from '../../domain/calendar.ts';
import type { Tx } from '../../db/database.ts';
import { recordTransaction } from '../../ledger/journal.ts';
import { topupPostings } from '../../ledger/postings.ts';
import { enqueueEmail } from '../../mail/outbox.ts';
import { topupReceipt } from '../../mail/templates.ts';
import { newId } from '../../ids.ts';
import { DEMO_SELLER, type PaymentMethodKind } from '../../domain/invoice.ts';
import { issueInvoice, lockInvoiceYear } from './invoices.ts';
import { billingProfileRequired, readBillingProfile } from './billing-profiles.ts';
import { clock } from '../../clock.ts';
import type { ServiceContext } from '../context.ts';
import { DomainError, invalid, notFound } from '../errors.ts';
import { settleWaitingOrders } from './orders.ts';
import { audit, type Actor } from '../audit.ts';
import { payDebtFirst } from './disputes.ts';
import { lockWallet, readCustomer, TOPUP_MONEY_BACK_COLUMNS, type OrderRow, type TopupRow } from '../rows.ts';

export function topupAmountProblem(amount: unknown, ctx: ServiceContext): string | null {
  const { topupMinCents: min, topupMaxCents: max } = ctx.catalogue;
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount)) return 'must be a whole number of cents';
  if (amount < min || amount > max) return `must be between ${min} and ${max} cents`;
  return null;
}

const REFERENCE_ATTEMPTS_MAX = 5;

/** The gateway column of a bank-transfer top-up: no card gateway's notification can ever match it. */
export const BANK_TRANSFER_GATEWAY = 'bank_transfer';

export async function createTopup(
  ctx: ServiceContext,
  customerId: string,
  amountCents: number,
  orderId: string | null,
  gateway: string,
  method: PaymentMethodKind = 'card',
): Promise<TopupRow> {
  const problem = topupAmountProblem(amountCents, ctx);
  if (problem) throw invalid({ amountCents: problem });
  if (method === 'bank_transfer' && !bankAccountOf(ctx)) throw invalid({ method: 'bank transfers are not offered by this provider' });
  const now = clock.now();
  return ctx.db.transaction(async (tx) => {
    const billing = await readBillingProfile(tx, customerId);
    if (!billing) throw billingProfileRequired();
    // R16: what THIS buyer pays: the catalogue's rate, or no Italian VAT for a business abroad.
    const terms = vatTermsFor(billing.profile, ctx.catalogue.vatRateBasisPoints);
    const split = chargeFor(cents(amountCents), terms);
    if (orderId !== null) {
      const [order] = await tx.query<OrderRow>('SELECT * FROM orders WHERE id = $1 AND customer_id = $2', [orderId, customerId]);
      if (!order) throw notFound('order');
      if (order.status !== 'awaiting_topup' || order.expires_at.getTime() <= now.getTime()) {
        throw new DomainError('order_not_pending', 'The order is no longer waiting for a top-up');
      }
    }
    const bank = method === 'bank_transfer';
    // A reference already taken (about one chance in 10^10 per pair) is drawn again, a bounded number of times.
    for (let attempt = 0; attempt < REFERENCE_ATTEMPTS_MAX; attempt++) {
      const [row] = await tx.query<TopupRow>(
        `INSERT INTO topups (id, customer_id, amount_cents, vat_cents, charge_cents, status, gateway, order_id, created_at, vat_rate_basis_points,
                             vat_treatment, method, bank_reference, bank_expires_on)
         VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (bank_reference) WHERE bank_reference IS NOT NULL DO NOTHING RETURNING *`,
        [
          newId('top'),
          customerId,
          split.netCents,
          split.vatCents,
          split.grossCents,
          bank ? BANK_TRANSFER_GATEWAY : gateway,
          orderId,
          now,
          terms.rateBasisPoints,
          terms.treatment,
          method,
          bank ? bankReference(randomBytes(8)) : null,
          bank ? bankTransferExpiresOn(dateInRome(now.getTime())).toString() : null,
        ],
      );
      if (row) return row;
    }
    throw new Error(`no free bank-transfer reference in ${REFERENCE_ATTEMPTS_MAX} draws`);
  });
}

/** R17: the account a holder pays a transfer to: configured, or outside production the demo one. */
export const bankAccountOf = (ctx: ServiceContext): BankAccount | null => (ctx.bankTransfer === undefined ? DEMO_BANK_ACCOUNT : ctx.bankTransfer);

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
  /** R15: when the card was charged, as the gateway says (a notification may come later, even after midnight). */
  paidAt?: Date | null;
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
    return { result: 'applied', topup: await creditTopup(ctx, tx, topup, { paidAt: n.paidAt ?? null, gatewayReference: n.gatewayReference ?? null }) };
  });
}

/**
 * The one way a top-up succeeds, card or transfer (R17: "exactly as a card payment"): the caller
 * holds the top-up's and the wallet's row locks. R15: the year's invoice counter is locked first and
 * the instant read under it, so the invoice's number and date are given in one step (numbers
 * follow dates) and the ledger's VAT falls on the invoice's day; the payment's own day, which may be
 * earlier, is stated on the invoice.
 */
async function creditTopup(ctx: ServiceContext, tx: Tx, topup: TopupRow, payment: { paidAt: Date | null; gatewayReference: string | null }): Promise<TopupRow> {
  const issuedAt = await lockInvoiceYear(tx);
  const paidAt = payment.paidAt && payment.paidAt.getTime() < issuedAt.getTime() ? payment.paidAt : issuedAt;
  const credited = await recordTransaction(tx, {
    customerId: topup.customer_id,
    kind: 'topup',
    text: { key: 'topup' },
    postings: topupPostings(topup.customer_id, topup.amount_cents, topup.vat_cents),
    topupId: topup.id,
    at: issuedAt,
  });
  // R17: a debt left by a lost charge-back is paid first from the credit just added.
  const debtPaid = await payDebtFirst(tx, topup.customer_id, topup.amount_cents, issuedAt);
  const customer = (await readCustomer(tx, topup.customer_id))!;
  // R15: the invoice's id is known now, so the receipt can link its courtesy copy.
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
        vatTreatment: topup.vat_treatment,
        method: topup.method,
      }),
    },
    issuedAt,
  );
  const settled = await settleWaitingOrders(ctx, tx, topup.customer_id, topup.order_id);
  const [succeeded] = await tx.query<TopupRow>(
    `UPDATE topups SET status = 'succeeded', gateway_reference = COALESCE($2, gateway_reference), decided_at = $3, settled_order_ids = $4, paid_at = $5
      WHERE id = $1 RETURNING *`,
    [topup.id, payment.gatewayReference, issuedAt, settled, paidAt],
  );
  await issueInvoice(tx, {
    invoiceId,
    customerId: topup.customer_id,
    topup: succeeded!,
    seller: ctx.seller ?? DEMO_SELLER,
    vatRateBasisPoints: ctx.catalogue.vatRateBasisPoints,
    at: issuedAt,
    paidOn: dateInRome(paidAt.getTime()).toString(),
  });
  return { ...succeeded!, invoice_id: invoiceId };
}

export interface BankTransferReceipt {
  reference: string;
  chargeCents: number;
  receivedOn: string;
  reason: string;
}

/**
 * R17: an operator records a transfer received. The pending transfer top-up with that causale
 * succeeds, credited and invoiced by the card's own path, its invoice stating the day received.
 * 404 for an unknown reference; 409 topup_not_pending when paid or expired; 409 amount_mismatch.
 */
export async function recordBankTransfer(ctx: ServiceContext, actor: Actor, input: BankTransferReceipt): Promise<TopupRow> {
  const reference = normaliseBankReference(input.reference);
  if (reference === null) throw notFound('bank-transfer top-up with that reference');
  const receivedOn = parseDate(input.receivedOn);
  if (!receivedOn) throw invalid({ receivedOn: 'is not a calendar date (YYYY-MM-DD)' });
  if (!input.reason.trim()) throw new DomainError('reason_required', 'Say why (reason)');
  const today = clock.today();
  if (compareDates(receivedOn, today) > 0) throw invalid({ receivedOn: 'is after today' });
  return ctx.db.transaction(async (tx) => {
    const [topup] = await tx.query<TopupRow>('SELECT * FROM topups WHERE bank_reference = $1 FOR UPDATE', [reference]);
    if (!topup) throw notFound('bank-transfer top-up with that reference');
    const expired = topup.status === 'expired' || (topup.status === 'pending' && bankTransferExpired(date(topup.bank_expires_on!), today));
    if (topup.status !== 'pending' || expired) {
      throw new DomainError('topup_not_pending', `This transfer top-up is ${expired ? 'expired' : topup.status}: nothing recorded`);
    }
    if (input.chargeCents !== topup.charge_cents) {
      throw new DomainError('amount_mismatch', `The top-up asks for ${topup.charge_cents} cents, not ${input.chargeCents} cents: nothing recorded`);
    }
    if (compareDates(receivedOn, dateInRome(topup.created_at.getTime())) < 0) throw invalid({ receivedOn: 'is before the top-up was made' });
    await lockWallet(tx, topup.customer_id);
    // The day received, at noon in Rome: a date, not an instant, is what a bank statement gives.
    const paidAt = new Date(Math.min(Date.parse(`${receivedOn.toString()}T11:00:00Z`), clock.nowMs()));
    const succeeded = await creditTopup(ctx, tx, topup, { paidAt, gatewayReference: null });
    await audit(
      tx,
      actor,
      {
        action: 'bank_transfer.record',
        entityKind: 'topup',
        entityId: topup.id,
        reason: input.reason.trim(),
        before: { status: topup.status },
        after: { status: 'succeeded', reference, chargeCents: input.chargeCents, receivedOn: receivedOn.toString(), invoiceId: succeeded.invoice_id },
      },
      clock.now(),
    );
    return succeeded;
  });
}

/** R17: the transfers staff wait for (the console's list beside the form that records one), oldest first, bounded. */
export const PENDING_TRANSFERS_SHOWN_MAX = 100;
export async function pendingBankTransfers(ctx: ServiceContext): Promise<(TopupRow & { customer_name: string })[]> {
  return ctx.db.query<TopupRow & { customer_name: string }>(
    `SELECT t.*, c.name AS customer_name FROM topups t JOIN customers c ON c.id = t.customer_id
      WHERE t.bank_reference IS NOT NULL AND t.status = 'pending' AND t.bank_expires_on >= $1
      ORDER BY t.created_at, t.id LIMIT $2`,
    [clock.today().toString(), PENDING_TRANSFERS_SHOWN_MAX],
  );
}

/** R17: the daily job's step: transfer top-ups unpaid past their tenth day expire (nothing was charged). */
export async function expireBankTransfers(ctx: ServiceContext): Promise<number> {
  const rows = await ctx.db.query(
    `UPDATE topups SET status = 'expired', decided_at = $2
      WHERE bank_reference IS NOT NULL AND status = 'pending' AND bank_expires_on < $1 RETURNING id`,
    [clock.today().toString(), clock.now()],
  );
  return rows.length;
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
