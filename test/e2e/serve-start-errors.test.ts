// R20 and API.md "CLI": what stops `casella serve` from starting is said on one line naming the
// fix, with exit 1 and no stack trace: a port in use, an unreachable database, a bad configuration;
// and nothing is printed before it that points at another server (the demo login comes only once
// the server listens).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { spawn } from 'node:child_process';
import { storedDatabase } from '../support/http.ts';
import { engineNames } from '../support/engines.ts';

/** `casella serve` run to its end; stdout and stderr. */
async function serveRun(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['bin/casella.js', 'serve'], { env: { ...process.env, NODE_ENV: '', SMTP_URL: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += String(c)));
  child.stderr.on('data', (c) => (stderr += String(c)));
  // A fresh embedded database is created and migrated first: slow on a busy machine.
  const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

test('R20: serve on a port in use, an unreachable database, a bad configuration: one line naming the fix, exit 1, no stack trace, no login printed', async () => {
  // PostgreSQL when there is one: a fresh embedded database takes long to create on a busy machine.
  const stored = await storedDatabase(engineNames().at(-1)!);
  const holder = createServer();
  holder.listen(0, '127.0.0.1');
  await once(holder, 'listening');
  const busyPort = (holder.address() as { port: number }).port;
  // An unreachable database: a port nothing listens on.
  const closed = createServer();
  closed.listen(0, '127.0.0.1');
  await once(closed, 'listening');
  const deadPort = (closed.address() as { port: number }).port;
  await new Promise((r) => closed.close(r));
  try {
    const cases: [string, Record<string, string>, RegExp][] = [
      ['port in use', { ...stored.env, PORT: String(busyPort), HOST: '127.0.0.1' }, new RegExp(`port ${busyPort} on 127\\.0\\.0\\.1 is already in use.*set PORT to a free port`)],
      ['database unreachable', { DATABASE_URL: `postgres://casella:secret-pw@127.0.0.1:${deadPort}/casella`, PORT: '0' }, new RegExp(`cannot reach PostgreSQL at 127\\.0\\.0\\.1:${deadPort}.*ECONNREFUSED.*DATABASE_URL`)],
      ['bad configuration', { ...stored.env, PORT: 'eighty' }, /configuration error: PORT must be a port number/],
    ];
    for (const [what, env, line] of cases) {
      const run = await serveRun(env);
      assert.equal(run.code, 1, `${what}: ${run.stderr}`);
      const lines = run.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `${what}: ${run.stderr}`);
      assert.match(lines[0]!, line, what);
      assert.doesNotMatch(run.stderr, /\n\s+at |secret-pw/, `${what}: no stack trace, no password`);
      assert.doesNotMatch(run.stdout, /Log in at|Password|listening/i, `${what}: nothing printed that points at another server`);
    }
  } finally {
    holder.close();
    await stored.drop();
  }
});
