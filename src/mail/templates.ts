// The holder's e-mails, in Italian and English (R13). Subjects begin as API.md "E-mail" fixes. The
// words are in ./texts.ts; here is what each e-mail says, and when.
import type { CalendarDate } from '../domain/calendar.ts';
import type { Cents } from '../domain/money.ts';
import { longDate, money, type Locale } from '../i18n/format.ts';
import type { EmailContent } from './message.ts';
import { say } from './texts.ts';

type Block = EmailContent['blocks'][number];

/** A net price, as the catalogue and the credit count it: VAT is paid on top-ups, not here. */
const net = (c: Cents, L: Locale): string => say(L, 'vatExcluded', { amount: money(c, L) });

const gb = (bytes: number, L: Locale): string => {
  const v = (bytes / 1024 ** 3).toFixed(2);
  return `${L === 'en' ? v : v.replace('.', ',')} GB`;
};

export function topupReceipt(
  L: Locale,
  d: {
    amountCents: Cents;
    vatCents: Cents;
    chargeCents: Cents;
    balanceCents: Cents;
    creditUrl: string;
    invoicePdfUrl: string;
    /** R16: a business abroad pays no Italian VAT; R17: a transfer is not charged to a card. */
    vatTreatment?: 'standard' | 'reverse_charge' | 'not_subject';
    method?: 'card' | 'saved_card' | 'bank_transfer';
  },
): EmailContent {
  const treatment = d.vatTreatment ?? 'standard';
  return {
    subject: say(L, 'topupSubject', { amount: money(d.amountCents, L) }),
    blocks: [
      { p: say(L, 'topupDone') },
      {
        rows: [
          [say(L, 'topupAdded'), money(d.amountCents, L)],
          [say(L, 'vat'), treatment === 'standard' ? money(d.vatCents, L) : say(L, `vatNone_${treatment}`)],
          [say(L, d.method === 'bank_transfer' ? 'topupPaidByTransfer' : 'topupCharged'), money(d.chargeCents, L)],
          [say(L, 'balance'), money(d.balanceCents, L)],
        ],
      },
      { link: say(L, 'creditMovements'), href: d.creditUrl },
      // R15: the invoice goes to SdI; the holder gets its courtesy copy here.
      { link: say(L, 'invoiceCopy'), href: d.invoicePdfUrl },
    ],
  };
}

/** R17: money given back to the card, with the credit note's courtesy copy. */
export function refundMade(
  L: Locale,
  d: { kind: 'refund' | 'withdrawal' | 'closing'; amountCents: Cents; vatCents: Cents; chargeCents: Cents; balanceCents: Cents; creditUrl: string; creditNotePdfUrl: string | null },
): EmailContent {
  const charge = money(d.chargeCents, L);
  const intro = d.kind === 'withdrawal' ? 'withdrawalDone' : d.kind === 'closing' ? 'closingDone' : 'refundDone';
  return {
    subject: say(L, 'refundSubject', { amount: charge }),
    blocks: [
      { p: say(L, intro, { charge }) },
      {
        rows: [
          [say(L, 'refundCredit'), money(d.amountCents, L)],
          [say(L, 'vat'), money(d.vatCents, L)],
          [say(L, 'refundCharged'), charge],
          [say(L, 'balance'), money(d.balanceCents, L)],
        ],
      },
      { p: say(L, 'refundTiming') },
      { link: say(L, 'creditMovements'), href: d.creditUrl },
      ...(d.creditNotePdfUrl ? [{ link: say(L, 'creditNoteCopy'), href: d.creditNotePdfUrl }] : []),
    ],
  };
}

export function orderCompleted(
  L: Locale,
  d: {
    address: string;
    kind: 'extra_inbox_space' | 'renewal';
    quantityGb: number;
    amountCents: Cents;
    activeUntil: CalendarDate;
    balanceCents: Cents;
    mailboxUrl: string;
  },
): EmailContent {
  const what = d.kind === 'renewal' ? say(L, 'serviceRenewal') : say(L, 'extraGbService', { gb: d.quantityGb });
  return {
    subject: say(L, 'orderSubject', { address: d.address }),
    blocks: [
      { p: say(L, 'orderDone', { address: d.address }) },
      {
        rows: [
          [say(L, 'service'), what],
          [say(L, 'amount'), net(d.amountCents, L)],
          [say(L, 'activeUntil'), longDate(d.activeUntil, L)],
          [say(L, 'balance'), money(d.balanceCents, L)],
        ],
      },
      { link: say(L, 'mailboxCard'), href: d.mailboxUrl },
    ],
  };
}

