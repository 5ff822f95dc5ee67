// R12: holders log in with a PEC address and that mailbox's password; sessions live in the database
// (only a hash of the cookie value is stored), expire after 30 idle minutes, and carry a CSRF token.
// Failed logins are throttled per address and per client, with counters in the database so every
// process sees them.
import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '../db/database.ts';
import { clock } from '../clock.ts';
import type { ServiceContext } from './context.ts';
import { DomainError } from './errors.ts';
import { UNUSABLE_HASH, verifyPassword } from './passwords.ts';
import { readCustomer, type CustomerRow } from './rows.ts';

export const SESSION_IDLE_MS = 30 * 60_000;
/** Session rows are touched at most once a minute, so reads stay reads. */
const SESSION_TOUCH_MS = 60_000;

export const THROTTLE = {
  windowMs: 15 * 60_000,
  /** Failures allowed per address within the window before it is blocked. */
  perAddressMax: 5,
  /** Failures allowed per client (IP) within the window. */
  perClientMax: 20,
  blockMs: 15 * 60_000,
} as const;

const sha256 = (s: string): string => createHash('sha256').update(s).digest('base64url');

export interface OpenedSession {
  /** The cookie value; only its hash is stored. */
  token: string;
  csrfToken: string;
  customer: CustomerRow;
}

export interface SessionInfo {
  customerId: string;
  csrfToken: string;
}

async function blockedSeconds(db: Queryable, keys: string[], nowMs: number): Promise<number> {
  const rows = await db.query<{ blocked_until: Date | null }>('SELECT blocked_until FROM login_throttle WHERE key = ANY($1)', [keys]);
  const until = Math.max(0, ...rows.map((r) => r.blocked_until?.getTime() ?? 0));
  return until > nowMs ? Math.ceil((until - nowMs) / 1000) : 0;
}

async function recordFailure(db: Queryable, key: string, limit: number, nowMs: number): Promise<void> {
  const now = new Date(nowMs);
  // A window older than windowMs starts over; reaching the limit blocks the key for blockMs.
  await db.query(
    `INSERT INTO login_throttle (key, failures, window_start, blocked_until) VALUES ($1, 1, $2, NULL)
     ON CONFLICT (key) DO UPDATE SET
       failures = CASE WHEN login_throttle.window_start < $3 THEN 1 ELSE login_throttle.failures + 1 END,
       window_start = CASE WHEN login_throttle.window_start < $3 THEN $2 ELSE login_throttle.window_start END,
       blocked_until = CASE
         WHEN (CASE WHEN login_throttle.window_start < $3 THEN 1 ELSE login_throttle.failures + 1 END) >= $4 THEN $5
         ELSE login_throttle.blocked_until END`,
    [key, now, new Date(nowMs - THROTTLE.windowMs), limit, new Date(nowMs + THROTTLE.blockMs)],
  );
}

const rateLimited = (seconds: number) =>
  new DomainError('rate_limited', 'Too many failed logins: try again later', undefined, seconds);

/** clientKey: the client's address as the server sees it. */
export async function login(ctx: ServiceContext, address: string, password: string, clientKey: string): Promise<OpenedSession> {
  const nowMs = clock.wallMs();
  const addressKey = `address:${address.trim().toLowerCase()}`;
  const clientThrottleKey = `client:${clientKey}`;
  const waitSeconds = await blockedSeconds(ctx.db, [addressKey, clientThrottleKey], nowMs);
  if (waitSeconds > 0) throw rateLimited(waitSeconds);

  const [mailbox] = await ctx.db.query<{ customer_id: string; password_hash: string; status: string }>(
    'SELECT customer_id, password_hash, status FROM mailboxes WHERE lower(address) = $1',
    [address.trim().toLowerCase()],
  );
  // The hash is checked even for unknown addresses, so response time does not reveal which exist.
  const passwordOk = await verifyPassword(password, mailbox?.password_hash ?? UNUSABLE_HASH);
  if (!mailbox || !passwordOk) {
    await recordFailure(ctx.db, addressKey, THROTTLE.perAddressMax, nowMs);
    await recordFailure(ctx.db, clientThrottleKey, THROTTLE.perClientMax, nowMs);
    throw new DomainError('invalid_credentials', 'Wrong PEC address or password');
  }
  await ctx.db.query('DELETE FROM login_throttle WHERE key = $1', [addressKey]);
  const token = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(24).toString('base64url');
  const now = new Date(nowMs);
  await ctx.db.query(
    'INSERT INTO sessions (id_hash, customer_id, csrf_token, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $4)',
    [sha256(token), mailbox.customer_id, csrfToken, now],
  );
  return { token, csrfToken, customer: (await readCustomer(ctx.db, mailbox.customer_id))! };
}

/** The live session for a cookie value, or null (unknown or idle for 30 minutes). */
export async function findSession(ctx: ServiceContext, token: string): Promise<SessionInfo | null> {
  if (!token || token.length > 200) return null;
  const nowMs = clock.wallMs();
  const idHash = sha256(token);
  const [row] = await ctx.db.query<{ customer_id: string; csrf_token: string; last_seen_at: Date }>(
    'SELECT customer_id, csrf_token, last_seen_at FROM sessions WHERE id_hash = $1',
    [idHash],
  );
  if (!row) return null;
  const idleMs = nowMs - row.last_seen_at.getTime();
  if (idleMs > SESSION_IDLE_MS) {
    await ctx.db.query('DELETE FROM sessions WHERE id_hash = $1', [idHash]);
    return null;
  }
  if (idleMs > SESSION_TOUCH_MS) await ctx.db.query('UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1', [idHash, new Date(nowMs)]);
  return { customerId: row.customer_id, csrfToken: row.csrf_token };
}

export async function logout(ctx: ServiceContext, token: string): Promise<void> {
  await ctx.db.query('DELETE FROM sessions WHERE id_hash = $1', [sha256(token)]);
}

/** Removes sessions idle past the timeout (the daily job calls this). */
export async function purgeIdleSessions(ctx: ServiceContext): Promise<number> {
  const rows = await ctx.db.query('DELETE FROM sessions WHERE last_seen_at < $1 RETURNING 1', [new Date(clock.wallMs() - SESSION_IDLE_MS)]);
  return rows.length;
}

export async function setLocale(ctx: ServiceContext, customerId: string, locale: 'it' | 'en'): Promise<void> {
  await ctx.db.query('UPDATE customers SET locale = $2 WHERE id = $1', [customerId, locale]);
}
