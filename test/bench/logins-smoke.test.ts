// A small run of `casella bench logins` in the suite: not timed, the same HTTP path as the real
// benchmark (operator provisioning, then logins of distinct holders), against a server on each engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { engineNames } from '../support/engines.ts';
import { startTestServer } from '../support/http.ts';

const run = promisify(execFile);

for (const engine of engineNames()) {
  test(`bench logins smoke [${engine}]: logins of distinct holders succeed over HTTP without errors or throttling, each opening a session`, async () => {
    const s = await startTestServer(engine);
    try {
      const env = { ...process.env, DATABASE_URL: '', PUBLIC_URL: '', CASELLA_OPERATOR_TOKEN: '' };
      const { stdout } = await run(
        process.execPath,
        ['bin/casella.js', 'bench', 'logins', '--seconds', '1', '--concurrency', '2', '--holders', '3', '--url', s.baseUrl, '--token', s.operatorToken, '--json'],
        { env },
      );
      const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
      assert.ok(result.logins > 0, stdout);
      assert.equal(result.errors, 0);
      assert.ok(result.p99Ms >= result.p50Ms && result.p50Ms > 0);
      assert.ok(result.checkMs.argon2id > 0 && result.checkMs.scrypt > 0);
      const sessions = await s.app.db.query<{ n: number }>('SELECT count(*)::int AS n FROM sessions');
      assert.equal(sessions[0]!.n, result.logins);
    } finally {
      await s.close();
    }
  });
}