export type RenewalMailKind = 'renewal_completed' | 'addon_deactivated' | 'mailbox_expired';

export interface RenewalMailData {
  address: string;
  periodEndsOn: CalendarDate;
  newExpiresOn: CalendarDate | null;
  mailbox: { outcome: 'renewed' | 'expired'; priceCents: Cents; reason: 'auto_renew_off' | 'insufficient_credit' | 'overdue_too_long' | null };
  addon: {
    outcome: 'renewed' | 'deactivated' | 'none';
    quantityGb: number;
    priceCents: Cents;
    reason: 'auto_renew_off' | 'insufficient_credit' | 'mailbox_expired' | null;
  };
  chargedCents: Cents;
  balanceCents: Cents;
  missingCents: Cents;
  /** Set when the mailbox holds more mail than its space after the renewal (R7.4). */
  overQuota: { usedBytes: number; totalBytes: number } | null;
  graceEndsOn: CalendarDate;
  mailboxUrl: string;
  creditUrl: string;
}

/** The most important outcome decides the subject: expiry, then deactivation, then the receipt. */
export const renewalMailKind = (d: Pick<RenewalMailData, 'mailbox' | 'addon'>): RenewalMailKind =>
  d.mailbox.outcome === 'expired' ? 'mailbox_expired' : d.addon.outcome === 'deactivated' ? 'addon_deactivated' : 'renewal_completed';

/** R7.4: what the renewal on day E did to a mailbox and its extra space. */
export function renewalOutcome(L: Locale, d: RenewalMailData): EmailContent {
  const kind = renewalMailKind(d);
  const address = d.address;
  const subject = say(L, kind === 'mailbox_expired' ? 'expiredSubject' : kind === 'addon_deactivated' ? 'deactivatedSubject' : 'renewedSubject', { address });
  const notEnough = say(L, 'whyNotEnough', { missing: money(d.missingCents, L) });
  const blocks: Block[] = [];
  if (d.mailbox.outcome === 'renewed') {
    blocks.push({ p: say(L, 'mailboxRenewed', { address, until: longDate(d.newExpiresOn!, L) }) });
  } else {
    const why = d.mailbox.reason === 'auto_renew_off' ? say(L, 'whyAutoOff') : d.mailbox.reason === 'overdue_too_long' ? say(L, 'whyOverdue') : notEnough;
    blocks.push({ p: say(L, 'mailboxExpired', { address, on: longDate(d.periodEndsOn, L), why, graceEnd: longDate(d.graceEndsOn, L) }) });
  }
  if (d.addon.outcome === 'deactivated') {
    const why = d.addon.reason === 'mailbox_expired' ? say(L, 'whyMailboxExpired') : d.addon.reason === 'auto_renew_off' ? say(L, 'whyAddonAutoOff') : notEnough;
    blocks.push({ p: say(L, 'addonDeactivated', { gb: d.addon.quantityGb, why }) });
  }
  const rows: [string, string][] = [[say(L, 'mailbox'), address]];
  if (d.mailbox.outcome === 'renewed') rows.push([say(L, 'mailboxRenewal'), net(d.mailbox.priceCents, L)]);
  if (d.addon.outcome === 'renewed') rows.push([say(L, 'extraGb', { gb: d.addon.quantityGb }), net(d.addon.priceCents, L)]);
  rows.push([say(L, 'chargedToCredit'), net(d.chargedCents, L)]);
  rows.push([say(L, 'balance'), money(d.balanceCents, L)]);
  if (d.newExpiresOn) rows.push([say(L, 'newExpiry'), longDate(d.newExpiresOn, L)]);
  blocks.push({ rows });
  if (d.overQuota) blocks.push({ warning: say(L, 'overQuota', { used: gb(d.overQuota.usedBytes, L), total: gb(d.overQuota.totalBytes, L) }) });
  if (d.missingCents > 0) blocks.push({ link: say(L, 'topUp'), href: d.creditUrl });
  blocks.push({ link: say(L, 'mailboxCard'), href: d.mailboxUrl });
  return { subject, blocks };
}

