// R15 in the services, on both engines: numbering under concurrency and across years, one invoice
// per payment whatever is replayed, a failed payment invoices nothing, and delivery to SdI that
// retries while SdI is down without losing or duplicating a file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forEachEngine } from '../support/engines.ts';
import { holderWithMailbox } from '../support/fixtures.ts';
import { schemaErrors } from '../support/fatturapa-schema.ts';
import { clock } from '../../src/clock.ts';
import { applyPaymentOutcome, createTopup, type PaymentOutcome } from '../../src/services/billing/topups.ts';
import { listInvoices } from '../../src/services/billing/invoices.ts';
import { sendDueInvoices, collectSdiAnswers } from '../../src/invoicing/sdi-delivery.ts';
import { directoryChannel, simulatorChannel, type SdiChannel } from '../../src/invoicing/sdi-channel.ts';

const pay = (topupId: string, eventId: string, outcome: PaymentOutcome['outcome'] = 'succeeded'): PaymentOutcome => ({
  gateway: 'test',
  eventId,
  topupId,
  outcome,
  failureCode: outcome === 'failed' ? 'card_declined' : null,
});

/** A holder with billing data and a mailbox that expires half a year from today. */
const holderNow = (ctx: Parameters<typeof holderWithMailbox>[0]) => holderWithMailbox(ctx, { expiresOn: clock.today().add({ months: 6 }).toString() });

