// Issue 12 item 17: `npm start` (casella serve) prints no deprecation or other runtime warning: a
// warning at every start teaches people to ignore the server's stderr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { storedDatabase } from '../support/http.ts';
import { spawnServe, waitForLog } from '../support/serve-process.ts';

test('casella serve starts and stops without a warning on stderr (no FSTDEP, no DeprecationWarning)', async () => {
  const stored = await storedDatabase('pglite');
  const server = spawnServe(stored.env, `cop_${'b'.repeat(40)}`);
  let stderr = '';
  server.stderr!.on('data', (c) => (stderr += String(c)));
  const exited = once(server, 'exit');
  try {
    const [, baseUrl] = await waitForLog(server, /Server listening at (http:\/\/127\.0\.0\.1:\d+)/);
    // Pages, the API and the docs register their plugins lazily in places: touch each once.
    for (const path of ['/login', '/api/openapi.json', '/api/docs', '/healthz']) {
      const res = await fetch(baseUrl + path);
      assert.ok(res.status < 500, `${path}: ${res.status}`);
      await res.arrayBuffer();
    }
  } finally {
    server.kill('SIGTERM');
    await exited;
    await stored.drop();
  }
  assert.doesNotMatch(stderr, /Warning|FSTDEP|\(node:\d+\)/, stderr);
  assert.equal(stderr.trim(), '', 'nothing at all on stderr');
});
