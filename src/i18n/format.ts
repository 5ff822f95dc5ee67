// Italian formats for money and dates (e-mails and pages), with English beside them.
import type { CalendarDate } from '../domain/calendar.ts';
import { formatEuro, type Cents } from '../domain/money.ts';

export type Locale = 'it' | 'en';
export const LOCALES: readonly Locale[] = ['it', 'en'];
export const isLocale = (v: unknown): v is Locale => v === 'it' || v === 'en';

const MONTHS: Record<Locale, readonly string[]> = {
  it: ['gennaio', 'febbraio', 'marzo', 'aprile', 'maggio', 'giugno', 'luglio', 'agosto', 'settembre', 'ottobre', 'novembre', 'dicembre'],
  en: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'],
};

/** 2027-11-20 → "20 novembre 2027" / "20 November 2027". */
export const longDate = (d: CalendarDate, locale: Locale): string => `${d.day} ${MONTHS[locale][d.month - 1]} ${d.year}`;

/** 1700 → "17,00 €" / "€17.00". */
export const money = (c: Cents | number, locale: Locale): string => formatEuro(c as Cents, locale);
