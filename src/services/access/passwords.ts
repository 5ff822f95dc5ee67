// R12, R14: mailbox passwords are stored only as slow salted hashes, in a form both Casella and the
// mail server verify: Argon2id as a PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), which
// Dovecot reads as `{ARGON2ID}<phc>` through libsodium. Hashes made before (Node's scrypt,
// `scrypt$N$r$p$salt$key`) are still verified here and rewritten as Argon2id at the next successful
// login (DECISIONS.md, "One set of credentials").
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { Algorithm, hash, verify } from '@node-rs/argon2';
import type { Queryable } from '../../db/database.ts';

/**
 * OWASP's minimum for Argon2id (19 MiB, 2 passes). Parallelism stays 1: libsodium, through which
 * Dovecot verifies, only accepts hashes made with one lane.
 */
export const ARGON2ID_COST = { memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;
const ARGON2ID = { algorithm: Algorithm.Argon2id, ...ARGON2ID_COST, outputLen: 32 } as const;
export const ARGON2ID_PREFIX = '$argon2id$';
const LEGACY_PREFIX = 'scrypt$';

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2ID);
}

/** Made before Argon2id (scrypt): verified by Casella only, rewritten at the next successful login. */
export const isLegacyHash = (stored: string): boolean => stored.startsWith(LEGACY_PREFIX);

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  if (stored.startsWith(ARGON2ID_PREFIX)) {
    try {
      return await verify(stored, password);
    } catch {
      return false; // a malformed stored string matches nothing
    }
  }
  if (isLegacyHash(stored)) return verifyScrypt(password, stored);
  return false;
}

/**
 * After `password` was verified against `stored`: a legacy hash becomes Argon2id, so the mailbox's
 * password works on the mail server without Casella in between. Only if the stored hash is still the
 * one verified: a password changed meanwhile is never overwritten with the old one. Answers whether
 * it rewrote the hash.
 */
export async function upgradeLegacyHashIfNeeded(db: Queryable, mailboxId: string, password: string, stored: string): Promise<boolean> {
  if (!isLegacyHash(stored)) return false;
  const upgraded = await hashPassword(password);
  const rows = await db.query('UPDATE mailboxes SET password_hash = $3 WHERE id = $1 AND password_hash = $2 RETURNING 1', [mailboxId, stored, upgraded]);
  return rows.length > 0;
}

/**
 * A hash that matches no password (salt and hash all zero bytes), with the cost of a real one:
 * compared against when an address is unknown, so response time does not tell which exist.
 */
export const UNUSABLE_HASH = `${ARGON2ID_PREFIX}v=19$m=${ARGON2ID_COST.memoryCost},t=${ARGON2ID_COST.timeCost},p=${ARGON2ID_COST.parallelism}$${Buffer.alloc(16).toString('base64').replace(/=+$/, '')}$${Buffer.alloc(32).toString('base64').replace(/=+$/, '')}`;

// The legacy scheme, kept to verify hashes made before Argon2id (and to make them in tests of that path).
const SCRYPT_COST = { N: 16384, r: 8, p: 1 } as const;
const SCRYPT_KEY_BYTES = 32;

function scryptAsync(password: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, SCRYPT_KEY_BYTES, { ...opts, maxmem: 64 * 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** A hash in the scheme used before Argon2id: for tests and the benchmark's comparison only. */
export async function legacyHashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, SCRYPT_COST);
  return `scrypt$${SCRYPT_COST.N}$${SCRYPT_COST.r}$${SCRYPT_COST.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

async function verifyScrypt(password: string, stored: string): Promise<boolean> {
  const [, n, r, p, salt, key] = stored.split('$');
  if (!salt || !key) return false;
  const expected = Buffer.from(key, 'base64url');
  let actual: Buffer;
  try {
    actual = await scryptAsync(password, Buffer.from(salt, 'base64url'), { N: Number(n), r: Number(r), p: Number(p) });
  } catch {
    return false; // parameters no scrypt accepts
  }
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
