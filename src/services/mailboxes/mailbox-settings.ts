// The holder's renewal switches (R7: auto-renewal on by default, the holder can switch it off, for
// the mailbox and for its extra space separately). Audited like every change a person makes.
import { clock } from '../../clock.ts';
import { audit, type Actor } from '../audit.ts';
import type { ServiceContext } from '../context.ts';
import { notFound } from '../errors.ts';
import { lockMailbox, readMailbox, type MailboxRow } from '../rows.ts';

export interface RenewalSwitches {
  autoRenew?: boolean | undefined;
  extraSpaceAutoRenew?: boolean | undefined;
}

export async function setRenewalSwitches(
  ctx: ServiceContext,
  actor: Actor,
  customerId: string,
  mailboxId: string,
  change: RenewalSwitches,
): Promise<MailboxRow> {
  const now = clock.now();
  return ctx.db.transaction(async (tx) => {
    const before = await lockMailbox(tx, mailboxId, customerId);
    if (!before) throw notFound('mailbox');
    if (change.autoRenew === undefined && change.extraSpaceAutoRenew === undefined) return before;
    await tx.query(
      `UPDATE mailboxes SET auto_renew = coalesce($2, auto_renew), extra_space_auto_renew = coalesce($3, extra_space_auto_renew),
         updated_at = $4 WHERE id = $1`,
      [mailboxId, change.autoRenew ?? null, change.extraSpaceAutoRenew ?? null, now],
    );
    const after = (await readMailbox(tx, mailboxId, customerId))!;
    await audit(
      tx,
      actor,
      {
        action: 'mailbox.renewal_switches',
        entityKind: 'mailbox',
        entityId: mailboxId,
        before: { autoRenew: before.auto_renew, extraSpaceAutoRenew: before.extra_space_auto_renew },
        after: { autoRenew: after.auto_renew, extraSpaceAutoRenew: after.extra_space_auto_renew },
      },
      now,
    );
    return after;
  });
}
