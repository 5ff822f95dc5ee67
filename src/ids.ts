import { randomFillSync } from 'node:crypto';
import { clock } from './clock.ts';

/**
 * Opaque ids (API.md): a readable prefix, the creation time in milliseconds as 11 hex digits, and
 * 72 random bits. Time first keeps B-tree inserts at the right edge of each primary-key index
 * instead of scattering them over every page: at a million renewals a night that is the difference
 * between a few hot index pages and rewriting (and WAL-logging) the whole index. Machine time, not
 * business time: the test clock must not make new ids sort before old ones.
 */
export const newId = (prefix: string): string =>
  `${prefix}_${clock.wallMs().toString(16).padStart(11, '0')}${randomChunk()}`;

// The random bits are cut from a pool filled by one call to the CSPRNG per 455 ids: a call per id
// (randomBytes(9)) was a tenth of the daily job's JavaScript time, at five ids per renewal.
const CHUNK = 9;
const pool = Buffer.alloc(CHUNK * 455);
let used = pool.length;

function randomChunk(): string {
  if (used === pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const s = pool.toString('base64url', used, used + CHUNK);
  used += CHUNK;
  return s;
}
