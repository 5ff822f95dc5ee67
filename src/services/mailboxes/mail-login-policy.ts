// R12, R14: logins to the mail server (IMAP, SMTP AUTH, submission) are throttled exactly as the
// customer area's are, with the same counters: Dovecot asks Casella before it checks a password
// (auth policy, command=allow) and tells the outcome after (command=report). A guess over IMAP uses
// the address's allowance as a guess on the login page does, and the other way round; a right
// password forgives as a customer-area login does. Dovecot proves itself with a key per database
// role (mail_policy_keys, made by `casella dovecot-config`).
import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '../../db/database.ts';
import { clock } from '../../clock.ts';
import { DomainError } from '../errors.ts';
import { countPasswordAttempt, forgiveAttempt, throttleKeysFor } from '../access/sessions.ts';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('base64url');

/** Dovecot's answer format: -1 refuses the login, 0 lets it go on to the password check. */
export interface PolicyAnswer {
  status: -1 | 0;
  msg?: string;
}

/** What Dovecot sends (auth_policy_request_attributes written by dovecot-config). */
export interface PolicyRequest {
  /** The login name the client gave. */
  login?: string;
  /** The client's IP address as Dovecot saw it. */
  remote?: string;
  /** report only: whether the login succeeded. */
  success?: boolean;
}

/** One line for every service and both languages: Dovecot has one string to give. */
export const MAIL_LOGIN_THROTTLED = 'Troppi tentativi di accesso: riprova più tardi / Too many failed logins: try again later';

/** A new key for the Dovecot connecting as `role`; the role's previous key stops working. */
export async function issueMailPolicyKey(db: Queryable, role: string): Promise<string> {
  const key = randomBytes(32).toString('base64url');
  await db.query(
    `INSERT INTO mail_policy_keys (role, key_hash, created_at) VALUES ($1, $2, $3)
     ON CONFLICT (role) DO UPDATE SET key_hash = EXCLUDED.key_hash, created_at = EXCLUDED.created_at`,
    [role, sha256(key), new Date(clock.wallMs())],
  );
  return key;
}

export async function isMailPolicyKey(db: Queryable, key: string): Promise<boolean> {
  const rows = await db.query('SELECT 1 FROM mail_policy_keys WHERE key_hash = $1', [sha256(key)]);
  return rows.length > 0;
}

/** Not an address or a client Casella could count: the mail server refuses such logins itself. */
const loginOf = (request: PolicyRequest): string | null => {
  const login = (request.login ?? '').trim().toLowerCase();
  return login && login.length <= 254 ? login : null;
};
const clientOf = (request: PolicyRequest): string => (request.remote ?? '').slice(0, 64) || 'unknown';

/** command=allow, before the password is checked: counts the guess, refuses it past the limits. */
export async function allowMailLogin(db: Queryable, request: PolicyRequest): Promise<PolicyAnswer> {
  const login = loginOf(request);
  if (!login) return { status: 0 };
  try {
    await countPasswordAttempt(db, login, clientOf(request), undefined);
  } catch (err) {
    if (err instanceof DomainError && err.code === 'rate_limited') return { status: -1, msg: MAIL_LOGIN_THROTTLED };
    throw err;
  }
  return { status: 0 };
}

/** command=report, after: a right password forgives the guess it was counted as. */
export async function reportMailLogin(db: Queryable, request: PolicyRequest): Promise<void> {
  const login = loginOf(request);
  if (!login || request.success !== true) return;
  await forgiveAttempt(db, throttleKeysFor(login, clientOf(request), null));
}
