// Issue 19, items 1 and 2: a holder's renewals in one run take every due mailbox before extra space
// (R7.3, R7.6), and the expiry alerts, the dashboard's outlook and the forecast promise what that
// run will do (R10). Each case on both engines with the test clock: ledger, states and e-mail text.
import { beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { clock } from '../../src/clock.ts';
import { date } from '../../src/domain/calendar.ts';
import { cents } from '../../src/domain/money.ts';
import { money } from '../../src/i18n/format.ts';
import { forEachEngine } from '../support/engines.ts';
import { holderWithMailbox, outboxOf, uniqueAddress } from '../support/fixtures.ts';
import { createMailbox } from '../../src/services/mailboxes/provision.ts';
import { adjustCredit } from '../../src/services/billing/credit.ts';
import { SYSTEM } from '../../src/services/audit.ts';
import { placeExtraSpaceOrder, placeRenewalOrder } from '../../src/services/billing/orders.ts';
import { applyPaymentOutcome, createTopup } from '../../src/services/billing/topups.ts';
import { forecastRenewals, runDailyJob } from '../../src/services/daily.ts';
import { holderMailbox, readBalance, readMailbox, readMailboxes } from '../../src/services/rows.ts';
import { holderOutlook } from '../../src/web/warnings.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import type { ServiceContext } from '../../src/services/context.ts';

async function addonOf(ctx: ServiceContext, mailboxId: string) {
  const [a] = await ctx.db.query<{ status: string; active_until: string; quantity_gb: number }>(
    'SELECT status, active_until, quantity_gb FROM addons WHERE mailbox_id = $1',
    [mailboxId],
  );
  return a;
}

async function renewalsOf(ctx: ServiceContext, mailboxId: string) {
  const rows = await ctx.db.query<{ service: string; period_ends_on: string; outcome: string; amount_cents: number }>(
    'SELECT service, period_ends_on, outcome, amount_cents FROM renewals WHERE mailbox_id = $1 ORDER BY period_ends_on, service DESC',
    [mailboxId],
  );
  return rows.map((r) => [r.service, r.period_ends_on, r.outcome, Number(r.amount_cents)]);
}

async function renewalCharges(ctx: ServiceContext, customerId: string) {
  const rows = await ctx.db.query<{ wallet_amount_cents: number; balance_after_cents: number; mailbox_id: string }>(
    `SELECT wallet_amount_cents, balance_after_cents, mailbox_id FROM ledger_transactions WHERE customer_id = $1 AND kind = 'renewal' ORDER BY seq`,
    [customerId],
  );
  return rows.map((r) => [r.mailbox_id, Number(r.wallet_amount_cents), Number(r.balance_after_cents)]);
}

const statusOf = async (ctx: ServiceContext, id: string) => {
  const m = (await readMailbox(ctx.db, id, null))!;
  return [m.status, m.expires_on];
};

/**
 * The holder: mailboxes A (with 2 GB of extra space, 6 €) and B, 5 € each, both due on
 * 1 December 2026; A's address sorts first. `creditCents` is what is left once the 2 GB are paid.
 */
async function twoMailboxHolder(ctx: ServiceContext, creditCents: number, locale: 'it' | 'en' = 'it') {
  const { customer, mailbox: a } = await holderWithMailbox(ctx, { creditCents: creditCents + 600, locale });
  await placeExtraSpaceOrder(ctx, customer.id, a.id, 2); // full year: 2 × 3 € (R4)
  const b = await createMailbox(ctx, SYSTEM, {
    customerId: customer.id,
    address: uniqueAddress('zz'),
    password: 'password-1234',
    type: 'standard',
    expiresOn: '2026-12-01',
  });
  assert.ok(a.address < b.address);
  assert.equal(await readBalance(ctx.db, customer.id), creditCents);
  return { customer, a, b };
}

let event = 0;
async function topUp(ctx: ServiceContext, customerId: string, amountCents: number, orderId: string | null): Promise<void> {
  const t = await createTopup(ctx, customerId, amountCents, orderId, 'test');
  await applyPaymentOutcome(ctx, { gateway: 'test', eventId: `evt_h19_${process.pid}_${++event}`, topupId: t.id, outcome: 'succeeded' });
}

forEachEngine('a holder’s renewals in the job’s order', (use) => {
  beforeEach(() => clock.setRome('2026-06-10T10:00'));

  test('R7.3: with 11 € both mailboxes are renewed and the extra space is deactivated, not the second mailbox expired', async () => {
    const { ctx } = use();
    const { customer, a, b } = await twoMailboxHolder(ctx, 1100);
    clock.setRome('2026-12-01T00:30');
    await runDailyJob(ctx);

    assert.deepEqual(await statusOf(ctx, a.id), ['active', '2027-12-01']);
    assert.deepEqual(await statusOf(ctx, b.id), ['active', '2027-12-01']);
    assert.deepEqual(await addonOf(ctx, a.id), { status: 'deactivated', active_until: '2026-12-01', quantity_gb: 2 });
    assert.equal(await readBalance(ctx.db, customer.id), 100);
    assert.deepEqual(await renewalsOf(ctx, a.id), [
      ['mailbox', '2026-12-01', 'renewed', 500],
      ['extra_inbox_space', '2026-12-01', 'deactivated', 0],
    ]);
    assert.deepEqual(await renewalsOf(ctx, b.id), [['mailbox', '2026-12-01', 'renewed', 500]]);
    assert.deepEqual(await renewalCharges(ctx, customer.id), [
      [a.id, -500, 600],
      [b.id, -500, 100],
    ]);
    assert.ok((await verifyLedger(ctx.db)).ok);

    const mails = await outboxOf(ctx, customer.id);
    assert.ok(!mails.some((m) => m.subject.startsWith('Casella scaduta')));
    const ofA = mails.find((m) => m.subject === `Servizio aggiuntivo disattivato: ${a.address}`)!;
    assert.match(ofA.text_body, /Spazio Extra Inbox \(2 GB\) è stato disattivato/);
    assert.match(ofA.text_body, /mancavano 5,00 €/);
    assert.ok(mails.some((m) => m.subject === `Rinnovo effettuato: ${b.address}`));

    // Same day again: nothing more.
    const count = mails.length;
    await runDailyJob(ctx);
    assert.equal((await outboxOf(ctx, customer.id)).length, count);
    assert.equal(await readBalance(ctx.db, customer.id), 100);
  });

  test('R7.3 across batches: one mailbox per batch decides the same, the extra space after both mailboxes', async () => {
    const { ctx } = use();
    const { customer, a, b } = await twoMailboxHolder(ctx, 1100, 'en');
    clock.setRome('2026-12-01T00:30');
    await runDailyJob(ctx, { batchSizeMax: 1 });

    assert.deepEqual(await statusOf(ctx, a.id), ['active', '2027-12-01']);
    assert.deepEqual(await statusOf(ctx, b.id), ['active', '2027-12-01']);
    assert.deepEqual(await addonOf(ctx, a.id), { status: 'deactivated', active_until: '2026-12-01', quantity_gb: 2 });
    assert.equal(await readBalance(ctx.db, customer.id), 100);
    assert.deepEqual(await renewalsOf(ctx, a.id), [
      ['mailbox', '2026-12-01', 'renewed', 500],
      ['extra_inbox_space', '2026-12-01', 'deactivated', 0],
    ]);
    assert.ok((await verifyLedger(ctx.db)).ok);
    const mails = await outboxOf(ctx, customer.id);
    // A's receipt comes from its batch, without the extra space; the extra space's own e-mail after both mailboxes.
    const receiptOfA = mails.find((m) => m.subject === `Renewal completed: ${a.address}`)!;
    assert.doesNotMatch(receiptOfA.text_body, /2 GB/);
    assert.ok(mails.some((m) => m.subject === `Renewal completed: ${b.address}`));
    const ended = mails.find((m) => m.kind === 'addon_deactivated')!;
    assert.match(ended.text_body, /Extra inbox space \(2 GB\) of mailbox .* ended on 1 December 2026/);
    assert.ok(!mails.some((m) => m.kind === 'mailbox_expired'));
  });

  test('R7.6 + R7.3: extra space paid until before its mailbox’s E waits for the other mailbox due the same day', async () => {
    const { ctx } = use();
    clock.setRome('2026-10-10T10:00');
    const { customer, mailbox: a } = await holderWithMailbox(ctx, { expiresOn: '2026-12-01' });
    // A renewal by hand waits for a top-up; 2 GB bought meanwhile are free until 1 December (R4)
    // and are not in the renewal, so they keep their own end (R7.6).
    const renewal = await placeRenewalOrder(ctx, customer.id, a.id);
    await placeExtraSpaceOrder(ctx, customer.id, a.id, 2);
    await topUp(ctx, customer.id, 500, renewal.order.id);
    assert.deepEqual(await statusOf(ctx, a.id), ['active', '2027-12-01']);
    assert.deepEqual(await addonOf(ctx, a.id), { status: 'active', active_until: '2026-12-01', quantity_gb: 2 });
    const b = await createMailbox(ctx, SYSTEM, {
      customerId: customer.id,
      address: uniqueAddress('zz'),
      password: 'password-1234',
      type: 'standard',
      expiresOn: '2026-12-01',
    });
    await adjustCredit(ctx, SYSTEM, customer.id, 700, 'test credit');

    // The forecast of 1 December says it first.
    const forecast = await forecastRenewals(ctx, date('2026-12-01'));
    const items = forecast.items.filter((i) => i.mailboxId === a.id || i.mailboxId === b.id);
    assert.deepEqual(
      items.map((i) => [i.address, i.mailbox, i.addon, i.chargedCents, i.missingCents]),
      [
        [b.address, 'renewed', 'none', 500, 0],
        [a.address, null, 'deactivated', 0, 400],
      ],
    );

    clock.setRome('2026-12-01T00:30');
    await runDailyJob(ctx);
    // Before: the 2 GB took 6 € first and the second mailbox expired with 1 € left.
    assert.deepEqual(await statusOf(ctx, b.id), ['active', '2027-12-01']);
    assert.deepEqual(await addonOf(ctx, a.id), { status: 'deactivated', active_until: '2026-12-01', quantity_gb: 2 });
    assert.equal(await readBalance(ctx.db, customer.id), 200);
    // The mailbox's period was renewed by hand; the job settled only the extra space's.
    assert.deepEqual(await renewalsOf(ctx, a.id), [
      ['mailbox', '2026-12-01', 'renewed', 500],
      ['extra_inbox_space', '2026-12-01', 'deactivated', 0],
    ]);
    assert.deepEqual(await renewalCharges(ctx, customer.id), [
      [a.id, -500, 0], // by hand in October
      [b.id, -500, 200],
    ]);
    const mails = await outboxOf(ctx, customer.id);
    assert.ok(mails.some((m) => m.subject === `Rinnovo effettuato: ${b.address}`));
    const ended = mails.find((m) => m.kind === 'addon_deactivated')!;
    assert.match(ended.text_body, /mancavano 4,00 €/);
    assert.ok((await verifyLedger(ctx.db)).ok);
  });

  test('R10: with 7 € the alerts at 7 and 1 days name what will not renew and what is missing; forecast and job agree', async () => {
    const { ctx } = use();
    const { customer, a, b } = await twoMailboxHolder(ctx, 700);
    const alertsOf = async () => (await outboxOf(ctx, customer.id)).filter((m) => m.kind === 'expiry_alert');
    for (const day of ['2026-11-24', '2026-11-30']) {
      clock.setRome(`${day}T10:00`);
      const before = (await alertsOf()).length;
      await runDailyJob(ctx);
      const alerts = (await alertsOf()).slice(before);
      assert.equal(alerts.length, 2, day);
      const ofA = alerts.find((m) => m.subject === `Avviso scadenza servizio: ${a.address}`)!.text_body;
      const ofB = alerts.find((m) => m.subject === `Avviso scadenza servizio: ${b.address}`)!.text_body;
      for (const text of [ofA, ofB]) {
        assert.doesNotMatch(text, /saranno rinnovati automaticamente/);
        // 5 + 5 + 6 = 16 € due by 1 December, 7 € of credit.
        assert.match(text, /Totale:\s+16,00 € \(IVA esclusa\)/);
        assert.match(text, /Credito mancante:\s+9,00 €/);
        assert.match(text, /prima le caselle e poi lo Spazio Extra Inbox/);
      }
      // A is renewed, its 2 GB are not; B expires.
      assert.match(ofA, /la casella sarà rinnovata automaticamente/);
      assert.match(ofA, /Lo Spazio Extra Inbox \(2 GB\) invece non sarà rinnovato: il credito non basta\. Ricarica 9,00 € prima del 1° dicembre 2026/);
      assert.match(ofA, new RegExp(`non basta per rinnovare anche: la casella ${b.address.replace(/\./g, '\\.')} \\(scadenza 1° dicembre 2026\\)`));
      assert.match(ofB, /Il credito non basta per il rinnovo automatico: ricarica 9,00 € prima del 1° dicembre 2026, altrimenti la casella scadrà/);
      assert.match(ofB, /lo Spazio Extra Inbox \(2 GB\) della casella .* \(scadenza 1° dicembre 2026\)/);
      assert.match(ofB, new RegExp(`Rinnovo casella ${a.address.replace(/\./g, '\\.')} \\(1° dicembre 2026\\):\\s+5,00 € \\(IVA esclusa\\)`));
    }

    const forecast = await forecastRenewals(ctx, date('2026-12-01'));
    const byId = new Map(forecast.items.map((i) => [i.mailboxId, [i.mailbox, i.addon]]));
    assert.deepEqual([byId.get(a.id), byId.get(b.id)], [['renewed', 'deactivated'], ['expired', 'none']]);

    clock.setRome('2026-12-01T00:30');
    await runDailyJob(ctx);
    assert.deepEqual(await statusOf(ctx, a.id), ['active', '2027-12-01']);
    assert.deepEqual(await statusOf(ctx, b.id), ['expired', '2026-12-01']);
    assert.deepEqual(await addonOf(ctx, a.id), { status: 'deactivated', active_until: '2026-12-01', quantity_gb: 2 });
    assert.equal(await readBalance(ctx.db, customer.id), 200);
    assert.ok((await verifyLedger(ctx.db)).ok);
  });

  test('R10: with 11 € the alert of the mailbox that renews still names the extra space that will not', async () => {
    const { ctx } = use();
    const { customer, b } = await twoMailboxHolder(ctx, 1100, 'en');
    clock.setRome('2026-11-30T10:00');
    await runDailyJob(ctx);
    const alerts = (await outboxOf(ctx, customer.id)).filter((m) => m.kind === 'expiry_alert');
    const ofB = alerts.find((m) => m.subject.endsWith(b.address))!.text_body;
    assert.doesNotMatch(ofB, /the services below will be renewed automatically/);
    assert.match(ofB, /the services of mailbox .* will be renewed automatically/);
    assert.match(ofB, /Your current credit is not enough to renew these too: the extra inbox space \(2 GB\) of mailbox .* \(expiring 1 December 2026\)\. Top up €5\.00/);
    assert.match(ofB, /Shortfall:\s+€5\.00/);
  });

  test('R10 + R5: the alert asks for the top-up the dashboard asks for, waiting orders included', async () => {
    const { ctx } = use();
    const { customer, a, b } = await twoMailboxHolder(ctx, 0);
    // A third mailbox, due next year, with 1 GB ordered (3 €) that waits for a top-up.
    clock.setRome('2026-11-24T09:00');
    const c = await createMailbox(ctx, SYSTEM, { customerId: customer.id, address: uniqueAddress('cc'), password: 'password-1234', type: 'standard', expiresOn: '2027-09-01' });
    const order = await placeExtraSpaceOrder(ctx, customer.id, c.id, 1);
    assert.deepEqual([order.order.status, order.order.amount_cents], ['awaiting_topup', 300]);

    clock.setRome('2026-11-24T10:00');
    await runDailyJob(ctx);
    const rows = await readMailboxes(ctx.db, customer.id);
    const outlook = holderOutlook(rows.map(holderMailbox), cents(0), cents(300), ctx.catalogue);
    assert.equal(outlook.topupCents, 1900); // 16 € due, 3 € waiting
    const alerts = (await outboxOf(ctx, customer.id)).filter((m) => m.kind === 'expiry_alert');
    assert.equal(alerts.length, 2);
    for (const alert of alerts) assert.match(alert.text_body, new RegExp(`[Rr]icarica ${money(outlook.topupCents, 'it')} prima del 1° dicembre 2026`));
    assert.ok(alerts.some((m) => m.subject.endsWith(a.address)) && alerts.some((m) => m.subject.endsWith(b.address)));
  });
});
