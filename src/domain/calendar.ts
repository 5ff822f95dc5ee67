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

/**
 * The years a date or a month given from outside (a query, a command's argument) may name. PostgreSQL
 * has no year 0 and neither engine reads year 10000 (where a month of 9999-12 ends), and a register,
 * a forecast or an invoice list outside these years is a typo: such input is answered 422 naming
 * the field, never sent to the database (issue 19).
 */
export const INPUT_YEAR_MIN = 2000;
export const INPUT_YEAR_MAX = 2999;
export const INPUT_DATE_RULE = `must be a date YYYY-MM-DD between ${INPUT_YEAR_MIN}-01-01 and ${INPUT_YEAR_MAX}-12-31`;
export const INPUT_MONTH_RULE = `must be a month YYYY-MM between ${INPUT_YEAR_MIN}-01 and ${INPUT_YEAR_MAX}-12`;

/** A strict YYYY-MM-DD date within INPUT_YEAR_MIN..INPUT_YEAR_MAX; null otherwise. */
export function parseInputDate(text: string): CalendarDate | null {
  const d = parseDate(text);
  return d && d.year >= INPUT_YEAR_MIN && d.year <= INPUT_YEAR_MAX ? d : null;
}

// The daily job reads the same few dates from every row of a batch (what falls due today, a year on):
// a PlainDate is immutable, so one parsed date serves every row that carries its text.
const parsed = new Map<string, CalendarDate>();
const PARSED_MAX = 4096;

export function date(text: string): CalendarDate {
  const known = parsed.get(text);
  if (known) return known;
  const d = parseDate(text);
  if (!d) throw new RangeError(`not a calendar date: ${text}`);
  if (parsed.size >= PARSED_MAX) parsed.clear();
  parsed.set(text, d);
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
