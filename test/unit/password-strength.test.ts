// The strength rule for a password the holder chooses (issue 13): src/domain/password-strength.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { passwordWeakness, PASSWORD_LENGTH_MAX } from '../../src/domain/password-strength.ts';

const ADDRESS = 'mario.rossi@pec.studio.it';
const CURRENT = 'Vecchia-Segreta-1';
const weakness = (pw: string, address = ADDRESS) => passwordWeakness(pw, address, CURRENT);

test('strong passwords of two kinds of character or more, 10 to 128 characters, are accepted', () => {
  for (const pw of ['Tramonto-sul-Po', 'pioggia di marzo 7', 'abcdefghi1', 'ABCDEFGHI!', 'x'.repeat(127) + '9', 'correct horse battery staple!']) {
    assert.equal(weakness(pw), null, pw);
  }
});

test('under 10 or over 128 characters is refused', () => {
  assert.equal(weakness('Abcdefg1!'), 'too_short');
  assert.equal(weakness(''), 'too_short');
  assert.equal(weakness('a1'.repeat(PASSWORD_LENGTH_MAX / 2) + 'b'), 'too_long');
});

test('one kind of character only is refused, whatever the length', () => {
  for (const pw of ['aaaaaaaaaaaaaaaa', 'tramontosulpo', 'TRAMONTOSULPO', '12345678901234', '!!!!--------!!!!', '           ']) {
    assert.equal(weakness(pw), 'one_kind_of_character', JSON.stringify(pw));
  }
});

test('characters a mail client may send in another encoding (accents, emoji) or cannot type (controls) are refused', () => {
  for (const pw of ['Perché-no-2026', 'password🙂12345', 'Tabulazione\t12', 'Nul\u0000character1', 'a\u00a0nbsp-space1']) {
    assert.equal(weakness(pw), 'not_printable_ascii', JSON.stringify(pw));
  }
});

test('the mailbox address, or its local part, inside the password is refused, in any case', () => {
  assert.equal(weakness('mario.rossi2026'), 'contains_address');
  assert.equal(weakness('xxMARIO.ROSSI!!'), 'contains_address');
  assert.equal(weakness('Mario.Rossi@pec.studio.it'), 'contains_address');
  assert.equal(weakness('mario-rossi-2026'), null, 'only the local part as written counts');
  // A very short local part would refuse too much; the whole address still counts.
  assert.equal(weakness('Casa-di-ab-2026', 'ab@pec.it'), null);
  assert.equal(weakness('my ab@pec.it 1', 'ab@pec.it'), 'contains_address');
});

test('the current password again is refused', () => {
  assert.equal(weakness(CURRENT), 'same_as_current');
  assert.equal(weakness(CURRENT.toUpperCase()), null, 'a password differing in case is another password');
});
