// Issue 15: the holder's open sessions as the profile lists them (when each began, when it was last
// used, with which mailbox, which one is this), and "end all the others". Sessions are known by the
// hash of their cookie only; the list carries neither, just whether a row is the caller's own.
import { createHash } from 'node:crypto';
import { clock } from '../../clock.ts';
import type { ServiceContext } from '../context.ts';
import { SESSION_IDLE_MS, SESSION_LIFETIME_MS_DEFAULT, voidPendingChanges } from './sessions.ts';

const sha256 = (s: string): string => createHash('sha256').update(s).digest('base64url');

export interface OpenSession {
  createdAt: Date;
  lastSeenAt: Date;
  /** The address of the mailbox whose password opened it. */
  address: string;
  current: boolean;
}

/** The live sessions of the holder (idle or too old ones are over even if not yet purged): this one first, then the most recently used. */
export async function openSessions(ctx: ServiceContext, customerId: string, currentToken: string): Promise<OpenSession[]> {
  const nowMs = clock.wallMs();
  const rows = await ctx.db.query<{ created_at: Date; last_seen_at: Date; address: string; current: boolean }>(
    `SELECT s.created_at, s.last_seen_at, m.address, s.id_hash = $2 AS current
       FROM sessions s JOIN mailboxes m ON m.id = s.mailbox_id
      WHERE s.customer_id = $1 AND s.last_seen_at >= $3 AND s.created_at >= $4
      ORDER BY (s.id_hash = $2) DESC, s.last_seen_at DESC, s.created_at DESC`,
    [customerId, sha256(currentToken), new Date(nowMs - SESSION_IDLE_MS), new Date(nowMs - (ctx.sessionLifetimeMs ?? SESSION_LIFETIME_MS_DEFAULT))],
  );
  return rows.map((r) => ({ createdAt: r.created_at, lastSeenAt: r.last_seen_at, address: r.address, current: r.current }));
}

/**
 * "Esci da tutti gli altri dispositivi": every session of the holder but this one ends, and with them
 * what any session left waiting (issue 19: a reference e-mail change, a two-step enrolment); how many
 * sessions ended.
 */
export async function endOtherSessions(ctx: ServiceContext, customerId: string, currentToken: string): Promise<number> {
  return ctx.db.transaction(async (tx) => {
    const rows = await tx.query('DELETE FROM sessions WHERE customer_id = $1 AND id_hash <> $2 RETURNING 1', [customerId, sha256(currentToken)]);
    await voidPendingChanges(tx, customerId);
    return rows.length;
  });
}
