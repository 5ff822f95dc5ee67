// Calendar dates in Europe/Rome (R2). Dates are dates, not instants: Temporal's PlainDate, whose
// month arithmetic clamps to the end of the month (31 Jan + 1 month = 28/29 Feb).
import { Temporal } from 'temporal-polyfill';

export type CalendarDate = Temporal.PlainDate;
export const BUSINESS_TIME_ZONE = 'Europe/Rome';

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Parses a strict YYYY-MM-DD date; null when malformed or not a real day (2026-02-30). */
export function parseDate(text: string): CalendarDate | null {
  const m = ISO_DATE.exec(text);
  if (!m) return null;
  try {
    return Temporal.PlainDate.from(
      { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) },
      { overflow: 'reject' },
    );
  } catch {
    return null;
  }
}

export function date(text: string): CalendarDate {
  const d = parseDate(text);
  if (!d) throw new RangeError(`not a calendar date: ${text}`);
  return d;
}

export const formatDate = (d: CalendarDate): string => d.toString();
export const addDays = (d: CalendarDate, days: number): CalendarDate => d.add({ days });
export const addMonths = (d: CalendarDate, months: number): CalendarDate => d.add({ months });
export const addYears = (d: CalendarDate, years: number): CalendarDate => d.add({ years });
export const compareDates = (a: CalendarDate, b: CalendarDate): number => Temporal.PlainDate.compare(a, b);
export const isBefore = (a: CalendarDate, b: CalendarDate): boolean => compareDates(a, b) < 0;
export const isOnOrAfter = (a: CalendarDate, b: CalendarDate): boolean => compareDates(a, b) >= 0;

/** Signed number of days from `from` to `to`. */
export function daysBetween(from: CalendarDate, to: CalendarDate): number {
  return from.until(to, { largestUnit: 'days' }).days;
}

/** Whole months from `from` to `to`, a started month counting as whole (R4 `remaining_months`). */
export function monthsRoundedUp(from: CalendarDate, to: CalendarDate): number {
  if (!isBefore(from, to)) return 0;
  const span = from.until(to, { largestUnit: 'months' });
  return span.months + span.years * 12 + (span.days > 0 ? 1 : 0);
}

export function dateInRome(epochMs: number): CalendarDate {
  return Temporal.Instant.fromEpochMilliseconds(epochMs).toZonedDateTimeISO(BUSINESS_TIME_ZONE).toPlainDate();
}

/** The instant a Rome calendar day starts (DST nights included). */
export function startOfDayInRome(d: CalendarDate): number {
  return d.toZonedDateTime({ timeZone: BUSINESS_TIME_ZONE }).epochMilliseconds;
}
