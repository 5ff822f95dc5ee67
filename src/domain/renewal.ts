// R7: what the renewal on day E does to one mailbox and its extra space. Mailbox first, then the
// add-on; each whole or not at all.
import { addYears, compareDates, isBefore, type CalendarDate } from './calendar.ts';
import type { Catalogue } from './catalogue.ts';
import { addCents, cents, subCents, timesQuantity, type Cents } from './money.ts';
import { addonEndsWithMailbox, assertAddonWithinPeriod, extraGbInManualRenewal, type MailboxFacts } from './mailbox.ts';

export type MailboxRenewalOutcome = 'renewed' | 'expired';
export type AddonRenewalOutcome = 'renewed' | 'deactivated' | 'none';
export type ExpiryReason = 'auto_renew_off' | 'insufficient_credit' | 'overdue_too_long';

/**
 * How far back the daily job catches up missed renewals (R7: "missed days are caught up"). A
 * mailbox overdue by more than this is not charged for every year it missed: it expires, and an
 * operator looks at it. With provisioning refusing expiry dates over a year old, only a job stopped
 * for a year or more reaches it; it also bounds how often one run renews one mailbox (three times).
 */
export const RENEWAL_CATCH_UP_YEARS_MAX = 2;
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

/** R19: the next period is priced at the type it will have (a type staff changed from the next renewal). */
export const mailboxRenewalPrice = (m: Pick<MailboxFacts, 'type' | 'nextType'>, c: Catalogue): Cents =>
  c.mailboxTypes[m.nextType ?? m.type].renewalPriceCents;

export const addonRenewalPrice = (quantityGb: number, c: Catalogue): Cents =>
  timesQuantity(c.extraSpace.pricePerGbYearCents, quantityGb);

export function planRenewal(m: MailboxFacts, balance: Cents, c: Catalogue, today: CalendarDate): RenewalPlan {
  assertAddonWithinPeriod(m);
  const mailboxPrice = mailboxRenewalPrice(m, c);
  // R7.5: only extra space ending at E renews with the mailbox; an add-on ending earlier was renewed
  // or ended on its own date (planAddonRenewal), before this.
  const addonActive = addonEndsWithMailbox(m);
  const quantityGb = addonActive ? m.addon!.quantityGb : 0;
  const addonPrice = addonRenewalPrice(quantityGb, c);
  let left = balance;
  let missing = cents(0);

  let mailboxOutcome: MailboxRenewalOutcome = 'expired';
  let expiryReason: ExpiryReason | null = null;
  if (!m.autoRenew) expiryReason = 'auto_renew_off';
  else if (isBefore(m.expiresOn, addYears(today, -RENEWAL_CATCH_UP_YEARS_MAX))) expiryReason = 'overdue_too_long';
  else if (mailboxPrice > left) {
    expiryReason = 'insufficient_credit';
    missing = addCents(missing, subCents(mailboxPrice, left));
  } else {
    mailboxOutcome = 'renewed';
    left = subCents(left, mailboxPrice);
  }

  let addonOutcome: AddonRenewalOutcome = 'none';
  let deactivationReason: DeactivationReason | null = null;
  if (addonActive) {
    if (mailboxOutcome === 'expired') deactivationReason = 'mailbox_expired';
    else if (!m.extraSpaceAutoRenew) deactivationReason = 'auto_renew_off';
    else if (addonPrice > left) {
      deactivationReason = 'insufficient_credit';
      missing = addCents(missing, subCents(addonPrice, left));
    } else {
      addonOutcome = 'renewed';
      left = subCents(left, addonPrice);
    }
    if (deactivationReason) addonOutcome = 'deactivated';
  }

  return {
    periodEndsOn: m.expiresOn,
    newExpiresOn: mailboxOutcome === 'renewed' ? addYears(m.expiresOn, 1) : null,
    mailbox: { outcome: mailboxOutcome, priceCents: mailboxPrice, reason: expiryReason },
    addon: { outcome: addonOutcome, quantityGb, priceCents: addonPrice, reason: deactivationReason },
    chargedCents: subCents(balance, left),
    balanceAfterCents: left,
    missingCents: missing,
  };
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
 * R7.5: extra space whose period ends before its mailbox's (bought after a manual renewal was
 * priced) is renewed from credit on its own end, or deactivated, whatever the mailbox's E.
 */
export function planAddonRenewal(m: MailboxFacts, balance: Cents, c: Catalogue): AddonRenewalPlan {
  assertAddonWithinPeriod(m);
  if (m.status !== 'active' || m.addon?.status !== 'active' || compareDates(m.addon.activeUntil, m.expiresOn) >= 0) {
    throw new Error('invariant: planAddonRenewal is for an active add-on ending before its active mailbox');
  }
  const { quantityGb, activeUntil } = m.addon;
  const price = addonRenewalPrice(quantityGb, c);
  const base = { periodEndsOn: activeUntil, quantityGb, priceCents: price };
  if (!m.extraSpaceAutoRenew) {
    return { ...base, outcome: 'deactivated', reason: 'auto_renew_off', newActiveUntil: null, chargedCents: cents(0), balanceAfterCents: balance, missingCents: cents(0) };
  }
  if (price > balance) {
    return { ...base, outcome: 'deactivated', reason: 'insufficient_credit', newActiveUntil: null, chargedCents: cents(0), balanceAfterCents: balance, missingCents: subCents(price, balance) };
  }
  const newActiveUntil = addYears(activeUntil, 1);
  // A renewal can never carry the add-on past the mailbox's own period.
  if (compareDates(newActiveUntil, m.expiresOn) > 0) throw new Error(`invariant: add-on renewed to ${newActiveUntil}, past E ${m.expiresOn}`);
  return { ...base, outcome: 'renewed', reason: null, newActiveUntil, chargedCents: price, balanceAfterCents: subCents(balance, price), missingCents: cents(0) };
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
