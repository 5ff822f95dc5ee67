// R19 (issue 21 items 4 and 5): staff drive a mailbox's lifecycle — suspend and reactivate, terminate
// now, extend the expiry, change the type from the next renewal — each with its reason in the audit
// trail; and a terminated address is created again only for the same codice fiscale or partita IVA.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clock } from '../../src/clock.ts';
import { Client, forEachServer, provisionHolder } from '../support/http.ts';

forEachServer('mailbox lifecycle by staff', (t) => {
  const path = (id: string, action: string) => `/api/admin/mailboxes/${id}/${action}`;

  test('suspend: no login (403 mailbox_suspended), the holder\'s sessions end; reactivate: login again', async () => {
    const h = await provisionHolder(t.op, {});
    const holder = new Client(t.s.baseUrl);
    await holder.login(h.mailbox.address, h.password);
    assert.equal((await t.op.post(path(h.mailbox.id, 'suspend'), {})).body.error.code, 'reason_required');
    const suspended = await t.op.post(path(h.mailbox.id, 'suspend'), { reason: 'ordine dell\'autorità giudiziaria' });
    assert.equal(suspended.body.mailbox.status, 'suspended');
    assert.equal((await holder.get('/api/me')).status, 401, 'open sessions ended');
    const login = await new Client(t.s.baseUrl).post('/api/session', { address: h.mailbox.address, password: h.password });
    assert.deepEqual([login.status, login.body.error.code], [403, 'mailbox_suspended']);
    const wrong = await new Client(t.s.baseUrl).post('/api/session', { address: h.mailbox.address, password: 'sbagliata-del-tutto' });
    assert.equal(wrong.body.error.code, 'invalid_credentials', 'a wrong password learns nothing about the suspension');
    assert.equal((await t.op.post(path(h.mailbox.id, 'suspend'), { reason: 'di nuovo' })).status, 409);
    assert.equal((await t.op.post(path(h.mailbox.id, 'reactivate'), { reason: 'ordine revocato' })).body.mailbox.status, 'active');
    assert.equal((await new Client(t.s.baseUrl).login(h.mailbox.address, h.password)).status, 200);
    const trail = (await t.op.get(`/api/admin/customers/${h.customer.id}/audit`)).body.entries;
    assert.deepEqual(trail.slice(0, 2).map((e: { action: string; reason: string }) => [e.action, e.reason]), [
      ['mailbox.reactivate', 'ordine revocato'],
      ['mailbox.suspend', 'ordine dell\'autorità giudiziaria'],
    ]);
  });

  test('terminate now: extra space off, Casella cessata, no login; the address goes again only to the same codice fiscale', async () => {
    const owner = await t.op.post('/api/admin/customers', { name: 'Mario Rossi', taxCode: 'RSSMRA85T10A562S', referenceEmail: 'mario.rossi@example.com' });
    const address = `cessata.${process.pid}.${t.s.app.db.engine}@pec.casella.test`;
    const m = await t.op.post('/api/admin/mailboxes', { customerId: owner.body.customer.id, address, password: 'segreta-casella-1', type: 'standard', expiresOn: '2026-12-01' });
    assert.equal(m.status, 201);
    const done = await t.op.post(path(m.body.mailbox.id, 'terminate'), { reason: 'richiesta di cessazione del titolare' });
    assert.equal(done.body.mailbox.status, 'terminated');
    const mails = (await t.op.get(`/api/admin/customers/${owner.body.customer.id}/emails`)).body.emails;
    assert.match(mails[0].subject, /^Casella cessata/);
    assert.equal((await new Client(t.s.baseUrl).post('/api/session', { address, password: 'segreta-casella-1' })).body.error.code, 'invalid_credentials');
    // Someone else asks for the address: refused. The same person, as a new holder: given again.
    const other = await t.op.post('/api/admin/customers', { name: 'Altra Persona', taxCode: 'VRDGPP80A01H501U', referenceEmail: 'altra@example.com' });
    const refused = await t.op.post('/api/admin/mailboxes', { customerId: other.body.customer.id, address, password: 'segreta-casella-2', type: 'standard', expiresOn: '2027-06-01' });
    assert.deepEqual([refused.status, refused.body.error.code], [409, 'address_reserved']);
    const again = await t.op.post('/api/admin/customers', { name: 'Mario Rossi', taxCode: 'rssmra85t10a562s', referenceEmail: 'mario.rossi@example.com' });
    const recreated = await t.op.post('/api/admin/mailboxes', { customerId: again.body.customer.id, address, password: 'segreta-casella-3', type: 'standard', expiresOn: '2027-06-01' });
    assert.equal(recreated.status, 201, JSON.stringify(recreated.body));
    assert.equal((await new Client(t.s.baseUrl).login(address, 'segreta-casella-3')).status, 200);
    const taken = await t.op.post('/api/admin/mailboxes', { customerId: again.body.customer.id, address, password: 'segreta-casella-4', type: 'standard', expiresOn: '2027-06-01' });
    assert.equal(taken.status, 422, 'a live mailbox has it now');
  });

  test('extend: goodwill without charge; an expired mailbox with a later date is active again', async () => {
    const h = await provisionHolder(t.op, { expiresOn: '2026-06-01', creditCents: 0 });
    await t.op.post('/api/admin/jobs/daily');
    assert.equal((await t.op.get(`/api/admin/customers/${h.customer.id}`)).body.mailboxes[0].status, 'expired');
    assert.equal((await t.op.post(path(h.mailbox.id, 'extend'), { expiresOn: '2026-05-01', reason: 'x' })).status, 422);
    assert.equal((await t.op.post(path(h.mailbox.id, 'extend'), { expiresOn: '2040-01-01', reason: 'x' })).status, 422);
    const ext = await t.op.post(path(h.mailbox.id, 'extend'), { expiresOn: '2026-09-01', reason: 'disservizio di giugno' });
    assert.deepEqual([ext.body.mailbox.status, ext.body.mailbox.expiresOn], ['active', '2026-09-01']);
    assert.equal((await t.op.get(`/api/admin/customers/${h.customer.id}`)).body.credit.balanceCents, 0, 'no charge');
  });

  test('extend with extra space: space ending with the mailbox moves with it, and the daily job renews both at the new E', async () => {
    // Clock 2026-06-10. E 2026-07-01 with 2 GB bought now: the space ends with the mailbox.
    const h = await provisionHolder(t.op, { expiresOn: '2026-07-01', creditCents: 5000 });
    const holder = new Client(t.s.baseUrl);
    await holder.login(h.mailbox.address, h.password);
    const bought = await holder.post(`/api/mailboxes/${h.mailbox.id}/extra-space/orders`, { quantityGb: 2 });
    assert.equal(bought.status, 201, JSON.stringify(bought.body));
    const ext = await t.op.post(path(h.mailbox.id, 'extend'), { expiresOn: '2026-10-01', reason: 'disservizio di giugno' });
    assert.equal(ext.status, 200, JSON.stringify(ext.body));
    const trail = (await t.op.get(`/api/admin/customers/${h.customer.id}/audit`)).body.entries;
    assert.equal(trail[0].after.extraSpaceActiveUntil, '2026-10-01');
    const balance = async () => (await t.op.get(`/api/admin/customers/${h.customer.id}`)).body.credit.balanceCents;
    const before = await balance();
    // On the old E nothing is due: before this change the space fell due alone on 2026-07-01, was
    // "renewed" to 2027-07-01, past the new E, and the daily job failed for every holder.
    assert.equal((await t.op.put('/api/test/clock', { now: '2026-07-01T09:00:00+02:00' })).status, 200);
    assert.equal((await t.op.post('/api/admin/jobs/daily')).status, 200);
    assert.equal(await balance(), before, 'nothing charged on the old E');
    assert.equal((await t.op.put('/api/test/clock', { now: '2026-10-01T09:00:00+02:00' })).status, 200);
    assert.equal((await t.op.post('/api/admin/jobs/daily')).status, 200);
    const after = (await t.op.get(`/api/admin/customers/${h.customer.id}`)).body;
    assert.equal(after.mailboxes[0].expiresOn, '2027-10-01');
    assert.equal(before - after.credit.balanceCents, 500 + 600, 'the mailbox and its 2 GB renewed together at the new E');
    clock.setRome('2026-06-10T10:00');
  });

  test('extend is refused while extra space is paid until a day before E (it renews on its own date)', async () => {
    const h = await provisionHolder(t.op, { expiresOn: '2026-07-01', creditCents: 5000 });
    const holder = new Client(t.s.baseUrl);
    await holder.login(h.mailbox.address, h.password);
    assert.equal((await holder.post(`/api/mailboxes/${h.mailbox.id}/extra-space/orders`, { quantityGb: 1 })).status, 201);
    // A manual renewal with the space's renewal switched off moves E a year on and leaves the space
    // ending on 2026-07-01; switched on again, the space renews there on its own date (R7.6).
    assert.equal((await holder.patch(`/api/mailboxes/${h.mailbox.id}`, { extraSpaceAutoRenew: false })).status, 200);
    const renewed = await holder.post(`/api/mailboxes/${h.mailbox.id}/renewal`, {});
    assert.equal(renewed.status, 201, JSON.stringify(renewed.body));
    assert.equal((await holder.patch(`/api/mailboxes/${h.mailbox.id}`, { extraSpaceAutoRenew: true })).status, 200);
    const ext = await t.op.post(path(h.mailbox.id, 'extend'), { expiresOn: '2027-09-01', reason: 'cortesia' });
    assert.equal(ext.status, 422);
    assert.match(ext.body.error.fields.expiresOn, /extra space is paid until 2026-07-01/);
  });

  test('change type from the next renewal: priced at the new type then, taken at the renewal', async () => {
    const h = await provisionHolder(t.op, { expiresOn: '2026-06-20', creditCents: 3000 });
    assert.equal((await t.op.patch(`/api/admin/mailboxes/${h.mailbox.id}`, { type: 'pro' })).body.error.code, 'reason_required');
    assert.equal((await t.op.patch(`/api/admin/mailboxes/${h.mailbox.id}`, { type: 'gold', reason: 'x' })).body.error.fields.type, 'must be one of standard, pro');
    const changed = await t.op.patch(`/api/admin/mailboxes/${h.mailbox.id}`, { type: 'pro', reason: 'richiesta del titolare' });
    assert.deepEqual([changed.body.mailbox.type, changed.body.mailbox.nextType, changed.body.mailbox.renewal.mailboxPriceCents], ['standard', 'pro', 2500]);
    const put = await t.op.put('/api/test/clock', { now: '2026-06-20T09:00:00+02:00' });
    assert.equal(put.status, 200);
    await t.op.post('/api/admin/jobs/daily');
    const after = (await t.op.get(`/api/admin/customers/${h.customer.id}`)).body;
    assert.deepEqual([after.mailboxes[0].type, after.mailboxes[0].nextType, after.mailboxes[0].expiresOn], ['pro', null, '2027-06-20']);
    assert.equal(after.credit.balanceCents, 500, 'charged the pro price');
    clock.setRome('2026-06-20T09:00');
  });
});
