// R7.3 and R10: one holder's renewals in the daily job's order, drawing on one balance. The daily
// job's decisions, the expiry alerts, the dashboard's "il credito non basta" and the forecast all ask
// this plan, so what the holder is promised is what the job does (STYLE: one fact, one function).
import { addYears, compareDates, isBefore, type CalendarDate } from './calendar.ts';
import type { Catalogue } from './catalogue.ts';
import { addCents, cents, maxCents, minCents, subCents, timesQuantity, type Cents } from './money.ts';
import { addonEndsWithMailbox, assertAddonWithinPeriod, type MailboxFacts } from './mailbox.ts';

/**
 * How far back the daily job catches up missed renewals (R7: "missed days are caught up"). A
 * mailbox overdue by more than this is not charged for every year it missed: it expires, and an
 * operator looks at it. With provisioning refusing expiry dates over a year old, only a job stopped
 * for a year or more reaches it; it also bounds how often one run renews one mailbox (three times).
 */
export const RENEWAL_CATCH_UP_YEARS_MAX = 2;

export type RenewalService = 'mailbox' | 'extra_inbox_space';

/** A mailbox of the holder with the address that orders renewals due the same day (R7.3). */
export interface HolderMailbox extends MailboxFacts {
  address: string;
}

/** Why a due service is not renewed. */
export type NotRenewedReason = 'auto_renew_off' | 'overdue_too_long' | 'insufficient_credit' | 'mailbox_expired';

/** One service's period that ends, to be renewed from credit by the daily run of `runOn`. */
export interface DueRenewal {
  /** The mailbox's index in the list the renewals were gathered from. */
  mailboxIndex: number;
  address: string;
  service: RenewalService;
  /** The end of the period being renewed: the mailbox's E, or the extra space's paid-until date. */
  periodEndsOn: CalendarDate;
  /** The day of the daily run that settles it: its period's end, or today once that has passed. */
  runOn: CalendarDate;
  /** Extra space only: its quantity (0 for a mailbox). */
  quantityGb: number;
  priceCents: Cents;
  /** R7.2: extra space ending with its mailbox is renewed only if the mailbox is. */
  withMailbox: boolean;
  /** What stops it whatever the credit: the holder switched its renewal off, or catch-up's bound. */
  blockedBy: 'auto_renew_off' | 'overdue_too_long' | null;
}

export interface PlannedRenewal extends DueRenewal {
  renewed: boolean;
  /** Whether it would renew with enough credit (not switched off, its mailbox renewing too). */
  wanted: boolean;
  reason: NotRenewedReason | null;
  /** The credit left after this renewal's turn. */
  balanceAfterCents: Cents;
  /** What the credit lacked at this renewal's turn (insufficient_credit only, else 0). */
  missingCents: Cents;
}

/**
 * Credit that reaches the wallet on a day before a renewal: R18's card charges, made by the daily
 * run of `on` before its renewals, so a renewal settled by that run or a later one can spend it.
 */
export interface CreditArrival {
  on: CalendarDate;
  cents: Cents;
}

const NO_ARRIVALS: readonly CreditArrival[] = [];

export interface HolderRenewalPlan {
  /** Every due renewal, in the job's order. */
  renewals: PlannedRenewal[];
  chargedCents: Cents;
  balanceAfterCents: Cents;
  /** What the renewals would charge with enough credit: everything not switched off. */
  neededCents: Cents;
  /**
   * The least top-up made now (after waiting orders, R5) that renews all of it: neededCents − balance,
   * or 0, when no credit arrives later; with arrivals, the most any renewal's turn lacks.
   */
  shortfallCents: Cents;
}

/** R19: the next period is priced at the type it will have (a type staff changed from the next renewal). */
export const mailboxRenewalPrice = (m: Pick<MailboxFacts, 'type' | 'nextType'>, c: Catalogue): Cents => c.mailboxTypes[m.nextType ?? m.type].renewalPriceCents;

export const addonRenewalPrice = (quantityGb: number, c: Catalogue): Cents => timesQuantity(c.extraSpace.pricePerGbYearCents, quantityGb);

const later = (a: CalendarDate, b: CalendarDate): CalendarDate => (isBefore(a, b) ? b : a);
const textOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * R7.3: the job's order. Each day's run settles what is due by then; within one run every due
 * mailbox comes first (earliest E, then address), then extra space (earliest end, then address):
 * credit keeps PEC mailboxes working before optional add-ons.
 */
