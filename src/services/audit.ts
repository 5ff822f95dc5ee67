import type { Tx } from '../db/database.ts';

export interface Actor {
  kind: 'operator' | 'holder' | 'system';
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

/** Who, what, when, before and after: every operator action and every credit adjustment. */
export async function audit(tx: Tx, actor: Actor, e: AuditEntry, at: Date): Promise<void> {
  await tx.query(
    `INSERT INTO audit_log (at, actor_kind, actor_id, action, entity_kind, entity_id, reason, before, after)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [at, actor.kind, actor.id, e.action, e.entityKind, e.entityId, e.reason ?? null,
     e.before === undefined ? null : JSON.stringify(e.before), e.after === undefined ? null : JSON.stringify(e.after)],
  );
}
