// E-mail addresses as Casella stores them: a mailbox's address and a customer's reference e-mail.
// Only plain ASCII is accepted: a dot-atom local part (RFC 5322, no quoted strings, no comments) and a
// domain of LDH labels. Anything else can be made to look like another address (U+202E, zero-width
// spaces, fullwidth letters) or read as a path (`a@b.c/../x`). An international domain is given in
// its xn-- form; the refusal names that form, so the operator need not compute it.
import { domainToASCII, domainToUnicode } from 'node:url';
import { fail, ok, type Result } from './result.ts';

const ADDRESS_LENGTH_MAX = 254;
const LOCAL_PART_LENGTH_MAX = 64;
/** atext of RFC 5322 §3.2.3, dot-separated, no leading, trailing or double dot. */
const DOT_ATOM = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+(\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+)*$/;
/** A letter-digit-hyphen label of 1 to 63 characters, not starting or ending with a hyphen. */
const LDH_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const PRINTABLE_ASCII = /^[\x21-\x7e]*$/;

/** The address in the form to store (lower case), or why it is not one. */
export function normaliseAddress(raw: string): Result<string, string> {
  const address = raw.trim();
  if (!PRINTABLE_ASCII.test(address)) return fail(nonAsciiProblem(address));
  if (address.length > ADDRESS_LENGTH_MAX) return fail(`must be at most ${ADDRESS_LENGTH_MAX} characters`);
  const at = address.lastIndexOf('@');
  if (at < 0) return fail('must be an address like nome@example.it');
  const local = address.slice(0, at);
  const domain = address.slice(at + 1).toLowerCase();
  if (!local || local.length > LOCAL_PART_LENGTH_MAX || !DOT_ATOM.test(local)) {
    return fail('the part before @ must be letters, digits or !#$%&\'*+-/=?^_`{|}~, with single dots between them');
  }
  const problem = domainProblem(domain);
  if (problem) return fail(problem);
  return ok(`${local.toLowerCase()}@${domain}`);
}

/**
 * R14: the local part of a PEC mailbox's address, as the mail server serves it. Dovecot accepts in a
 * login name only letters, digits and `. - _` (its default auth_username_chars, and the address is
 * the login name), so an address with `' + = #` or any other atext would be sold and never open.
 */
const MAILBOX_LOCAL_PART = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/;

/**
 * A mailbox's address in the form to store, or why it is not one: an address (normaliseAddress)
 * whose part before @ the mail platform serves. Reference e-mails are any address (normaliseAddress).
 */
export function normaliseMailboxAddress(raw: string): Result<string, string> {
  const address = normaliseAddress(raw);
  if (!address.ok) return address;
  const local = address.value.slice(0, address.value.lastIndexOf('@'));
  if (!MAILBOX_LOCAL_PART.test(local)) {
    return fail('the part before @ of a PEC mailbox must be letters, digits, hyphens or underscores, with single dots between them (the mail server serves no other characters)');
  }
  return address;
}

function domainProblem(domain: string): string | null {
  const labels = domain.split('.');
  if (labels.length < 2) return 'the domain must have at least two parts, like example.it';
  if (!labels.every((l) => LDH_LABEL.test(l))) {
    return 'the domain must be parts of letters, digits and hyphens (1 to 63 characters, no hyphen at either end) separated by single dots';
  }
  // An all-digit top-level label would make the domain an IP address in disguise.
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) return 'the domain must end with a name, not a number';
  return null;
}

/** Why a non-ASCII address is refused, with its xn-- form when it is a plain international domain. */
function nonAsciiProblem(address: string): string {
  const at = address.lastIndexOf('@');
  const local = address.slice(0, Math.max(at, 0));
  const domain = address.slice(at + 1);
  const ascii = domainToASCII(domain);
  // Only when the conversion gives every character back: IDNA silently drops or folds look-alikes
  // (zero-width spaces, fullwidth letters), which must never pass for the letters they resemble.
  const plainInternational = at > 0 && PRINTABLE_ASCII.test(local) && ascii !== '' && domainToUnicode(ascii) === domain.toLowerCase();
  return plainInternational
    ? `must be plain ASCII: write the domain as ${ascii}`
    : 'must be plain ASCII letters, digits and punctuation (no spaces, invisible or look-alike characters)';
}
