// R16 VAT by buyer, as a table: who pays the catalogue's rate and who pays no Italian VAT (art.
// 7-ter DPR 633/72), each member state's VAT number format with or without its prefix, and the
// charge of the audit's German company (12,34 € of credit must charge 12,34 €, not 15,05 €).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chargeFor, EU_VAT_FORMATS, foreignVatNumber, vatTermsFor } from '../../src/domain/vat.ts';
import { cents } from '../../src/domain/money.ts';
import { validateBillingProfile } from '../../src/domain/billing-profile.ts';
import { bankReference, formatBankReference, ibanProblem, normaliseBankReference, REFERENCE_ALPHABET, bankTransferExpired, bankTransferExpiresOn } from '../../src/domain/bank-transfer.ts';
import { date } from '../../src/domain/calendar.ts';
import { PERSON_PROFILE } from '../support/billing.ts';

const germanCompany = { kind: 'business', companyName: 'Müller GmbH', vatNumber: 'DE123456789', address: { street: 'Hauptstraße', postalCode: '10115', city: 'Berlin', country: 'DE' } };

describe('R16: the treatment follows the billing data', () => {
  const cases: [string, { kind: 'person' | 'business'; address: { country: string } }, string, number, string | null][] = [
    ['a person in Italy', { kind: 'person', address: { country: 'IT' } }, 'standard', 2200, null],
    ['a person living in France (Italian codice fiscale)', { kind: 'person', address: { country: 'FR' } }, 'standard', 2200, null],
    ['a business with a partita IVA', { kind: 'business', address: { country: 'IT' } }, 'standard', 2200, null],
    ['a business in Germany', { kind: 'business', address: { country: 'DE' } }, 'reverse_charge', 0, 'N2.1'],
    ['a business in Greece', { kind: 'business', address: { country: 'GR' } }, 'reverse_charge', 0, 'N2.1'],
    ['a business in Switzerland', { kind: 'business', address: { country: 'CH' } }, 'not_subject', 0, 'N2.1'],
    ['a business in the United States', { kind: 'business', address: { country: 'US' } }, 'not_subject', 0, 'N2.1'],
    ['a business in San Marino (outside the EU)', { kind: 'business', address: { country: 'SM' } }, 'not_subject', 0, 'N2.1'],
  ];
  for (const [who, buyer, treatment, rate, natura] of cases) {
    test(`${who}: ${treatment}`, () => {
      const terms = vatTermsFor(buyer, 2200);
      assert.deepEqual([terms.treatment, terms.rateBasisPoints, terms.natura], [treatment, rate, natura]);
    });
  }

  test('the audit\'s German company: 12,34 € of credit charges 12,34 €; an Italian buyer pays 15,05 €', () => {
    const profile = validateBillingProfile(germanCompany);
    assert.ok(profile.ok);
    assert.deepEqual(chargeFor(cents(1234), vatTermsFor(profile.value, 2200)), { netCents: 1234, vatCents: 0, grossCents: 1234 });
    assert.deepEqual(chargeFor(cents(1234), vatTermsFor({ kind: 'person', address: { country: 'IT' } }, 2200)), { netCents: 1234, vatCents: 271, grossCents: 1505 });
  });

  test('the words of art. 21 c. 6-bis DPR 633/72', () => {
    assert.equal(vatTermsFor({ kind: 'business', address: { country: 'FR' } }, 2200).legalNote, 'inversione contabile, art. 7-ter DPR 633/72');
    assert.equal(vatTermsFor({ kind: 'business', address: { country: 'JP' } }, 2200).legalNote, 'operazione non soggetta, art. 7-ter DPR 633/72');
  });
});

