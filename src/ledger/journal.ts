// Writes journal transactions. The caller holds the wallet's row lock (SELECT … FOR UPDATE).
import type { Tx } from '../db/database.ts';
import type { Cents } from '../domain/money.ts';
import { newId } from '../ids.ts';
import { SqlParams } from '../db/sql-params.ts';
import { walletDelta, type Posting } from './postings.ts';

export type TransactionKind = 'topup' | 'purchase' | 'renewal' | 'adjustment' | 'refund';

export interface JournalEntry {
  customerId: string;
  kind: TransactionKind;
  description: string;
  postings: readonly Posting[];
  orderId?: string | null;
  mailboxId?: string | null;
  topupId?: string | null;
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
       INSERT INTO ledger_transactions (id, customer_id, kind, wallet_amount_cents, balance_after_cents, description,
         order_id, mailbox_id, topup_id, created_at)
       SELECT ${p.add(id)}, ${customer}, ${p.add(e.kind)}, ${amount}, w.balance_cents, ${p.add(e.description)}, ${p.add(e.orderId ?? null)},
              ${p.add(e.mailboxId ?? null)}, ${p.add(e.topupId ?? null)}, ${at} FROM journal_wallet w
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
