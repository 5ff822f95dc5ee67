// R12: holders log in with a PEC address and that mailbox's password; sessions live in the database
// (only a hash of the cookie value is stored), expire after 30 idle minutes or at the end of their
// lifetime however busy, end when a password of the holder changes, and carry a CSRF token. Login
// attempts are throttled per address and per client, or per device cookie for a browser that logged
// in to the address before.
import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '../db/database.ts';
import { clock } from '../clock.ts';
import type { ServiceContext } from './context.ts';
import { DomainError } from './errors.ts';
import { UNUSABLE_HASH, verifyPassword } from './passwords.ts';
import { readCustomer, type CustomerRow } from './rows.ts';
import { countAttempt, forgetAttempts, uncountAttempt, THROTTLE_WINDOW_MS, type ThrottleKey } from './throttle.ts';
import { issueDeviceCookie, trustedDevice } from './device-cookies.ts';
import { checkSecondStep, closeChallenge, openChallenge, takeChallengeTry } from './two-step.ts';

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
  csrfToken: string;
}

const rateLimited = (seconds: number) =>
  new DomainError('rate_limited', 'Too many failed logins: try again later', undefined, seconds);

/**
 * Whose allowance an attempt uses: the device cookie's own when the browser logged in to this
 * address before, else the address's and the client's. Address before client: see countAttempt.
 */
function throttleKeysFor(address: string, clientKey: string, deviceNonce: string | null): ThrottleKey[] {
  if (deviceNonce) return [{ key: `device:${deviceNonce}`, attemptsMax: THROTTLE.perDeviceMax }];
  return [
    { key: `address:${address}`, attemptsMax: THROTTLE.perAddressMax },
    { key: `client:${clientKey}`, attemptsMax: THROTTLE.perClientMax },
  ];
}

/** After a right password: the address (or device) starts afresh, and the client is not charged for it. */
async function forgiveAttempt(db: Queryable, keys: ThrottleKey[]): Promise<void> {
  for (const { key } of keys) {
    if (key.startsWith('client:')) await uncountAttempt(db, key);
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
  const keys = throttleKeysFor(normalised, clientKey, await trustedDevice(ctx.db, normalised, deviceCookie));
  const waitSeconds = await countAttempt(ctx.db, keys, nowMs);
  if (waitSeconds > 0) throw rateLimited(waitSeconds);

  const [mailbox] = await ctx.db.query<{ customer_id: string; password_hash: string; status: string }>(
    'SELECT customer_id, password_hash, status FROM mailboxes WHERE lower(address) = $1',
    [normalised],
  );
  // The hash is checked even for unknown addresses, so response time does not reveal which exist.
  const passwordOk = await verifyPassword(password, mailbox?.password_hash ?? UNUSABLE_HASH);
  if (!mailbox || !passwordOk) throw new DomainError('invalid_credentials', 'Wrong PEC address or password');
  // Two-step verification: a right password without a code is not a failed attempt (the code is
  // asked next); a wrong code is, so guessing codes is throttled as guessing passwords is.
  const second = await checkSecondStep(ctx.db, mailbox.customer_id, totpCode);
  if (second === 'missing') await forgiveAttempt(ctx.db, keys);
  if (second === 'missing' || second === 'wrong') {
    throw new SecondStepRequired(await openChallenge(ctx.db, mailbox.customer_id, normalised), second === 'wrong');
  }
  await forgiveAttempt(ctx.db, keys);
  return openSession(ctx, mailbox.customer_id, normalised, nowMs);
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
  const keys = throttleKeysFor(challenge.address, clientKey, await trustedDevice(ctx.db, challenge.address, deviceCookie));
  const waitSeconds = await countAttempt(ctx.db, keys, nowMs);
  if (waitSeconds > 0) throw rateLimited(waitSeconds);
  const second = await checkSecondStep(ctx.db, challenge.customerId, totpCode);
  if (second === 'missing' || second === 'wrong') throw new SecondStepRequired(challengeToken, true);
  await forgiveAttempt(ctx.db, keys);
  await closeChallenge(ctx.db, challengeToken);
  return openSession(ctx, challenge.customerId, challenge.address, nowMs);
}

async function openSession(ctx: ServiceContext, customerId: string, normalisedAddress: string, nowMs: number): Promise<OpenedSession> {
  const token = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(24).toString('base64url');
  const now = new Date(nowMs);
  await ctx.db.query(
    'INSERT INTO sessions (id_hash, customer_id, csrf_token, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $4)',
    [sha256(token), customerId, csrfToken, now],
  );
  return {
    token,
    csrfToken,
    customer: (await readCustomer(ctx.db, customerId))!,
    deviceCookie: await issueDeviceCookie(ctx.db, normalisedAddress),
  };
}

/** The live session for a cookie value, or null (unknown, idle for 30 minutes, or past its lifetime). */
export async function findSession(ctx: ServiceContext, token: string): Promise<SessionInfo | null> {
  if (!token || token.length > 200) return null;
  const nowMs = clock.wallMs();
  const idHash = sha256(token);
  const [row] = await ctx.db.query<{ customer_id: string; csrf_token: string; created_at: Date; last_seen_at: Date }>(
    'SELECT customer_id, csrf_token, created_at, last_seen_at FROM sessions WHERE id_hash = $1',
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
  return { customerId: row.customer_id, csrfToken: row.csrf_token };
}

/** R12: a password of the holder changed: whoever logged in with the old one is logged out. */
export async function endSessionsOf(db: Queryable, customerId: string): Promise<void> {
  await db.query('DELETE FROM sessions WHERE customer_id = $1', [customerId]);
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