describe('R16: EU VAT numbers by each country\'s format (no network)', () => {
  test('every member state has a format, and there are 27', () => assert.equal(Object.keys(EU_VAT_FORMATS).length, 27));
  const valid: [string, string, string][] = [
    ['AT', 'ATU12345678', 'U12345678'],
    ['BE', '0123456789', '0123456789'],
    ['DE', 'DE123456789', '123456789'],
    ['DE', 'de 123.456.789', '123456789'],
    ['DK', '12345678', '12345678'],
    ['ES', 'ESX1234567X', 'X1234567X'],
    ['FR', 'FRAB123456789', 'AB123456789'],
    ['FR', '12345678901', '12345678901'],
    ['GR', 'EL123456789', '123456789'],
    ['GR', '123456789', '123456789'],
    ['IE', 'IE1234567WA', '1234567WA'],
    ['IE', '1A12345W', '1A12345W'],
    ['NL', 'NL123456789B01', '123456789B01'],
    ['PL', 'PL-1234567890', '1234567890'],
    ['SE', 'SE123456789001', '123456789001'],
    ['CY', 'CY12345678L', '12345678L'],
  ];
  for (const [country, input, stored] of valid) {
    test(`${country} ${input} → ${stored}`, () => assert.deepEqual(foreignVatNumber(country, input), { ok: true, value: stored }));
  }
  const invalid: [string, string][] = [
    ['DE', 'DE12345678'],
    ['DE', 'FR123456789'],
    ['AT', 'AT12345678'],
    ['NL', 'NL123456789'],
    ['SE', 'SE123456789012'],
    ['FR', 'FRIO123456789'],
    ['BE', '2123456789'],
  ];
  for (const [country, input] of invalid) {
    test(`${country} ${input} is refused`, () => assert.equal(foreignVatNumber(country, input).ok, false));
  }

  test('in the billing data: a wrong German number is named; a right one is stored without prefix; XXXXXXX whatever is sent', () => {
    const wrong = validateBillingProfile({ ...germanCompany, vatNumber: 'DE12345' });
    assert.ok(!wrong.ok && /DE/.test(wrong.fields.vatNumber!));
    const right = validateBillingProfile({ ...germanCompany, sdiCode: 'M5UXCR1', sdiPec: 'x@pec.example.it' });
    assert.ok(right.ok);
    assert.deepEqual([right.value.vatNumber, right.value.sdiCode, right.value.sdiPec], ['123456789', 'XXXXXXX', null]);
    const swiss = validateBillingProfile({ ...germanCompany, vatNumber: 'CHE-123.456.789', address: { ...germanCompany.address, country: 'CH' } });
    assert.ok(swiss.ok);
    assert.equal(swiss.value.vatNumber, 'CHE123456789');
    const italian = validateBillingProfile({ kind: 'business', companyName: 'Rossi S.r.l.', vatNumber: 'IT00488410010', address: { street: 'Via Roma', postalCode: '10121', city: 'Torino', province: 'TO', country: 'IT' } });
    assert.ok(italian.ok);
    assert.equal(italian.value.vatNumber, '00488410010');
  });

  test('a person must have an Italian codice fiscale, wherever they live', () => {
    const abroad = validateBillingProfile({ ...PERSON_PROFILE, taxCode: 'X123', address: { street: 'Rue', postalCode: '75001', city: 'Paris', country: 'FR' } });
    assert.ok(!abroad.ok && abroad.fields.taxCode);
    assert.ok(validateBillingProfile({ ...PERSON_PROFILE, address: { street: 'Rue', postalCode: '75001', city: 'Paris', country: 'FR' } }).ok);
  });
});

describe('R17: the bank transfer\'s reference and account', () => {
  test('a reference is CAS and 8 unambiguous characters with a check character; typed back in any case and with dashes', () => {
    const ref = bankReference(new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7]));
    assert.match(ref, new RegExp(`^CAS[${REFERENCE_ALPHABET}]{8}$`));
    assert.equal(normaliseBankReference(formatBankReference(ref).toLowerCase()), ref);
    assert.equal(normaliseBankReference(` ${formatBankReference(ref)} `), ref);
    const typo = ref.slice(0, 5) + (ref[5] === 'A' ? 'C' : 'A') + ref.slice(6);
    assert.equal(normaliseBankReference(typo), null, 'one character mistyped is no reference at all');
    assert.equal(normaliseBankReference('hello'), null);
  });
  test('IBANs are checked by ISO 13616 mod 97', () => {
    assert.equal(ibanProblem('IT60 X054 2811 1010 0000 0123 456'), null);
    assert.equal(ibanProblem('DE89370400440532013000'), null);
    assert.match(ibanProblem('IT61X0542811101000000123456') ?? '', /check digits/);
    assert.match(ibanProblem('not an iban') ?? '', /not an IBAN/);
  });
  test('an unpaid transfer waits 10 days, then expires', () => {
    const expiresOn = bankTransferExpiresOn(date('2026-12-25'));
    assert.equal(expiresOn.toString(), '2027-01-04');
    assert.equal(bankTransferExpired(expiresOn, date('2027-01-04')), false);
    assert.equal(bankTransferExpired(expiresOn, date('2027-01-05')), true);
  });
});
