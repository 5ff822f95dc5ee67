// A small run of `casella bench card-renewals` in the suite: not timed, but the same code path as the
// real benchmark (bulk seed, the card step of the daily job through the test gateway, ledger), on each engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { engineNames, freshPostgresUrl } from '../support/engines.ts';

const run = promisify(execFile);

for (const engine of engineNames()) {
  test(`bench card-renewals smoke [${engine}]: 200 mailboxes, a charge exactly where the credit falls short, ledger verified`, async () => {
    const pg = engine === 'postgres' ? await freshPostgresUrl() : null;
    try {
      const env = { ...process.env, DATABASE_URL: pg?.url ?? '', CASELLA_TEST_CLOCK: '' };
      const { stdout } = await run(process.execPath, ['bin/casella.js', 'bench', 'card-renewals', '--mailboxes', '200', '--json'], { env });
      const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
      assert.equal(result.mailboxes, 200);
      assert.equal(result.charges, 100);
      assert.equal(result.ledgerOk, true);
      assert.ok(result.seconds > 0 && result.chargesPerSecond > 0 && result.peakRssMb > 0);
    } finally {
      await pg?.drop();
    }
  });
}
