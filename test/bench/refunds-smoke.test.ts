// A small run of `casella bench refunds` in the suite: not timed, but the same path as the real
// benchmark (R17 refunds through the test gateway, with credit notes), on the embedded engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

test('bench refunds smoke: 40 refunds at concurrency 4 all succeed and the ledger verifies', async () => {
  const env = { ...process.env, DATABASE_URL: '', CASELLA_TEST_CLOCK: '' };
  const { stdout } = await run(process.execPath, ['bin/casella.js', 'bench', 'refunds', '--refunds', '40', '--concurrency', '4', '--json'], { env });
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
  assert.deepEqual([result.refunds, result.errors, result.ledgerOk], [40, 0, true]);
  assert.ok(result.refundsPerSecond > 0);
  const refused = await run(process.execPath, ['bin/casella.js', 'bench', 'refunds', '--refunds', '0'], { env }).catch((err) => err);
  assert.equal(refused.code, 2);
});
