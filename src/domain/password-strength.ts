// The strength rule for a password a holder chooses for their mailbox (issue 13, docs/RULES.md):
// what PEC providers ask, kept to what a mail client can always send. The password opens IMAP and
// submission as well as the customer area, so it is made of printable ASCII only: IMAP LOGIN and
// SASL PLAIN carry other characters in whatever encoding the client picks, and the mailbox would
// open in one program and not in another.

export const PASSWORD_LENGTH_MIN = 10;
export const PASSWORD_LENGTH_MAX = 128;
/** A local part this short ("ab@…") is left out of the "contains the address" check: it would refuse too much. */
const LOCAL_PART_CHECKED_MIN = 4;

export type PasswordWeakness =
  | 'too_short'
  | 'too_long'
  | 'not_printable_ascii'
  | 'one_kind_of_character'
  | 'contains_address'
  | 'same_as_current';

/** The four kinds of character; a password needs at least two of them. */
const KINDS = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^a-zA-Z0-9]/] as const;

/**
 * Why `password` is too weak for the mailbox `address` whose password is `currentPassword` now, or
 * null. One reason, the first in this order: length, characters, variety, the address, the current
 * password.
 */
export function passwordWeakness(password: string, address: string, currentPassword: string): PasswordWeakness | null {
  if (password.length < PASSWORD_LENGTH_MIN) return 'too_short';
  if (password.length > PASSWORD_LENGTH_MAX) return 'too_long';
  if (!/^[\x20-\x7e]+$/.test(password)) return 'not_printable_ascii';
  if (KINDS.filter((k) => k.test(password)).length < 2) return 'one_kind_of_character';
  const lower = password.toLowerCase();
  const whole = address.toLowerCase();
  const localPart = whole.split('@')[0] ?? '';
  if (lower.includes(whole) || (localPart.length >= LOCAL_PART_CHECKED_MIN && lower.includes(localPart))) return 'contains_address';
  if (password === currentPassword) return 'same_as_current';
  return null;
}

/** The English sentence the API gives for each weakness (the pages have their own, in both languages). */
export const WEAKNESS_MESSAGE: Record<PasswordWeakness, string> = {
  too_short: `must be at least ${PASSWORD_LENGTH_MIN} characters`,
  too_long: `must be at most ${PASSWORD_LENGTH_MAX} characters`,
  not_printable_ascii: 'may contain only letters without accents, digits, spaces and the symbols of an English keyboard',
  one_kind_of_character: 'must mix at least two of: lower-case letters, upper-case letters, digits, symbols',
  contains_address: 'must not contain the mailbox address',
  same_as_current: 'must differ from the current password',
};
