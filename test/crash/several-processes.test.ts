// R20: three `casella serve` processes on one PostgreSQL. Holders log in on one and buy on all three
// with the same session; card payments are notified to all three; operators run the daily job on
// all three; one process is killed with SIGKILL in the middle. Then nothing is lost or done twice:
// every purchase intent (one Idempotency-Key, retried on another process when its process died) is
// one completed order with one charge, every payment has one invoice and the invoice numbers run
// 1, 2, 3 … with no gap, every e-mail of the outbox reaches the loopback SMTP server exactly once
// (what the killed process had claimed is taken over by the others within a minute), the
// scheduled daily job ran once for the day, and the ledger verifies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { openDatabase, type Database } from '../../src/db/database.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { testNotification, TEST_SIGNATURE_HEADER } from '../../src/payments/test-gateway.ts';
import { freshPostgresUrl } from '../support/engines.ts';
import { Client } from '../support/http.ts';
import { serveProcess, servedWithHolders, type Served } from '../support/serve-process.ts';
import { startSmtp } from '../support/smtp.ts';

const HOLDERS = 3;
const CREDIT_CENTS = 100_000;
const PURCHASES_PER_HOLDER = 12;
const TOPUPS_PER_HOLDER = 4;
const KILL_AFTER_PURCHASES = 12;
/** Slow enough that the processes hold claimed e-mails while they send. */
const SMTP_DELAY_MS = 60;
/** R20: a killed process's claims are taken over within a minute. */
const TAKEOVER_MS = 60_000;

