// R4: the price of extra inbox space bought on day T for a mailbox expiring on E.
import { addMonths, isBefore, monthsRoundedUp, type CalendarDate } from './calendar.ts';
import type { Catalogue } from './catalogue.ts';
import { cents, divideHalfUp, timesQuantity, type Cents } from './money.ts';
import { activeExtraGb, extraSpacePeriodEnd, type MailboxFacts } from './mailbox.ts';
import { fail, ok, type Result } from './result.ts';

export type ExtraSpaceRule = 'full_year' | 'free_until_expiry' | 'remaining_months';

export interface ExtraSpaceQuote {
  quantityGb: number;
  unitPriceCents: Cents;
  rule: ExtraSpaceRule;
  amountCents: Cents;
  activeFrom: CalendarDate;
  activeUntil: CalendarDate;
  renewalOn: CalendarDate;
  /** What the whole add-on (existing GB plus these) costs to renew at E. */
  renewalAmountCents: Cents;
  /** The GB that renewal covers: those the mailbox already has plus these. */
  renewalGb: number;
}

export type QuoteRefusal =
  | { code: 'invalid_quantity' }
  | { code: 'mailbox_not_active' }
  /** The add-on's own period ends today or earlier: the daily job renews or ends it first (R7.5). */
  | { code: 'extra_space_due' }
  | { code: 'limit_exceeded'; maxGb: number; currentGb: number };

export function isWholeQuantity(q: unknown): q is number {
  return typeof q === 'number' && Number.isSafeInteger(q) && q >= 1;
}

/** R4, the three-month rule: T + 3 months strictly before E → charged; otherwise free until E. */
export function extraSpaceRule(today: CalendarDate, expiresOn: CalendarDate, c: Catalogue): ExtraSpaceRule {
  if (!isBefore(addMonths(today, 3), expiresOn)) return 'free_until_expiry';
  return c.extraSpace.pricing;
}

export function quoteExtraSpace(
  mailbox: Pick<MailboxFacts, 'status' | 'expiresOn' | 'addon'>,
  quantityGb: number,
  today: CalendarDate,
  c: Catalogue,
): Result<ExtraSpaceQuote, QuoteRefusal> {
  if (!isWholeQuantity(quantityGb)) return fail({ code: 'invalid_quantity' });
  // T < E is required: on E itself the mailbox is due for renewal, not for add-ons.
  if (mailbox.status !== 'active' || !isBefore(today, mailbox.expiresOn)) return fail({ code: 'mailbox_not_active' });
  // New GB join the add-on and end with it (one end for all its GB); R4 prices them on that end.
  const periodEnd = extraSpacePeriodEnd(mailbox);
  if (!isBefore(today, periodEnd)) return fail({ code: 'extra_space_due' });
  const currentGb = activeExtraGb(mailbox);
  if (currentGb + quantityGb > c.extraSpace.maxGbPerMailbox) {
    return fail({ code: 'limit_exceeded', maxGb: c.extraSpace.maxGbPerMailbox, currentGb });
  }
  const unit = c.extraSpace.pricePerGbYearCents;
  const yearly = timesQuantity(unit, quantityGb);
  const rule = extraSpaceRule(today, periodEnd, c);
  const amount =
    rule === 'full_year'
      ? yearly
      : rule === 'free_until_expiry'
        ? cents(0)
        : cents(divideHalfUp(yearly * monthsRoundedUp(today, periodEnd), 12));
  return ok({
    quantityGb,
    unitPriceCents: unit,
    rule,
    amountCents: amount,
    activeFrom: today,
    activeUntil: periodEnd,
    renewalOn: periodEnd,
    renewalAmountCents: timesQuantity(unit, currentGb + quantityGb),
    renewalGb: currentGb + quantityGb,
  });
}
