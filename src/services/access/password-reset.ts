// Issue 15, `Password dimenticata?`: a holder who lost a mailbox's password asks for a reset link by
// the mailbox's address; the link goes to the reference e-mail of the mailbox's holder (never to the
// PEC mailbox itself, which the lost password opens). The answer never says whether the address
// exists. The link works once, for 30 minutes; only its token's hash is stored. Setting the new
// password ends every session of the holder, in the same transaction, and the mail server reads the
// new hash at once (it has no cache). Two-step verification stays on and is asked for: the link alone
// (control of the reference e-mail) does not stand in for the holder's phone.
import { createHash, randomBytes } from 'node:crypto';
import { clock } from '../../clock.ts';
import type { Tx } from '../../db/database.ts';
import { passwordWeakness, WEAKNESS_MESSAGE } from '../../domain/password-strength.ts';
import { enqueueEmail } from '../../mail/outbox.ts';
import { passwordReset } from '../../mail/templates.ts';
import type { Locale } from '../../i18n/format.ts';
import { audit } from '../audit.ts';
import type { ServiceContext } from '../context.ts';
import { DomainError, invalid } from '../errors.ts';
import { hashPassword } from './passwords.ts';
import { endSessionsOf } from './sessions.ts';
import { countAttempt, forgetAttempts, THROTTLE_WINDOW_MS } from './throttle.ts';
import { checkSecondStep, twoStepStatus } from './two-step.ts';

/** How long a reset link works. */
export const RESET_LINK_MS = 30 * 60_000;
/** Requests allowed within the throttle window (15 minutes): per address asked for, and per client across addresses. */
export const RESET_THROTTLE = { windowMs: THROTTLE_WINDOW_MS, perAddressMax: 3, perClientMax: 10 } as const;
/** Wrong two-step codes given with one link before the link stops working. */
export const RESET_CODE_TRIES_MAX = 5;
const ADDRESS_CHARS_MAX = 320;

const sha256 = (s: string): string => createHash('sha256').update(s).digest('base64url');
const linkGone = () => new DomainError('not_found', 'This reset link has expired or was used already: ask for a new one');

/** Where the link leads: the reset page of the customer area. */
export const resetPath = (token: string): string => `/reimposta-password/${token}`;

/** Issue 19: what an unknown address is answered with, so its request does the same work as a known one's. */
const DECOY_MAILBOX_ID = 'mbx_none';
const DECOY_CUSTOMER_ID = 'cus_none';

export interface ResetTarget {
  id: string;
  address: string;
  customer_id: string;
  reference_email: string;
  locale: Locale;
}

/**
 * Sends a reset link for `address` to its holder's reference e-mail, if the address is a mailbox that
 * can still log in; otherwise does nothing. Either way it answers the same, and counts the request
 * against the address and the client first (rate_limited past the limits), so neither probing for
 * addresses nor flooding a holder's inbox goes far.
 *
 * Issue 19: either way it also takes as long. Both paths run the same statements in one transaction
 * that writes (the throttle's count) and commits once: the link's INSERT selects its mailbox, so for
 * an unknown address it inserts nothing; the e-mail is written inside a savepoint that an unknown
 * address rolls back and a known one releases.
 */
export async function requestPasswordReset(ctx: ServiceContext, address: string, clientKey: string): Promise<void> {
  const normalised = address.trim().toLowerCase().slice(0, ADDRESS_CHARS_MAX);
  const nowMs = clock.wallMs();
  const now = clock.now();
  const token = randomBytes(32).toString('base64url');
  const wait = await ctx.db.transaction(async (tx) => {
    const waitSeconds = await countAttempt(
      tx,
      [
        { key: `reset-address:${normalised}`, attemptsMax: RESET_THROTTLE.perAddressMax },
        { key: `reset-client:${clientKey}`, attemptsMax: RESET_THROTTLE.perClientMax },
      ],
      nowMs,
    );
    if (waitSeconds > 0) return waitSeconds;
    const [mailbox] = await tx.query<ResetTarget>(
      `SELECT m.id, m.address, m.customer_id, c.reference_email, c.locale
         FROM mailboxes m JOIN customers c ON c.id = m.customer_id
        WHERE lower(m.address) = $1 AND m.status <> 'terminated'`,
      [normalised],
    );
    const target: ResetTarget = mailbox ?? { id: DECOY_MAILBOX_ID, address: normalised, customer_id: DECOY_CUSTOMER_ID, reference_email: normalised, locale: 'it' };
    const twoStep = (await twoStepStatus(tx, target.customer_id)).enabled;
    // Only the newest link works: an older one, perhaps read by someone else, is void.
    await tx.query('DELETE FROM password_resets WHERE mailbox_id = $1', [target.id]);
    await tx.query(
      `INSERT INTO password_resets (id_hash, mailbox_id, customer_id, created_at, expires_at)
       SELECT $1, m.id, m.customer_id, $3, $4 FROM mailboxes m WHERE m.id = $2`,
      [sha256(token), target.id, new Date(nowMs), new Date(nowMs + RESET_LINK_MS)],
    );
    await tx.query('SAVEPOINT reset_email');
    await enqueueEmail(
      tx,
      {
        customerId: mailbox ? target.customer_id : null,
        kind: 'password_reset',
        to: target.reference_email,
        locale: target.locale,
        content: passwordReset(target.locale, { address: target.address, resetUrl: `${ctx.publicUrl}${resetPath(token)}`, validMinutes: RESET_LINK_MS / 60_000, twoStep }),
      },
      now,
    );
    await tx.query(mailbox ? 'RELEASE SAVEPOINT reset_email' : 'ROLLBACK TO SAVEPOINT reset_email');
    return 0;
  });
  if (wait > 0) throw new DomainError('rate_limited', 'Too many password reset requests: try again later', undefined, wait);
}