/** R7.5: extra space ending before its mailbox, renewed from credit on its own end or deactivated. */
export function addonRenewalOutcome(
  L: Locale,
  d: {
    address: string;
    quantityGb: number;
    periodEndsOn: CalendarDate;
    outcome: 'renewed' | 'deactivated';
    reason: 'auto_renew_off' | 'insufficient_credit' | null;
    newActiveUntil: CalendarDate | null;
    priceCents: Cents;
    chargedCents: Cents;
    balanceCents: Cents;
    missingCents: Cents;
    mailboxUrl: string;
    creditUrl: string;
  },
): EmailContent {
  const address = d.address;
  const blocks: Block[] = [];
  if (d.outcome === 'renewed') {
    blocks.push({ p: say(L, 'addonRenewed', { gb: d.quantityGb, address, until: longDate(d.newActiveUntil!, L) }) });
  } else {
    const why = d.reason === 'auto_renew_off' ? say(L, 'whyAddonAutoOff') : say(L, 'whyNotEnough', { missing: money(d.missingCents, L) });
    blocks.push({ p: say(L, 'addonEnded', { gb: d.quantityGb, address, on: longDate(d.periodEndsOn, L), why }) });
  }
  const rows: [string, string][] = [[say(L, 'mailbox'), address]];
  if (d.outcome === 'renewed') rows.push([say(L, 'extraGb', { gb: d.quantityGb }), net(d.priceCents, L)]);
  rows.push([say(L, 'chargedToCredit'), net(d.chargedCents, L)]);
  rows.push([say(L, 'balance'), money(d.balanceCents, L)]);
  blocks.push({ rows });
  if (d.missingCents > 0) blocks.push({ link: say(L, 'topUp'), href: d.creditUrl });
  blocks.push({ link: say(L, 'mailboxCard'), href: d.mailboxUrl });
  return { subject: say(L, d.outcome === 'renewed' ? 'renewedSubject' : 'deactivatedSubject', { address }), blocks };
}

/** What the renewal on E would do with one service, by the same plan the daily job follows. */
export type AlertServiceOutcome = 'renews' | 'needs_credit' | 'switched_off';

export interface AlertOtherRenewal {
  address: string;
  service: 'mailbox' | 'extra_inbox_space';
  quantityGb: number;
  on: CalendarDate;
  priceCents: Cents;
  outcome: 'renews' | 'needs_credit';
}

/**
 * R10: an expiry alert at a milestone before E. It promises an automatic renewal only where the
 * credit pays it today, and names extra space that will not be renewed.
 */
