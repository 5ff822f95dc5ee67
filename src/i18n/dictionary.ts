// The one way Casella writes text for people: a dictionary per medium (pages, e-mails, the ledger's
// descriptions, the courtesy PDF), Italian first, English typed to have every Italian key, with
// {name} placeholders filled from values already formatted for the language (money, dates in words).
import type { Locale } from './format.ts';

export type Texts = Record<string, string>;

// A template split once into its text and its placeholders' names (text, name, text, …, text): the
// daily job fills the same few templates for every renewal, a replace with a callback each time.
const compiled = new Map<string, readonly string[]>();
const COMPILED_MAX = 2048;

function partsOf(template: string): readonly string[] {
  let parts = compiled.get(template);
  if (!parts) {
    parts = template.split(/\{(\w+)\}/);
    if (compiled.size >= COMPILED_MAX) compiled.clear();
    compiled.set(template, parts);
  }
  return parts;
}

export function fill(template: string, vars: Record<string, string | number>): string {
  const parts = partsOf(template);
  let out = parts[0]!;
  for (let i = 1; i < parts.length; i += 2) {
    const k = parts[i]!;
    out += (k in vars ? String(vars[k]) : `{${k}}`) + parts[i + 1]!;
  }
  return out;
}

// Italian elides the article before a number read with a vowel: otto, ottanta, ottocento… and
// undici ("l'8 dicembre", "dall'11", "l'80%"), and uno in a percentage ("l'1%"). A day 1 is
// written "1°" (primo), which takes "il". Filled templates only meet numbers at run time, so the
// article is fixed after filling.
const ELIDED: Record<string, string> = { il: "l'", al: "all'", dal: "dall'", del: "dell'", nel: "nell'", sul: "sull'" };
const ARTICLE_BEFORE_VOWEL_NUMBER = /\b(il|al|dal|del|nel|sul|Il|Al|Dal|Del|Nel|Sul) (?=8|11(?!\d)|1(?:,\d+)? ?%)/g;
export const elideItalian = (text: string): string =>
  // Most texts have no space before an 8 or a 1 at all: the alternation is not run over them.
  !text.includes(' 8') && !text.includes(' 1') ? text : text.replace(ARTICLE_BEFORE_VOWEL_NUMBER, (_m, article: string) => {
    const elided = ELIDED[article.toLowerCase()]!;
    return article[0] === article[0]!.toUpperCase() ? elided[0]!.toUpperCase() + elided.slice(1) : elided;
  });

/** A template filled for a language: Italian gets its elisions before numbers. */
export const fillIn = (locale: Locale, template: string, vars: Record<string, string | number>): string =>
  locale === 'it' ? elideItalian(fill(template, vars)) : fill(template, vars);

/** A dictionary's lookup: `say(locale, key, vars)`. The English object must have the Italian's keys. */
export function dictionary<T extends Texts>(it: T, en: { [K in keyof T]: string }) {
  const texts: Record<Locale, { [K in keyof T]: string }> = { it, en };
  return (locale: Locale, key: keyof T & string, vars: Record<string, string | number> = {}): string => fillIn(locale, texts[locale][key], vars);
}
