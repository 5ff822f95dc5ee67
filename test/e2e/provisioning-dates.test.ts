// Issue 12, item 2: absurd expiry dates. "0001-01-01" once made the next daily job renew a mailbox
// 200 times over from the holder's credit; an operator's typo must be refused, naming the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachServer, provisionHolder } from '../support/http.ts';

forEachServer('provisioning dates', (t) => {
  test('expiry dates over a year back or ten years ahead are refused with 422 naming expiresOn; the bounds themselves are accepted', async () => {
    const { customer } = await provisionHolder(t.op);
    let n = 0;
    const create = (expiresOn: string) =>
      t.op.post('/api/admin/mailboxes', { customerId: customer.id, address: `date${++n}.${process.pid}@pec.casella.test`, password: 'segreta-casella-1', type: 'standard', expiresOn });
    for (const expiresOn of ['0001-01-01', '2025-06-09', '2036-06-11', '9999-12-31']) {
      const res = await create(expiresOn);
      assert.equal(res.status, 422, expiresOn);
      assert.equal(res.body.error.code, 'validation_failed');
      assert.match(res.body.error.fields.expiresOn, /between 2025-06-10 and 2036-06-10/);
    }
    for (const expiresOn of ['2025-06-10', '2036-06-10']) assert.equal((await create(expiresOn)).status, 201, expiresOn);
  });
});
