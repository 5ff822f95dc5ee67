// R6: "a command verifies this for every holder": each wallet equals the sum of its postings, each
// journal transaction sums to zero, and each holder's statement agrees with the wallet.
import type { Queryable } from '../db/database.ts';

export interface LedgerProblem {
  kind: 'wallet_mismatch' | 'unbalanced_transaction' | 'statement_mismatch' | 'refunds_pending_mismatch' | 'disputed_mismatch';
  customerId?: string;
  transactionId?: string;
  expectedCents?: number;
  actualCents?: number;
}

export interface LedgerReport {
  ok: boolean;
  customersChecked: number;
  transactionsChecked: number;
  problems: LedgerProblem[];
}

/** At most this many problems are listed; `ok` is false whatever the count. */
const problemsListedMax = 100;

export async function verifyLedger(db: Queryable): Promise<LedgerReport> {
  const [counts] = await db.query<{ customers: number; transactions: number }>(
    `SELECT (SELECT count(*) FROM wallets)::int8 AS customers, (SELECT count(*) FROM ledger_transactions)::int8 AS transactions`,
  );
  // Both sides are aggregated first and joined on a plain column, so PostgreSQL hash-joins them
  // (a join on 'wallet:' || id with LIMIT degenerated into a nested loop: minutes at 100k holders).
  const walletMismatches = await db.query<{ customer_id: string; balance_cents: number; postings_cents: number }>(
    `WITH postings AS MATERIALIZED (
       SELECT substr(account, 8) AS customer_id, sum(amount_cents) AS total
         FROM ledger_postings WHERE account LIKE 'wallet:%' GROUP BY account)
     SELECT coalesce(w.customer_id, p.customer_id) AS customer_id, coalesce(w.balance_cents, 0)::int8 AS balance_cents,
            coalesce(p.total, 0)::int8 AS postings_cents
       FROM wallets w FULL JOIN postings p ON p.customer_id = w.customer_id
      WHERE coalesce(w.balance_cents, 0) <> coalesce(p.total, 0)
      LIMIT ${problemsListedMax}`,
  );
  const unbalanced = await db.query<{ transaction_id: string; total: number }>(
    `SELECT t.id AS transaction_id, coalesce(sum(p.amount_cents), 0)::int8 AS total
       FROM ledger_transactions t LEFT JOIN ledger_postings p ON p.transaction_id = t.id
      GROUP BY t.id HAVING coalesce(sum(p.amount_cents), 0) <> 0 OR count(p.account) = 0
      LIMIT ${problemsListedMax}`,
  );
  // The statement: movements of each holder add up to the wallet, and the last balance shown is it.
  const statements = await db.query<{ customer_id: string; balance_cents: number; movements_cents: number }>(
    `WITH movements AS MATERIALIZED (
       SELECT customer_id, sum(wallet_amount_cents) AS total FROM ledger_transactions GROUP BY customer_id)
     SELECT w.customer_id, w.balance_cents, coalesce(t.total, 0)::int8 AS movements_cents
       FROM wallets w LEFT JOIN movements t ON t.customer_id = w.customer_id
      WHERE w.balance_cents <> coalesce(t.total, 0)
      LIMIT ${problemsListedMax}`,
  );
  // R17: the net held for refunds equals the refunds still pending; the credit held by each holder's
  // disputed account equals what their open disputes froze.
  const [held] = await db.query<{ ledger: number; refunds: number }>(
    `SELECT coalesce((SELECT sum(amount_cents) FROM ledger_postings WHERE account = 'refunds_pending'), 0)::int8 AS ledger,
            coalesce((SELECT sum(amount_cents) FROM refunds WHERE status = 'pending'), 0)::int8 AS refunds`,
  );
  const disputed = await db.query<{ customer_id: string; ledger: number; frozen: number }>(
    `WITH ledger AS (SELECT substr(account, 10) AS customer_id, sum(amount_cents) AS total FROM ledger_postings WHERE account LIKE 'disputed:%' GROUP BY account),
          frozen AS (SELECT customer_id, sum(frozen_cents) AS total FROM disputes WHERE status = 'opened' GROUP BY customer_id)
     SELECT coalesce(l.customer_id, f.customer_id) AS customer_id, coalesce(l.total, 0)::int8 AS ledger, coalesce(f.total, 0)::int8 AS frozen
       FROM ledger l FULL JOIN frozen f ON f.customer_id = l.customer_id
      WHERE coalesce(l.total, 0) <> coalesce(f.total, 0)
      LIMIT ${problemsListedMax}`,
  );
  const problems: LedgerProblem[] = [
    ...(Number(held!.ledger) !== Number(held!.refunds)
      ? [{ kind: 'refunds_pending_mismatch' as const, expectedCents: Number(held!.refunds), actualCents: Number(held!.ledger) }]
      : []),
    ...disputed.map((r) => ({ kind: 'disputed_mismatch' as const, customerId: r.customer_id, expectedCents: Number(r.frozen), actualCents: Number(r.ledger) })),
    ...walletMismatches.map((r) => ({
      kind: 'wallet_mismatch' as const,
      customerId: r.customer_id,
      expectedCents: r.postings_cents,
      actualCents: r.balance_cents,
    })),
    ...unbalanced.map((r) => ({ kind: 'unbalanced_transaction' as const, transactionId: r.transaction_id, actualCents: r.total })),
    ...statements.map((r) => ({
      kind: 'statement_mismatch' as const,
      customerId: r.customer_id,
      expectedCents: r.movements_cents,
      actualCents: r.balance_cents,
    })),
  ].slice(0, problemsListedMax);
  return {
    ok: problems.length === 0,
    customersChecked: counts?.customers ?? 0,
    transactionsChecked: counts?.transactions ?? 0,
    problems,
  };
}
