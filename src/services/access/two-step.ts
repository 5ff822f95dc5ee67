// Two-step verification ("Verifica in due passaggi"): TOTP codes per RFC 6238 (otpauth: SHA-1,
// 6 digits, 30-second steps, as every authenticator app reads them), enrolled with a QR code and a
// first code, with ten single-use recovery codes shown once. Codes follow the machine's wall time,
// as the holder's phone does, not the test clock of business time.
import { createHash, randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import type { Queryable } from '../../db/database.ts';
import { clock } from '../../clock.ts';
import type { ServiceContext } from '../context.ts';
import { DomainError } from '../errors.ts';
import { countAttempt, forgetAttempts } from './throttle.ts';

const PERIOD_S = 30;
const DIGITS = 6;
/** One step either side of now: a phone's clock a little off, or a code typed as it changed. */
const WINDOW_STEPS = 1;
export const RECOVERY_CODES = 10;
const RECOVERY_CODE_BYTES = 10; // 80 bits, written as 16 base32 characters
const SECRET_BYTES = 20; // RFC 4226's recommended 160 bits

const sha256 = (s: string): string => createHash('sha256').update(s).digest('base64url');

const totpOf = (secretBase32: string, issuer: string, label: string) =>
  new TOTP({ issuer, label, algorithm: 'SHA1', digits: DIGITS, period: PERIOD_S, secret: Secret.fromBase32(secretBase32) });

/** The time step a code was made in, or null: a six-digit code valid within one step of now. */
export function acceptedStep(secretBase32: string, code: string, nowMs: number): number | null {
  const digits = code.replace(/\s+/g, '');
  if (!/^\d{6}$/.test(digits)) return null;
  const delta = totpOf(secretBase32, '', '').validate({ token: digits, timestamp: nowMs, window: WINDOW_STEPS });
  return delta === null ? null : Math.floor(nowMs / 1000 / PERIOD_S) + delta;
}

/** Recovery codes as the holder reads them: four groups of four, in lower case, any spacing or case accepted back. */
const normaliseRecoveryCode = (code: string): string => code.replace(/[\s-]+/g, '').toLowerCase();
function newRecoveryCode(): string {
  const plain = new Secret({ size: RECOVERY_CODE_BYTES }).base32.toLowerCase();
  return plain.match(/.{4}/g)!.join('-');
}

export interface TwoStepStatus {
  enabled: boolean;
  enabledAt: Date | null;
  recoveryCodesLeft: number;
}

export async function twoStepStatus(db: Queryable, customerId: string): Promise<TwoStepStatus> {
  const [row] = await db.query<{ confirmed_at: Date | null; left: number }>(
    `SELECT t.confirmed_at, (SELECT count(*)::int FROM totp_recovery_codes r WHERE r.customer_id = t.customer_id AND r.used_at IS NULL) AS left
       FROM totp_credentials t WHERE t.customer_id = $1`,
    [customerId],
  );
  return { enabled: Boolean(row?.confirmed_at), enabledAt: row?.confirmed_at ?? null, recoveryCodesLeft: row?.confirmed_at ? row.left : 0 };
}

export interface Enrolment {
  secret: string;
  otpauthUri: string;
  /** The otpauth URI as a QR code, a PNG data URL (the pages' CSP allows data: images). */
  qrDataUrl: string;
}

/** The enrolment waiting for its first code: started now, or the one already started (reloading the page keeps the QR the phone scanned). */
export async function enrolment(ctx: ServiceContext, customerId: string, issuer: string, label: string): Promise<Enrolment> {
  const secret = new Secret({ size: SECRET_BYTES }).base32;
  const [row] = await ctx.db.query<{ secret: string; confirmed_at: Date | null }>(
    `INSERT INTO totp_credentials (customer_id, secret, created_at) VALUES ($1, $2, $3)
     ON CONFLICT (customer_id) DO UPDATE SET customer_id = EXCLUDED.customer_id
     RETURNING secret, confirmed_at`,
    [customerId, secret, new Date(clock.wallMs())],
  );
  if (row!.confirmed_at) throw new DomainError('validation_failed', 'Two-step verification is already on');
  const otpauthUri = totpOf(row!.secret, issuer, label).toString();
  return { secret: row!.secret, otpauthUri, qrDataUrl: await QRCode.toDataURL(otpauthUri, { errorCorrectionLevel: 'M', margin: 2, width: 220 }) };
}

const wrongCode = () => new DomainError('validation_failed', 'The code is wrong or has expired', { totpCode: 'wrong or expired code' });

/** The first code proves the phone holds the secret: two-step verification is on; the ten recovery codes, shown once. */
export async function confirmEnrolment(ctx: ServiceContext, customerId: string, code: string): Promise<string[]> {
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx.query<{ secret: string; confirmed_at: Date | null }>(
      'SELECT secret, confirmed_at FROM totp_credentials WHERE customer_id = $1 FOR UPDATE',
      [customerId],
    );
    if (!row || row.confirmed_at) throw new DomainError('validation_failed', 'No enrolment is waiting for a code');
    const nowMs = clock.wallMs();
    const step = acceptedStep(row.secret, code, nowMs);
    if (step === null) throw wrongCode();
    await tx.query('UPDATE totp_credentials SET confirmed_at = $2, last_step = $3 WHERE customer_id = $1', [customerId, new Date(nowMs), step]);
    const codes = Array.from({ length: RECOVERY_CODES }, newRecoveryCode);
    await tx.query('DELETE FROM totp_recovery_codes WHERE customer_id = $1', [customerId]);
    await tx.query('INSERT INTO totp_recovery_codes (customer_id, code_hash) SELECT $1, unnest($2::text[])', [
      customerId,
      codes.map((c) => sha256(normaliseRecoveryCode(c))),
    ]);
    return codes;
  });
}

