// The attacks of issue 12 on logins, sessions, the language switch, operator tokens and /dev/mail,
// over real HTTP on each engine: each test is named after the attack it shows failing.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { clock } from '../../src/clock.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { THROTTLE } from '../../src/services/access/sessions.ts';
import { completePasswordReset, requestPasswordReset } from '../../src/services/access/password-reset.ts';
import { outboxOf } from '../support/fixtures.ts';
import { Client, forEachServer, provisionHolder } from '../support/http.ts';

const EVIL = 'https://evil.example';
const HOUR_MS = 3600_000;

/** The value of one cookie a response sets, or undefined. */
function setCookie(res: Response, name: string): string | undefined {
  for (const line of res.headers.getSetCookie()) {
    const m = new RegExp(`^${name}=([^;]*)`).exec(line);
    if (m) return m[1];
  }
  return undefined;
}

forEachServer('security: logins, sessions, language, operator tokens, /dev/mail', (t) => {
  // Every request of these tests comes from 127.0.0.1: one test's throttling must not leak into the next.
  afterEach(async () => {
    clock.setWallOffset(0);
    await t.s.app.db.query('DELETE FROM login_throttle');
  });

  const postJson = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(t.s.baseUrl + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), redirect: 'manual' });
  const postForm = (path: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(t.s.baseUrl + path, { method: 'POST', headers, body: new URLSearchParams(fields), redirect: 'manual' });
  const logIn = (address: string, password: string, deviceCookie?: string) =>
    postJson('/api/session', { address, password }, deviceCookie ? { cookie: `casella_device=${deviceCookie}` } : {});
  const localeOf = async (customerId: string) => (await t.op.get(`/api/admin/customers/${customerId}`)).body.customer.locale;

  test('login throttle: a parallel burst of 60 wrong passwords is counted before any password is checked, and the right password sent during it is refused', async () => {
    const h = await provisionHolder(t.op);
    let rightAnswer: Promise<Response> | undefined;
    const burst = Array.from({ length: 60 }, (_, i) =>
      logIn(h.mailbox.address, `wrong-${i}`).then((res) => {
        // The first refusal proves the limit was reached: the right password now must not pass.
        if (res.status === 429) rightAnswer ??= logIn(h.mailbox.address, h.password);
        return res;
      }),
    );
    const statuses = (await Promise.all(burst)).map((r) => r.status);
    const right = await (rightAnswer ?? logIn(h.mailbox.address, h.password));
    const checked = statuses.filter((x) => x === 401).length;
    assert.ok(checked >= 1 && checked <= THROTTLE.perAddressMax, `passwords checked: ${checked} (${statuses.join()})`);
    assert.equal(statuses.filter((x) => x === 429).length, 60 - checked);
    assert.equal(right.status, 429);
    assert.equal(setCookie(right, 'casella_session'), undefined);
    assert.ok(Number(right.headers.get('retry-after')) > 0);
  });

  test('login lockout: strangers who lock an address out do not lock out its owner, whose browser has a device cookie with an allowance of its own', async () => {
    const h = await provisionHolder(t.op);
    const first = await logIn(h.mailbox.address, h.password);
    assert.equal(first.status, 200);
    const device = setCookie(first, 'casella_device');
    assert.ok(device);

    // The attacker, with no device cookie, locks the address.
    for (let i = 0; i < THROTTLE.perAddressMax; i++) assert.equal((await logIn(h.mailbox.address, `guess-${i}`)).status, 401);
    const stranger = await logIn(h.mailbox.address, h.password);
    assert.equal(stranger.status, 429, 'an unknown client stays throttled, right password included');

    // The owner's browser still logs in, by the API and by the web form.
    const owner = await logIn(h.mailbox.address, h.password, device);
    assert.equal(owner.status, 200);
    const renewed = setCookie(owner, 'casella_device')!;
    assert.ok(renewed);
    const web = await postForm('/login', { address: h.mailbox.address, password: h.password }, { cookie: `casella_device=${renewed}` });
    assert.equal(web.status, 303);
    assert.equal(web.headers.get('location'), '/');
    const device2 = setCookie(web, 'casella_device')!;

    // A cookie made up, or issued for another address, is no device of this address.
    const other = await provisionHolder(t.op);
    const otherDevice = setCookie(await logIn(other.mailbox.address, other.password), 'casella_device')!;
    assert.equal((await logIn(h.mailbox.address, h.password, otherDevice)).status, 429);
    const [nonce] = device2.split('.');
    assert.equal((await logIn(h.mailbox.address, h.password, `${nonce}.${'A'.repeat(43)}`)).status, 429);

    // The device's own allowance is throttled too, after its own failures.
    for (let i = 0; i < THROTTLE.perDeviceMax; i++) assert.equal((await logIn(h.mailbox.address, `typo-${i}`, device2)).status, 401);
    const blocked = await logIn(h.mailbox.address, h.password, device2);
    assert.equal(blocked.status, 429);
    assert.ok(Number(blocked.headers.get('retry-after')) > 0);
  });

  /** Device cookies of the holder's address, from as many right logins. */
  const harvest = async (address: string, password: string, n: number): Promise<string[]> => {
    const cookies: string[] = [];
    for (let i = 0; i < n; i++) {
      const res = await logIn(address, password);
      assert.equal(res.status, 200);
      cookies.push(setCookie(res, 'casella_device')!);
    }
    return cookies;
  };

  test('issue 19: device cookies harvested by someone who once had the password together give the address at most 20 tries a window, not 5 each', async () => {
    const h = await provisionHolder(t.op);
    const harvested = await harvest(h.mailbox.address, h.password, 5);
    // Each cookie has its own 5 tries, but all the address's cookies together have 20.
    const answers: number[] = [];
    for (const cookie of harvested) for (let i = 0; i < THROTTLE.perDeviceMax; i++) answers.push((await logIn(h.mailbox.address, `guess-${answers.length}`, cookie)).status);
    assert.equal(answers.filter((x) => x === 401).length, THROTTLE.perAddressDevicesMax, answers.join());
    assert.equal(answers.length - THROTTLE.perAddressDevicesMax, answers.filter((x) => x === 429).length);
  });

  test('issue 19: device cookies count for nothing after a password change, a reset, or 180 days after they were issued', async () => {
    const h = await provisionHolder(t.op);
    const harvested = await harvest(h.mailbox.address, h.password, 1);
    const lockAddress = async () => {
      for (let i = 0; i < THROTTLE.perAddressMax; i++) assert.equal((await logIn(h.mailbox.address, `stranger-${i}`)).status, 401);
    };
    // A password change: the cookies issued before are strangers' now, even with the right password.
    const holder = new Client(t.s.baseUrl);
    assert.equal((await holder.login(h.mailbox.address, h.password)).status, 200);
    const changed = 'Cambiata-Password-2026';
    assert.equal((await holder.put('/api/me/password', { currentPassword: h.password, newPassword: changed })).status, 204);
    await lockAddress();
    assert.equal((await logIn(h.mailbox.address, changed, harvested[0])).status, 429, 'a cookie from before the change gives no allowance');
    await t.s.app.db.query('DELETE FROM login_throttle');

    // A reset: the same.
    const fresh = setCookie(await logIn(h.mailbox.address, changed), 'casella_device')!;
    await requestPasswordReset(t.s.app.ctx, h.mailbox.address, '192.0.2.50');
    const resetMail = (await outboxOf(t.s.app.ctx, h.customer.id)).filter((m) => m.kind === 'password_reset').at(-1)!;
    const token = /reimposta-password\/([A-Za-z0-9_-]+)/.exec(resetMail.text_body)![1]!;
    const afterReset = 'Reimpostata-Password-2026';
    await completePasswordReset(t.s.app.ctx, token, afterReset);
    await lockAddress();
    assert.equal((await logIn(h.mailbox.address, afterReset, fresh)).status, 429, 'a cookie from before the reset gives no allowance');
    await t.s.app.db.query('DELETE FROM login_throttle');

    // 180 days after it was issued, the server no longer counts a cookie, whatever the browser keeps.
    const old = setCookie(await logIn(h.mailbox.address, afterReset), 'casella_device')!;
    clock.setWallOffset(181 * 24 * HOUR_MS);
    await lockAddress();
    assert.equal((await logIn(h.mailbox.address, afterReset, old)).status, 429, 'an expired cookie gives no allowance');
    await t.s.app.db.query('DELETE FROM login_throttle');
    const recent = setCookie(await logIn(h.mailbox.address, afterReset), 'casella_device')!;
    await lockAddress();
    assert.equal((await logIn(h.mailbox.address, afterReset, recent)).status, 200, 'a cookie issued since the change still works');
  });

  test('sessions: an operator changing the password of one mailbox ends every session of its holder', async () => {
    const h = await provisionHolder(t.op, { mailboxes: 2 });
    const a = new Client(t.s.baseUrl);
    const b = new Client(t.s.baseUrl);
    assert.equal((await a.login(h.mailboxes[0].address, h.password)).status, 200);
    assert.equal((await b.login(h.mailboxes[1].address, h.password)).status, 200);
    // A usage report changes no password: sessions go on.
    assert.equal((await t.op.patch(`/api/admin/mailboxes/${h.mailboxes[0].id}`, { usedBytes: 1000 })).status, 200);
    assert.equal((await a.get('/api/me')).status, 200);

    assert.equal((await t.op.patch(`/api/admin/mailboxes/${h.mailboxes[1].id}`, { password: 'nuova-segreta-casella-2' })).status, 200);
    for (const c of [a, b]) {
      const me = await c.get('/api/me');
      assert.equal(me.status, 401);
      assert.equal(me.body.error.code, 'unauthenticated');
    }
    assert.equal((await new Client(t.s.baseUrl).login(h.mailboxes[1].address, 'nuova-segreta-casella-2')).status, 200);
  });

  test('sessions: a session kept busy ends 12 hours after login (absolute lifetime)', async () => {
    const h = await provisionHolder(t.op);
    const c = new Client(t.s.baseUrl);
    assert.equal((await c.login(h.mailbox.address, h.password)).status, 200);
    // Used every 20 minutes (under the 30-minute idle timeout), it lives up to its lifetime...
    for (let minutes = 20; minutes < 12 * 60; minutes += 20) {
      clock.setWallOffset(minutes * 60_000);
      assert.equal((await c.get('/api/me')).status, 200, `after ${minutes} minutes`);
    }
    // ...and not beyond.
    clock.setWallOffset(12 * HOUR_MS + 60_000);
    assert.equal((await c.get('/api/me')).status, 401);
    assert.equal((await c.get('/api/me')).status, 401);
  });

  test('login CSRF: a cross-site form posting to /login or form-encoded to /api/session logs nobody in', async () => {
    const h = await provisionHolder(t.op);
    const fields = { address: h.mailbox.address, password: h.password };
    const crossSite: Record<string, string>[] = [
      { origin: EVIL, 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'cross-site' },
      { origin: EVIL },
      { origin: 'null' },
    ];
    for (const headers of crossSite) {
      const web = await postForm('/login', fields, headers);
      assert.equal(web.status, 403, JSON.stringify(headers));
      assert.equal(setCookie(web, 'casella_session'), undefined);
      assert.match(await web.text(), /un altro sito/);
      const api = await postForm('/api/session', fields, headers);
      assert.equal(api.status, 403, JSON.stringify(headers));
      assert.equal((await api.json()).error.code, 'csrf_failed');
      assert.equal(setCookie(api, 'casella_session'), undefined);
    }
    // The site's own page, and API clients that are no browser, still log in.
    const own = await postForm('/login', fields, { origin: t.s.baseUrl, 'sec-fetch-site': 'same-origin' });
    assert.equal(own.status, 303);
    assert.ok(setCookie(own, 'casella_session'));
    const apiClient = await logIn(h.mailbox.address, h.password);
    assert.equal(apiClient.status, 200);
  });

  test('language: a cross-site GET /lang/en link does not change the holder\'s language; only a POST with the CSRF token does', async () => {
    const h = await provisionHolder(t.op, { locale: 'it' });
    const c = new Client(t.s.baseUrl);
    assert.equal((await c.login(h.mailbox.address, h.password)).status, 200);

    const link = await fetch(`${t.s.baseUrl}/lang/en?next=/`, { headers: { cookie: c.cookie, 'sec-fetch-site': 'cross-site' }, redirect: 'manual' });
    assert.equal(link.status, 303);
    assert.equal(await localeOf(h.customer.id), 'it');

    const forged = await postForm('/lang/en', { next: '/' }, { cookie: c.cookie });
    assert.equal(forged.status, 403);
    assert.equal(await localeOf(h.customer.id), 'it');

    // The page's own switch: a form that posts the token, reachable by its name without JavaScript.
    const dashboard = await (await fetch(`${t.s.baseUrl}/`, { headers: { cookie: c.cookie } })).text();
    assert.match(dashboard, /<form method="post" action="\/lang\/en"[^>]*><input type="hidden" name="_csrf" value="[^"]+">.*<button[^>]*>English<\/button><\/form>/);
    const posted = await postForm('/lang/en', { _csrf: c.csrfToken, next: '/mailboxes' }, { cookie: c.cookie });
    assert.equal(posted.status, 303);
    assert.equal(posted.headers.get('location'), '/mailboxes');
    assert.equal(await localeOf(h.customer.id), 'en');

    // Before login, the GET link still switches this browser's pages.
    const anonymous = await fetch(`${t.s.baseUrl}/lang/en?next=/login`, { redirect: 'manual' });
    assert.equal(anonymous.status, 303);
    assert.equal(setCookie(anonymous, 'casella_lang'), 'en');
    const login = await fetch(`${t.s.baseUrl}/login`, { headers: { cookie: 'casella_lang=en' } });
    assert.match(await login.text(), /<html lang="en">/);
  });

  test('operator tokens: wrong bearer tokens from one client are throttled (429 with Retry-After), even before a right one', async () => {
    const guesses: number[] = [];
    for (let i = 0; i < 25; i++) guesses.push((await new Client(t.s.baseUrl, `cop_${randomBytes(24).toString('hex')}`).get('/api/admin/ledger/verify')).status);
    assert.deepEqual(guesses.slice(0, 20), Array(20).fill(401));
    assert.deepEqual(guesses.slice(20), Array(5).fill(429));
    const refused = await t.op.get('/api/admin/ledger/verify');
    assert.equal(refused.status, 429);
    assert.equal(refused.body.error.code, 'rate_limited');
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    // Per client: an operator elsewhere is not locked out by this one.
    const elsewhere = await t.s.server.inject({ method: 'GET', url: '/api/admin/ledger/verify', remoteAddress: '192.0.2.7', headers: { authorization: `Bearer ${t.s.operatorToken}` } });
    assert.equal(elsewhere.statusCode, 200);
    // The window passes: the right token works again.
    clock.setWallOffset(15 * 60_000 + 1000);
    assert.equal((await t.op.get('/api/admin/ledger/verify')).status, 200);
  });

  test('/dev/mail: every holder\'s e-mails are shown to loopback clients only', async () => {
    for (const path of ['/dev/mail', '/dev/mail.json']) {
      assert.equal((await fetch(t.s.baseUrl + path)).status, 200, path);
      for (const remoteAddress of ['127.0.0.2', '::1', '::ffff:127.0.0.1']) {
        assert.equal((await t.s.server.inject({ method: 'GET', url: path, remoteAddress })).statusCode, 200, `${path} from ${remoteAddress}`);
      }
      for (const remoteAddress of ['192.0.2.10', '10.0.0.5', '::ffff:192.0.2.10', '2001:db8::1', '128.0.0.1']) {
        const res = await t.s.server.inject({ method: 'GET', url: path, remoteAddress });
        assert.equal(res.statusCode, 404, `${path} from ${remoteAddress}`);
        assert.equal(res.json().error.code, 'not_found');
      }
    }
  });
});

