// Every integration test runs on the embedded engine and, when TEST_DATABASE_URL is set, on a
// fresh PostgreSQL database too.
import { after, before, describe } from 'node:test';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/db/database.ts';
import { migrate } from '../../src/db/migrate.ts';
import { DEFAULT_CATALOGUE, type Catalogue } from '../../src/domain/catalogue.ts';
import type { ServiceContext } from '../../src/services/context.ts';

export type EngineName = 'pglite' | 'postgres';

export const engineNames = (): EngineName[] => (process.env.TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite']);

/** A new, empty PostgreSQL database on the TEST_DATABASE_URL server; returns its URL and a dropper. */
export async function freshPostgresUrl(): Promise<{ url: string; drop: () => Promise<void> }> {
  const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await admin.connect();
  const name = `casella_t_${randomBytes(6).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(process.env.TEST_DATABASE_URL!);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
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
  const db = await openDatabase({ url, poolSizeMax });
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
