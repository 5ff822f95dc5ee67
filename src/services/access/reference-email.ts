// Issue 15: the holder's reference e-mail (where R10's alerts and every other e-mail go) changes only
// once the new address proves it reads its mail: a link sent there, used once within 24 hours. The
// old address is told when the change takes effect, so a change made by someone else is noticed.
// Issue 19: a session alone is not enough to move the address where "Password dimenticata?" sends its
// links: the request needs the password of the mailbox the session logged in with (a guess counted
// like a login's), the current address is told at once, and the pending change is void when the
// holder's sessions end (sessions.ts voidPendingChanges).
import { createHash, randomBytes } from 'node:crypto';
import { clock } from '../../clock.ts';
import { normaliseAddress } from '../../domain/address.ts';
import { enqueueEmail } from '../../mail/outbox.ts';
import { referenceEmailChangeAsked, referenceEmailChanged, referenceEmailConfirmation } from '../../mail/templates.ts';
import type { Locale } from '../../i18n/format.ts';
import { audit } from '../audit.ts';
import type { ServiceContext } from '../context.ts';
import type { Queryable } from '../../db/database.ts';
import { DomainError, invalid, notFound } from '../errors.ts';
import { readCustomer, type CustomerRow } from '../rows.ts';
import { countAttempt } from './throttle.ts';
import { verifyPassword } from './passwords.ts';
import { countPasswordAttempt, forgiveAttempt } from './sessions.ts';

/** How long the confirmation link works. */
export const EMAIL_CHANGE_LINK_MS = 24 * 3600_000;
/** Confirmation e-mails a holder may have sent within the throttle window (15 minutes). */
export const EMAIL_CHANGE_REQUESTS_MAX = 5;

const sha256 = (s: string): string => createHash('sha256').update(s).digest('base64url');
const linkGone = () => new DomainError('not_found', 'This confirmation link has expired or was used already');

export const confirmationPath = (token: string): string => `/email-di-riferimento/${token}`;

export interface PendingEmail {
  email: string;
  expiresAt: Date;
}

/** The new address waiting for its link to be opened, if any. */
export async function pendingReferenceEmail(db: Queryable, customerId: string): Promise<PendingEmail | null> {
  const [row] = await db.query<{ new_email: string; expires_at: Date }>(
    'SELECT new_email, expires_at FROM reference_email_changes WHERE customer_id = $1 AND used_at IS NULL AND expires_at > $2 ORDER BY created_at DESC LIMIT 1',
    [customerId, new Date(clock.wallMs())],
  );
  return row ? { email: row.new_email, expiresAt: row.expires_at } : null;
}

export interface ReferenceEmailChanger {
  customerId: string;
  /** The mailbox whose password opened the session: its password is asked for. */
  mailboxId: string;
  /** As for a login: the client's address and the browser's device cookie, for the throttle. */
  clientKey: string;
  deviceCookie?: string | undefined;
}

/** Issue 19: the password of the session's mailbox, checked as a login checks it (counted first, forgiven when right). */
async function checkCurrentPassword(ctx: ServiceContext, who: ReferenceEmailChanger, currentPassword: string): Promise<void> {
  const [mailbox] = await ctx.db.query<{ address: string; password_hash: string }>('SELECT address, password_hash FROM mailboxes WHERE id = $1 AND customer_id = $2', [
    who.mailboxId,
    who.customerId,
  ]);
  if (!mailbox) throw notFound('mailbox');
  const keys = await countPasswordAttempt(ctx.db, mailbox.address, who.clientKey, who.deviceCookie);
  if (!(await verifyPassword(currentPassword, mailbox.password_hash))) throw new DomainError('invalid_credentials', 'The current password is wrong');
  await forgiveAttempt(ctx.db, keys);
}

/**
 * Sends the confirmation link to `rawEmail`, and a notice to the current address; the reference
 * e-mail stays as it is until the link is opened. A newer request voids an older link.
 */
