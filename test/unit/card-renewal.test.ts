// R18: the card charge of a renewal through the holder's plan (planHolderRenewals), what the cards
// will add for the alerts, the dashboard and the forecast, and when a card will pay: tables of cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { date } from '../../src/domain/calendar.ts';
import { DEFAULT_CATALOGUE } from '../../src/domain/catalogue.ts';
import {
  cardChargeDays,
  cardChargeFor,
  cardExpiresBefore,
  cardRenewalStanding,
  nextRetryOn,
  planWithCards,
  retriedOffSession,
  type CardRenewalFacts,
} from '../../src/domain/card-renewal.ts';
import { dueRenewals, type HolderMailbox } from '../../src/domain/holder-renewals.ts';
import { cents } from '../../src/domain/money.ts';

const C = DEFAULT_CATALOGUE; // standard 5 €, pro 25 €, 3 € per GB; minimum top-up 1 €
const E = date('2026-12-01');
const CHARGE_DAY = date('2026-11-24'); // E − 7
const box = (address: string, over: Partial<HolderMailbox> = {}): HolderMailbox => ({
  address, type: 'standard', status: 'active', expiresOn: E, autoRenew: true, extraSpaceAutoRenew: true, addon: null, ...over,
});
const gb = (quantityGb: number, activeUntil = E) => ({ quantityGb, status: 'active' as const, activeUntil });
const limits = { topupMinCents: C.topupMinCents, topupMaxCents: C.topupMaxCents };

test('R18 item 3: the card pays what the renewal (mailbox, then its extra space) needs beyond what the renewals before it leave, at least the minimum top-up', () => {
  const cases: { name: string; boxes: HolderMailbox[]; balance: number; covered?: number[]; until?: string; expect: number; limits?: typeof limits }[] = [
    { name: 'no credit: the mailbox, 5 €', boxes: [box('a@x')], balance: 0, expect: 500 },
    { name: 'the credit covers it: nothing', boxes: [box('a@x')], balance: 500, expect: 0 },
    { name: 'short by 0,50 €: the minimum top-up, 1 €', boxes: [box('a@x')], balance: 450, expect: 100 },
    { name: 'the mailbox and its 2 GB renewing with it', boxes: [box('a@x', { addon: gb(2) })], balance: 0, expect: 1100 },
    { name: 'its extra space switched off: the mailbox only', boxes: [box('a@x', { addon: gb(2), extraSpaceAutoRenew: false })], balance: 0, expect: 500 },
    {
      name: 'another mailbox due earlier takes 5 € of 7 € first',
      boxes: [box('a@x', { addon: gb(2) }), box('b@x', { expiresOn: date('2026-11-28') })], balance: 700, expect: 900,
    },
    {
      name: 'R7.6: extra space of another mailbox ending before E takes its 6 € first',
      boxes: [box('a@x'), box('c@x', { expiresOn: date('2027-06-01'), addon: gb(2, date('2026-11-30')) })], balance: 700, expect: 400,
    },
    {
      name: 'same day: every mailbox before any extra space (R7.3), so b is paid before our 1 GB',
      boxes: [box('a@x', { addon: gb(1) }), box('b@x')], balance: 1000, expect: 300,
    },
    { name: 'same day, the other mailbox ordered first by address', boxes: [box('b@x'), box('a@x')], balance: 500, expect: 500 },
    { name: 'a renewal due after E does not count', boxes: [box('a@x'), box('b@x', { type: 'pro', expiresOn: date('2026-12-05') })], balance: 500, expect: 0 },
    {
      name: 'an earlier renewal the credit cannot pay spends nothing',
      boxes: [box('a@x'), box('b@x', { type: 'pro', expiresOn: date('2026-11-28') })], balance: 400, expect: 100,
    },
    {
      // 11 €: a (5 €) leaves 6 €, b (5 €) takes them, our 2 GB (6 €) lack 5 €: the card covers b too.
      name: 'added credit lets a mailbox ordered between ours renew, and the card covers it too',
      boxes: [box('a@x', { addon: gb(2) }), box('b@x')], balance: 0, expect: 1600,
    },
    {
      // 8 €: a (5 €) leaves 3 €, too little for b, so our 1 GB (3 €) renews.
      name: 'the mailbox between ours stays unaffordable: only ours are paid',
      boxes: [box('a@x', { addon: gb(1) }), box('b@x')], balance: 0, expect: 800,
    },
    {
      name: 'a mailbox whose card charge is made keeps its money (one charge per period)',
      boxes: [box('a@x'), box('b@x', { expiresOn: date('2026-12-03') })], balance: 500, covered: [1], until: '2026-12-03', expect: 500,
    },
    {
      name: 'capped at the maximum top-up',
      boxes: [box('a@x', { type: 'pro' })], balance: 0, expect: 1000, limits: { topupMinCents: cents(100), topupMaxCents: cents(1000) },
    },
  ];
  for (const c of cases) {
    const due = dueRenewals(c.boxes, CHARGE_DAY, date(c.until ?? '2026-12-01'), C);
    const got = cardChargeFor({ due, balanceCents: cents(c.balance), covered: new Set(c.covered ?? []), target: 0, chargeOn: CHARGE_DAY, limits: c.limits ?? limits });
    assert.equal(got, c.expect, c.name);
  }
});

