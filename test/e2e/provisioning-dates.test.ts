// Issue 12, item 2: absurd expiry dates. "0001-01-01" once made the next daily job renew a mailbox
// 200 times over from the holder's credit; an operator's typo must be refused, naming the field.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { clock } from '../../src/clock.ts';
import { engineNames } from '../support/engines.ts';
import { Client, provisionHolder, startTestServer, type TestServer } from '../support/http.ts';

for (const engine of engineNames()) {
  describe(`provisioning dates [${engine}]`, () => {
    let s: TestServer;
    let op: Client;
    before(async () => {
      clock.setRome('2026-06-10T10:00');
      s = await startTestServer(engine);
      op = new Client(s.baseUrl, s.operatorToken);
    });
    after(async () => s.close());

    test('expiry dates over a year back or ten years ahead are refused with 422 naming expiresOn; the bounds themselves are accepted', async () => {
      const { customer } = await provisionHolder(op);
      let n = 0;
      const create = (expiresOn: string) =>
        op.post('/api/admin/mailboxes', { customerId: customer.id, address: `date${++n}.${process.pid}@pec.casella.test`, password: 'segreta-casella-1', type: 'standard', expiresOn });
      for (const expiresOn of ['0001-01-01', '2025-06-09', '2036-06-11', '9999-12-31']) {
        const res = await create(expiresOn);
        assert.equal(res.status, 422, expiresOn);
        assert.equal(res.body.error.code, 'validation_failed');
        assert.match(res.body.error.fields.expiresOn, /between 2025-06-10 and 2036-06-10/);
      }
      for (const expiresOn of ['2025-06-10', '2036-06-10']) assert.equal((await create(expiresOn)).status, 201, expiresOn);
    });
  });
}