export type SecondStep = 'not_enrolled' | 'missing' | 'wrong' | 'ok';

/**
 * Issue 19: codes given for a holder's second step, wherever they come from (a login, the login
 * form's second step, turning two-step verification off, a password reset link), within the throttle
 * window (15 minutes). They are counted per holder, not per address or client, so neither rotating
 * client addresses nor a right password without a code gives more tries; only an accepted code
 * starts the count afresh.
 */
export const SECOND_STEP_TRIES_MAX = 5;
const secondStepKey = (customerId: string) => `second-step:${customerId}`;

/** Too many codes given for this holder: wait this many seconds (nothing is checked meanwhile, not even a right code). */
export class SecondStepLocked extends DomainError {
  constructor(readonly waitSeconds: number) {
    super('rate_limited', 'Too many two-step verification codes given: try again later', undefined, waitSeconds);
  }
}

/**
 * The second step of a login: a TOTP code not used before, or an unused recovery code (used up by
 * this). Each accepted code moves last_step forward in one statement, so two logins racing with the
 * same code cannot both pass. Every code given is counted for the holder before it is checked (a
 * parallel burst gets no more than the allowance); past the allowance it throws SecondStepLocked.
 * Call it outside a transaction that a wrong code rolls back, or the count is lost with it.
 */
export async function checkSecondStep(db: Queryable, customerId: string, code: string | undefined): Promise<SecondStep> {
  const [row] = await db.query<{ secret: string }>('SELECT secret FROM totp_credentials WHERE customer_id = $1 AND confirmed_at IS NOT NULL', [customerId]);
  if (!row) return 'not_enrolled';
  if (code === undefined || !code.trim()) return 'missing';
  const nowMs = clock.wallMs();
  const wait = await countAttempt(db, [{ key: secondStepKey(customerId), attemptsMax: SECOND_STEP_TRIES_MAX }], nowMs);
  if (wait > 0) throw new SecondStepLocked(wait);
  const outcome = await codeOutcome(db, customerId, row.secret, code, nowMs);
  if (outcome === 'ok') await forgetAttempts(db, secondStepKey(customerId));
  return outcome;
}

async function codeOutcome(db: Queryable, customerId: string, secret: string, code: string, nowMs: number): Promise<'wrong' | 'ok'> {
  if (code.length > 64) return 'wrong';
  const step = acceptedStep(secret, code, nowMs);
  if (step !== null) {
    const moved = await db.query('UPDATE totp_credentials SET last_step = $2 WHERE customer_id = $1 AND last_step < $2 RETURNING 1', [customerId, step]);
    return moved.length ? 'ok' : 'wrong';
  }
  const used = await db.query(
    'UPDATE totp_recovery_codes SET used_at = $3 WHERE customer_id = $1 AND code_hash = $2 AND used_at IS NULL RETURNING 1',
    [customerId, sha256(normaliseRecoveryCode(code)), new Date(nowMs)],
  );
  return used.length ? 'ok' : 'wrong';
}

/**
 * Turning it off needs a code (or a recovery code): a session left open is not enough. The code is
 * checked (and counted) before the transaction, so a wrong one stays counted.
 */
export async function disableTwoStep(ctx: ServiceContext, customerId: string, code: string): Promise<void> {
  const outcome = await checkSecondStep(ctx.db, customerId, code);
  if (outcome === 'not_enrolled') throw new DomainError('validation_failed', 'Two-step verification is not on');
  if (outcome !== 'ok') throw wrongCode();
  await ctx.db.transaction(async (tx) => {
    await tx.query('DELETE FROM totp_recovery_codes WHERE customer_id = $1', [customerId]);
    await tx.query('DELETE FROM totp_credentials WHERE customer_id = $1', [customerId]);
  });
}

/** Abandons an enrolment that never got its first code (a new QR next time). */
export async function cancelEnrolment(ctx: ServiceContext, customerId: string): Promise<void> {
  await ctx.db.query('DELETE FROM totp_credentials WHERE customer_id = $1 AND confirmed_at IS NULL', [customerId]);
}

const CHALLENGE_MS = 5 * 60_000;
const CHALLENGE_ATTEMPTS_MAX = 5;

/** The login form's second step: a token for the browser, standing for "this password was right". */
export async function openChallenge(db: Queryable, customerId: string, address: string): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  const nowMs = clock.wallMs();
  await db.query('DELETE FROM login_challenges WHERE expires_at < $1', [new Date(nowMs)]);
  await db.query('INSERT INTO login_challenges (id_hash, customer_id, address, expires_at) VALUES ($1, $2, $3, $4)', [
    sha256(token),
    customerId,
    address,
    new Date(nowMs + CHALLENGE_MS),
  ]);
  return token;
}

/** The challenge's holder and address while it lasts and has tries left (each call is a try), else null. */
export async function takeChallengeTry(db: Queryable, token: string): Promise<{ customerId: string; address: string } | null> {
  if (!token || token.length > 100) return null;
  const [row] = await db.query<{ customer_id: string; address: string }>(
    `UPDATE login_challenges SET attempts = attempts + 1
      WHERE id_hash = $1 AND expires_at > $2 AND attempts < $3 RETURNING customer_id, address`,
    [sha256(token), new Date(clock.wallMs()), CHALLENGE_ATTEMPTS_MAX],
  );
  return row ? { customerId: row.customer_id, address: row.address } : null;
}

export async function closeChallenge(db: Queryable, token: string): Promise<void> {
  await db.query('DELETE FROM login_challenges WHERE id_hash = $1', [sha256(token)]);
}
