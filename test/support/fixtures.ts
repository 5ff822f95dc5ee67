// Holders and mailboxes for service tests, made through the real services.
import { SYSTEM } from '../../src/services/audit.ts';
import type { ServiceContext } from '../../src/services/context.ts';
import { createCustomer, createMailbox } from '../../src/services/mailboxes/provision.ts';
import { adjustCredit } from '../../src/services/billing/credit.ts';
import type { MailboxType } from '../../src/domain/catalogue.ts';
import { saveBillingProfile } from '../../src/services/billing/billing-profiles.ts';
import { PERSON_PROFILE } from './billing.ts';
import { OUTBOX_BODY_COLUMNS, renderedEmail, type StoredBodies } from '../../src/mail/outbox.ts';

let counter = 0;
export const uniqueAddress = (prefix = 'box'): string => `${prefix}${++counter}.${process.pid}.${Date.now().toString(36)}@pec.test.it`;

export async function holderWithMailbox(
  ctx: ServiceContext,
  opts: { creditCents?: number; expiresOn?: string; type?: MailboxType; locale?: 'it' | 'en'; usedBytes?: number; password?: string; billingProfile?: boolean } = {},
) {
  const customer = await createCustomer(ctx, SYSTEM, {
    name: 'Studio Bianchi',
    referenceEmail: `ref${++counter}@example.com`,
    locale: opts.locale ?? 'it',
  });
  const mailbox = await createMailbox(ctx, SYSTEM, {
    customerId: customer.id,
    address: uniqueAddress(),
    password: opts.password ?? 'password-1234',
    type: opts.type ?? 'standard',
    expiresOn: opts.expiresOn ?? '2026-12-01',
    usedBytes: opts.usedBytes ?? 0,
  });
  if (opts.creditCents) await adjustCredit(ctx, SYSTEM, customer.id, opts.creditCents, 'test credit');
  // R15: billing data come before the first card payment; a test about their absence says so.
  if (opts.billingProfile !== false) await saveBillingProfile(ctx, SYSTEM, customer.id, PERSON_PROFILE);
  return { customer, mailbox };
}

export async function outboxOf(ctx: ServiceContext, customerId: string) {
  const rows = await ctx.db.query<StoredBodies & { kind: string; to_address: string }>(
    `SELECT kind, to_address, ${OUTBOX_BODY_COLUMNS} FROM outbox WHERE customer_id = $1 ORDER BY seq`,
    [customerId],
  );
  return rows.map((r) => ({ kind: r.kind, to_address: r.to_address, subject: r.subject, text_body: renderedEmail(r).text }));
}
