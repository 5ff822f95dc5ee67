// Migrated templates: every test database starts as a copy of one database migrated once per run,
// instead of being made and migrated from nothing. From nothing costs seconds each time (PGlite's
// initdb and the migrations, in the test's own process; CREATE DATABASE and the migrations on
// PostgreSQL); a copy costs a fraction of that. Each test still gets its own database, empty but for
// what the migrations write, exactly as after migrate() on a new one.
//
// - PostgreSQL: `casella_template_<key>` on the TEST_DATABASE_URL server, made once under an advisory
//   lock (several runs may share the server) and cloned with CREATE DATABASE … TEMPLATE.
// - PGlite on disk (a served test's data directory): a migrated data directory, copied.
// - PGlite in memory (forEachEngine): a dump of a migrated data directory, loaded (loadDataDir).
//
// <key> is a hash of the migration files (and PGlite's version): a new or changed migration makes
// new templates. The PGlite templates live in CASELLA_TEST_TEMPLATES, a folder scripts/run-tests.js
// makes for the run and removes after it (it builds the templates first, so the test processes
// only copy); a test file run on its own builds them in a folder of its own.
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openDatabase } from '../../src/db/database.ts';
import { migrate, migrationFiles } from '../../src/db/migrate.ts';

const PGLITE_VERSION = (JSON.parse(readFileSync(new URL('../../node_modules/@electric-sql/pglite/package.json', import.meta.url), 'utf8')) as { version: string }).version;

function hash(...parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 16);
}

const migrations = migrationFiles().flatMap((m) => [m.version, m.sql]);
/** Names the PostgreSQL template: the migrations only. */
export const postgresTemplateKey = hash(...migrations);
/** Names the PGlite templates: the migrations and the engine's version (its data directory format). */
export const pgliteTemplateKey = hash(`pglite ${PGLITE_VERSION}`, ...migrations);

/** Migrates a new database and checks that every migration ran: a template is migrate() from nothing. */
async function migrateFromNothing(db: Awaited<ReturnType<typeof openDatabase>>): Promise<void> {
  const applied = await migrate(db);
  const expected = migrationFiles().map((m) => m.version);
  if (applied.join() !== expected.join()) throw new Error(`a new database's migrations applied ${applied.join(', ')}, not ${expected.join(', ')}`);
}

// ---- PostgreSQL ----

/** Taken on the admin connection while a template is looked for or made, by any run on the server. */
const TEMPLATE_LOCK_KEY = 7_300_101;

export function postgresUrl(database: string): string {
  const url = new URL(process.env.TEST_DATABASE_URL!);
  url.pathname = `/${database}`;
  return url.toString();
}

let postgresTemplate: Promise<string> | undefined;

/** The name of the migrated template database on the TEST_DATABASE_URL server, made if missing. */
export function postgresTemplateName(): Promise<string> {
  return (postgresTemplate ??= makePostgresTemplate());
}

async function makePostgresTemplate(): Promise<string> {
  const name = `casella_template_${postgresTemplateKey}`;
  const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK_KEY]);
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      // Made under another name and renamed when complete: a run that dies half-way leaves no
      // half-migrated template behind, only a `_building` database the next one replaces.
      const building = `${name}_building`;
      await admin.query(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${building}`);
      const db = await openDatabase({ url: postgresUrl(building), poolSizeMax: 1 });
      try {
        await migrateFromNothing(db);
      } finally {
        await db.close();
      }
      // No session is left on it (PostgreSQL waits a few seconds for a closed one's to end), so
      // it can be renamed, and cloned: CREATE DATABASE … TEMPLATE refuses a template in use.
      await admin.query(`ALTER DATABASE ${building} RENAME TO ${name}`);
    }
  } finally {
    await admin.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK_KEY]).catch(() => {});
    await admin.end();
  }
  return name;
}

// ---- PGlite ----

let ownFolder: string | undefined;

/** Where this run keeps its PGlite templates. */
function templatesFolder(): string {
  if (process.env.CASELLA_TEST_TEMPLATES) {
    mkdirSync(process.env.CASELLA_TEST_TEMPLATES, { recursive: true });
    return process.env.CASELLA_TEST_TEMPLATES;
  }
  if (!ownFolder) {
    const folder = mkdtempSync(join(tmpdir(), 'casella-templates-'));
    ownFolder = folder;
    process.on('exit', () => rmSync(folder, { recursive: true, force: true }));
  }
  return ownFolder;
}

/** Builds `path` through a temporary name and a rename, so a reader sees it whole or not at all. */
async function publish(path: string, build: (tmp: string) => Promise<void>): Promise<void> {
  if (existsSync(path)) return;
  const tmp = `${path}.building-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await build(tmp);
    try {
      renameSync(tmp, path);
    } catch (err) {
      // Another process published it first (a test file run on its own, beside the runner's build).
      if (!existsSync(path)) throw err;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

let pgliteDir: Promise<string> | undefined;

/** A migrated embedded data directory, to copy and never to open. */
export function pgliteTemplateDir(): Promise<string> {
  return (pgliteDir ??= (async () => {
    const path = join(templatesFolder(), `pglite-${pgliteTemplateKey}`);
    await publish(path, async (tmp) => {
      mkdirSync(tmp);
      const db = await openDatabase({ dataDir: tmp });
      try {
        await migrateFromNothing(db);
      } finally {
        await db.close();
      }
    });
    return path;
  })());
}

/** Fills `dataDir` (new and empty) with a migrated embedded database. */
export async function copyPgliteTemplate(dataDir: string): Promise<void> {
  cpSync(await pgliteTemplateDir(), dataDir, { recursive: true });
  countCopy('pglite-dir');
}

/**
 * One line per database made from a template, in the run's folder: scripts/run-tests.js counts them
 * at the end (how many databases the suite opened, of which kind).
 */
export function countCopy(kind: 'pglite-dir' | 'pglite-dump' | 'postgres'): void {
  if (process.env.CASELLA_TEST_TEMPLATES) appendFileSync(join(process.env.CASELLA_TEST_TEMPLATES, 'copies.log'), `${kind}\n`);
}

let pgliteDump: Promise<Blob> | undefined;

/** A migrated embedded database as PGlite's data directory dump, for openDatabase({ loadDataDir }). */
export function pgliteTemplateDump(): Promise<Blob> {
  return (pgliteDump ??= (async () => {
    const path = join(templatesFolder(), `pglite-${pgliteTemplateKey}.tar`);
    await publish(path, async (tmp) => {
      const db = await openDatabase({});
      try {
        await migrateFromNothing(db);
        writeFileSync(tmp, Buffer.from(await (await db.dumpDataDir!()).arrayBuffer()));
      } finally {
        await db.close();
      }
    });
    return new Blob([readFileSync(path)]);
  })());
}

/** What scripts/run-tests.js runs before the tests: every template this run's tests will copy. */
export async function buildTemplates(): Promise<void> {
  await Promise.all([pgliteTemplateDir(), pgliteTemplateDump(), process.env.TEST_DATABASE_URL ? postgresTemplateName() : null]);
}
