// R4, R5, R9: what placing and completing an order does, decided from the order's terms, the
// mailbox's facts and today. An order charges for exactly what it extends, and extends exactly what
// it charged for: its terms (GB, amount, the period it was priced on) are fixed when it is placed,
// and when it completes later (after a top-up) it either still fits them or is refused, to be
// cancelled with nothing charged.
import { addYears, compareDates, isBefore, type CalendarDate } from './calendar.ts';
import type { Catalogue } from './catalogue.ts';
import { cents, minCents, subCents, type Cents } from './money.ts';
import { activeExtraGb, extraGbInManualRenewal, manualRenewalWindow, type MailboxFacts } from './mailbox.ts';
import { addonRenewalPrice, manualRenewalAmount } from './renewal.ts';
import { fail, ok, type Result } from './result.ts';

export type OrderKind = 'extra_inbox_space' | 'renewal';

/** What an order was placed for; fixed at placement. */
export interface OrderTerms {
  kind: OrderKind;
  /** Extra space: the GB bought. Renewal: the GB of extra space renewed with the mailbox (0 for none). */
  quantityGb: number;
  amountCents: Cents;
  /** Extra space: the add-on's period end it was priced on. Renewal: the E it renews. */
  periodEndsOn: CalendarDate;
}

export type RenewalOrderRefusal = { code: 'too_early'; opensOn: CalendarDate } | { code: 'past_grace' };

/** R9: the terms of a manual renewal placed today, or why it cannot be placed. */
export function planRenewalOrder(m: MailboxFacts, today: CalendarDate, c: Catalogue): Result<OrderTerms & { activeUntil: CalendarDate }, RenewalOrderRefusal> {
  const window = manualRenewalWindow(m, today, c);
  if (!window.allowed) return fail(window.reason === 'too_early' ? { code: 'too_early', opensOn: window.opensOn! } : { code: 'past_grace' });
  const amount = manualRenewalAmount(m, c);
  return ok({
    kind: 'renewal',
    quantityGb: amount.quantityGb,
    amountCents: amount.totalCents,
    periodEndsOn: m.expiresOn,
    activeUntil: addYears(m.expiresOn, 1),
  });
}

/** Why a waiting order no longer fits its mailbox; it is cancelled and nothing is charged. */
export type CompletionRefusal =
  /** Extra space: the mailbox is no longer active (expired, terminated) or its E has come. */
  | 'mailbox_not_active'
  /** Extra space: the period it was priced on is over. */
  | 'period_over'
  /** The extra space the order was priced against changed (its end, or for a renewal its GB). */
  | 'extra_space_changed'
  /** Extra space: the mailbox would pass the most GB allowed. */
  | 'limit_exceeded'
  /** Renewal: the period was renewed meanwhile (by the daily job or another order). */
  | 'period_already_renewed'
  /** Renewal: the mailbox is past its grace or terminated. */
  | 'not_renewable';

export interface CompletionPlan {
  chargeCents: Cents;
  /** How the charge splits between the ledger's revenue accounts. */
  revenue: { mailboxCents: Cents; extraSpaceCents: Cents };
  /** The day what the order bought ends (the order's activeUntil). */
  activeUntil: CalendarDate;
  /** Renewal: the mailbox becomes active until this E. */
  newExpiresOn: CalendarDate | null;
  /** The add-on afterwards (active), or null when the order leaves it as it is. */
  addon: { quantityGb: number; activeUntil: CalendarDate } | null;
  /** R7.3: the (service, period) pairs this order renews, each at most once ever. */
  renewedPeriods: { service: 'mailbox' | 'extra_inbox_space'; periodEndsOn: CalendarDate; amountCents: Cents }[];
}

/** R5: what completing the order today does, or why it no longer can. */
export function planOrderCompletion(order: OrderTerms, m: MailboxFacts, today: CalendarDate, c: Catalogue): Result<CompletionPlan, CompletionRefusal> {
  return order.kind === 'extra_inbox_space' ? planExtraSpaceCompletion(order, m, today, c) : planRenewalCompletion(order, m, today, c);
}

function planExtraSpaceCompletion(order: OrderTerms, m: MailboxFacts, today: CalendarDate, c: Catalogue): Result<CompletionPlan, CompletionRefusal> {
  if (m.status !== 'active' || !isBefore(today, m.expiresOn)) return fail('mailbox_not_active');
  // The price covered today to the period end it was quoted on, and no further (R7.5).
  if (!isBefore(today, order.periodEndsOn)) return fail('period_over');
  // The add-on has one end for all its GB: new GB can join it only if it ends where they were priced.
  if (m.addon?.status === 'active' && compareDates(m.addon.activeUntil, order.periodEndsOn) !== 0) return fail('extra_space_changed');
  if (compareDates(order.periodEndsOn, m.expiresOn) > 0) throw new Error(`invariant: extra space priced to ${order.periodEndsOn}, past E ${m.expiresOn}`);
  const quantityGb = activeExtraGb(m) + order.quantityGb;
  if (quantityGb > c.extraSpace.maxGbPerMailbox) return fail('limit_exceeded');
  return ok({
    chargeCents: order.amountCents,
    revenue: { mailboxCents: cents(0), extraSpaceCents: order.amountCents },
    activeUntil: order.periodEndsOn,
    newExpiresOn: null,
    addon: { quantityGb, activeUntil: order.periodEndsOn },
    renewedPeriods: [],
  });
}

function planRenewalCompletion(order: OrderTerms, m: MailboxFacts, today: CalendarDate, c: Catalogue): Result<CompletionPlan, CompletionRefusal> {
  if (compareDates(m.expiresOn, order.periodEndsOn) !== 0) return fail('period_already_renewed');
  if (!manualRenewalWindow(m, today, c).allowed) return fail('not_renewable');
  // Extra space the renewal was priced with must still be exactly what renews with the mailbox (its
  // renewal still switched on); extra space bought after it was priced, or left out of it, is not
  // touched and keeps its own end (R7.5).
  if (order.quantityGb > 0 && extraGbInManualRenewal(m) !== order.quantityGb) return fail('extra_space_changed');
  const newExpiresOn = addYears(m.expiresOn, 1);
  // The order keeps the price of its day (R5); the add-on's share is its price, the rest the mailbox's.
  const extraSpaceCents = minCents(order.amountCents, addonRenewalPrice(order.quantityGb, c));
  const mailboxCents = subCents(order.amountCents, extraSpaceCents);
  const renewedPeriods: CompletionPlan['renewedPeriods'] = [{ service: 'mailbox', periodEndsOn: m.expiresOn, amountCents: mailboxCents }];
  if (order.quantityGb > 0) renewedPeriods.push({ service: 'extra_inbox_space', periodEndsOn: m.expiresOn, amountCents: extraSpaceCents });
  return ok({
    chargeCents: order.amountCents,
    revenue: { mailboxCents, extraSpaceCents },
    activeUntil: newExpiresOn,
    newExpiresOn,
    addon: order.quantityGb > 0 ? { quantityGb: order.quantityGb, activeUntil: newExpiresOn } : null,
    renewedPeriods,
  });
}
