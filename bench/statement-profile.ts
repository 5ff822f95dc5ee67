// `--profile` of the benchmarks: where the database time goes, statement by statement. Wraps a
// Database so every query is timed from the client (round trip included) and summed by its SQL text.
import type { Database, Queryable, Tx } from '../src/db/database.ts';

interface Tally {
  calls: number;
  ms: number;
}

export interface StatementProfile {
  db: Database;
  /** The statements by total time, largest first: seconds, calls, the first characters of the SQL. */
  report(linesMax?: number): string[];
}

export function profileStatements(inner: Database): StatementProfile {
  const tallies = new Map<string, Tally>();
  const timed = (q: Queryable): Queryable['query'] => async (sql, params) => {
    const started = performance.now();
    try {
      return await q.query(sql, params);
    } finally {
      const key = sql.replace(/\s+/g, ' ').trim().slice(0, 100);
      const t = tallies.get(key) ?? { calls: 0, ms: 0 };
      t.calls++;
      t.ms += performance.now() - started;
      tallies.set(key, t);
    }
  };
  const db: Database = {
    engine: inner.engine,
    query: timed(inner),
    transaction: (fn) => inner.transaction((tx) => fn({ query: timed(tx), exec: (sql) => tx.exec(sql) } satisfies Tx)),
    enclosingTransaction: (fn) => inner.enclosingTransaction((tx) => fn({ query: timed(tx), exec: (sql) => tx.exec(sql) } satisfies Tx)),
    exec: (sql) => inner.exec(sql),
    whileHoldingLock: (key, fn) => inner.whileHoldingLock(key, fn),
    close: () => inner.close(),
  };
  const report = (linesMax = 20) =>
    [...tallies]
      .sort((a, b) => b[1].ms - a[1].ms)
      .slice(0, linesMax)
      .map(([sql, t]) => `${(t.ms / 1000).toFixed(2).padStart(8)} s ${String(t.calls).padStart(7)}×  ${sql}`);
  return { db, report };
}
