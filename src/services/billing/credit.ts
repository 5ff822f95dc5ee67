// R6: the holder's credit statement, and operators' adjustments (each with a reason, audited).
import { cents, type Cents } from '../../domain/money.ts';
import type { Locale } from '../../i18n/format.ts';
import { recordTransaction } from '../../ledger/journal.ts';
import { adjustmentPostings } from '../../ledger/postings.ts';
import { clock } from '../../clock.ts';
import { audit, type Actor } from '../audit.ts';
import type { ServiceContext } from '../context.ts';
import { invalid, notFound } from '../errors.ts';
import { lockWallet, readBalance } from '../rows.ts';
import type { TransactionRow } from '../views.ts';

export const TRANSACTION_COLUMNS = 'id, created_at, kind, wallet_amount_cents, balance_after_cents, description, description_params, order_id, mailbox_id';

export async function readStatement(
  ctx: ServiceContext,
  customerId: string,
  limit = 500,
): Promise<{ balanceCents: Cents; transactions: TransactionRow[]; locale: Locale }> {
  const transactions = await ctx.db.query<TransactionRow>(
    `SELECT ${TRANSACTION_COLUMNS} FROM ledger_transactions WHERE customer_id = $1 AND wallet_amount_cents <> 0 ORDER BY seq DESC LIMIT $2`,
    [customerId, limit],
  );
  // The holder's language, for the API's descriptions (the pages use the page's language).
  const [c] = await ctx.db.query<{ locale: Locale }>('SELECT locale FROM customers WHERE id = $1', [customerId]);
  return { balanceCents: await readBalance(ctx.db, customerId), transactions, locale: c?.locale ?? 'it' };
}

export const reasonLengthMax = 500;

export async function adjustCredit(
  ctx: ServiceContext,
  actor: Actor,
  customerId: string,
  amountCents: number,
  reason: string,
): Promise<TransactionRow> {
  const fields: Record<string, string> = {};
  if (!Number.isSafeInteger(amountCents) || amountCents === 0) fields.amountCents = 'must be a whole number of cents, not 0';
  else if (Math.abs(amountCents) > 100_000_000) fields.amountCents = 'must be at most 1,000,000.00 € either way';
  if (!reason.trim()) fields.reason = 'must say why';
  else if (reason.length > reasonLengthMax) fields.reason = `must be at most ${reasonLengthMax} characters`;
  if (Object.keys(fields).length) throw invalid(fields);
  const now = clock.now();
  return ctx.db.transaction(async (tx) => {
    const balance = await lockWallet(tx, customerId);
    if (balance === null) throw notFound('customer');
    if (balance + amountCents < 0) {
      throw invalid({ amountCents: `would take the balance below zero (balance ${balance} cents)` }, 'The balance cannot go below zero');
    }
    const recorded = await recordTransaction(tx, {
      customerId,
      kind: 'adjustment',
      text: { key: 'adjustment', reason: reason.trim() },
      postings: adjustmentPostings(customerId, cents(amountCents)),
      at: now,
    });
    await audit(
      tx,
      actor,
      {
        action: 'credit.adjust',
        entityKind: 'customer',
        entityId: customerId,
        reason: reason.trim(),
        before: { balanceCents: balance },
        after: { balanceCents: recorded.balanceAfterCents, transactionId: recorded.id },
      },
      now,
    );
    const [row] = await tx.query<TransactionRow>(`SELECT ${TRANSACTION_COLUMNS} FROM ledger_transactions WHERE id = $1`, [recorded.id]);
    return row!;
  });
}
