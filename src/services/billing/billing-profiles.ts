// R15 "Dati di fatturazione": the holder's billing data, required before the first card payment.
import type { Queryable } from '../../db/database.ts';
import { validateBillingProfile, type BillingProfile } from '../../domain/billing-profile.ts';
import { clock } from '../../clock.ts';
import type { ServiceContext } from '../context.ts';
import { DomainError, invalid } from '../errors.ts';
import { audit, type Actor } from '../audit.ts';

export interface StoredBillingProfile {
  profile: BillingProfile;
  updatedAt: Date;
}

export async function readBillingProfile(db: Queryable, customerId: string): Promise<StoredBillingProfile | null> {
  const [row] = await db.query<{ profile: BillingProfile; updated_at: Date }>(
    'SELECT profile, updated_at FROM billing_profiles WHERE customer_id = $1',
    [customerId],
  );
  return row ? { profile: row.profile, updatedAt: row.updated_at } : null;
}

/** Checks and stores the holder's billing data (audited, before and after); 422 naming each wrong field. */
export async function saveBillingProfile(ctx: ServiceContext, actor: Actor, customerId: string, input: Record<string, unknown>): Promise<StoredBillingProfile> {
  const checked = validateBillingProfile(input);
  if (!checked.ok) throw invalid(checked.fields, 'Some billing data are not valid');
  const now = clock.now();
  return ctx.db.transaction(async (tx) => {
    const before = await readBillingProfile(tx, customerId);
    const [row] = await tx.query<{ updated_at: Date }>(
      `INSERT INTO billing_profiles (customer_id, profile, updated_at) VALUES ($1, $2, $3)
       ON CONFLICT (customer_id) DO UPDATE SET profile = EXCLUDED.profile, updated_at = EXCLUDED.updated_at
       RETURNING updated_at`,
      [customerId, JSON.stringify(checked.value), now],
    );
    await audit(tx, actor, { action: 'billing_profile.save', entityKind: 'customer', entityId: customerId, before: before?.profile ?? null, after: checked.value }, now);
    return { profile: checked.value, updatedAt: row!.updated_at };
  });
}

export const billingProfileRequired = (): DomainError =>
  new DomainError('billing_profile_required', 'Record your billing data (Dati di fatturazione) before the first card payment');

/** R15: a card payment needs somebody to invoice. */
export async function requireBillingProfile(db: Queryable, customerId: string): Promise<void> {
  const rows = await db.query('SELECT 1 FROM billing_profiles WHERE customer_id = $1', [customerId]);
  if (!rows.length) throw billingProfileRequired();
}
