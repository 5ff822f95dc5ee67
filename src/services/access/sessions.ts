// R12: holders log in with a PEC address and that mailbox's password; sessions live in the database
// (only a hash of the cookie value is stored), expire after 30 idle minutes or at the end of their
// lifetime however busy, end when a password of the holder changes, and carry a CSRF token. Login
// attempts are throttled per address and per client, or per device cookie for a browser that logged
// in to the address before.
import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '../../db/database.ts';
import { clock } from '../../clock.ts';
import type { ServiceContext } from '../context.ts';
import { DomainError } from '../errors.ts';
import { UNUSABLE_HASH, upgradeLegacyHashIfNeeded, verifyPassword } from './passwords.ts';
import { readCustomer, type CustomerRow } from '../rows.ts';
import { countAttempt, forgetAttempts, uncountAttempt, THROTTLE_WINDOW_MS, type ThrottleKey } from './throttle.ts';
import { issueDeviceCookie, trustedDevice } from './device-cookies.ts';
import { checkSecondStep, closeChallenge, openChallenge, takeChallengeTry } from './two-step.ts';
import { loginFailuresTotal } from '../../metrics.ts';

export const SESSION_IDLE_MS = 30 * 60_000;
export const SESSION_LIFETIME_MS_DEFAULT = 12 * 3600_000;
/** Session rows are touched at most once a minute, so reads stay reads. */
const SESSION_TOUCH_MS = 60_000;

export const THROTTLE = {
  windowMs: THROTTLE_WINDOW_MS,
  /** Attempts allowed per address within the window to clients without its device cookie. */
  perAddressMax: 5,
  /** Attempts allowed per client (IP) within the window, across addresses. */
  perClientMax: 20,
  /** Attempts allowed per device cookie within the window: its own allowance. */
  perDeviceMax: 5,
  /**
   * Issue 19: attempts allowed within the window to all the device cookies of one address together
   * (four devices' worth), so cookies harvested by someone who once had the password do not multiply
   * the guesses; the owner's own browsers rarely fail that often.
   */
  perAddressDevicesMax: 20,
} as const;

const sha256 = (s: string): string => createHash('sha256').update(s).digest('base64url');

export interface OpenedSession {
  /** The cookie value; only its hash is stored. */
  token: string;
  csrfToken: string;
  customer: CustomerRow;
  /** A new device cookie for this browser and address (it replaces the one sent). */
  deviceCookie: string;
}

export interface SessionInfo {
  customerId: string;
  /** The mailbox whose address and password opened the session. */
  mailboxId: string;
  csrfToken: string;
}

const rateLimited = (seconds: number) =>
  new DomainError('rate_limited', 'Too many failed logins: try again later', undefined, seconds);

/**
 * Whose allowance an attempt uses: the device cookie's own when the browser logged in to this
 * address before, else the address's and the client's. Address before client: see countAttempt.
 */
export function throttleKeysFor(address: string, clientKey: string, deviceNonce: string | null): ThrottleKey[] {
  if (deviceNonce) {
    return [
      { key: `devices:${address}`, attemptsMax: THROTTLE.perAddressDevicesMax },
      { key: `device:${deviceNonce}`, attemptsMax: THROTTLE.perDeviceMax },
    ];
  }
  return [
    { key: `address:${address}`, attemptsMax: THROTTLE.perAddressMax },
    { key: `client:${clientKey}`, attemptsMax: THROTTLE.perClientMax },
  ];
}

/**
 * Counts one guess of `address`'s password, as a login from this client and browser would, before
 * the password is checked; throws rate_limited when the allowance is used up. Answers the keys, to
 * forgive the attempt if the password turns out right.
 */
export async function countPasswordAttempt(db: Queryable, address: string, clientKey: string, deviceCookie: string | undefined): Promise<ThrottleKey[]> {
  const normalised = address.trim().toLowerCase();
  const nowMs = clock.wallMs();
  const keys = throttleKeysFor(normalised, clientKey, await trustedDevice(db, normalised, deviceCookie, nowMs));
  const waitSeconds = await countAttempt(db, keys, nowMs);
  if (waitSeconds > 0) throw rateLimited(waitSeconds);
  return keys;
}

/** After a right password: the address (or device) starts afresh, and the client (or the address's devices together) is not charged for it. */
export async function forgiveAttempt(db: Queryable, keys: ThrottleKey[]): Promise<void> {
  for (const { key } of keys) {
    if (key.startsWith('client:') || key.startsWith('devices:')) await uncountAttempt(db, key);
    else await forgetAttempts(db, key);
  }
}

