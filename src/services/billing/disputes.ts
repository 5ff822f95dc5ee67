// R17 charge-backs: the gateway's dispute notifications, applied once each, in one transaction with
// the wallet locked. Opened: the payment's credit leaves the wallet for disputed:<holder> at once (up
// to the balance), so nothing can be bought or renewed with it. Won: it comes back. Lost: the card
// network took the charge back; the invoice is annulled by a credit note, the frozen credit goes and
// what had been spent becomes a debt (debt:<holder>) that the next top-up pays first.
import type { Queryable, Tx } from '../../db/database.ts';
import { cents, minCents, type Cents } from '../../domain/money.ts';
import { disputeFreeze, disputeLoss } from '../../domain/refund.ts';
import { recordTransaction } from '../../ledger/journal.ts';
import { debtAccount, debtRepaymentPostings, disputedAccount, disputeFreezePostings, disputeLostPostings } from '../../ledger/postings.ts';
import type { DisputeNotice } from '../../payments/gateway.ts';
import { newId } from '../../ids.ts';
import { clock } from '../../clock.ts';
import { audit, SYSTEM } from '../audit.ts';
import type { ServiceContext } from '../context.ts';
import { issueCreditNote, paymentLeft, readCreditedInvoice } from './refunds.ts';
import { lockWallet, type TopupRow } from '../rows.ts';

export type DisputeApplication = 'applied' | 'duplicate_event' | 'unknown_topup' | 'unchanged';

interface DisputeRow {
  topup_id: string;
  customer_id: string;
  status: 'opened' | 'won' | 'lost';
  frozen_cents: Cents;
}

/** Applies one verified dispute notification at most once. */
export async function applyDispute(ctx: ServiceContext, n: DisputeNotice): Promise<{ result: DisputeApplication; status: DisputeRow['status'] | null }> {
  const now = clock.now();
  return ctx.db.transaction(async (tx) => {
    const [topup] = await tx.query<TopupRow>(
      `SELECT * FROM topups WHERE gateway = $1 AND (id = $2 OR ($2::text IS NULL AND gateway_reference = $3)) AND status = 'succeeded' FOR UPDATE`,
      [n.gateway, n.topupId, n.paymentReference],
    );
    if (!topup) return { result: 'unknown_topup', status: null };
    const fresh = await tx.query(
      `INSERT INTO payment_events (gateway, event_id, topup_id, outcome, received_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING 1`,
      [n.gateway, n.eventId, topup.id, `dispute_${n.status}`, now],
    );
    if (!fresh.length) return { result: 'duplicate_event', status: null };
    const balance = (await lockWallet(tx, topup.customer_id))!;
    let [dispute] = await tx.query<DisputeRow>('SELECT * FROM disputes WHERE topup_id = $1 FOR UPDATE', [topup.id]);
    if (!dispute) {
      // A network that reports the outcome first still froze the credit when it opened the case.
      dispute = await openDispute(tx, topup, balance, now);
      if (n.status === 'opened') return { result: 'applied', status: 'opened' };
    }
    if (dispute.status !== 'opened' || n.status === 'opened') return { result: 'unchanged', status: dispute.status };
    if (n.status === 'won') await winDispute(tx, dispute, now);
    else await loseDispute(ctx, tx, topup, dispute, now);
    return { result: 'applied', status: n.status };
  });
}

async function openDispute(tx: Tx, topup: TopupRow, balance: Cents, now: Date): Promise<DisputeRow> {
  const left = await paymentLeft(tx, topup);
  const frozen = disputeFreeze(left, balance);
  if (frozen > 0) {
    await recordTransaction(tx, {
      customerId: topup.customer_id,
      kind: 'dispute',
      text: { key: 'dispute', step: 'opened' },
      postings: disputeFreezePostings(topup.customer_id, frozen),
      at: now,
    });
  }
  const [row] = await tx.query<DisputeRow>(
    `INSERT INTO disputes (topup_id, customer_id, status, frozen_cents, opened_at) VALUES ($1, $2, 'opened', $3, $4) RETURNING *`,
    [topup.id, topup.customer_id, frozen, now],
  );
  await audit(tx, SYSTEM, { action: 'dispute.opened', entityKind: 'topup', entityId: topup.id, after: { frozenCents: frozen } }, now);
  return row!;
}

