// R19 and section 3 against the real Dovecot: a mailbox staff suspend (abuse, a legal order) has no
// login anywhere — IMAP, submission, Postfix's SASL — and still receives its mail over LMTP; once
// reactivated, it logs in again. The mail server reads the same rows staff change, with no reload.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { clock } from '../../src/clock.ts';
import { Client, provisionHolder, startTestServer, type TestServer } from '../support/http.ts';
import { dovecotTestOptions, startDovecot, type RunningDovecot } from '../support/dovecot.ts';

/** Authentication as a login service asks it, through Dovecot's auth: `doveadm auth test`. */
function auth(d: RunningDovecot, service: string, user: string, pass: string): boolean {
  return spawnSync('/usr/bin/doveadm', ['-c', join(d.dir, 'dovecot.conf'), 'auth', 'test', '-x', `service=${service}`, user, pass], { encoding: 'utf8' }).status === 0;
}

async function deliver(d: RunningDovecot, to: string): Promise<number> {
  const lmtp = nodemailer.createTransport({ host: '127.0.0.1', port: d.lmtpPort, lmtp: true, secure: false, ignoreTLS: true } as never);
  try {
    await lmtp.sendMail({ from: 'mittente@example.com', to, subject: 'Prova', text: 'Messaggio durante la sospensione' });
    return 250;
  } catch (err) {
    return (err as { responseCode?: number }).responseCode ?? 0;
  } finally {
    lmtp.close();
  }
}

describe('R19: a suspended mailbox on the mail server', dovecotTestOptions, () => {
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

  test('no login on any service, mail still received; reactivated, it logs in again', async () => {
    const { mailbox, password } = await provisionHolder(op, { expiresOn: '2027-12-01' });
    for (const service of ['imap', 'submission', 'smtp']) assert.equal(auth(d, service, mailbox.address, password), true, `active: ${service}`);
    assert.equal((await op.post(`/api/admin/mailboxes/${mailbox.id}/suspend`, { reason: 'abuso segnalato' })).status, 200);
    for (const service of ['imap', 'pop3', 'submission', 'smtp', 'sieve']) assert.equal(auth(d, service, mailbox.address, password), false, `suspended: ${service}\n${d.log()}`);
    assert.equal(await deliver(d, mailbox.address), 250, 'mail is never lost because of a dispute with the holder');
    assert.equal((await op.post(`/api/admin/mailboxes/${mailbox.id}/reactivate`, { reason: 'verifica conclusa' })).status, 200);
    assert.equal(auth(d, 'imap', mailbox.address, password), true, 'reactivated');
  });
});
