// Writes journal transactions. The caller holds the wallet's row lock (SELECT … FOR UPDATE).
import type { Tx } from '../db/database.ts';
import type { Cents } from '../domain/money.ts';
import { newId } from '../ids.ts';
import { SqlParams } from '../db/sql-params.ts';
import { chargePostings, walletDelta, type Posting } from './postings.ts';
import { ledgerText, type LedgerText } from '../i18n/ledger-text.ts';

export type TransactionKind = 'topup' | 'purchase' | 'renewal' | 'adjustment' | 'refund' | 'dispute' | 'debt';

export interface JournalEntry {
  customerId: string;
  kind: TransactionKind;
  /** What the holder reads in the statement, in their language (the Italian text is stored too). */
  text: LedgerText;
  postings: readonly Posting[];
  orderId?: string | null;
  mailboxId?: string | null;
  topupId?: string | null;
  /** R17: the refund this row is a step of (asked, then completed or released). */
  refundId?: string | null;
  at: Date;
}

export interface RecordedTransaction {
  id: string;
  walletAmountCents: Cents;
  balanceAfterCents: Cents;
}

/** The CTE of journalCtes that returns the new `balance_after_cents`. */
export const JOURNAL_TXN = 'journal_txn';

/**
 * The journal's part of a statement, as CTEs: the wallet moves, the journal transaction and its
 * postings are written together (the postings' foreign key is checked at the end of the statement).
 * The caller holds the wallet's row lock; the CHECK (balance_cents >= 0) refuses a debit the wallet
 * cannot cover, whatever the caller did.
 */
export function journalCtes(p: SqlParams, e: JournalEntry): { ctes: string; id: string; delta: Cents } {
  const delta = walletDelta(e.customerId, e.postings);
  const id = newId('txn');
  const customer = p.add(e.customerId);
  const amount = p.add(delta);
  const at = p.add(e.at);
  const ctes = `journal_wallet AS (
       UPDATE wallets SET balance_cents = balance_cents + ${amount}, updated_at = ${at} WHERE customer_id = ${customer} RETURNING balance_cents
     ), ${JOURNAL_TXN} AS (
       INSERT INTO ledger_transactions (id, customer_id, kind, wallet_amount_cents, balance_after_cents, description, description_params,
         order_id, mailbox_id, topup_id, refund_id, created_at)
       SELECT ${p.add(id)}, ${customer}, ${p.add(e.kind)}, ${amount}, w.balance_cents, ${p.add(ledgerText(e.text, 'it'))},
              ${p.add(JSON.stringify(e.text))}::jsonb, ${p.add(e.orderId ?? null)},
              ${p.add(e.mailboxId ?? null)}, ${p.add(e.topupId ?? null)}, ${p.add(e.refundId ?? null)}, ${at} FROM journal_wallet w
       RETURNING id, balance_after_cents
     ), journal_postings AS (
       INSERT INTO ledger_postings (transaction_id, account, amount_cents)
       SELECT t.id, a, c FROM ${JOURNAL_TXN} t, unnest(${p.add(e.postings.map((x) => x.account))}::text[], ${p.add(e.postings.map((x) => x.amountCents))}::bigint[]) AS v(a, c)
     )`;
  return { ctes, id, delta };
}

/** One journal transaction in one statement, one round trip. */
export async function recordTransaction(tx: Tx, e: JournalEntry): Promise<RecordedTransaction> {
  const p = new SqlParams();
  const j = journalCtes(p, e);
  const [row] = await tx.query<{ balance_after_cents: number }>(`WITH ${j.ctes} SELECT balance_after_cents FROM ${JOURNAL_TXN}`, p.values);
  if (!row) throw new Error(`no wallet for ${e.customerId}`);
  return { id: j.id, walletAmountCents: j.delta, balanceAfterCents: row.balance_after_cents as Cents };
}

/** A spend of credit on services (a purchase or a renewal), its balance already computed by the caller. */
export interface ChargeEntry {
  customerId: string;
  kind: 'purchase' | 'renewal';
  chargedCents: Cents;
  /** The wallet's balance right after this charge, as the caller computed it under the wallet's lock. */
  balanceAfterCents: Cents;
  text: LedgerText;
  /** What the charge paid for, by revenue account; they sum to chargedCents. */
  revenue: readonly Posting[];
  orderId: string | null;
  mailboxId: string;
}

/** The CTE of chargesCtes that counts wallets whose balance did not land where the caller computed. */
export const CHARGES_MISMATCH = 'charges_mismatch';