test('R18 item 5: the plan counts what the cards will add, each charge from its own day', () => {
  // 2 € of credit, a renewing by card: the card adds 3 € on 24 November and a renews.
  const withCard = planWithCards(dueRenewals([box('a@x')], date('2026-11-01'), E, C), cents(200), { inFlight: [], covered: [], toCharge: [{ mailboxIndex: 0, chargeOn: CHARGE_DAY, periodEndsOn: E }] }, date('2026-11-01'), limits);
  assert.equal(withCard.plan.shortfallCents, 0);
  assert.equal(withCard.plan.renewals[0]!.renewed, true);
  assert.deepEqual([withCard.charges.get(0)?.on.toString(), withCard.charges.get(0)?.cents, withCard.cardCents], ['2026-11-24', 300, 300]);
  // Without the card (expired by then, removed, failed for good): 3 € short.
  const without = planWithCards(dueRenewals([box('a@x')], date('2026-11-01'), E, C), cents(200), { inFlight: [], covered: [], toCharge: [] }, date('2026-11-01'), limits);
  assert.deepEqual([without.plan.shortfallCents, without.plan.renewals[0]!.reason, without.cardCents], [300, 'insufficient_credit', 0]);
  // z (no card) falls due on 20 November, before a's charge day: the card's money comes too late for it.
  const boxes = [box('a@x'), box('z@x', { expiresOn: date('2026-11-20') })];
  const late = planWithCards(dueRenewals(boxes, date('2026-11-01'), E, C), cents(0), { inFlight: [], covered: [], toCharge: [{ mailboxIndex: 0, chargeOn: CHARGE_DAY, periodEndsOn: E }] }, date('2026-11-01'), limits);
  assert.deepEqual(late.plan.renewals.map((r) => `${r.address} ${r.reason ?? 'renewed'}`), ['z@x insufficient_credit', 'a@x renewed']);
  assert.equal(late.charges.get(0)?.cents, 500);
  assert.equal(late.plan.shortfallCents, 500, 'a top-up now renews z too');
  // A charge in flight is credit now, and its mailbox keeps it.
  const flying = planWithCards(dueRenewals([box('a@x')], CHARGE_DAY, E, C), cents(0), { inFlight: [{ mailboxIndex: 0, cents: cents(500) }], covered: [0], toCharge: [] }, CHARGE_DAY, limits);
  assert.deepEqual([flying.plan.shortfallCents, flying.cardCents], [0, 500]);
});

