import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { addMonths, addYears, date, dateInRome, monthsRoundedUp, parseDate, startOfDayInRome } from '../../src/domain/calendar.ts';
import { addVat, cents, divideHalfUp, formatEuro, type VatRateBasisPoints } from '../../src/domain/money.ts';
import { buildCatalogue, CatalogueError, DEFAULT_CATALOGUE } from '../../src/domain/catalogue.ts';
import { quoteExtraSpace } from '../../src/domain/pricing.ts';
import { alertMilestoneDue } from '../../src/domain/alerts.ts';
import { evaluateUsage } from '../../src/domain/usage.ts';
import { planRenewal, manualRenewalAmount } from '../../src/domain/renewal.ts';
import { manualRenewalWindow, isPastGrace, type MailboxFacts } from '../../src/domain/mailbox.ts';
import { settle, settlementQueue } from '../../src/domain/settlement.ts';
import { longDate } from '../../src/i18n/format.ts';

const C = DEFAULT_CATALOGUE;
const mailbox = (over: Partial<MailboxFacts> = {}): MailboxFacts => ({
  type: 'standard',
  status: 'active',
  expiresOn: date('2026-12-01'),
  autoRenew: true,
  extraSpaceAutoRenew: true,
  addon: null,
  ...over,
});

describe('R2 calendar', () => {
  const cases: [string, (d: ReturnType<typeof date>) => ReturnType<typeof date>, string, string][] = [
    ['31 Jan + 1 month (leap year)', (d) => addMonths(d, 1), '2028-01-31', '2028-02-29'],
    ['31 Jan + 1 month', (d) => addMonths(d, 1), '2027-01-31', '2027-02-28'],
    ['30 Nov + 3 months, not leap', (d) => addMonths(d, 3), '2026-11-30', '2027-02-28'],
    ['30 Nov + 3 months, leap', (d) => addMonths(d, 3), '2027-11-30', '2028-02-29'],
    ['29 Feb + 1 year', (d) => addYears(d, 1), '2028-02-29', '2029-02-28'],
    ['31 Aug + 3 months', (d) => addMonths(d, 3), '2026-08-31', '2026-11-30'],
  ];
  for (const [name, op, from, to] of cases) test(name, () => assert.equal(op(date(from)).toString(), to));

  test('strict parsing', () => {
    assert.equal(parseDate('2026-02-30'), null);
    assert.equal(parseDate('2026-2-3'), null);
    assert.equal(parseDate('2026-02-28T00:00'), null);
    assert.equal(parseDate('2028-02-29')?.toString(), '2028-02-29');
  });

  test('today is the Rome calendar date, across midnight and DST nights', () => {
    assert.equal(dateInRome(Date.parse('2026-06-30T22:30:00Z')).toString(), '2026-07-01'); // 00:30 CEST
    assert.equal(dateInRome(Date.parse('2026-12-31T22:59:00Z')).toString(), '2026-12-31'); // 23:59 CET
    assert.equal(dateInRome(Date.parse('2026-03-28T23:00:00Z')).toString(), '2026-03-29'); // DST night
    assert.equal(startOfDayInRome(date('2026-03-29')), Date.parse('2026-03-28T23:00:00Z'));
    assert.equal(startOfDayInRome(date('2026-10-25')), Date.parse('2026-10-24T22:00:00Z'));
  });

  test('months rounded up', () => {
    assert.equal(monthsRoundedUp(date('2026-06-10'), date('2026-12-01')), 6);
    assert.equal(monthsRoundedUp(date('2026-06-01'), date('2026-12-01')), 6);
    assert.equal(monthsRoundedUp(date('2026-06-02'), date('2026-12-01')), 6);
    assert.equal(monthsRoundedUp(date('2026-05-31'), date('2026-12-01')), 7);
    assert.equal(monthsRoundedUp(date('2026-12-01'), date('2026-12-01')), 0);
  });

  test('Italian long dates', () => assert.equal(longDate(date('2027-11-20'), 'it'), '20 novembre 2027'));
});

