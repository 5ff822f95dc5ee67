// What the holder is warned about on their pages: a mailbox's standing (R8, R9), how full its space
// is (R11), and whether the credit pays for the renewals of the coming days (R7). Pure: facts and
// today in, a decision out; the pages only word it.
import { addDays, daysBetween, type CalendarDate } from './calendar.ts';
import type { Catalogue } from './catalogue.ts';
import { cents, type Cents } from './money.ts';
import { graceEndsOn, manualRenewalLeadDays, type MailboxStatus } from './mailbox.ts';
import { dueRenewals, topupForShortfall, type HolderMailbox, type HolderRenewalPlan } from './holder-renewals.ts';
import { NO_CARDS, planWithCards, type HolderCards } from './card-renewal.ts';
import { isAtOrOver } from './usage.ts';

export type Standing =
  | { kind: 'active' }
  /** Active, and E falls within the manual-renewal window (90 days): daysLeft 0 is today. */
  | { kind: 'expiring'; daysLeft: number }
  /** R8: renewable until renewableUntil (E + grace), inclusive. */
  | { kind: 'expired'; renewableUntil: CalendarDate }
  | { kind: 'terminated' }
  /** R19: suspended by the provider (abuse, a legal order): no login, no sending, mail still received. */
  | { kind: 'suspended' };

export function mailboxStanding(m: { status: MailboxStatus; expiresOn: CalendarDate }, today: CalendarDate, c: Catalogue): Standing {
  if (m.status === 'terminated') return { kind: 'terminated' };
  if (m.status === 'suspended') return { kind: 'suspended' };
  if (m.status === 'expired') return { kind: 'expired', renewableUntil: graceEndsOn(m.expiresOn, c) };
  const daysLeft = Math.max(0, daysBetween(today, m.expiresOn));
  return daysLeft <= manualRenewalLeadDays(c) ? { kind: 'expiring', daysLeft } : { kind: 'active' };
}

export type SpaceLevel = { kind: 'ok' } | { kind: 'nearly_full'; percent: number } | { kind: 'full' };

/**
 * R11 on the page: at or over the first usage threshold (80 %) the space is nearly full; at or over
 * the total, new PEC messages are refused. percent is rounded down, so 79.9 % never reads as 80 %.
 */
export function spaceLevel(usedBytes: number, totalBytes: number, c: Catalogue): SpaceLevel {
  if (totalBytes <= 0 || usedBytes >= totalBytes) return { kind: 'full' };
  const first = c.usageWarningThresholdsPercent[0];
  if (first !== undefined && isAtOrOver(usedBytes, totalBytes, first)) {
    return { kind: 'nearly_full', percent: Math.floor((usedBytes * 100) / totalBytes) };
  }
  return { kind: 'ok' };
}

export interface RenewalDue {
  mailboxIndex: number;
  on: CalendarDate;
  service: 'mailbox' | 'extra_inbox_space';
  priceCents: Cents;
}

export interface CreditOutlook {
  horizonEndsOn: CalendarDate;
  /** What the daily job would charge, with enough credit, for the renewals due until horizonEndsOn. */
  dueCents: Cents;
  /** Those renewals, in the job's order (R7.3). */
  renewals: RenewalDue[];
  /** dueCents − balance, or 0. */
  shortfallCents: Cents;
  /** The top-up that pays the shortfall: waiting orders settle first on any top-up (R5), so they are added; at least the minimum top-up, at most the maximum. */
  topupCents: Cents;
  /** The holder's plan with today's balance: what each due renewal will do. */
  plan: HolderRenewalPlan;
  /** R18: what the saved cards will add to the credit before those renewals (charges to come and in flight). */
  cardCents: Cents;
}

/**
 * R7 over the coming `horizonDays`: the holder's due renewals planned in the job's order against
 * the balance (planHolderRenewals, the plan the daily job and the expiry alerts use), with what
 * the saved cards will add on their charge days (R18, planWithCards). Only active mailboxes renew
 * by themselves; an expired one is renewed by hand (R8), and its page says so.
 */
export function creditOutlook(
  mailboxes: readonly HolderMailbox[],
  balance: Cents,
  waitingOrdersCents: Cents,
  today: CalendarDate,
  c: Catalogue,
  horizonDays: number = manualRenewalLeadDays(c),
  cards: HolderCards = NO_CARDS,
): CreditOutlook {
  const horizonEndsOn = addDays(today, horizonDays);
  const { plan, cardCents } = planWithCards(dueRenewals(mailboxes, today, horizonEndsOn, c), balance, cards, today, c);
  const renewals = plan.renewals
    .filter((r) => r.wanted)
    .map((r) => ({ mailboxIndex: r.mailboxIndex, on: r.periodEndsOn, service: r.service, priceCents: r.priceCents }));
  return {
    horizonEndsOn,
    dueCents: plan.neededCents,
    renewals,
    shortfallCents: plan.shortfallCents,
    topupCents: topupForShortfall(plan.shortfallCents, waitingOrdersCents, c),
    plan,
    cardCents: cents(cardCents),
  };
}
