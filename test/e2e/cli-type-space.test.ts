// R14, issue 19: the base inbox sizes Dovecot enforces (mailbox_type_space, read by dovecot.userdb)
// are written by `casella serve` and `casella migrate` only. Any other command started without the
// server's CASELLA_CONFIG used to rewrite them to its own defaults, giving every mailbox the quota of
// a catalogue nobody runs; now it refuses to start, in one line, and changes nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { engineNames } from '../support/engines.ts';
import { storedDatabase, type StoredDatabase } from '../support/http.ts';

const MB = 1024 * 1024;

async function casella(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['bin/casella.js', ...args], {
    env: { ...process.env, NODE_ENV: '', SMTP_URL: '', CASELLA_OPERATOR_TOKEN: '', CASELLA_CONFIG: '', DATABASE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += String(c)));
  child.stderr.on('data', (c) => (stderr += String(c)));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

async function storedBaseBytes(db: StoredDatabase, configPath: string): Promise<Record<string, number>> {
  const app = await openApp(loadConfig({ ...db.env, CASELLA_CONFIG: configPath }), { typeSpace: 'check' });
  try {
    const rows = await app.db.query<{ type: string; base_bytes: string }>('SELECT type, base_bytes FROM mailbox_type_space ORDER BY type');
    return Object.fromEntries(rows.map((r) => [r.type, Number(r.base_bytes)]));
  } finally {
    await app.db.close();
  }
}

for (const engine of engineNames()) {
  describe(`the quota Dovecot enforces is the server's [${engine}]`, () => {
    let db: StoredDatabase;
    let configDir: string;
    let configPath: string;
    before(async () => {
      db = await storedDatabase(engine);
      configDir = mkdtempSync(join(tmpdir(), 'casella-type-space-'));
      configPath = join(configDir, 'casella.json');
      writeFileSync(configPath, JSON.stringify({ mailboxTypes: { standard: { baseInboxMb: 1 } } }));
      // What `casella serve` does at start with the provider's catalogue.
      const app = await openApp(loadConfig({ ...db.env, CASELLA_CONFIG: configPath }));
      await app.db.close();
    });
    after(async () => {
      await db?.drop();
      rmSync(configDir, { recursive: true, force: true });
    });

    test('a command started without the server\'s CASELLA_CONFIG refuses in one line and leaves the quota alone; with it, it runs', async () => {
      assert.equal((await storedBaseBytes(db, configPath)).standard, 1 * MB);

      const without = await casella(['ledger', 'verify'], db.env);
      assert.equal(without.code, 2, without.stdout + without.stderr);
      assert.match(without.stderr, /^casella ledger: .*standard: 1048576 bytes stored, 1073741824 here.*CASELLA_CONFIG/);
      assert.equal(without.stderr.trim().split('\n').length, 1, without.stderr);
      assert.equal((await storedBaseBytes(db, configPath)).standard, 1 * MB, 'the quota Dovecot enforces is unchanged');

      const withIt = await casella(['ledger', 'verify'], { ...db.env, CASELLA_CONFIG: configPath });
      assert.equal(withIt.code, 0, withIt.stdout + withIt.stderr);
      assert.equal((await storedBaseBytes(db, configPath)).standard, 1 * MB);
    });

    test('migrate, like serve, makes its catalogue the one enforced', async () => {
      const migrated = await casella(['migrate'], db.env);
      assert.equal(migrated.code, 0, migrated.stdout + migrated.stderr);
      const defaults = await casella(['ledger', 'verify'], db.env);
      assert.equal(defaults.code, 0, defaults.stdout + defaults.stderr);
      const app = await openApp(loadConfig({ ...db.env }), { typeSpace: 'check' });
      try {
        const [row] = await app.db.query<{ base_bytes: string }>(`SELECT base_bytes FROM mailbox_type_space WHERE type = 'standard'`);
        assert.equal(Number(row!.base_bytes), 1024 * MB);
      } finally {
        await app.db.close();
      }
    });
  });
}
