// R18: how much a mailbox's renewal by card charges, and when; and what the saved cards will add
// to a holder's credit before the renewals to come, for the expiry alerts, the dashboard and the
// forecast (issue 22 item 5). Pure: the holder's due renewals, a balance, dates.
import { addDays, compareDates, isBefore, type CalendarDate } from './calendar.ts';
import { planHolderRenewals, type CreditArrival, type DueRenewal, type HolderRenewalPlan, type PlannedRenewal } from './holder-renewals.ts';
import { addCents, cents, maxCents, minCents, subCents, type Cents } from './money.ts';

export interface TopupLimits {
  topupMinCents: Cents;
  topupMaxCents: Cents;
}

/** A renewal that a card charge made for its mailbox must keep: the mailbox at its E and the extra space renewed with it. */
const keptBy = (r: PlannedRenewal, covered: ReadonlySet<number>): boolean =>
  covered.has(r.mailboxIndex) && (r.service === 'mailbox' || r.withMailbox);

/** What the kept renewals lack in a plan: each missing amount, or the whole price of extra space whose mailbox fell. */
function keptLacking(plan: HolderRenewalPlan, covered: ReadonlySet<number>, from: CalendarDate): Cents {
  let lacking = 0;
  for (const r of plan.renewals) {
    // Credit arriving on `from` cannot help a renewal settled earlier.
    if (r.renewed || !r.wanted || !keptBy(r, covered) || isBefore(r.runOn, from)) continue;
    lacking += r.reason === 'insufficient_credit' ? r.missingCents : r.priceCents;
  }
  return cents(lacking);
}

/**
 * R18 item 3: what the card charged on `chargeOn` for the `target` mailbox's renewal must add so
 * that, in the job's order (R7.3, planHolderRenewals), the target's renewal (the mailbox, then its
 * extra space renewing with it) succeeds from credit after the holder's renewals due earlier take
 * what they take: at least R5's minimum top-up, at most the maximum; 0 when the credit covers it.
 * `covered`: mailboxes whose card charge for this period is already made (or counted): their
 * renewal keeps its money, so another charge never relies on it (one charge per period, R18).
 * `due` must reach the latest E among the target and `covered`.
 */
export function cardChargeFor(input: {
  due: readonly DueRenewal[];
  balanceCents: Cents;
  arrivals?: readonly CreditArrival[];
  covered?: ReadonlySet<number>;
  target: number;
  chargeOn: CalendarDate;
  limits: TopupLimits;
}): Cents {
  const kept = new Set(input.covered ?? []);
  kept.add(input.target);
  const earlier = input.arrivals ?? [];
  const planWith = (extraCents: Cents) =>
    planHolderRenewals(input.due, input.balanceCents, extraCents > 0 ? [...earlier, { on: input.chargeOn, cents: extraCents }] : earlier);
  let extra = cents(0);
  let lacking = keptLacking(planWith(extra), kept, input.chargeOn);
  // Added credit can let a renewal ordered before a kept one renew, which then takes its share:
  // each round adds what is still lacking, one round per renewal at most.
  for (let round = 0; lacking > 0 && round <= input.due.length; round++) {
    extra = addCents(extra, lacking);
    lacking = keptLacking(planWith(extra), kept, input.chargeOn);
  }
  if (lacking > 0) {
    // Not settled in those rounds (renewals renewing and falling in turn): enough for every wanted
    // renewal from the charge day up to the last kept one, which renews them all whatever the balance.
    let upToLastKept = 0;
    let sum = 0;
    for (const r of planWith(cents(0)).renewals) {
      if (!r.wanted || isBefore(r.runOn, input.chargeOn)) continue;
      sum += r.priceCents;
      if (keptBy(r, kept)) upToLastKept = sum;
    }
    extra = cents(upToLastKept);
  }
  if (extra <= 0) return cents(0);
  return minCents(input.limits.topupMaxCents, maxCents(extra, input.limits.topupMinCents));
}