export async function requestReferenceEmailChange(ctx: ServiceContext, who: ReferenceEmailChanger, rawEmail: string, currentPassword: string): Promise<PendingEmail> {
  const customerId = who.customerId;
  const normalised = normaliseAddress(rawEmail);
  if (!normalised.ok) throw invalid({ email: normalised.error });
  const customer = await readCustomer(ctx.db, customerId);
  if (!customer) throw notFound('customer');
  if (normalised.value === customer.reference_email) throw invalid({ email: 'is the reference e-mail already' });
  if (!currentPassword) throw invalid({ currentPassword: 'is required' });
  await checkCurrentPassword(ctx, who, currentPassword);
  const nowMs = clock.wallMs();
  const wait = await countAttempt(ctx.db, [{ key: `email-change:${customerId}`, attemptsMax: EMAIL_CHANGE_REQUESTS_MAX }], nowMs);
  if (wait > 0) throw new DomainError('rate_limited', 'Too many confirmation e-mails asked for: try again later', undefined, wait);
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(nowMs + EMAIL_CHANGE_LINK_MS);
  const now = clock.now();
  await ctx.db.transaction(async (tx) => {
    await tx.query('DELETE FROM reference_email_changes WHERE customer_id = $1 AND used_at IS NULL', [customerId]);
    await tx.query('INSERT INTO reference_email_changes (id_hash, customer_id, new_email, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)', [
      sha256(token),
      customerId,
      normalised.value,
      new Date(nowMs),
      expiresAt,
    ]);
    await enqueueEmail(
      tx,
      {
        customerId,
        kind: 'reference_email_confirmation',
        to: normalised.value,
        locale: customer.locale,
        content: referenceEmailConfirmation(customer.locale, {
          holderName: customer.name,
          newEmail: normalised.value,
          confirmUrl: `${ctx.publicUrl}${confirmationPath(token)}`,
          validHours: EMAIL_CHANGE_LINK_MS / 3600_000,
        }),
      },
      now,
    );
    await enqueueEmail(
      tx,
      {
        customerId,
        kind: 'reference_email_change_asked',
        to: customer.reference_email,
        locale: customer.locale,
        content: referenceEmailChangeAsked(customer.locale, { oldEmail: customer.reference_email, newEmail: normalised.value, validHours: EMAIL_CHANGE_LINK_MS / 3600_000 }),
      },
      now,
    );
  });
  return { email: normalised.value, expiresAt };
}

/** The address a confirmation link would set, while the link works; else null. */
export async function referenceEmailLink(ctx: ServiceContext, token: string): Promise<{ email: string; locale: Locale } | null> {
  if (!token || token.length > 100) return null;
  const [row] = await ctx.db.query<{ new_email: string; locale: Locale }>(
    `SELECT r.new_email, c.locale FROM reference_email_changes r JOIN customers c ON c.id = r.customer_id
      WHERE r.id_hash = $1 AND r.used_at IS NULL AND r.expires_at > $2`,
    [sha256(token), new Date(clock.wallMs())],
  );
  return row ? { email: row.new_email, locale: row.locale } : null;
}

/** The link was opened and confirmed: the new address is the reference e-mail, and the old one is told, in one transaction. */
export async function confirmReferenceEmail(ctx: ServiceContext, token: string): Promise<CustomerRow> {
  if (!token || token.length > 100) throw linkGone();
  const now = clock.now();
  return ctx.db.transaction(async (tx) => {
    const [link] = await tx.query<{ customer_id: string; new_email: string }>(
      'UPDATE reference_email_changes SET used_at = $2 WHERE id_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING customer_id, new_email',
      [sha256(token), new Date(clock.wallMs())],
    );
    if (!link) throw linkGone();
    const [before] = await tx.query<CustomerRow>('SELECT * FROM customers WHERE id = $1 FOR UPDATE', [link.customer_id]);
    const [after] = await tx.query<CustomerRow>('UPDATE customers SET reference_email = $2 WHERE id = $1 RETURNING *', [link.customer_id, link.new_email]);
    if (before!.reference_email !== link.new_email) {
      await enqueueEmail(
        tx,
        {
          customerId: link.customer_id,
          kind: 'reference_email_changed',
          to: before!.reference_email,
          locale: before!.locale,
          content: referenceEmailChanged(before!.locale, { oldEmail: before!.reference_email, newEmail: link.new_email, profileUrl: `${ctx.publicUrl}/profilo` }),
        },
        now,
      );
    }
    await audit(
      tx,
      { kind: 'holder', id: link.customer_id },
      { action: 'customer.reference_email', entityKind: 'customer', entityId: link.customer_id, before: { referenceEmail: before!.reference_email }, after: { referenceEmail: link.new_email } },
      now,
    );
    return after!;
  });
}
