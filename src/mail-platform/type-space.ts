// R14: the mail server reads each type's base inbox from the database, so Casella writes there the
// figure its catalogue (CASELLA_CONFIG) gives, at every start. A changed base changes the space of
// every mailbox of that type: they are noted for the usage pass (R11), as any change of space is.
import type { Database } from '../db/database.ts';
import { baseBytes, MAILBOX_TYPES, type Catalogue } from '../domain/catalogue.ts';

export async function syncMailboxTypeSpace(db: Database, c: Catalogue): Promise<void> {
  await db.transaction(async (tx) => {
    const changed = await tx.query<{ type: string }>(
      `INSERT INTO mailbox_type_space AS s (type, base_bytes)
       SELECT * FROM unnest($1::text[], $2::int8[])
       ON CONFLICT (type) DO UPDATE SET base_bytes = EXCLUDED.base_bytes
        WHERE s.base_bytes IS DISTINCT FROM EXCLUDED.base_bytes
       RETURNING type`,
      [[...MAILBOX_TYPES], MAILBOX_TYPES.map((t) => baseBytes(c, t))],
    );
    if (!changed.length) return;
    await tx.query(
      `INSERT INTO usage_changes (mailbox_id) SELECT id FROM mailboxes WHERE type = ANY($1::text[]) AND status <> 'terminated'
       ON CONFLICT DO NOTHING`,
      [changed.map((r) => r.type)],
    );
  });
}
