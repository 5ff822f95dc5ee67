// The warnings of the holder's pages (issue 15 item 1): standing badges, space level, and the
// credit the renewals of the next 90 days need, from the daily job's own renewal plans.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { date } from '../../src/domain/calendar.ts';
import { BYTES_PER_GB, DEFAULT_CATALOGUE } from '../../src/domain/catalogue.ts';
import { cents } from '../../src/domain/money.ts';
import type { HolderMailbox } from '../../src/domain/holder-renewals.ts';
import { creditOutlook, mailboxStanding, spaceLevel } from '../../src/domain/outlook.ts';

const C = DEFAULT_CATALOGUE;
const today = date('2026-06-10');
const mailbox = (over: Partial<HolderMailbox> = {}): HolderMailbox => ({
  address: 'a@pec.test',
  type: 'standard',
  status: 'active',
  expiresOn: date('2026-08-01'),
  autoRenew: true,
  extraSpaceAutoRenew: true,
  addon: null,
  ...over,
});

describe('mailbox standing', () => {
  const cases: [string, Partial<HolderMailbox>, unknown][] = [
    ['more than 90 days left: plain active', { expiresOn: date('2026-09-09') }, { kind: 'active' }],
    ['exactly 90 days left: expiring', { expiresOn: date('2026-09-08') }, { kind: 'expiring', daysLeft: 90 }],
    ['expiring today', { expiresOn: today }, { kind: 'expiring', daysLeft: 0 }],
    ['still active past E (the job has not run yet): today', { expiresOn: date('2026-06-09') }, { kind: 'expiring', daysLeft: 0 }],
    ['R8: expired, renewable until E + 90 days', { status: 'expired', expiresOn: date('2026-06-01') }, { kind: 'expired', renewableUntil: date('2026-08-30') }],
    ['terminated', { status: 'terminated' }, { kind: 'terminated' }],
  ];
  for (const [name, over, expected] of cases) {
    test(name, () => assert.deepEqual(mailboxStanding(mailbox(over), today, C), expected));
  }
});

describe('R11 space level on the page', () => {
  const total = BYTES_PER_GB;
  test('under 80 %: nothing to say', () => assert.deepEqual(spaceLevel(Math.floor(total * 0.799), total, C), { kind: 'ok' }));
  test('at 80 %: nearly full', () => assert.deepEqual(spaceLevel(total * 0.8, total, C), { kind: 'nearly_full', percent: 80 }));
  test('at 99.9 %: nearly full, never rounded up to 100', () => assert.deepEqual(spaceLevel(total - 1000, total, C), { kind: 'nearly_full', percent: 99 }));
  test('at the total: full, new messages are refused', () => assert.deepEqual(spaceLevel(total, total, C), { kind: 'full' }));
  test('over the total (space fell back to base): full', () => assert.deepEqual(spaceLevel(3 * total, total, C), { kind: 'full' }));
});

describe('credit for the renewals of the next 90 days', () => {
  test('two mailboxes and their extra space, short by what the balance lacks', () => {
    const boxes = [
      mailbox({ expiresOn: date('2026-08-01'), addon: { quantityGb: 2, status: 'active', activeUntil: date('2026-08-01') } }),
      mailbox({ type: 'pro', expiresOn: date('2026-09-08') }),
      mailbox({ expiresOn: date('2026-09-09') }), // day 91: not yet
    ];
    const o = creditOutlook(boxes, cents(1000), cents(0), today, C);
    // 5,00 + 2 × 3,00 + 25,00 = 36,00 €; the balance has 10,00 €.
    assert.equal(o.dueCents, 3600);
    assert.equal(o.shortfallCents, 2600);
    assert.equal(o.topupCents, 2600);
    assert.deepEqual(o.renewals.map((r) => [r.mailboxIndex, r.service, r.priceCents]), [
      [0, 'mailbox', 500],
      [0, 'extra_inbox_space', 600],
      [1, 'mailbox', 2500],
    ]);
  });

  test('what the holder switched off, and expired or terminated mailboxes, need no credit', () => {
    const boxes = [
      mailbox({ autoRenew: false }),
      mailbox({ extraSpaceAutoRenew: false, addon: { quantityGb: 5, status: 'active', activeUntil: date('2026-08-01') } }),
      mailbox({ status: 'expired', expiresOn: date('2026-06-01') }),
      mailbox({ status: 'terminated', expiresOn: date('2026-01-01') }),
    ];
    const o = creditOutlook(boxes, cents(0), cents(0), today, C);
    assert.equal(o.dueCents, 500);
    assert.equal(o.shortfallCents, 500);
  });

  test('R7.5: extra space ending before its mailbox renews on its own end', () => {
    const o = creditOutlook(
      [mailbox({ expiresOn: date('2027-07-01'), addon: { quantityGb: 1, status: 'active', activeUntil: date('2026-07-01') } })],
      cents(0),
      cents(0),
      today,
      C,
    );
    assert.deepEqual(o.renewals.map((r) => [r.on.toString(), r.service, r.priceCents]), [['2026-07-01', 'extra_inbox_space', 300]]);
  });

  test('a covered balance: nothing missing, no top-up', () => {
    const o = creditOutlook([mailbox()], cents(500), cents(0), today, C);
    assert.equal(o.shortfallCents, 0);
    assert.equal(o.topupCents, 0);
  });

  test('R5: the top-up adds waiting orders (they settle first) and is at least the minimum', () => {
    assert.equal(creditOutlook([mailbox()], cents(450), cents(0), today, C).topupCents, 100);
    assert.equal(creditOutlook([mailbox()], cents(0), cents(900), today, C).topupCents, 1400);
  });
});
