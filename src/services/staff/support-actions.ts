// R19, support: what a support agent does for a holder on the phone — send a password-reset link,
// reset two-step verification (a lost phone), change the reference e-mail. Each in one transaction
// with its audit entry and the e-mail it causes.
import { clock } from '../../clock.ts';
import { normaliseAddress } from '../../domain/address.ts';
import { enqueueEmail } from '../../mail/outbox.ts';
import { referenceEmailChanged } from '../../mail/templates.ts';
import { audit, type Actor } from '../audit.ts';
import type { ServiceContext } from '../context.ts';
import { DomainError, invalid, notFound } from '../errors.ts';
import { issueResetLink, type ResetTarget } from '../access/password-reset.ts';
import type { CustomerRow } from '../rows.ts';
import { endSessionsOf } from '../access/sessions.ts';
import { twoStepStatus } from '../access/two-step.ts';

/** `Reimposta la password` to the holder's reference e-mail, for one of the holder's mailboxes that can still log in. */
export async function sendPasswordResetLink(ctx: ServiceContext, actor: Actor, customerId: string, mailboxId: string, reason: string): Promise<void> {
  const [mailbox] = await ctx.db.query<ResetTarget & { status: string }>(
    `SELECT m.id, m.address, m.customer_id, m.status, c.reference_email, c.locale
       FROM mailboxes m JOIN customers c ON c.id = m.customer_id WHERE m.id = $1 AND m.customer_id = $2`,
    [mailboxId, customerId],
  );
  if (!mailbox) throw notFound('mailbox');
  if (mailbox.status === 'terminated') throw new DomainError('mailbox_not_active', 'A terminated mailbox cannot log in: no reset link is sent');
  const twoStep = (await twoStepStatus(ctx.db, customerId)).enabled;
  const nowMs = clock.wallMs();
  await ctx.db.transaction(async (tx) => {
    await issueResetLink(tx, ctx, mailbox, twoStep, nowMs);
    await audit(tx, actor, { action: 'mailbox.password_reset_link', entityKind: 'mailbox', entityId: mailboxId, reason, after: { sentTo: mailbox.reference_email } }, clock.now());
  });
}

/** A holder who lost their phone: two-step verification off, recovery codes void, open sessions ended. */
export async function resetTwoStep(ctx: ServiceContext, actor: Actor, customerId: string, reason: string): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const [c] = await tx.query<{ id: string }>('SELECT id FROM customers WHERE id = $1 FOR UPDATE', [customerId]);
    if (!c) throw notFound('customer');
    const removed = await tx.query<{ confirmed_at: Date | null }>('DELETE FROM totp_credentials WHERE customer_id = $1 RETURNING confirmed_at', [customerId]);
    await tx.query('DELETE FROM totp_recovery_codes WHERE customer_id = $1', [customerId]);
    await tx.query('DELETE FROM login_challenges WHERE customer_id = $1', [customerId]);
    await endSessionsOf(tx, customerId);
    await audit(tx, actor, { action: 'customer.two_step_reset', entityKind: 'customer', entityId: customerId, reason, before: { enabled: Boolean(removed[0]?.confirmed_at) }, after: { enabled: false } }, clock.now());
  });
}

/**
 * The holder asked support (identified on the phone) to change where notices go: it applies at once,
 * and the old address is told, as when the holder confirms a change themselves.
 */
export async function changeReferenceEmailByStaff(ctx: ServiceContext, actor: Actor, customerId: string, rawEmail: string, reason: string): Promise<CustomerRow> {
  const normalised = normaliseAddress(rawEmail);
  if (!normalised.ok) throw invalid({ referenceEmail: normalised.error });
  const now = clock.now();
  return ctx.db.transaction(async (tx) => {
    const [before] = await tx.query<CustomerRow>('SELECT * FROM customers WHERE id = $1 FOR UPDATE', [customerId]);
    if (!before) throw notFound('customer');
    if (before.reference_email === normalised.value) throw invalid({ referenceEmail: 'is the reference e-mail already' });
    const [after] = await tx.query<CustomerRow>('UPDATE customers SET reference_email = $2 WHERE id = $1 RETURNING *', [customerId, normalised.value]);
    // A change the holder had asked for and not confirmed is void: staff's word is the latest.
    await tx.query('DELETE FROM reference_email_changes WHERE customer_id = $1 AND used_at IS NULL', [customerId]);
    await enqueueEmail(
      tx,
      {
        customerId,
        kind: 'reference_email_changed',
        to: before.reference_email,
        locale: before.locale,
        content: referenceEmailChanged(before.locale, { oldEmail: before.reference_email, newEmail: normalised.value, profileUrl: `${ctx.publicUrl}/profilo` }),
      },
      now,
    );
    await audit(tx, actor, { action: 'customer.reference_email', entityKind: 'customer', entityId: customerId, reason, before: { referenceEmail: before.reference_email }, after: { referenceEmail: normalised.value } }, now);
    return after!;
  });
}
