// R17 money back: an operator's refund, a holder's withdrawal, a closing. Exactly once and crash-safe
// in three steps: (1) one transaction records the refund `pending` and takes its net from the
// wallet (held in refunds_pending); (2) the gateway is called outside any transaction, with the
// refund id as its idempotency key; (3) one transaction completes it (VAT reversed, credit note,
// e-mail) or, if the gateway refused it for good, gives the net back. A crash between steps leaves
// a pending refund that the recovery loop drives again: the gateway answers the same refund, so
// nothing is refunded twice and nothing the gateway refunded is lost.
import type { Queryable, Tx } from '../../db/database.ts';
import { dateInRome } from '../../domain/calendar.ts';
import { DEMO_SELLER } from '../../domain/invoice.ts';
import { cents, type Cents } from '../../domain/money.ts';
import { planClosing, planRefund, planWithdrawal, WITHDRAWAL_DAYS, type PaymentLeft, type RefundAmounts } from '../../domain/refund.ts';
import type { BillingProfile } from '../../domain/billing-profile.ts';
import { recordTransaction } from '../../ledger/journal.ts';
import { refundCompletePostings, refundReleasePostings, refundReservePostings } from '../../ledger/postings.ts';
import { enqueueEmail } from '../../mail/outbox.ts';
import { refundMade } from '../../mail/templates.ts';
import type { PaymentGateway } from '../../payments/gateway.ts';
import { newId } from '../../ids.ts';
import { clock } from '../../clock.ts';
import { audit, SYSTEM, type Actor } from '../audit.ts';
import type { ServiceContext } from '../context.ts';
import { DomainError, notFound } from '../errors.ts';
import { issueInvoice, lockInvoiceYear, type InvoiceRow } from './invoices.ts';
import { lockWallet, readBalance, readCustomer, type TopupRow } from '../rows.ts';

export type RefundKind = 'refund' | 'withdrawal' | 'closing';

export interface RefundRow {
  id: string;
  customer_id: string;
  topup_id: string;
  kind: RefundKind;
  status: 'pending' | 'succeeded' | 'failed';
  amount_cents: Cents;
  vat_cents: Cents;
  charge_cents: Cents;
  reason: string;
  gateway: string;
  request_scope: string | null;
  request_key: string | null;
  request_hash: string | null;
  gateway_refund_id: string | null;
  failure_code: string | null;
  credit_note_id: string | null;
  attempts: number;
  next_attempt_at: Date;
  created_at: Date;
  completed_at: Date | null;
}

/** The Idempotency-Key of the request, kept on the refund so a retry (even after a crash) finds it. */
export interface RequestKey {
  scope: string;
  key: string;
  hash: string;
}

export const REASON_LENGTH_MAX = 500;
/** The recovery loop leaves a fresh refund to the request that made it for this long (machine time). */
export const REFUND_RETRY_DELAY_MS = 30_000;
const RETRY_DELAY_MS_MAX = 15 * 60_000;
export const RECOVERY_BATCH_MAX = 100;
const HOLDER_REFUNDS_MAX = 1000;
export const WITHDRAWAL_REASON = 'Recesso (art. 52 Codice del Consumo)';

const refundNotAllowed = (message: string) => new DomainError('refund_not_allowed', message);

function checkReason(reason: unknown): string {
  if (typeof reason !== 'string' || !reason.trim()) throw new DomainError('reason_required', 'Say why (reason)', { reason: 'must say why' });
  if (reason.length > REASON_LENGTH_MAX) throw new DomainError('validation_failed', 'The reason is too long', { reason: `must be at most ${REASON_LENGTH_MAX} characters` });
  return reason.trim();
}

/** What a locked payment has left, from its refunds and dispute. */
export async function paymentLeft(tx: Queryable, topup: TopupRow): Promise<PaymentLeft> {
  const [row] = await tx.query<{ net: number; vat: number; rate: number | null; dispute: PaymentLeft['dispute'] }>(
    `SELECT coalesce(sum(r.amount_cents), 0)::int8 AS net, coalesce(sum(r.vat_cents), 0)::int8 AS vat,
            (SELECT vat_rate_basis_points FROM invoices WHERE topup_id = $1 AND document_type <> 'TD04') AS rate,
            (SELECT status FROM disputes WHERE topup_id = $1) AS dispute
       FROM refunds r WHERE r.topup_id = $1 AND r.status <> 'failed'`,
    [topup.id],
  );
  return {
    netCents: cents(Number(topup.amount_cents)),
    vatCents: cents(Number(topup.vat_cents)),
    refundedNetCents: cents(Number(row!.net)),
    refundedVatCents: cents(Number(row!.vat)),
    // 0 VAT on the invoice (a buyer not charged VAT) means 0 VAT on its refunds.
    vatRateBasisPoints: Number(topup.vat_cents) === 0 ? 0 : (row!.rate ?? topup.vat_rate_basis_points ?? 0),
    dispute: row!.dispute,
  };
}