export function jobOrder(a: DueRenewal, b: DueRenewal): number {
  return (
    compareDates(a.runOn, b.runOn) ||
    (a.service === b.service ? 0 : a.service === 'mailbox' ? -1 : 1) ||
    compareDates(a.periodEndsOn, b.periodEndsOn) ||
    textOrder(a.address, b.address) ||
    a.mailboxIndex - b.mailboxIndex
  );
}

/** Whether a period ending at `expiresOn` is past catch-up's bound on `runOn`. */
function overdueTooLong(expiresOn: CalendarDate, runOn: CalendarDate): boolean {
  // Nearly every mailbox of a run is due this year or last: compared by year it is never overdue,
  // without making a date (the daily job asks once per mailbox it renews).
  if (expiresOn.year > runOn.year - RENEWAL_CATCH_UP_YEARS_MAX) return false;
  return isBefore(expiresOn, addYears(runOn, -RENEWAL_CATCH_UP_YEARS_MAX));
}

/** R7.1: the renewal of a mailbox's period ending at its E, settled by the run of runOn. */
export function mailboxDue(m: HolderMailbox, mailboxIndex: number, runOn: CalendarDate, c: Catalogue): DueRenewal {
  return {
    mailboxIndex,
    address: m.address,
    service: 'mailbox',
    periodEndsOn: m.expiresOn,
    runOn,
    quantityGb: 0,
    priceCents: mailboxRenewalPrice(m, c),
    withMailbox: false,
    blockedBy: !m.autoRenew ? 'auto_renew_off' : overdueTooLong(m.expiresOn, runOn) ? 'overdue_too_long' : null,
  };
}

/**
 * R7.2 and R7.6: the renewal of a mailbox's active extra space on the day it was paid until. With
 * its mailbox when it ends at E (withMailbox), on its own date when it ends before.
 */
export function addonDue(m: HolderMailbox, mailboxIndex: number, runOn: CalendarDate, c: Catalogue): DueRenewal {
  const addon = m.addon;
  if (addon?.status !== 'active') throw new Error('invariant: only active extra space falls due');
  return {
    mailboxIndex,
    address: m.address,
    service: 'extra_inbox_space',
    periodEndsOn: addon.activeUntil,
    runOn,
    quantityGb: addon.quantityGb,
    priceCents: addonRenewalPrice(addon.quantityGb, c),
    withMailbox: addonEndsWithMailbox(m),
    blockedBy: m.extraSpaceAutoRenew ? null : 'auto_renew_off',
  };
}

/**
 * Everything of the holder's active mailboxes that falls due up to `until`, each settled by the
 * daily run of its own date (or today's, when overdue): the renewals the holder must be told about.
 * One period per service: a period renewed within the window ends a year later, beyond it.
 */
export function dueRenewals(mailboxes: readonly HolderMailbox[], today: CalendarDate, until: CalendarDate, c: Catalogue): DueRenewal[] {
  const due: DueRenewal[] = [];
  mailboxes.forEach((m, index) => {
    if (m.status !== 'active') return; // R8: an expired mailbox is renewed by hand, never by the job
    assertAddonWithinPeriod(m);
    const addon = m.addon?.status === 'active' ? m.addon : null;
    // R7.6: extra space paid until before E falls due on its own date.
    if (addon && isBefore(addon.activeUntil, m.expiresOn) && !isBefore(until, addon.activeUntil)) {
      due.push(addonDue(m, index, later(addon.activeUntil, today), c));
    }
    if (isBefore(until, m.expiresOn)) return;
    const runOn = later(m.expiresOn, today);
    due.push(mailboxDue(m, index, runOn, c));
    if (addon && addonEndsWithMailbox(m)) due.push(addonDue(m, index, runOn, c));
  });
  return due;
}

/**
 * A due renewal with its decision. Written out rather than spread: the daily job plans every holder
 * of a run, and `{ ...item }` made planning 2 µs per renewal slower (a new object shape each time).
 */
