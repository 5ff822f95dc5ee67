// src/domain/holder-renewals.ts: a holder's renewals in the daily job's order (R7.3, R7.6), the one
// plan behind the job's decisions, the expiry alerts (R10), the dashboard's outlook and the forecast.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { date } from '../../src/domain/calendar.ts';
import { DEFAULT_CATALOGUE } from '../../src/domain/catalogue.ts';
import { cents } from '../../src/domain/money.ts';
import { dueRenewals, planHolderRenewals, topupForShortfall, type HolderMailbox } from '../../src/domain/holder-renewals.ts';

const C = DEFAULT_CATALOGUE;
const E = date('2026-12-01');
const box = (address: string, over: Partial<HolderMailbox> = {}): HolderMailbox => ({
  address,
  type: 'standard',
  status: 'active',
  expiresOn: E,
  autoRenew: true,
  extraSpaceAutoRenew: true,
  addon: null,
  ...over,
});
const gb = (quantityGb: number, activeUntil = E) => ({ quantityGb, status: 'active' as const, activeUntil });
const outcomes = (mailboxes: HolderMailbox[], balance: number, today = E, until = today) =>
  planHolderRenewals(dueRenewals(mailboxes, today, until, C), cents(balance)).renewals.map((r) => `${r.address} ${r.service} ${r.reason ?? 'renewed'}`);

describe('R7.3: every due mailbox of the holder first, then extra space', () => {
  const issue = [box('a@pec.test', { addon: gb(2) }), box('b@pec.test')];
  test('11 €: both mailboxes (5 € each), then the 2 GB (6 €) lack credit', () => {
    assert.deepEqual(outcomes(issue, 1100), ['a@pec.test mailbox renewed', 'b@pec.test mailbox renewed', 'a@pec.test extra_inbox_space insufficient_credit']);
  });
  test('16 €: everything; 4,99 €: nothing, and the extra space goes with its mailbox', () => {
    assert.deepEqual(outcomes(issue, 1600), ['a@pec.test mailbox renewed', 'b@pec.test mailbox renewed', 'a@pec.test extra_inbox_space renewed']);
    assert.deepEqual(outcomes(issue, 499), [
      'a@pec.test mailbox insufficient_credit',
      'b@pec.test mailbox insufficient_credit',
      'a@pec.test extra_inbox_space mailbox_expired',
    ]);
  });
  test('earliest E first, then address, whatever the order given', () => {
    const boxes = [box('z@pec.test', { expiresOn: date('2026-11-20') }), box('b@pec.test'), box('a@pec.test')];
    assert.deepEqual(outcomes(boxes, 1000, E), ['z@pec.test mailbox renewed', 'a@pec.test mailbox renewed', 'b@pec.test mailbox insufficient_credit']);
  });
  test('R7.6: extra space paid until before E comes after the mailboxes due the same day', () => {
    const boxes = [box('a@pec.test', { expiresOn: date('2027-12-01'), addon: gb(2, E) }), box('b@pec.test')];
    assert.deepEqual(outcomes(boxes, 700), ['b@pec.test mailbox renewed', 'a@pec.test extra_inbox_space insufficient_credit']);
  });
  test('on different days (the alerts and the dashboard): each day its own run, earlier days first', () => {
    const today = date('2026-11-01');
    const boxes = [box('a@pec.test', { expiresOn: date('2026-11-20'), addon: gb(2, date('2026-11-20')) }), box('b@pec.test')];
    assert.deepEqual(outcomes(boxes, 1100, today, E), ['a@pec.test mailbox renewed', 'a@pec.test extra_inbox_space renewed', 'b@pec.test mailbox insufficient_credit']);
  });
});

describe('what the credit needs', () => {
  test('needed: everything not switched off; shortfall: needed − balance', () => {
    const boxes = [box('a@pec.test', { addon: gb(2) }), box('b@pec.test', { autoRenew: false, addon: gb(5) }), box('c@pec.test', { extraSpaceAutoRenew: false, addon: gb(1) })];
    const plan = planHolderRenewals(dueRenewals(boxes, E, E, C), cents(700));
    // a 5 + 6, c 5; b is off and its 5 GB go with it; c's 1 GB is off.
    assert.equal(plan.neededCents, 1600);
    assert.equal(plan.shortfallCents, 900);
    assert.equal(plan.chargedCents, 500);
    assert.equal(plan.balanceAfterCents, 200);
    assert.deepEqual(
      plan.renewals.map((r) => [r.address, r.service, r.wanted, r.reason, r.missingCents]),
      [
        ['a@pec.test', 'mailbox', true, null, 0],
        ['b@pec.test', 'mailbox', false, 'auto_renew_off', 0],
        ['c@pec.test', 'mailbox', true, 'insufficient_credit', 300],
        ['a@pec.test', 'extra_inbox_space', true, 'insufficient_credit', 400],
        ['b@pec.test', 'extra_inbox_space', false, 'mailbox_expired', 0],
        ['c@pec.test', 'extra_inbox_space', false, 'mailbox_expired', 0],
      ],
    );
  });
  test('expired and terminated mailboxes, and what falls due after `until`, are not planned', () => {
    const boxes = [box('a@pec.test', { status: 'expired' }), box('b@pec.test', { status: 'terminated' }), box('c@pec.test', { expiresOn: date('2026-12-02') })];
    assert.deepEqual(dueRenewals(boxes, date('2026-11-01'), E, C), []);
  });
  test('the top-up: shortfall plus waiting orders (R5), within the minimum and the maximum', () => {
    assert.equal(topupForShortfall(cents(0), cents(900), C), 0);
    assert.equal(topupForShortfall(cents(50), cents(0), C), C.topupMinCents);
    assert.equal(topupForShortfall(cents(900), cents(300), C), 1200);
    assert.equal(topupForShortfall(cents(C.topupMaxCents), cents(300), C), C.topupMaxCents);
  });
  test('R18: credit arriving on a day (a card charge) is spent only by renewals settled that day or later', () => {
    const today = date('2026-11-01');
    const boxes = [box('z@pec.test', { expiresOn: date('2026-11-20') }), box('a@pec.test')];
    const plan = planHolderRenewals(dueRenewals(boxes, today, E, C), cents(0), [{ on: date('2026-11-24'), cents: cents(500) }]);
    assert.deepEqual(plan.renewals.map((r) => [r.address, r.reason, r.balanceAfterCents]), [['z@pec.test', 'insufficient_credit', 0], ['a@pec.test', null, 0]]);
    assert.deepEqual([plan.chargedCents, plan.neededCents, plan.balanceAfterCents], [500, 1000, 0]);
    // A top-up now must pay z, whose turn comes before the 5 € arrive: 5 €, not 10 € − 5 € − 0.
    assert.equal(plan.shortfallCents, 500);
    // Arriving on the renewal's own day counts (the job charges cards before it renews).
    const sameDay = planHolderRenewals(dueRenewals([box('a@pec.test')], today, E, C), cents(0), [{ on: E, cents: cents(500) }]);
    assert.deepEqual([sameDay.renewals[0]!.reason, sameDay.shortfallCents], [null, 0]);
    // Arriving after every renewal: kept, not spent.
    const after = planHolderRenewals(dueRenewals([box('a@pec.test')], today, E, C), cents(0), [{ on: date('2026-12-02'), cents: cents(500) }]);
    assert.deepEqual([after.renewals[0]!.reason, after.balanceAfterCents, after.shortfallCents], ['insufficient_credit', 500, 500]);
  });
});