export function expiryAlert(
  L: Locale,
  d: {
    address: string;
    expiresOn: CalendarDate;
    daysLeft: number;
    services: readonly { label: 'mailbox' | 'extra_inbox_space'; quantityGb?: number; priceCents: Cents; outcome: AlertServiceOutcome }[];
    /** R10: the holder's other renewals due by E, in the job's order (R7.3), drawing on the same credit. */
    others: readonly AlertOtherRenewal[];
    /** What the services the holder wants renewed cost together, the others' included. */
    totalCents: Cents;
    balanceCents: Cents;
    /** R18: what the holder's saved cards will add to the credit before E (0 when none). */
    cardCents: Cents;
    /** R18: this mailbox's own card charge to come, when its renewal is by card and the credit lacks it. */
    card: { brand: string; last4: string; on: CalendarDate; amountCents: Cents } | null;
    shortfallCents: Cents;
    /** The top-up that pays the shortfall: at least the minimum top-up. */
    topupCents: Cents;
    autoRenew: boolean;
    creditUrl: string;
  },
): EmailContent {
  const on = longDate(d.expiresOn, L);
  const topup = money(d.topupCents, L);
  const rows: [string, string][] = [
    [say(L, 'mailbox'), d.address],
    [say(L, 'expiryDate'), on],
  ];
  for (const s of d.services) {
    const label = s.label === 'mailbox' ? say(L, 'mailboxRenewal') : say(L, 'extraGb', { gb: s.quantityGb ?? 0 });
    rows.push([label, s.outcome === 'switched_off' && s.label !== 'mailbox' ? say(L, 'notRenewed') : net(s.priceCents, L)]);
  }
  for (const o of d.others) {
    const params = { address: o.address, gb: o.quantityGb, on: longDate(o.on, L) };
    const label = say(L, o.service === 'mailbox' ? 'otherMailboxRow' : 'otherExtraRow', params);
    rows.push([label, o.outcome === 'renews' ? net(o.priceCents, L) : `${net(o.priceCents, L)}, ${say(L, 'willNotRenew')}`]);
  }
  const othersShort = d.others.filter((o) => o.outcome === 'needs_credit');
  rows.push([say(L, 'total'), net(d.totalCents, L)]);
  rows.push([say(L, 'balance'), money(d.balanceCents, L)]);
  if (d.cardCents > 0) rows.push([say(L, 'cardTopups'), money(d.cardCents, L)]);
  if (d.shortfallCents > 0) rows.push([say(L, 'shortfall'), money(d.shortfallCents, L)]);
  const mailbox = d.services.find((s) => s.label === 'mailbox');
  const extra = d.services.find((s) => s.label === 'extra_inbox_space');
  const blocks: Block[] = [
    { p: say(L, 'expiresIn', { address: d.address, on, days: d.daysLeft, daysWord: say(L, d.daysLeft === 1 ? 'day' : 'days') }) },
  ];
  if (!d.autoRenew) {
    blocks.push({ p: say(L, 'autoOff') });
    if (d.shortfallCents > 0) blocks.push({ warning: say(L, 'autoOffShort', { topup }) });
  } else if (mailbox?.outcome === 'needs_credit') {
    blocks.push({ warning: say(L, extra ? 'mailboxNeedsCreditExtra' : 'mailboxNeedsCredit', { topup, on }) });
  } else if (extra?.outcome === 'needs_credit') {
    blocks.push({ p: say(L, 'mailboxWillRenew') });
    blocks.push({ warning: say(L, 'extraNeedsCredit', { gb: extra.quantityGb ?? 0, topup, on }) });
  } else if (othersShort.length) {
    blocks.push({ p: say(L, 'ownWillRenew', { address: d.address }) });
  } else {
    blocks.push({ p: say(L, 'allWillRenew') });
  }
  if (d.card) {
    blocks.push({ p: say(L, 'cardWillPay', { on: longDate(d.card.on, L), brand: d.card.brand, last4: d.card.last4, amount: money(d.card.amountCents, L) }) });
  }
  if (extra?.outcome === 'switched_off') blocks.push({ p: say(L, 'extraSwitchedOff', { gb: extra.quantityGb ?? 0 }) });
  if (d.others.length) blocks.push({ p: say(L, 'othersCounted', { on }) });
  if (othersShort.length) {
    // R10: name what will not be renewed, and the top-up (before the first of them) that renews it all.
    const list = othersShort
      .map((o) => say(L, o.service === 'mailbox' ? 'otherMailbox' : 'otherExtra', { address: o.address, gb: o.quantityGb, on: longDate(o.on, L) }))
      .join('; ');
    blocks.push({ warning: say(L, 'othersNeedCredit', { list, topup, on: longDate(othersShort[0]!.on, L) }) });
  }
  blocks.push({ rows });
  blocks.push({ link: say(L, 'topUp'), href: d.creditUrl });
  return { subject: say(L, 'alertSubject', { address: d.address }), blocks };
}

