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
  /** R17: net of refunds taken from wallets and not yet confirmed by the gateway. */
  refundsPending: 'refunds_pending' as Account,
};
/** R17: credit frozen by an open charge-back, per holder (not spendable). */
export const disputedAccount = (customerId: string): Account => `disputed:${customerId}` as Account;
/** R17: what a lost charge-back left the holder owing, per holder (negative: owed to us). */
export const debtAccount = (customerId: string): Account => `debt:${customerId}` as Account;

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

/** R17: a refund asked for: its net leaves the wallet at once, held until the gateway answers. */
export const refundReservePostings = (customerId: string, net: Cents): Posting[] =>
  balanced([
    { account: walletAccount(customerId), amountCents: cents(-net) },
    { account: ACCOUNTS.refundsPending, amountCents: net },
  ]);

/** R17: the gateway gave the money back: the held net and its VAT go back to the card. */
export const refundCompletePostings = (net: Cents, vat: Cents): Posting[] =>
  balanced([
    { account: ACCOUNTS.refundsPending, amountCents: cents(-net) },
    { account: ACCOUNTS.vatPayable, amountCents: cents(-vat) },
    { account: ACCOUNTS.cardClearing, amountCents: cents(net + vat) },
  ]);

/** R17: the gateway refused the refund for good: the held net goes back to the wallet. */
export const refundReleasePostings = (customerId: string, net: Cents): Posting[] =>
  balanced([
    { account: ACCOUNTS.refundsPending, amountCents: cents(-net) },
    { account: walletAccount(customerId), amountCents: net },
  ]);

/** R17 charge-back opened (positive) or won (negative amount): credit moves between wallet and disputed. */
export const disputeFreezePostings = (customerId: string, frozen: Cents): Posting[] =>
  balanced([
    { account: walletAccount(customerId), amountCents: cents(-frozen) },
    { account: disputedAccount(customerId), amountCents: frozen },
  ]);

/**
 * R17 charge-back lost: the card network takes the charge back (net + VAT left), the invoice's VAT
 * is annulled by a credit note, the frozen credit goes, and the rest of the net is owed by the holder.
 */
export const disputeLostPostings = (customerId: string, frozen: Cents, net: Cents, vat: Cents, debt: Cents): Posting[] =>
  balanced([
    { account: disputedAccount(customerId), amountCents: cents(-frozen) },
    { account: ACCOUNTS.vatPayable, amountCents: cents(-vat) },
    { account: ACCOUNTS.cardClearing, amountCents: cents(net + vat) },
    { account: debtAccount(customerId), amountCents: cents(-debt) },
  ]);

/** R17: a top-up pays the holder's debt first, from the credit it just added. */
export const debtRepaymentPostings = (customerId: string, paid: Cents): Posting[] =>
  balanced([
    { account: walletAccount(customerId), amountCents: cents(-paid) },
    { account: debtAccount(customerId), amountCents: paid },
  ]);

export const walletDelta = (customerId: string, postings: readonly Posting[]): Cents =>
  cents(postings.filter((p) => p.account === walletAccount(customerId)).reduce((s, p) => s + p.amountCents, 0));
