// R20 and API.md "CLI": how `casella serve` stops and how it refuses to start. SIGTERM or SIGINT:
// idle keep-alive connections are closed, a request in flight (here a card payment's notification)
// finishes, a request that still arrives on a busy connection gets 503 with Retry-After in API.md's
// error shape (never a 500), and the process exits 0 with one line within 10 s; a second signal
// exits at once. A port in use, an unreachable database or a bad configuration: one line, exit 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { spawn } from 'node:child_process';
import { openDatabase } from '../../src/db/database.ts';
import { testNotification, TEST_SIGNATURE_HEADER } from '../../src/payments/test-gateway.ts';
import { engineNames } from '../support/engines.ts';
import { Client, storedDatabase } from '../support/http.ts';
import { servedWithHolders, waitForLog, type Served } from '../support/serve-process.ts';

/** A raw HTTP/1.1 connection: what arrives is kept, so a test can read answers as they come. */
async function rawConnection(baseUrl: string) {
  const { port } = new URL(baseUrl);
  const socket: Socket = connect(Number(port), '127.0.0.1');
  await once(socket, 'connect');
  let received = '';
  let closed = false;
  const waiters: (() => void)[] = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  socket.on('data', (c) => {
    received += String(c);
    wake();
  });
  socket.on('close', () => {
    closed = true;
    wake();
  });
  socket.on('error', () => {});
  const until = (check: () => boolean) =>
    new Promise<void>((resolve) => {
      const test = () => (check() ? resolve() : waiters.push(test));
      test();
    });
  return {
    socket,
    received: () => received,
    closed: () => closed,
    /** Resolves once what arrived matches. */
    untilReceived: (pattern: RegExp) => until(() => pattern.test(received) || closed),
    untilClosed: () => until(() => closed),
  };
}

function webhookHead(baseUrl: string, n: { body: string; signature: string }, extra = ''): string {
  const { host } = new URL(baseUrl);
  return (
    `POST /api/payments/webhook/test HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n` +
    `${TEST_SIGNATURE_HEADER}: ${n.signature}\r\nContent-Length: ${Buffer.byteLength(n.body)}\r\n${extra}\r\n`
  );
}

/** A holder with two pending card top-ups, on a served process, and their notifications. */
async function servedWithTopups(engine: Parameters<typeof storedDatabase>[0]) {
  const stored = await storedDatabase(engine);
  const token = `cop_${randomBytes(16).toString('hex')}`;
  const secret = randomBytes(24).toString('base64url');
  const env = { ...stored.env, CASELLA_TEST_GATEWAY_SECRET: secret };
  const { served, holders } = await servedWithHolders(env, token, 1, 0);
  const c = new Client(served.baseUrl);
  assert.equal((await c.login(holders[0]!.mailbox.address, holders[0]!.password)).status, 200);
  const topupIds: string[] = [];
  for (const amountCents of [2000, 3000]) {
    const res = await c.post('/api/credit/topups', { amountCents });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    topupIds.push(res.body.topup.id);
  }
  const notifications = topupIds.map((topupId) => testNotification(secret, { topupId, outcome: 'succeeded', failureCode: null }, Math.floor(Date.now() / 1000)));
  return { stored, served, topupIds, notifications };
}

/** Sends the head of a notification with Expect: 100-continue: once 100 arrives, the request is in flight. */
async function notificationInFlight(served: Served, n: { body: string; signature: string }) {
  const conn = await rawConnection(served.baseUrl);
  conn.socket.write(webhookHead(served.baseUrl, n, 'Expect: 100-continue\r\n'));
  await conn.untilReceived(/HTTP\/1\.1 100 Continue\r\n\r\n/);
  return conn;
}

