// R20: what a process claims (an e-mail, an invoice) stays its own while it is alive, however long
// the work takes, and is taken over by another process as soon as its lease runs out when it is not
// (src/db/lease.ts). Here with leases of a few hundred milliseconds instead of 30 s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clock } from '../../src/clock.ts';
import { enqueueEmail } from '../../src/mail/outbox.ts';
import { deliverDueEmails, type DeliveryOptions, type MailTransport, type OutgoingMessage } from '../../src/mail/delivery.ts';
import { forEachEngine } from '../support/engines.ts';

const LEASE_MS = 300;
const opts: DeliveryOptions = { smtpUrl: 'smtp://127.0.0.1:9', mailFrom: 'Casella <noreply@casella.test>', leaseMs: LEASE_MS };

/** A transport that records what it sent and takes `delayMs` to accept each message. */
function slowTransport(delayMs: number) {
  const sent: OutgoingMessage[] = [];
  const transport: MailTransport = {
    async sendMail(m) {
      await new Promise((r) => setTimeout(r, delayMs));
      sent.push(m);
    },
  };
  return { transport, sent };
}

forEachEngine('claims with a lease (R20)', (use) => {
  test('a live worker sending slower than the lease keeps its claim: no other worker sends the same e-mail', async () => {
    const { db } = use();
    clock.setRome('2027-01-15T10:00');
    await db.transaction((tx) =>
      enqueueEmail(tx, { customerId: null, kind: 'test', to: 'holder@example.com', locale: 'it', content: { subject: 'slow', blocks: [{ p: 'x' }] } }, clock.now()),
    );
    const slow = slowTransport(LEASE_MS * 4);
    const fast = slowTransport(0);
    const first = deliverDueEmails(db, slow.transport, opts);
    // Another process looks for due e-mails all through the slow send, well past the first lease's end.
    let othersSent = 0;
    let finished = false;
    void first.finally(() => (finished = true));
    while (!finished) {
      othersSent += (await deliverDueEmails(db, fast.transport, opts)).sent;
      await new Promise((r) => setTimeout(r, LEASE_MS / 6));
    }
    assert.deepEqual(await first, { sent: 1, failed: 0, retried: 0 });
    assert.equal(othersSent, 0);
    assert.equal(fast.sent.length, 0, 'the e-mail went out twice');
    const rows = await db.query<{ status: string; claim_token: string | null }>('SELECT status, claim_token FROM outbox');
    assert.deepEqual(rows, [{ status: 'sent', claim_token: null }]);
  });

  test('a claim whose worker died is due again when its lease runs out, and the dead worker can no longer write over it', async () => {
    const { db } = use();
    clock.setRome('2027-01-15T10:00');
    await db.transaction((tx) =>
      enqueueEmail(tx, { customerId: null, kind: 'test', to: 'holder@example.com', locale: 'it', content: { subject: 'orphan', blocks: [{ p: 'x' }] } }, clock.now()),
    );
    // What a killed process leaves: the row claimed under its token, the lease no longer extended.
    await db.query(`UPDATE outbox SET claim_token = 'dead-process', next_attempt_at = $1 WHERE status = 'pending'`, [new Date(clock.wallMs() + LEASE_MS)]);
    const taker = slowTransport(0);
    assert.equal((await deliverDueEmails(db, taker.transport, opts)).sent, 0, 'taken before the lease ran out');
    const untilMs = Date.now() + LEASE_MS * 10;
    let sent = 0;
    while (sent === 0 && Date.now() < untilMs) {
      await new Promise((r) => setTimeout(r, LEASE_MS / 3));
      sent = (await deliverDueEmails(db, taker.transport, opts)).sent;
    }
    assert.equal(sent, 1);
    assert.match(taker.sent[0]?.subject ?? '', /orphan/);
    // The dead worker's late write (a failure it would record) matches nothing any more.
    const late = await db.query(`UPDATE outbox SET status = 'failed' WHERE claim_token = 'dead-process' RETURNING id`);
    assert.equal(late.length, 0);
  });
});
