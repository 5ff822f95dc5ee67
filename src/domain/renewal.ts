// R7 for one mailbox: what the renewal of its period does to it and its extra space, read from the
// holder's plan (holder-renewals.ts), which decides every renewal in the job's order (R7.3). These
// views word what happened in e-mails and records; they add no rule of their own.
import { addYears, compareDates, type CalendarDate } from './calendar.ts';
import type { Catalogue } from './catalogue.ts';
import { addCents, cents, type Cents } from './money.ts';
import { assertAddonWithinPeriod, extraGbInManualRenewal, type MailboxFacts } from './mailbox.ts';
import {
  addonDue,
  addonRenewalPrice,
  mailboxDue,
  mailboxRenewalPrice,
  planHolderRenewals,
  type PlannedRenewal,
} from './holder-renewals.ts';

export { addonRenewalPrice, mailboxRenewalPrice, RENEWAL_CATCH_UP_YEARS_MAX } from './holder-renewals.ts';

export type MailboxRenewalOutcome = 'renewed' | 'expired';
export type AddonRenewalOutcome = 'renewed' | 'deactivated' | 'none';
export type ExpiryReason = 'auto_renew_off' | 'insufficient_credit' | 'overdue_too_long';
export type DeactivationReason = 'auto_renew_off' | 'insufficient_credit' | 'mailbox_expired';

export interface RenewalPlan {
  periodEndsOn: CalendarDate;
  newExpiresOn: CalendarDate | null;
  mailbox: { outcome: MailboxRenewalOutcome; priceCents: Cents; reason: ExpiryReason | null };
  addon: { outcome: AddonRenewalOutcome; quantityGb: number; priceCents: Cents; reason: DeactivationReason | null };
  chargedCents: Cents;
  balanceAfterCents: Cents;
  /** Credit that was missing for what was not renewed (0 when everything renewed or was switched off). */
  missingCents: Cents;
}

/**
 * One mailbox's renewal at E from the holder's planned renewals: its mailbox item and, when given,
 * the item of its extra space ending with it. balanceAfterCents is the credit left after the later
 * of the two in the job's order.
 */
export function mailboxRenewalOf(mailbox: PlannedRenewal, addon: PlannedRenewal | null): RenewalPlan {
  if (mailbox.service !== 'mailbox' || (addon && (addon.service !== 'extra_inbox_space' || addon.mailboxIndex !== mailbox.mailboxIndex))) {
    throw new Error('invariant: a mailbox renewal reads its own mailbox and extra space');
  }
  const charged = (r: PlannedRenewal | null): Cents => (r?.renewed ? r.priceCents : cents(0));
  const missing = (r: PlannedRenewal | null): Cents => r?.missingCents ?? cents(0);
  return {
    periodEndsOn: mailbox.periodEndsOn,
    newExpiresOn: mailbox.renewed ? addYears(mailbox.periodEndsOn, 1) : null,
    mailbox: { outcome: mailbox.renewed ? 'renewed' : 'expired', priceCents: mailbox.priceCents, reason: mailbox.reason as ExpiryReason | null },
    addon: addon
      ? { outcome: addon.renewed ? 'renewed' : 'deactivated', quantityGb: addon.quantityGb, priceCents: addon.priceCents, reason: addon.reason as DeactivationReason | null }
      : { outcome: 'none', quantityGb: 0, priceCents: cents(0), reason: null },
    chargedCents: addCents(charged(mailbox), charged(addon)),
    balanceAfterCents: laterBalance(mailbox, addon),
    missingCents: addCents(missing(mailbox), missing(addon)),
  };
}

// The credit after whichever of the two came last; the balance only goes down along the plan.
const laterBalance = (mailbox: PlannedRenewal, addon: PlannedRenewal | null): Cents =>
  addon && addon.balanceAfterCents < mailbox.balanceAfterCents ? addon.balanceAfterCents : mailbox.balanceAfterCents;

