// Italian formats for money and dates (e-mails and pages), with English beside them.
import type { CalendarDate } from '../domain/calendar.ts';
import { formatEuro, type Cents } from '../domain/money.ts';

export type Locale = 'it' | 'en';
export const LOCALES: readonly Locale[] = ['it', 'en'];
export const isLocale = (v: unknown): v is Locale => v === 'it' || v === 'en';

const ACCEPT_LANGUAGE_CHARS_MAX = 500;
/**
 * The language a browser asks for first among those Casella speaks (RFC 9110 Accept-Language:
 * "en-GB,en;q=0.9,it;q=0.5" → en), or null when it names none of them.
 */
export function localeFromAcceptLanguage(header: string | undefined): Locale | null {
  if (!header) return null;
  let best: { locale: Locale; q: number } | null = null;
  for (const part of header.slice(0, ACCEPT_LANGUAGE_CHARS_MAX).split(',')) {
    const [tag, ...params] = part.trim().split(';');
    const primary = tag!.trim().toLowerCase().split('-')[0];
    if (!isLocale(primary)) continue;
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!Number.isFinite(q) || q <= 0) continue;
    if (!best || q > best.q) best = { locale: primary, q };
  }
  return best?.locale ?? null;
}

const MONTHS: Record<Locale, readonly string[]> = {
  it: ['gennaio', 'febbraio', 'marzo', 'aprile', 'maggio', 'giugno', 'luglio', 'agosto', 'settembre', 'ottobre', 'novembre', 'dicembre'],
  en: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'],
};

/** 2027-11-20 → "20 novembre 2027" / "20 November 2027"; the first of a month is "1° dicembre" in Italian (primo). */
export const longDate = (d: CalendarDate, locale: Locale): string =>
  `${d.day}${locale === 'it' && d.day === 1 ? '°' : ''} ${MONTHS[locale][d.month - 1]} ${d.year}`;

/** 1700 → "17,00 €" / "€17.00". */
export const money = (c: Cents | number, locale: Locale): string => formatEuro(c as Cents, locale);