describe('R1 money', () => {
  const vat22 = 2200 as VatRateBasisPoints;
  const cases: [number, number][] = [
    [100, 22],
    [1, 0], // 0.22 → 0
    [3, 1], // 0.66 → 1
    [25, 6], // 5.5 → 6 (half up)
    [125, 28], // 27.5 → 28
    [1337, 294], // 294.14
    [500000, 110000],
    [0, 0],
  ];
  for (const [net, vat] of cases) {
    test(`VAT 22% of ${net} cents is ${vat}`, () => {
      const s = addVat(cents(net), vat22);
      assert.equal(s.vatCents, vat);
      assert.equal(s.grossCents, net + vat);
    });
  }
  test('half-up division', () => {
    assert.equal(divideHalfUp(5, 2), 3);
    assert.equal(divideHalfUp(4, 3), 1);
    assert.equal(divideHalfUp(0, 12), 0);
  });
  test('cents refuse fractions', () => assert.throws(() => cents(1.5), RangeError));
  test('Italian format', () => {
    assert.equal(formatEuro(cents(1700)), '17,00 €');
    assert.equal(formatEuro(cents(123456789)), '1.234.567,89 €');
    assert.equal(formatEuro(cents(5), 'en'), '€0.05');
  });
});

describe('R4 price of extra space (E = 1 December)', () => {
  const E = date('2026-12-01');
  const cases: [string, string, string, number][] = [
    ['June: a full year', '2026-06-15', 'full_year', 900],
    ['10 October: free until expiry', '2026-10-10', 'free_until_expiry', 0],
    ['1 September: T+3 months = E, not before it: free', '2026-09-01', 'free_until_expiry', 0],
    ['31 August: T+3 months = 30 November < E: full year', '2026-08-31', 'full_year', 900],
    ['the day before E', '2026-11-30', 'free_until_expiry', 0],
  ];
  for (const [name, today, rule, amount] of cases) {
    test(name, () => {
      const q = quoteExtraSpace(mailbox({ expiresOn: E }), 3, date(today), C);
      assert.ok(q.ok);
      assert.equal(q.value.rule, rule);
      assert.equal(q.value.amountCents, amount);
      assert.equal(q.value.activeUntil.toString(), '2026-12-01');
      assert.equal(q.value.renewalAmountCents, 900);
    });
  }
  test('month-end expiry: E = 28 Feb, T = 30 Nov → 28 Feb is not before E: free', () => {
    const q = quoteExtraSpace(mailbox({ expiresOn: date('2027-02-28') }), 1, date('2026-11-30'), C);
    assert.ok(q.ok && q.value.rule === 'free_until_expiry');
  });
  test('month-end expiry: E = 1 Mar, T = 30 Nov → 28 Feb < 1 Mar: full year', () => {
    const q = quoteExtraSpace(mailbox({ expiresOn: date('2027-03-01') }), 1, date('2026-11-30'), C);
    assert.ok(q.ok && q.value.rule === 'full_year');
  });
  test('remaining_months: 6 months of 3 GB = 450 cents; ≤ 3 months stays free', () => {
    const rm = buildCatalogue({ extraSpace: { pricing: 'remaining_months' } });
    const q = quoteExtraSpace(mailbox({ expiresOn: E }), 3, date('2026-06-10'), rm);
    assert.ok(q.ok);
    assert.equal(q.value.rule, 'remaining_months');
    assert.equal(q.value.amountCents, 450);
    const q5 = quoteExtraSpace(mailbox({ expiresOn: E }), 1, date('2026-07-20'), rm); // 5 months: 125
    assert.ok(q5.ok && q5.value.amountCents === 125);
    const qFree = quoteExtraSpace(mailbox({ expiresOn: E }), 1, date('2026-10-10'), rm);
    assert.ok(qFree.ok && qFree.value.rule === 'free_until_expiry');
  });
  test('renewal amount includes GB already active', () => {
    const q = quoteExtraSpace(
      mailbox({ expiresOn: E, addon: { quantityGb: 5, status: 'active', activeUntil: E } }),
      2,
      date('2026-06-10'),
      C,
    );
    assert.ok(q.ok && q.value.renewalAmountCents === 2100 && q.value.amountCents === 600);
  });
  test('refusals: quantity, inactive mailbox, on E, the 50 GB limit', () => {
    for (const bad of [0, -1, 1.5, NaN]) assert.deepEqual(quoteExtraSpace(mailbox(), bad, date('2026-06-10'), C), { ok: false, error: { code: 'invalid_quantity' } });
    assert.equal((quoteExtraSpace(mailbox({ status: 'expired' }), 1, date('2026-06-10'), C) as any).error.code, 'mailbox_not_active');
    assert.equal((quoteExtraSpace(mailbox(), 1, date('2026-12-01'), C) as any).error.code, 'mailbox_not_active');
    assert.ok(quoteExtraSpace(mailbox(), 50, date('2026-06-10'), C).ok);
    const full = mailbox({ addon: { quantityGb: 48, status: 'active', activeUntil: E } });
    assert.deepEqual(quoteExtraSpace(full, 3, date('2026-06-10'), C), { ok: false, error: { code: 'limit_exceeded', maxGb: 50, currentGb: 48 } });
    // A deactivated add-on does not count against the limit.
    const gone = mailbox({ addon: { quantityGb: 48, status: 'deactivated', activeUntil: E } });
    assert.ok(quoteExtraSpace(gone, 50, date('2026-06-10'), C).ok);
  });
});

