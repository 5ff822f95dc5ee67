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

test('GB to buy: whole numbers from 1', () => {
  const cases: [string, number | null][] = [['1', 1], [' 3 ', 3], ['50', 50], ['0', null], ['-1', null], ['1.5', null], ['2,0', null], ['', null], ['x', null]];
  for (const [input, n] of cases) assert.equal(parseQuantity(input), n, input);
});

test('next paths stay on this site', () => {
  assert.equal(safeNext('/mailboxes/mbx_1?x=1'), '/mailboxes/mbx_1?x=1');
  for (const bad of ['https://evil.test/', '//evil.test', '/\\evil.test', 'mailboxes', '/a\r\nSet-Cookie: x', undefined, 42, '/' + 'a'.repeat(600)]) {
    assert.equal(safeNext(bad), '/', String(bad));
  }
});
