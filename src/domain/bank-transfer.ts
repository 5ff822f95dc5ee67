// R17 "Bank transfer": a top-up the holder pays by bonifico. Pure: the provider's account
// (CASELLA_CONFIG `bankTransfer`), the causale's reference a person types at their bank, and
// the ten days it waits.
import { compareDates, type CalendarDate } from './calendar.ts';
import { toLatin1 } from './latin1.ts';

/** The account transfers are paid to, shown on the top-up's page. */
export interface BankAccount {
  iban: string;
  beneficiary: string;
}

/** Outside production, with no `bankTransfer` configured: the Bank of Italy's published sample IBAN, plainly not real. */
export const DEMO_BANK_ACCOUNT: BankAccount = Object.freeze({ iban: 'IT60X0542811101000000123456', beneficiary: 'Casella Demo S.r.l. (dati di prova)' });

/** R17: an unpaid transfer top-up expires after 10 days. */
export const BANK_TRANSFER_DAYS = 10;

/** The last day a transfer top-up made on `createdOn` waits: it expires the day after. */
export const bankTransferExpiresOn = (createdOn: CalendarDate): CalendarDate => createdOn.add({ days: BANK_TRANSFER_DAYS });
export const bankTransferExpired = (expiresOn: CalendarDate, today: CalendarDate): boolean => compareDates(today, expiresOn) > 0;

/** IBAN: country, two check digits, then up to 30 letters or digits; ISO 13616 mod-97 must give 1. */
export function ibanProblem(raw: string): string | null {
  const iban = raw.replace(/\s/g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(iban)) return 'is not an IBAN (country, check digits, account)';
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const ch of rearranged) {
    const value = ch >= 'A' ? String(ch.charCodeAt(0) - 55) : ch;
    for (const digit of value) remainder = (remainder * 10 + (digit.charCodeAt(0) - 48)) % 97;
  }
  return remainder === 1 ? null : 'has wrong check digits';
}

/** What is wrong in a configured account, each named by its key; empty when it is usable. */
export function bankAccountProblems(raw: unknown): string[] {
  const o = (raw && typeof raw === 'object' && !Array.isArray(raw) ? raw : null) as Record<string, unknown> | null;
  if (!o) return ['bankTransfer must be an object with iban and beneficiary'];
  const problems: string[] = [];
  for (const key of Object.keys(o)) if (key !== 'iban' && key !== 'beneficiary') problems.push(`bankTransfer.${key} is not a known key`);
  if (typeof o.iban !== 'string') problems.push('bankTransfer.iban is missing');
  else {
    const p = ibanProblem(o.iban);
    if (p) problems.push(`bankTransfer.iban ${p}`);
  }
  if (typeof o.beneficiary !== 'string' || o.beneficiary.trim() === '') problems.push('bankTransfer.beneficiary is missing');
  else if (toLatin1(o.beneficiary) === null || o.beneficiary.length > 140) problems.push('bankTransfer.beneficiary must be at most 140 Latin characters');
  return problems;
}

export const normalisedBankAccount = (a: BankAccount): BankAccount => ({ iban: a.iban.replace(/\s/g, '').toUpperCase(), beneficiary: a.beneficiary.trim() });

/**
 * The causale's reference: "CAS" and 8 characters a person reads and types without doubt (no 0/O,
 * 1/I/L, 2/Z, 5/S, B/8), the last a check character, so a mistyped reference is found to be
 * unknown rather than matching another top-up. About 10^10 references.
 */
export const REFERENCE_ALPHABET = 'ACDEFGHJKMNPQRTUVWXY346789';
const REFERENCE_PREFIX = 'CAS';
const REFERENCE_BODY_LENGTH = 7;

function checkCharacter(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum += (i + 1) * REFERENCE_ALPHABET.indexOf(body[i]!);
  return REFERENCE_ALPHABET[sum % REFERENCE_ALPHABET.length]!;
}

/** A new reference from random bytes (at least 7 of them). */
export function bankReference(randomBytes: Uint8Array): string {
  if (randomBytes.length < REFERENCE_BODY_LENGTH) throw new RangeError('a reference needs 7 random bytes');
  let body = '';
  for (let i = 0; i < REFERENCE_BODY_LENGTH; i++) body += REFERENCE_ALPHABET[randomBytes[i]! % REFERENCE_ALPHABET.length];
  return `${REFERENCE_PREFIX}${body}${checkCharacter(body)}`;
}

/** As printed: CAS-XXXX-XXXX. */
export const formatBankReference = (reference: string): string => `${reference.slice(0, 3)}-${reference.slice(3, 7)}-${reference.slice(7)}`;

/** What an operator or a bank statement gives back (spaces, dashes, lower case) as stored, or null if it cannot be one. */
export function normaliseBankReference(input: string): string | null {
  const value = input.toUpperCase().replace(/[\s\-.]/g, '');
  const m = /^CAS([A-Z0-9]{7})([A-Z0-9])$/.exec(value);
  if (!m) return null;
  const body = m[1]!;
  if ([...body].some((c) => !REFERENCE_ALPHABET.includes(c))) return null;
  return checkCharacter(body) === m[2] ? value : null;
}

/** The causale the holder writes: the reference first, so a bank's truncated field keeps it. */
export const bankCausale = (reference: string): string => `${formatBankReference(reference)} ricarica credito PEC`;
