// R12: throttling of guesses (holder logins, operator tokens), with counters in the database so every
// process sees them. A key's window starts at its first attempt and lasts windowMs; once the window
// holds more attempts than the key's limit, the key is refused until the window ends.
import type { Queryable } from '../db/database.ts';

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
 */
export async function countAttempt(db: Queryable, keys: ThrottleKey[], nowMs: number): Promise<number> {
  const rows = await db.query<CountedRow>(
    `INSERT INTO login_throttle AS t (key, attempts, window_start)
     SELECT k, 1, $2 FROM unnest($1::text[]) AS k
     ON CONFLICT (key) DO UPDATE SET
       attempts = CASE WHEN t.window_start <= $3 THEN 1 ELSE t.attempts + 1 END,
       window_start = CASE WHEN t.window_start <= $3 THEN $2 ELSE t.window_start END
     RETURNING key, attempts, window_start`,
    [keys.map((k) => k.key), new Date(nowMs), new Date(nowMs - THROTTLE_WINDOW_MS)],
  );
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

/** Starts a key afresh. */
export async function forgetAttempts(db: Queryable, key: string): Promise<void> {
  await db.query('DELETE FROM login_throttle WHERE key = $1', [key]);
}
