// R13: outbox delivery against a real SMTP server on loopback.
import { beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { clock } from '../../src/clock.ts';
import { openDatabase, type Database } from '../../src/db/database.ts';
import { enqueueEmail } from '../../src/mail/outbox.ts';
import {
  deliverDueEmails,
  listOutbox,
  retryFailedEmail,
  startDeliveryLoop,
  type DeliveryOptions,
} from '../../src/mail/delivery.ts';
import { forEachEngine } from '../support/engines.ts';
import { startSmtp, type Received } from '../support/smtp.ts';

/** A port with nothing listening (a server that was there and is gone). */
async function deadPort(): Promise<number> {
  const s = await startSmtp();
  await s.close();
  return s.port;
}

const optsFor = (port: number, extra: Partial<DeliveryOptions> = {}): DeliveryOptions => ({
  smtpUrl: `smtp://127.0.0.1:${port}`,
  mailFrom: 'Casella <noreply@casella.test>',
  smtpTimeoutMs: 2000,
  retryDelayMsBase: 10,
  retryDelayMsMax: 60_000,
  attemptsMax: 10,
  ...extra,
});

async function enqueue(db: Database, n: number, tag: string): Promise<string[]> {
  return db.transaction(async (tx) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      ids.push(
        await enqueueEmail(
          tx,
          {
            customerId: null,
            kind: 'test',
            to: `holder${i}@example.com`,
            locale: 'it',
            content: { subject: `${tag} ${i}`, blocks: [{ p: `body-${tag}-${i}` }] },
          },
          clock.now(),
        ),
      );
    }
    return ids;
  });
}

const rowsOf = (db: Database) =>
  db.query<{ id: string; status: string; attempts: number; next_attempt_at: Date; last_error: string | null; sent_at: Date | null }>(
    'SELECT id, status, attempts, next_attempt_at, last_error, sent_at FROM outbox ORDER BY seq',
  );

const sleepUntil = async (epochMs: number) => {
  const ms = epochMs - Date.now();
  if (ms > 0) await new Promise((r) => setTimeout(r, ms + 1));
};

/** One Message-ID per outbox id, each received exactly once. */
function assertEachOnce(received: Received[], ids: string[]) {
  const counts = new Map<string, number>();
  for (const r of received) counts.set(r.messageId, (counts.get(r.messageId) ?? 0) + 1);
  assert.equal(received.length, ids.length);
  for (const id of ids) assert.equal(counts.get(`<${id}.outbox@casella.test>`), 1, `${id} received once`);
}

