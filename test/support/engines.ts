// Every integration test runs on the embedded engine and, when TEST_DATABASE_URL is set, on a
// fresh PostgreSQL database too. Each describe gets a database of its own, migrated: a copy of a
// template migrated once per run (test/support/templates.ts).
import { after, before, describe } from 'node:test';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/db/database.ts';
import { migrate } from '../../src/db/migrate.ts';
import { countCopy, pgliteTemplateDump, postgresTemplateName, postgresUrl } from './templates.ts';
import { DEFAULT_CATALOGUE, type Catalogue } from '../../src/domain/catalogue.ts';
import type { ServiceContext } from '../../src/services/context.ts';

export type EngineName = 'pglite' | 'postgres';

export const engineNames = (): EngineName[] => (process.env.TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite']);

/**
 * A new PostgreSQL database on the TEST_DATABASE_URL server, already migrated (a copy of the run's
 * template, test/support/templates.ts); its URL and a dropper.
 */
export async function freshPostgresUrl(): Promise<{ url: string; drop: () => Promise<void> }> {
  const template = await postgresTemplateName();
  const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await admin.connect();
  const name = `casella_t_${randomBytes(6).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  // Commits do not wait for the disk to flush (16 ms a writing commit with the flush, 3 ms without,
  // on the development machine). A commit is still visible to every session the moment it returns;
  // only a crash of the PostgreSQL server could lose it, and no test crashes the server (test/crash
  // kills Casella's processes).
  await admin.query(`ALTER DATABASE ${name} SET synchronous_commit = off`);
  await admin.end();
  countCopy('postgres');
  return {
    url: postgresUrl(name),
    drop: async () => {
      const c = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export interface TestEngine {
  name: EngineName;
  db: Database;
  ctx: ServiceContext;
  /** PostgreSQL only: the database's URL, for a second pool or a spawned process. */
  url: string | undefined;
}

export async function openTestEngine(name: EngineName, catalogue: Catalogue = DEFAULT_CATALOGUE, poolSizeMax = 20) {
  let url: string | undefined;
  let drop = async () => {};
  if (name === 'postgres') ({ url, drop } = await freshPostgresUrl());
  // PGlite in memory, from the dump of a migrated data directory (test/support/templates.ts).
  const db = await openDatabase({ url, poolSizeMax, loadDataDir: url ? undefined : await pgliteTemplateDump() });
  if (!url) countCopy('pglite-dump');
  // Already migrated: this finds nothing to do, unless a migration came after the template.
  await migrate(db);
  const engine: TestEngine = { name, db, url, ctx: { db, catalogue, publicUrl: 'http://casella.test' } };
  return {
    engine,
    close: async () => {
      await db.close();
      await drop();
    },
  };
}

/** describe() once per engine; `use()` gives the engine inside tests. */
export function forEachEngine(title: string, body: (use: () => TestEngine) => void, catalogue?: Catalogue): void {
  for (const name of engineNames()) {
    describe(`${title} [${name}]`, () => {
      let engine: TestEngine | undefined;
      let close = async () => {};
      before(async () => {
        ({ engine, close } = await openTestEngine(name, catalogue));
      });
      after(async () => close());
      body(() => {
        if (!engine) throw new Error('engine not open');
        return engine;
      });
    });
  }
}