forEachEngine('R15 invoices', (use) => {
  const sequencesOf = async (year: number) =>
    (await use().db.query<{ sequence: number }>('SELECT sequence FROM invoices WHERE year = $1 ORDER BY sequence', [year])).map((r) => r.sequence);

  test('R15.2: 50 concurrent payments get 50 consecutive numbers, one invoice each, replays invoice nothing', async () => {
    const { ctx } = use();
    clock.setRome('2031-03-10T10:00');
    const holders = await Promise.all(Array.from({ length: 5 }, () => holderNow(ctx)));
    const topups = [];
    for (let i = 0; i < 50; i++) topups.push(await createTopup(ctx, holders[i % 5]!.customer.id, 100 + i, null, 'test'));
    const results = await Promise.all(topups.flatMap((t) => [applyPaymentOutcome(ctx, pay(t.id, `evt-${t.id}`)), applyPaymentOutcome(ctx, pay(t.id, `evt-again-${t.id}`))]));
    assert.equal(results.filter((r) => r.result === 'applied').length, 50);
    assert.deepEqual(await sequencesOf(2031), Array.from({ length: 50 }, (_, i) => i + 1));
    const rows = await ctx.db.query<{ topup_id: string; net_cents: number; vat_cents: number; total_cents: number; number: string }>(
      'SELECT i.topup_id, i.net_cents, i.vat_cents, i.total_cents, i.number FROM invoices i WHERE year = 2031',
    );
    for (const t of topups) {
      const invoice = rows.find((r) => r.topup_id === t.id)!;
      assert.deepEqual([invoice.net_cents, invoice.vat_cents, invoice.total_cents], [t.amount_cents, t.vat_cents, t.charge_cents]);
    }
    assert.equal(new Set(rows.map((r) => r.number)).size, 50);
  });

  test('R15.2: numbering starts again each calendar year, by the payment\'s date in Europe/Rome; a failed payment has no invoice', async () => {
    const { ctx } = use();
    const { customer } = await holderNow(ctx);
    clock.setRome('2032-12-31T23:50');
    const lastOfYear = await createTopup(ctx, customer.id, 500, null, 'test');
    await applyPaymentOutcome(ctx, pay(lastOfYear.id, 'evt-dec'));
    const declined = await createTopup(ctx, customer.id, 500, null, 'test');
    await applyPaymentOutcome(ctx, pay(declined.id, 'evt-declined', 'failed'));
    // 00:10 in Rome on 1 January is still 31 December in UTC: the invoice is of the new year.
    clock.set(Date.parse('2032-12-31T23:10:00Z'));
    const firstOfYear = await createTopup(ctx, customer.id, 500, null, 'test');
    await applyPaymentOutcome(ctx, pay(firstOfYear.id, 'evt-jan'));
    const invoices = await listInvoices(ctx.db, customer.id);
    assert.deepEqual(
      invoices.map((i) => [i.topup_id, i.number, i.issued_on]),
      [
        [firstOfYear.id, '2033/000001', '2033-01-01'],
        [lastOfYear.id, '2032/000001', '2032-12-31'],
      ],
    );
  });

  test('R15.4: SdI down delays invoices, with back-off; nothing is lost or sent twice; answers are recorded once', async () => {
    const { ctx, db } = use();
    clock.setRome('2034-05-02T09:00');
    const simulator = simulatorChannel(db, 0);
    await sendDueInvoices(db, simulator, { batchSizeMax: 1000 }); // the earlier tests' invoices
    const { customer } = await holderNow(ctx);
    const topup = await createTopup(ctx, customer.id, 1000, null, 'test');
    await applyPaymentOutcome(ctx, pay(topup.id, 'evt-sdi'));
    const received: string[] = [];
    let up = false;
    const flaky: SdiChannel = {
      name: 'simulator',
      async send(file, at) {
        if (!up) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
        received.push(file.fileName);
        await simulator.send(file, at);
      },
      takeAnswers: simulator.takeAnswers,
    };
    const state = async () => (await db.query<{ sdi_status: string; attempts: number; next_attempt_at: Date; last_error: string | null }>('SELECT sdi_status, attempts, next_attempt_at, last_error FROM invoices WHERE topup_id = $1', [topup.id]))[0]!;
    try {
      const opts = { retryDelayMsBase: 60_000, retryDelayMsMax: 3_600_000 };
      assert.deepEqual(await sendDueInvoices(db, flaky, opts), { sent: 0, retried: 1 });
      let s = await state();
      assert.deepEqual([s.sdi_status, s.attempts], ['issued', 1]);
      assert.match(s.last_error!, /ECONNREFUSED/);
      const firstDelay = s.next_attempt_at.getTime() - clock.wallMs();
      assert.ok(firstDelay > 55_000 && firstDelay <= 60_000, `${firstDelay}`);
      assert.deepEqual(await sendDueInvoices(db, flaky, opts), { sent: 0, retried: 0 }, 'not due again before the back-off ends');

      clock.setWallOffset(61_000);
      await sendDueInvoices(db, flaky, opts);
      s = await state();
      assert.equal(s.attempts, 2);
      const secondDelay = s.next_attempt_at.getTime() - clock.wallMs();
      assert.ok(secondDelay > 115_000 && secondDelay <= 120_000, `doubled: ${secondDelay}`);

      up = true;
      clock.setWallOffset(61_000 + 121_000);
      assert.deepEqual(await sendDueInvoices(db, flaky, opts), { sent: 1, retried: 0 });
      assert.deepEqual(await sendDueInvoices(db, flaky, opts), { sent: 0, retried: 0 });
      assert.equal(received.length, 1);
      assert.ok((await collectSdiAnswers(db, flaky)) >= 1);
      assert.equal(await collectSdiAnswers(db, flaky), 0);
      assert.equal((await state()).sdi_status, 'delivered');
    } finally {
      clock.setWallOffset(0);
    }
  });

  test('R15.4: two SdI workers at once hand each invoice over once', async () => {
    const { ctx, db } = use();
    clock.setRome('2034-07-01T09:00');
    await sendDueInvoices(db, simulatorChannel(db, 0), { batchSizeMax: 1000 }); // the earlier tests' invoices
    const { customer } = await holderNow(ctx);
    for (let i = 0; i < 6; i++) {
      const topup = await createTopup(ctx, customer.id, 300 + i, null, 'test');
      await applyPaymentOutcome(ctx, pay(topup.id, `evt-two-${i}`));
    }
    const handed: string[] = [];
    const recording: SdiChannel = {
      name: 'simulator',
      async send(file) {
        handed.push(file.fileName);
        await new Promise((resolve) => setImmediate(resolve));
      },
      takeAnswers: async () => [],
    };
    const results = await Promise.all([sendDueInvoices(db, recording, { batchSizeMax: 2 }), sendDueInvoices(db, recording, { batchSizeMax: 2 }), sendDueInvoices(db, recording, { batchSizeMax: 2 })]);
    await sendDueInvoices(db, recording, { batchSizeMax: 10 });
    assert.equal(handed.length, 6);
    assert.equal(new Set(handed).size, 6);
    assert.equal(results.reduce((n, r) => n + r.sent, 0), 6);
  });

  test('R15.4: the directory channel writes each file whole, under its SdI name, and nothing else', async () => {
    const { ctx, db } = use();
    clock.setRome('2035-02-03T12:00');
    const { customer } = await holderNow(ctx);
    const topup = await createTopup(ctx, customer.id, 4321, null, 'test');
    await applyPaymentOutcome(ctx, pay(topup.id, 'evt-dir'));
    const dir = mkdtempSync(join(tmpdir(), 'casella-sdi-'));
    try {
      const channel = directoryChannel(join(dir, 'out'));
      const sent = await sendDueInvoices(db, channel);
      assert.ok(sent.sent >= 1);
      const [invoice] = await db.query<{ file_name: string; sdi_status: string }>('SELECT file_name, sdi_status FROM invoices WHERE topup_id = $1', [topup.id]);
      assert.equal(invoice!.sdi_status, 'sent');
      const files = readdirSync(join(dir, 'out'));
      assert.ok(files.includes(invoice!.file_name));
      assert.ok(files.every((f) => /^IT\w+_[0-9A-Z]{5}\.xml$/.test(f)), `no temporary files left: ${files}`);
      const xml = readFileSync(join(dir, 'out', invoice!.file_name), 'utf8');
      assert.deepEqual(await schemaErrors(xml), []);
      assert.match(xml, /<ImponibileImporto>43\.21<\/ImponibileImporto>/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
