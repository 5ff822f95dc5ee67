// R8, R14, issue 19: a mailbox address is sold only when the mail server serves it, and a
// terminated mailbox's credentials open nothing, the customer area included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, forEachServer, provisionHolder } from '../support/http.ts';

forEachServer('mailboxes the mail server can serve, and only while they exist', (t) => {
  test("addresses with ' + = # are refused at creation (Dovecot refuses such login names): 422 naming the address", async () => {
    const { customer } = await provisionHolder(t.op);
    for (const address of ["o'neil@pec.casella.test", 'studio+fatture@pec.casella.test', 'a=b@pec.casella.test', 'uno#due@pec.casella.test']) {
      const created = await t.op.post('/api/admin/mailboxes', { customerId: customer.id, address, password: 'segreta-casella-1', type: 'standard', expiresOn: '2026-12-01' });
      assert.equal(created.status, 422, `${address}: ${JSON.stringify(created.body)}`);
      assert.equal(created.body.error.code, 'validation_failed');
      assert.match(created.body.error.fields.address, /letters, digits, hyphens or underscores/);
    }
    const plain = await t.op.post('/api/admin/mailboxes', {
      customerId: customer.id, address: 'Studio_Rossi-2.fatture@pec.casella.test', password: 'segreta-casella-1', type: 'standard', expiresOn: '2026-12-01' });
    assert.equal(plain.status, 201, JSON.stringify(plain.body));
    assert.equal(plain.body.mailbox.address, 'studio_rossi-2.fatture@pec.casella.test');
    // The reference e-mail is anybody's address: a + in it is still fine.
    const holder = await t.op.post('/api/admin/customers', { name: 'Studio Più', referenceEmail: 'studio+pec@example.com' });
    assert.equal(holder.status, 201, JSON.stringify(holder.body));
  });

  test('a terminated mailbox\'s right password is answered as a wrong one: 401 invalid_credentials, on the API and the login page', async () => {
    const { mailbox, password } = await provisionHolder(t.op, { expiresOn: '2026-06-20' });
    assert.equal((await new Client(t.s.baseUrl).login(mailbox.address, password)).status, 200);
    // Not renewed (no credit): expired at E, terminated when the 90 days of grace are over (R8).
    await t.op.put('/api/test/clock', { now: '2026-06-20T10:00:00+02:00' });
    await t.op.post('/api/admin/jobs/daily');
    await t.op.put('/api/test/clock', { now: '2026-09-20T10:00:00+02:00' });
    assert.ok((await t.op.post('/api/admin/jobs/daily')).body.summary.mailboxesTerminated >= 1);

    const right = await new Client(t.s.baseUrl).login(mailbox.address, password);
    const wrong = await new Client(t.s.baseUrl).login(mailbox.address, 'non-la-password-1');
    assert.equal(right.status, 401, JSON.stringify(right.body));
    assert.deepEqual(right.body, wrong.body, 'the same answer as a wrong password');
    assert.equal(right.body.error.code, 'invalid_credentials');

    const form = await fetch(`${t.s.baseUrl}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: t.s.baseUrl },
      body: new URLSearchParams({ address: mailbox.address, password }).toString(),
      redirect: 'manual',
    });
    assert.equal(form.status, 401, 'the login page says "wrong address or password" too');
    assert.doesNotMatch(form.headers.get('set-cookie') ?? '', /casella_session=[^;]/);
  });
});
