// R15 "Dati di fatturazione": codice fiscale (structure, omocodia, check character), partita IVA
// (check digit), CAP, provincia, Codice Destinatario or PEC, country; every error names its field.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { codiceFiscaleProblem, partitaIvaProblem } from '../../src/domain/fiscal-codes.ts';
import { validateBillingProfile } from '../../src/domain/billing-profile.ts';
import { toLatin1 } from '../../src/domain/latin1.ts';
import { BUSINESS_WITH_CODE, BUSINESS_WITH_PEC, PERSON_PROFILE } from '../support/billing.ts';

describe('codice fiscale', () => {
  const valid = [
    ['RSSMRA85T10A562S', 'a man born 10 December 1985'],
    ['MRTMTT25D09F205Z', 'born 9 April 1925 in Milano'],
    ['BNCLRA80A41H501D', 'a woman (day + 40)'],
    ['rssmra85t10a562s', 'lower case is accepted and upper-cased'],
    ['RSSMRA85T10A56NH', 'omocodia: the last digit of the comune replaced by N (= 2)'],
    ['RSSMRAURTMLARSNL', 'omocodia on every replaceable digit'],
  ];
  for (const [code, why] of valid) test(`${code} is valid: ${why}`, () => assert.equal(codiceFiscaleProblem(code!), null));

  const invalid = [
    ['RSSMRA85T10A562T', /check character/],
    ['RSSMRA85T10A562', /16 characters/],
    ['RSSMRA85T10A562SX', /16 characters/],
    ['RSSMRA85Z10A562S', /month letter/],
    ['RSSMRA85T32A562S', /day of birth/],
    ['RSSMRA85T00A562S', /day of birth/],
    ['RSSMRA85T72A562S', /day of birth/],
    ['RSSMR185T10A562S', /structure/],
    ['RSSMRA85T10A56WS', /structure/],
    ['RSSMRA85T10A562-', /structure/],
  ] as const;
  for (const [code, why] of invalid) test(`${code} is refused (${why.source})`, () => assert.match(codiceFiscaleProblem(code) ?? '', why));

  test('an 11-digit code is a company\'s, checked as a partita IVA where allowed', () => {
    assert.equal(codiceFiscaleProblem('00488410010', { allowNumeric: true }), null);
    assert.match(codiceFiscaleProblem('00488410011', { allowNumeric: true }) ?? '', /check digit/);
    assert.match(codiceFiscaleProblem('00488410010') ?? '', /16 characters/);
  });
});

describe('partita IVA', () => {
  for (const code of ['00488410010', '06363391001', '00811720580', '01234567897']) test(`${code} is valid`, () => assert.equal(partitaIvaProblem(code), null));
  const invalid = [
    ['00488410011', /check digit/],
    ['12345678901', /check digit/],
    ['0048841001', /11 digits/],
    ['004884100100', /11 digits/],
    ['0048841001A', /11 digits/],
    ['00000000000', /registered/],
  ] as const;
  for (const [code, why] of invalid) test(`${code} is refused (${why.source})`, () => assert.match(partitaIvaProblem(code) ?? '', why));
});

describe('billing profile', () => {
  test('a person, a business with a Codice Destinatario and one with a PEC are accepted, normalised', () => {
    const person = validateBillingProfile({ ...PERSON_PROFILE, taxCode: ' rssmra85t10a562s ', address: { ...PERSON_PROFILE.address, province: 'rm' } });
    assert.ok(person.ok);
    assert.equal(person.value.taxCode, 'RSSMRA85T10A562S');
    assert.equal(person.value.address.province, 'RM');
    assert.ok(validateBillingProfile(BUSINESS_WITH_CODE).ok);
    const pec = validateBillingProfile(BUSINESS_WITH_PEC);
    assert.ok(pec.ok);
    assert.equal(pec.value.sdiCode, '0000000');
    assert.equal(pec.value.companyName, null);
  });

  test('every wrong field is named, with why', () => {
    const r = validateBillingProfile({
      kind: 'business',
      vatNumber: '00488410011',
      taxCode: 'RSSMRA85T10A562T',
      address: { street: '', postalCode: '1012', city: 'Torino', province: 'Torino', country: 'IT' },
      sdiCode: 'ABC',
      sdiPec: 'not-an-address',
    });
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.deepEqual(Object.keys(r.fields).sort(), [
      'address.postalCode',
      'address.province',
      'address.street',
      'familyName',
      'givenName',
      'sdiCode',
      'sdiPec',
      'taxCode',
      'vatNumber',
    ]);
    assert.match(r.fields.vatNumber!, /check digit/);
    assert.match(r.fields.taxCode!, /check character/);
  });

  test('CAP is 5 digits and provincia a two-letter sigla, for Italian addresses', () => {
    const r = validateBillingProfile({ ...PERSON_PROFILE, address: { ...PERSON_PROFILE.address, postalCode: '0018', province: 'R1' } });
    assert.ok(!r.ok && r.fields['address.postalCode'] && r.fields['address.province']);
    const missing = validateBillingProfile({ ...PERSON_PROFILE, address: { ...PERSON_PROFILE.address, province: null } });
    assert.ok(!missing.ok && /sigla/.test(missing.fields['address.province']!));
  });

  test('a person needs nome, cognome and codice fiscale, and has no partita IVA', () => {
    const r = validateBillingProfile({ kind: 'person', vatNumber: '00488410010', address: PERSON_PROFILE.address });
    assert.ok(!r.ok);
    if (!r.ok) assert.deepEqual(Object.keys(r.fields).sort(), ['familyName', 'givenName', 'taxCode', 'vatNumber']);
  });

  test('a Codice Destinatario and a PEC together are refused: SdI takes one', () => {
    const r = validateBillingProfile({ ...BUSINESS_WITH_PEC, sdiCode: 'M5UXCR1' });
    assert.ok(!r.ok && /either/.test(r.fields.sdiPec!));
  });

  test('a buyer abroad: no CAP or provincia format, SdI code XXXXXXX, foreign VAT number', () => {
    const r = validateBillingProfile({
      kind: 'business',
      companyName: 'Müller GmbH',
      vatNumber: 'DE123456789',
      address: { street: 'Hauptstraße', streetNumber: '5', postalCode: '10115', city: 'Berlin', country: 'DE' },
    });
    assert.ok(r.ok);
    assert.equal(r.value.sdiCode, 'XXXXXXX');
  });

  test('names in other alphabets are refused; other accents are transliterated (Latin-1 only in FatturaPA)', () => {
    const r = validateBillingProfile({ ...PERSON_PROFILE, givenName: 'Дмитрий' });
    assert.ok(!r.ok && /Latin/.test(r.fields.givenName!));
    const ok = validateBillingProfile({ ...PERSON_PROFILE, familyName: 'Dvořák’s “shop” – Łódź' });
    assert.ok(ok.ok);
    assert.equal(ok.value.familyName, 'Dvorák\'s "shop" - Lódz');
    assert.equal(toLatin1('Caffè Niño Œuvre €5'), 'Caffè Niño OEuvre EUR5');
  });

  test('unknown kind and a country code that is not ISO 3166 are refused', () => {
    const r = validateBillingProfile({ ...PERSON_PROFILE, kind: 'company', address: { ...PERSON_PROFILE.address, country: 'EU' } });
    assert.ok(!r.ok && r.fields.kind && /ISO 3166/.test(r.fields['address.country']!));
  });
});
