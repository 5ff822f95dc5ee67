// R19: staff accounts. `casella staff create` makes an account and a one-time link (24 h) where the
// person sets a password (the holders' strength rule) and enrols TOTP, which is mandatory: no staff
// member can log in without both. Staff log in with e-mail, password and a TOTP code; sessions live in
// the database like holders' (idle and absolute lifetime, CSRF token), and a code is accepted once.
import { createHash, randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import type { Database, Queryable } from '../../db/database.ts';
import { clock } from '../../clock.ts';
import { newId } from '../../ids.ts';
import { passwordWeakness } from '../../domain/password-strength.ts';
import { isStaffRole, type StaffRole } from '../../domain/staff-role.ts';
import { DomainError, invalid, notFound } from '../errors.ts';
import { hashPassword, UNUSABLE_HASH, verifyPassword } from '../access/passwords.ts';
import { acceptedStep } from '../access/two-step.ts';
import { countAttempt, forgetAttempts, uncountAttempt, type ThrottleKey } from '../access/throttle.ts';
import { audit, type Actor } from '../audit.ts';

export const STAFF_SETUP_LINK_MS = 24 * 3600_000;
export const STAFF_SESSION_IDLE_MS = 30 * 60_000;
export const STAFF_SESSION_LIFETIME_MS = 12 * 3600_000;
const SESSION_TOUCH_MS = 60_000;
/** Guesses allowed within the throttle window: per staff e-mail, and per client across e-mails. */
export const STAFF_THROTTLE = { perEmailMax: 5, perClientMax: 20 } as const;
const EMAIL_LENGTH_MAX = 254;
const NAME_LENGTH_MAX = 200;
const TOTP_ISSUER = 'Casella staff';

const sha256 = (s: string): string => createHash('sha256').update(s).digest('base64url');

export interface StaffMember {
  id: string;
  email: string;
  name: string;
  role: StaffRole;
  enrolled: boolean;
  disabled: boolean;
  createdAt: Date;
}

interface StaffRow {
  id: string;
  email: string;
  name: string;
  role: StaffRole;
  password_hash: string | null;
  totp_secret: string | null;
  enrolled_at: Date | null;
  disabled_at: Date | null;
  created_at: Date;
}

const memberOf = (r: StaffRow): StaffMember => ({
  id: r.id,
  email: r.email,
  name: r.name,
  role: r.role,
  enrolled: r.enrolled_at !== null,
  disabled: r.disabled_at !== null,
  createdAt: r.created_at,
});

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The fields of a new staff member, checked as strictly as a holder's own forms. */
export function checkNewStaff(input: { email: unknown; name: unknown; role: unknown }): { email: string; name: string; role: StaffRole } {
  const fields: Record<string, string> = {};
  const email = typeof input.email === 'string' ? input.email.trim().toLowerCase() : '';
  const name = typeof input.name === 'string' ? input.name.trim() : '';
  if (!EMAIL.test(email) || email.length > EMAIL_LENGTH_MAX) fields.email = 'must be an e-mail address';
  if (!name || name.length > NAME_LENGTH_MAX) fields.name = `must be 1 to ${NAME_LENGTH_MAX} characters`;
  if (!isStaffRole(input.role)) fields.role = 'must be one of support, billing, admin';
  if (Object.keys(fields).length) throw invalid(fields, 'The staff member is not valid');
  return { email, name, role: input.role as StaffRole };
}

/** A new account and its one-time setup link's token (only its hash is stored). */
export async function createStaff(
  db: Database,
  actor: Actor,
  input: { email: unknown; name: unknown; role: unknown; reason?: string | null },
): Promise<{ member: StaffMember; setupToken: string }> {
  const checked = checkNewStaff(input);
  const nowMs = clock.wallMs();
  const now = new Date(nowMs);
  const id = newId('stf');
  const setupToken = randomBytes(32).toString('base64url');
  return db.transaction(async (tx) => {
    const inserted = await tx.query<StaffRow>(
      `INSERT INTO staff (id, email, name, role, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT DO NOTHING RETURNING *`,
      [id, checked.email, checked.name, checked.role, now],
    );
    if (!inserted.length) throw invalid({ email: 'a staff member with this e-mail exists' }, 'The staff member is not valid');
    await tx.query('INSERT INTO staff_setup_links (token_hash, staff_id, totp_secret, expires_at) VALUES ($1, $2, $3, $4)', [
      sha256(setupToken),
      id,
      new Secret({ size: 20 }).base32,
      new Date(nowMs + STAFF_SETUP_LINK_MS),
    ]);
    await audit(tx, actor, { action: 'staff.create', entityKind: 'staff', entityId: id, reason: input.reason ?? null, after: { email: checked.email, name: checked.name, role: checked.role } }, now);
    return { member: memberOf(inserted[0]!), setupToken };
  });
}

/** A new one-time link for an account (an admin's "send a new link": lost phone, expired link). */
export async function newSetupLink(db: Database, actor: Actor, staffId: string, reason: string): Promise<string> {
  const setupToken = randomBytes(32).toString('base64url');
  const nowMs = clock.wallMs();
  await db.transaction(async (tx) => {
    const [row] = await tx.query<StaffRow>('SELECT * FROM staff WHERE id = $1 FOR UPDATE', [staffId]);
    if (!row) throw notFound('staff member');
    await tx.query('UPDATE staff_setup_links SET used_at = $2 WHERE staff_id = $1 AND used_at IS NULL', [staffId, new Date(nowMs)]);
    await tx.query('INSERT INTO staff_setup_links (token_hash, staff_id, totp_secret, expires_at) VALUES ($1, $2, $3, $4)', [
      sha256(setupToken), staffId, new Secret({ size: 20 }).base32, new Date(nowMs + STAFF_SETUP_LINK_MS),
    ]);
    await audit(tx, actor, { action: 'staff.setup_link', entityKind: 'staff', entityId: staffId, reason }, new Date(nowMs));
  });
  return setupToken;
}

export interface SetupOffer {
  email: string;
  name: string;
  secret: string;
  otpauthUri: string;
  qrDataUrl: string;
}

async function openLink(db: Queryable, token: string): Promise<{ staff: StaffRow; totpSecret: string } | null> {
  if (token.length > 100) return null;
  const [row] = await db.query<StaffRow & { link_secret: string }>(
    `SELECT s.*, l.totp_secret AS link_secret FROM staff_setup_links l JOIN staff s ON s.id = l.staff_id
      WHERE l.token_hash = $1 AND l.used_at IS NULL AND l.expires_at > $2 AND s.disabled_at IS NULL`,
    [sha256(token), new Date(clock.wallMs())],
  );
  return row ? { staff: row, totpSecret: row.link_secret } : null;
}

const totpOf = (secret: string, label: string) =>
  new TOTP({ issuer: TOTP_ISSUER, label, algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secret) });

