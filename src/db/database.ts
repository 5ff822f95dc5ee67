// One SQL dialect (PostgreSQL) on two engines: PGlite embedded in the process, or a PostgreSQL
// server through a pool. Services see only `Database` and `Tx`.
import { AsyncLocalStorage } from 'node:async_hooks';
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { unaccent } from '@electric-sql/pglite/contrib/unaccent';

export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
}
export interface Tx extends Queryable {
  /** Runs a script of several statements inside the transaction (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Database extends Queryable {
  readonly engine: 'pglite' | 'postgres';
  /** Runs fn in one transaction (READ COMMITTED; services lock what they change). */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * Runs fn in one transaction that every query and transaction made on this database while fn runs
   * joins instead of running on its own: a caller can make a service's effect and its own record of
   * that effect (an idempotency key) commit or vanish together, without the service knowing.
   */
  enclosingTransaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Runs a script of several statements (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * Runs fn only if no other process holds the advisory lock `key`, and returns whether it ran.
   * The embedded engine's data directory is already one process's alone, so there it always runs.
   */
  whileHoldingLock(key: number, fn: () => Promise<void>): Promise<boolean>;
  close(): Promise<void>;
  /** R20: the PostgreSQL pool's connections (open, idle, callers waiting), for /metrics; absent on PGlite. */
  poolStats?(): { total: number; idle: number; waiting: number };
  /** The embedded engine's data directory as a tar archive, for `loadDataDir`; absent on PostgreSQL. */
  dumpDataDir?(): Promise<Blob>;
}

// Integers of 8 bytes come back as JS numbers (cents and bytes stay far below 2^53); calendar dates
// stay 'YYYY-MM-DD' strings instead of becoming midnight-UTC instants.
const INT8 = 20;
const DATE = 1082;
const parsers = { [INT8]: (v: string) => Number(v), [DATE]: (v: string) => v };

/** Retried automatically: serialization failures and deadlocks (bounded). */
const RETRYABLE = new Set(['40001', '40P01']);
const transactionAttemptsMax = 5;

/**
 * Statements with parameters are prepared once per connection and reused by name: PostgreSQL then
 * parses and plans the purchase's one large statement once, not on every purchase. The names are
 * bounded: statements past the bound (none are expected: SQL text here is fixed, values are
 * parameters) simply run unnamed.
 */
const statementNames = new Map<string, string>();
const namedStatementsMax = 1000;
function prepared(text: string, params: readonly unknown[]): pg.QueryConfig {
  const values = params as unknown[];
  if (!values.length) return { text, values };
  let name = statementNames.get(text);
  if (!name && statementNames.size < namedStatementsMax) {
    name = `casella_${statementNames.size + 1}`;
    statementNames.set(text, name);
  }
  return name ? { name, text, values } : { text, values };
}

/** The transaction that work started inside `enclosingTransaction` joins, while it is open. */
interface Enclosing {
  db: Database;
  tx: Tx;
  open: boolean;
}
const enclosing = new AsyncLocalStorage<Enclosing>();

function enclosingTx(db: Database): Tx | undefined {
  const e = enclosing.getStore();
  return e && e.db === db && e.open ? e.tx : undefined;
}

let savepointSeq = 0;

/**
 * A transaction opened inside an enclosing one is a savepoint of it, so it stays all or nothing: a
 * service that throws after some of its writes (a refusal, a plan found stale) leaves none of them
 * behind, and a deadlock or serialization failure is retried from the savepoint as a transaction
 * of its own would be from BEGIN.
 */
async function nestedTransaction<T>(tx: Tx, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const name = `nested_${++savepointSeq}`;
  for (let attempt = 1; ; attempt++) {
    await tx.exec(`SAVEPOINT ${name}`);
    try {
      const result = await fn(tx);
      await tx.exec(`RELEASE SAVEPOINT ${name}`);
      return result;
    } catch (err) {
      await tx.exec(`ROLLBACK TO SAVEPOINT ${name}`);
      await tx.exec(`RELEASE SAVEPOINT ${name}`);
      const code = (err as { code?: string }).code;
      if (code && RETRYABLE.has(code) && attempt < transactionAttemptsMax) continue;
      throw err;
    }
  }
}

function runEnclosing<T>(db: Database, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    const scope: Enclosing = { db, tx, open: true };
    try {
      return await enclosing.run(scope, () => fn(tx));
    } finally {
      // Work that outlives the transaction (none is expected) must not use its finished connection.
      scope.open = false;
    }
  });
}

class PostgresDatabase implements Database {
  readonly engine = 'postgres' as const;
  constructor(readonly pool: pg.Pool) {}

