import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEuros, parseQuantity, safeNext } from '../../src/web/forms.ts';

test('euros typed in a form become exact cents, or null', () => {
  const cases: [string, number | null][] = [
    ['25', 2500], ['25,5', 2550], ['25,50', 2550], ['25.05', 2505], [' 1 € ', 100], ['0,01', 1], ['5000', 500000],
    ['0.1', 10], ['19,99', 1999], ['', null], ['abc', null], ['1,234', null], ['-5', null], ['1e3', null], ['12345678', null],
  ];
  for (const [input, cents] of cases) assert.equal(parseEuros(input), cents, input);
});

test('euros on the Italian page: thousands with a dot as the page writes them; what reads two ways is refused', () => {
  const cases: [string, number | null][] = [
    ['1.000,00', 100_000], ['1.000', 100_000], ['5.000,00 €', 500_000], ['€ 1.000,5', 100_050], ['1.234.567,89', 123_456_789],
    ['25', 2500], ['25,5', 2550], ['25,50', 2550], ['25.50', 2550],
    ['1,000.00', null], ['1.00.0', null], ['25,505', null], ['1,000', null], ['1.0000', null], ['10.00.000', null], ['.5', null],
    ['0.100', null], ['1.000.00', null], ['1,000,00', null], ['1 000', null], ['25,', null], [',5', null], ['٢٥', null], ['+25', null],
    ['12.345.678', null], ['1.000,005', null],
  ];
  for (const [input, cents] of cases) assert.equal(parseEuros(input, 'it'), cents, input);
});

test('euros on the English page: the English hint format ("€5,000.00") is read, the Italian one is refused', () => {
  const cases: [string, number | null][] = [
    ['€5,000.00', 500_000], ['1,000', 100_000], ['1,000.5', 100_050], ['25.50', 2550], ['25', 2500], ['25,50', 2550],
    ['1.000,00', null], ['1.000', null], ['1,00,0', null], ['25.505', null],
  ];
  for (const [input, cents] of cases) assert.equal(parseEuros(input, 'en'), cents, input);
});

test('GB to buy: whole numbers from 1, written in ASCII digits; nothing else is reinterpreted', () => {
  const cases: [string, number | null][] = [
    ['1', 1], [' 3 ', 3], ['50', 50], ['03', 3], ['999999', 999_999],
    ['0', null], ['-1', null], ['-3', null], ['1.5', null], ['2,0', null], ['2,5', null], ['2.5', null], ['1e1', null], ['+3', null],
    ['٣', null], ['３', null], ['', null], [' ', null], ['x', null], ['1234567', null], ['99999999999999999999', null], ['3 GB', null], ['1 000', null],
  ];
  for (const [input, n] of cases) assert.equal(parseQuantity(input), n, input);
});

test('next paths stay on this site', () => {
  assert.equal(safeNext('/mailboxes/mbx_1?x=1'), '/mailboxes/mbx_1?x=1');
  for (const bad of ['https://evil.test/', '//evil.test', '/\\evil.test', 'mailboxes', '/a\r\nSet-Cookie: x', undefined, 42, '/' + 'a'.repeat(600)]) {
    assert.equal(safeNext(bad), '/', String(bad));
  }
});
