// FatturaPA's text fields (String60Latin and the like) admit Basic Latin and Latin-1 Supplement only.
// Decision (DECISIONS.md): text is transliterated where a reader would accept the result (accented
// letters of other alphabets lose their accent, typographic quotes and dashes become plain ones),
// and refused, naming the field, when it cannot be (other scripts): an invoice must name its buyer
// as the buyer wrote it or recognisably so, never with question marks.

const REPLACEMENTS: Record<string, string> = {
  '\u2018': "'", '\u2019': "'", '\u201A': "'", '\u201B': "'", '\u2032': "'",
  '\u201C': '"', '\u201D': '"', '\u201E': '"', '\u2033': '"',
  '\u2010': '-', '\u2011': '-', '\u2012': '-', '\u2013': '-', '\u2014': '-', '\u2212': '-',
  '\u2026': '...', '\u20AC': 'EUR', '\u00A0': ' ', '\u2007': ' ', '\u202F': ' ',
  '\u0152': 'OE', '\u0153': 'oe', '\u0141': 'L', '\u0142': 'l', '\u0110': 'D', '\u0111': 'd', '\u0131': 'i',
  '\u1E9E': 'SS', '\u0126': 'H', '\u0127': 'h', '\u0166': 'T', '\u0167': 't', '\u014A': 'N', '\u014B': 'n',
};

const isLatin1 = (c: string): boolean => {
  const code = c.codePointAt(0)!;
  return (code >= 0x20 && code <= 0x7e) || (code >= 0xa0 && code <= 0xff);
};

/**
 * The text in characters FatturaPA accepts, or null when some character has no acceptable
 * transliteration. Control characters and line breaks become spaces (the fields are normalizedString).
 */
export function toLatin1(text: string): string | null {
  let out = '';
  for (const c of text.normalize('NFC')) {
    if (isLatin1(c)) {
      out += c;
      continue;
    }
    if (/[\u0000-\u001f\u007f-\u009f]/.test(c)) {
      out += ' ';
      continue;
    }
    const replaced = REPLACEMENTS[c];
    if (replaced !== undefined) {
      out += replaced;
      continue;
    }
    // A letter with a diacritic Latin-1 lacks (ă, ş, ž, ő…): its base letter.
    const base = c.normalize('NFD').replace(/\p{M}+/gu, '');
    if (base && [...base].every(isLatin1)) {
      out += base;
      continue;
    }
    return null;
  }
  return out;
}
