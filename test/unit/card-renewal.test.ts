// R18: the card charge of a renewal, as a table of cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { date } from '../../src/domain/calendar.ts';
import { cardChargeDays, cardChargeFor, cardExpiresBefore, nextRetryOn, type DueService } from '../../src/domain/card-renewal.ts';
import { cents } from '../../src/domain/money.ts';

const svc = (mailboxId: string, dueOn: string, kind: DueService['kind'], price: number, address = mailboxId): DueService => ({
  mailboxId, address, dueOn: date(dueOn), kind, priceCents: cents(price),
});
const min = cents(100);
const max = cents(500_000);

test('R18: the card pays what the renewal needs beyond the balance, at least the minimum top-up', () => {
  const cases: { name: string; balance: number; services: DueService[]; target: string; due: string; expect: number }[] = [
    { name: 'no credit: mailbox 500', balance: 0, services: [svc('a', '2026-12-01', 'mailbox', 500)], target: 'a', due: '2026-12-01', expect: 500 },
    { name: 'credit covers it: nothing', balance: 500, services: [svc('a', '2026-12-01', 'mailbox', 500)], target: 'a', due: '2026-12-01', expect: 0 },
    { name: 'short by 50: the minimum top-up 100', balance: 450, services: [svc('a', '2026-12-01', 'mailbox', 500)], target: 'a', due: '2026-12-01', expect: 100 },
    { name: 'mailbox and its extra space', balance: 0, services: [svc('a', '2026-12-01', 'mailbox', 500), svc('a', '2026-12-01', 'extra_space', 600)], target: 'a', due: '2026-12-01', expect: 1100 },
    { name: 'an earlier renewal takes the credit first', balance: 600, services: [svc('b', '2026-11-20', 'mailbox', 500), svc('a', '2026-12-01', 'mailbox', 500)], target: 'a', due: '2026-12-01', expect: 400 },
    { name: 'a later renewal does not count', balance: 500, services: [svc('a', '2026-12-01', 'mailbox', 500), svc('b', '2026-12-05', 'mailbox', 2500)], target: 'a', due: '2026-12-01', expect: 0 },
    {
      name: 'same day: mailboxes first (R7.3), so the other mailbox is paid before our extra space',
      balance: 1000,
      services: [svc('a', '2026-12-01', 'mailbox', 500, 'a@x'), svc('a', '2026-12-01', 'extra_space', 300, 'a@x'), svc('b', '2026-12-01', 'mailbox', 500, 'b@x')],
      target: 'a', due: '2026-12-01', expect: 300,
    },
    {
      name: 'same day, the other mailbox ordered first by address',
      balance: 500,
      services: [svc('b', '2026-12-01', 'mailbox', 500, 'a@x'), svc('a', '2026-12-01', 'mailbox', 500, 'b@x')],
      target: 'a', due: '2026-12-01', expect: 500,
    },
    {
      name: 'an earlier renewal the credit cannot pay spends nothing',
      balance: 400,
      services: [svc('b', '2026-11-20', 'mailbox', 2500), svc('a', '2026-12-01', 'mailbox', 500)],
      target: 'a', due: '2026-12-01', expect: 100,
    },
    {
      name: 'extra credit lets a mailbox between ours renew too, and the card covers that as well',
      // 900: a (500), then b (100) which the added credit now covers, then a's extra space (300).
      balance: 0,
      services: [svc('a', '2026-12-01', 'mailbox', 500, 'a@x'), svc('b', '2026-12-01', 'mailbox', 100, 'b@x'), svc('a', '2026-12-01', 'extra_space', 300, 'a@x')],
      target: 'a', due: '2026-12-01', expect: 900,
    },
    {
      name: 'the mailbox between ours stays unaffordable: only ours are paid',
      balance: 0,
      services: [svc('a', '2026-12-01', 'mailbox', 500, 'a@x'), svc('b', '2026-12-01', 'mailbox', 500, 'b@x'), svc('a', '2026-12-01', 'extra_space', 300, 'a@x')],
      target: 'a', due: '2026-12-01', expect: 800,
    },
    { name: 'capped at the maximum top-up', balance: 0, services: [svc('a', '2026-12-01', 'mailbox', 600_000)], target: 'a', due: '2026-12-01', expect: 500_000 },
  ];
  for (const c of cases) {
    const got = cardChargeFor({ balanceCents: cents(c.balance), services: c.services, mailboxId: c.target, dueOn: date(c.due), topupMinCents: min, topupMaxCents: max });
    assert.equal(got, c.expect, c.name);
  }
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