for (const engine of engineNames()) {
  test(`R20: SIGTERM with a payment notification in flight: it finishes, idle connections close, a late one gets 503 + Retry-After, exit 0 in one line [${engine}]`, async () => {
    const { stored, served, topupIds, notifications } = await servedWithTopups(engine);
    try {
      // An idle keep-alive connection (one answered request behind it).
      const idle = await rawConnection(served.baseUrl);
      idle.socket.write(`GET /healthz HTTP/1.1\r\nHost: ${new URL(served.baseUrl).host}\r\n\r\n`);
      await idle.untilReceived(/\{"status":"ok"\}/);
      // The first notification is in flight: its body has not arrived yet.
      const busy = await notificationInFlight(served, notifications[0]!);

      const signalledMs = Date.now();
      served.child.kill('SIGTERM');
      await waitForLog(served.child, /stopping \(SIGTERM\)/);
      await idle.untilClosed();
      assert.equal(idle.closed(), true, 'the idle keep-alive connection is closed at once');

      // The body arrives now, and behind it, on the same connection, the second notification.
      const second = notifications[1]!;
      busy.socket.write(notifications[0]!.body + webhookHead(served.baseUrl, second) + second.body);
      await busy.untilClosed();
      const answers = busy.received().split(/(?=HTTP\/1\.1 )/).filter((a) => !a.startsWith('HTTP/1.1 100'));
      assert.match(answers[0] ?? '', /^HTTP\/1\.1 200 /, busy.received());
      assert.match(answers[0]!, /"result":"applied"/);
      // Parsed after the stop began: refused, never a 500, and the gateway is told when to retry.
      assert.match(answers[1] ?? '', /^HTTP\/1\.1 503 /, busy.received());
      assert.match(answers[1]!, /\r\nretry-after: \d+\r\n/i);
      assert.match(answers[1]!, /\r\nconnection: close\r\n/i);
      assert.match(answers[1]!, /\{"error":\{"code":"service_unavailable","message":"[^"]+"\}\}/);
      assert.doesNotMatch(busy.received(), /HTTP\/1\.1 500 /);

      const [code] = (await served.exited) as [number | null];
      assert.equal(code, 0);
      assert.ok(Date.now() - signalledMs < 10_000, `stopped in ${Date.now() - signalledMs} ms`);
      const stopLines = served.output().split('\n').filter((l) => /stopped on SIGTERM/.test(l));
      assert.equal(stopLines.length, 1);
      assert.match(stopLines[0]!, /every request in flight finished/);

      const db = await openDatabase({ url: stored.env.DATABASE_URL, dataDir: stored.env.CASELLA_DATA_DIR });
      try {
        const rows = await db.query<{ id: string; status: string }>('SELECT id, status FROM topups WHERE id = ANY($1::text[]) ORDER BY amount_cents', [topupIds]);
        assert.equal(rows[0]!.status, 'succeeded', 'the notification in flight was applied');
        // The refused one changed nothing: the gateway sends it again (to another process, or after the restart).
        assert.equal(rows[1]!.status, 'pending');
      } finally {
        await db.close();
      }
    } finally {
      if (served.child.exitCode === null) served.child.kill('SIGKILL');
      await served.exited;
      await stored.drop();
    }
  });
}

test('R20: a request that never finishes is cut off after 10 s and serve still exits 0; a second signal exits at once', async () => {
  const { stored, served, notifications } = await servedWithTopups('pglite');
  let second: Awaited<ReturnType<typeof servedWithTopups>> | null = null;
  try {
    await notificationInFlight(served, notifications[0]!); // its body never comes
    const signalledMs = Date.now();
    served.child.kill('SIGINT');
    const [code] = (await served.exited) as [number | null];
    const tookMs = Date.now() - signalledMs;
    assert.equal(code, 0);
    assert.ok(tookMs >= 9_000 && tookMs < 15_000, `stopped after ${tookMs} ms`);
    assert.match(served.output(), /stopped on SIGINT in [\d.]+ s: requests still running after 10 s were cut off/);

    second = await servedWithTopups('pglite');
    await notificationInFlight(second.served, second.notifications[0]!);
    second.served.child.kill('SIGINT');
    await waitForLog(second.served.child, /stopping \(SIGINT\)/);
    const againMs = Date.now();
    second.served.child.kill('SIGINT');
    const [code2] = (await second.served.exited) as [number | null];
    assert.equal(code2, 1);
    assert.ok(Date.now() - againMs < 3_000, 'the second signal does not wait');
  } finally {
    for (const s of [served, second?.served]) if (s && s.child.exitCode === null) s.child.kill('SIGKILL');
    await served.exited;
    if (second) await second.served.exited;
    await stored.drop();
    await second?.stored.drop();
  }
});

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
  const stored = await storedDatabase('pglite');
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
