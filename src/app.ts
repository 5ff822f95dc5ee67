// Opens the database, migrates it and restores the test clock: what every entry point does first.
import { randomBytes } from 'node:crypto';
import { openDatabase, type Database } from './db/database.ts';
import { migrate } from './db/migrate.ts';
import { clock } from './clock.ts';
import type { AppConfig } from './config.ts';
import type { ServiceContext } from './services/context.ts';
import { checkMailboxTypeSpace, syncMailboxTypeSpace, type TypeSpaceMode } from './mail-platform/type-space.ts';

export interface App {
  config: AppConfig;
  db: Database;
  ctx: ServiceContext;
}

/**
 * typeSpace: `write` (the server, migrate) makes the catalogue's base inboxes the ones the mail server
 * enforces; `check` (every other command) refuses to run with other ones (TypeSpaceMismatchError).
 */
export async function openApp(config: AppConfig, opts: { poolSizeMax?: number; typeSpace?: TypeSpaceMode } = {}): Promise<App> {
  const db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, poolSizeMax: opts.poolSizeMax ?? 10 });
  await migrate(db);
  try {
    if ((opts.typeSpace ?? 'write') === 'write') await syncMailboxTypeSpace(db, config.catalogue);
    else await checkMailboxTypeSpace(db, config.catalogue);
  } catch (err) {
    await db.close();
    throw err;
  }
  if (config.testClock) await restoreTestClock(db);
  if (!config.testGatewaySecret) config.testGatewaySecret = await testGatewaySecret(db);
  return { config, db, ctx: { db, catalogue: config.catalogue, publicUrl: config.publicUrl, sessionLifetimeMs: config.sessionLifetimeMs, seller: config.seller } };
}

/** The test clock survives restarts: a moved clock must not jump back when the server restarts. */
export async function restoreTestClock(db: Database): Promise<void> {
  const [row] = await db.query<{ now_ms: number }>('SELECT now_ms FROM test_clock');
  if (row) clock.set(row.now_ms);
}

export async function saveTestClock(db: Database, epochMs: number): Promise<void> {
  await db.query(
    `INSERT INTO test_clock (singleton, now_ms) VALUES (true, $1) ON CONFLICT (singleton) DO UPDATE SET now_ms = EXCLUDED.now_ms`,
    [epochMs],
  );
}

/** The test gateway's signing secret: made once per database so separate processes agree. */
async function testGatewaySecret(db: Database): Promise<string> {
  await db.query(`INSERT INTO app_secrets (name, value) VALUES ('test_gateway', $1) ON CONFLICT DO NOTHING`, [
    randomBytes(32).toString('base64url'),
  ]);
  const [row] = await db.query<{ value: string }>(`SELECT value FROM app_secrets WHERE name = 'test_gateway'`);
  return row!.value;
}
