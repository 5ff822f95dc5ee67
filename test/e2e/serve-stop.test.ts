// R20 and API.md "CLI": how `casella serve` stops. SIGTERM or SIGINT: idle keep-alive connections
// are closed, a request in flight (here a card payment's notification) finishes, a request that
// still arrives on a busy connection gets 503 with Retry-After in API.md's error shape (never a
// 500), and the process exits 0 with one line within 10 s; a second signal exits at once (the
// 10 s cut-off and the second signal: serve-stop-deadline.test.ts; refusing to start:
// serve-start-errors.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase } from '../../src/db/database.ts';
import { engineNames } from '../support/engines.ts';
import { waitForLog } from '../support/serve-process.ts';
import { notificationInFlight, rawConnection, servedWithTopups, webhookHead } from '../support/serve-stop.ts';

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