async function lockPaidTopup(tx: Tx, topupId: string, customerId: string | null): Promise<TopupRow> {
  const [topup] = await tx.query<TopupRow>(
    `SELECT * FROM topups WHERE id = $1 AND ($2::text IS NULL OR customer_id = $2) FOR UPDATE`,
    [topupId, customerId],
  );
  if (!topup) throw notFound('top-up');
  return topup;
}

async function findByKey(db: Queryable, key: RequestKey | null): Promise<RefundRow | null> {
  if (!key) return null;
  const [row] = await db.query<RefundRow>('SELECT * FROM refunds WHERE request_scope = $1 AND request_key = $2', [key.scope, key.key]);
  if (row && row.request_hash !== key.hash) throw new DomainError('idempotency_conflict', 'This Idempotency-Key was used with another request');
  return row ?? null;
}

/** Step 1: the refund recorded pending, its net taken from the (locked) wallet into refunds_pending. */
async function recordPending(
  tx: Tx,
  actor: Actor,
  d: { topup: TopupRow; kind: RefundKind; amounts: RefundAmounts; reason: string; key: RequestKey | null; now: Date; auditReason?: string },
): Promise<RefundRow> {
  const id = newId('rfd');
  const [row] = await tx.query<RefundRow>(
    `INSERT INTO refunds (id, customer_id, topup_id, kind, status, amount_cents, vat_cents, charge_cents, reason, gateway,
                          request_scope, request_key, request_hash, next_attempt_at, created_at)
     VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING *`,
    [
      id, d.topup.customer_id, d.topup.id, d.kind, d.amounts.netCents, d.amounts.vatCents, d.amounts.chargeCents, d.reason, d.topup.gateway,
      d.key?.scope ?? null, d.key?.key ?? null, d.key?.hash ?? null, new Date(clock.wallMs() + REFUND_RETRY_DELAY_MS), d.now,
    ],
  );
  await recordTransaction(tx, {
    customerId: d.topup.customer_id,
    kind: 'refund',
    text: { key: 'refund', kind: d.kind, step: 'asked' },
    postings: refundReservePostings(d.topup.customer_id, d.amounts.netCents),
    refundId: id,
    at: d.now,
  });
  await audit(tx, actor, { action: `refund.${d.kind}`, entityKind: 'topup', entityId: d.topup.id, reason: d.auditReason ?? d.reason, after: { refundId: id, ...d.amounts } }, d.now);
  return row!;
}

const isUniqueViolation = (err: unknown) => (err as { code?: string })?.code === '23505';

/**
 * Runs step 1 under the key: a concurrent request with the same key waits on the key's unique
 * index, then finds the refund the first one made.
 */
async function pendingOnce(ctx: ServiceContext, key: RequestKey | null, step: (tx: Tx) => Promise<RefundRow>): Promise<RefundRow> {
  const known = await findByKey(ctx.db, key);
  if (known) return known;
  try {
    return await ctx.db.transaction(step);
  } catch (err) {
    if (!isUniqueViolation(err) || !key) throw err;
    const first = await findByKey(ctx.db, key);
    if (!first) throw err;
    return first;
  }
}

/** R17: an operator refunds `netCents` of a card payment to the card that paid it. */
export async function refundPayment(
  ctx: ServiceContext,
  gateway: PaymentGateway,
  actor: Actor,
  topupId: string,
  netCents: number,
  reasonInput: unknown,
  key: RequestKey | null,
): Promise<RefundRow> {
  const reason = checkReason(reasonInput);
  if (!Number.isSafeInteger(netCents) || netCents <= 0) throw new DomainError('validation_failed', 'amountCents must be a whole number of cents above 0', { amountCents: 'must be a whole number of cents above 0' });
  const now = clock.now();
  const pending = await pendingOnce(ctx, key, async (tx) => {
    const topup = await lockPaidTopup(tx, topupId, null);
    if (topup.status !== 'succeeded') throw refundNotAllowed('Only a succeeded payment can be refunded');
    if (topup.gateway !== gateway.name) throw refundNotAllowed(`The payment was taken by the ${topup.gateway} gateway, which this server does not use`);
    const balance = (await lockWallet(tx, topup.customer_id))!;
    const plan = planRefund(await paymentLeft(tx, topup), netCents, balance);
    if (!plan.ok) {
      const why = {
        amount_invalid: 'The amount must be above 0',
        more_than_payment_left: 'More than the payment has left unrefunded',
        more_than_balance: `More than the holder's balance (${balance} cents)`,
        payment_disputed: 'The payment is disputed (charge-back)',
      }[plan.error];
      throw refundNotAllowed(why);
    }
    return recordPending(tx, actor, { topup, kind: 'refund', amounts: plan.value, reason, key, now });
  });
  return driveRefund(ctx, gateway, pending);
}