forEachEngine('outbox delivery (R13)', (use) => {
  beforeEach(async () => {
    clock.setRome('2026-06-10T10:00');
    await use().db.query('DELETE FROM outbox');
  });

  test('pending e-mails are delivered once each and marked sent; a second run sends nothing', async () => {
    const { db } = use();
    const smtp = await startSmtp();
    try {
      const ids = await enqueue(db, 3, 'Benvenuto');
      // Business time far ahead of the machine's: a new e-mail is still due at once.
      clock.setRome('2030-01-01T10:00');
      ids.push(...(await enqueue(db, 1, 'Futuro')));

      assert.deepEqual(await deliverDueEmails(db, null, optsFor(smtp.port)), { sent: 4, failed: 0, retried: 0 });
      assertEachOnce(smtp.received, ids);
      const first = smtp.received.find((r) => r.subject === 'Benvenuto 0')!;
      assert.ok(first.raw.includes('body-Benvenuto-0'));
      assert.match(first.raw, /^From: Casella <noreply@casella\.test>/m);
      assert.match(first.raw, /^To: holder0@example\.com/m);
      assert.match(first.raw, /text\/html/);
      for (const row of await rowsOf(db)) {
        assert.equal(row.status, 'sent');
        assert.equal(row.attempts, 1);
        assert.ok(row.sent_at);
      }

      assert.deepEqual(await deliverDueEmails(db, null, optsFor(smtp.port)), { sent: 0, failed: 0, retried: 0 });
      assert.equal(smtp.received.length, 4);

      const listed = await listOutbox(db, 2);
      assert.deepEqual(listed.map((r) => r.subject), ['Futuro 0', 'Benvenuto 2']);
      assert.equal(listed[0]!.status, 'sent');
      assert.match(listed[0]!.text_body, /body-Futuro-0/);
    } finally {
      await smtp.close();
    }
  });

  test('server down: attempts grow with exponential back-off, nothing lost; then each arrives once', async () => {
    const { db } = use();
    const port = await deadPort();
    const base = 100;
    const opts = optsFor(port, { retryDelayMsBase: base });
    const ids = await enqueue(db, 3, 'Rinnovo');

    for (let attempt = 1; attempt <= 3; attempt++) {
      const t0 = Date.now();
      assert.deepEqual(await deliverDueEmails(db, null, opts), { sent: 0, failed: 0, retried: 3 });
      const t1 = Date.now();
      const rows = await rowsOf(db);
      assert.equal(rows.length, 3);
      const delay = base * 2 ** (attempt - 1);
      for (const row of rows) {
        assert.equal(row.status, 'pending');
        assert.equal(row.attempts, attempt);
        assert.match(row.last_error ?? '', /ECONNREFUSED/);
        const next = row.next_attempt_at.getTime();
        assert.ok(next >= t0 + delay && next <= t1 + delay, `attempt ${attempt}: next in ${next - t1} ms, expected ~${delay}`);
      }
      if (attempt === 1) {
        // Not due yet: nothing is tried.
        assert.deepEqual(await deliverDueEmails(db, null, opts), { sent: 0, failed: 0, retried: 0 });
        assert.equal((await rowsOf(db))[0]!.attempts, 1);
      }
      if (attempt < 3) await sleepUntil(Math.max(...rows.map((r) => r.next_attempt_at.getTime())));
    }

    const smtp = await startSmtp(port);
    try {
      const rows = await rowsOf(db);
      await sleepUntil(Math.max(...rows.map((r) => r.next_attempt_at.getTime())));
      assert.deepEqual(await deliverDueEmails(db, null, opts), { sent: 3, failed: 0, retried: 0 });
      assertEachOnce(smtp.received, ids);
      assert.ok((await rowsOf(db)).every((r) => r.status === 'sent' && r.attempts === 4));
      assert.deepEqual(await deliverDueEmails(db, null, opts), { sent: 0, failed: 0, retried: 0 });
      assert.equal(smtp.received.length, 3);
    } finally {
      await smtp.close();
    }
  });

  test('after attemptsMax failures the e-mail is failed; retryFailedEmail makes it deliverable again', async () => {
    const { db } = use();
    const port = await deadPort();
    const opts = optsFor(port, { attemptsMax: 2 });
    const [id] = await enqueue(db, 1, 'Scadenza');

    assert.deepEqual(await deliverDueEmails(db, null, opts), { sent: 0, failed: 0, retried: 1 });
    await sleepUntil((await rowsOf(db))[0]!.next_attempt_at.getTime());
    assert.deepEqual(await deliverDueEmails(db, null, opts), { sent: 0, failed: 1, retried: 0 });
    let [row] = await rowsOf(db);
    assert.equal(row!.status, 'failed');
    assert.equal(row!.attempts, 2);
    assert.ok(row!.last_error && row!.last_error.length <= 500);
    // Failed rows are left alone.
    await sleepUntil(row!.next_attempt_at.getTime());
    assert.deepEqual(await deliverDueEmails(db, null, opts), { sent: 0, failed: 0, retried: 0 });

    const smtp = await startSmtp(port);
    try {
      assert.equal(await retryFailedEmail(db, id!), true);
      [row] = await rowsOf(db);
      assert.deepEqual([row!.status, row!.attempts], ['pending', 0]);
      assert.deepEqual(await deliverDueEmails(db, null, opts), { sent: 1, failed: 0, retried: 0 });
      assertEachOnce(smtp.received, [id!]);
      assert.equal((await rowsOf(db))[0]!.status, 'sent');
      assert.equal(await retryFailedEmail(db, id!), false, 'a sent e-mail is not retried');
      assert.equal(await retryFailedEmail(db, 'eml_nope'), false);
    } finally {
      await smtp.close();
    }
  });

  test('concurrent workers never send a row twice', async () => {
    const { db, url } = use();
    // A slow server so the workers' sending really overlaps.
    const smtp = await startSmtp(0, 5);
    // On PostgreSQL the second worker has its own pool, as another process would.
    const other = url ? await openDatabase({ url, poolSizeMax: 5 }) : db;
    try {
      const ids = await enqueue(db, 30, 'Concorrenza');
      const opts = optsFor(smtp.port, { batchSizeMax: 4 });
      const totals = { sent: 0, failed: 0, retried: 0 };
      for (let round = 0; round < 20 && totals.sent < ids.length; round++) {
        const results = await Promise.all([
          deliverDueEmails(db, null, opts),
          deliverDueEmails(other, null, opts),
          deliverDueEmails(db, null, opts),
          deliverDueEmails(other, null, opts),
        ]);
        for (const r of results) {
          totals.sent += r.sent;
          totals.failed += r.failed;
          totals.retried += r.retried;
        }
      }
      assert.deepEqual(totals, { sent: 30, failed: 0, retried: 0 });
      assertEachOnce(smtp.received, ids);
      assert.ok((await rowsOf(db)).every((r) => r.status === 'sent' && r.attempts === 1));
    } finally {
      if (other !== db) await other.close();
      await smtp.close();
    }
  });

  test('the delivery loop sends on kick and stops cleanly', async () => {
    const { db } = use();
    const smtp = await startSmtp();
    const logged: string[] = [];
    const loop = startDeliveryLoop(db, {
      ...optsFor(smtp.port),
      intervalMs: 60_000,
      logger: { info: (_o, m) => logged.push(`info ${m}`), warn: (_o, m) => logged.push(`warn ${m}`) },
    });
    try {
      const ids = await enqueue(db, 2, 'Ciclo');
      loop.kick();
      await smtp.until(2);
      loop.kick();
      loop.kick();
      await loop.stop();
      assertEachOnce(smtp.received, ids);
      loop.kick(); // ignored once stopped
      assert.ok(logged.every((l) => l.startsWith('info')));
    } finally {
      await loop.stop();
      await smtp.close();
    }
  });
});
