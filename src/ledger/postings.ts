// Double-entry postings (R6). Every journal transaction's postings sum to zero across accounts.
// Signs: a positive amount raises the account as the holder would read it (wallet = credit held);
// card clearing goes negative by what the card processor owes us.
import { cents, type Cents } from '../domain/money.ts';

export type Account = string & { readonly __kind: 'ledger account' };
export const walletAccount = (customerId: string): Account => `wallet:${customerId}` as Account;
export const ACCOUNTS = {
  cardClearing: 'card_clearing' as Account,
  vatPayable: 'vat_payable' as Account,
  revenueMailbox: 'revenue:mailbox' as Account,
  revenueExtraSpace: 'revenue:extra_inbox_space' as Account,
  adjustments: 'adjustments' as Account,
};

export interface Posting {
  account: Account;
  amountCents: Cents;
}

export class UnbalancedTransactionError extends Error {}

/** Drops zero lines and merges lines of the same account; throws unless the rest sums to zero. */
export function balanced(lines: readonly Posting[]): Posting[] {
  const byAccount = new Map<Account, number>();
  for (const l of lines) byAccount.set(l.account, (byAccount.get(l.account) ?? 0) + l.amountCents);
  const postings = [...byAccount].filter(([, a]) => a !== 0).map(([account, a]) => ({ account, amountCents: cents(a) }));
  const sum = postings.reduce((s, p) => s + p.amountCents, 0);
  if (sum !== 0) throw new UnbalancedTransactionError(`postings sum to ${sum}, not 0`);
  return postings;
}

/** A card top-up of net credit C with VAT V: the card is charged C + V. */
export const topupPostings = (customerId: string, net: Cents, vat: Cents): Posting[] =>
  balanced([
    { account: walletAccount(customerId), amountCents: net },
    { account: ACCOUNTS.vatPayable, amountCents: vat },
    { account: ACCOUNTS.cardClearing, amountCents: cents(-(net + vat)) },
  ]);

/** Spending credit on services: the wallet pays each revenue line. */
export function chargePostings(customerId: string, revenue: readonly Posting[]): Posting[] {
  const total = revenue.reduce((s, p) => s + p.amountCents, 0);
  return balanced([{ account: walletAccount(customerId), amountCents: cents(-total) }, ...revenue]);
}

/** An operator's adjustment or refund: positive adds credit. */
export const adjustmentPostings = (customerId: string, amount: Cents): Posting[] =>
  balanced([
    { account: walletAccount(customerId), amountCents: amount },
    { account: ACCOUNTS.adjustments, amountCents: cents(-amount) },
  ]);

export const walletDelta = (customerId: string, postings: readonly Posting[]): Cents =>
  cents(postings.filter((p) => p.account === walletAccount(customerId)).reduce((s, p) => s + p.amountCents, 0));
