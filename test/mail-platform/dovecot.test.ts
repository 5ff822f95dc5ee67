// R14 against a real Dovecot reading the test's PostgreSQL database through the `dovecot` views:
// one set of credentials, the space sold is the space enforced, the states are enforced, usage
// comes back. IMAP through imapflow, LMTP and submission through nodemailer.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { clock } from '../../src/clock.ts';
import { legacyHashPassword } from '../../src/services/access/passwords.ts';
import { SMTPServer } from 'smtp-server';
import { Client, provisionHolder, startTestServer, type TestServer } from '../support/http.ts';
import { dovecotTestOptions, startDovecot, type RunningDovecot } from '../support/dovecot.ts';

const MB = 1024 * 1024;

async function imapLogin(d: RunningDovecot, user: string, pass: string): Promise<ImapFlow> {
  const imap = new ImapFlow({ host: '127.0.0.1', port: d.imapPort, secure: false, auth: { user, pass }, logger: false });
  await imap.connect();
  return imap;
}

/** Whether IMAP accepts the login; the quota Dovecot enforces when it does. */
async function imapQuota(d: RunningDovecot, user: string, pass: string): Promise<{ usage: number; limit: number } | null> {
  let imap: ImapFlow;
  try {
    imap = await imapLogin(d, user, pass);
  } catch (err) {
    if ((err as { authenticationFailed?: boolean }).authenticationFailed) return null;
    throw err;
  }
  try {
    const q = await imap.getQuota('INBOX');
    if (!q || !q.storage) throw new Error('no quota root on INBOX');
    return { usage: q.storage.usage!, limit: q.storage.limit! };
  } finally {
    await imap.logout();
  }
}

/** Delivers a message of about `bytes` over LMTP; the server's reply code. */
async function deliver(d: RunningDovecot, to: string, bytes: number): Promise<number> {
  const lmtp = nodemailer.createTransport({ host: '127.0.0.1', port: d.lmtpPort, lmtp: true, secure: false, ignoreTLS: true } as never);
  try {
    const info = await lmtp.sendMail({ from: 'mittente@example.com', to, subject: 'Prova', text: 'x'.repeat(bytes) });
    return Number(/^(\d{3})/.exec(info.response)![1]);
  } catch (err) {
    const code = (err as { responseCode?: number }).responseCode;
    if (!code) throw err;
    return code;
  }
}

/** Sends a message through submission; true when it reached the relay, else the server's refusal. */
async function send(d: RunningDovecot, user: string, pass: string): Promise<true | string> {
  const smtp = nodemailer.createTransport({ host: '127.0.0.1', port: d.submissionPort, secure: false, ignoreTLS: true, auth: { user, pass } } as never);
  try {
    await smtp.sendMail({ from: user, to: 'destinatario@example.com', subject: 'Invio', text: 'ciao' });
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === 'EAUTH') return String((err as { response?: string }).response);
    throw err;
  } finally {
    smtp.close();
  }
}

