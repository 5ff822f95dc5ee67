// R12, R14, issue 19: the login policy endpoint Dovecot asks before and after each login. It counts
// a guess over the mail server against the customer area's own allowances (and the other way round),
// and answers only the mail server on this machine: loopback, no proxy in between, its key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { issueMailPolicyKey, MAIL_LOGIN_THROTTLED } from '../../src/services/mailboxes/mail-login-policy.ts';
import { MAIL_POLICY_PATH } from '../../src/mail-platform/dovecot-config.ts';
import { Client, forEachServer, provisionHolder } from '../support/http.ts';

forEachServer('the mail server\'s login policy', (t) => {
  const ask = async (command: string, body: unknown, key: string | null, headers: Record<string, string> = {}) => {
    const client = new Client(t.s.baseUrl);
    return client.post(`${MAIL_POLICY_PATH}?command=${command}`, body, { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers });
  };

  test('answers only with a key of its own, and never through a proxy: anyone else finds nothing there', async () => {
    const key = await issueMailPolicyKey(t.s.app.db, 'casella_dovecot_policy_a');
    const guess = { login: 'nessuno@pec.casella.test', remote: '192.0.2.1', protocol: 'imap' };
    assert.equal((await ask('allow', guess, null)).status, 404);
    assert.equal((await ask('allow', guess, 'x'.repeat(43))).status, 404);
    assert.equal((await ask('allow', guess, key, { 'x-forwarded-for': '127.0.0.1' })).status, 404, 'a reverse proxy on this machine adds X-Forwarded-For');
    assert.equal((await ask('allow', guess, key, { forwarded: 'for=127.0.0.1' })).status, 404);
    const answer = await ask('allow', guess, key);
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, { status: 0 });
    // Running dovecot-config again for the role gives it a new key: the old one stops working.
    const newer = await issueMailPolicyKey(t.s.app.db, 'casella_dovecot_policy_a');
    assert.equal((await ask('allow', guess, key)).status, 404);
    assert.equal((await ask('allow', guess, newer)).status, 200);
  });

  test('guesses over the mail server and on the login page share one allowance per address; a right password forgives', async () => {
    const key = await issueMailPolicyKey(t.s.app.db, 'casella_dovecot_policy_b');
    const { mailbox, password } = await provisionHolder(t.op);
    const fromClient = (n: number) => ({ login: mailbox.address.toUpperCase(), remote: `198.51.100.${n}`, protocol: 'imap' });
    for (let n = 1; n <= 3; n++) {
      assert.deepEqual((await ask('allow', fromClient(n), key)).body, { status: 0 });
      assert.equal((await ask('report', { ...fromClient(n), success: false, policy_reject: false }, key)).status, 200);
    }
    for (let n = 4; n <= 5; n++) assert.equal((await new Client(t.s.baseUrl).login(mailbox.address, `sbagliata-${n}`)).status, 401);
    const sixth = await ask('allow', fromClient(6), key);
    assert.deepEqual(sixth.body, { status: -1, msg: MAIL_LOGIN_THROTTLED }, 'the sixth guess is refused before any password is checked');
    assert.equal((await new Client(t.s.baseUrl).login(mailbox.address, password)).status, 429);

    // Another address, from the same mail client: a right password reported forgives its guesses.
    const other = await provisionHolder(t.op);
    const otherFrom = { login: other.mailbox.address, remote: '198.51.100.50', protocol: 'submission' };
    for (let n = 1; n <= 4; n++) await ask('allow', otherFrom, key);
    await ask('report', { ...otherFrom, success: true, policy_reject: false, tls: '' }, key);
    for (let n = 1; n <= 5; n++) assert.deepEqual((await ask('allow', otherFrom, key)).body, { status: 0 }, `guess ${n} after the right password`);
    assert.equal((await ask('allow', otherFrom, key)).body.status, -1);
  });

  test('per client too: 21 guesses from one mail client for 21 addresses, the 21st is refused', async () => {
    const key = await issueMailPolicyKey(t.s.app.db, 'casella_dovecot_policy_c');
    const statuses: number[] = [];
    for (let n = 0; n < 21; n++) {
      statuses.push((await ask('allow', { login: `provato${n}@pec.casella.test`, remote: '203.0.113.9', protocol: 'imap' }, key)).body.status);
    }
    assert.deepEqual(statuses, [...Array(20).fill(0), -1]);
  });
});