  async query<R>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    const joined = enclosingTx(this);
    if (joined) return joined.query<R>(sql, params);
    return (await this.pool.query(prepared(sql, params))).rows as R[];
  }

  enclosingTransaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return runEnclosing(this, fn);
  }

  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const joined = enclosingTx(this);
    if (joined) return nestedTransaction(joined, fn);
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      let broken = false;
      try {
        await client.query('BEGIN');
        const tx: Tx = {
          query: async (sql, params = []) => (await client.query(prepared(sql, params))).rows,
          exec: async (sql) => {
            await client.query(sql);
          },
        };
        const result = await fn(tx);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
        const code = (err as { code?: string }).code;
        if (code && RETRYABLE.has(code) && attempt < transactionAttemptsMax) continue;
        throw err;
      } finally {
        client.release(broken);
      }
    }
  }

  async exec(sql: string): Promise<void> {
    const joined = enclosingTx(this);
    if (joined) return joined.exec(sql);
    await this.pool.query(sql);
  }

  async whileHoldingLock(key: number, fn: () => Promise<void>): Promise<boolean> {
    // A session-level lock lives on one connection, held aside from the pool for the whole run.
    const client = await this.pool.connect();
    try {
      const [row] = (await client.query<{ got: boolean }>('SELECT pg_try_advisory_lock($1) AS got', [key])).rows;
      if (!row?.got) return false;
      try {
        await fn();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [key]);
      }
      return true;
    } finally {
      client.release();
    }
  }

  poolStats() {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  #closed: Promise<void> | null = null;
  /** Once: `serve` closes the database when it stops, and the CLI's `finally` closes it again. */
  close(): Promise<void> {
    this.#closed ??= this.pool.end();
    return this.#closed;
  }
}

/** A FIFO lock: PGlite has one connection, so a transaction must own it from BEGIN to COMMIT. */
class Mutex {
  #tail: Promise<void> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn);
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

export class DataDirInUseError extends Error {
  constructor(
    message: string,
    readonly dataDir: string,
    readonly ownerPid: number | null,
  ) {
    super(message);
  }
}

/**
 * PGlite has no lock of its own: two processes on one data directory would corrupt it. A lock file
 * with the owner's pid refuses a second process; one left by a process that died is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  const path = join(dataDir, 'casella.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          unlinkSync(path);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileSync(path, 'utf8'));
      if (owner && owner !== process.pid && isAlive(owner)) {
        throw new DataDirInUseError(
          `the embedded database in ${dataDir} is in use by process ${owner}; stop it first, or use DATABASE_URL`,
          dataDir,
          owner,
        );
      }
      unlinkSync(path); // its owner is gone
    }
  }
  throw new DataDirInUseError(`could not lock ${dataDir}`, dataDir, null);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

class PgliteDatabase implements Database {
  readonly engine = 'pglite' as const;
  readonly #lock = new Mutex();
  constructor(
    readonly pg: PGlite,
    readonly unlockDataDir: () => void = () => {},
  ) {}

  dumpDataDir(): Promise<Blob> {
    return this.#lock.run(() => this.pg.dumpDataDir('none'));
  }

  #raw = async <R>(sql: string, params: readonly unknown[] = []): Promise<R[]> =>
    (await this.pg.query<R>(sql, params as unknown[])).rows;

  // Inside an enclosing transaction the connection is already this caller's: waiting for the lock
  // would wait for itself.
  query<R>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    const joined = enclosingTx(this);
    if (joined) return joined.query<R>(sql, params);
    return this.#lock.run(() => this.#raw<R>(sql, params));
  }

  enclosingTransaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return runEnclosing(this, fn);
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const joined = enclosingTx(this);
    if (joined) return nestedTransaction(joined, fn);
    return this.#lock.run(async () => {
      await this.pg.exec('BEGIN');
      try {
        const result = await fn({
          query: this.#raw,
          exec: async (sql) => {
            await this.pg.exec(sql);
          },
        });
        await this.pg.exec('COMMIT');
        return result;
      } catch (err) {
        await this.pg.exec('ROLLBACK');
        throw err;
      }
    });
  }

  exec(sql: string): Promise<void> {
    const joined = enclosingTx(this);
    if (joined) return joined.exec(sql);
    return this.#lock.run(async () => {
      await this.pg.exec(sql);
    });
  }

  async whileHoldingLock(_key: number, fn: () => Promise<void>): Promise<boolean> {
    await fn();
    return true;
  }

  #closed: Promise<void> | null = null;
  close(): Promise<void> {
    this.#closed ??= this.#lock.run(async () => {
      await this.pg.close();
      this.unlockDataDir();
    });
    return this.#closed;
  }
}

export interface DatabaseOptions {
  /** PostgreSQL connection string; when absent the embedded engine is used. */
  url?: string | undefined;
  /** Where the embedded engine keeps its files; undefined keeps it in memory (tests). */
  dataDir?: string | undefined;
  /**
   * The embedded engine only, in memory: start from this dump of a data directory (PGlite's
   * dumpDataDir) instead of an empty one. The tests start each database from one migrated once.
   */
  loadDataDir?: Blob | undefined;
  poolSizeMax?: number;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.url) {
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSizeMax ?? 10,
      types: {
        getTypeParser: ((oid: number, format?: string) =>
          (parsers as Record<number, (v: string) => unknown>)[oid] ??
          pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
      },
    });
    // An idle client that loses its server must not crash the process; the next query reconnects.
    pool.on('error', () => {});
    return new PostgresDatabase(pool);
  }
  let unlock = () => {};
  if (options.dataDir) {
    mkdirSync(options.dataDir, { recursive: true });
    unlock = lockDataDir(options.dataDir);
  }
  try {
    // Options go in the first argument: PGlite(undefined, options) would drop them.
    // pg_trgm and unaccent: the staff's search (R19), as on a PostgreSQL server with its contrib modules.
    const db = new PGlite({ dataDir: options.dataDir, loadDataDir: options.loadDataDir, parsers, extensions: { pg_trgm, unaccent } });
    await db.waitReady;
    return new PgliteDatabase(db, unlock);
  } catch (err) {
    unlock();
    throw err;
  }
}