/** The holder's mailboxes renewing by card, as the charge step will find them (indexes into the holder's list). */
export interface HolderCards {
  /** Charges asked of the gateway and not yet answered: credit before any renewal still to come. */
  inFlight: readonly { mailboxIndex: number; cents: Cents }[];
  /** Mailboxes whose card charge for this period is made (paid or in flight): their renewal keeps it. */
  covered: readonly number[];
  /** Mailboxes whose card will be charged, on that day (the first charge or a retry). */
  toCharge: readonly { mailboxIndex: number; chargeOn: CalendarDate; periodEndsOn: CalendarDate }[];
}

export const NO_CARDS: HolderCards = { inFlight: [], covered: [], toCharge: [] };

export interface CardPlan {
  /** The holder's renewals planned with what the cards will add, each charge from its day on. */
  plan: HolderRenewalPlan;
  /** Each charge to come, and each in flight (on today), by mailbox index. */
  charges: Map<number, CreditArrival>;
  /** What the cards will add: the charges to come and those in flight. */
  cardCents: Cents;
}

/**
 * R18 for the expiry alerts, the dashboard and the forecast (issue 22 item 5): the charges the
 * cards will make, each computed by cardChargeFor on its own day seeing the charges before it
 * (in charge-day order, then E), then the holder's plan with those charges arriving on their days.
 * A mailbox renewing by a card that will pay is then not short of credit; one whose card is known
 * not to pay (expired by then, no billing data, a failed charge with no retry left, a charge
 * waiting for the holder's authentication) is not in `toCharge` and counts as credit only.
 */
export function planWithCards(due: readonly DueRenewal[], balanceCents: Cents, cards: HolderCards, today: CalendarDate, limits: TopupLimits): CardPlan {
  const charges = new Map<number, CreditArrival>();
  let balance = balanceCents;
  for (const flying of cards.inFlight) {
    balance = addCents(balance, flying.cents);
    charges.set(flying.mailboxIndex, { on: today, cents: flying.cents });
  }
  let cardCents = subCents(balance, balanceCents);
  if (!cards.toCharge.length) return { plan: planHolderRenewals(due, balance), charges, cardCents };
  const covered = new Set(cards.covered);
  const arrivals: CreditArrival[] = [];
  const order = [...cards.toCharge].sort((a, b) => compareDates(a.chargeOn, b.chargeOn) || compareDates(a.periodEndsOn, b.periodEndsOn) || a.mailboxIndex - b.mailboxIndex);
  for (const card of order) {
    const charge = cardChargeFor({ due, balanceCents: balance, arrivals, covered, target: card.mailboxIndex, chargeOn: card.chargeOn, limits });
    covered.add(card.mailboxIndex);
    if (charge <= 0) continue;
    const arrival = { on: card.chargeOn, cents: charge };
    arrivals.push(arrival);
    charges.set(card.mailboxIndex, arrival);
    cardCents = addCents(cardCents, charge);
  }
  return { plan: planHolderRenewals(due, balance, arrivals), charges, cardCents };
}

/** What the charge step knows of one mailbox renewing by card, for its current period. */
export interface CardRenewalFacts {
  expiresOn: CalendarDate;
  card: { expMonth: number; expYear: number; removed: boolean };
  /** R15: the holder has billing data (no card payment is taken without). */
  billable: boolean;
  /** This period's charge, if one was made. */
  charge: null | {
    state: 'claimed' | 'succeeded' | 'failed' | 'requires_action';
    nextRetryOn: CalendarDate | null;
    topupStatus: 'pending' | 'succeeded' | 'failed' | 'expired';
    amountCents: Cents;
  };
}