/** R7.1, R7.2: one mailbox renewed alone on `today` (its holder's only due service). */
export function planRenewal(m: MailboxFacts, balance: Cents, c: Catalogue, today: CalendarDate): RenewalPlan {
  assertAddonWithinPeriod(m);
  const holderMailbox = { ...m, address: '' };
  const due = [mailboxDue(holderMailbox, 0, today, c)];
  if (m.addon?.status === 'active' && compareDates(m.addon.activeUntil, m.expiresOn) === 0) due.push(addonDue(holderMailbox, 0, today, c));
  const [mailbox, addon] = planHolderRenewals(due, balance).renewals;
  return mailboxRenewalOf(mailbox!, addon ?? null);
}

export interface AddonRenewalPlan {
  /** The add-on's period that ends: its active_until. */
  periodEndsOn: CalendarDate;
  outcome: 'renewed' | 'deactivated';
  reason: 'auto_renew_off' | 'insufficient_credit' | null;
  quantityGb: number;
  priceCents: Cents;
  /** The add-on's new end when renewed. */
  newActiveUntil: CalendarDate | null;
  chargedCents: Cents;
  balanceAfterCents: Cents;
  missingCents: Cents;
}

/**
 * R7.6: extra space renewed on its own end, its mailbox active and not due with it, from the
 * holder's planned renewal of it. A renewal never carries it past the mailbox's E.
 */
export function addonRenewalOf(addon: PlannedRenewal, mailboxExpiresOn: CalendarDate): AddonRenewalPlan {
  if (addon.service !== 'extra_inbox_space' || addon.reason === 'mailbox_expired' || addon.reason === 'overdue_too_long') {
    throw new Error('invariant: an own-date extra space renewal reads an extra space whose mailbox is active');
  }
  const newActiveUntil = addon.renewed ? addYears(addon.periodEndsOn, 1) : null;
  if (newActiveUntil && compareDates(newActiveUntil, mailboxExpiresOn) > 0) {
    throw new Error(`invariant: add-on renewed to ${newActiveUntil}, past E ${mailboxExpiresOn}`);
  }
  return {
    periodEndsOn: addon.periodEndsOn,
    outcome: addon.renewed ? 'renewed' : 'deactivated',
    reason: addon.reason,
    quantityGb: addon.quantityGb,
    priceCents: addon.priceCents,
    newActiveUntil,
    chargedCents: addon.renewed ? addon.priceCents : cents(0),
    balanceAfterCents: addon.balanceAfterCents,
    missingCents: addon.missingCents,
  };
}

/** R7.6: extra space ending before its active mailbox, renewed alone on its own end. */
export function planAddonRenewal(m: MailboxFacts, balance: Cents, c: Catalogue): AddonRenewalPlan {
  if (m.status !== 'active' || m.addon?.status !== 'active' || compareDates(m.addon.activeUntil, m.expiresOn) >= 0) {
    throw new Error('invariant: planAddonRenewal is for an active add-on ending before its active mailbox');
  }
  const [addon] = planHolderRenewals([addonDue({ ...m, address: '' }, 0, m.addon.activeUntil, c)], balance).renewals;
  return addonRenewalOf(addon!, m.expiresOn);
}

/**
 * R9: a manual renewal charges the mailbox and, with it, the extra space that ends with it, unless
 * its renewal is switched off (R7.2; R8: an expired mailbox's extra space is already deactivated
 * and must be bought again).
 */
export function manualRenewalAmount(m: MailboxFacts, c: Catalogue): { mailboxCents: Cents; addonCents: Cents; totalCents: Cents; quantityGb: number } {
  const quantityGb = extraGbInManualRenewal(m);
  const mailboxCents = mailboxRenewalPrice(m, c);
  const addonCents = addonRenewalPrice(quantityGb, c);
  return { mailboxCents, addonCents, totalCents: addCents(mailboxCents, addonCents), quantityGb };
}
