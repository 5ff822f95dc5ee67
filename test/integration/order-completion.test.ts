// Issue 12, item 1: the money leaks found by an outside attack and an audit of the money paths.
// Each case is a holder's real sequence through the services, on both engines: what was charged,
// what space is active until when, and what the daily job does with it afterwards (R4, R5, R7.5, R9).
import { beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { clock } from '../../src/clock.ts';
import { forEachEngine } from '../support/engines.ts';
import { holderWithMailbox, outboxOf } from '../support/fixtures.ts';
import { placeExtraSpaceOrder, placeRenewalOrder, readOrder } from '../../src/services/billing/orders.ts';
import { setRenewalSwitches } from '../../src/services/mailboxes/mailbox-settings.ts';
import { applyPaymentOutcome, createTopup } from '../../src/services/billing/topups.ts';
import { forecastRenewals, runDailyJob } from '../../src/services/daily.ts';
import { date } from '../../src/domain/calendar.ts';
import { readBalance, readMailbox } from '../../src/services/rows.ts';
import { mailboxView } from '../../src/services/views.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import type { ServiceContext } from '../../src/services/context.ts';

let event = 0;
/** A card top-up of `amountCents` of credit, paid, for `orderId` when given; the ids it settled. */
async function topUp(ctx: ServiceContext, customerId: string, amountCents: number, orderId: string | null = null): Promise<string[]> {
  const t = await createTopup(ctx, customerId, amountCents, orderId, 'test');
  const applied = await applyPaymentOutcome(ctx, { gateway: 'test', eventId: `evt_${process.pid}_${++event}`, topupId: t.id, outcome: 'succeeded' });
  return applied.topup!.settled_order_ids;
}

forEachEngine('completing orders charges for exactly what they extend', (use) => {
  const mailboxOf = async (id: string) => mailboxView((await readMailbox(use().db, id, null))!, use().ctx.catalogue);
  const extraSpace = async (id: string) => {
    const m = await mailboxOf(id);
    return { expiresOn: m.expiresOn, extraGb: m.space.extraGb, addons: m.addons.map((a) => [a.quantityGb, a.status, a.activeUntil]) };
  };

  beforeEach(() => clock.setRome('2026-10-10T10:00'));

  test('R7.5: 50 GB bought free while a renewal waits keep their own end, and the daily job charges or ends them there', async () => {
    const { ctx } = use();
    const { customer, mailbox } = await holderWithMailbox(ctx, { expiresOn: '2026-12-01' });
    const renewal = await placeRenewalOrder(ctx, customer.id, mailbox.id);
    assert.deepEqual([renewal.order.status, renewal.order.amount_cents], ['awaiting_topup', 500]);
    const free = await placeExtraSpaceOrder(ctx, customer.id, mailbox.id, 50);
    assert.deepEqual([free.order.rule, free.order.amount_cents, free.order.status], ['free_until_expiry', 0, 'completed']);
    assert.deepEqual(await topUp(ctx, customer.id, 500, renewal.order.id), [renewal.order.id]);
    // The renewal paid for the mailbox only: the 50 GB still end on 1 December, as granted free.
    assert.deepEqual(await extraSpace(mailbox.id), { expiresOn: '2027-12-01', extraGb: 50, addons: [[50, 'active', '2026-12-01']] });
    assert.equal(await readBalance(ctx.db, customer.id), 0);

    // The forecast of 1 December says what is coming, with the credit that is missing for it.
    const forecast = await forecastRenewals(ctx, date('2026-12-01'));
    const item = forecast.items.find((i) => i.mailboxId === mailbox.id)!;
    assert.deepEqual([item.mailbox, item.addon, item.missingCents], [null, 'deactivated', 15_000]);
    // On 1 December, with no credit, they end; the mailbox, paid until 2027, is left as it is.
    clock.setRome('2026-12-01T00:30');
    await runDailyJob(ctx);
    assert.deepEqual(await extraSpace(mailbox.id), { expiresOn: '2027-12-01', extraGb: 0, addons: [[50, 'deactivated', '2026-12-01']] });
    const last = (await outboxOf(ctx, customer.id)).at(-1)!;
    assert.match(last.subject, /^Servizio aggiuntivo disattivato: /);
    assert.match(last.text_body, /50 GB/);
    assert.ok((await verifyLedger(ctx.db)).ok);
  });

  test('R7.5: with credit on their end day, the same 50 GB are renewed for a year (150 €), back in step with the mailbox', async () => {
    const { ctx } = use();
    const { customer, mailbox } = await holderWithMailbox(ctx, { expiresOn: '2026-12-01' });
    const renewal = await placeRenewalOrder(ctx, customer.id, mailbox.id);
    await placeExtraSpaceOrder(ctx, customer.id, mailbox.id, 50);
    await topUp(ctx, customer.id, 500 + 15_000, renewal.order.id);
    assert.equal(await readBalance(ctx.db, customer.id), 15_000);
    clock.setRome('2026-12-01T00:30');
    await runDailyJob(ctx);
    assert.equal(await readBalance(ctx.db, customer.id), 0);
    assert.deepEqual(await extraSpace(mailbox.id), { expiresOn: '2027-12-01', extraGb: 50, addons: [[50, 'active', '2027-12-01']] });
    // A second run the same day charges nothing more.
    await runDailyJob(ctx);
    assert.equal(await readBalance(ctx.db, customer.id), 0);
    assert.ok((await verifyLedger(ctx.db)).ok);
  });

  test('variant: a renewal priced with 1 GB (8 €), 49 GB added free, the renewal paid: it is cancelled, not stretched over 50 GB', async () => {
    const { ctx } = use();
    const { customer, mailbox } = await holderWithMailbox(ctx, { expiresOn: '2026-12-01' });
    await placeExtraSpaceOrder(ctx, customer.id, mailbox.id, 1);
    const renewal = await placeRenewalOrder(ctx, customer.id, mailbox.id);
    assert.deepEqual([renewal.order.amount_cents, renewal.order.quantity_gb], [800, 1]);
    await placeExtraSpaceOrder(ctx, customer.id, mailbox.id, 49);
    assert.deepEqual(await topUp(ctx, customer.id, 800, renewal.order.id), []);
    const cancelled = await readOrder(ctx, customer.id, renewal.order.id);
    assert.deepEqual([cancelled.status, cancelled.cancel_reason], ['cancelled', 'extra_space_changed']);
    // Nothing charged, nothing extended: the credit waits for a renewal priced on what there is now.
    assert.equal(await readBalance(ctx.db, customer.id), 800);
    assert.deepEqual(await extraSpace(mailbox.id), { expiresOn: '2026-12-01', extraGb: 50, addons: [[50, 'active', '2026-12-01']] });
    const again = await placeRenewalOrder(ctx, customer.id, mailbox.id);
    assert.deepEqual([again.order.amount_cents, again.order.quantity_gb, again.order.status], [15_500, 50, 'awaiting_topup']);
  });

  test('GB added to an existing add-on while a renewal waits do not ride free: 1 GB + 10 GB, the 8 € renewal is cancelled', async () => {
    const { ctx } = use();
    const { customer, mailbox } = await holderWithMailbox(ctx, { expiresOn: '2026-12-01' });
    await placeExtraSpaceOrder(ctx, customer.id, mailbox.id, 1);
    const renewal = await placeRenewalOrder(ctx, customer.id, mailbox.id);
    await placeExtraSpaceOrder(ctx, customer.id, mailbox.id, 10);
    await topUp(ctx, customer.id, 800, renewal.order.id);
    assert.equal((await readOrder(ctx, customer.id, renewal.order.id)).status, 'cancelled');
    assert.equal(await readBalance(ctx.db, customer.id), 800);
    assert.deepEqual(await extraSpace(mailbox.id), { expiresOn: '2026-12-01', extraGb: 11, addons: [[11, 'active', '2026-12-01']] });
    assert.ok((await verifyLedger(ctx.db)).ok);
  });

  test('an extra-space order completed after a manual renewal runs to the end it was priced on, not to the new E', async () => {
    const { ctx } = use();
    // E = 1 March: on 30 November more than three months remain (full year), and the renewal
    // window opens on 1 December, while the order still waits (24 hours).
    clock.setRome('2026-11-30T10:00');
    const { customer, mailbox } = await holderWithMailbox(ctx, { expiresOn: '2027-03-01' });
    const space = await placeExtraSpaceOrder(ctx, customer.id, mailbox.id, 5);
    assert.deepEqual([space.order.rule, space.order.amount_cents, space.order.status], ['full_year', 1500, 'awaiting_topup']);
    clock.setRome('2026-12-01T09:00');
    const renewal = await placeRenewalOrder(ctx, customer.id, mailbox.id);
    assert.deepEqual([renewal.order.quantity_gb, renewal.order.amount_cents], [0, 500]);
    // One top-up settles both: the renewal it was made for first, then the extra space.
    assert.deepEqual(await topUp(ctx, customer.id, 2000, renewal.order.id), [renewal.order.id, space.order.id]);
    assert.equal(await readBalance(ctx.db, customer.id), 0);
    assert.equal((await readOrder(ctx, customer.id, space.order.id)).active_until, '2027-03-01');
    assert.deepEqual(await extraSpace(mailbox.id), { expiresOn: '2028-03-01', extraGb: 5, addons: [[5, 'active', '2027-03-01']] });
    // On 1 March the 5 GB come due on their own, and are renewed from credit for a year.
    await topUp(ctx, customer.id, 1500);
    clock.setRome('2027-03-01T00:30');
    await runDailyJob(ctx);
    assert.deepEqual(await extraSpace(mailbox.id), { expiresOn: '2028-03-01', extraGb: 5, addons: [[5, 'active', '2028-03-01']] });
    assert.equal(await readBalance(ctx.db, customer.id), 0);
    assert.match((await outboxOf(ctx, customer.id)).at(-1)!.subject, /^Rinnovo effettuato: /);
    assert.ok((await verifyLedger(ctx.db)).ok);
  });

  test('a renewal priced with extra space and paid after the mailbox expired is cancelled, not charged for space not given back', async () => {
    const { ctx } = use();
    clock.setRome('2026-11-30T23:00');
    const { customer, mailbox } = await holderWithMailbox(ctx, { expiresOn: '2026-12-01' });
    await placeExtraSpaceOrder(ctx, customer.id, mailbox.id, 2);
    const renewal = await placeRenewalOrder(ctx, customer.id, mailbox.id);
    assert.deepEqual([renewal.order.amount_cents, renewal.order.status], [1100, 'awaiting_topup']);
    clock.setRome('2026-12-01T00:30');
    await runDailyJob(ctx);
    assert.deepEqual(await extraSpace(mailbox.id), { expiresOn: '2026-12-01', extraGb: 0, addons: [[2, 'deactivated', '2026-12-01']] });
    await topUp(ctx, customer.id, 1100, renewal.order.id);
    const order = await readOrder(ctx, customer.id, renewal.order.id);
    assert.deepEqual([order.status, order.cancel_reason], ['cancelled', 'extra_space_changed']);
    assert.equal(await readBalance(ctx.db, customer.id), 1100);
    assert.equal((await mailboxOf(mailbox.id)).status, 'expired');
    // Renewed by hand in grace it costs the mailbox alone (R8: extra space must be bought again).
    const again = await placeRenewalOrder(ctx, customer.id, mailbox.id);
    assert.deepEqual([again.order.amount_cents, again.order.status], [500, 'completed']);
    assert.deepEqual(await extraSpace(mailbox.id), { expiresOn: '2027-12-01', extraGb: 0, addons: [[2, 'deactivated', '2026-12-01']] });
    assert.ok((await verifyLedger(ctx.db)).ok);
  });

  test('R7.5: extra space a year behind its mailbox (the job stopped, two renewals by hand) is caught up in one run, year by year', async () => {
    const { ctx } = use();
    clock.setRome('2026-06-01T10:00');
    const { customer, mailbox } = await holderWithMailbox(ctx, { expiresOn: '2026-07-10' });
    const first = await placeRenewalOrder(ctx, customer.id, mailbox.id);
    await placeExtraSpaceOrder(ctx, customer.id, mailbox.id, 5);
    await topUp(ctx, customer.id, 500, first.order.id);
    assert.deepEqual(await extraSpace(mailbox.id), { expiresOn: '2027-07-10', extraGb: 5, addons: [[5, 'active', '2026-07-10']] });
    // No daily job for a year; the mailbox is renewed by hand again.
    clock.setRome('2027-05-01T10:00');
    const second = await placeRenewalOrder(ctx, customer.id, mailbox.id);
    await topUp(ctx, customer.id, 500 + 3000, second.order.id);
    assert.deepEqual(await extraSpace(mailbox.id), { expiresOn: '2028-07-10', extraGb: 5, addons: [[5, 'active', '2026-07-10']] });
    clock.setRome('2027-07-15T00:30');
    await runDailyJob(ctx);
    // Both missed years of the 5 GB are paid in the one run, and they end with the mailbox again.
    assert.deepEqual(await extraSpace(mailbox.id), { expiresOn: '2028-07-10', extraGb: 5, addons: [[5, 'active', '2028-07-10']] });
    assert.equal(await readBalance(ctx.db, customer.id), 0);
    assert.ok((await verifyLedger(ctx.db)).ok);
  });

  test('R7.2: a manual renewal leaves out extra space whose renewal the holder switched off, at the price the card shows', async () => {
    const { ctx } = use();
    clock.setRome('2026-12-01T10:00');
    const { customer, mailbox } = await holderWithMailbox(ctx, { expiresOn: '2027-01-15', creditCents: 5000 });
    await placeExtraSpaceOrder(ctx, customer.id, mailbox.id, 10);
    await setRenewalSwitches(ctx, { kind: 'holder', id: customer.id }, customer.id, mailbox.id, { extraSpaceAutoRenew: false });
    assert.equal((await mailboxOf(mailbox.id)).renewal!.totalCents, 500);
    const renewal = await placeRenewalOrder(ctx, customer.id, mailbox.id);
    assert.deepEqual([renewal.order.amount_cents, renewal.order.quantity_gb, renewal.order.status], [500, 0, 'completed']);
    assert.equal(await readBalance(ctx.db, customer.id), 4500);
    // The 10 GB end on their own day, as the holder asked.
    clock.setRome('2027-01-15T00:30');
    await runDailyJob(ctx);
    assert.deepEqual(await extraSpace(mailbox.id), { expiresOn: '2028-01-15', extraGb: 0, addons: [[10, 'deactivated', '2027-01-15']] });
    assert.equal(await readBalance(ctx.db, customer.id), 4500);
  });
});