describe('security: configuration refused at start', () => {
  const serveWith = (env: Record<string, string>) => {
    const dir = mkdtempSync(join(tmpdir(), 'casella-config-'));
    try {
      return spawnSync(process.execPath, ['bin/casella.js', 'serve'], {
        env: { ...process.env, DATABASE_URL: '', CASELLA_DATA_DIR: dir, PORT: '0', NODE_ENV: '', ...env },
        encoding: 'utf8',
        timeout: 60_000,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  test('operator tokens: casella serve refuses a CASELLA_OPERATOR_TOKEN under 32 characters, in one line', () => {
    const run = serveWith({ CASELLA_OPERATOR_TOKEN: 'cop_short_but_not_32_chars' });
    assert.equal(run.status, 1); // R20: every reason not to start exits 1
    const lines = run.stderr.trim().split('\n');
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0]!, /CASELLA_OPERATOR_TOKEN must have at least 32 characters/);
    assert.throws(() => loadConfig({ CASELLA_OPERATOR_TOKEN: 'x'.repeat(31) }), ConfigError);
    assert.equal(loadConfig({ CASELLA_OPERATOR_TOKEN: 'x'.repeat(32) }).operatorToken, 'x'.repeat(32));
  });

  test('sessions: the absolute lifetime is 12 hours unless CASELLA_SESSION_LIFETIME_HOURS says otherwise', () => {
    assert.equal(loadConfig({}).sessionLifetimeMs, 12 * HOUR_MS);
    assert.equal(loadConfig({ CASELLA_SESSION_LIFETIME_HOURS: '2' }).sessionLifetimeMs, 2 * HOUR_MS);
    for (const bad of ['0', '1.5', 'abc', '721']) {
      assert.throws(() => loadConfig({ CASELLA_SESSION_LIFETIME_HOURS: bad }), /CASELLA_SESSION_LIFETIME_HOURS/);
    }
  });
});