async function winDispute(tx: Tx, d: DisputeRow, now: Date): Promise<void> {
  if (d.frozen_cents > 0) {
    await recordTransaction(tx, {
      customerId: d.customer_id,
      kind: 'dispute',
      text: { key: 'dispute', step: 'won' },
      postings: disputeFreezePostings(d.customer_id, cents(-d.frozen_cents)),
      at: now,
    });
  }
  await tx.query(`UPDATE disputes SET status = 'won', closed_at = $2 WHERE topup_id = $1`, [d.topup_id, now]);
  await audit(tx, SYSTEM, { action: 'dispute.won', entityKind: 'topup', entityId: d.topup_id, after: { releasedCents: d.frozen_cents } }, now);
}

async function loseDispute(ctx: ServiceContext, tx: Tx, topup: TopupRow, d: DisputeRow, now: Date): Promise<void> {
  const loss = disputeLoss(await paymentLeft(tx, topup), cents(Number(d.frozen_cents)));
  const cn = loss.creditNote;
  if (cn.netCents > 0 || d.frozen_cents > 0) {
    await recordTransaction(tx, {
      customerId: d.customer_id,
      kind: 'dispute',
      text: { key: 'dispute', step: 'lost' },
      postings: disputeLostPostings(d.customer_id, cents(Number(d.frozen_cents)), cn.netCents, cn.vatCents, loss.debtCents),
      at: now,
    });
  }
  const invoice = await readCreditedInvoice(tx, topup.id);
  const creditNoteId = invoice && cn.netCents > 0 ? newId('inv') : null;
  await tx.query(`UPDATE disputes SET status = 'lost', closed_at = $2, debt_cents = $3, credit_note_id = $4 WHERE topup_id = $1`, [topup.id, now, loss.debtCents, creditNoteId]);
  await audit(tx, SYSTEM, { action: 'dispute.lost', entityKind: 'topup', entityId: topup.id, after: { removedCents: d.frozen_cents, debtCents: loss.debtCents, creditNoteId } }, now);
  // DECISIONS.md: the reversed payment's invoice is annulled for what it had left (art. 26 DPR 633/72).
  if (invoice && creditNoteId) {
    await issueCreditNote(ctx, tx, { creditNoteId, refundId: null, customerId: d.customer_id, topupId: topup.id, invoice, netCents: cn.netCents, vatCents: cn.vatCents, at: now });
  }
}

/** Migration 049's partial index's predicate, word for word: with it in the query the index answers it. */
const DISPUTE_OR_DEBT_ACCOUNT = "(account LIKE 'disputed:%' OR account LIKE 'debt:%')";

/** R17: what the holder cannot spend (frozen by open disputes) and owes (lost ones), for GET /api/me and the pages. */
export async function readDisputedAndDebt(db: Queryable, customerId: string): Promise<{ disputedCents: Cents; debtCents: Cents }> {
  const [row] = await db.query<{ disputed: number | null; debt: number | null }>(
    `SELECT (SELECT sum(amount_cents) FROM ledger_postings WHERE account = $1 AND ${DISPUTE_OR_DEBT_ACCOUNT})::int8 AS disputed,
            (SELECT -sum(amount_cents) FROM ledger_postings WHERE account = $2 AND ${DISPUTE_OR_DEBT_ACCOUNT})::int8 AS debt`,
    [disputedAccount(customerId), debtAccount(customerId)],
  );
  return { disputedCents: cents(Number(row?.disputed ?? 0)), debtCents: cents(Number(row?.debt ?? 0)) };
}

/**
 * R17: a top-up's credit pays the holder's debt first, inside the transaction that credited it
 * (wallet locked). Returns what was paid.
 */
export async function payDebtFirst(tx: Tx, customerId: string, creditedCents: Cents, now: Date): Promise<Cents> {
  const { debtCents } = await readDisputedAndDebt(tx, customerId);
  const paid = minCents(debtCents, creditedCents);
  if (paid <= 0) return cents(0);
  await recordTransaction(tx, { customerId, kind: 'debt', text: { key: 'debt_paid' }, postings: debtRepaymentPostings(customerId, paid), at: now });
  return paid;
}
