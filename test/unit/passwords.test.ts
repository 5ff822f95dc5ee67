// Mailbox password hashes (issue 13): Argon2id for new ones, scrypt ones from before still verified.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, isLegacyHash, legacyHashPassword, UNUSABLE_HASH, verifyPassword } from '../../src/services/access/passwords.ts';

const PARAMS = '$argon2id$v=19$m=19456,t=2,p=1$';

test('a new hash is Argon2id with OWASP\'s minimum cost and its own salt; it verifies its password only', async () => {
  const [a, b] = [await hashPassword('Segreta-2026'), await hashPassword('Segreta-2026')];
  assert.ok(a.startsWith(PARAMS) && b.startsWith(PARAMS), a);
  assert.notEqual(a, b, 'salted');
  assert.equal(isLegacyHash(a), false);
  assert.equal(await verifyPassword('Segreta-2026', a), true);
  assert.equal(await verifyPassword('segreta-2026', a), false);
});

test('a scrypt hash from before is legacy and still verifies its password', async () => {
  const old = await legacyHashPassword('Segreta-2026');
  assert.equal(isLegacyHash(old), true);
  assert.equal(await verifyPassword('Segreta-2026', old), true);
  assert.equal(await verifyPassword('Segreta-2027', old), false);
});

test('malformed stored strings match nothing instead of throwing', async () => {
  for (const stored of ['', 'plain', '$argon2id$v=19$m=19456,t=2,p=1$bad', 'scrypt$1$1$1$$', 'scrypt$0$8$1$AAAA$AAAA', '{ARGON2ID}$argon2id$']) {
    assert.equal(await verifyPassword('anything', stored), false, stored);
  }
});

test('the hash compared against for unknown addresses is an Argon2id hash of the same cost that matches nothing', async () => {
  assert.ok(UNUSABLE_HASH.startsWith(PARAMS));
  for (const pw of ['', 'password', '\u0000']) assert.equal(await verifyPassword(pw, UNUSABLE_HASH), false);
});
