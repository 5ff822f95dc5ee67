// R12: device cookies (OWASP, "Slow Down Online Guessing Attacks with Device Cookies"). A browser
// that logged in to an address gets a cookie bound to that address; with it, its login attempts
// count against the cookie's own allowance instead of the address's, so strangers who lock the
// address out do not lock its owner out. The cookie is a random nonce signed with a secret kept in
// the database (every process agrees), so it cannot be made up and needs no table of its own.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Queryable } from '../db/database.ts';

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

const signature = (secret: string, address: string, nonce: string): string =>
  createHmac('sha256', secret).update(`${address}\n${nonce}`).digest('base64url');

/** A new cookie value for a browser that just logged in to this (normalised) address. */
export async function issueDeviceCookie(db: Queryable, address: string): Promise<string> {
  const nonce = randomBytes(NONCE_BYTES).toString('base64url');
  return `${nonce}.${signature(await deviceSecret(db), address, nonce)}`;
}

/** The cookie's nonce when it was issued for this address, else null (absent, forged or another address's). */
export async function trustedDevice(db: Queryable, address: string, cookie: string | undefined): Promise<string | null> {
  if (!cookie || cookie.length > COOKIE_CHARS_MAX) return null;
  const [nonce, signed, ...rest] = cookie.split('.');
  if (!nonce || !signed || rest.length > 0) return null;
  const expected = Buffer.from(signature(await deviceSecret(db), address, nonce));
  const given = Buffer.from(signed);
  return given.length === expected.length && timingSafeEqual(given, expected) ? nonce : null;
}
