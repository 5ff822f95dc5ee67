// A small run of `casella bench search` in the suite: not timed, but the same code path as the real
// benchmark (a book made in SQL, 200 searches of every kind), on the embedded engine. Every search
// finds its holder, or the command fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

test('bench search smoke: 200 searches of every kind over 1,000 holders each find their holder', async () => {
  const env = { ...process.env, DATABASE_URL: '', CASELLA_TEST_CLOCK: '' };
  const { stdout } = await run(process.execPath, ['bin/casella.js', 'bench', 'search', '--holders', '1000', '--json'], { env });
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
  assert.equal(result.holders, 1000);
  assert.equal(result.searches, 200);
  assert.equal(result.searchesWithoutResult, 0);
  assert.deepEqual(Object.keys(result.byKind).sort(), ['address', 'address-beginning', 'codice-fiscale', 'name', 'partita-iva', 'reference-email']);
  const refused = await run(process.execPath, ['bin/casella.js', 'bench', 'search', '--holders', '5'], { env }).catch((err) => err);
  assert.equal(refused.code, 2);
});