/** What the setup page shows: whose account, and the TOTP secret as a QR code. */
export async function setupOffer(db: Queryable, token: string): Promise<SetupOffer> {
  const link = await openLink(db, token);
  if (!link) throw notFound('setup link');
  const otpauthUri = totpOf(link.totpSecret, link.staff.email).toString();
  return {
    email: link.staff.email,
    name: link.staff.name,
    secret: link.totpSecret,
    otpauthUri,
    qrDataUrl: await QRCode.toDataURL(otpauthUri, { errorCorrectionLevel: 'M', margin: 2, width: 220 }),
  };
}

/** The link's page sent a password and the first code: the account can log in from now on. */
export async function completeSetup(db: Database, token: string, password: string, totpCode: string): Promise<StaffMember> {
  const link = await openLink(db, token);
  if (!link) throw notFound('setup link');
  const weakness = passwordWeakness(password, link.staff.email, '');
  if (weakness) throw invalid({ password: `too weak: ${weakness}` }, 'The password is too weak');
  const nowMs = clock.wallMs();
  const step = acceptedStep(link.totpSecret, totpCode, nowMs);
  if (step === null) throw invalid({ totpCode: 'wrong or expired code' }, 'The code is wrong or has expired');
  const passwordHash = await hashPassword(password);
  return db.transaction(async (tx) => {
    const used = await tx.query('UPDATE staff_setup_links SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL RETURNING 1', [sha256(token), new Date(nowMs)]);
    if (!used.length) throw notFound('setup link');
    const [row] = await tx.query<StaffRow>(
      'UPDATE staff SET password_hash = $2, totp_secret = $3, enrolled_at = $4 WHERE id = $1 RETURNING *',
      [link.staff.id, passwordHash, link.totpSecret, new Date(nowMs)],
    );
    await tx.query('INSERT INTO staff_totp_used (staff_id, step) VALUES ($1, $2) ON CONFLICT DO NOTHING', [link.staff.id, step]);
    // A new password ends every session the account had.
    await tx.query('DELETE FROM staff_sessions WHERE staff_id = $1', [link.staff.id]);
    await audit(tx, { kind: 'staff', id: link.staff.id }, { action: 'staff.enrol', entityKind: 'staff', entityId: link.staff.id, after: { enrolled: true } }, new Date(nowMs));
    return memberOf(row!);
  });
}

export interface StaffSession {
  token: string;
  csrfToken: string;
  member: StaffMember;
}

const rateLimited = (seconds: number) => new DomainError('rate_limited', 'Too many failed logins: try again later', undefined, seconds);

