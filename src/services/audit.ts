import type { Queryable, Tx } from '../db/database.ts';

/**
 * Who did it (R19): a staff member in the console, a machine's bearer token, the holder themselves,
 * or Casella's own jobs. Rows written before staff existed say 'operator' for a token.
 */
export interface Actor {
  kind: 'token' | 'staff' | 'holder' | 'system';
  id: string | null;
}
export const SYSTEM: Actor = { kind: 'system', id: null };

export interface AuditEntry {
  action: string;
  entityKind: string;
  entityId: string;
  reason?: string | null;
  before?: unknown;
  after?: unknown;
}

/**
 * Who, what, when, why, before and after, in the transaction of the change it records. The holder it
 * concerns and the actor's name at the time are derived here, so every caller files its entry the
 * same way and one holder's trail is one index range. The table refuses UPDATE and DELETE.
 */
export async function audit(tx: Tx, actor: Actor, e: AuditEntry, at: Date): Promise<void> {
  await tx.query(
    `INSERT INTO audit_log (at, actor_kind, actor_id, actor_name, action, entity_kind, entity_id, reason, before, after, customer_id, mailbox_id)
     VALUES ($1, $2, $3,
       CASE $2 WHEN 'staff' THEN (SELECT name FROM staff WHERE id = $3)
               WHEN 'token' THEN (SELECT name FROM operators WHERE id = $3)
               WHEN 'holder' THEN (SELECT name FROM customers WHERE id = $3) END,
       $4, $5, $6, $7, $8, $9,
       CASE $5 WHEN 'customer' THEN $6
               WHEN 'mailbox' THEN (SELECT customer_id FROM mailboxes WHERE id = $6)
               WHEN 'invoice' THEN (SELECT customer_id FROM invoices WHERE id = $6)
               WHEN 'topup' THEN (SELECT customer_id FROM topups WHERE id = $6)
               WHEN 'order' THEN (SELECT customer_id FROM orders WHERE id = $6) END,
       CASE $5 WHEN 'mailbox' THEN $6 END)`,
    [at, actor.kind, actor.id, e.action, e.entityKind, e.entityId, e.reason ?? null,
     e.before === undefined ? null : JSON.stringify(e.before), e.after === undefined ? null : JSON.stringify(e.after)],
  );
}

export interface AuditEntryView {
  id: string;
  at: string;
  actor: { kind: 'staff' | 'token' | 'holder' | 'system'; id: string | null; name: string | null };
  action: string;
  customerId: string | null;
  mailboxId: string | null;
  reason: string | null;
  before: unknown;
  after: unknown;
}

interface AuditRow {
  id: number;
  at: Date;
  actor_kind: string;
  actor_id: string | null;
  actor_name: string | null;
  action: string;
  customer_id: string | null;
  mailbox_id: string | null;
  reason: string | null;
  before: unknown;
  after: unknown;
}

export const AUDIT_PAGE_MAX = 500;

export interface AuditFilter {
  customerId?: string;
  actor?: { kind: 'staff' | 'token'; id: string };
  /** Instants, from inclusive, to exclusive. */
  from?: Date;
  to?: Date;
  limit?: number;
  /** Entries older than this id (paging, newest first). */
  beforeId?: number;
}

/** Newest first, bounded. */
export async function readAudit(db: Queryable, f: AuditFilter): Promise<AuditEntryView[]> {
  const limit = Math.min(f.limit ?? 100, AUDIT_PAGE_MAX);
  const rows = await db.query<AuditRow>(
    `SELECT id, at, actor_kind, actor_id, actor_name, action, customer_id, mailbox_id, reason, before, after FROM audit_log
      WHERE ($1::text IS NULL OR customer_id = $1)
        AND ($2::text IS NULL OR (actor_kind = $2 OR ($2 = 'token' AND actor_kind = 'operator')) AND actor_id = $3)
        AND ($4::timestamptz IS NULL OR at >= $4) AND ($5::timestamptz IS NULL OR at < $5)
        AND ($6::bigint IS NULL OR id < $6)
      ORDER BY id DESC LIMIT $7`,
    [f.customerId ?? null, f.actor?.kind ?? null, f.actor?.id ?? null, f.from ?? null, f.to ?? null, f.beforeId ?? null, limit],
  );
  return rows.map((r) => ({
    id: String(r.id),
    at: r.at.toISOString(),
    actor: { kind: r.actor_kind === 'operator' ? 'token' : (r.actor_kind as AuditEntryView['actor']['kind']), id: r.actor_id, name: r.actor_name },
    action: r.action,
    customerId: r.customer_id,
    mailboxId: r.mailbox_id,
    reason: r.reason,
    before: r.before,
    after: r.after,
  }));
}
