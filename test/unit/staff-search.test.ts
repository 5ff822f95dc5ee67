// R19's search reads the text first and runs only the lookups it can satisfy (issue 21):
// src/domain/staff-search.ts. What each kind of text asks for, and what it does not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NAME_INDEXED_PIECES_MAX, planSearch, type SearchPlan } from '../../src/domain/staff-search.ts';

/** Which lookups a plan runs, by name. */
const lookups = (plan: SearchPlan): string[] =>
  [
    plan.email && 'email',
    plan.addressPrefix && 'addressPrefix',
    plan.taxCode && 'taxCode',
    plan.vatNumbers.length && 'vatNumber',
    plan.invoice && 'invoice',
    plan.name && 'name',
  ].filter((x): x is string => typeof x === 'string');

test('each kind of text runs only the lookups that can match it', () => {
  const cases: [text: string, expected: string[]][] = [
    ['mario.rossi@pec.example.it', ['email', 'addressPrefix']],
    ['Mario.Rossi@PEC.example.it', ['email', 'addressPrefix']],
    ['mario.ros', ['addressPrefix']],
    ["d'angelo", ['addressPrefix', 'name']],
    ['amministrazione@', ['addressPrefix']],
    ['rossi', ['addressPrefix', 'name']],
    ['Nicolò Zappalà', ['name']],
    ['zappalà', ['name']],
    ['RSSMRA85T10A562S', ['addressPrefix', 'taxCode', 'vatNumber']],
    ['rss mra 85t10 a562s', ['taxCode', 'vatNumber']],
    ['01234567890', ['addressPrefix', 'taxCode', 'vatNumber']],
    ['IT 01234567890', ['vatNumber']],
    ['IT01234567890', ['addressPrefix', 'vatNumber']],
    ['2026/000042', ['addressPrefix', 'invoice']],
    ['2026-42', ['addressPrefix', 'invoice']],
    ['2026 / 42', ['invoice']],
    ['de', ['addressPrefix']],
    ['Li Po', []],
    ['%', ['addressPrefix']],
    ['12', ['addressPrefix']],
    ['box123', ['addressPrefix', 'name']],
  ];
  for (const [text, expected] of cases) assert.deepEqual(lookups(planSearch(text)), expected, text);
});

test('identifiers are normalised as stored: e-mails lower case, codes upper case without spaces, VAT numbers with and without the country', () => {
  assert.equal(planSearch('Mario.Rossi@PEC.example.it').email, 'mario.rossi@pec.example.it');
  assert.equal(planSearch('rss mra 85t10 a562s').taxCode, 'RSSMRA85T10A562S');
  assert.equal(planSearch('RSSMRA85T10A56NS').taxCode, 'RSSMRA85T10A56NS', 'omocodia letters in the digits\' places');
  assert.deepEqual(planSearch('IT 01234567890').vatNumbers, ['IT01234567890', '01234567890']);
  assert.deepEqual(planSearch('ATU12345678').vatNumbers, ['ATU12345678', 'U12345678']);
  assert.deepEqual(planSearch('2026/000042').invoice, { year: 2026, sequence: 42 });
  assert.deepEqual(planSearch('2026/1234567').invoice, { year: 2026, sequence: 1234567 }, 'past a million invoices a year');
});

test("an address's beginning is a range of the byte-ordered index: from the text to just past every address that begins with it", () => {
  assert.deepEqual(planSearch('Mario.Ros').addressPrefix, { from: 'mario.ros', below: 'mario.rot' });
  assert.deepEqual(planSearch('info@').addressPrefix, { from: 'info@', below: 'infoA' });
  assert.deepEqual(planSearch('a~').addressPrefix, { from: 'a~', below: 'a\x7f' });
  assert.equal(planSearch('mario rossi').addressPrefix, null, 'no address has a space');
  assert.equal(planSearch('nicolò').addressPrefix, null, 'nor an accent');
});

test('a name: every word somewhere in it; the index is asked for runs of three letters or digits, the rest is checked on the rows it gives', () => {
  assert.deepEqual(planSearch('Maria Rossi').name, { indexedPatterns: ['%Maria%', '%Rossi%'], checkedWords: [] });
  assert.deepEqual(planSearch('de luca').name, { indexedPatterns: ['%luca%'], checkedWords: ['de'] });
  assert.deepEqual(planSearch("D'Angelo").name, { indexedPatterns: ['%Angelo%'], checkedWords: ["D'Angelo"] });
  assert.deepEqual(planSearch('F.lli Rossi').name, { indexedPatterns: ['%Rossi%', '%lli%'], checkedWords: ['F.lli'] }, 'trigrams stop at the dot: the dot is checked, not looked up');
  assert.deepEqual(planSearch('Ferramenta F.lli Rossi').name, { indexedPatterns: ['%Ferramenta%', '%Rossi%', '%lli%'], checkedWords: ['F.lli'] });
  assert.deepEqual(planSearch('50%_off').name, { indexedPatterns: ['%off%'], checkedWords: ['50%_off'] }, "LIKE's wildcards never reach a pattern unescaped");
  assert.deepEqual(planSearch('a\\b_cde').name!.indexedPatterns, ['%cde%']);
  assert.deepEqual(planSearch('rossi rossi').name, { indexedPatterns: ['%rossi%'], checkedWords: [] }, 'a word typed twice is one');
});

test('the index is asked for the longest pieces only; the others are checked', () => {
  const plan = planSearch('Anna Maria Grazia Esposito De Luca Bianchi');
  assert.equal(plan.name!.indexedPatterns.length, NAME_INDEXED_PIECES_MAX);
  assert.deepEqual(plan.name!.indexedPatterns, ['%Esposito%', '%Bianchi%', '%Grazia%', '%Maria%']);
  assert.deepEqual(plan.name!.checkedWords, ['Anna', 'De', 'Luca']);
});

test('no name lookup for identifiers, e-mails, one word shaped like an address, digits alone or text without a piece of three letters', () => {
  for (const text of ['RSSMRA85T10A562S', 'IT 01234567890', '2026/42', 'anna@example.it', '123456', 'Li Po', 'a.b.c', 'v.bianc', 'mario.rossi', 'info@']) {
    assert.equal(planSearch(text).name, null, text);
  }
});
