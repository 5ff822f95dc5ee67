// Issue 19, items 11–14: the pure rules behind what a new user read — Italian elision before numbers
// and the first of a month, the language a browser asks for, a price in the order the buyer reads it,
// the purchase that repeats the last one, a VAT number written with its country prefix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { elideItalian, fillIn } from '../../src/i18n/dictionary.ts';
import { localeFromAcceptLanguage, longDate } from '../../src/i18n/format.ts';
import { date } from '../../src/domain/calendar.ts';
import { buyerVat, shownPrice } from '../../src/domain/price-display.ts';
import { purchaseRepeated, REPEAT_PURCHASE_WINDOW_MS, type PastPurchase } from '../../src/domain/repeat-purchase.ts';
import { validateBillingProfile, withoutCountryPrefix } from '../../src/domain/billing-profile.ts';
import { cents, type VatRateBasisPoints } from '../../src/domain/money.ts';

test('the article elides before a number read with a vowel (otto, undici, ottanta, uno per cento), nowhere else', () => {
  const cases: [string, string][] = [
    ['ha superato il 80% del suo spazio', "ha superato l'80% del suo spazio"],
    ['ha superato il 95% del suo spazio', 'ha superato il 95% del suo spazio'],
    ['scade il 8 dicembre 2026', "scade l'8 dicembre 2026"],
    ['Il 11 marzo', "L'11 marzo"],
    ['attivo dal 8 giugno al 11 luglio', "attivo dall'8 giugno all'11 luglio"],
    ['nel 800', "nell'800"],
    ['il 18 maggio, il 110, il 1100', 'il 18 maggio, il 110, il 1100'],
    ['sul 1% e il 1,5 %', "sull'1% e l'1,5 %"],
    ['il 1° dicembre', 'il 1° dicembre'],
    ['Del 8', "Dell'8"],
    ['profilo 8', 'profilo 8'],
  ];
  for (const [raw, want] of cases) assert.equal(elideItalian(raw), want, raw);
  assert.equal(fillIn('it', 'scade il {date}', { date: '8 giugno 2026' }), "scade l'8 giugno 2026");
  assert.equal(fillIn('en', 'il {date}', { date: '8 June' }), 'il 8 June');
});

test('the first of a month is "1°" in Italian, "1" in English', () => {
  assert.equal(longDate(date('2026-12-01'), 'it'), '1° dicembre 2026');
  assert.equal(longDate(date('2026-12-01'), 'en'), '1 December 2026');
  assert.equal(longDate(date('2026-12-08'), 'it'), '8 dicembre 2026');
});

test('Accept-Language: the first of Italian and English by weight, or none', () => {
  assert.equal(localeFromAcceptLanguage('en-GB,en;q=0.9,it;q=0.4'), 'en');
  assert.equal(localeFromAcceptLanguage('fr-FR,fr;q=0.9,it;q=0.8,en;q=0.5'), 'it');
  assert.equal(localeFromAcceptLanguage('it-IT,en;q=0.9'), 'it');
  assert.equal(localeFromAcceptLanguage('en;q=0.2, IT;q=0.7'), 'it');
  assert.equal(localeFromAcceptLanguage('de, fr'), null);
  assert.equal(localeFromAcceptLanguage('en;q=0'), null);
  assert.equal(localeFromAcceptLanguage(undefined), null);
  assert.equal(localeFromAcceptLanguage('*'), null);
});

test('R1/R16: a consumer reads the gross price first, a business the net; no VAT is shown as such', () => {
  const rate = { vatRateBasisPoints: 2200 as VatRateBasisPoints };
  assert.deepEqual(shownPrice(cents(500), buyerVat(null, rate)), { order: 'gross_first', netCents: 500, grossCents: 610 });
  const at = (country: string) => ({ street: 'Via Roma', streetNumber: '1', postalCode: '00100', city: 'Roma', province: null, country });
  assert.deepEqual(shownPrice(cents(500), buyerVat({ kind: 'person', address: at('IT') }, rate)).order, 'gross_first');
  assert.deepEqual(shownPrice(cents(500), buyerVat({ kind: 'business', address: at('IT') }, rate)), { order: 'net_first', netCents: 500, grossCents: 610 });
  // R16: a business abroad pays no Italian VAT, and reads the price it pays.
  assert.deepEqual(shownPrice(cents(500), buyerVat({ kind: 'business', address: at('DE') }, rate)), { order: 'no_vat', netCents: 500, grossCents: 500 });
  assert.equal(buyerVat({ kind: 'business', address: at('CH') }, rate).treatment, 'not_subject');
});

test('a purchase repeats the last one: same mailbox, same GB, not cancelled, within the window', () => {
  const now = Date.parse('2026-06-10T08:05:00Z');
  const p = (o: Partial<PastPurchase>): PastPurchase => ({ mailboxId: 'm1', kind: 'extra_inbox_space', quantityGb: 2, status: 'completed', createdAtMs: now - 60_000, ...o });
  assert.ok(purchaseRepeated([p({})], 'm1', 2, now));
  assert.ok(purchaseRepeated([p({ status: 'awaiting_topup' })], 'm1', 2, now));
  assert.equal(purchaseRepeated([p({ quantityGb: 3 })], 'm1', 2, now), null);
  assert.equal(purchaseRepeated([p({ mailboxId: 'm2' })], 'm1', 2, now), null);
  assert.equal(purchaseRepeated([p({ status: 'cancelled' })], 'm1', 2, now), null);
  assert.equal(purchaseRepeated([p({ kind: 'renewal' })], 'm1', 2, now), null);
  assert.ok(purchaseRepeated([p({ createdAtMs: now - REPEAT_PURCHASE_WINDOW_MS })], 'm1', 2, now));
  assert.equal(purchaseRepeated([p({ createdAtMs: now - REPEAT_PURCHASE_WINDOW_MS - 1 })], 'm1', 2, now), null);
  const latest = purchaseRepeated([p({ createdAtMs: now - 120_000 }), p({ createdAtMs: now - 30_000 })], 'm1', 2, now);
  assert.equal(latest?.createdAtMs, now - 30_000);
});

test('a VAT number loses its own country prefix and spaces', () => {
  assert.equal(withoutCountryPrefix('IT00488410010', 'IT'), '00488410010');
  assert.equal(withoutCountryPrefix('00488410010', 'IT'), '00488410010');
  assert.equal(withoutCountryPrefix('EL123456789', 'GR'), '123456789');
  assert.equal(withoutCountryPrefix('IT', 'IT'), 'IT');
  assert.equal(withoutCountryPrefix(null, 'IT'), null);
  const checked = validateBillingProfile({
    kind: 'business',
    companyName: 'Rossi S.r.l.',
    vatNumber: ' it 004 884 100 10 ',
    address: { street: 'Via Roma', postalCode: '00184', city: 'Roma', province: 'RM', country: 'IT' },
  });
  assert.ok(checked.ok);
  assert.equal(checked.value.vatNumber, '00488410010');
});