async function eventually(check: () => Promise<boolean>, ms: number, what: () => Promise<string>): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`not within ${ms} ms: ${await what()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The same session on another process: the cookie and the CSRF token are all a browser has. */
function sameSessionOn(baseUrl: string, c: Client): Client {
  const other = new Client(baseUrl);
  other.cookie = c.cookie;
  other.csrfToken = c.csrfToken;
  return other;
}

const pending = async (db: Database) =>
  (
    await db.query<{ emails: number; invoices: number }>(
      `SELECT (SELECT count(*)::int FROM outbox WHERE status = 'pending') AS emails,
              (SELECT count(*)::int FROM invoices WHERE sdi_status = 'issued') AS invoices`,
    )
  )[0]!;

test('R20: three processes on one PostgreSQL, one killed mid-way: nothing lost, nothing done twice', { skip: !process.env.TEST_DATABASE_URL && 'needs PostgreSQL (TEST_DATABASE_URL): several processes cannot share the embedded engine' }, async () => {
  const pg = await freshPostgresUrl();
  const smtp = await startSmtp(0, SMTP_DELAY_MS, true);
  const token = `cop_${randomBytes(16).toString('hex')}`;
  const secret = randomBytes(24).toString('base64url');
  const env = { DATABASE_URL: pg.url, CASELLA_TEST_GATEWAY_SECRET: secret, SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, SDI_SIMULATOR_DELAY_MS: '0' };
  const processes: Served[] = [];
  const db = await openDatabase({ url: pg.url });
  try {
    const { served: first, holders } = await servedWithHolders(env, token, HOLDERS, CREDIT_CENTS);
    processes.push(first);
    processes.push(...(await Promise.all([serveProcess(env, token), serveProcess(env, token)])));
    const [, , doomed] = processes as [Served, Served, Served];
    const alive = () => processes.filter((p) => p !== doomed || !killed);
    let killed = false;
    let killedAtMs = 0;

    // Sessions work on any process: log in on the first, use the session on all three.
    const sessions: { holder: (typeof holders)[number]; onEach: Client[] }[] = [];
    for (const h of holders) {
      const c = new Client(first.baseUrl);
      assert.equal((await c.login(h.mailbox.address, h.password)).status, 200);
      const onEach = processes.map((p) => sameSessionOn(p.baseUrl, c));
      for (const s of onEach) assert.equal((await s.get('/api/me')).status, 200, 'the session on another process');
      sessions.push({ holder: h, onEach });
    }

    // Top-ups made on all three; their notifications come later, spread over the processes.
    const topupIds: string[] = [];
    for (const [i, s] of sessions.entries()) {
      for (let t = 0; t < TOPUPS_PER_HOLDER; t++) {
        const res = await s.onEach[(i + t) % 3]!.post('/api/credit/topups', { amountCents: 1000 + topupIds.length });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        topupIds.push(res.body.topup.id);
      }
    }
    const notifications = topupIds.map((topupId) => testNotification(secret, { topupId, outcome: 'succeeded', failureCode: null }, Math.floor(Date.now() / 1000)));

    // Each purchase is an intent with its own Idempotency-Key, sent round robin; when its process
    // dies under it, the buyer (like the browser's retry) sends it again to another one.
    let acknowledged = 0;
    let round = 0;
    const orderIds = new Map<string, string>();
    const buy = async (s: (typeof sessions)[number], key: string) => {
      for (let attempt = 0; ; attempt++) {
        const candidates = alive();
        const target = candidates[(round++ + attempt) % candidates.length]!;
        const client = s.onEach[processes.indexOf(target)]!;
        try {
          const res = await client.post(`/api/mailboxes/${s.holder.mailbox.id}/extra-space/orders`, { quantityGb: 1 }, { 'idempotency-key': key });
          if (res.status === 409 && res.body?.error?.code === 'request_in_progress') continue; // the dead process's attempt is still being rolled back
          assert.equal(res.status, 201, JSON.stringify(res.body));
          orderIds.set(key, res.body.order.id);
          if (++acknowledged === KILL_AFTER_PURCHASES && !killed) {
            killed = true;
            killedAtMs = Date.now();
            doomed.child.kill('SIGKILL');
          }
          return;
        } catch (err) {
          if (!(killed && target === doomed)) throw err;
        }
      }
    };
    const notify = async (n: { body: string; signature: string }, i: number) => {
      // The gateway retries until some process acknowledges.
      for (let attempt = 0; ; attempt++) {
        const candidates = alive();
        const target = candidates[(i + attempt) % candidates.length]!;
        try {
          const res = await fetch(`${target.baseUrl}/api/payments/webhook/test`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', [TEST_SIGNATURE_HEADER]: n.signature },
            body: n.body,
          });
          await res.arrayBuffer();
          if (res.status === 200) return;
          assert.ok(res.status === 503 || res.status === 409, `webhook answered ${res.status}`);
        } catch (err) {
          if (!(killed && target === doomed)) throw err;
        }
      }
    };
    const dailyRuns = async () => {
      for (let i = 0; i < 6; i++) {
        const target = alive()[i % alive().length]!;
        try {
          const res = await new Client(target.baseUrl, token).post('/api/admin/jobs/daily');
          assert.equal(res.status, 200, JSON.stringify(res.body));
        } catch (err) {
          if (!(killed && target === doomed)) throw err;
        }
      }
    };

    const work = [
      ...sessions.map(async (s, h) => {
        for (let p = 0; p < PURCHASES_PER_HOLDER; p++) await buy(s, `buy-${h}-${p}`);
      }),
      (async () => {
        for (const [i, n] of notifications.entries()) await notify(n, i);
      })(),
      dailyRuns(),
    ];
    try {
      await Promise.all(work);
    } finally {
      if (!killed) {
        killed = true;
        killedAtMs = Date.now();
        doomed.child.kill('SIGKILL');
      }
    }
    await doomed.exited;

    // What the dead process had claimed is delivered by the others, within a minute.
    await eventually(
      async () => {
        const p = await pending(db);
        return p.emails === 0 && p.invoices === 0;
      },
      TAKEOVER_MS,
      async () => `still pending ${JSON.stringify(await pending(db))} ${Date.now() - killedAtMs} ms after the kill`,
    );

    // Purchases: each intent once, whole.
    assert.equal(orderIds.size, HOLDERS * PURCHASES_PER_HOLDER);
    const orders = await db.query<{ id: string; status: string; charges: number }>(
      `SELECT o.id, o.status, (SELECT count(*)::int FROM ledger_transactions t WHERE t.order_id = o.id AND t.kind = 'purchase') AS charges
         FROM orders o WHERE o.customer_id = ANY($1::text[])`,
      [holders.map((h) => h.customer.id)],
    );
    assert.equal(orders.length, HOLDERS * PURCHASES_PER_HOLDER, 'one order per intent, none lost, none twice');
    for (const o of orders) assert.deepEqual([o.status, o.charges], ['completed', 1], `order ${o.id}`);
    assert.deepEqual(new Set(orders.map((o) => o.id)), new Set(orderIds.values()));

    // Payments: one invoice each, numbers with no gap and no duplicate, all handed to SdI.
    const topups = await db.query<{ status: string; invoices: number }>(
      `SELECT t.status, (SELECT count(*)::int FROM invoices i WHERE i.topup_id = t.id) AS invoices FROM topups t WHERE t.id = ANY($1::text[])`,
      [topupIds],
    );
    assert.deepEqual(
      topups.map((t) => `${t.status}/${t.invoices}`),
      topupIds.map(() => 'succeeded/1'),
    );
    const numbers = await db.query<{ year: number; sequence: number }>('SELECT year, sequence FROM invoices ORDER BY year, sequence');
    assert.deepEqual(
      numbers.map((n) => `${n.year}/${n.sequence}`),
      topupIds.map((_, i) => `2027/${i + 1}`),
    );
    const handed = await db.query<{ file_name: string; n: number }>(
      `SELECT file_name, count(*)::int AS n FROM invoice_events WHERE status = 'sent' GROUP BY file_name HAVING count(*) > 1`,
    );
    assert.deepEqual(handed, [], 'no invoice recorded as sent twice');

    // E-mails: every one of the outbox arrived, none twice.
    const outbox = await db.query<{ id: string; status: string }>('SELECT id, status FROM outbox');
    assert.ok(outbox.length >= HOLDERS * PURCHASES_PER_HOLDER + topupIds.length, `${outbox.length} e-mails`);
    assert.deepEqual([...new Set(outbox.map((e) => e.status))], ['sent']);
    const idOf = (m: { messageId: string }) => /<([^.>]+)\.outbox@/.exec(m.messageId)?.[1] ?? m.messageId;
    const receivedIds = smtp.received.map(idOf);
    const twice = receivedIds.filter((id, i) => receivedIds.indexOf(id) !== i);
    // R13's one window of at-least-once: the killed process may have heard 250 for one message and
    // died before marking it sent; another process sends it again (same Message-ID, so a receiver
    // can drop it). That can only be the last message of one of its SMTP sessions, accepted before
    // the kill; nothing else may arrive twice.
    assert.ok(twice.length <= 1, `e-mails delivered twice: ${twice.join(', ')}`);
    for (const id of twice) {
      const first = smtp.received.find((m) => idOf(m) === id)!;
      assert.ok(first.atMs <= killedAtMs + 1000, `${id} was delivered twice, first after the kill`);
      assert.equal(smtp.received.filter((m) => m.sessionId === first.sessionId).at(-1), first, `${id} was delivered twice though its sender went on`);
    }
    assert.deepEqual(new Set(receivedIds), new Set(outbox.map((e) => e.id)));

    // The scheduled daily job ran once for the test clock's day, whichever process ran it.
    const runs = await db.query<{ day: string }>(`SELECT day FROM job_runs WHERE job = 'daily' AND day = '2027-01-15'`);
    assert.equal(runs.length, 1);
    const doneLines = processes.flatMap((p) => p.output().split('\n')).filter((l) => l.includes('"daily job done"') && l.includes('"day":"2027-01-15"'));
    assert.equal(doneLines.length, 1, 'the scheduled job of 2027-01-15 ran in exactly one process');

    assert.equal((await verifyLedger(db)).ok, true);
  } finally {
    for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
    await Promise.all(processes.map((p) => p.exited));
    await db.close();
    await smtp.close();
    await pg.drop();
  }
});