/** R11: usage crossed a threshold of the mailbox's total space. */
export function usageWarning(
  L: Locale,
  d: { address: string; thresholdPercent: number; usedBytes: number; totalBytes: number; buySpaceUrl: string },
): EmailContent {
  const pct = d.totalBytes > 0 ? Math.floor((d.usedBytes * 100) / d.totalBytes) : 100;
  return {
    subject: say(L, 'usageSubject', { address: d.address }),
    blocks: [
      { p: say(L, 'usageCrossed', { address: d.address, percent: d.thresholdPercent }) },
      {
        rows: [
          [say(L, 'spaceUsed'), `${gb(d.usedBytes, L)} (${pct}%)`],
          [say(L, 'inboxSpace'), gb(d.totalBytes, L)],
        ],
      },
      { p: say(L, 'whenFull') },
      { link: say(L, 'buySpace'), href: d.buySpaceUrl },
    ],
  };
}

/**
 * R8: the grace is over and the mailbox is terminated. Its mail is kept (Casella deletes nothing), but
 * the mailbox no longer receives nor logs in, and it can no longer be renewed here.
 */
export function mailboxTerminated(
  L: Locale,
  d: { address: string; mailboxUrl: string } & (
    | { expiredOn: CalendarDate; graceEndedOn: CalendarDate }
    /** R19: terminated by the provider's staff on that day. */
    | { terminatedOn: CalendarDate }
  ),
): EmailContent {
  return {
    subject: say(L, 'terminatedSubject', { address: d.address }),
    blocks: [
      {
        p:
          'terminatedOn' in d
            ? say(L, 'terminatedByProvider', { address: d.address, on: longDate(d.terminatedOn, L) })
            : say(L, 'terminated', { address: d.address, on: longDate(d.expiredOn, L), graceEnd: longDate(d.graceEndedOn, L) }),
      },
      { p: say(L, 'terminatedEffects') },
      { p: say(L, 'terminatedKept') },
      { link: say(L, 'mailboxCard'), href: d.mailboxUrl },
    ],
  };
}

/** Issue 15: the reset link for a mailbox's password, sent to its holder's reference e-mail. */
export function passwordReset(L: Locale, d: { address: string; resetUrl: string; validMinutes: number; twoStep: boolean }): EmailContent {
  return {
    subject: say(L, 'resetSubject', { address: d.address }),
    blocks: [
      { p: say(L, 'resetAsked', { address: d.address, minutes: d.validMinutes }) },
      { link: say(L, 'resetLink'), href: d.resetUrl },
      ...(d.twoStep ? [{ p: say(L, 'resetTwoStep') }] : []),
      { p: say(L, 'resetEffects') },
    ],
  };
}

/** Issue 15: the link that confirms a new reference e-mail, sent to the new address. */
export function referenceEmailConfirmation(L: Locale, d: { holderName: string; newEmail: string; confirmUrl: string; validHours: number }): EmailContent {
  return {
    subject: say(L, 'emailConfirmSubject'),
    blocks: [
      // Issue 19: the provider's words first; the name the holder typed (free text) only after them, quoted.
      { p: say(L, 'emailConfirmAsked', { email: d.newEmail, hours: d.validHours }) },
      { p: say(L, 'emailConfirmHolder', { holder: d.holderName }) },
      { link: say(L, 'emailConfirmLink'), href: d.confirmUrl },
      { p: say(L, 'emailConfirmIgnore') },
    ],
  };
}

/** Issue 19: to the current reference e-mail as soon as a change is asked, so a change asked by someone else is noticed before it happens. */
export function referenceEmailChangeAsked(L: Locale, d: { oldEmail: string; newEmail: string; validHours: number }): EmailContent {
  return {
    subject: say(L, 'emailChangeAskedSubject'),
    blocks: [{ p: say(L, 'emailChangeAsked', { oldEmail: d.oldEmail, newEmail: d.newEmail, hours: d.validHours }) }],
  };
}

/** Issue 15: to the old reference e-mail, once the new one is confirmed, so a change nobody asked for is noticed. */
export function referenceEmailChanged(L: Locale, d: { oldEmail: string; newEmail: string; profileUrl: string }): EmailContent {
  return {
    subject: say(L, 'emailChangedSubject'),
    blocks: [
      { p: say(L, 'emailChanged', { newEmail: d.newEmail, oldEmail: d.oldEmail }) },
      { link: say(L, 'profile'), href: d.profileUrl },
    ],
  };
}
