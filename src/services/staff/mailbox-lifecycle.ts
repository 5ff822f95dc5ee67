// R19, admin: a mailbox's lifecycle in staff's hands — suspend and reactivate (abuse, a legal order),
// terminate now, extend the expiry as a goodwill gesture, change the type from the next renewal.
// Each is one transaction with its audit entry, the mail server's view of the mailbox (which reads the
// same rows) and, where the holder must know, the e-mail.
import { clock } from '../../clock.ts';
import { MAILBOX_TYPES, type MailboxType } from '../../domain/catalogue.ts';
import { lifecycleStep, planExtension, type LifecycleAction } from '../../domain/mailbox-lifecycle.ts';
import { enqueueEmail } from '../../mail/outbox.ts';
import { mailboxTerminated } from '../../mail/templates.ts';
import { audit, type Actor } from '../audit.ts';
import type { ServiceContext } from '../context.ts';
import { DomainError, invalid, notFound } from '../errors.ts';
import { lockMailbox, mailboxFacts, readCustomer, readMailbox, type MailboxRow } from '../rows.ts';
import { endSessionsOf } from '../access/sessions.ts';

const notAllowed = (why: string) => new DomainError('mailbox_not_active', why);

export async function changeMailboxState(ctx: ServiceContext, actor: Actor, mailboxId: string, action: LifecycleAction, reason: string): Promise<MailboxRow> {
  const now = clock.now();
  const today = clock.today();
  return ctx.db.transaction(async (tx) => {
    const before = await lockMailbox(tx, mailboxId, null);
    if (!before) throw notFound('mailbox');
    const step = lifecycleStep(before.status, action);
    if (!step.ok) throw notAllowed(step.why);
    await tx.query('UPDATE mailboxes SET status = $2, updated_at = $3 WHERE id = $1', [mailboxId, step.status, now]);
    if (action === 'suspend') {
      // "The holder's open sessions end" (R19): a suspension is for abuse or a legal order.
      await endSessionsOf(tx, before.customer_id);
    }
    if (action === 'terminate') {
      // Terminated: no extra space runs on, and no session opened with its credentials stays open.
      await tx.query(`UPDATE addons SET status = 'deactivated', updated_at = $2 WHERE mailbox_id = $1 AND status = 'active'`, [mailboxId, now]);
      await tx.query('DELETE FROM sessions WHERE mailbox_id = $1', [mailboxId]);
      const holder = (await readCustomer(tx, before.customer_id))!;
      await enqueueEmail(
        tx,
        {
          customerId: holder.id,
          kind: 'mailbox_terminated',
          to: holder.reference_email,
          locale: holder.locale,
          content: mailboxTerminated(holder.locale, { address: before.address, terminatedOn: today, mailboxUrl: `${ctx.publicUrl}/mailboxes/${mailboxId}` }),
        },
        now,
      );
    }
    await audit(tx, actor, { action: `mailbox.${action}`, entityKind: 'mailbox', entityId: mailboxId, reason, before: { status: before.status }, after: { status: step.status } }, now);
    return (await readMailbox(tx, mailboxId, null))!;
  });
}

/** Goodwill: a later expiry at no charge (an expired mailbox whose new E is ahead is active again). */
export async function extendExpiry(ctx: ServiceContext, actor: Actor, mailboxId: string, expiresOn: string, reason: string): Promise<MailboxRow> {
  const now = clock.now();
  return ctx.db.transaction(async (tx) => {
    const before = await lockMailbox(tx, mailboxId, null);
    if (!before) throw notFound('mailbox');
    const facts = mailboxFacts(before);
    const plan = planExtension({ status: facts.status, expiresOn: facts.expiresOn, addon: facts.addon }, expiresOn, clock.today());
    if (!plan.ok) {
      if (plan.field === 'status') throw notAllowed(plan.why);
      throw invalid({ [plan.field]: plan.why });
    }
    await tx.query('UPDATE mailboxes SET expires_on = $2, status = $3, updated_at = $4 WHERE id = $1', [mailboxId, plan.expiresOn.toString(), plan.status, now]);
    if (plan.addonActiveUntil) {
      await tx.query(`UPDATE addons SET active_until = $2, updated_at = $3 WHERE mailbox_id = $1 AND status = 'active'`, [mailboxId, plan.addonActiveUntil.toString(), now]);
    }
    await audit(tx, actor, { action: 'mailbox.extend', entityKind: 'mailbox', entityId: mailboxId, reason, before: { expiresOn: before.expires_on, status: before.status }, after: { expiresOn: plan.expiresOn.toString(), status: plan.status, extraSpaceActiveUntil: plan.addonActiveUntil?.toString() ?? null } }, now);
    return (await readMailbox(tx, mailboxId, null))!;
  });
}

/** The type the mailbox takes at its next renewal, priced at that type then (R19); its own type keeps it. */
export async function changeNextType(ctx: ServiceContext, actor: Actor, mailboxId: string, type: string, reason: string): Promise<MailboxRow> {
  if (!(MAILBOX_TYPES as readonly string[]).includes(type)) throw invalid({ type: `must be one of ${MAILBOX_TYPES.join(', ')}` });
  const now = clock.now();
  return ctx.db.transaction(async (tx) => {
    const before = await lockMailbox(tx, mailboxId, null);
    if (!before) throw notFound('mailbox');
    if (before.status === 'terminated') throw notAllowed('a terminated mailbox has no next renewal');
    // Choosing the type it has already means no change at the next renewal.
    const nextType: MailboxType | null = type === before.type ? null : (type as MailboxType);
    await tx.query('UPDATE mailboxes SET next_type = $2, updated_at = $3 WHERE id = $1', [mailboxId, nextType, now]);
    await audit(tx, actor, { action: 'mailbox.next_type', entityKind: 'mailbox', entityId: mailboxId, reason, before: { type: before.type, nextType: before.next_type }, after: { nextType } }, now);
    return (await readMailbox(tx, mailboxId, null))!;
  });
}
