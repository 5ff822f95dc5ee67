// What the holder types into the pages' forms, read without surprises: euros into exact cents (no
// floating point, R1), whole GB, and a `next` path that can only lead back into this site.

/** A same-site path to go back to, or '/'. */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || next.length > 500) return '/';
  if (!next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || /[\r\n\t]/.test(next)) return '/';
  return next;
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
