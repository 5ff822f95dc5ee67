// A small run of `casella bench register` in the suite: not timed, but the same code path as the
// real benchmark (invoices made in SQL, the month's VAT register streamed), on the embedded engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

test('bench register smoke: the register of 1,500 invoices and 150 credit notes has a line for each, plus the totals', async () => {
  const env = { ...process.env, DATABASE_URL: '', CASELLA_TEST_CLOCK: '' };
  const { stdout } = await run(process.execPath, ['bin/casella.js', 'bench', 'register', '--invoices', '1500', '--json'], { env });
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
  assert.deepEqual([result.invoices, result.creditNotes], [1500, 150]);
  // Header, 1,500 invoices, 150 credit notes (R17, subtracted), the 22 % total, the month's total, the
  // ledger's VAT account in all and for 22 % (R16: by rate and Natura).
  assert.equal(result.registerLines, 1655);
  assert.ok(result.rssMbMaxDuringRegister > 0);
  const refused = await run(process.execPath, ['bin/casella.js', 'bench', 'register', '--invoices', '0'], { env }).catch((err) => err);
  assert.equal(refused.code, 2);
});
