// R19: what a staff search can be, read from the text alone. Each kind of match is one lookup on one
// index; on a book of a million holders the lookups that cannot match are what made a search slow
// (a codice fiscale looked up as a piece of a name walks the name index for nothing), so the search
// runs only those the text can satisfy. Pure: the service turns the plan into SQL.
//
// A name matches when every word typed is somewhere in it, in any order ("rossi maria" finds Maria
// Rossi), accents and case ignored. The trigram index is asked only for runs of letters and digits:
// "F.lli Rossi" asks it for "lli" and "rossi", and "F.lli" is checked on the rows it gives, because
// trigrams do not cross punctuation and the index would otherwise hand over every name with "f" and
// "lli" apart as a match of "f.lli", to be read and refused.

/** An address's characters (RFC 5322 atext, dots and @), as stored: lower case ASCII. */
const ADDRESS_CHARACTERS = /^[a-z0-9!#$%&'*+\-/=?^_`{|}~.@]+$/;
const EMAIL = /^[^\s@]+@[^\s@]+$/;
/** 2026/42, 2026/000042 or 2026-42: an invoice's (or credit note's) year and number. */
const INVOICE = /^(\d{4})\s*[/-]\s*0*(\d{1,9})$/;
/** A person's codice fiscale (omocodia letters allowed in the digits' places) or a company's (11 digits). */
const TAX_CODE = /^(?:[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]|\d{11})$/;
/** A VAT number as people type it: 8 to 30 letters and digits, two digits at least (every EU format has 8 characters or more). */
const VAT_NUMBER = /^(?=(?:[A-Z]*\d){2})[A-Z0-9]{8,30}$/;
/** The pieces of a word the trigram index can look up: runs of three letters or digits or more. */
const pieces = (word: string): string[] => word.split(/[^\p{L}\p{N}]+/u).filter((piece) => [...piece].length >= 3);

/** A name's pieces looked up through the trigram index, at most this many (the longest). */
export const NAME_INDEXED_PIECES_MAX = 4;

export interface NameSearch {
  /** LIKE patterns ('%piece%', wildcards escaped) the trigram index serves, folded by the database as the index is. */
  indexedPatterns: string[];
  /**
   * Words as typed that the patterns do not already require whole: a word with a dot or an
   * apostrophe in it, one too short for the index, or past the first few. Each must be in the name
   * too, checked on the rows the index gives.
   */
  checkedWords: string[];
}

export interface SearchPlan {
  /** The text as typed, trimmed: names are ranked by their similarity to it. */
  text: string;
  /** A whole address or reference e-mail, lower case. */
  email: string | null;
  /** An address's beginning: every address from `from` (included) to `below` (excluded), byte order. */
  addressPrefix: { from: string; below: string } | null;
  /** A codice fiscale, upper case, spaces removed. */
  taxCode: string | null;
  /** The VAT number as typed and without its country prefix (stored without it). */
  vatNumbers: string[];
  invoice: { year: number; sequence: number } | null;
  /** Parts of a name: every word somewhere in the holder's or the company's name, accents and case ignored. */
  name: NameSearch | null;
}

/** LIKE's wildcards typed by the caller match themselves. */
export const likeEscaped = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** The string just past every string that begins with `prefix`, in byte order (prefix is ASCII). */
function pastPrefix(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/** What to look up for a search text (already trimmed, 1 to 200 characters). */
export function planSearch(text: string): SearchPlan {
  const lower = text.toLowerCase();
  const compact = text.toUpperCase().replace(/\s+/g, '');
  const invoiceMatch = INVOICE.exec(text);
  const invoice = invoiceMatch ? { year: Number(invoiceMatch[1]), sequence: Number(invoiceMatch[2]) } : null;
  const taxCode = TAX_CODE.test(compact) ? compact : null;
  const vat = VAT_NUMBER.test(compact);
  const vatNumbers = vat ? [...new Set([compact, compact.replace(/^[A-Z]{2}(?=[A-Z]*\d)/, '')])].filter((v) => v.length >= 2) : [];
  const email = EMAIL.test(lower) ? lower : null;
  const addressPrefix = ADDRESS_CHARACTERS.test(lower) ? { from: lower, below: pastPrefix(lower) } : null;

  // A name has letters; an identifier's shape (a codice fiscale, a VAT number with its country, an
  // invoice number, digits alone) is not looked for among names, nor one word with a dot or an @ and
  // only an address's characters (mario.ros, info@): that is an address, and as a name it would only
  // find the rows holding its pieces ("mario", "ros") to refuse each for the dot.
  const looksLikeIdentifier = taxCode !== null || invoice !== null || (vat && /^[A-Z]{2,3}\d/.test(compact)) || !/\p{L}/u.test(text);
  const looksLikeAddress = addressPrefix !== null && /[.@]/.test(lower);
  let name: NameSearch | null = null;
  if (!text.includes('@') && !looksLikeIdentifier && !looksLikeAddress) {
    const words = [...new Set(text.split(/\s+/).filter(Boolean))];
    const indexed = [...new Set(words.flatMap(pieces))].sort((a, b) => b.length - a.length).slice(0, NAME_INDEXED_PIECES_MAX);
    if (indexed.length) {
      name = {
        indexedPatterns: indexed.map((piece) => `%${likeEscaped(piece)}%`),
        checkedWords: words.filter((word) => !indexed.includes(word)),
      };
    }
  }
  return { text, email, addressPrefix, taxCode, vatNumbers, invoice, name };
}
