// Italian fiscal identifiers (R15, "Dati di fatturazione"): the codice fiscale of a person, with its
// structure, omocodia and check character, and the partita IVA with its check digit. Pure checks:
// each returns why a value is wrong, or null when it is right.

const MONTH_LETTERS = 'ABCDEHLMPRST';
/** Omocodia: when two people would share a code, digits are replaced from the right by these letters (0–9). */
const OMOCODIA_LETTERS = 'LMNPQRSTUV';
/** The positions (0-based) of the digits omocodia may replace: year, day, and the comune's number. */
const OMOCODIA_POSITIONS = [6, 7, 9, 10, 12, 13, 14];
/** Values of characters in odd positions (1st, 3rd, … counted from 1) for the check character; digits as A–J. */
const ODD_VALUES = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23];

const letterIndex = (c: string): number => (c >= '0' && c <= '9' ? c.charCodeAt(0) - 48 : c.charCodeAt(0) - 65);

/** The check character of the first 15 characters of a personal codice fiscale. */
export function codiceFiscaleCheckCharacter(first15: string): string {
  let sum = 0;
  for (let i = 0; i < 15; i++) {
    const value = letterIndex(first15[i]!);
    sum += i % 2 === 0 ? ODD_VALUES[value]! : value;
  }
  return String.fromCharCode(65 + (sum % 26));
}

/** Undoes omocodia: the code with its replaced digits back, for the structural checks. */
function withDigitsRestored(code: string): string | null {
  const chars = [...code];
  for (const p of OMOCODIA_POSITIONS) {
    const c = chars[p]!;
    if (c >= '0' && c <= '9') continue;
    const digit = OMOCODIA_LETTERS.indexOf(c);
    if (digit < 0) return null;
    chars[p] = String(digit);
  }
  return chars.join('');
}

/**
 * A person's codice fiscale: 16 characters (surname 3, name 3, year 2, month letter, day 01–31 or
 * 41–71 for women, comune letter + 3 digits, check character), digits possibly replaced by omocodia
 * letters. An 11-digit numeric code (companies, and the temporary codes of people) is checked as a
 * partita IVA when `allowNumeric` is set.
 */
export function codiceFiscaleProblem(value: string, opts: { allowNumeric?: boolean } = {}): string | null {
  const code = value.toUpperCase();
  if (opts.allowNumeric && /^\d{11}$/.test(code)) return partitaIvaProblem(code) ? 'the check digit of this 11-digit code is wrong' : null;
  if (code.length !== 16) return 'must have 16 characters';
  if (!/^[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$/.test(code)) {
    return 'does not have the structure of a codice fiscale (6 letters, year, month letter, day, comune, check letter)';
  }
  const plain = withDigitsRestored(code);
  if (!plain) return 'does not have the structure of a codice fiscale';
  if (!MONTH_LETTERS.includes(plain[8]!)) return 'has a month letter that does not exist';
  const day = Number(plain.slice(9, 11));
  if (!((day >= 1 && day <= 31) || (day >= 41 && day <= 71))) return 'has a day of birth that does not exist';
  if (codiceFiscaleCheckCharacter(code.slice(0, 15)) !== code[15]) return 'the check character is wrong';
  return null;
}

/** The check digit of the first 10 digits of a partita IVA (the Luhn scheme). */
export function partitaIvaCheckDigit(first10: string): number {
  let sum = 0;
  for (let i = 0; i < 10; i++) {
    const digit = first10.charCodeAt(i) - 48;
    if (i % 2 === 0) sum += digit;
    else sum += digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
  }
  return (10 - (sum % 10)) % 10;
}

/** An Italian partita IVA: 11 digits, a registered number (not all zeros), the right check digit. */
export function partitaIvaProblem(value: string): string | null {
  if (!/^\d{11}$/.test(value)) return 'must be 11 digits';
  if (/^0{7}/.test(value)) return 'is not a registered number';
  if (partitaIvaCheckDigit(value.slice(0, 10)) !== value.charCodeAt(10) - 48) return 'the check digit is wrong';
  return null;
}
