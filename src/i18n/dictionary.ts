// The one way Casella writes text for people: a dictionary per medium (pages, e-mails, the ledger's
// descriptions, the courtesy PDF), Italian first, English typed to have every Italian key, with
// {name} placeholders filled from values already formatted for the language (money, dates in words).
import type { Locale } from './format.ts';

export type Texts = Record<string, string>;

export const fill = (template: string, vars: Record<string, string | number>): string =>
  template.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m));

/** A dictionary's lookup: `say(locale, key, vars)`. The English object must have the Italian's keys. */
export function dictionary<T extends Texts>(it: T, en: { [K in keyof T]: string }) {
  const texts: Record<Locale, { [K in keyof T]: string }> = { it, en };
  return (locale: Locale, key: keyof T & string, vars: Record<string, string | number> = {}): string => fill(texts[locale][key], vars);
}