describe('R14: Dovecot provisioned from Casella\'s database', dovecotTestOptions, () => {
  let s: TestServer;
  let d: RunningDovecot;
  let op: Client;
  let configDir: string;
  let relay: SMTPServer;
  const relayed: string[] = [];

  before(async () => {
    clock.setRome('2027-01-15T10:00');
    configDir = mkdtempSync(join(tmpdir(), 'casella-config-'));
    // 1 MB base inboxes, so that a few deliveries fill one.
    writeFileSync(join(configDir, 'casella.json'), JSON.stringify({ mailboxTypes: { standard: { baseInboxMb: 1 } } }));
    s = await startTestServer('postgres', { CASELLA_CONFIG: join(configDir, 'casella.json') });
    op = new Client(s.baseUrl, s.operatorToken);
    // The MTA submission relays to: it records the sender of each message it is handed.
    relay = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, session, cb) {
        stream.resume();
        stream.on('end', () => (relayed.push(session.envelope.mailFrom ? session.envelope.mailFrom.address : ''), cb()));
      },
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    d = await startDovecot(s.app.config.databaseUrl!, {
      relayPort: (relay.server.address() as { port: number }).port, env: { CASELLA_CONFIG: join(configDir, 'casella.json') },
      policyUrl: `${s.baseUrl}/api/mail-platform/dovecot-policy` });
  });
  after(async () => {
    await d?.stop();
    await new Promise<void>((resolve) => (relay ? relay.close(() => resolve()) : resolve()));
    await s?.close();
    rmSync(configDir, { recursive: true, force: true });
  });

  test('the holder\'s password opens IMAP; mail delivered shows as usage in the API; over quota is 552', async () => {
    const { customer, mailbox, password } = await provisionHolder(op, { expiresOn: '2027-12-01' });
    const holder = new Client(s.baseUrl);
    assert.equal((await holder.login(mailbox.address, password)).status, 200);

    const q = await imapQuota(d, mailbox.address, password);
    assert.deepEqual(q, { usage: 0, limit: 1 * MB }, d.log());
    assert.equal(await imapQuota(d, mailbox.address, 'not-the-password'), null);

    assert.equal(await deliver(d, mailbox.address, 300_000), 250, d.log());
    const seen = (await holder.get(`/api/mailboxes/${mailbox.id}`)).body.mailbox.space.usedBytes;
    assert.ok(seen > 300_000 && seen < 320_000, `usage reported by the mail server: ${seen}`);

    assert.equal(await deliver(d, mailbox.address, 300_000), 250);
    assert.equal(await deliver(d, mailbox.address, 600_000), 552, 'a delivery over the quota is refused permanently');
    const after = (await holder.get(`/api/mailboxes/${mailbox.id}`)).body.mailbox.space.usedBytes;
    assert.ok(after > 600_000 && after < 0.8 * MB, `the refused message is not counted: ${after}`);

    // Past 80 % of the space the usage pass (R11) warns the holder, from the usage Dovecot reported.
    assert.equal(await deliver(d, mailbox.address, 250_000), 250);
    assert.equal((await op.post('/api/admin/jobs/daily')).body.summary.usageWarningsQueued, 1);
    const mails = await s.app.db.query<{ subject: string }>(
      `SELECT subject FROM outbox WHERE customer_id = $1 AND kind = 'usage_warning'`, [customer.id]);
    assert.equal(mails.length, 1);
    assert.match(mails[0]!.subject, new RegExp(`Spazio in esaurimento.*${mailbox.address.replace(/[.]/g, '\\.')}`));
  });

  test('a purchase of extra space is enforced at the next lookup, without reloading Dovecot', async (t) => {
    const { mailbox, password } = await provisionHolder(op, { expiresOn: '2027-12-01', creditCents: 10_000 });
    const holder = new Client(s.baseUrl);
    await holder.login(mailbox.address, password);
    assert.equal((await imapQuota(d, mailbox.address, password))!.limit, 1 * MB);
    assert.equal(await deliver(d, mailbox.address, 2 * MB), 552);

    const bought = await holder.post(`/api/mailboxes/${mailbox.id}/extra-space/orders`, { quantityGb: 1 }, { 'idempotency-key': `buy-${mailbox.id}` });
    assert.equal(bought.status, 201, JSON.stringify(bought.body));
    const started = performance.now();
    assert.equal(await deliver(d, mailbox.address, 2 * MB), 250, 'the same message fits at once');
    const enforcedMs = performance.now() - started;
    assert.equal((await imapQuota(d, mailbox.address, password))!.limit, 1 * MB + 1024 * MB);
    assert.ok(enforcedMs < 60_000);
    t.diagnostic(`purchase answered to a delivery the old quota refused, accepted: ${enforcedMs.toFixed(0)} ms`);
  });

  test('expired: reads and receives, cannot send; renewed: sends again; terminated: no login, unknown recipient', async () => {
    const { customer, mailbox, password } = await provisionHolder(op, { expiresOn: '2027-01-20' });
    const holder = new Client(s.baseUrl);
    await holder.login(mailbox.address, password);
    assert.equal(await send(d, mailbox.address, password), true, d.log());
    assert.equal(relayed.at(-1), mailbox.address);

    // No credit: at E the mailbox expires.
    await op.put('/api/test/clock', { now: '2027-01-20T10:00:00+01:00' });
    assert.equal((await op.post('/api/admin/jobs/daily')).body.summary.mailboxesExpired >= 1, true);
    assert.equal((await holder.get(`/api/mailboxes/${mailbox.id}`)).body.mailbox.status, 'expired');
    assert.notEqual(await imapQuota(d, mailbox.address, password), null, 'IMAP still opens during the grace');
    assert.equal(await deliver(d, mailbox.address, 1000), 250, 'mail still arrives during the grace');
    const refused = relayed.length;
    assert.match(String(await send(d, mailbox.address, password)), /renew it to send again/, 'but it cannot send, and is told why');
    assert.equal(relayed.length, refused);

    // A renewal restores sending at once.
    const credit = await op.post(`/api/admin/customers/${customer.id}/credit-adjustments`, { amountCents: 10_000, reason: 'ricarica' });
    assert.equal(credit.status, 201);
    const renewed = await holder.post(`/api/mailboxes/${mailbox.id}/renewal`, undefined, { 'idempotency-key': `renew-${mailbox.id}` });
    assert.equal(renewed.status, 201, JSON.stringify(renewed.body));
    assert.equal((await holder.get(`/api/mailboxes/${mailbox.id}`)).body.mailbox.status, 'active');
    assert.equal(await send(d, mailbox.address, password), true);
    assert.equal(relayed.at(-1), mailbox.address);

    // Not renewed again: expired at the new E, terminated 90 days later. Its mail stays on disk (R8).
    assert.equal((await holder.patch(`/api/mailboxes/${mailbox.id}`, { autoRenew: false })).status, 200);
    await op.put('/api/test/clock', { now: '2028-01-20T10:00:00+01:00' });
    await op.post('/api/admin/jobs/daily');
    await op.put('/api/test/clock', { now: '2028-04-25T10:00:00+02:00' });
    assert.ok((await op.post('/api/admin/jobs/daily')).body.summary.mailboxesTerminated >= 1);
    assert.equal(await imapQuota(d, mailbox.address, password), null, 'a terminated mailbox cannot log in');
    assert.notEqual(await send(d, mailbox.address, password), true);
    assert.equal(await deliver(d, mailbox.address, 1000), 550, 'deliveries are refused as to an unknown user');
    const kept = readdirSync(join(d.dir, 'mail', 'pec.casella.test', mailbox.address.split('@')[0], 'Maildir', 'new'));
    assert.equal(kept.length, 1, 'the message received during the grace is still on disk');
  });

  test('the holder changes the password in the customer area: IMAP and submission take the new one at once, not the old', async () => {
    const { mailbox, password } = await provisionHolder(op, { expiresOn: '2029-12-01' });
    const holder = new Client(s.baseUrl);
    await holder.login(mailbox.address, password);
    assert.notEqual(await imapQuota(d, mailbox.address, password), null);
    const changed = await holder.put('/api/me/password', { currentPassword: password, newPassword: 'Nuova-Segreta-2027' });
    assert.equal(changed.status, 204, JSON.stringify(changed.body));
    assert.equal(await imapQuota(d, mailbox.address, password), null, 'the old password no longer opens IMAP');
    assert.notEqual(await imapQuota(d, mailbox.address, 'Nuova-Segreta-2027'), null, 'the new one does, at once');
    assert.equal(await send(d, mailbox.address, 'Nuova-Segreta-2027'), true);
    // An operator's reset (PATCH password) is the same column: it holds at once too.
    assert.equal((await op.patch(`/api/admin/mailboxes/${mailbox.id}`, { password: 'Un-altra-segreta-42' })).status, 200);
    assert.equal(await imapQuota(d, mailbox.address, 'Nuova-Segreta-2027'), null);
    assert.notEqual(await imapQuota(d, mailbox.address, 'Un-altra-segreta-42'), null);
  });

  test('a password hashed before Argon2id still opens IMAP, through Casella, and is upgraded on the way', async () => {
    const { mailbox, password } = await provisionHolder(op, { expiresOn: '2029-12-01' });
    await s.app.db.query('UPDATE mailboxes SET password_hash = $1 WHERE id = $2', [await legacyHashPassword(password), mailbox.id]);
    // A configuration written while old hashes exist sends them to Casella's checkpassword program.
    const withLegacy = await startDovecot(s.app.config.databaseUrl!, {
      env: { CASELLA_CONFIG: join(configDir, 'casella.json') }, policyUrl: `${s.baseUrl}/api/mail-platform/dovecot-policy` });
    try {
      assert.equal(await imapQuota(withLegacy, mailbox.address, 'not-the-password'), null);
      assert.notEqual(await imapQuota(withLegacy, mailbox.address, password), null, withLegacy.log());
      const [row] = await s.app.db.query<{ password_hash: string }>('SELECT password_hash FROM mailboxes WHERE id = $1', [mailbox.id]);
      assert.match(row!.password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      // From now on Dovecot verifies it itself, also the instance configured without the program.
      assert.notEqual(await imapQuota(d, mailbox.address, password), null);
    } finally {
      await withLegacy.stop();
    }
  });
});