describe('R5 settlement', () => {
  test('covered: complete and debit', () => assert.deepEqual(settle(cents(900), cents(1000), cents(100)), { outcome: 'complete', chargeCents: 900, balanceAfterCents: 100 }));
  test('exactly covered', () => assert.equal(settle(cents(900), cents(900), cents(100)).outcome, 'complete'));
  test('free order completes with no credit', () => assert.equal(settle(cents(0), cents(0), cents(100)).outcome, 'complete'));
  test('short: shortfall and the minimum top-up', () => {
    assert.deepEqual(settle(cents(900), cents(850), cents(100)), { outcome: 'await_topup', shortfallCents: 50, topupRequiredCents: 100 });
    assert.deepEqual(settle(cents(900), cents(0), cents(100)), { outcome: 'await_topup', shortfallCents: 900, topupRequiredCents: 900 });
  });
  test('queue: the top-up’s own order first, then oldest first', () => {
    const w = [{ id: 'a' }, { id: 'b' }, { id: 'c' }];
    assert.deepEqual(settlementQueue(w, 'b').map((o) => o.id), ['b', 'a', 'c']);
    assert.deepEqual(settlementQueue(w, null).map((o) => o.id), ['a', 'b', 'c']);
  });
});

describe('R7 renewal plan', () => {
  const E = date('2026-12-01');
  const withAddon = mailbox({ expiresOn: E, addon: { quantityGb: 2, status: 'active', activeUntil: E } });
  test('credit for both: both renewed, E + 1 year', () => {
    const p = planRenewal(withAddon, cents(1100), C, E);
    assert.equal(p.mailbox.outcome, 'renewed');
    assert.equal(p.addon.outcome, 'renewed');
    assert.equal(p.chargedCents, 1100);
    assert.equal(p.balanceAfterCents, 0);
    assert.equal(p.newExpiresOn?.toString(), '2027-12-01');
  });
  test('credit for the mailbox only: extra space deactivated', () => {
    const p = planRenewal(withAddon, cents(700), C, E);
    assert.equal(p.mailbox.outcome, 'renewed');
    assert.equal(p.addon.outcome, 'deactivated');
    assert.equal(p.addon.reason, 'insufficient_credit');
    assert.equal(p.chargedCents, 500);
    assert.equal(p.missingCents, 400);
  });
  test('no credit: mailbox expires, extra space goes with it, nothing charged', () => {
    const p = planRenewal(withAddon, cents(499), C, E);
    assert.equal(p.mailbox.outcome, 'expired');
    assert.equal(p.addon.reason, 'mailbox_expired');
    assert.equal(p.chargedCents, 0);
    assert.equal(p.newExpiresOn, null);
  });
  test('auto-renew off expires even with credit; extra space switch off keeps mailbox', () => {
    assert.equal(planRenewal(mailbox({ autoRenew: false }), cents(10_000), C, E).mailbox.reason, 'auto_renew_off');
    const p = planRenewal({ ...withAddon, extraSpaceAutoRenew: false }, cents(10_000), C, E);
    assert.equal(p.mailbox.outcome, 'renewed');
    assert.equal(p.addon.reason, 'auto_renew_off');
    assert.equal(p.chargedCents, 500);
  });
  test('29 Feb renews to 28 Feb', () => assert.equal(planRenewal(mailbox({ expiresOn: date('2028-02-29') }), cents(500), C, E).newExpiresOn?.toString(), '2029-02-28'));
  test('manual renewal amount: mailbox and active extra space; expired mailbox only the mailbox', () => {
    assert.equal(manualRenewalAmount({ ...withAddon, type: 'pro' }, C).totalCents, 3100);
    assert.equal(manualRenewalAmount({ ...withAddon, status: 'expired', addon: null }, C).totalCents, 500);
  });
});

