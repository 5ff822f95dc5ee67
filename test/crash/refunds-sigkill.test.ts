// R17 under a crash, on PostgreSQL: a spawned `casella serve` is killed with SIGKILL during a burst
// of refunds, each asked with its own Idempotency-Key. After a restart (whose recovery drives the
// refunds left pending) the client retries every request with its key. Then each request made one
// refund, the test gateway refunded each refund exactly once and no refund it made is lost, every
// refund has its credit note and every credit note its refund, and the ledger and the VAT agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { openDatabase } from '../../src/db/database.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { Client, storedDatabase } from '../support/http.ts';
import { serveProcess, servedWithHolders } from '../support/serve-process.ts';

const HOLDERS = 3;
const TOPUPS_PER_HOLDER = 3;
const REFUNDS_PER_TOPUP = 4;
const REQUESTERS = 6;
const KILL_AFTER = 10; // acknowledged refunds before the kill

const postgresOnly = process.env.TEST_DATABASE_URL ? test : test.skip;

postgresOnly('R17: SIGKILL during a burst of refunds, restart and retries with the same keys: every refund made once, with its credit note [postgres]', async (t) => {
  const stored = await storedDatabase('postgres');
  const token = `cop_${randomBytes(16).toString('hex')}`;
  try {
    const { served: first, holders } = await servedWithHolders(stored.env, token, HOLDERS, 0);
    const topupIds: string[] = [];
    for (const h of holders) {
      const c = new Client(first.baseUrl);
      assert.equal((await c.login(h.mailbox.address, h.password)).status, 200);
      for (let i = 0; i < TOPUPS_PER_HOLDER; i++) {
        const started = await c.post('/api/credit/topups', { amountCents: 10_000 });
        assert.equal(started.status, 201, JSON.stringify(started.body));
        // The spawned server's public URL is not where it listens: the page is reached on its own address.
        const paid = await fetch(first.baseUrl + new URL(started.body.topup.checkoutUrl).pathname, { method: 'POST', body: new URLSearchParams({ cardNumber: '4242424242424242', expiry: '12/34', cvc: '123' }), redirect: 'manual' });
        assert.equal(paid.status, 303);
        topupIds.push(started.body.topup.id);
      }
    }
    const requests = topupIds.flatMap((topupId) => Array.from({ length: REFUNDS_PER_TOPUP }, (_, i) => ({ topupId, key: `rf-${topupId}-${i}`, amountCents: 1_000 + i * 7 })));
    const ask = (baseUrl: string, r: (typeof requests)[0]) =>
      new Client(baseUrl, token).post(`/api/admin/topups/${r.topupId}/refunds`, { amountCents: r.amountCents, reason: 'prova di crash' }, { 'idempotency-key': r.key });

    let acknowledged = 0;
    let killed = false;
    let next = 0;
    const requesters = Array.from({ length: REQUESTERS }, async () => {
      while (!killed && next < requests.length) {
        const r = requests[next++]!;
        try {
          const res = await ask(first.baseUrl, r);
          assert.equal(res.status, 201, JSON.stringify(res.body));
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
      await Promise.all(requesters);
    } finally {
      killed = true;
      first.child.kill('SIGKILL');
    }
    await first.exited;
    assert.ok(acknowledged >= KILL_AFTER && acknowledged < requests.length, `acknowledged ${acknowledged}`);

    // What the kill left: refunds recorded but not finished, some of them already made by the gateway.
    const atCrash = await openDatabase({ url: stored.env.DATABASE_URL });
    const [left] = await atCrash.query<{ pending: number; made: number }>(
      `SELECT count(*)::int AS pending, count(*) FILTER (WHERE EXISTS (SELECT 1 FROM test_gateway_refunds g WHERE g.idempotency_key = r.id))::int AS made
         FROM refunds r WHERE r.status = 'pending'`,
    );
    await atCrash.close();
    t.diagnostic(`at the kill: ${left!.pending} refunds pending, ${left!.made} of them already made by the gateway`);

    const second = await serveProcess(stored.env, token);
    try {
      for (const r of requests) {
        const res = await ask(second.baseUrl, r);
        assert.equal(res.status, 201, JSON.stringify(res.body));
        assert.equal(res.body.refund.status, 'succeeded', `refund of ${r.key} finished on retry`);
      }
      assert.equal((await new Client(second.baseUrl, token).get('/api/admin/ledger/verify')).body.ok, true);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }

    const db = await openDatabase({ url: stored.env.DATABASE_URL });
    try {
      const refunds = await db.query<{ id: string; request_key: string; status: string; credit_notes: number; gateway: number }>(
        `SELECT r.id, r.request_key, r.status,
                (SELECT count(*)::int FROM invoices i WHERE i.refund_id = r.id AND i.document_type = 'TD04') AS credit_notes,
                (SELECT count(*)::int FROM test_gateway_refunds g WHERE g.idempotency_key = r.id) AS gateway
           FROM refunds r`,
      );
      assert.equal(refunds.length, requests.length, 'one refund per request, whatever was retried');
      assert.deepEqual(new Set(refunds.map((r) => r.request_key)), new Set(requests.map((r) => r.key)));
      for (const r of refunds) assert.deepEqual([r.status, r.credit_notes, r.gateway], ['succeeded', 1, 1], `refund ${r.id}`);
      const [orphans] = await db.query<{ gateway: number; notes: number }>(
        `SELECT (SELECT count(*)::int FROM test_gateway_refunds g WHERE NOT EXISTS (SELECT 1 FROM refunds r WHERE r.id = g.idempotency_key)) AS gateway,
                (SELECT count(*)::int FROM invoices i WHERE i.document_type = 'TD04' AND (i.refund_id IS NULL OR NOT EXISTS (SELECT 1 FROM refunds r WHERE r.id = i.refund_id AND r.status = 'succeeded'))) AS notes`,
      );
      assert.deepEqual(orphans, { gateway: 0, notes: 0 }, 'no gateway refund without its refund, no credit note without its refund');
      const numbers = await db.query<{ sequence: number }>('SELECT sequence FROM invoices WHERE year = 2027 ORDER BY sequence');
      assert.deepEqual(numbers.map((n) => n.sequence), Array.from({ length: topupIds.length + requests.length }, (_, i) => i + 1));
      const [vat] = await db.query<{ documents: number; ledger: number }>(
        `SELECT (SELECT sum(CASE WHEN document_type = 'TD04' THEN -vat_cents ELSE vat_cents END) FROM invoices)::int8 AS documents,
                (SELECT sum(amount_cents) FROM ledger_postings WHERE account = 'vat_payable')::int8 AS ledger`,
      );
      assert.equal(Number(vat!.documents), Number(vat!.ledger));
      const report = await verifyLedger(db);
      assert.deepEqual(report.problems, []);
    } finally {
      await db.close();
    }
  } finally {
    await stored.drop();
  }
});
