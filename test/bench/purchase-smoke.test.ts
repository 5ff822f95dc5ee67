// A small run of `casella bench purchase` in the suite: not timed, the same HTTP path as the real
// benchmark (operator provisioning, holder sessions, CSRF, orders), against a server on each engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { engineNames } from '../support/engines.ts';
import { startTestServer } from '../support/http.ts';

const run = promisify(execFile);

for (const engine of engineNames()) {
  test(`bench purchase smoke [${engine}]: purchases complete over HTTP without errors, ledger verified, CPU per purchase read`, async () => {
    const s = await startTestServer(engine);
    try {
      const env = { ...process.env, DATABASE_URL: '', PUBLIC_URL: '', CASELLA_OPERATOR_TOKEN: '' };
      // The server runs in this process: its CPU is this process's; on PostgreSQL, also the backends of the test's database.
      const database = s.app.config.databaseUrl ? new URL(s.app.config.databaseUrl).pathname.slice(1) : null;
      const cpuArgs = ['--cpu-pid', String(process.pid), ...(database ? ['--cpu-database', database] : [])];
      const { stdout } = await run(
        process.execPath,
        ['bin/casella.js', 'bench', 'purchase', '--seconds', '1', '--concurrency', '2', '--mailboxes-per-holder', '1', '--url', s.baseUrl, '--token', s.operatorToken, ...cpuArgs, '--json'],
        { env },
      );
      const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
      assert.ok(result.purchases > 0, stdout);
      assert.equal(result.errors, 0);
      assert.equal(result.ledgerOk, true);
      assert.ok(result.p99Ms >= result.p50Ms && result.p50Ms > 0);
      assert.equal(result.pgbenchTps, null); // no PostgreSQL URL given: pgbench is not run
      assert.ok(result.cpu.serverMsPerPurchase > 0, stdout);
      assert.ok(result.cpu.clientMsPerPurchase > 0, stdout);
      if (database) assert.ok(result.cpu.postgresMsPerPurchase > 0, stdout);
      else assert.equal(result.cpu.postgresMsPerPurchase, null);
      const charged = await s.app.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ledger_transactions WHERE kind = 'purchase'`);
      assert.equal(charged[0]!.n, result.purchases);
    } finally {
      await s.close();
    }
  });
}

test('bench purchase smoke, R20: several --url share the holders, and --scrape-every-ms measures purchases without and with scraping in one run', async () => {
  const [engine] = engineNames().slice(-1) as [ReturnType<typeof engineNames>[number]];
  const s = await startTestServer(engine);
  try {
    const env = { ...process.env, DATABASE_URL: '', PUBLIC_URL: '', CASELLA_OPERATOR_TOKEN: '' };
    const { stdout } = await run(
      process.execPath,
      [
        // Each mailbox takes 50 purchases of 1 GB before its space is full: 20 per holder are more than
        // an idle machine buys in 3 s, so every slice, with scraping and without, has purchases to make.
        'bin/casella.js', 'bench', 'purchase', '--seconds', '3', '--concurrency', '2', '--mailboxes-per-holder', '20',
        '--url', s.baseUrl, '--url', `${s.baseUrl}/`, '--token', s.operatorToken, '--scrape-every-ms', '100', '--json',
      ],
      { env },
    );
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
    assert.equal(result.processes, 2);
    assert.equal(result.errors, 0);
    assert.equal(result.ledgerOk, true);
    assert.ok(result.scraping.scrapes > 0, stdout);
    assert.ok(result.scraping.withoutPerSecond > 0 && result.scraping.withPerSecond > 0, stdout);
    assert.equal(typeof result.scraping.costPercent, 'number');
    assert.equal(result.cpu, null); // no --cpu-pid
  } finally {
    await s.close();
  }
});
