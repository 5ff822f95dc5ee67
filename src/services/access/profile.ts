// Issue 15, `Profilo`: the holder's own name and language (the language their pages and e-mails use).
import { clock } from '../../clock.ts';
import type { Locale } from '../../i18n/format.ts';
import { audit } from '../audit.ts';
import type { ServiceContext } from '../context.ts';
import { invalid, notFound } from '../errors.ts';
import type { CustomerRow } from '../rows.ts';

export const NAME_CHARS_MAX = 200;

export interface ProfileChange {
  name?: string | undefined;
  locale?: Locale | undefined;
}

export function nameProblem(name: string): string | null {
  const n = name.trim();
  if (!n) return 'must not be empty';
  if (n.length > NAME_CHARS_MAX) return `must be at most ${NAME_CHARS_MAX} characters`;
  if (/[\u0000-\u001f\u007f]/.test(n)) return 'must not contain control characters';
  return null;
}

export async function updateProfile(ctx: ServiceContext, customerId: string, change: ProfileChange): Promise<CustomerRow> {
  const problem = change.name === undefined ? null : nameProblem(change.name);
  if (problem) throw invalid({ name: problem });
  const now = clock.now();
  return ctx.db.transaction(async (tx) => {
    const [before] = await tx.query<CustomerRow>('SELECT * FROM customers WHERE id = $1 FOR UPDATE', [customerId]);
    if (!before) throw notFound('customer');
    const [after] = await tx.query<CustomerRow>('UPDATE customers SET name = $2, locale = $3 WHERE id = $1 RETURNING *', [
      customerId,
      change.name === undefined ? before.name : change.name.trim(),
      change.locale ?? before.locale,
    ]);
    if (after!.name !== before.name || after!.locale !== before.locale) {
      await audit(
        tx,
        { kind: 'holder', id: customerId },
        { action: 'customer.profile', entityKind: 'customer', entityId: customerId, before: { name: before.name, locale: before.locale }, after: { name: after!.name, locale: after!.locale } },
        now,
      );
    }
    return after!;
  });
}