/**
 * clientKey: the client's address as the server sees it; deviceCookie: the browser's device cookie,
 * if any. The attempt is counted before the password is checked, so no burst outruns the limits.
 */
export async function login(
  ctx: ServiceContext,
  address: string,
  password: string,
  clientKey: string,
  deviceCookie?: string,
  totpCode?: string,
): Promise<OpenedSession> {
  const nowMs = clock.wallMs();
  const normalised = address.trim().toLowerCase();
  const keys = await countPasswordAttempt(ctx.db, normalised, clientKey, deviceCookie);

  // R8, R14: a terminated mailbox has no login anywhere; its credentials are answered as a wrong
  // password, after the same hash check, so neither the answer nor its time tells it apart.
  const [mailbox] = await ctx.db.query<{ id: string; customer_id: string; password_hash: string; status: string }>(
    "SELECT id, customer_id, password_hash, status FROM mailboxes WHERE lower(address) = $1 AND status <> 'terminated'",
    [normalised],
  );
  // The hash is checked even for unknown addresses, so response time does not reveal which exist.
  const passwordOk = await verifyPassword(password, mailbox?.password_hash ?? UNUSABLE_HASH);
  if (!mailbox || !passwordOk) {
    loginFailuresTotal.inc(); // R20
    throw new DomainError('invalid_credentials', 'Wrong PEC address or password');
  }
  // R19: a suspended mailbox (abuse, a legal order) logs in nowhere; the right password learns why.
  if (mailbox.status === 'suspended') throw new DomainError('mailbox_suspended', 'This PEC mailbox is suspended by the provider: contact its support');
  // The password is right: a hash made before Argon2id is rewritten now (R14), code or no code.
  await upgradeLegacyHashIfNeeded(ctx.db, mailbox.id, password, mailbox.password_hash);
  // Two-step verification: a right password without a code is not a failed attempt (the code is
  // asked next); a wrong code is, so guessing codes is throttled as guessing passwords is.
  const second = await checkSecondStep(ctx.db, mailbox.customer_id, totpCode);
  if (second === 'missing') await forgiveAttempt(ctx.db, keys);
  if (second === 'wrong') loginFailuresTotal.inc(); // R20: a wrong code is a failed login too
  if (second === 'missing' || second === 'wrong') {
    throw new SecondStepRequired(await openChallenge(ctx.db, mailbox.customer_id, normalised), second === 'wrong');
  }
  return openSession(ctx, keys, mailbox.customer_id, mailbox.id, normalised, nowMs);
}

/** Two-step verification is on and no valid code came with the password: the code is asked for, under this token (the login form's second step). */
export class SecondStepRequired extends DomainError {
  constructor(
    readonly challengeToken: string,
    readonly wrongCode: boolean,
  ) {
    super('totp_required', wrongCode ? 'Wrong or already used two-step verification code' : 'Two-step verification is on: send totpCode too');
  }
}

/** The login form's second step: the code for a login whose password was right (openChallenge). */
export async function loginSecondStep(ctx: ServiceContext, challengeToken: string, totpCode: string, clientKey: string, deviceCookie?: string): Promise<OpenedSession> {
  const nowMs = clock.wallMs();
  const challenge = await takeChallengeTry(ctx.db, challengeToken);
  if (!challenge) throw new DomainError('invalid_credentials', 'The login took too long or had too many wrong codes: start again');
  const keys = await countPasswordAttempt(ctx.db, challenge.address, clientKey, deviceCookie);
  const second = await checkSecondStep(ctx.db, challenge.customerId, totpCode);
  if (second === 'missing' || second === 'wrong') {
    loginFailuresTotal.inc(); // R20
    throw new SecondStepRequired(challengeToken, true);
  }
  const [mailbox] = await ctx.db.query<{ id: string }>("SELECT id FROM mailboxes WHERE lower(address) = $1 AND customer_id = $2 AND status <> 'terminated'", [
    challenge.address,
    challenge.customerId,
  ]);
  if (!mailbox) throw new DomainError('invalid_credentials', 'The login took too long or had too many wrong codes: start again');
  await closeChallenge(ctx.db, challengeToken);
  return openSession(ctx, keys, challenge.customerId, mailbox.id, challenge.address, nowMs);
}