function planned(item: DueRenewal, reason: NotRenewedReason | null, wanted: boolean, balanceAfterCents: Cents, missingCents: Cents): PlannedRenewal {
  return {
    mailboxIndex: item.mailboxIndex,
    address: item.address,
    service: item.service,
    periodEndsOn: item.periodEndsOn,
    runOn: item.runOn,
    quantityGb: item.quantityGb,
    priceCents: item.priceCents,
    withMailbox: item.withMailbox,
    blockedBy: item.blockedBy,
    renewed: reason === null,
    wanted,
    reason,
    balanceAfterCents,
    missingCents,
  };
}

/**
 * R7: the holder's due renewals in the job's order, each renewed whole from what the balance still
 * holds at its turn, or not at all. Extra space ending with its mailbox goes when the mailbox goes
 * (R7.2). neededCents is what they would take with enough credit, so shortfallCents is the least
 * top-up made now that renews all of them. `arrivals` (R18's card charges) join the balance from
 * their day on: a renewal settled before that day cannot spend them.
 */
export function planHolderRenewals(due: readonly DueRenewal[], balance: Cents, arrivals: readonly CreditArrival[] = NO_ARRIVALS): HolderRenewalPlan {
  const ordered = [...due].sort(jobOrder);
  const incoming = arrivals.length > 1 ? [...arrivals].sort((a, b) => compareDates(a.on, b.on)) : arrivals;
  const mailboxRenewed = new Map<number, boolean>();
  const mailboxWanted = new Map<number, boolean>();
  const renewals: PlannedRenewal[] = [];
  let left = balance;
  let needed = cents(0);
  let arrived = cents(0);
  let nextArrival = 0;
  // The least top-up now: what the wanted renewals up to each turn cost beyond what has come in by then.
  let shortfall = cents(0);
  for (const item of ordered) {
    while (nextArrival < incoming.length && !isBefore(item.runOn, incoming[nextArrival]!.on)) {
      const arrival = incoming[nextArrival++]!;
      left = addCents(left, arrival.cents);
      arrived = addCents(arrived, arrival.cents);
    }
    // R7.2: a mailbox that expired takes its extra space with it.
    const isAddon = item.service === 'extra_inbox_space';
    const mailboxGone = isAddon && mailboxRenewed.get(item.mailboxIndex) === false;
    let reason: NotRenewedReason | null = null;
    let missing = cents(0);
    if (mailboxGone) reason = 'mailbox_expired';
    else if (item.blockedBy) reason = item.blockedBy;
    else if (item.priceCents > left) {
      reason = 'insufficient_credit';
      missing = subCents(item.priceCents, left);
    } else left = subCents(left, item.priceCents);
    // With enough credit it renews unless switched off, or its mailbox would not renew either.
    const wanted = !item.blockedBy && !(isAddon && mailboxWanted.get(item.mailboxIndex) === false);
    if (wanted) {
      needed = addCents(needed, item.priceCents);
      const lacking = needed - balance - arrived;
      if (lacking > shortfall) shortfall = cents(lacking);
    }
    if (item.service === 'mailbox') {
      mailboxRenewed.set(item.mailboxIndex, reason === null);
      mailboxWanted.set(item.mailboxIndex, wanted);
    }
    renewals.push(planned(item, reason, wanted, left, missing));
  }
  for (; nextArrival < incoming.length; nextArrival++) {
    left = addCents(left, incoming[nextArrival]!.cents);
    arrived = addCents(arrived, incoming[nextArrival]!.cents);
  }
  const chargedCents = subCents(addCents(balance, arrived), left);
  // TIGER_STYLE: the plan never spends credit it does not have, nor more than it needs.
  if (left < 0 || chargedCents > needed) throw new Error(`invariant: plan charges ${chargedCents} of ${balance} + ${arrived}, needing ${needed}`);
  return { renewals, chargedCents, balanceAfterCents: left, neededCents: needed, shortfallCents: shortfall };
}

/**
 * The one-click top-up that pays a shortfall: waiting orders settle first on any top-up (R5), so
 * they are added; at least the minimum top-up, at most the maximum. 0 when nothing is missing.
 */
export function topupForShortfall(shortfallCents: Cents, waitingOrdersCents: Cents, c: Catalogue): Cents {
  if (shortfallCents <= 0) return cents(0);
  return minCents(c.topupMaxCents, maxCents(c.topupMinCents, addCents(shortfallCents, waitingOrdersCents)));
}
