import { beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { clock } from '../../src/clock.ts';
import { forEachEngine } from '../support/engines.ts';
import { holderWithMailbox, outboxOf } from '../support/fixtures.ts';
import { cancelOrder, placeExtraSpaceOrder, placeRenewalOrder, quoteExtraSpaceFor, readOrder } from '../../src/services/billing/orders.ts';
import { applyPaymentOutcome, createTopup } from '../../src/services/billing/topups.ts';
import { adjustCredit, readStatement } from '../../src/services/billing/credit.ts';
import { runDailyJob } from '../../src/services/daily.ts';
import { readBalance, readMailbox } from '../../src/services/rows.ts';
import { mailboxView } from '../../src/services/views.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { DomainError } from '../../src/services/errors.ts';
import { SYSTEM } from '../../src/services/audit.ts';
import { createMailbox } from '../../src/services/mailboxes/provision.ts';

const pay = (gateway: string, topupId: string, eventId: string, outcome: 'succeeded' | 'failed' = 'succeeded', failureCode?: string) => ({
  gateway,
  eventId,
  topupId,
  outcome,
  failureCode: failureCode ?? null,
});

forEachEngine('services', (use) => {
  beforeEach(() => clock.setRome('2026-06-10T10:00'));

  const space = async (mailboxId: string) => mailboxView((await readMailbox(use().db, mailboxId, null))!, use().ctx.catalogue).space;

  test('R4+R5: a covered full-year purchase completes at once: debit, space, ledger, e-mail together', async () => {
    const { ctx } = use();
    const { customer, mailbox } = await holderWithMailbox(ctx, { creditCents: 1000 });
    const quoted = await quoteExtraSpaceFor(ctx, customer.id, mailbox.id, 3);
    assert.equal(quoted.quote.rule, 'full_year');
    assert.equal(quoted.quote.amountCents, 900);

    const placed = await placeExtraSpaceOrder(ctx, customer.id, mailbox.id, 3);
    assert.equal(placed.order.status, 'completed');
    assert.equal(placed.balanceCents, 100);
    assert.equal(await readBalance(ctx.db, customer.id), 100);
    const s = await space(mailbox.id);
    assert.deepEqual([s.extraGb, s.totalGb, s.totalBytes], [3, 4, 4 * 1024 ** 3]);
    const statement = await readStatement(ctx, customer.id);
    assert.deepEqual(statement.transactions.map((t) => [t.kind, t.wallet_amount_cents, t.balance_after_cents]), [
      ['purchase', -900, 100],
      ['adjustment', 1000, 1000],
    ]);
    const mails = await outboxOf(ctx, customer.id);
    assert.equal(mails.length, 1);
    assert.match(mails[0]!.subject, /^Ordine completato: /);
    assert.match(mails[0]!.text_body, /9,00 €/);
    assert.ok((await verifyLedger(ctx.db)).ok);

    // Buying more adds to the one add-on.
    clock.setRome('2026-10-10T10:00');
    const free = await placeExtraSpaceOrder(ctx, customer.id, mailbox.id, 2);
    assert.equal(free.order.rule, 'free_until_expiry');
    assert.equal(free.order.amount_cents, 0);
    assert.equal(free.order.status, 'completed');
    assert.equal((await space(mailbox.id)).extraGb, 5);
    assert.equal(await readBalance(ctx.db, customer.id), 100);
  });

  test('R5: short credit waits; a top-up for it completes it, the shortfall uses the minimum top-up', async () => {
    const { ctx } = use();
    const { customer, mailbox } = await holderWithMailbox(ctx, { creditCents: 850 });
    const placed = await placeExtraSpaceOrder(ctx, customer.id, mailbox.id, 3);
    assert.equal(placed.order.status, 'awaiting_topup');
    assert.equal(await readBalance(ctx.db, customer.id), 850);
    assert.equal((await space(mailbox.id)).extraGb, 0);

    const topup = await createTopup(ctx, customer.id, 100, placed.order.id, 'test');
    assert.deepEqual([topup.amount_cents, topup.vat_cents, topup.charge_cents, topup.status], [100, 22, 122, 'pending']);
    const r = await applyPaymentOutcome(ctx, pay('test', topup.id, 'evt-1'));
    assert.equal(r.result, 'applied');
    assert.deepEqual(r.topup!.settled_order_ids, [placed.order.id]);
    assert.equal((await readOrder(ctx, customer.id, placed.order.id)).status, 'completed');
    assert.equal(await readBalance(ctx.db, customer.id), 50);
    assert.equal((await space(mailbox.id)).extraGb, 3);
    assert.deepEqual((await outboxOf(ctx, customer.id)).map((m) => m.subject.split(':')[0]), ['Ricarica effettuata', 'Ordine completato']);
    assert.ok((await verifyLedger(ctx.db)).ok);
  });

  test('R6: a top-up recorded twice (same payment event, or another event for it) credits once', async () => {
    const { ctx } = use();
    const { customer } = await holderWithMailbox(ctx);
    const topup = await createTopup(ctx, customer.id, 2500, null, 'test');
    const results = await Promise.all([
      applyPaymentOutcome(ctx, pay('test', topup.id, 'evt-dup')),
      applyPaymentOutcome(ctx, pay('test', topup.id, 'evt-dup')),
    ]);
    assert.deepEqual(results.map((r) => r.result).sort(), ['applied', 'duplicate_event']);
    assert.equal((await applyPaymentOutcome(ctx, pay('test', topup.id, 'evt-other'))).result, 'already_decided');
    assert.equal((await applyPaymentOutcome(ctx, pay('test', topup.id, 'evt-late-fail', 'failed', 'card_declined'))).result, 'already_decided');
    assert.equal(await readBalance(ctx.db, customer.id), 2500);
    const statement = await readStatement(ctx, customer.id);
    assert.equal(statement.transactions.filter((t) => t.kind === 'topup').length, 1);
    assert.equal((await outboxOf(ctx, customer.id)).length, 1);
    assert.ok((await verifyLedger(ctx.db)).ok);
  });

  test('a declined card credits nothing and writes no receipt; unknown top-ups are refused', async () => {
    const { ctx } = use();
    const { customer } = await holderWithMailbox(ctx);
    const topup = await createTopup(ctx, customer.id, 1000, null, 'test');
    const r = await applyPaymentOutcome(ctx, pay('test', topup.id, 'evt-decl', 'failed', 'card_declined'));
    assert.equal(r.topup!.status, 'failed');
    assert.equal(r.topup!.failure_code, 'card_declined');
    assert.equal(await readBalance(ctx.db, customer.id), 0);
    assert.deepEqual(await outboxOf(ctx, customer.id), []);
    assert.equal((await applyPaymentOutcome(ctx, pay('test', 'top_nope', 'evt-x'))).result, 'unknown_topup');
    assert.equal((await applyPaymentOutcome(ctx, pay('stripe', topup.id, 'evt-y'))).result, 'unknown_topup');
  });

  test('R5: after a top-up, waiting orders settle oldest first while the balance covers them', async () => {
    const { ctx } = use();
    const { customer, mailbox } = await holderWithMailbox(ctx);
    const first = await placeExtraSpaceOrder(ctx, customer.id, mailbox.id, 2); // 600
    clock.setRome('2026-06-10T10:05');
    const second = await placeExtraSpaceOrder(ctx, customer.id, mailbox.id, 3); // 900
    clock.setRome('2026-06-10T10:10');
    const third = await placeExtraSpaceOrder(ctx, customer.id, mailbox.id, 1); // 300
    const topup = await createTopup(ctx, customer.id, 1000, null, 'test');
    const r = await applyPaymentOutcome(ctx, pay('test', topup.id, 'evt-fifo'));
    // 1000 covers the first (600); the second (900) does not fit, and the third does not jump it.
    assert.deepEqual(r.topup!.settled_order_ids, [first.order.id]);
    assert.equal((await readOrder(ctx, customer.id, second.order.id)).status, 'awaiting_topup');
    assert.equal((await readOrder(ctx, customer.id, third.order.id)).status, 'awaiting_topup');
    assert.equal(await readBalance(ctx.db, customer.id), 400);

    // A top-up made for the third settles it first.
    const forThird = await createTopup(ctx, customer.id, 100, third.order.id, 'test');
    const r2 = await applyPaymentOutcome(ctx, pay('test', forThird.id, 'evt-third'));
    assert.deepEqual(r2.topup!.settled_order_ids, [third.order.id]);
    assert.equal(await readBalance(ctx.db, customer.id), 200);
    assert.equal((await space(mailbox.id)).extraGb, 3);
    assert.ok((await verifyLedger(ctx.db)).ok);
  });

  test('R5: a waiting order expires after 24 hours, nothing charged, and a late top-up does not revive it', async () => {
    const { ctx } = use();
    const { customer, mailbox } = await holderWithMailbox(ctx);
    const placed = await placeExtraSpaceOrder(ctx, customer.id, mailbox.id, 1);
    clock.setRome('2026-06-11T09:59');
    assert.equal((await runDailyJob(ctx)).ordersExpired, 0);
    clock.setRome('2026-06-11T10:00');
    const topup = await createTopup(ctx, customer.id, 500, null, 'test');
    const r = await applyPaymentOutcome(ctx, pay('test', topup.id, 'evt-late'));
    assert.deepEqual(r.topup!.settled_order_ids, []);
    assert.equal((await readOrder(ctx, customer.id, placed.order.id)).status, 'expired');
    assert.equal(await readBalance(ctx.db, customer.id), 500);
    assert.equal((await space(mailbox.id)).extraGb, 0);
    await assert.rejects(() => createTopup(ctx, customer.id, 500, placed.order.id, 'test'), (e: DomainError) => e.code === 'order_not_pending');
  });

  test('cancel: only a waiting order, only once', async () => {
    const { ctx } = use();
    const { customer, mailbox } = await holderWithMailbox(ctx);
    const placed = await placeExtraSpaceOrder(ctx, customer.id, mailbox.id, 1);
    assert.equal((await cancelOrder(ctx, customer.id, placed.order.id)).status, 'cancelled');
    await assert.rejects(() => cancelOrder(ctx, customer.id, placed.order.id), (e: DomainError) => e.code === 'order_not_pending');
    const other = await holderWithMailbox(ctx);
    await assert.rejects(() => cancelOrder(ctx, other.customer.id, placed.order.id), (e: DomainError) => e.code === 'not_found');
  });

  test('refusals: another holder’s mailbox is not found; limit; inactive; bad quantity', async () => {
    const { ctx } = use();
    const a = await holderWithMailbox(ctx, { creditCents: 100_000 });
    const b = await holderWithMailbox(ctx);
    await assert.rejects(() => placeExtraSpaceOrder(ctx, b.customer.id, a.mailbox.id, 1), (e: DomainError) => e.code === 'not_found');
    await placeExtraSpaceOrder(ctx, a.customer.id, a.mailbox.id, 49);
    await assert.rejects(() => placeExtraSpaceOrder(ctx, a.customer.id, a.mailbox.id, 2), (e: DomainError) => e.code === 'limit_exceeded');
    await assert.rejects(() => placeExtraSpaceOrder(ctx, a.customer.id, a.mailbox.id, 0), (e: DomainError) => e.code === 'validation_failed');
    clock.setRome('2026-12-01T08:00');
    await assert.rejects(() => placeExtraSpaceOrder(ctx, a.customer.id, a.mailbox.id, 1), (e: DomainError) => e.code === 'mailbox_not_active');
    assert.equal(await readBalance(ctx.db, a.customer.id), 100_000 - 49 * 300);
  });

  test('R9: manual renewal from 90 days before E moves E by a year from E, with the active extra space', async () => {
    const { ctx } = use();
    const { customer, mailbox } = await holderWithMailbox(ctx, { creditCents: 2000, type: 'pro' });
    await placeExtraSpaceOrder(ctx, customer.id, mailbox.id, 1); // 300, full year
    await assert.rejects(() => placeRenewalOrder(ctx, customer.id, mailbox.id), (e: DomainError) => e.code === 'not_renewable');
    clock.setRome('2026-09-15T10:00');
    const renewal = await placeRenewalOrder(ctx, customer.id, mailbox.id); // 2500 + 300 > 1700: waits
    assert.equal(renewal.order.status, 'awaiting_topup');
    assert.equal(renewal.order.amount_cents, 2800);
    const topup = await createTopup(ctx, customer.id, 1100, renewal.order.id, 'test');
    await applyPaymentOutcome(ctx, pay('test', topup.id, 'evt-renew'));
    const after = (await readMailbox(ctx.db, mailbox.id, null))!;
    assert.equal(after.expires_on, '2027-12-01');
    assert.equal(after.addon_active_until, '2027-12-01');
    assert.equal(await readBalance(ctx.db, customer.id), 0);
    const statement = await readStatement(ctx, customer.id);
    assert.equal(statement.transactions[0]!.kind, 'renewal');
    assert.equal(statement.transactions[0]!.wallet_amount_cents, -2800);
    assert.ok((await verifyLedger(ctx.db)).ok);
  });

  test('R6: operator adjustments need a reason, are audited, and never take the balance below zero', async () => {
    const { ctx } = use();
    const { customer } = await holderWithMailbox(ctx, { creditCents: 300 });
    await assert.rejects(() => adjustCredit(ctx, SYSTEM, customer.id, -301, 'oops'), (e: DomainError) => e.code === 'validation_failed' && !!e.fields?.amountCents);
    await assert.rejects(() => adjustCredit(ctx, SYSTEM, customer.id, 100, '  '), (e: DomainError) => !!e.fields?.reason);
    const t = await adjustCredit(ctx, { kind: 'token', id: 'op_1' }, customer.id, -300, 'refund by bank transfer');
    assert.equal(t.balance_after_cents, 0);
    const audit = await ctx.db.query<{ actor_id: string; reason: string; before: { balanceCents: number } }>(
      `SELECT actor_id, reason, before FROM audit_log WHERE action = 'credit.adjust' AND entity_id = $1 ORDER BY id DESC LIMIT 1`,
      [customer.id],
    );
    assert.deepEqual([audit[0]!.actor_id, audit[0]!.reason, audit[0]!.before.balanceCents], ['op_1', 'refund by bank transfer', 300]);
  });

  test('provisioning: addresses are unique whatever their case; bad fields are named', async () => {
    const { ctx } = use();
    const { customer, mailbox } = await holderWithMailbox(ctx);
    await assert.rejects(
      () => createMailbox(ctx, SYSTEM, { customerId: customer.id, address: mailbox.address.toUpperCase(), password: 'password-1234', type: 'standard', expiresOn: '2027-01-01' }),
      (e: DomainError) => e.fields?.address === 'is already taken',
    );
    await assert.rejects(
      () => createMailbox(ctx, SYSTEM, { customerId: customer.id, address: 'nope', password: 'short', type: 'gold' as never, expiresOn: '2027-02-30' }),
      (e: DomainError) => ['address', 'password', 'type', 'expiresOn'].every((f) => f in (e.fields ?? {})),
    );
  });

  test('the ledger is insert-only and verify catches a tampered wallet', async () => {
    const { ctx } = use();
    const { customer } = await holderWithMailbox(ctx, { creditCents: 700 });
    await assert.rejects(() => ctx.db.query('UPDATE ledger_postings SET amount_cents = amount_cents + 1'), /insert-only/);
    await assert.rejects(() => ctx.db.query('DELETE FROM ledger_transactions'), /insert-only/);
    await ctx.db.query('UPDATE wallets SET balance_cents = balance_cents + 1 WHERE customer_id = $1', [customer.id]);
    const report = await verifyLedger(ctx.db);
    assert.equal(report.ok, false);
    assert.ok(report.problems.some((p) => p.kind === 'wallet_mismatch' && p.customerId === customer.id));
    await ctx.db.query('UPDATE wallets SET balance_cents = balance_cents - 1 WHERE customer_id = $1', [customer.id]);
    assert.ok((await verifyLedger(ctx.db)).ok);
  });

  test('R5: 50 concurrent orders on one wallet holding credit for 7: exactly 7 complete, balance 0', async () => {
    const { ctx } = use();
    const { customer, mailbox } = await holderWithMailbox(ctx, { creditCents: 7 * 300 });
    const results = await Promise.all(Array.from({ length: 50 }, () => placeExtraSpaceOrder(ctx, customer.id, mailbox.id, 1)));
    const statuses = results.map((r) => r.order.status);
    assert.equal(statuses.filter((s) => s === 'completed').length, 7);
    assert.equal(statuses.filter((s) => s === 'awaiting_topup').length, 43);
    assert.equal(await readBalance(ctx.db, customer.id), 0);
    assert.equal((await space(mailbox.id)).extraGb, 7);
    assert.equal((await readStatement(ctx, customer.id)).transactions.filter((t) => t.kind === 'purchase').length, 7);
    assert.ok((await verifyLedger(ctx.db)).ok);
  });
});