/** A new session for the mailbox logged in with (its password is the one `PUT /api/me/password` changes). */
async function openSession(
  ctx: ServiceContext,
  keys: ThrottleKey[],
  customerId: string,
  mailboxId: string,
  normalisedAddress: string,
  nowMs: number,
): Promise<OpenedSession> {
  const token = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(24).toString('base64url');
  const { customer, deviceGeneration } = await ctx.db.transaction(async (tx) => {
    await forgiveAttempt(tx, keys);
    await tx.query(
      'INSERT INTO sessions (id_hash, customer_id, mailbox_id, csrf_token, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $5)',
      [sha256(token), customerId, mailboxId, csrfToken, new Date(nowMs)],
    );
    const [generation] = await tx.query<{ device_generation: number }>('SELECT device_generation FROM customers WHERE id = $1', [customerId]);
    return { customer: (await readCustomer(tx, customerId))!, deviceGeneration: generation!.device_generation };
  });
  return { token, csrfToken, customer, deviceCookie: await issueDeviceCookie(ctx.db, normalisedAddress, deviceGeneration, nowMs) };
}

/** The live session for a cookie value, or null (unknown, idle for 30 minutes, or past its lifetime). */
export async function findSession(ctx: ServiceContext, token: string): Promise<SessionInfo | null> {
  if (!token || token.length > 200) return null;
  const nowMs = clock.wallMs();
  const idHash = sha256(token);
  const [row] = await ctx.db.query<{ customer_id: string; mailbox_id: string; csrf_token: string; created_at: Date; last_seen_at: Date }>(
    'SELECT customer_id, mailbox_id, csrf_token, created_at, last_seen_at FROM sessions WHERE id_hash = $1',
    [idHash],
  );
  if (!row) return null;
  const idleMs = nowMs - row.last_seen_at.getTime();
  const ageMs = nowMs - row.created_at.getTime();
  if (idleMs > SESSION_IDLE_MS || ageMs > (ctx.sessionLifetimeMs ?? SESSION_LIFETIME_MS_DEFAULT)) {
    await ctx.db.query('DELETE FROM sessions WHERE id_hash = $1', [idHash]);
    return null;
  }
  if (idleMs > SESSION_TOUCH_MS) await ctx.db.query('UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1', [idHash, new Date(nowMs)]);
  return { customerId: row.customer_id, mailboxId: row.mailbox_id, csrfToken: row.csrf_token };
}

/**
 * R12: a password of the holder changed: whoever logged in with the old one is logged out; all but
 * the session whose cookie is `keepToken`, when the holder changed it from there. Issue 19: with the
 * sessions go what a session left pending (voidPendingChanges) and the device cookies issued so far
 * (the generation moves on).
 */
export async function endSessionsOf(db: Queryable, customerId: string, keepToken?: string): Promise<void> {
  if (keepToken === undefined) await db.query('DELETE FROM sessions WHERE customer_id = $1', [customerId]);
  else await db.query('DELETE FROM sessions WHERE customer_id = $1 AND id_hash <> $2', [customerId, sha256(keepToken)]);
  await voidPendingChanges(db, customerId);
  await db.query('UPDATE customers SET device_generation = device_generation + 1 WHERE id = $1', [customerId]);
}

/**
 * Issue 19: when sessions end (a password change or reset, "Esci da tutti gli altri dispositivi"),
 * what any session of the holder left waiting ends too: a reference e-mail change not confirmed yet
 * (a stolen session must not finish taking the mailbox over), and a two-step enrolment not confirmed
 * yet (its secret, which an ended session may have read, is never offered again).
 */
export async function voidPendingChanges(db: Queryable, customerId: string): Promise<void> {
  await db.query('DELETE FROM reference_email_changes WHERE customer_id = $1 AND used_at IS NULL', [customerId]);
  await db.query('DELETE FROM totp_credentials WHERE customer_id = $1 AND confirmed_at IS NULL', [customerId]);
}

export async function logout(ctx: ServiceContext, token: string): Promise<void> {
  await ctx.db.query('DELETE FROM sessions WHERE id_hash = $1', [sha256(token)]);
}

/** Removes sessions idle past the timeout or past their lifetime (the daily job calls this). */
export async function purgeIdleSessions(ctx: ServiceContext): Promise<number> {
  const nowMs = clock.wallMs();
  const rows = await ctx.db.query('DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2 RETURNING 1', [
    new Date(nowMs - SESSION_IDLE_MS),
    new Date(nowMs - (ctx.sessionLifetimeMs ?? SESSION_LIFETIME_MS_DEFAULT)),
  ]);
  return rows.length;
}

export async function setLocale(ctx: ServiceContext, customerId: string, locale: 'it' | 'en'): Promise<void> {
  await ctx.db.query('UPDATE customers SET locale = $2 WHERE id = $1', [customerId, locale]);
}
