// Issue 13: one set of credentials (Argon2id, legacy scrypt hashes upgraded at login) and the
// holder's own password change (PUT /api/me/password), over real HTTP on each engine.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { legacyHashPassword, verifyPassword } from '../../src/services/access/passwords.ts';
import { THROTTLE } from '../../src/services/access/sessions.ts';
import { Client, forEachServer, provisionHolder } from '../support/http.ts';

const ARGON2ID_OWASP = /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/;
const STRONG = 'Nuova-Segreta-2026';

forEachServer('credentials and the password change', (t) => {
  afterEach(async () => {
    await t.s.app.db.query('DELETE FROM login_throttle');
  });
  const storedHash = async (mailboxId: string) =>
    (await t.s.app.db.query<{ password_hash: string }>('SELECT password_hash FROM mailboxes WHERE id = $1', [mailboxId]))[0]!.password_hash;
  const loggedIn = async (address: string, password: string) => {
    const c = new Client(t.s.baseUrl);
    const res = await c.login(address, password);
    assert.equal(res.status, 200, `login of ${address}: ${JSON.stringify(res.body)}`);
    return c;
  };

  test('a mailbox password is stored as Argon2id in PHC form with OWASP\'s minimum cost, and logs in', async () => {
    const h = await provisionHolder(t.op);
    assert.match(await storedHash(h.mailbox.id), ARGON2ID_OWASP);
    await loggedIn(h.mailbox.address, h.password);
    assert.equal((await new Client(t.s.baseUrl).login(h.mailbox.address, `${h.password}x`)).status, 401);
  });

  test('a mailbox whose hash was made before (scrypt) logs in, and its hash is rewritten as Argon2id; a wrong password leaves it as it was', async () => {
    const h = await provisionHolder(t.op);
    const legacy = await legacyHashPassword(h.password);
    await t.s.app.db.query('UPDATE mailboxes SET password_hash = $2 WHERE id = $1', [h.mailbox.id, legacy]);

    assert.equal((await new Client(t.s.baseUrl).login(h.mailbox.address, 'not-the-password-1')).status, 401);
    assert.equal(await storedHash(h.mailbox.id), legacy);

    await loggedIn(h.mailbox.address, h.password);
    const upgraded = await storedHash(h.mailbox.id);
    assert.match(upgraded, ARGON2ID_OWASP);
    assert.equal(await verifyPassword(h.password, upgraded), true);
    await loggedIn(h.mailbox.address, h.password);
  });

  test('PUT /api/me/password: wrong current → 401, weak → 422 naming newPassword, right → 204; the old password then fails, the new one works, the other sessions end and this one goes on', async () => {
    const h = await provisionHolder(t.op, { mailboxes: 2 });
    const [first, second] = h.mailboxes;
    const here = await loggedIn(first.address, h.password);
    const elsewhere = await loggedIn(first.address, h.password);
    const viaOtherMailbox = await loggedIn(second.address, h.password);

    const wrong = await here.put('/api/me/password', { currentPassword: 'not-the-password-1', newPassword: STRONG });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error.code, 'invalid_credentials');

    const weak = await here.put('/api/me/password', { currentPassword: h.password, newPassword: 'aaaaaaaaaaaa' });
    assert.equal(weak.status, 422);
    assert.equal(weak.body.error.code, 'validation_failed');
    assert.match(weak.body.error.fields.newPassword, /at least two of/);
    const short = await here.put('/api/me/password', { currentPassword: h.password, newPassword: 'Ab1!' });
    assert.match(short.body.error.fields.newPassword, /at least 10 characters/);
    // Nothing changed so far: every session goes on.
    for (const c of [here, elsewhere, viaOtherMailbox]) assert.equal((await c.get('/api/me')).status, 200);

    const changed = await here.put('/api/me/password', { currentPassword: h.password, newPassword: STRONG });
    assert.equal(changed.status, 204, JSON.stringify(changed.body));
    assert.equal((await here.get('/api/me')).status, 200, 'the session that changed it goes on');
    for (const c of [elsewhere, viaOtherMailbox]) assert.equal((await c.get('/api/me')).status, 401, 'the other sessions end');

    assert.equal((await new Client(t.s.baseUrl).login(first.address, h.password)).status, 401);
    await loggedIn(first.address, STRONG);
    assert.match(await storedHash(first.id), ARGON2ID_OWASP);
    // Only the mailbox the session logged in with changed.
    await loggedIn(second.address, h.password);

    // Issue 19: a retry whose answer was lost is a wrong current password like any other (the new
    // password field is no second way to test guesses).
    assert.equal((await here.put('/api/me/password', { currentPassword: h.password, newPassword: STRONG })).status, 401);
    assert.equal((await here.get('/api/me')).status, 200);
  });

  test('PUT /api/me/password: without the CSRF header → 403, without a session → 401; nothing changes', async () => {
    const h = await provisionHolder(t.op);
    const c = await loggedIn(h.mailbox.address, h.password);
    const noCsrf = await c.put('/api/me/password', { currentPassword: h.password, newPassword: STRONG }, { 'x-csrf-token': '' });
    assert.equal(noCsrf.status, 403);
    const anonymous = await new Client(t.s.baseUrl).put('/api/me/password', { currentPassword: h.password, newPassword: STRONG });
    assert.equal(anonymous.status, 401);
    await loggedIn(h.mailbox.address, h.password);
  });

  test('PUT /api/me/password: wrong current passwords count as guesses of the address in the login throttle', async () => {
    const h = await provisionHolder(t.op);
    const c = await loggedIn(h.mailbox.address, h.password);
    for (let i = 0; i < THROTTLE.perAddressMax; i++) {
      assert.equal((await c.put('/api/me/password', { currentPassword: `guess-number-${i}`, newPassword: STRONG })).status, 401);
    }
    const refused = await c.put('/api/me/password', { currentPassword: h.password, newPassword: STRONG });
    assert.equal(refused.status, 429, 'the right current password is refused too once the allowance is used');
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    assert.equal((await new Client(t.s.baseUrl).login(h.mailbox.address, h.password)).status, 429, 'and so is a login to the address');
    assert.equal((await c.get('/api/me')).status, 200);
  });

  test('issue 19: PUT /api/me/password with a wrong current password and the mailbox\'s own password as the new one answers 401 invalid_credentials, not 204, and counts as a guess', async () => {
    const h = await provisionHolder(t.op);
    const c = await loggedIn(h.mailbox.address, h.password);
    // The attacker holds a session and tests guesses in the newPassword field.
    const oracle = await c.put('/api/me/password', { currentPassword: 'Qualunque-cosa-1', newPassword: h.password });
    assert.deepEqual([oracle.status, oracle.body?.error?.code], [401, 'invalid_credentials']);
    const notIt = await c.put('/api/me/password', { currentPassword: 'Qualunque-cosa-1', newPassword: 'Un-altro-tentativo-2' });
    assert.deepEqual([notIt.status, notIt.body.error.code], [oracle.status, oracle.body.error.code], 'a right and a wrong guess look the same');
    for (let i = 0; i < THROTTLE.perAddressMax - 2; i++) assert.equal((await c.put('/api/me/password', { currentPassword: `Tentativo-${i}-x`, newPassword: h.password })).status, 401);
    assert.equal((await c.put('/api/me/password', { currentPassword: 'Tentativo-ultimo-x', newPassword: h.password })).status, 429);
    assert.equal(await verifyPassword(h.password, await storedHash(h.mailbox.id)), true, 'nothing changed');
  });
});
