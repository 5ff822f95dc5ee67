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

/** "25", "25,5", "25.50" → cents, without floating point; null if malformed. */
export function parseEuros(s: string): number | null {
  const m = /^\s*(\d{1,7})(?:[.,](\d{1,2}))?\s*(?:€)?\s*$/.exec(s);
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

export function parseQuantity(s: string): number | null {
  const m = /^\s*(\d{1,6})\s*$/.exec(s);
  if (!m) return null;
  const n = Number(m[1]);
  return n >= 1 ? n : null;
}