/**
 * R17, Codice del Consumo art. 52: a person takes back the unspent part of a top-up within 14 days,
 * from the customer area, or by writing to the provider (art. 54: any explicit statement), which
 * billing staff then record with `by` — the same rules, the staff member and their reason audited.
 */
export async function withdrawFromTopup(
  ctx: ServiceContext,
  gateway: PaymentGateway,
  holderId: string | null,
  topupId: string,
  key: RequestKey | null,
  by: { actor: Actor; reason: unknown } | null = null,
): Promise<RefundRow> {
  const staffReason = by ? checkReason(by.reason) : undefined;
  const now = clock.now();
  const pending = await pendingOnce(ctx, key, async (tx) => {
    const topup = await lockPaidTopup(tx, topupId, holderId);
    const customerId = topup.customer_id;
    const notAllowed = (message: string) => new DomainError('withdrawal_not_allowed', message);
    if (topup.status !== 'succeeded' || !topup.decided_at) throw notAllowed('Only a paid top-up can be withdrawn from');
    if (topup.gateway !== gateway.name) throw notAllowed('The payment was taken by a gateway this server does not use');
    const [facts] = await tx.query<{ buyer: BillingProfile | null; withdrawn: boolean }>(
      `SELECT coalesce((SELECT buyer FROM invoices WHERE topup_id = $1 AND document_type <> 'TD04'),
                       (SELECT profile FROM billing_profiles WHERE customer_id = $2)) AS buyer,
              EXISTS (SELECT 1 FROM refunds WHERE topup_id = $1 AND kind = 'withdrawal' AND status <> 'failed') AS withdrawn`,
      [topup.id, customerId],
    );
    const balance = (await lockWallet(tx, customerId))!;
    const plan = planWithdrawal(await paymentLeft(tx, topup), {
      buyerIsPerson: facts!.buyer?.kind === 'person',
      paidOn: dateInRome(topup.decided_at.getTime()),
      today: clock.today(),
      balanceCents: balance,
      withdrawnBefore: facts!.withdrawn,
    });
    if (!plan.ok) {
      throw notAllowed(
        {
          not_a_consumer: 'Withdrawal is for consumers; the buyer is a business',
          too_late: 'The 14 days to withdraw have passed',
          nothing_unspent: 'Nothing of this top-up is unspent',
          payment_disputed: 'The payment is disputed (charge-back)',
          already_withdrawn: 'This top-up was already withdrawn from',
        }[plan.error],
      );
    }
    return recordPending(tx, by?.actor ?? { kind: 'holder', id: customerId }, { topup, kind: 'withdrawal', amounts: plan.value, reason: WITHDRAWAL_REASON, key, now, ...(staffReason ? { auditReason: staffReason } : {}) });
  });
  return driveRefund(ctx, gateway, pending);
}

/**
 * R17 closing: once every mailbox of the holder is terminated, the balance goes back to their card
 * payments, newest first. Idempotent by construction: a second closing finds nothing left to refund
 * and answers the closing refunds already made.
 */
