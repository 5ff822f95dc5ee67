// R18: how much a mailbox's renewal by card charges, and when. Pure: renewals due, a balance, dates.
import { addDays, compareDates, type CalendarDate } from './calendar.ts';
import { cents, type Cents } from './money.ts';

/** One service of a holder that renews from credit on `dueOn` (R7). */
export interface DueService {
  mailboxId: string;
  address: string;
  dueOn: CalendarDate;
  kind: 'mailbox' | 'extra_space';
  priceCents: Cents;
}

/**
 * R7.3: the order the daily job spends credit in: earlier runs first; within one run every due
 * mailbox (earliest E, then address), then the extra space in the same order.
 * (The renewal planning of issue 19 orders a holder's renewals in one function; this mirrors it for
 * the card charge and is to be replaced by it when both are merged.)
 */
export function orderDueServices(services: readonly DueService[]): DueService[] {
  const kindRank = (k: DueService['kind']) => (k === 'mailbox' ? 0 : 1);
  return [...services].sort(
    (a, b) => compareDates(a.dueOn, b.dueOn) || kindRank(a.kind) - kindRank(b.kind) || (a.address < b.address ? -1 : a.address > b.address ? 1 : 0),
  );
}

/** Which services succeed, in order, when the balance is `balanceCents`: each is renewed whole or not at all (R7.4). */
function simulate(ordered: readonly DueService[], balanceCents: number, targetMailboxId: string): { targetDeficit: number } {
  let balance = balanceCents;
  for (const s of ordered) {
    if (balance >= s.priceCents) {
      balance -= s.priceCents;
      continue;
    }
    if (s.mailboxId === targetMailboxId) return { targetDeficit: s.priceCents - balance };
    // Another service that cannot be paid is skipped and spends nothing.
  }
  return { targetDeficit: 0 };
}

/**
 * R18: what the card must add so that at E the target mailbox's renewal (the mailbox, then its extra
 * space renewing with it) succeeds from credit, after the holder's renewals ordered before it (R7.3)
 * have taken what they take from `balanceCents`; at least R5's minimum top-up, at most the maximum.
 * 0 when the credit already covers it. `services`: every service of the holder due up to and
 * including the target's E, the target's own included.
 */
export function cardChargeFor(input: {
  balanceCents: Cents;
  services: readonly DueService[];
  mailboxId: string;
  dueOn: CalendarDate;
  topupMinCents: Cents;
  topupMaxCents: Cents;
}): Cents {
  const ordered = orderDueServices(input.services.filter((s) => compareDates(s.dueOn, input.dueOn) <= 0));
  let extraCents = 0;
  // Adding credit can also let a service ordered between the target's two services renew, which
  // then takes its share; each round adds the deficit still left, so at most one round per service.
  for (let round = 0; round <= ordered.length; round++) {
    const { targetDeficit } = simulate(ordered, input.balanceCents + extraCents, input.mailboxId);
    if (targetDeficit === 0) break;
    extraCents += targetDeficit;
  }
  if (extraCents === 0) return cents(0);
  return cents(Math.min(Math.max(extraCents, input.topupMinCents), input.topupMaxCents));
}

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
