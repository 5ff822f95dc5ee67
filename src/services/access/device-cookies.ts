// R12: device cookies (OWASP, "Slow Down Online Guessing Attacks with Device Cookies"). A browser
// that logged in to an address gets a cookie bound to that address; with it, its login attempts
// count against the cookie's own allowance instead of the address's, so strangers who lock the
// address out do not lock its owner out. The cookie is a random nonce signed with a secret kept in
// the database (every process agrees), so it cannot be made up and needs no table of its own.
// Issue 19: the signature covers the issue time and the holder's generation too, so a cookie expires
// on the server after 180 days and dies with a password change or reset; and the cookies of one
// address together have a capped allowance (sessions.ts THROTTLE.perAddressDevicesMax), so harvesting
// many of them does not multiply the guesses.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Queryable } from '../../db/database.ts';

const SECRET_NAME = 'device_cookie';
const NONCE_BYTES = 16;
const COOKIE_CHARS_MAX = 200;

async function readOrMakeSecret(db: Queryable): Promise<string> {
  await db.query(`INSERT INTO app_secrets (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [SECRET_NAME, randomBytes(32).toString('base64url')]);
  const [row] = await db.query<{ value: string }>('SELECT value FROM app_secrets WHERE name = $1', [SECRET_NAME]);
  return row!.value;
}

/** Read once per database handle: logins are throttled, not slowed by two more round trips each. */
const secrets = new WeakMap<Queryable, Promise<string>>();
function deviceSecret(db: Queryable): Promise<string> {
  let secret = secrets.get(db);
  if (!secret) {
    secret = readOrMakeSecret(db);
    secrets.set(db, secret);
    secret.catch(() => secrets.delete(db));
  }
  return secret;
}

/** R12, issue 19: a device cookie stops counting as one this long after it was issued, whatever the browser keeps. */
export const DEVICE_COOKIE_LIFETIME_MS = 180 * 24 * 3600_000;
/** A cookie issued "in the future" by more than this (clocks of two processes) is not trusted. */
const ISSUE_SKEW_MS_MAX = 5 * 60_000;

const signature = (secret: string, address: string, nonce: string, issuedAtS: number, generation: number): string =>
  createHmac('sha256', secret).update(`${address}\n${nonce}\n${issuedAtS}\n${generation}`).digest('base64url');

/**
 * Issue 19: the holder's device-cookie generation, bumped when a password of theirs is changed or
 * reset (endSessionsOf), so cookies harvested before stop giving their own allowance; null when the
 * address is no mailbox.
 */
async function generationOf(db: Queryable, address: string): Promise<number | null> {
  const [row] = await db.query<{ device_generation: number }>(
    'SELECT c.device_generation FROM mailboxes m JOIN customers c ON c.id = m.customer_id WHERE lower(m.address) = $1',
    [address],
  );
  return row ? row.device_generation : null;
}

/**
 * A new cookie value for a browser that just logged in to this (normalised) address: a random nonce,
 * the issue time (seconds) and the holder's generation, signed together with the address.
 */
export async function issueDeviceCookie(db: Queryable, address: string, generation: number, nowMs: number): Promise<string> {
  const nonce = randomBytes(NONCE_BYTES).toString('base64url');
  const issuedAtS = Math.floor(nowMs / 1000);
  return `${nonce}.${issuedAtS}.${generation}.${signature(await deviceSecret(db), address, nonce, issuedAtS, generation)}`;
}

/**
 * The cookie's nonce when it was issued for this address less than DEVICE_COOKIE_LIFETIME_MS ago and
 * in the holder's current generation, else null (absent, forged, another address's, too old, or from
 * before a password change or reset).
 */
export async function trustedDevice(db: Queryable, address: string, cookie: string | undefined, nowMs: number): Promise<string | null> {
  if (!cookie || cookie.length > COOKIE_CHARS_MAX) return null;
  const [nonce, issuedText, generationText, signed, ...rest] = cookie.split('.');
  if (!nonce || !signed || rest.length > 0 || !/^\d{1,12}$/.test(issuedText ?? '') || !/^\d{1,9}$/.test(generationText ?? '')) return null;
  const issuedAtS = Number(issuedText);
  const generation = Number(generationText);
  const expected = Buffer.from(signature(await deviceSecret(db), address, nonce, issuedAtS, generation));
  const given = Buffer.from(signed);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  const ageMs = nowMs - issuedAtS * 1000;
  if (ageMs > DEVICE_COOKIE_LIFETIME_MS || ageMs < -ISSUE_SKEW_MS_MAX) return null;
  return (await generationOf(db, address)) === generation ? nonce : null;
}