/** R19: e-mail, password and a TOTP code, all three, every time; throttled per e-mail and per client. */
export async function staffLogin(db: Database, input: { email: string; password: string; totpCode: string }, clientKey: string): Promise<StaffSession> {
  const nowMs = clock.wallMs();
  const email = input.email.trim().toLowerCase();
  const keys: ThrottleKey[] = [
    { key: `staff:${email}`, attemptsMax: STAFF_THROTTLE.perEmailMax },
    { key: `staffclient:${clientKey}`, attemptsMax: STAFF_THROTTLE.perClientMax },
  ];
  const wait = await countAttempt(db, keys, nowMs);
  if (wait > 0) throw rateLimited(wait);
  const [row] = await db.query<StaffRow>('SELECT * FROM staff WHERE lower(email) = $1', [email]);
  // The hash is checked even for unknown or unenrolled accounts, so timing does not tell which exist.
  const passwordOk = await verifyPassword(input.password, row?.password_hash ?? UNUSABLE_HASH);
  const step = row?.totp_secret ? acceptedStep(row.totp_secret, input.totpCode, nowMs) : null;
  if (!row || !passwordOk || row.enrolled_at === null || row.disabled_at !== null || step === null) {
    throw new DomainError('invalid_credentials', 'Wrong e-mail, password or verification code');
  }
  // A code is good once: the insert fails for a code already used (a shoulder-surfed code, a replay).
  const fresh = await db.query('INSERT INTO staff_totp_used (staff_id, step) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1', [row.id, step]);
  if (!fresh.length) throw new DomainError('invalid_credentials', 'Wrong e-mail, password or verification code');
  await forgetAttempts(db, keys[0]!.key);
  await uncountAttempt(db, keys[1]!.key);
  const token = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(24).toString('base64url');
  const now = new Date(nowMs);
  await db.query(
    'INSERT INTO staff_sessions (token_hash, staff_id, csrf_token, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $4, $5)',
    [sha256(token), row.id, csrfToken, now, new Date(nowMs + STAFF_SESSION_LIFETIME_MS)],
  );
  return { token, csrfToken, member: memberOf(row) };
}

export interface StaffSessionInfo {
  member: StaffMember;
  csrfToken: string;
}

/** The session of a cookie, if it is alive: not idle too long, not past its lifetime, its account enabled. */
export async function findStaffSession(db: Queryable, token: string): Promise<StaffSessionInfo | null> {
  if (token.length > 100) return null;
  const nowMs = clock.wallMs();
  const [row] = await db.query<StaffRow & { csrf_token: string; last_seen_at: Date }>(
    `SELECT s.*, x.csrf_token, x.last_seen_at FROM staff_sessions x JOIN staff s ON s.id = x.staff_id
      WHERE x.token_hash = $1 AND x.expires_at > $2 AND x.last_seen_at > $3 AND s.disabled_at IS NULL`,
    [sha256(token), new Date(nowMs), new Date(nowMs - STAFF_SESSION_IDLE_MS)],
  );
  if (!row) return null;
  if (nowMs - row.last_seen_at.getTime() > SESSION_TOUCH_MS) {
    await db.query('UPDATE staff_sessions SET last_seen_at = $2 WHERE token_hash = $1', [sha256(token), new Date(nowMs)]);
  }
  return { member: memberOf(row), csrfToken: row.csrf_token };
}

export async function endStaffSession(db: Queryable, token: string): Promise<void> {
  await db.query('DELETE FROM staff_sessions WHERE token_hash = $1', [sha256(token)]);
}

export async function listStaff(db: Queryable): Promise<StaffMember[]> {
  return (await db.query<StaffRow>('SELECT * FROM staff ORDER BY lower(email)')).map(memberOf);
}

/** An admin changes a member's role or disables the account (its sessions end at once). */
export async function updateStaff(
  db: Database,
  actor: Actor,
  staffId: string,
  change: { role?: StaffRole; disabled?: boolean },
  reason: string,
): Promise<StaffMember> {
  return db.transaction(async (tx) => {
    const [before] = await tx.query<StaffRow>('SELECT * FROM staff WHERE id = $1 FOR UPDATE', [staffId]);
    if (!before) throw notFound('staff member');
    if (actor.kind === 'staff' && actor.id === staffId && (change.disabled || (change.role && change.role !== 'admin'))) {
      // An admin cannot lock themselves out: another admin must do it.
      throw invalid({ role: 'you cannot lower your own role or disable your own account' }, 'Ask another admin');
    }
    const now = new Date(clock.wallMs());
    const [after] = await tx.query<StaffRow>(
      `UPDATE staff SET role = coalesce($2, role),
         disabled_at = CASE WHEN $3::boolean IS NULL THEN disabled_at WHEN $3 THEN coalesce(disabled_at, $4) ELSE NULL END
       WHERE id = $1 RETURNING *`,
      [staffId, change.role ?? null, change.disabled ?? null, now],
    );
    if (change.disabled) await tx.query('DELETE FROM staff_sessions WHERE staff_id = $1', [staffId]);
    await audit(tx, actor, { action: 'staff.update', entityKind: 'staff', entityId: staffId, reason, before: { role: before.role, disabled: before.disabled_at !== null }, after: { role: after!.role, disabled: after!.disabled_at !== null } }, now);
    return memberOf(after!);
  });
}
