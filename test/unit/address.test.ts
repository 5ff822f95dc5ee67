import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normaliseAddress } from '../../src/domain/address.ts';

test('malformed and look-alike addresses are refused: paths, empty labels, edge dots and hyphens, invisible and fullwidth characters', () => {
  const refused = [
    'a@b.c/../x', 'a@b..c', '.a@b.c', 'a.@b.c', 'a..b@c.it', 'a@-b.c', 'a@b-.c', 'a@.b.c', 'a@b.c.', 'a@b', '@b.it', 'a@', 'ab.it',
    'a@b.it@c.it', '"a b"@c.it', 'a b@c.it', 'a(x)@c.it', 'a@[127.0.0.1]', 'a@1.2', 'a@b_c.it', `a@${'x'.repeat(64)}.it`,
    `${'x'.repeat(65)}@b.it`, `a@${'b.'.repeat(130)}it`, '',
    'ad\u202Emin@b.it', 'a@pe\u202Ec.it', 'a\u200B@b.it', 'a@b\u200B.it', 'a@b.it\u200B', '\uFF41@b.it', 'a@\uFF45xample.it', 'a@exampl\u0435.it',
    'a@perché.it', 'a\u0000@b.it', 'a\n@b.it',
  ];
  for (const raw of refused) assert.equal(normaliseAddress(raw).ok, false, JSON.stringify(raw));
});

test('valid addresses are kept in lower case', () => {
  const kept: [string, string][] = [
    ['nome@pec.example.it', 'nome@pec.example.it'],
    ['Studio.Rossi@PEC.Casella.Test', 'studio.rossi@pec.casella.test'],
    [' a+b@x-y.it ', 'a+b@x-y.it'],
    ["o'neil!#$%&*/=?^_`{|}~-@a1.b2c", "o'neil!#$%&*/=?^_`{|}~-@a1.b2c"],
    ['a@b.c', 'a@b.c'],
    ['a@xn--perch-fsa.it', 'a@xn--perch-fsa.it'],
    [`${'x'.repeat(64)}@${'y'.repeat(63)}.it`, `${'x'.repeat(64)}@${'y'.repeat(63)}.it`],
  ];
  for (const [raw, stored] of kept) assert.deepEqual(normaliseAddress(raw), { ok: true, value: stored }, raw);
});

test('an international domain is refused with its xn-- form to use instead', () => {
  const r = normaliseAddress('nome@perché.it');
  assert.equal(r.ok, false);
  assert.match(!r.ok ? r.error : '', /xn--perch-fsa\.it/);
  // A look-alike that IDNA would fold into plain letters gets no such hint: it is not that domain.
  const fullwidth = normaliseAddress('nome@\uFF45xample.it');
  assert.doesNotMatch(!fullwidth.ok ? fullwidth.error : '', /example\.it/);
});

test("R14: a mailbox's address is one the mail server serves: ' + = # and other atext are refused, a reference e-mail keeps them", async () => {
  const { normaliseMailboxAddress } = await import('../../src/domain/address.ts');
  for (const raw of ["o'neil@pec.casella.test", 'a+b@pec.casella.test', 'a=b@pec.casella.test', 'a#b@pec.casella.test', 'a!b@pec.casella.test', 'a/b@pec.casella.test', 'a..b@pec.casella.test']) {
    const r = normaliseMailboxAddress(raw);
    assert.equal(r.ok, false, raw);
    assert.equal(normaliseAddress(raw).ok, !raw.includes('..'), `${raw} as a reference e-mail`);
  }
  assert.match(!normaliseMailboxAddress('a+b@x.it').ok ? (normaliseMailboxAddress('a+b@x.it') as { error: string }).error : '', /letters, digits, hyphens or underscores/);
  for (const [raw, stored] of [['Studio.Rossi@PEC.Casella.Test', 'studio.rossi@pec.casella.test'], ['a_b-c.d1@x-y.it', 'a_b-c.d1@x-y.it']] as const) {
    assert.deepEqual(normaliseMailboxAddress(raw), { ok: true, value: stored });
  }
});