/**
 * A new link for the mailbox, e-mailed to its holder's reference address in the same transaction:
 * what a holder's request does, and what staff send on the holder's behalf (R19).
 */
export async function issueResetLink(tx: Tx, ctx: ServiceContext, mailbox: ResetTarget, twoStep: boolean, nowMs: number): Promise<void> {
  const token = randomBytes(32).toString('base64url');
  // Only the newest link works: an older one, perhaps read by someone else, is void.
  await tx.query('DELETE FROM password_resets WHERE mailbox_id = $1', [mailbox.id]);
  await tx.query('INSERT INTO password_resets (id_hash, mailbox_id, customer_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)', [
    sha256(token),
    mailbox.id,
    mailbox.customer_id,
    new Date(nowMs),
    new Date(nowMs + RESET_LINK_MS),
  ]);
  await enqueueEmail(
    tx,
    {
      customerId: mailbox.customer_id,
      kind: 'password_reset',
      to: mailbox.reference_email,
      locale: mailbox.locale,
      content: passwordReset(mailbox.locale, { address: mailbox.address, resetUrl: `${ctx.publicUrl}${resetPath(token)}`, validMinutes: RESET_LINK_MS / 60_000, twoStep }),
    },
    clock.now(),
  );
}

export interface ResetLink {
  address: string;
  customerId: string;
  mailboxId: string;
  /** Two-step verification is on: the reset needs a code too. */
  twoStep: boolean;
  expiresAt: Date;
}

/** The link's mailbox while the link works (unused, unexpired, tries left), else null. */
export async function resetLink(ctx: ServiceContext, token: string): Promise<ResetLink | null> {
  if (!token || token.length > 100) return null;
  const [row] = await ctx.db.query<{ mailbox_id: string; customer_id: string; address: string; expires_at: Date }>(
    `SELECT r.mailbox_id, r.customer_id, m.address, r.expires_at
       FROM password_resets r JOIN mailboxes m ON m.id = r.mailbox_id
      WHERE r.id_hash = $1 AND r.used_at IS NULL AND r.expires_at > $2 AND r.attempts < $3 AND m.status <> 'terminated'`,
    [sha256(token), new Date(clock.wallMs()), RESET_CODE_TRIES_MAX],
  );
  if (!row) return null;
  const twoStep = (await twoStepStatus(ctx.db, row.customer_id)).enabled;
  return { address: row.address, customerId: row.customer_id, mailboxId: row.mailbox_id, twoStep, expiresAt: row.expires_at };
}

/** Two-step verification is on and the reset came without a valid code. */
export class ResetCodeRequired extends DomainError {
  constructor(readonly wrongCode: boolean) {
    super('totp_required', wrongCode ? 'Wrong or already used two-step verification code' : 'Two-step verification is on: send totpCode too', {
      totpCode: wrongCode ? 'wrong or already used code' : 'required',
    });
  }
}

/**
 * Sets the mailbox's password through the link: the strength rule of a password change, a code when
 * two-step verification is on, then in one transaction the new Argon2id hash, the link used, every
 * session of the holder ended, pending second login steps dropped and the address's failed-login
 * count forgotten (the holder proved they are the holder).
 */
export async function completePasswordReset(ctx: ServiceContext, token: string, newPassword: string, totpCode?: string): Promise<void> {
  const link = await resetLink(ctx, token);
  if (!link) throw linkGone();
  const weakness = passwordWeakness(newPassword, link.address, '');
  if (weakness) throw invalid({ newPassword: WEAKNESS_MESSAGE[weakness] }, `The new password ${WEAKNESS_MESSAGE[weakness]}`);
  // The code is checked (and, if right, used up) before the transaction: a wrong one must stay
  // counted against the link, which a rolled-back transaction would not do.
  const second = await checkSecondStep(ctx.db, link.customerId, totpCode);
  if (second === 'missing') throw new ResetCodeRequired(false);
  if (second === 'wrong') {
    await ctx.db.query('UPDATE password_resets SET attempts = attempts + 1 WHERE id_hash = $1', [sha256(token)]);
    throw new ResetCodeRequired(true);
  }
  const newHash = await hashPassword(newPassword);
  const now = clock.now();
  await ctx.db.transaction(async (tx) => {
    // Taken in one statement: of two requests with the same link, one sets the password.
    const taken = await tx.query(
      'UPDATE password_resets SET used_at = $2 WHERE id_hash = $1 AND used_at IS NULL AND expires_at > $2 AND attempts < $3 RETURNING 1',
      [sha256(token), new Date(clock.wallMs()), RESET_CODE_TRIES_MAX],
    );
    if (!taken.length) throw linkGone();
    await tx.query("UPDATE mailboxes SET password_hash = $2, updated_at = $3 WHERE id = $1 AND status <> 'terminated'", [link.mailboxId, newHash, now]);
    await endSessionsOf(tx, link.customerId);
    await tx.query('DELETE FROM login_challenges WHERE customer_id = $1', [link.customerId]);
    await forgetAttempts(tx, `address:${link.address.toLowerCase()}`);
    await audit(tx, { kind: 'holder', id: link.customerId }, { action: 'mailbox.password_reset', entityKind: 'mailbox', entityId: link.mailboxId, after: { passwordChanged: true } }, now);
  });
}