test('R18: whether the card will pay this period, as the charge step will decide', () => {
  const facts = (over: Partial<CardRenewalFacts> = {}): CardRenewalFacts => ({
    expiresOn: E, card: { expMonth: 12, expYear: 2030, removed: false }, billable: true, charge: null, ...over,
  });
  const charge = (state: 'claimed' | 'succeeded' | 'failed' | 'requires_action', topupStatus: 'pending' | 'succeeded' | 'failed', nextRetryOn: string | null = null) =>
    ({ state, topupStatus, nextRetryOn: nextRetryOn ? date(nextRetryOn) : null, amountCents: cents(300) });
  const cases: [string, CardRenewalFacts, string, string][] = [
    ['not yet charged: on E − 7', facts(), '2026-11-01', 'to_charge 2026-11-24'],
    ['charge day passed (job missed): today', facts(), '2026-11-26', 'to_charge 2026-11-26'],
    ['good through its expiry month', facts({ card: { expMonth: 11, expYear: 2026, removed: false } }), '2026-11-01', 'to_charge 2026-11-24'],
    ['expired by the charge day', facts({ card: { expMonth: 10, expYear: 2026, removed: false } }), '2026-11-01', 'will_not_pay card_expired'],
    ['removed', facts({ card: { expMonth: 12, expYear: 2030, removed: true } }), '2026-11-01', 'will_not_pay card_removed'],
    ['no billing data: no charge is taken (R15)', facts({ billable: false }), '2026-11-01', 'will_not_pay no_billing_data'],
    ['in flight', facts({ charge: charge('claimed', 'pending') }), '2026-11-24', 'in_flight'],
    ['paid', facts({ charge: charge('succeeded', 'succeeded') }), '2026-11-24', 'paid'],
    ['failed, retried at E − 3', facts({ charge: charge('failed', 'failed', '2026-11-28') }), '2026-11-25', 'to_charge 2026-11-28'],
    ['failed, no retry left', facts({ charge: charge('failed', 'failed') }), '2026-11-30', 'will_not_pay failed'],
    ['waiting for the holder to authenticate: not retried off-session', facts({ charge: charge('requires_action', 'pending') }), '2026-11-25', 'will_not_pay awaiting_authentication'],
    ['authenticated by the holder: paid', facts({ charge: charge('requires_action', 'succeeded') }), '2026-11-25', 'paid'],
    ['E passed: the renewal is the job\'s now', facts(), '2026-12-02', 'will_not_pay overdue'],
  ];
  for (const [name, f, today, expect] of cases) {
    const s = cardRenewalStanding(f, date(today), 7);
    const got = s.kind === 'to_charge' ? `to_charge ${s.chargeOn}` : s.kind === 'will_not_pay' ? `will_not_pay ${s.why}` : s.kind;
    assert.equal(got, expect, name);
  }
  assert.equal(retriedOffSession('card_declined'), true);
  assert.equal(retriedOffSession('insufficient_funds'), true);
  assert.equal(retriedOffSession('authentication_required'), false);
});

test('R18: charge 7 days before E, retries at E−3 and E−1', () => {
  const e = date('2026-12-01');
  const days = cardChargeDays(e, 7);
  assert.equal(days.firstOn.toString(), '2026-11-24');
  assert.deepEqual(days.retriesOn.map(String), ['2026-11-28', '2026-11-30']);
  assert.equal(nextRetryOn(e, 7, date('2026-11-24'))?.toString(), '2026-11-28');
  assert.equal(nextRetryOn(e, 7, date('2026-11-28'))?.toString(), '2026-11-30');
  assert.equal(nextRetryOn(e, 7, date('2026-11-30')), null);
  // March 1 in a leap year: 7 days before is 23 February.
  assert.equal(cardChargeDays(date('2028-03-01'), 7).firstOn.toString(), '2028-02-23');
});

test('R18: a card is good through the end of its expiry month', () => {
  assert.equal(cardExpiresBefore({ expMonth: 11, expYear: 2026 }, date('2026-11-30')), false);
  assert.equal(cardExpiresBefore({ expMonth: 11, expYear: 2026 }, date('2026-12-01')), true);
  assert.equal(cardExpiresBefore({ expMonth: 12, expYear: 2026 }, date('2027-01-24')), true);
  assert.equal(cardExpiresBefore({ expMonth: 1, expYear: 2027 }, date('2027-01-24')), false);
});