describe('R8/R9 windows', () => {
  const E = date('2026-12-01');
  test('manual renewal opens 90 days before E', () => {
    assert.deepEqual(manualRenewalWindow(mailbox({ expiresOn: E }), date('2026-09-01'), C), { allowed: false, reason: 'too_early', opensOn: date('2026-09-02') });
    assert.ok(manualRenewalWindow(mailbox({ expiresOn: E }), date('2026-09-02'), C).allowed);
  });
  test('grace: renewable through E + 90, past grace after', () => {
    assert.ok(manualRenewalWindow(mailbox({ status: 'expired', expiresOn: E }), date('2027-03-01'), C).allowed);
    assert.equal(isPastGrace(E, date('2027-03-01'), C), false);
    assert.equal(isPastGrace(E, date('2027-03-02'), C), true);
    assert.equal((manualRenewalWindow(mailbox({ status: 'expired', expiresOn: E }), date('2027-03-02'), C) as any).reason, 'past_grace');
    assert.equal((manualRenewalWindow(mailbox({ status: 'terminated', expiresOn: E }), date('2026-12-05'), C) as any).reason, 'terminated');
  });
});

describe('R10 alert milestones', () => {
  const E = date('2026-12-01');
  const M = C.alertMilestonesDays;
  const cases: [string, string, number[], number | null][] = [
    ['91 days before: nothing', '2026-09-01', [], null],
    ['90 days before: 90', '2026-09-02', [], 90],
    ['89 days, 90 sent: nothing', '2026-09-03', [90], null],
    ['60 days: 60', '2026-10-02', [90], 60],
    ['catch-up: job missed 90, 60, 30 → only 30', '2026-11-01', [], 30],
    ['catch-up after a later one was sent: nothing', '2026-11-01', [30], null],
    ['1 day before: 1', '2026-11-30', [90, 60, 30, 15, 7], 1],
    ['on E: nothing', '2026-12-01', [], null],
  ];
  for (const [name, today, sent, expected] of cases) test(name, () => assert.equal(alertMilestoneDue(E, date(today), M, sent), expected));
});

describe('R11 usage thresholds', () => {
  const GB = 1024 ** 3;
  test('crossing 80 %: warn once', () => {
    const d = evaluateUsage(0.85 * GB, GB, [80, 95], []);
    assert.deepEqual(d, { warnAtPercent: 80, markWarned: [80], rearm: [] });
    assert.deepEqual(evaluateUsage(0.86 * GB, GB, [80, 95], [{ thresholdPercent: 80, totalBytes: GB }]), { warnAtPercent: null, markWarned: [], rearm: [] });
  });
  test('jumping past both: one warning, for 95 %', () => assert.equal(evaluateUsage(0.97 * GB, GB, [80, 95], []).warnAtPercent, 95));
  test('falling back under re-arms; crossing again warns again', () => {
    const warned = [{ thresholdPercent: 80, totalBytes: GB }];
    assert.deepEqual(evaluateUsage(0.5 * GB, GB, [80, 95], warned).rearm, [80]);
    assert.equal(evaluateUsage(0.9 * GB, GB, [80, 95], []).warnAtPercent, 80);
  });
  test('space growing re-arms', () => {
    const warned = [{ thresholdPercent: 80, totalBytes: GB }];
    const d = evaluateUsage(1.7 * GB, 2 * GB, [80, 95], warned);
    assert.deepEqual(d.rearm, [80]);
    assert.equal(d.warnAtPercent, 80);
  });
  test('exactly at the threshold counts', () => assert.equal(evaluateUsage(80, 100, [80, 95], []).warnAtPercent, 80));
});

describe('R3 catalogue configuration', () => {
  test('defaults', () => {
    assert.equal(C.mailboxTypes.pro.renewalPriceCents, 2500);
    assert.equal(C.extraSpace.pricePerGbYearCents, 300);
    assert.deepEqual(C.alertMilestonesDays, [90, 60, 30, 15, 7, 1]);
  });
  test('override merges', () => {
    const c = buildCatalogue({ vatRatePercent: 10, mailboxTypes: { pro: { renewalPriceCents: 3000 } }, alertMilestonesDays: [7, 30] });
    assert.equal(c.vatRateBasisPoints, 1000);
    assert.equal(c.mailboxTypes.pro.renewalPriceCents, 3000);
    assert.equal(c.mailboxTypes.standard.renewalPriceCents, 500);
    assert.deepEqual(c.alertMilestonesDays, [30, 7]);
  });
  test('bad files fail with the key named', () => {
    assert.throws(() => buildCatalogue({ extraSpace: { pricePerGb: 3 } }), (e: Error) => e instanceof CatalogueError && /extraSpace/.test(e.message));
    assert.throws(() => buildCatalogue({ graceDays: -1 }), /graceDays/);
    assert.throws(() => buildCatalogue({ vatRatePercent: 22.001 }), CatalogueError);
    assert.throws(() => buildCatalogue({ topupMinCents: 600_000 }), /topupMinCents/);
    assert.throws(() => buildCatalogue([]), CatalogueError);
  });
});