/**
 * The one way services spend credit (orders and the daily job's renewals): many charges written by
 * one statement, as CTEs for the caller's statement. Each charge is a journal transaction with
 * balanced postings; each wallet moves by the sum of its charges. The caller selects
 * `(SELECT n FROM charges_mismatch)` and passes it to assertChargesLanded: a wallet whose new
 * balance differs from what was computed under its lock means a plan or a lock is wrong.
 */
export function chargesCtes(p: SqlParams, charges: readonly ChargeEntry[], at: Date): { ctes: string; ids: string[] } {
  const ids = charges.map(() => newId('txn'));
  const postings = charges.map((c) => chargePostings(c.customerId, c.revenue));
  charges.forEach((c, i) => {
    const delta = walletDelta(c.customerId, postings[i]!);
    if (c.chargedCents <= 0 || delta !== -c.chargedCents) throw new Error(`invariant: charge of ${c.chargedCents} moves the wallet by ${delta}`);
  });
  const finalBalance = new Map<string, Cents>();
  for (const c of charges) finalBalance.set(c.customerId, c.balanceAfterCents);
  const when = p.add(at);
  const ctes = `charges_txn AS (
       INSERT INTO ledger_transactions (id, customer_id, kind, wallet_amount_cents, balance_after_cents, description, description_params,
                                        order_id, mailbox_id, created_at)
       SELECT id, c, k, -x, b, d, dp::jsonb, o, mid, ${when}
         FROM unnest(${p.add(ids)}::text[], ${p.add(charges.map((c) => c.customerId))}::text[], ${p.add(charges.map((c) => c.kind))}::text[],
                     ${p.add(charges.map((c) => c.chargedCents))}::int8[], ${p.add(charges.map((c) => c.balanceAfterCents))}::int8[],
                     ${p.add(charges.map((c) => ledgerText(c.text, 'it')))}::text[],
                     ${p.add(charges.map((c) => JSON.stringify(c.text)))}::text[], ${p.add(charges.map((c) => c.orderId))}::text[],
                     ${p.add(charges.map((c) => c.mailboxId))}::text[]) WITH ORDINALITY AS v(id, c, k, x, b, d, dp, o, mid, n)
        ORDER BY n
     ), charges_postings AS (
       INSERT INTO ledger_postings (transaction_id, account, amount_cents)
       SELECT t, a, x FROM unnest(${p.add(ids.flatMap((id, i) => postings[i]!.map(() => id)))}::text[],
                                  ${p.add(postings.flat().map((x) => x.account))}::text[],
                                  ${p.add(postings.flat().map((x) => x.amountCents))}::int8[]) AS v(t, a, x)
     ), charges_wallets AS (
       -- The CHECK (balance_cents >= 0) still refuses any debit the wallet cannot cover.
       UPDATE wallets w SET balance_cents = w.balance_cents - v.x, updated_at = ${when}
         FROM (SELECT c, sum(x) AS x FROM unnest(${p.add(charges.map((c) => c.customerId))}::text[], ${p.add(charges.map((c) => c.chargedCents))}::int8[]) AS u(c, x) GROUP BY c) v
        WHERE w.customer_id = v.c
        RETURNING w.customer_id, w.balance_cents
     ), ${CHARGES_MISMATCH} AS (
       SELECT count(*) AS n FROM unnest(${p.add([...finalBalance.keys()])}::text[], ${p.add([...finalBalance.values()])}::int8[]) AS e(c, b)
         LEFT JOIN charges_wallets w ON w.customer_id = e.c
        WHERE w.balance_cents IS DISTINCT FROM e.b
     )`;
  return { ctes, ids };
}

/** TIGER_STYLE: wallets move by exactly what was charged; anything else rolls the transaction back. */
export function assertChargesLanded(mismatch: unknown): void {
  if (Number(mismatch) !== 0) throw new Error(`invariant: ${mismatch} wallet(s) did not land on the balance their charges computed`);
}

/** Charges written by their own statement (the daily job's batches); their journal transaction ids, in order. */
export async function writeCharges(tx: Tx, charges: readonly ChargeEntry[], at: Date): Promise<string[]> {
  if (!charges.length) return [];
  const p = new SqlParams();
  const { ctes, ids } = chargesCtes(p, charges, at);
  const [row] = await tx.query<{ n: unknown }>(`WITH ${ctes} SELECT n FROM ${CHARGES_MISMATCH}`, p.values);
  assertChargesLanded(row?.n);
  return ids;
}
