// Issue 19: the daily job's housekeeping. Rows that count for nothing any more are deleted in bounded
// batches (one statement each), so the tables an attacker can make Casella write to stay as small as
// what is live: sessions idle or past their lifetime, throttle counters whose window ended, reset and
// confirmation links used or expired, login second steps that timed out.
import { clock } from '../clock.ts';
import type { Queryable } from '../db/database.ts';
import type { ServiceContext } from './context.ts';
import { SESSION_IDLE_MS, SESSION_LIFETIME_MS_DEFAULT } from './access/sessions.ts';
import { purgeEndedWindows } from './access/throttle.ts';

export interface PurgeSummary {
  sessions: number;
  throttleRows: number;
  resetLinks: number;
  emailLinks: number;
  loginChallenges: number;
}

/** Batches per table and run: what is left over waits for the next day's run. */
const PURGE_BATCHES_MAX = 10_000;

/** Runs `deleteBatch` until a batch deletes fewer than `batchSizeMax` rows (or PURGE_BATCHES_MAX batches ran); how many it deleted. */
async function inBatches(batchSizeMax: number, deleteBatch: () => Promise<number>): Promise<number> {
  let total = 0;
  for (let batch = 0; batch < PURGE_BATCHES_MAX; batch++) {
    const deleted = await deleteBatch();
    total += deleted;
    if (deleted < batchSizeMax) break;
  }
  return total;
}

/** One batch of `table`'s rows (keyed by `key`) that `over` says are over. Table, key and condition are this file's constants, never input; the values are parameters. */
async function deleteOver(db: Queryable, table: string, key: string, over: string, params: unknown[], batchSizeMax: number): Promise<number> {
  const limit = `$${params.length + 1}`;
  const rows = await db.query(`DELETE FROM ${table} WHERE ${key} IN (SELECT ${key} FROM ${table} WHERE ${over} LIMIT ${limit}) AND (${over}) RETURNING 1`, [
    ...params,
    batchSizeMax,
  ]);
  return rows.length;
}

export async function purgeExpired(ctx: ServiceContext, batchSizeMax: number): Promise<PurgeSummary> {
  const nowMs = clock.wallMs();
  const now = new Date(nowMs);
  const idleSince = new Date(nowMs - SESSION_IDLE_MS);
  const startedBefore = new Date(nowMs - (ctx.sessionLifetimeMs ?? SESSION_LIFETIME_MS_DEFAULT));
  const linkOver = 'used_at IS NOT NULL OR expires_at <= $1';
  return {
    sessions: await inBatches(batchSizeMax, () => deleteOver(ctx.db, 'sessions', 'id_hash', 'last_seen_at < $1 OR created_at < $2', [idleSince, startedBefore], batchSizeMax)),
    throttleRows: await inBatches(batchSizeMax, () => purgeEndedWindows(ctx.db, nowMs, batchSizeMax)),
    resetLinks: await inBatches(batchSizeMax, () => deleteOver(ctx.db, 'password_resets', 'id_hash', linkOver, [now], batchSizeMax)),
    emailLinks: await inBatches(batchSizeMax, () => deleteOver(ctx.db, 'reference_email_changes', 'id_hash', linkOver, [now], batchSizeMax)),
    loginChallenges: await inBatches(batchSizeMax, () => deleteOver(ctx.db, 'login_challenges', 'id_hash', 'expires_at <= $1', [now], batchSizeMax)),
  };
}
