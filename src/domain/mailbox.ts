// Mailbox states, grace and the manual-renewal window (R8, R9).
import { addDays, addYears, compareDates, isBefore, parseDate, type CalendarDate } from './calendar.ts';
import type { Catalogue, MailboxType } from './catalogue.ts';

export type MailboxStatus = 'active' | 'expired' | 'suspended' | 'terminated';
export type AddonStatus = 'active' | 'deactivated';

export interface ExtraSpaceAddon {
  quantityGb: number;
  status: AddonStatus;
  activeUntil: CalendarDate;
}

export interface MailboxFacts {
  type: MailboxType;
  /** R19: the type from the next renewal on, when staff changed it (absent or null: the same type). */
  nextType?: MailboxType | null;
  status: MailboxStatus;
  expiresOn: CalendarDate;
  autoRenew: boolean;
  extraSpaceAutoRenew: boolean;
  addon: ExtraSpaceAddon | null;
}

export const activeExtraGb = (m: { addon: ExtraSpaceAddon | null }): number =>
  m.addon?.status === 'active' ? m.addon.quantityGb : 0;

/**
 * The day the add-on's paid period ends, which every GB bought now joins: its own end while it is
 * active, else the mailbox's E. The two differ only after a manual renewal that did not cover extra
 * space bought after it was priced (R7.5): that space keeps its own end and is renewed on it.
 */
export const extraSpacePeriodEnd = (m: Pick<MailboxFacts, 'expiresOn' | 'addon'>): CalendarDate =>
  m.addon?.status === 'active' ? m.addon.activeUntil : m.expiresOn;

/** Whether the active add-on ends with the mailbox's period, and so renews with it at E (R7.2, R9). */
export const addonEndsWithMailbox = (m: Pick<MailboxFacts, 'expiresOn' | 'addon'>): boolean =>
  m.addon?.status === 'active' && compareDates(m.addon.activeUntil, m.expiresOn) === 0;

/** The GB a renewal of the mailbox's period renews with it: an active add-on ending at E, else none. */
export const extraGbRenewedWithMailbox = (m: Pick<MailboxFacts, 'status' | 'expiresOn' | 'addon'>): number =>
  m.status === 'active' && addonEndsWithMailbox(m) ? m.addon!.quantityGb : 0;

/**
 * R7.2, R9: the GB a manual renewal renews with the mailbox: those ending with it, unless the holder
 * switched their renewal off (then they end on their own day, as the daily job would end them).
 */
export const extraGbInManualRenewal = (m: Pick<MailboxFacts, 'status' | 'expiresOn' | 'addon' | 'extraSpaceAutoRenew'>): number =>
  m.extraSpaceAutoRenew ? extraGbRenewedWithMailbox(m) : 0;

/** TIGER_STYLE: an add-on never runs past its mailbox's period; if it does, a plan was wrong. */
export function assertAddonWithinPeriod(m: Pick<MailboxFacts, 'expiresOn' | 'addon'>): void {
  if (m.addon?.status === 'active' && compareDates(m.addon.activeUntil, m.expiresOn) > 0) {
    throw new Error(`invariant: extra space active until ${m.addon.activeUntil} past its mailbox's expiry ${m.expiresOn}`);
  }
}

/** Last day an expired mailbox can still be renewed: "until E + 90 days" (R8), inclusive. */
export const graceEndsOn = (expiresOn: CalendarDate, c: Catalogue): CalendarDate => addDays(expiresOn, c.graceDays);

/** R8: terminated once E + grace has passed. */
export const isPastGrace = (expiresOn: CalendarDate, today: CalendarDate, c: Catalogue): boolean =>
  compareDates(today, graceEndsOn(expiresOn, c)) > 0;

export type RenewalWindow =
  | { allowed: true }
  | { allowed: false; reason: 'too_early' | 'past_grace' | 'terminated'; opensOn?: CalendarDate };

/** R9: from 90 days before E (and during grace) the holder may renew by hand. */
export function manualRenewalWindow(
  m: Pick<MailboxFacts, 'status' | 'expiresOn'>,
  today: CalendarDate,
  c: Catalogue,
): RenewalWindow {
  if (m.status === 'terminated') return { allowed: false, reason: 'terminated' };
  if (isPastGrace(m.expiresOn, today, c)) return { allowed: false, reason: 'past_grace' };
  const opensOn = addDays(m.expiresOn, -manualRenewalLeadDays(c));
  if (m.status === 'active' && isBefore(today, opensOn)) return { allowed: false, reason: 'too_early', opensOn };
  return { allowed: true };
}

/** The manual renewal window opens with the first alert: 90 days by default. */
export const manualRenewalLeadDays = (c: Catalogue): number => Math.max(90, c.alertMilestonesDays[0] ?? 90);

/**
 * How far from today an operator may set a new mailbox's expiry date: a year back (a mailbox moved
 * from another platform shortly after its expiry) to ten years ahead. Beyond that a date is a typo,
 * and "0001-01-01" would have the daily job renew it year after year from the holder's credit.
 */
export const PROVISIONED_EXPIRY_YEARS_BACK_MAX = 1;
export const PROVISIONED_EXPIRY_YEARS_AHEAD_MAX = 10;

/** Why an expiry date cannot be given to a new mailbox today, or null when it can. */
export function provisionedExpiryProblem(text: string, today: CalendarDate): string | null {
  const expiresOn = parseDate(text);
  if (!expiresOn) return 'must be a date YYYY-MM-DD';
  const earliest = addYears(today, -PROVISIONED_EXPIRY_YEARS_BACK_MAX);
  const latest = addYears(today, PROVISIONED_EXPIRY_YEARS_AHEAD_MAX);
  if (isBefore(expiresOn, earliest) || isBefore(latest, expiresOn)) return `must be between ${earliest} and ${latest}`;
  return null;
}
