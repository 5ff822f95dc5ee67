// R12, R14 against the real Dovecot, issue 19: password guessing over IMAP went around Casella's
// throttle (120 wrong IMAP logins, then the right one worked). Dovecot now asks Casella before each
// login (auth policy), and the customer area's per-address and per-client limits count both. And an
// expired mailbox could still authenticate for sending as Postfix's SASL asks (service=smtp): only
// `submission` got nologin; now every service but reading ones does.
// Each guess comes from its own loopback address (127.0.N.M), as a guesser rotating addresses would,
// so the per-client limit and Dovecot's own per-address delay stay out of the way of what is tested.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import http from 'node:http';
import { once } from 'node:events';
import { join } from 'node:path';
import { clock } from '../../src/clock.ts';
import { Client, provisionHolder, startTestServer, type TestServer } from '../support/http.ts';
import { dovecotTestOptions, startDovecot, type RunningDovecot } from '../support/dovecot.ts';

/** One IMAP LOGIN from the loopback address `from`: whether Dovecot accepted it, and its words. */
async function imapLogin(d: RunningDovecot, from: string, user: string, pass: string): Promise<{ ok: boolean; text: string }> {
  const socket = connect({ host: '127.0.0.1', port: d.imapPort, localAddress: from });
  socket.setEncoding('utf8');
  let received = '';
  const until = (pattern: RegExp) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const found = pattern.exec(received);
        if (found) cleanup(), resolve(found);
      };
      const onData = (chunk: string) => ((received += chunk), check());
      const onEnd = () => (cleanup(), reject(new Error(`IMAP closed the connection: ${received}\n${d.log()}`)));
      const cleanup = () => (socket.off('data', onData), socket.off('close', onEnd), socket.off('error', onEnd));
      socket.on('data', onData);
      socket.on('close', onEnd);
      socket.on('error', onEnd);
      check();
    });
  try {
    await until(/^\* OK[^\r]*\r\n/m);
    const quoted = (text: string) => `"${text.replace(/["\\]/g, '\\$&')}"`;
    socket.write(`a1 LOGIN ${quoted(user)} ${quoted(pass)}\r\n`);
    const [, verdict, text] = await until(/^a1 (OK|NO|BAD)([^\r]*)\r\n/m);
    return { ok: verdict === 'OK', text: text!.trim() };
  } finally {
    socket.destroy();
  }
}

/** A customer-area login (POST /api/session) from the loopback address `from`, without a device cookie. */
async function webLogin(s: TestServer, from: string, address: string, password: string): Promise<number> {
  const body = JSON.stringify({ address, password });
  const req = http.request(`${s.baseUrl}/api/session`, {
    method: 'POST',
    localAddress: from,
    agent: false,
    headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
  });
  req.end(body);
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  res.resume();
  return res.statusCode!;
}

/** Authentication as Postfix's Dovecot SASL client asks it, through the auth socket: `doveadm auth test`. */
function saslAuth(d: RunningDovecot, service: string, user: string, pass: string): { ok: boolean; output: string } {
  const run = spawnSync('/usr/bin/doveadm', ['-c', join(d.dir, 'dovecot.conf'), 'auth', 'test', '-x', `service=${service}`, user, pass], { encoding: 'utf8' });
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}` };
}

describe('R12, R14: the mail server honours the customer area\'s login limits and states', dovecotTestOptions, () => {
  let s: TestServer;
  let d: RunningDovecot;
  let op: Client;

  before(async () => {
    clock.setRome('2027-01-15T10:00');
    s = await startTestServer('postgres');
    op = new Client(s.baseUrl, s.operatorToken);
    d = await startDovecot(s.app.config.databaseUrl!, { policyUrl: `${s.baseUrl}/api/mail-platform/dovecot-policy` });
  });
  after(async () => {
    await d?.stop();
    await s?.close();
  });

  test('5 wrong IMAP logins from 5 clients: the right password is then refused on IMAP and in the customer area', async () => {
    const { mailbox, password } = await provisionHolder(op, { expiresOn: '2027-12-01' });
    for (let i = 1; i <= 5; i++) {
      const guess = await imapLogin(d, `127.0.1.${i}`, mailbox.address, `indovino-${i}`);
      assert.equal(guess.ok, false, `guess ${i}`);
    }
    const owner = await imapLogin(d, '127.0.1.6', mailbox.address, password);
    assert.equal(owner.ok, false, `the sixth try, right as it is, is refused: ${owner.text}`);
    assert.equal(await webLogin(s, '127.0.1.7', mailbox.address, password), 429, 'the customer area counts the IMAP guesses too');
  });

  test('5 wrong customer-area logins close IMAP to a sixth try with the right password', async () => {
    const { mailbox, password } = await provisionHolder(op, { expiresOn: '2027-12-01' });
    for (let i = 1; i <= 5; i++) assert.equal(await webLogin(s, `127.0.2.${i}`, mailbox.address, `indovino-${i}`), 401);
    const owner = await imapLogin(d, '127.0.2.6', mailbox.address, password);
    assert.equal(owner.ok, false, owner.text);
  });

  test('a right IMAP login forgives the guesses before it, as a customer-area login does', async () => {
    const { mailbox, password } = await provisionHolder(op, { expiresOn: '2027-12-01' });
    for (let i = 1; i <= 4; i++) assert.equal((await imapLogin(d, `127.0.3.${i}`, mailbox.address, `indovino-${i}`)).ok, false);
    const owner = await imapLogin(d, '127.0.3.5', mailbox.address, password);
    assert.equal(owner.ok, true, `${owner.text}\n${d.log()}`);
    // Dovecot reports the outcome after answering the client: wait for the report to land.
    const until = Date.now() + 10_000;
    let left: unknown[] = [];
    do {
      left = await s.app.db.query('SELECT attempts FROM login_throttle WHERE key = $1', [`address:${mailbox.address.toLowerCase()}`]);
      if (!left.length) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    } while (Date.now() < until);
    assert.deepEqual(left, [], 'the address starts afresh');
    for (let i = 6; i <= 10; i++) assert.equal((await imapLogin(d, `127.0.3.${i}`, mailbox.address, `indovino-${i}`)).ok, false);
    assert.equal((await imapLogin(d, '127.0.3.11', mailbox.address, password)).ok, false, 'five new guesses are needed to close it again');
  });

  test('an expired mailbox cannot authenticate for sending as Postfix\'s SASL asks (smtp), nor for sieve; it still reads over IMAP', async () => {
    const { mailbox, password } = await provisionHolder(op, { expiresOn: '2027-01-20' });
    assert.equal(saslAuth(d, 'smtp', mailbox.address, password).ok, true, 'an active mailbox sends');
    await op.put('/api/test/clock', { now: '2027-01-20T10:00:00+01:00' });
    assert.ok((await op.post('/api/admin/jobs/daily')).body.summary.mailboxesExpired >= 1);
    // Postfix takes Dovecot's answer as it is: a success with `nologin` would be a success. So the
    // answer itself must be a failure (submission, whose own login process refuses with the reason,
    // is tested in dovecot.test.ts).
    for (const service of ['smtp', 'sieve']) {
      const sending = saslAuth(d, service, mailbox.address, password);
      assert.equal(sending.ok, false, `${service}: ${sending.output}`);
      assert.match(sending.output, /auth failed/, service);
    }
    assert.equal(saslAuth(d, 'imap', mailbox.address, password).ok, true, 'reading is still allowed during the grace');
    assert.equal((await imapLogin(d, '127.0.4.1', mailbox.address, password)).ok, true);
  });
});