export type CardRenewalStanding =
  /** Charged for this period: the credit is in the wallet. */
  | { kind: 'paid' }
  /** Asked of the gateway, the answer not yet recorded. */
  | { kind: 'in_flight'; cents: Cents }
  /** Will be charged that day: the first charge, or a retry. */
  | { kind: 'to_charge'; chargeOn: CalendarDate }
  /** The card will not pay this period. */
  | { kind: 'will_not_pay'; why: 'card_expired' | 'card_removed' | 'no_billing_data' | 'failed' | 'awaiting_authentication' | 'overdue' };

/**
 * R18: whether a mailbox's card will pay its next renewal, as the charge step will decide on the
 * charge day: a first charge from E − daysBefore (today when that has passed), retries on their day;
 * a charge waiting for the holder's authentication is not retried off-session (issue 22 item 4),
 * so until the holder confirms it is not counted.
 */
export function cardRenewalStanding(f: CardRenewalFacts, today: CalendarDate, daysBefore: number): CardRenewalStanding {
  const c = f.charge;
  const made = c ? chargeMade(c) : null;
  if (made) return made;
  if (c?.state === 'requires_action') return { kind: 'will_not_pay', why: 'awaiting_authentication' };
  if (isBefore(f.expiresOn, today)) return { kind: 'will_not_pay', why: 'overdue' };
  let chargeOn: CalendarDate;
  if (!c) chargeOn = maxDate(addDays(f.expiresOn, -daysBefore), today);
  else if (c.state === 'failed' && c.nextRetryOn && !isBefore(f.expiresOn, c.nextRetryOn)) chargeOn = maxDate(c.nextRetryOn, today);
  else return { kind: 'will_not_pay', why: 'failed' };
  if (f.card.removed) return { kind: 'will_not_pay', why: 'card_removed' };
  if (!f.billable) return { kind: 'will_not_pay', why: 'no_billing_data' };
  if (cardExpiresBefore(f.card, chargeOn)) return { kind: 'will_not_pay', why: 'card_expired' };
  return { kind: 'to_charge', chargeOn };
}

const maxDate = (a: CalendarDate, b: CalendarDate): CalendarDate => (isBefore(a, b) ? b : a);

/** A period's charge that is made: paid (the credit is in the wallet), or asked and not yet answered. */
export function chargeMade(c: NonNullable<CardRenewalFacts['charge']>): { kind: 'paid' } | { kind: 'in_flight'; cents: Cents } | null {
  if (c.topupStatus === 'succeeded') return { kind: 'paid' };
  if (c.state === 'claimed' && c.topupStatus === 'pending') return { kind: 'in_flight', cents: c.amountCents };
  return null;
}

/**
 * Issue 22 item 4: the bank asked for the holder (SCA). Charging the card again off-session would
 * get the same answer, so such a charge waits for the holder instead of being retried at E−3, E−1.
 */
export const retriedOffSession = (failureCode: string): boolean => failureCode !== 'authentication_required';

/** R18: the days the card is charged for a renewal due on E: E − daysBefore, then retries at E−3 and E−1. */
export function cardChargeDays(dueOn: CalendarDate, daysBefore: number): { firstOn: CalendarDate; retriesOn: CalendarDate[] } {
  const firstOn = addDays(dueOn, -daysBefore);
  const retriesOn = [3, 1].filter((d) => d < daysBefore).map((d) => addDays(dueOn, -d));
  return { firstOn, retriesOn };
}

/** The next retry after a failure on `today`, or null when none is left before E. */
export function nextRetryOn(dueOn: CalendarDate, daysBefore: number, today: CalendarDate): CalendarDate | null {
  return cardChargeDays(dueOn, daysBefore).retriesOn.find((d) => compareDates(d, today) > 0) ?? null;
}

/**
 * R18: a card that will have expired by its next charge date is announced 30 days before that date.
 * A card is good through the last day of its expiry month.
 */
export function cardExpiresBefore(card: { expMonth: number; expYear: number }, chargeOn: CalendarDate): boolean {
  const lastGoodMonth = card.expYear * 12 + (card.expMonth - 1);
  return chargeOn.year * 12 + (chargeOn.month - 1) > lastGoodMonth;
}
