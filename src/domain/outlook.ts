// What the holder is warned about on their pages: a mailbox's standing (R8, R9), how full its space
// is (R11), and whether the credit pays for the renewals of the coming days (R7). Pure: facts and
// today in, a decision out; the pages only word it.
import { addDays, compareDates, daysBetween, isBefore, type CalendarDate } from './calendar.ts';
import type { Catalogue } from './catalogue.ts';
import { addCents, cents, maxCents, minCents, subCents, type Cents } from './money.ts';
import { graceEndsOn, manualRenewalLeadDays, type MailboxFacts, type MailboxStatus } from './mailbox.ts';
import { planAddonRenewal, planRenewal } from './renewal.ts';
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
  renewals: RenewalDue[];
  /** dueCents − balance, or 0. */
  shortfallCents: Cents;
  /** The top-up that pays the shortfall: waiting orders settle first on any top-up (R5), so they are added; at least the minimum top-up, at most the maximum. */
  topupCents: Cents;
}

/** A balance no renewal plan can exhaust: asks the plans what they would charge, not whether they can. */
const UNLIMITED = cents(Number.MAX_SAFE_INTEGER);

/**
 * R7 replayed over the coming `horizonDays` with unlimited credit, through the daily job's own plans
 * (planAddonRenewal for extra space ending before its mailbox, then planRenewal on each E, in date
 * order): what they would charge is what the credit must hold. Only active mailboxes renew by
 * themselves; an expired one is renewed by hand (R8), and its page says so.
 */
export function creditOutlook(
  mailboxes: readonly MailboxFacts[],
  balance: Cents,
  waitingOrdersCents: Cents,
  today: CalendarDate,
  c: Catalogue,
  horizonDays: number = manualRenewalLeadDays(c),
): CreditOutlook {
  const horizonEndsOn = addDays(today, horizonDays);
  const within = (d: CalendarDate) => !isBefore(horizonEndsOn, d);
  const renewals: RenewalDue[] = [];
  mailboxes.forEach((original, mailboxIndex) => {
    if (original.status !== 'active') return;
    let m = original;
    const addon = m.addon;
    // R7.5: extra space ending before its mailbox renews on its own end, first.
    if (addon?.status === 'active' && isBefore(addon.activeUntil, m.expiresOn) && within(addon.activeUntil)) {
      const plan = planAddonRenewal(m, UNLIMITED, c);
      if (plan.chargedCents > 0) renewals.push({ mailboxIndex, on: plan.periodEndsOn, service: 'extra_inbox_space', priceCents: plan.chargedCents });
      m = { ...m, addon: plan.newActiveUntil ? { ...addon, activeUntil: plan.newActiveUntil } : { ...addon, status: 'deactivated' } };
    }
    if (within(m.expiresOn)) {
      const plan = planRenewal(m, UNLIMITED, c, compareDates(today, m.expiresOn) > 0 ? today : m.expiresOn);
      if (plan.mailbox.outcome === 'renewed') renewals.push({ mailboxIndex, on: m.expiresOn, service: 'mailbox', priceCents: plan.mailbox.priceCents });
      if (plan.addon.outcome === 'renewed') renewals.push({ mailboxIndex, on: m.expiresOn, service: 'extra_inbox_space', priceCents: plan.addon.priceCents });
    }
  });
  renewals.sort((a, b) => compareDates(a.on, b.on) || a.mailboxIndex - b.mailboxIndex);
  const dueCents = renewals.reduce((sum, r) => addCents(sum, r.priceCents), cents(0));
  const shortfallCents = maxCents(cents(0), subCents(dueCents, balance));
  const topupCents =
    shortfallCents > 0 ? minCents(c.topupMaxCents, maxCents(c.topupMinCents, addCents(shortfallCents, waitingOrdersCents))) : cents(0);
  return { horizonEndsOn, dueCents, renewals, shortfallCents, topupCents };
}
