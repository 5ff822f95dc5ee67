// R12: throttling of guesses (holder logins, operator tokens), with counters in the database so every
// process sees them. A key's window starts at its first attempt and lasts windowMs; once the window
// holds more attempts than the key's limit, the key is refused until the window ends.
import type { Queryable } from '../../db/database.ts';

export interface ThrottleKey {
  key: string;
  attemptsMax: number;
}

export const THROTTLE_WINDOW_MS = 15 * 60_000;

interface CountedRow {
  key: string;
  attempts: number;
  window_start: Date;
}

function secondsToWait(rows: CountedRow[], limits: ThrottleKey[], nowMs: number): number {
  let untilMs = 0;
  for (const row of rows) {
    const limit = limits.find((k) => k.key === row.key)!;
    if (row.attempts > limit.attemptsMax) untilMs = Math.max(untilMs, row.window_start.getTime() + THROTTLE_WINDOW_MS);
  }
  return untilMs > nowMs ? Math.ceil((untilMs - nowMs) / 1000) : 0;
}

/**
 * Counts one attempt against every key and answers how long to wait (0: go ahead). The count and
 * the number it is decided on come from one statement, so N parallel attempts get N distinct counts
 * and at most the limit of them go ahead. Keys are upserted in the order given: callers give them
 * in one fixed order (address before client), so two statements never wait on each other's rows.
 * Issue 19: when one of the keys is refused already, nothing is written at all, so a refused client
 * cannot grow the table with a new row for every address it tries.
 */
export async function countAttempt(db: Queryable, keys: ThrottleKey[], nowMs: number): Promise<number> {
  const windowStart = new Date(nowMs - THROTTLE_WINDOW_MS);
  const rows = await db.query<CountedRow>(
    `WITH wanted AS (SELECT k, m, n FROM unnest($1::text[], $4::int[]) WITH ORDINALITY AS w(k, m, n)),
          refused AS (SELECT 1 FROM login_throttle t JOIN wanted ON t.key = wanted.k WHERE t.window_start > $3 AND t.attempts > wanted.m)
     INSERT INTO login_throttle AS t (key, attempts, window_start)
     SELECT k, 1, $2 FROM wanted WHERE NOT EXISTS (SELECT 1 FROM refused) ORDER BY n
     ON CONFLICT (key) DO UPDATE SET
       attempts = CASE WHEN t.window_start <= $3 THEN 1 ELSE t.attempts + 1 END,
       window_start = CASE WHEN t.window_start <= $3 THEN $2 ELSE t.window_start END
     RETURNING key, attempts, window_start`,
    [keys.map((k) => k.key), new Date(nowMs), windowStart, keys.map((k) => k.attemptsMax)],
  );
  if (rows.length === 0) return Math.max(1, await waitSeconds(db, keys, nowMs));
  return secondsToWait(rows, keys, nowMs);
}

/** How long these keys must wait, without counting an attempt. */
export async function waitSeconds(db: Queryable, keys: ThrottleKey[], nowMs: number): Promise<number> {
  const rows = await db.query<CountedRow>('SELECT key, attempts, window_start FROM login_throttle WHERE key = ANY($1) AND window_start > $2', [
    keys.map((k) => k.key),
    new Date(nowMs - THROTTLE_WINDOW_MS),
  ]);
  return secondsToWait(rows, keys, nowMs);
}

/** Takes back one counted attempt that turned out right, so success never uses up an allowance. */
export async function uncountAttempt(db: Queryable, key: string): Promise<void> {
  await db.query('UPDATE login_throttle SET attempts = greatest(attempts - 1, 0) WHERE key = $1', [key]);
}

/**
 * Issue 19: removes up to `batchSizeMax` rows whose window ended (they count for nothing any more);
 * how many. The daily job calls it until a batch comes back short.
 */
export async function purgeEndedWindows(db: Queryable, nowMs: number, batchSizeMax: number): Promise<number> {
  const rows = await db.query(
    `DELETE FROM login_throttle WHERE key IN (SELECT key FROM login_throttle WHERE window_start <= $1 LIMIT $2) AND window_start <= $1 RETURNING 1`,
    [new Date(nowMs - THROTTLE_WINDOW_MS), batchSizeMax],
  );
  return rows.length;
}

/** Starts a key afresh. */
export async function forgetAttempts(db: Queryable, key: string): Promise<void> {
  await db.query('DELETE FROM login_throttle WHERE key = $1', [key]);
}
