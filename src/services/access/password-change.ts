// Issue 13: the holder changes the password of the mailbox they logged in with (the customer area's
// `Cambia password`, `PUT /api/me/password`). The new hash is what the mail server reads too, so the
// new password opens IMAP at once and the old one nothing; the holder's other sessions end with it,
// in one transaction. A wrong current password is a guess like a wrong login: counted in the login
// throttle of the mailbox's address, from this client and browser.
import { passwordWeakness, WEAKNESS_MESSAGE } from '../../domain/password-strength.ts';
import { clock } from '../../clock.ts';
import { audit } from '../audit.ts';
import type { ServiceContext } from '../context.ts';
import { DomainError, invalid, notFound } from '../errors.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import { countPasswordAttempt, endSessionsOf, forgiveAttempt } from './sessions.ts';

export interface PasswordChanger {
  customerId: string;
  /** The mailbox whose password opened the session: the one whose password changes. */
  mailboxId: string;
  /** The session's cookie value: that session goes on. */
  sessionToken: string;
  /** As for a login: the client's address and the browser's device cookie, for the throttle. */
  clientKey: string;
  deviceCookie?: string | undefined;
}

async function sessionMailbox(ctx: ServiceContext, customerId: string, mailboxId: string): Promise<{ address: string; password_hash: string }> {
  const [row] = await ctx.db.query<{ address: string; password_hash: string }>(
    'SELECT address, password_hash FROM mailboxes WHERE id = $1 AND customer_id = $2',
    [mailboxId, customerId],
  );
  if (!row) throw notFound('mailbox');
  return row;
}

/** The address of the mailbox a session logged in with. */
export const sessionMailboxAddress = async (ctx: ServiceContext, customerId: string, mailboxId: string): Promise<string> =>
  (await sessionMailbox(ctx, customerId, mailboxId)).address;

/**
 * Sets the mailbox's password to `newPassword` when `currentPassword` is its password now. Issue 19:
 * a wrong current password is refused whatever the new one is; answering a retry whose new password
 * is the mailbox's own with a success made that field a second, unthrottled oracle for the password.
 */
export async function changeMailboxPassword(ctx: ServiceContext, who: PasswordChanger, currentPassword: string, newPassword: string): Promise<void> {
  const { address, password_hash: stored } = await sessionMailbox(ctx, who.customerId, who.mailboxId);
  const weakness = passwordWeakness(newPassword, address, currentPassword);
  if (weakness) throw invalid({ newPassword: WEAKNESS_MESSAGE[weakness] }, `The new password ${WEAKNESS_MESSAGE[weakness]}`);

  const keys = await countPasswordAttempt(ctx.db, address, who.clientKey, who.deviceCookie);
  if (!(await verifyPassword(currentPassword, stored))) throw new DomainError('invalid_credentials', 'The current password is wrong');
  const newHash = await hashPassword(newPassword);
  const now = clock.now();
  await ctx.db.transaction(async (tx) => {
    const [locked] = await tx.query<{ password_hash: string }>('SELECT password_hash FROM mailboxes WHERE id = $1 FOR UPDATE', [who.mailboxId]);
    // Changed since it was verified (another session's change, or a login's rewrite of a legacy hash).
    if (locked!.password_hash !== stored && !(await verifyPassword(currentPassword, locked!.password_hash))) {
      throw new DomainError('invalid_credentials', 'The current password is wrong');
    }
    await tx.query('UPDATE mailboxes SET password_hash = $2, updated_at = $3 WHERE id = $1', [who.mailboxId, newHash, now]);
    await endSessionsOf(tx, who.customerId, who.sessionToken);
    await forgiveAttempt(tx, keys);
    await audit(tx, { kind: 'holder', id: who.customerId }, { action: 'mailbox.password_change', entityKind: 'mailbox', entityId: who.mailboxId, after: { passwordChanged: true } }, now);
  });
}
