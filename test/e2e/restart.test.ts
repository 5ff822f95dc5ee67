// Restarting the server keeps everything: holders, credit, orders, sessions, the test clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clock } from '../../src/clock.ts';
import { engineNames } from '../support/engines.ts';
import { Client, provisionHolder, startServerOn, storedDatabase } from '../support/http.ts';

for (const engine of engineNames()) {
  test(`a restarted server keeps holders, credit, orders, the session and the test clock [${engine}]`, async () => {
    const db = await storedDatabase(engine);
    try {
      clock.setRome('2026-06-10T10:00');
      const first = await startServerOn(db);
      const op = new Client(first.baseUrl, first.operatorToken);
      assert.equal((await op.put('/api/test/clock', { now: '2026-07-01T09:00:00+02:00' })).status, 200);
      const h = await provisionHolder(op, { creditCents: 1000 });
      const c = new Client(first.baseUrl);
      await c.login(h.mailbox.address, h.password);
      const order = (await c.post(`/api/mailboxes/${h.mailbox.id}/extra-space/orders`, { quantityGb: 2 })).body.order;
      assert.equal(order.status, 'completed');
      await first.stop();

      clock.set(null); // a new process starts from the machine's time; the saved test clock must win
      const second = await startServerOn(db);
      try {
        const again = new Client(second.baseUrl);
        again.cookie = c.cookie;
        again.csrfToken = c.csrfToken;
        assert.equal((await again.get('/api/me')).body.credit.balanceCents, 400);
        assert.equal((await again.get(`/api/orders/${order.id}`)).body.order.status, 'completed');
        assert.equal((await again.get(`/api/mailboxes/${h.mailbox.id}`)).body.mailbox.space.extraGb, 2);
        assert.equal((await again.get('/api/test/clock')).body.now, '2026-07-01T07:00:00.000Z');
        assert.equal((await new Client(second.baseUrl, second.operatorToken).get('/api/admin/ledger/verify')).body.ok, true);
      } finally {
        await second.stop();
      }
    } finally {
      clock.set(null);
      await db.drop();
    }
  });
}
