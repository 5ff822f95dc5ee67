// R15 under a crash: a spawned `casella serve` is killed with SIGKILL while card payments are being
// notified as fast as the gateway can. After a restart the gateway retries every notification (as
// a real one does until it is acknowledged): then every payment has exactly one invoice, and the
// year's numbers run 1, 2, 3 … with no gap and no duplicate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { openDatabase } from '../../src/db/database.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { testNotification, TEST_SIGNATURE_HEADER } from '../../src/payments/test-gateway.ts';
import { engineNames } from '../support/engines.ts';
import { Client, storedDatabase } from '../support/http.ts';
import { serveProcess, servedWithHolders } from '../support/serve-process.ts';

const HOLDERS = 3;
const TOPUPS_PER_HOLDER = 10;
const NOTIFIERS = 8;
const KILL_AFTER = 12; // acknowledged notifications before the kill

async function notify(baseUrl: string, n: { body: string; signature: string }): Promise<number> {
  const res = await fetch(`${baseUrl}/api/payments/webhook/test`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [TEST_SIGNATURE_HEADER]: n.signature },
    body: n.body,
  });
  await res.arrayBuffer();
  return res.status;
}

for (const engine of engineNames()) {
  test(`R15: SIGKILL during a burst of card payments, restart and retries: one invoice per payment, numbers with no gap [${engine}]`, async () => {
    const stored = await storedDatabase(engine);
    const token = `cop_${randomBytes(16).toString('hex')}`;
    const secret = randomBytes(24).toString('base64url');
    const env = { ...stored.env, CASELLA_TEST_GATEWAY_SECRET: secret };
    try {
      const { served: first, holders } = await servedWithHolders(env, token, HOLDERS, 0);
      const topupIds: string[] = [];
      for (const h of holders) {
        const c = new Client(first.baseUrl);
        assert.equal((await c.login(h.mailbox.address, h.password)).status, 200);
        for (let i = 0; i < TOPUPS_PER_HOLDER; i++) {
          const res = await c.post('/api/credit/topups', { amountCents: 100 + topupIds.length * 7 });
          assert.equal(res.status, 201, JSON.stringify(res.body));
          topupIds.push(res.body.topup.id);
        }
      }
      // The gateway's notifications, made once: a retry resends the same event.
      const notifications = topupIds.map((topupId) => testNotification(secret, { topupId, outcome: 'succeeded', failureCode: null }, Math.floor(Date.now() / 1000)));

      let acknowledged = 0;
      let killed = false;
      let next = 0;
      const notifiers = Array.from({ length: NOTIFIERS }, async () => {
        while (!killed && next < notifications.length) {
          const n = notifications[next++]!;
          try {
            assert.equal(await notify(first.baseUrl, n), 200);
            if (++acknowledged === KILL_AFTER) {
              first.child.kill('SIGKILL');
              killed = true;
            }
          } catch (e) {
            if (!killed) throw e;
          }
        }
      });
      try {
        await Promise.all(notifiers);
      } finally {
        killed = true;
        first.child.kill('SIGKILL');
      }
      await first.exited;
      assert.ok(acknowledged >= KILL_AFTER && acknowledged < notifications.length, `acknowledged ${acknowledged}`);

      const second = await serveProcess(env, token);
      try {
        for (const n of notifications) assert.equal(await notify(second.baseUrl, n), 200);
      } finally {
        second.child.kill('SIGTERM');
        await second.exited;
      }

      const db = await openDatabase({ url: stored.env.DATABASE_URL, dataDir: stored.env.CASELLA_DATA_DIR });
      try {
        const topups = await db.query<{ id: string; status: string; invoices: number }>(
          `SELECT t.id, t.status, (SELECT count(*)::int FROM invoices i WHERE i.topup_id = t.id) AS invoices FROM topups t WHERE t.id = ANY($1::text[])`,
          [topupIds],
        );
        assert.equal(topups.length, topupIds.length);
        for (const t of topups) assert.deepEqual([t.status, t.invoices], ['succeeded', 1], `top-up ${t.id}`);
        const numbers = await db.query<{ year: number; sequence: number }>('SELECT year, sequence FROM invoices ORDER BY year, sequence');
        assert.deepEqual(
          numbers.map((n) => `${n.year}/${n.sequence}`),
          Array.from({ length: topupIds.length }, (_, i) => `2027/${i + 1}`),
        );
        const [counter] = await db.query<{ last_number: number }>('SELECT last_number FROM invoice_counters WHERE year = 2027');
        assert.equal(counter!.last_number, topupIds.length);
        const [vat] = await db.query<{ invoices: number; ledger: number }>(
          `SELECT (SELECT sum(vat_cents) FROM invoices)::int AS invoices,
                  (SELECT sum(amount_cents) FROM ledger_postings WHERE account = 'vat_payable')::int AS ledger`,
        );
        assert.equal(vat!.invoices, vat!.ledger);
        assert.equal((await verifyLedger(db)).ok, true);
      } finally {
        await db.close();
      }
    } finally {
      await stored.drop();
    }
  });
}
