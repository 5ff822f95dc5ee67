// R19: the console says the services' reasons (written once, in English, for the API) in the page's
// language. Each reason below comes from the rule that gives it, so a reworded rule without its
// Italian is caught here instead of showing English on an Italian page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { date } from '../../src/domain/calendar.ts';
import { normaliseAddress, normaliseMailboxAddress } from '../../src/domain/address.ts';
import { validateBillingProfile } from '../../src/domain/billing-profile.ts';
import { codiceFiscaleProblem, partitaIvaProblem } from '../../src/domain/fiscal-codes.ts';
import { lifecycleStep, planExtension } from '../../src/domain/mailbox-lifecycle.ts';
import { provisionedExpiryProblem } from '../../src/domain/mailbox.ts';
import { WEAKNESS_MESSAGE } from '../../src/domain/password-strength.ts';
import { translateWhy } from '../../src/web/admin/texts.ts';

const problem = (r: { ok: boolean; error?: string }) => (r.ok ? null : r.error!);
const today = date('2026-06-10');

test('R19: every reason the console meets reads in Italian on an Italian page, and in the API\'s words in English', () => {
  const reasons: string[] = [
    ...Object.values(WEAKNESS_MESSAGE),
    ...['XYZ', 'RSSMRA85T10A562X', 'RSSMRA85Z10A562S', 'RSSMRA85T99A562S', '1234567890A1234B'].map((c) => codiceFiscaleProblem(c, { allowNumeric: true })!),
    ...['123', '00000001234', '12345678901'].map((v) => partitaIvaProblem(v)!),
    ...['not an address', 'a@b', 'a@example.123'].map((a) => problem(normaliseAddress(a))!),
    ...['ä@pec.example.it', 'a+b@pec.example.it'].map((a) => problem(normaliseMailboxAddress(a))!),
    provisionedExpiryProblem('2027-02-30', today)!,
    provisionedExpiryProblem('2040-01-01', today)!,
    ...(['suspend', 'reactivate', 'terminate'] as const).map((a) => {
      const step = lifecycleStep(a === 'terminate' ? 'terminated' : a === 'suspend' ? 'expired' : 'active', a);
      return step.ok ? '' : step.why;
    }),
    ...[
      planExtension({ status: 'active', expiresOn: date('2026-12-01') }, '2026-11-01', today),
      planExtension({ status: 'active', expiresOn: date('2026-12-01') }, '2040-01-01', today),
      planExtension({ status: 'terminated', expiresOn: date('2026-12-01') }, '2027-01-01', today),
    ].map((p) => (p.ok ? '' : p.why)),
    ...Object.values((validateBillingProfile({ kind: 'business', companyName: 'ÆØ\u4e00', vatNumber: '1', address: { street: 'x', postalCode: '1', city: 'y', province: 'Roma', country: 'ITA' }, sdiCode: 'AB', sdiPec: 'x' }) as { fields: Record<string, string> }).fields),
  ];
  const untranslated = reasons.filter((why) => !why || translateWhy('it', why) === why);
  assert.deepEqual(untranslated, [], 'give these reasons their Italian in ITALIAN_WHY (src/web/admin/texts.ts)');
  // English keeps the API's words; only its dates and cents are written for people.
  for (const why of reasons.filter((r) => !/\d{4}-\d{2}-\d{2}|cents/.test(r))) assert.equal(translateWhy('en', why), why);
  assert.equal(translateWhy('en', 'must be between 2025-06-10 and 2036-06-10'), 'must be between 10 June 2025 and 10 June 2036');
});

test('R19: amounts in cents read as money, dates in words, in each language', () => {
  assert.equal(translateWhy('it', 'The top-up asks for 1220 cents, not 1000 cents: nothing recorded'), 'la ricarica chiede 12,20 €, non 10,00 €: nulla è stato registrato.');
  assert.equal(translateWhy('en', 'The top-up asks for 1220 cents, not 1000 cents: nothing recorded'), 'The top-up asks for €12.20, not €10.00: nothing recorded');
  assert.equal(translateWhy('it', 'must be after the current expiry 2027-06-01'), 'deve essere dopo la scadenza attuale (1° giugno 2027)');
});