export async function closeAccountRefund(ctx: ServiceContext, gateway: PaymentGateway, actor: Actor, customerId: string, reasonInput: unknown): Promise<RefundRow[]> {
  const reason = checkReason(reasonInput);
  const now = clock.now();
  const made = await ctx.db.transaction(async (tx) => {
    if (!(await readCustomer(tx, customerId))) throw notFound('customer');
    const [open] = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM mailboxes WHERE customer_id = $1 AND status <> 'terminated'`, [customerId]);
    if (open!.n > 0) throw refundNotAllowed(`${open!.n} mailbox(es) of the holder are not terminated`);
    // Top-ups first, then the wallet: the order every refund and payment takes its locks in.
    const topups = await tx.query<TopupRow>(
      `SELECT * FROM topups WHERE customer_id = $1 AND status = 'succeeded' AND gateway = $2 ORDER BY id FOR UPDATE`,
      [customerId, gateway.name],
    );
    const balance = (await lockWallet(tx, customerId))!;
    const payments = [];
    for (const t of topups) payments.push({ ...(await paymentLeft(tx, t)), id: t.id, topup: t });
    payments.sort((a, b) => b.topup.created_at.getTime() - a.topup.created_at.getTime() || (a.id < b.id ? 1 : -1));
    const plan = planClosing(payments, balance);
    const rows: RefundRow[] = [];
    for (const r of plan.refunds) rows.push(await recordPending(tx, actor, { topup: r.payment.topup, kind: 'closing', amounts: r.amounts, reason, key: null, now }));
    return rows;
  });
  if (made.length) return Promise.all(made.map((r) => driveRefund(ctx, gateway, r)));
  const earlier = await ctx.db.query<RefundRow>(`SELECT * FROM refunds WHERE customer_id = $1 AND kind = 'closing' ORDER BY created_at DESC, id DESC LIMIT $2`, [customerId, HOLDER_REFUNDS_MAX]);
  return Promise.all(earlier.map((r) => (r.status === 'pending' ? driveRefund(ctx, gateway, r) : r)));
}

/** Steps 2 and 3: asks the gateway (outside any transaction), then completes or fails the refund. */
export async function driveRefund(ctx: ServiceContext, gateway: PaymentGateway, refund: RefundRow): Promise<RefundRow> {
  if (refund.status !== 'pending') return refund;
  if (refund.gateway !== gateway.name) return refund;
  const [topup] = await ctx.db.query<{ id: string; gateway: string; gateway_reference: string | null }>('SELECT id, gateway, gateway_reference FROM topups WHERE id = $1', [refund.topup_id]);
  let answer;
  try {
    answer = await gateway.refund(ctx.db, { refundId: refund.id, topup: topup!, chargeCents: refund.charge_cents, gatewayRefundId: refund.gateway_refund_id });
  } catch (err) {
    // The gateway could not be reached: the refund stays pending for the recovery loop.
    await ctx.db.query(`UPDATE refunds SET failure_code = $2 WHERE id = $1 AND status = 'pending'`, [refund.id, String((err as Error)?.message ?? err).slice(0, 200)]);
    return (await readRefund(ctx.db, null, refund.id))!;
  }
  if (answer.status === 'succeeded') return completeRefund(ctx, refund.id, answer.gatewayRefundId);
  if (answer.status === 'failed') return failRefund(ctx, refund.id, answer.failureCode, answer.gatewayRefundId);
  const [still] = await ctx.db.query<RefundRow>(`UPDATE refunds SET gateway_refund_id = $2 WHERE id = $1 RETURNING *`, [refund.id, answer.gatewayRefundId]);
  return still!;
}

/**
 * Step 3's start, whether the gateway gave the money back or not: the refund row, and — while it is
 * still pending — its payment, then the wallet: the order every money path locks in (the credit
 * note's foreign key to the payment would otherwise wait on it while holding the wallet). A refund
 * already finished is answered as it is, nothing else locked.
 */
async function lockRefundToFinish(tx: Tx, refundId: string): Promise<RefundRow> {
  const [refund] = await tx.query<RefundRow>('SELECT * FROM refunds WHERE id = $1 FOR UPDATE', [refundId]);
  if (!refund) throw notFound('refund');
  if (refund.status !== 'pending') return refund;
  await tx.query('SELECT id FROM topups WHERE id = $1 FOR UPDATE', [refund.topup_id]);
  await lockWallet(tx, refund.customer_id);
  return refund;
}

/** Step 3: the gateway gave the money back: VAT reversed, credit note issued, holder told. One transaction. */
export async function completeRefund(ctx: ServiceContext, refundId: string, gatewayRefundId: string | null): Promise<RefundRow> {
  const now = clock.now();
  return ctx.db.transaction(async (tx) => {
    const refund = await lockRefundToFinish(tx, refundId);
    if (refund.status !== 'pending') return refund;
    await recordTransaction(tx, {
      customerId: refund.customer_id,
      kind: 'refund',
      text: { key: 'refund', kind: refund.kind, step: 'completed' },
      postings: refundCompletePostings(refund.amount_cents, refund.vat_cents),
      refundId: refund.id,
      at: now,
    });
    const invoice = await readCreditedInvoice(tx, refund.topup_id);
    const creditNoteId = invoice ? newId('inv') : null;
    const customer = (await readCustomer(tx, refund.customer_id))!;
    await enqueueEmail(
      tx,
      {
        customerId: customer.id,
        kind: 'refund_made',
        to: customer.reference_email,
        locale: customer.locale,
        content: refundMade(customer.locale, {
          kind: refund.kind,
          amountCents: refund.amount_cents,
          vatCents: refund.vat_cents,
          chargeCents: refund.charge_cents,
          balanceCents: await readBalance(tx, customer.id),
          creditUrl: `${ctx.publicUrl}/credit`,
          creditNotePdfUrl: creditNoteId ? `${ctx.publicUrl}/fatture/${creditNoteId}/pdf` : null,
        }),
      },
      now,
    );
    const [done] = await tx.query<RefundRow>(
      `UPDATE refunds SET status = 'succeeded', gateway_refund_id = coalesce($2, gateway_refund_id), credit_note_id = $3, failure_code = NULL,
              completed_at = $4 WHERE id = $1 RETURNING *`,
      [refund.id, gatewayRefundId, creditNoteId, now],
    );
    // R17: the credit note, numbered like invoices (last write: the year's counter is held shortest).
    if (invoice && creditNoteId) await issueCreditNote(ctx, tx, { creditNoteId, refundId: refund.id, customerId: refund.customer_id, topupId: refund.topup_id, invoice, netCents: refund.amount_cents, vatCents: refund.vat_cents, at: now });
    return done!;
  });
}

type CreditedInvoice = Pick<InvoiceRow, 'id' | 'number' | 'issued_on' | 'vat_rate_basis_points'>;

/** The invoice of a payment (not a credit note of it): what a credit note for that payment cites. */
export async function readCreditedInvoice(tx: Queryable, topupId: string): Promise<CreditedInvoice | undefined> {
  const [invoice] = await tx.query<CreditedInvoice>(
    `SELECT id, number, issued_on, vat_rate_basis_points FROM invoices WHERE topup_id = $1 AND document_type <> 'TD04'`,
    [topupId],
  );
  return invoice;
}

/** A TD04 citing `invoice`, with its VAT data, through the invoices' own numbering. */
export async function issueCreditNote(
  ctx: ServiceContext,
  tx: Tx,
  d: { creditNoteId: string; refundId: string | null; customerId: string; topupId: string; invoice: CreditedInvoice; netCents: number; vatCents: number; at: Date },
): Promise<void> {
  const [topup] = await tx.query<TopupRow>('SELECT * FROM topups WHERE id = $1', [d.topupId]);
  // R15: a credit note's number and date are given together, under the year's counter lock, as an invoice's.
  const at = await lockInvoiceYear(tx);
  await issueInvoice(tx, {
    invoiceId: d.creditNoteId,
    customerId: d.customerId,
    topup: topup!,
    seller: ctx.seller ?? DEMO_SELLER,
    vatRateBasisPoints: d.invoice.vat_rate_basis_points,
    at,
    // The day the money went back, which is the day of the credit note.
    paidOn: dateInRome(at.getTime()).toString(),
    creditNote: { refundId: d.refundId, invoice: d.invoice, netCents: d.netCents, vatCents: d.vatCents },
  });
}

/** Step 3, refused: the gateway gave nothing back, so the held net returns to the wallet. */
export async function failRefund(ctx: ServiceContext, refundId: string, failureCode: string, gatewayRefundId: string | null): Promise<RefundRow> {
  const now = clock.now();
  return ctx.db.transaction(async (tx) => {
    const refund = await lockRefundToFinish(tx, refundId);
    if (refund.status !== 'pending') return refund;
    await recordTransaction(tx, {
      customerId: refund.customer_id,
      kind: 'refund',
      text: { key: 'refund', kind: refund.kind, step: 'released' },
      postings: refundReleasePostings(refund.customer_id, refund.amount_cents),
      refundId: refund.id,
      at: now,
    });
    await audit(tx, SYSTEM, { action: 'refund.failed', entityKind: 'topup', entityId: refund.topup_id, after: { refundId, failureCode } }, now);
    const [failed] = await tx.query<RefundRow>(
      `UPDATE refunds SET status = 'failed', failure_code = $2, gateway_refund_id = coalesce($3, gateway_refund_id), completed_at = $4 WHERE id = $1 RETURNING *`,
      [refundId, failureCode.slice(0, 200), gatewayRefundId, now],
    );
    return failed!;
  });
}

/**
 * The recovery loop's pass: pending refunds due (all of them with `everyPending`, as at start-up,
 * when no request of this process can still be driving one) are claimed by pushing their next
 * attempt back, then driven. Returns how many were finished.
 */
export async function recoverPendingRefunds(ctx: ServiceContext, gateway: PaymentGateway, opts: { everyPending?: boolean; batchSizeMax?: number } = {}): Promise<number> {
  const nowMs = clock.wallMs();
  const claimed = await ctx.db.query<RefundRow>(
    `UPDATE refunds SET attempts = attempts + 1,
            next_attempt_at = $1::timestamptz + least($2::int8, $3::int8 * power(2, least(attempts, 10))::int8) * interval '1 millisecond'
      WHERE id IN (SELECT id FROM refunds WHERE status = 'pending' AND gateway = $4 AND ($5::boolean OR next_attempt_at <= $1)
                    ORDER BY next_attempt_at LIMIT $6)
        AND status = 'pending'
      RETURNING *`,
    [new Date(nowMs), RETRY_DELAY_MS_MAX, REFUND_RETRY_DELAY_MS, gateway.name, opts.everyPending ?? false, opts.batchSizeMax ?? RECOVERY_BATCH_MAX],
  );
  let finished = 0;
  for (const r of claimed) if ((await driveRefund(ctx, gateway, r)).status !== 'pending') finished++;
  return finished;
}

/** At most this many recent top-ups are offered for withdrawal (14 days of top-ups, bounded). */
const WITHDRAWAL_OFFERS_MAX = 50;

/**
 * R17: the top-ups the holder can withdraw from today, with the refund each would make (the credit
 * page's `Recedi` buttons). A read: the withdrawal itself checks everything again under locks.
 */
export async function withdrawalOffers(ctx: ServiceContext, gateway: PaymentGateway, customerId: string): Promise<{ topup: TopupRow; amounts: RefundAmounts; until: string }[]> {
  const today = clock.today();
  const since = new Date(clock.nowMs() - (WITHDRAWAL_DAYS + 2) * 86_400_000);
  const topups = await ctx.db.query<TopupRow & { buyer: BillingProfile | null; withdrawn: boolean }>(
    `SELECT t.*, coalesce(i.buyer, (SELECT profile FROM billing_profiles WHERE customer_id = t.customer_id)) AS buyer,
            EXISTS (SELECT 1 FROM refunds r WHERE r.topup_id = t.id AND r.kind = 'withdrawal' AND r.status <> 'failed') AS withdrawn
       FROM topups t LEFT JOIN invoices i ON i.topup_id = t.id AND i.document_type <> 'TD04'
      WHERE t.customer_id = $1 AND t.status = 'succeeded' AND t.gateway = $2 AND t.decided_at >= $3
      ORDER BY t.decided_at DESC LIMIT $4`,
    [customerId, gateway.name, since, WITHDRAWAL_OFFERS_MAX],
  );
  const balance = await readBalance(ctx.db, customerId);
  const offers = [];
  for (const t of topups) {
    const paidOn = dateInRome(t.decided_at!.getTime());
    const plan = planWithdrawal(await paymentLeft(ctx.db, t), { buyerIsPerson: t.buyer?.kind === 'person', paidOn, today, balanceCents: balance, withdrawnBefore: t.withdrawn });
    if (plan.ok) offers.push({ topup: t, amounts: plan.value, until: paidOn.add({ days: WITHDRAWAL_DAYS }).toString() });
  }
  return offers;
}

export async function readRefund(db: Queryable, customerId: string | null, refundId: string): Promise<RefundRow | null> {
  const [row] = await db.query<RefundRow>('SELECT * FROM refunds WHERE id = $1 AND ($2::text IS NULL OR customer_id = $2)', [refundId, customerId]);
  return row ?? null;
}

/** Newest first. */
export async function listRefunds(db: Queryable, customerId: string): Promise<RefundRow[]> {
  return db.query<RefundRow>('SELECT * FROM refunds WHERE customer_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2', [customerId, HOLDER_REFUNDS_MAX]);
}

export const refundView = (r: RefundRow) => ({
  id: r.id,
  topupId: r.topup_id,
  amountCents: Number(r.amount_cents),
  vatCents: Number(r.vat_cents),
  chargeCents: Number(r.charge_cents),
  kind: r.kind,
  status: r.status,
  reason: r.reason,
  creditNoteId: r.credit_note_id,
  createdAt: r.created_at.toISOString(),
});
export type RefundView = ReturnType<typeof refundView>;
