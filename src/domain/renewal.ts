// R7: what the renewal on day E does to one mailbox and its extra space. Mailbox first, then the
// add-on; each whole or not at all.
import { addYears, type CalendarDate } from './calendar.ts';
import type { Catalogue } from './catalogue.ts';
import { addCents, cents, subCents, timesQuantity, type Cents } from './money.ts';
import type { MailboxFacts } from './mailbox.ts';

export type MailboxRenewalOutcome = 'renewed' | 'expired';
export type AddonRenewalOutcome = 'renewed' | 'deactivated' | 'none';
export type ExpiryReason = 'auto_renew_off' | 'insufficient_credit';
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

export const mailboxRenewalPrice = (m: Pick<MailboxFacts, 'type'>, c: Catalogue): Cents =>
  c.mailboxTypes[m.type].renewalPriceCents;

export const addonRenewalPrice = (quantityGb: number, c: Catalogue): Cents =>
  timesQuantity(c.extraSpace.pricePerGbYearCents, quantityGb);

export function planRenewal(m: MailboxFacts, balance: Cents, c: Catalogue): RenewalPlan {
  const mailboxPrice = mailboxRenewalPrice(m, c);
  const addonActive = m.addon?.status === 'active';
  const quantityGb = addonActive ? m.addon!.quantityGb : 0;
  const addonPrice = addonRenewalPrice(quantityGb, c);
  let left = balance;
  let missing = cents(0);

  let mailboxOutcome: MailboxRenewalOutcome = 'expired';
  let expiryReason: ExpiryReason | null = null;
  if (!m.autoRenew) expiryReason = 'auto_renew_off';
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

/** R9: a manual renewal charges the mailbox and its active extra space together, from the old E. */
export function manualRenewalAmount(m: MailboxFacts, c: Catalogue): { mailboxCents: Cents; addonCents: Cents; totalCents: Cents; quantityGb: number } {
  // R8: an expired mailbox's extra space is already deactivated and must be bought again.
  const quantityGb = m.status === 'active' && m.addon?.status === 'active' ? m.addon.quantityGb : 0;
  const mailboxCents = mailboxRenewalPrice(m, c);
  const addonCents = addonRenewalPrice(quantityGb, c);
  return { mailboxCents, addonCents, totalCents: addCents(mailboxCents, addonCents), quantityGb };
}
