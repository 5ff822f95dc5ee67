// R5 and R13 under a crash: a spawned `casella serve` is killed with SIGKILL while holders buy extra
// space as fast as they can. After a restart, every purchase the server acknowledged is there, and
// every order is whole or absent: completed orders, charges, extra space, balances and e-mails agree
// one for one, and the ledger verifies. The restarted server goes on selling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { openDatabase } from '../../src/db/database.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { engineNames } from '../support/engines.ts';
import { Client, storedDatabase } from '../support/http.ts';
import { serveProcess, servedWithHolders } from '../support/serve-process.ts';

const HOLDERS = 4;
const BUYERS_PER_HOLDER = 2;
const CREDIT_CENTS = 100_000;
const KILL_AFTER = 40; // acknowledged purchases before the kill

for (const engine of engineNames()) {
  test(`SIGKILL during a burst of purchases, restart: acknowledged purchases kept, every order whole or absent [${engine}]`, async () => {
    const stored = await storedDatabase(engine);
    const token = `cop_${randomBytes(16).toString('hex')}`;
    try {
      const { served: first, holders } = await servedWithHolders(stored.env, token, HOLDERS, CREDIT_CENTS);

      const acknowledged: string[] = [];
      let inFlight = 0;
      let inFlightAtKill = 0;
      let unanswered = 0;
      let killed = false;
      const sessions: { client: Client; holder: (typeof holders)[number] }[] = [];
      const buyers = holders.flatMap((h) =>
        Array.from({ length: BUYERS_PER_HOLDER }, async () => {
          const c = new Client(first.baseUrl);
          assert.equal((await c.login(h.mailbox.address, h.password)).status, 200);
          sessions.push({ client: c, holder: h });
          while (!killed) {
            inFlight++;
            try {
              const res = await c.post(`/api/mailboxes/${h.mailbox.id}/extra-space/orders`, { quantityGb: 1 });
              assert.equal(res.status, 201, JSON.stringify(res.body));
              assert.equal(res.body.order.status, 'completed');
              acknowledged.push(res.body.order.id);
              if (acknowledged.length === KILL_AFTER) {
                first.child.kill('SIGKILL');
                killed = true;
                inFlightAtKill = inFlight - 1; // the others' requests, sent and not yet answered
              }
            } catch (e) {
              if (!killed) throw e;
              unanswered++; // the server died under it: its outcome is unknown to the buyer
            } finally {
              inFlight--;
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
      assert.ok(inFlightAtKill > 0, 'the kill came with no purchase in flight');

      const second = await serveProcess(stored.env, token);
      try {
        // The server sells again after the crash, on the sessions it had.
        const again = new Client(second.baseUrl);
        const { client, holder } = sessions[0]!;
        again.cookie = client.cookie;
        again.csrfToken = client.csrfToken;
        const after = await again.post(`/api/mailboxes/${holder.mailbox.id}/extra-space/orders`, { quantityGb: 1 });
        assert.equal(after.status, 201, JSON.stringify(after.body));
        acknowledged.push(after.body.order.id);
      } finally {
        second.child.kill('SIGTERM');
        await second.exited;
      }

      const db = await openDatabase({ url: stored.env.DATABASE_URL, dataDir: stored.env.CASELLA_DATA_DIR });
      try {
        // (The first start also provisioned the demo holder, who buys nothing here.)
        const orders = await db.query<{ id: string; status: string }>(`SELECT id, status FROM orders`);
        const status = new Map(orders.map((o) => [o.id, o.status]));
        for (const id of acknowledged) assert.equal(status.get(id), 'completed', `acknowledged order ${id} after the restart`);
        // Nothing waits: every holder had credit for everything, so an order is completed or absent.
        assert.deepEqual([...new Set(status.values())], ['completed']);
        assert.ok(orders.length >= acknowledged.length && orders.length <= acknowledged.length + unanswered);

        // One for one: each completed order has one charge, and its gigabyte and its e-mail are there.
        const perHolder = await db.query<{ customer_id: string; orders: number; charged: number; charges: number; distinct_orders: number; gb: number; emails: number; balance: number }>(
          `SELECT c.id AS customer_id,
                  (SELECT count(*)::int FROM orders o WHERE o.customer_id = c.id) AS orders,
                  (SELECT coalesce(sum(amount_cents), 0)::int FROM orders o WHERE o.customer_id = c.id) AS charged,
                  (SELECT count(*)::int FROM ledger_transactions t WHERE t.customer_id = c.id AND t.kind = 'purchase') AS charges,
                  (SELECT count(DISTINCT order_id)::int FROM ledger_transactions t WHERE t.customer_id = c.id AND t.kind = 'purchase') AS distinct_orders,
                  (SELECT coalesce(sum(quantity_gb), 0)::int FROM addons a JOIN mailboxes m ON m.id = a.mailbox_id WHERE m.customer_id = c.id) AS gb,
                  (SELECT count(*)::int FROM outbox e WHERE e.customer_id = c.id AND e.kind = 'order_completed') AS emails,
                  (SELECT balance_cents::int FROM wallets w WHERE w.customer_id = c.id) AS balance
             FROM customers c WHERE c.id = ANY($1::text[]) ORDER BY c.id`,
          [holders.map((h) => h.customer.id)],
        );
        assert.equal(perHolder.length, HOLDERS);
        for (const h of perHolder) {
          assert.ok(h.orders > 0, `holder ${h.customer_id} bought nothing`);
          assert.equal(h.charges, h.orders, `charges of ${h.customer_id}`);
          assert.equal(h.distinct_orders, h.orders, `orders charged twice for ${h.customer_id}`);
          assert.equal(h.gb, h.orders, `extra space of ${h.customer_id}`);
          assert.equal(h.emails, h.orders, `e-mails of ${h.customer_id}`);
          assert.equal(h.charged, h.orders * 300, `amounts of ${h.customer_id}`);
          assert.equal(h.balance, CREDIT_CENTS - h.charged, `balance of ${h.customer_id}`);
        }
        assert.equal((await verifyLedger(db)).ok, true);
      } finally {
        await db.close();
      }
    } finally {
      await stored.drop();
    }
  });
}
