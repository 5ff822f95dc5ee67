// What the holder types into the pages' forms, read without surprises: euros into exact cents (no
// floating point, R1), whole GB, and a `next` path that can only lead back into this site.

const THIS_SITE = 'http://casella.invalid';
/**
 * The path as a Location header can carry it (a header holds only ASCII: `€` would fail and `é` go
 * out as a raw byte), percent-encoded by the URL parser, or null if the parser reads it as leaving
 * this site. The result is checked again: resolving `/.//evil.com` gives `//evil.com`.
 */
function sameSitePath(next: string): string | null {
  let url: URL;
  try {
    url = new URL(next, THIS_SITE);
  } catch {
    return null;
  }
  const path = url.pathname + url.search + url.hash;
  if (url.origin !== THIS_SITE || path.startsWith('//') || path.startsWith('/\\') || !/^[\x21-\x7e]*$/.test(path)) return null;
  return path;
}

/** A same-site path to go back to, or '/'. */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || next.length > 500) return '/';
  if (!next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || /[\r\n\t]/.test(next)) return '/';
  return sameSitePath(next) ?? '/';
}

/**
 * The page's own way of writing euros, per language: thousands in groups of three with the decimal
 * part after the decimal separator, or plain digits with one or two decimals after either separator.
 */
const EUROS = {
  it: { thousands: '.', grouped: /^([1-9]\d{0,2}(?:\.\d{3})+)(?:,(\d{1,2}))?$/, plain: /^(\d+)(?:[,.](\d{1,2}))?$/ },
  en: { thousands: ',', grouped: /^([1-9]\d{0,2}(?:,\d{3})+)(?:\.(\d{1,2}))?$/, plain: /^(\d+)(?:[.,](\d{1,2}))?$/ },
} as const;
const EUROS_DIGITS_MAX = 7;

/**
 * What the holder typed as euros → cents, read the way the page writes amounts in its language, or
 * null. Italian: "1.000,00", "1.000", "25", "25,5", "25,50"; English: "1,000.00", "25.50". The
 * other language's decimal separator is accepted only where it cannot mean anything else (one or
 * two digits after it, no other separator: "25.50" on the Italian page). Whatever could be read two
 * ways ("1,000" on the Italian page: one euro or a thousand?) or is malformed ("1.00.0", "25,505",
 * "1,000.00" on the Italian page) is refused, never guessed. No floating point (R1).
 */
export function parseEuros(s: string, locale: 'it' | 'en' = 'it'): number | null {
  const { thousands, grouped, plain } = EUROS[locale];
  const t = s.replace(/^[ \t]*(?:€[ \t]*)?|(?:[ \t]*€)?[ \t]*$/g, '');
  const m = grouped.exec(t) ?? plain.exec(t);
  if (!m) return null;
  const whole = m[1]!.split(thousands).join('');
  if (whole.length > EUROS_DIGITS_MAX) return null;
  return Number(whole) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

/** A whole number of GB, written with ASCII digits only: "2,5", "2.5", "1e1", "+3" are refused, not read as 25, 2, 10 or 3. */
export function parseQuantity(s: string): number | null {
  const m = /^[ \t]*(\d{1,6})[ \t]*$/.exec(s);
  if (!m) return null;
  const n = Number(m[1]);
  return n >= 1 ? n : null;
}
