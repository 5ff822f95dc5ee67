// src/domain/order-plan.ts, planAddonRenewal and the renewal plan's add-on rules: an order charges
// for exactly what it extends and extends exactly what it charged for (issue 12, item 1).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { date } from '../../src/domain/calendar.ts';
import { DEFAULT_CATALOGUE } from '../../src/domain/catalogue.ts';
import { cents } from '../../src/domain/money.ts';
import type { MailboxFacts } from '../../src/domain/mailbox.ts';
import { planOrderCompletion, planRenewalOrder, type OrderTerms } from '../../src/domain/order-plan.ts';
import { quoteExtraSpace } from '../../src/domain/pricing.ts';
import { planAddonRenewal, planRenewal } from '../../src/domain/renewal.ts';

const C = DEFAULT_CATALOGUE;
const E0 = date('2026-12-01');
const E1 = date('2027-12-01');
const mailbox = (over: Partial<MailboxFacts> = {}): MailboxFacts => ({
  type: 'standard',
  status: 'active',
  expiresOn: E0,
  autoRenew: true,
  extraSpaceAutoRenew: true,
  addon: null,
  ...over,
});
const addon = (quantityGb: number, activeUntil = E0, status: 'active' | 'deactivated' = 'active') => ({ quantityGb, activeUntil, status });
const renewal = (quantityGb: number, amountCents: number, periodEndsOn = E0): OrderTerms => ({ kind: 'renewal', quantityGb, amountCents: cents(amountCents), periodEndsOn });
const extraSpace = (quantityGb: number, amountCents: number, periodEndsOn = E0): OrderTerms => ({
  kind: 'extra_inbox_space',
  quantityGb,
  amountCents: cents(amountCents),
  periodEndsOn,
});
const today = date('2026-10-10');

describe('placing a manual renewal (R9)', () => {
  test('the extra space ending at E is renewed with the mailbox and priced with it', () => {
    const t = planRenewalOrder(mailbox({ addon: addon(2) }), today, C);
    assert.ok(t.ok);
    assert.deepEqual([t.value.quantityGb, t.value.amountCents, t.value.activeUntil.toString()], [2, 1100, '2027-12-01']);
  });
  test('extra space ending before E (bought after an earlier renewal was priced) is not part of it', () => {
    const t = planRenewalOrder(mailbox({ expiresOn: E1, addon: addon(5, E0) }), date('2027-10-01'), C);
    assert.ok(t.ok);
    assert.deepEqual([t.value.quantityGb, t.value.amountCents], [0, 500]);
  });
  test('extra space whose renewal the holder switched off is left out, as the mailbox card’s total leaves it out (R7.2)', () => {
    const t = planRenewalOrder(mailbox({ addon: addon(10), extraSpaceAutoRenew: false }), today, C);
    assert.ok(t.ok);
    assert.deepEqual([t.value.quantityGb, t.value.amountCents], [0, 500]);
  });
  test('before the window opens it is refused with the opening day', () => {
    const t = planRenewalOrder(mailbox(), date('2026-09-01'), C);
    assert.deepEqual(t, { ok: false, error: { code: 'too_early', opensOn: date('2026-09-02') } });
  });
});

describe('completing a renewal that waited for a top-up (R5, R7.5, R9)', () => {
  test('priced without extra space, 50 GB bought free since: renews the mailbox only; the 50 GB keep their own end', () => {
    const plan = planOrderCompletion(renewal(0, 500), mailbox({ addon: addon(50) }), today, C);
    assert.ok(plan.ok);
    assert.equal(plan.value.chargeCents, 500);
    assert.equal(plan.value.newExpiresOn?.toString(), '2027-12-01');
    assert.equal(plan.value.addon, null);
    assert.deepEqual(plan.value.renewedPeriods.map((r) => r.service), ['mailbox']);
  });
  test('priced with 1 GB, 10 more GB bought since: refused (it would extend 11 GB for the price of 1)', () => {
    assert.deepEqual(planOrderCompletion(renewal(1, 800), mailbox({ addon: addon(11) }), today, C), { ok: false, error: 'extra_space_changed' });
  });
  test('priced with 2 GB, the mailbox expired and the 2 GB were deactivated: refused, nothing charged', () => {
    const expired = mailbox({ status: 'expired', addon: addon(2, E0, 'deactivated') });
    assert.deepEqual(planOrderCompletion(renewal(2, 1100), expired, date('2026-12-05'), C), { ok: false, error: 'extra_space_changed' });
  });
  test('priced with 2 GB and still 2 GB: mailbox and extra space renewed a year, split by revenue account', () => {
    const plan = planOrderCompletion(renewal(2, 1100), mailbox({ addon: addon(2) }), today, C);
    assert.ok(plan.ok);
    assert.deepEqual(plan.value.revenue, { mailboxCents: 500, extraSpaceCents: 600 });
    assert.deepEqual(plan.value.addon, { quantityGb: 2, activeUntil: E1 });
    assert.deepEqual(plan.value.renewedPeriods.map((r) => [r.service, r.periodEndsOn.toString(), r.amountCents]), [
      ['mailbox', '2026-12-01', 500],
      ['extra_inbox_space', '2026-12-01', 600],
    ]);
  });
  test('priced with 10 GB, their renewal switched off since: refused, not charged for space the holder let go', () => {
    assert.deepEqual(planOrderCompletion(renewal(10, 3500), mailbox({ addon: addon(10), extraSpaceAutoRenew: false }), today, C), {
      ok: false,
      error: 'extra_space_changed',
    });
  });
  test('the period was renewed meanwhile: refused', () => {
    assert.deepEqual(planOrderCompletion(renewal(0, 500), mailbox({ expiresOn: E1 }), today, C), { ok: false, error: 'period_already_renewed' });
  });
  test('past the grace: refused', () => {
    assert.deepEqual(planOrderCompletion(renewal(0, 500), mailbox({ status: 'expired' }), date('2027-03-02'), C), { ok: false, error: 'not_renewable' });
  });
});

