// Attack "idempotency keys stuck after a crash" (API.md "Conventions"): a spawned `casella serve` is
// killed with SIGKILL during a burst of purchases, each with its own Idempotency-Key. After a restart,
// a retry of every key with the same body gets the committed order (same id, 201) or buys afresh,
// exactly once; no key answers request_in_progress; orders and charges agree one for one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { openDatabase } from '../../src/db/database.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { engineNames } from '../support/engines.ts';
import { Client, storedDatabase } from '../support/http.ts';
import { serveProcess, servedWithHolders } from '../support/serve-process.ts';

const HOLDERS = 3;
const BUYERS_PER_HOLDER = 3;
const CREDIT_CENTS = 100_000;
const KILL_AFTER = 30; // acknowledged purchases before the kill

interface Sent {
  key: string;
  path: string;
  holderIndex: number;
  /** The order id the first server answered, if it answered. */
  acknowledged: string | null;
}

for (const engine of engineNames()) {
  test(`idempotency keys stuck after a crash: SIGKILL during keyed purchases, every retry answers the committed order or buys once [${engine}]`, async () => {
    const stored = await storedDatabase(engine);
    const token = `cop_${randomBytes(16).toString('hex')}`;
    try {
      const { served: first, holders } = await servedWithHolders(stored.env, token, HOLDERS, CREDIT_CENTS);
      const clients = await Promise.all(
        holders.map(async (h) => {
          const c = new Client(first.baseUrl);
          assert.equal((await c.login(h.mailbox.address, h.password)).status, 200);
          return c;
        }),
      );

      const sent: Sent[] = [];
      let acknowledgedCount = 0;
      let killed = false;
      const buyers = holders.flatMap((h, holderIndex) =>
        Array.from({ length: BUYERS_PER_HOLDER }, async () => {
          while (!killed) {
            const s: Sent = { key: randomUUID(), path: `/api/mailboxes/${h.mailbox.id}/extra-space/orders`, holderIndex, acknowledged: null };
            sent.push(s);
            try {
              const res = await clients[holderIndex]!.post(s.path, { quantityGb: 1 }, { 'idempotency-key': s.key });
              assert.equal(res.status, 201, JSON.stringify(res.body));
              s.acknowledged = res.body.order.id;
              if (++acknowledgedCount === KILL_AFTER) {
                first.child.kill('SIGKILL');
                killed = true;
              }
            } catch (e) {
              if (!killed) throw e;
            }
          }
        }),
      );
      try {
        await Promise.all(buyers);
      } finally {
        killed = true;
        first.child.kill('SIGKILL');
      }
      await first.exited;
      const unanswered = sent.filter((s) => !s.acknowledged);
      assert.ok(unanswered.length > 0, 'the kill came with no purchase in flight');

      const second = await serveProcess(stored.env, token);
      const outcome = new Map<string, string>();
      try {
        const retry = async (s: Sent) => {
          const c = new Client(second.baseUrl);
          c.cookie = clients[s.holderIndex]!.cookie;
          c.csrfToken = clients[s.holderIndex]!.csrfToken;
          return c.post(s.path, { quantityGb: 1 }, { 'idempotency-key': s.key });
        };
        for (const s of sent) {
          const res = await retry(s);
          assert.equal(res.status, 201, `key ${s.key} (${s.acknowledged ? 'acknowledged' : 'unanswered'}) after the restart: ${JSON.stringify(res.body)}`);
          if (s.acknowledged) assert.equal(res.body.order.id, s.acknowledged, `key ${s.key} answered another order`);
          outcome.set(s.key, res.body.order.id);
        }
        // A second retry of a key that ran afresh replays it: it bought once.
        for (const s of unanswered) {
          const res = await retry(s);
          assert.equal(res.status, 201);
          assert.equal(res.body.order.id, outcome.get(s.key));
          assert.equal(res.headers.get('idempotent-replayed'), 'true');
        }
      } finally {
        second.child.kill('SIGTERM');
        await second.exited;
      }

      const db = await openDatabase({ url: stored.env.DATABASE_URL, dataDir: stored.env.CASELLA_DATA_DIR });
      try {
        const orders = await db.query<{ id: string; status: string; charges: number }>(
          `SELECT o.id, o.status, (SELECT count(*)::int FROM ledger_transactions t WHERE t.order_id = o.id AND t.kind = 'purchase') AS charges
             FROM orders o WHERE o.customer_id = ANY($1::text[])`,
          [holders.map((h) => h.customer.id)],
        );
        // One order per key, each charged once: nothing bought twice, nothing lost.
        assert.deepEqual(orders.map((o) => o.id).sort(), [...outcome.values()].sort());
        for (const o of orders) {
          assert.equal(o.status, 'completed');
          assert.equal(o.charges, 1, `charges of ${o.id}`);
        }
        const balances = await db.query<{ total: number }>(
          `SELECT sum(balance_cents)::int AS total FROM wallets WHERE customer_id = ANY($1::text[])`,
          [holders.map((h) => h.customer.id)],
        );
        assert.equal(balances[0]!.total, HOLDERS * CREDIT_CENTS - orders.length * 300);
        assert.equal((await verifyLedger(db)).ok, true);
      } finally {
        await db.close();
      }
    } finally {
      await stored.drop();
    }
  });
}
