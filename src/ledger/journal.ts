// Writes journal transactions. The caller holds the wallet's row lock (SELECT … FOR UPDATE).
import type { Tx } from '../db/database.ts';
import type { Cents } from '../domain/money.ts';
import { newId } from '../ids.ts';
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

/**
 * One statement, one round trip: the wallet moves, the journal transaction and its postings are
 * written together (the postings' foreign key is checked at the end of the statement).
 */
export async function recordTransaction(tx: Tx, e: JournalEntry): Promise<RecordedTransaction> {
  const delta = walletDelta(e.customerId, e.postings);
  const id = newId('txn');
  // The CHECK (balance_cents >= 0) refuses a debit the wallet cannot cover, whatever the caller did.
  const [row] = await tx.query<{ balance_after_cents: number }>(
    `WITH w AS (
       UPDATE wallets SET balance_cents = balance_cents + $2, updated_at = $3 WHERE customer_id = $1 RETURNING balance_cents
     ), t AS (
       INSERT INTO ledger_transactions (id, customer_id, kind, wallet_amount_cents, balance_after_cents, description,
         order_id, mailbox_id, topup_id, created_at)
       SELECT $4, $1, $5, $2, w.balance_cents, $6, $7, $8, $9, $3 FROM w
       RETURNING id, balance_after_cents
     ), p AS (
       INSERT INTO ledger_postings (transaction_id, account, amount_cents)
       SELECT t.id, a, c FROM t, unnest($10::text[], $11::bigint[]) AS p(a, c)
     )
     SELECT balance_after_cents FROM t`,
    [e.customerId, delta, e.at, id, e.kind, e.description, e.orderId ?? null, e.mailboxId ?? null, e.topupId ?? null,
     e.postings.map((p) => p.account), e.postings.map((p) => p.amountCents)],
  );
  if (!row) throw new Error(`no wallet for ${e.customerId}`);
  return { id, walletAmountCents: delta, balanceAfterCents: row.balance_after_cents as Cents };
}
