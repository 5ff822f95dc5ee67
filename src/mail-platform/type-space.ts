// R14: the mail server reads each type's base inbox from the database, so Casella writes there the
// figure its catalogue (CASELLA_CONFIG) gives. Only the server (`casella serve`) and `casella migrate`
// write it: any other command started without the server's CASELLA_CONFIG would otherwise rewrite
// the quota Dovecot enforces. A changed base changes the space of every mailbox of that type: they
// are noted for the usage pass (R11), as any change of space is.
import type { Database, Queryable } from '../db/database.ts';
import { baseBytes, MAILBOX_TYPES, type Catalogue } from '../domain/catalogue.ts';

/** How a process treats the base inboxes stored for the mail server: write its own, or only check. */
export type TypeSpaceMode = 'write' | 'check';

/** A command's catalogue gives other base inboxes than the server stored: it must not run with it. */
export class TypeSpaceMismatchError extends Error {
  constructor(readonly differences: { type: string; storedBytes: number; catalogueBytes: number }[]) {
    super(
      `the base inbox sizes of this command's catalogue differ from those the server stored for the mail server (${differences
        .map((d) => `${d.type}: ${d.storedBytes} bytes stored, ${d.catalogueBytes} here`)
        .join('; ')}): start it with the server's CASELLA_CONFIG`,
    );
  }
}

async function noteChangedTypes(tx: Queryable, types: string[]): Promise<void> {
  if (!types.length) return;
  await tx.query(
    `INSERT INTO usage_changes (mailbox_id) SELECT id FROM mailboxes WHERE type = ANY($1::text[]) AND status <> 'terminated'
     ON CONFLICT DO NOTHING`,
    [types],
  );
}

/** `casella serve` and `casella migrate`: the catalogue's base inboxes become the ones Dovecot enforces. */
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
    await noteChangedTypes(tx, changed.map((r) => r.type));
  });
}

/**
 * Every other command: a type the server never stored is written (a fresh database), one it stored
 * is left alone, and a different figure stops the command before it computes anything with it.
 */
export async function checkMailboxTypeSpace(db: Database, c: Catalogue): Promise<void> {
  await db.transaction(async (tx) => {
    const added = await tx.query<{ type: string }>(
      `INSERT INTO mailbox_type_space (type, base_bytes) SELECT * FROM unnest($1::text[], $2::int8[])
       ON CONFLICT (type) DO NOTHING RETURNING type`,
      [[...MAILBOX_TYPES], MAILBOX_TYPES.map((t) => baseBytes(c, t))],
    );
    await noteChangedTypes(tx, added.map((r) => r.type));
  });
  const stored = await db.query<{ type: string; base_bytes: string }>('SELECT type, base_bytes FROM mailbox_type_space WHERE type = ANY($1::text[])', [[...MAILBOX_TYPES]]);
  const differences = stored
    .map((row) => ({ type: row.type, storedBytes: Number(row.base_bytes), catalogueBytes: baseBytes(c, row.type as (typeof MAILBOX_TYPES)[number]) }))
    .filter((d) => d.storedBytes !== d.catalogueBytes);
  if (differences.length) throw new TypeSpaceMismatchError(differences);
}
