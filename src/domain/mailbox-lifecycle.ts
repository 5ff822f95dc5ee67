// R19 and section 3: what staff may do to a mailbox in each state. Pure: the state (and dates) in,
// the new state or the reason it cannot be done out.
import { addYears, compareDates, isBefore, parseDate, type CalendarDate } from './calendar.ts';
import type { MailboxStatus } from './mailbox.ts';

export type LifecycleAction = 'suspend' | 'reactivate' | 'terminate';

export type LifecycleDecision = { ok: true; status: MailboxStatus } | { ok: false; why: string };

/** active ↔ suspended; active, expired or suspended → terminated. */
export function lifecycleStep(status: MailboxStatus, action: LifecycleAction): LifecycleDecision {
  switch (action) {
    case 'suspend':
      return status === 'active' ? { ok: true, status: 'suspended' } : { ok: false, why: `only an active mailbox can be suspended (it is ${status})` };
    case 'reactivate':
      return status === 'suspended' ? { ok: true, status: 'active' } : { ok: false, why: `only a suspended mailbox can be reactivated (it is ${status})` };
    case 'terminate':
      return status === 'terminated' ? { ok: false, why: 'the mailbox is terminated already' } : { ok: true, status: 'terminated' };
  }
}

/** How far ahead a goodwill extension may move the expiry: beyond it is a typing mistake. */
export const EXTENSION_YEARS_MAX = 5;

/**
 * A goodwill extension (no charge): the new E must come after the current one and within five years of
 * today. An expired mailbox whose new E is after today is active again; a suspended one stays suspended.
 * Active extra space that ends with the mailbox moves with it, free too (the goodwill covers the
 * service the holder has). Extra space paid until a day before E (R7.6) is refused: it renews a
 * year at a time on its own date, and a year from then would end after an E moved by less than a
 * year, past the mailbox (R7.2), which the daily job cannot renew; staff extend once it has renewed
 * or ended.
 */
export function planExtension(
  m: { status: MailboxStatus; expiresOn: CalendarDate; addon?: { status: 'active' | 'deactivated'; activeUntil: CalendarDate } | null },
  newExpiresOnText: string,
  today: CalendarDate,
): { ok: true; expiresOn: CalendarDate; status: MailboxStatus; addonActiveUntil: CalendarDate | null } | { ok: false; field: string; why: string } {
  const next = parseDate(newExpiresOnText);
  if (!next) return { ok: false, field: 'expiresOn', why: 'must be a date YYYY-MM-DD' };
  if (m.status === 'terminated') return { ok: false, field: 'status', why: 'a terminated mailbox cannot be extended' };
  if (compareDates(next, m.expiresOn) <= 0) return { ok: false, field: 'expiresOn', why: `must be after the current expiry ${m.expiresOn}` };
  if (isBefore(addYears(today, EXTENSION_YEARS_MAX), next)) return { ok: false, field: 'expiresOn', why: `must be at most ${EXTENSION_YEARS_MAX} years from today` };
  const addon = m.addon?.status === 'active' ? m.addon : null;
  if (addon && isBefore(addon.activeUntil, m.expiresOn)) {
    return { ok: false, field: 'expiresOn', why: `the extra space is paid until ${addon.activeUntil}, before the current expiry: extend once it has renewed or ended` };
  }
  const status = m.status === 'expired' && isBefore(today, next) ? 'active' : m.status;
  return { ok: true, expiresOn: next, status, addonActiveUntil: addon ? next : null };
}
