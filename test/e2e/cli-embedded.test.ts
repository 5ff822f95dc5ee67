// Issue 12 item 16: the CLI beside a running `casella serve` on the embedded engine. The data
// directory is the server's alone, so each command says in one line what to do instead (no stack
// trace, non-zero exit), and the forecast is reachable through the operator API while serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { clock } from '../../src/clock.ts';
import { parseDate } from '../../src/domain/calendar.ts';
import { forecastRenewals } from '../../src/services/daily.ts';
import { engineNames } from '../support/engines.ts';
import { Client, provisionHolder, startTestServer, storedDatabase } from '../support/http.ts';
import { spawnServe, waitForLog } from '../support/serve-process.ts';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function casella(args: string[], env: Record<string, string>): Promise<Run> {
  const child = spawn(process.execPath, ['bin/casella.js', ...args], {
    env: { ...process.env, ...env, NODE_ENV: '', SMTP_URL: '', CASELLA_OPERATOR_TOKEN: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += String(c)));
  child.stderr.on('data', (c) => (stderr += String(c)));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

test('the CLI beside a running casella serve on the embedded engine: one line saying what to do, non-zero exit, no stack trace', async () => {
  const stored = await storedDatabase('pglite');
  const token = `cop_${'a'.repeat(40)}`;
  const server = spawnServe(stored.env, token);
  const exited = once(server, 'exit');
  try {
    const [, baseUrl] = await waitForLog(server, /Server listening at (http:\/\/127\.0\.0\.1:\d+)/);
    const commands: [string[], RegExp][] = [
      [['daily'], /POST \/api\/admin\/jobs\/daily/],
      [['forecast', '--on', '2027-01-01'], /GET \/api\/admin\/forecast\?on=YYYY-MM-DD/],
      [['ledger', 'verify'], /GET \/api\/admin\/ledger\/verify/],
      [['operator', 'create', '--name', 'Anna'], /CASELLA_OPERATOR_TOKEN/],
    ];
    const runs = await Promise.all(commands.map(([args]) => casella(args, stored.env)));
    commands.forEach(([args, hint], i) => {
      const run = runs[i]!;
      const what = `casella ${args.join(' ')}: ${run.stderr}`;
      assert.notEqual(run.code, 0, what);
      const lines = run.stderr.trim().split('\n');
      assert.equal(lines.length, 1, what);
      assert.match(lines[0]!, new RegExp(`in use by process ${server.pid}\\b`), what);
      assert.ok(lines[0]!.includes(stored.env.CASELLA_DATA_DIR!), what);
      assert.match(lines[0]!, hint, what);
      assert.doesNotMatch(run.stderr, /\n\s+at |Error:/, what);
      assert.equal(run.stdout, '', what);
    });

    // The forecast the CLI could not give is there over HTTP, from the same server.
    const op = new Client(baseUrl!, token);
    const res = await op.get('/api/admin/forecast?on=2027-01-01');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.onDate, '2027-01-01');
  } finally {
    server.kill('SIGTERM');
    await exited;
    await stored.drop();
  }
});

for (const engine of engineNames()) {
  test(`GET /api/admin/forecast answers what casella forecast --json prints [${engine}]`, async () => {
    clock.setRome('2026-06-10T10:00');
    const server = await startTestServer(engine);
    try {
      const op = new Client(server.baseUrl, server.operatorToken);
      const rich = await provisionHolder(op, { expiresOn: '2026-07-01', creditCents: 10_000 });
      const poor = await provisionHolder(op, { expiresOn: '2026-07-15' });
      await provisionHolder(op, { expiresOn: '2027-03-01', creditCents: 10_000 });

      const res = await op.get('/api/admin/forecast?on=2026-07-31');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body, JSON.parse(JSON.stringify(await forecastRenewals(server.app.ctx, parseDate('2026-07-31')!))));
      assert.equal(res.body.mailboxes, 2);
      assert.equal(res.body.renewed, 1);
      assert.equal(res.body.expired, 1);
      assert.deepEqual(res.body.items.map((i: { address: string }) => i.address).sort(), [rich.mailbox.address, poor.mailbox.address].sort());
      assert.ok(res.body.missingCents > 0);

      for (const bad of ['/api/admin/forecast', '/api/admin/forecast?on=2026-02-30', '/api/admin/forecast?on=31/07/2026', '/api/admin/forecast?on=2026-07-31&x=1']) {
        const r = await op.get(bad);
        assert.equal(r.status, 422, `${bad}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.error.code, 'validation_failed', bad);
      }
      const anonymous = await new Client(server.baseUrl).get('/api/admin/forecast?on=2026-07-31');
      assert.equal(anonymous.status, 401);
      const openapi = await op.get('/api/openapi.json');
      assert.ok(openapi.body.paths['/api/admin/forecast']?.get, 'the forecast is in the OpenAPI document');
    } finally {
      await server.close();
    }
  });
}

test('dovecot-config on the embedded engine refuses in one line: the mail server needs PostgreSQL', async () => {
  const stored = await storedDatabase('pglite');
  try {
    const run = await casella(['dovecot-config', '--out', '/tmp/casella-never-written'], { ...stored.env, DATABASE_URL: '' });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /PostgreSQL.*DATABASE_URL.*embedded demo runs without a mail server/s);
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
  } finally {
    await stored.drop();
  }
});