describe('completing extra space that waited for a top-up (R4, R5, R7.5)', () => {
  test('priced on E0, the mailbox renewed by hand meanwhile: the GB run to E0, the period paid, not to the new E', () => {
    const plan = planOrderCompletion(extraSpace(5, 1500), mailbox({ expiresOn: E1 }), date('2026-06-10'), C);
    assert.ok(plan.ok);
    assert.deepEqual(plan.value.addon, { quantityGb: 5, activeUntil: E0 });
    assert.equal(plan.value.activeUntil.toString(), '2026-12-01');
  });
  test('joins active GB ending on the same day', () => {
    const plan = planOrderCompletion(extraSpace(3, 0), mailbox({ addon: addon(2) }), today, C);
    assert.ok(plan.ok);
    assert.deepEqual(plan.value.addon, { quantityGb: 5, activeUntil: E0 });
  });
  test('the add-on was renewed to another end meanwhile: refused (GB of one add-on share one end)', () => {
    assert.deepEqual(planOrderCompletion(extraSpace(3, 900), mailbox({ expiresOn: E1, addon: addon(2, E1) }), today, C), {
      ok: false,
      error: 'extra_space_changed',
    });
  });
  test('the period it was priced on is over: refused', () => {
    assert.deepEqual(planOrderCompletion(extraSpace(3, 0), mailbox({ expiresOn: E1 }), date('2026-12-01'), C), { ok: false, error: 'period_over' });
  });
  test('the mailbox expired: refused', () => {
    assert.deepEqual(planOrderCompletion(extraSpace(3, 0), mailbox({ status: 'expired' }), today, C), { ok: false, error: 'mailbox_not_active' });
  });
  test('more than 50 GB in all: refused', () => {
    assert.deepEqual(planOrderCompletion(extraSpace(10, 0), mailbox({ addon: addon(45) }), today, C), { ok: false, error: 'limit_exceeded' });
  });
});

describe('extra space ending before its mailbox (R7.5)', () => {
  const split = mailbox({ expiresOn: E1, addon: addon(5, E0) });
  test('more GB are priced on the add-on’s own end: three months or less before it, free', () => {
    const q = quoteExtraSpace(split, 2, date('2026-10-10'), C);
    assert.ok(q.ok);
    assert.deepEqual([q.value.rule, q.value.amountCents, q.value.activeUntil.toString()], ['free_until_expiry', 0, '2026-12-01']);
  });
  test('on its end day it cannot be added to before the daily job renews or ends it', () => {
    assert.deepEqual(quoteExtraSpace(split, 2, E0, C), { ok: false, error: { code: 'extra_space_due' } });
  });
  test('renewed on its own end from credit, for a year, which brings it back to the mailbox’s E', () => {
    const plan = planAddonRenewal(split, cents(2000), C);
    assert.deepEqual([plan.outcome, plan.chargedCents, plan.balanceAfterCents, plan.newActiveUntil?.toString()], ['renewed', 1500, 500, '2027-12-01']);
  });
  test('deactivated without credit, or with its renewal switched off', () => {
    assert.deepEqual([planAddonRenewal(split, cents(1499), C).outcome, planAddonRenewal(split, cents(1499), C).missingCents], ['deactivated', 1]);
    assert.equal(planAddonRenewal({ ...split, extraSpaceAutoRenew: false }, cents(10_000), C).reason, 'auto_renew_off');
  });
  test('the mailbox’s own renewal at E does not renew it again', () => {
    const plan = planRenewal(mailbox({ expiresOn: E1, addon: addon(5, E0) }), cents(10_000), C, E1);
    assert.deepEqual([plan.addon.outcome, plan.chargedCents], ['none', 500]);
  });
  test('an add-on past its mailbox’s E is a broken invariant, not a plan', () => {
    assert.throws(() => planRenewal(mailbox({ addon: addon(5, E1) }), cents(10_000), C, E0), /invariant/);
  });
});

describe('catch-up of missed renewals is bounded (issue 12, item 2)', () => {
  test('a mailbox overdue by more than two years expires instead of paying every missed year', () => {
    const plan = planRenewal(mailbox({ expiresOn: date('0001-01-01') }), cents(1_000_000), C, date('2026-11-30'));
    assert.deepEqual([plan.mailbox.outcome, plan.mailbox.reason, plan.chargedCents], ['expired', 'overdue_too_long', 0]);
  });
  test('one overdue by a year and a half is still caught up', () => {
    assert.equal(planRenewal(mailbox({ expiresOn: date('2025-06-01') }), cents(500), C, date('2026-11-30')).mailbox.outcome, 'renewed');
  });
});
