// R17: money back, as pure rules over a payment's figures, the wallet and a date. The shell locks the
// rows, asks these functions, and writes what they decide.
import { daysBetween, type CalendarDate } from './calendar.ts';
import { cents, divideHalfUp, minCents, type Cents } from './money.ts';

/** What a card payment still has: its net and VAT, less what refunds (pending or done) took back. */
export interface PaymentLeft {
  /** The top-up's credit (net) and VAT as invoiced. */
  netCents: Cents;
  vatCents: Cents;
  /** Net and VAT of its refunds that are pending or succeeded. */
  refundedNetCents: Cents;
  refundedVatCents: Cents;
  /** The invoice's VAT rate (0 when it carried no VAT). */
  vatRateBasisPoints: number;
  /** An open or lost charge-back takes the payment out of reach of refunds. */
  dispute: 'opened' | 'won' | 'lost' | null;
}

export type RefundRefusal = 'amount_invalid' | 'more_than_payment_left' | 'more_than_balance' | 'payment_disputed';
export type Plan<T, E> = { ok: true; value: T } | { ok: false; error: E };

export interface RefundAmounts {
  netCents: Cents;
  vatCents: Cents;
  chargeCents: Cents;
}

export const netLeft = (p: PaymentLeft): Cents => cents(p.netCents - p.refundedNetCents);

/**
 * R17: a refund of `netCents` of a payment: never more than the payment has left nor than the
 * balance. Its VAT is proportional to the net at the invoice's rate, and the refund that empties the
 * payment takes exactly the VAT left, so a payment's refunds never give back more VAT than it had.
 */
export function planRefund(p: PaymentLeft, netCents: number, balanceCents: Cents): Plan<RefundAmounts, RefundRefusal> {
  if (!Number.isSafeInteger(netCents) || netCents <= 0) return { ok: false, error: 'amount_invalid' };
  if (p.dispute === 'opened' || p.dispute === 'lost') return { ok: false, error: 'payment_disputed' };
  const left = netLeft(p);
  if (netCents > left) return { ok: false, error: 'more_than_payment_left' };
  if (netCents > balanceCents) return { ok: false, error: 'more_than_balance' };
  const vatLeft = cents(p.vatCents - p.refundedVatCents);
  const vat = netCents === left ? vatLeft : minCents(vatLeft, cents(divideHalfUp(netCents * p.vatRateBasisPoints, 10_000)));
  return { ok: true, value: { netCents: cents(netCents), vatCents: vat, chargeCents: cents(netCents + vat) } };
}

/** R17, Codice del Consumo art. 52: 14 days from the day of the payment, that day not counted. */
export const WITHDRAWAL_DAYS = 14;

export type WithdrawalRefusal = 'not_a_consumer' | 'too_late' | 'nothing_unspent' | 'payment_disputed' | 'already_withdrawn';

/**
 * The unspent part of a top-up (DECISIONS.md): min(what the payment has left unrefunded, the
 * balance). Credit is one pool, so whatever the holder spent is taken from the newest money last:
 * as long as the balance covers the top-up's net, none of it is spent.
 */
export const unspentPart = (p: PaymentLeft, balanceCents: Cents): Cents => minCents(netLeft(p), balanceCents);

export function planWithdrawal(
  p: PaymentLeft,
  facts: { buyerIsPerson: boolean; paidOn: CalendarDate; today: CalendarDate; balanceCents: Cents; withdrawnBefore: boolean },
): Plan<RefundAmounts, WithdrawalRefusal> {
  if (!facts.buyerIsPerson) return { ok: false, error: 'not_a_consumer' };
  if (daysBetween(facts.paidOn, facts.today) > WITHDRAWAL_DAYS) return { ok: false, error: 'too_late' };
  if (facts.withdrawnBefore) return { ok: false, error: 'already_withdrawn' };
  if (p.dispute === 'opened' || p.dispute === 'lost') return { ok: false, error: 'payment_disputed' };
  const unspent = unspentPart(p, facts.balanceCents);
  if (unspent <= 0) return { ok: false, error: 'nothing_unspent' };
  const plan = planRefund(p, unspent, facts.balanceCents);
  return plan.ok ? plan : { ok: false, error: 'nothing_unspent' };
}

/**
 * R17 closing: the balance goes back to the holder's payments, newest first, each for at most what
 * it has left. What no payment can take (credit given by adjustments) stays and is reported.
 */
export function planClosing<P extends PaymentLeft & { id: string }>(
  paymentsNewestFirst: readonly P[],
  balanceCents: Cents,
): { refunds: { payment: P; amounts: RefundAmounts }[]; leftOverCents: Cents } {
  let rest = balanceCents as number;
  const refunds: { payment: P; amounts: RefundAmounts }[] = [];
  for (const p of paymentsNewestFirst) {
    if (rest <= 0) break;
    const take = Math.min(rest, netLeft(p));
    if (take <= 0) continue;
    const plan = planRefund(p, take, cents(rest));
    if (!plan.ok) continue;
    refunds.push({ payment: p, amounts: plan.value });
    rest -= take;
  }
  return { refunds, leftOverCents: cents(rest) };
}

/** R17 charge-back: the credit a dispute freezes when it opens: the payment's net left, up to the balance. */
export const disputeFreeze = (p: PaymentLeft, balanceCents: Cents): Cents => minCents(netLeft(p), balanceCents);

/**
 * R17 charge-back lost (DECISIONS.md): the payment is reversed, so its invoice is annulled by a credit
 * note for what it had left (net and VAT); the frozen credit goes, and the part already spent
 * becomes a debt, in net credit, that the next top-up pays first.
 */
export function disputeLoss(p: PaymentLeft, frozenCents: Cents): { creditNote: RefundAmounts; debtCents: Cents } {
  const net = netLeft(p);
  const vat = cents(p.vatCents - p.refundedVatCents);
  return { creditNote: { netCents: net, vatCents: vat, chargeCents: cents(net + vat) }, debtCents: cents(Math.max(0, net - frozenCents)) };
}
