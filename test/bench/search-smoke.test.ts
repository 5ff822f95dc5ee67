// A small run of `casella bench search` in the suite: not timed, but the same code path as the real
// benchmark (a book made in bulk SQL, 200 searches of every kind), on the embedded engine. Every
// search finds what it must — an identifier its holder first, a name or a beginning someone, a miss
// nobody — or the command fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

test('bench search smoke: 200 searches of every kind over 1,000 holders each find what they must', async () => {
  const env = { ...process.env, DATABASE_URL: '', CASELLA_TEST_CLOCK: '' };
  const { stdout } = await run(process.execPath, ['bin/casella.js', 'bench', 'search', '--holders', '1000', '--json'], { env });
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
  assert.equal(result.holders, 1000);
  assert.equal(result.searches, 200);
  assert.equal(result.mailboxes, 2000);
  assert.equal(result.wrong, 0);
  assert.deepEqual(Object.keys(result.byKind).sort(), ['address', 'address-beginning', 'codice-fiscale', 'invoice', 'miss', 'name', 'name-part', 'partita-iva', 'reference-email']);
  assert.equal(Object.values(result.byKind as Record<string, { searches: number }>).reduce((sum, kind) => sum + kind.searches, 0), 200);
  const refused = await run(process.execPath, ['bin/casella.js', 'bench', 'search', '--holders', '5'], { env }).catch((err) => err);
  assert.equal(refused.code, 2);
});
