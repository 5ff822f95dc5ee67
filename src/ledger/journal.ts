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

export async function recordTransaction(tx: Tx, e: JournalEntry): Promise<RecordedTransaction> {
  const delta = walletDelta(e.customerId, e.postings);
  // The CHECK (balance_cents >= 0) refuses a debit the wallet cannot cover, whatever the caller did.
  const [wallet] = await tx.query<{ balance_cents: number }>(
    'UPDATE wallets SET balance_cents = balance_cents + $2, updated_at = $3 WHERE customer_id = $1 RETURNING balance_cents',
    [e.customerId, delta, e.at],
  );
  if (!wallet) throw new Error(`no wallet for ${e.customerId}`);
  const id = newId('txn');
  await tx.query(
    `INSERT INTO ledger_transactions (id, customer_id, kind, wallet_amount_cents, balance_after_cents, description,
       order_id, mailbox_id, topup_id, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [id, e.customerId, e.kind, delta, wallet.balance_cents, e.description, e.orderId ?? null, e.mailboxId ?? null, e.topupId ?? null, e.at],
  );
  await tx.query(
    `INSERT INTO ledger_postings (transaction_id, account, amount_cents)
     SELECT $1, a, c FROM unnest($2::text[], $3::bigint[]) AS p(a, c)`,
    [id, e.postings.map((p) => p.account), e.postings.map((p) => p.amountCents)],
  );
  return { id, walletAmountCents: delta, balanceAfterCents: wallet.balance_cents as Cents };
}
