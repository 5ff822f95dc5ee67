// Issue 15 item 4, `Password dimenticata?`, over real HTTP on each engine: the same answer whether or
// not the address exists; a link to the holder's reference e-mail that works once, for 30 minutes;
// the new password works and the old does not; every session of the holder ends; two-step
// verification stays on and is asked for; requests are throttled.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { Secret, TOTP } from 'otpauth';
import { clock } from '../../src/clock.ts';
import { RESET_THROTTLE, requestPasswordReset } from '../../src/services/access/password-reset.ts';
import { verifyPassword } from '../../src/services/access/passwords.ts';
import { outboxOf } from '../support/fixtures.ts';
import { Client, forEachServer, provisionHolder } from '../support/http.ts';
import { formFields, postForm } from '../support/web-forms.ts';

const STRONG = 'Nuova-Segreta-2026';
const codeAt = (secret: string, wallMs: number) => new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 }).generate({ timestamp: wallMs });

forEachServer('password recovery', (t) => {
  afterEach(async () => {
    clock.setWallOffset(0);
    await t.s.app.db.query('DELETE FROM login_throttle');
  });
  const resetMails = async (customerId: string) => (await outboxOf(t.s.app.ctx, customerId)).filter((m) => m.kind === 'password_reset');
  /** The path of the newest reset link sent to the holder. */
  const lastLink = async (customerId: string): Promise<string> => {
    const mails = await resetMails(customerId);
    const m = /https?:\/\/[^/\s]+(\/reimposta-password\/[A-Za-z0-9_-]+)/.exec(mails.at(-1)?.text_body ?? '');
    assert.ok(m, 'a reset link in the e-mail');
    return m[1]!;
  };
  const apiToken = (path: string) => path.replace('/reimposta-password/', '');
  const loginStatus = async (address: string, password: string) => (await new Client(t.s.baseUrl).login(address, password)).status;
  const loggedIn = async (address: string, password: string) => {
    const c = new Client(t.s.baseUrl);
    assert.equal((await c.login(address, password)).status, 200);
    return c;
  };

  test('an existing and an unknown address get the same answer, from the API and from the page; only the existing one sends a link, to the reference e-mail, naming the mailbox', async () => {
    const h = await provisionHolder(t.op);
    const anon = new Client(t.s.baseUrl);
    const known = await anon.post('/api/password-resets', { address: h.mailbox.address.toUpperCase() });
    const unknown = await anon.post('/api/password-resets', { address: `nessuno.${Date.now()}@pec.casella.test` });
    assert.equal(known.status, 202);
    assert.deepEqual([unknown.status, unknown.body], [known.status, known.body]);

    const page = await anon.get<string>('/login');
    assert.match(page.body, /<a href="\/password-dimenticata">Password dimenticata\?<\/a>/);
    const form = await anon.get<string>('/password-dimenticata');
    assert.match(form.body, /<h1>Password dimenticata\?<\/h1>/);
    const webKnown = await postForm(anon, '/password-dimenticata', { ...formFields(form.body, '/password-dimenticata'), address: h.mailbox.address });
    const webUnknown = await postForm(anon, '/password-dimenticata', { address: `nessuno.${Date.now()}@pec.casella.test` });
    assert.equal(webKnown.status, 303);
    assert.deepEqual([webUnknown.status, webUnknown.headers.get('location')], [303, webKnown.headers.get('location')]);
    const sent = await anon.get<string>(webKnown.headers.get('location')!);
    assert.match(sent.body, /role="status">Se l&#39;indirizzo è di una casella PEC attiva/);

    const mails = await resetMails(h.customer.id);
    assert.equal(mails.length, 2);
    for (const m of mails) {
      assert.equal(m.to_address, h.customer.referenceEmail);
      assert.equal(m.subject, `Reimposta la password: ${h.mailbox.address}`);
      assert.match(m.text_body, /vale 30 minuti/);
    }
    const [stored] = await t.s.app.db.query<{ id_hash: string }>('SELECT id_hash FROM password_resets WHERE customer_id = $1', [h.customer.id]);
    assert.ok(!(await lastLink(h.customer.id)).includes(stored!.id_hash), 'only the hash of the token is stored');
  });

  test('the link sets the new password once: the old one fails, the new one works, every session of the holder ends', async () => {
    const h = await provisionHolder(t.op, { mailboxes: 2 });
    const [first, second] = h.mailboxes;
    const sessions = [await loggedIn(first.address, h.password), await loggedIn(second.address, h.password)];
    await new Client(t.s.baseUrl).post('/api/password-resets', { address: first.address });
    const link = await lastLink(h.customer.id);

    const anon = new Client(t.s.baseUrl);
    const info = await anon.get(`/api/password-resets/${apiToken(link)}`);
    assert.equal(info.status, 200);
    assert.equal(info.body.address, first.address);
    assert.equal(info.body.totpRequired, false);

    const page = await anon.get<string>(link);
    assert.equal(page.status, 200);
    assert.match(page.body, /<h1>Reimposta la password<\/h1>/);
    assert.match(page.body, /<label for="new-password">Nuova password<\/label>/);
    const fields = formFields(page.body, link);
    const weak = await postForm(anon, link, { ...fields, newPassword: 'corta1' });
    assert.equal(weak.status, 422);
    assert.match(weak.body, /id="new-password-error">La nuova password deve avere almeno 10 caratteri/);
    for (const c of sessions) assert.equal((await c.get('/api/me')).status, 200, 'a refused reset changes nothing');

    const done = await postForm(anon, link, { ...fields, newPassword: STRONG });
    assert.equal(done.status, 303, done.body);
    assert.equal(done.headers.get('location'), '/login?reimpostata=1');
    assert.match((await anon.get<string>('/login?reimpostata=1')).body, /role="status">Password reimpostata\. Accedi con la nuova password\./);

    for (const c of sessions) assert.equal((await c.get('/api/me')).status, 401, 'every session of the holder ended');
    assert.equal(await loginStatus(first.address, h.password), 401);
    assert.equal(await loginStatus(first.address, STRONG), 200);
    assert.equal(await loginStatus(second.address, h.password), 200, 'only the mailbox asked for changed');
    // What the mail server reads (dovecot.passdb, no cache in between): the new password, not the old.
    const [passdb] = await t.s.app.db.query<{ password: string }>('SELECT password FROM dovecot.passdb WHERE username = $1', [first.address.toLowerCase()]);
    const phc = passdb!.password.replace(/^\{ARGON2ID\}/, '');
    assert.equal(await verifyPassword(STRONG, phc), true);
    assert.equal(await verifyPassword(h.password, phc), false);

    const again = await postForm(anon, link, { ...fields, newPassword: 'Ancora-Altra-2027' });
    assert.equal(again.status, 404);
    assert.match(again.body, /Il link non è valido/);
    assert.equal((await anon.post(`/api/password-resets/${apiToken(link)}`, { newPassword: 'Ancora-Altra-2027' })).status, 404);
    assert.equal(await loginStatus(first.address, STRONG), 200, 'the used link changed nothing more');
  });

  test('the link expires after 30 minutes, and a newer link voids the older one', async () => {
    const h = await provisionHolder(t.op);
    const anon = new Client(t.s.baseUrl);
    await anon.post('/api/password-resets', { address: h.mailbox.address });
    const older = await lastLink(h.customer.id);
    await anon.post('/api/password-resets', { address: h.mailbox.address });
    const newer = await lastLink(h.customer.id);
    assert.notEqual(older, newer);
    assert.equal((await anon.post(`/api/password-resets/${apiToken(older)}`, { newPassword: STRONG })).status, 404);

    clock.setWallOffset(29 * 60_000);
    assert.equal((await anon.get(newer)).status, 200, 'still valid at 29 minutes');
    clock.setWallOffset(30 * 60_000 + 1000);
    assert.equal((await anon.get(newer)).status, 404);
    const late = await anon.post(`/api/password-resets/${apiToken(newer)}`, { newPassword: STRONG });
    assert.equal(late.status, 404);
    assert.equal(late.body.error.code, 'not_found');
    clock.setWallOffset(0);
    assert.equal(await loginStatus(h.mailbox.address, h.password), 200, 'the password did not change');
  });

  test('requests are throttled per address (known or not, alike) and per client', async () => {
    const h = await provisionHolder(t.op);
    const anon = new Client(t.s.baseUrl);
    const unknown = `nessuno.${Date.now()}@pec.casella.test`;
    for (let i = 0; i < RESET_THROTTLE.perAddressMax; i++) {
      assert.equal((await anon.post('/api/password-resets', { address: h.mailbox.address })).status, 202);
      assert.equal((await anon.post('/api/password-resets', { address: unknown })).status, 202);
    }
    const known = await anon.post('/api/password-resets', { address: h.mailbox.address });
    const other = await anon.post('/api/password-resets', { address: unknown });
    assert.equal(known.status, 429);
    assert.deepEqual([other.status, other.body.error.code], [known.status, known.body.error.code]);
    assert.ok(Number(known.headers.get('retry-after')) > 0);
    assert.equal((await resetMails(h.customer.id)).length, RESET_THROTTLE.perAddressMax);

    // The client's own allowance, across addresses.
    let status = 202;
    for (let i = 0; status === 202 && i < RESET_THROTTLE.perClientMax; i++) status = (await anon.post('/api/password-resets', { address: `altro${i}.${Date.now()}@pec.casella.test` })).status;
    assert.equal(status, 429);
    const web = await postForm(anon, '/password-dimenticata', { address: `ancora.${Date.now()}@pec.casella.test` });
    assert.equal(web.status, 429);
    assert.match(web.body, /Troppe richieste/);
  });

  test('with two-step verification on, the reset asks for a code; a wrong one is refused, the right one sets the password, and two-step stays on', async () => {
    const h = await provisionHolder(t.op, { locale: 'en' });
    const api = await loggedIn(h.mailbox.address, h.password);
    const e = await api.post('/api/me/two-step/enrolment');
    assert.equal((await api.post('/api/me/two-step/confirmation', { totpCode: codeAt(e.body.secret, clock.wallMs()) })).status, 200);

    const anon = new Client(t.s.baseUrl);
    await anon.post('/api/password-resets', { address: h.mailbox.address });
    const [mail] = await resetMails(h.customer.id);
    assert.equal(mail!.subject, `Reset your password: ${h.mailbox.address}`, 'in the holder\'s language');
    const link = await lastLink(h.customer.id);
    assert.equal((await anon.get(`/api/password-resets/${apiToken(link)}`)).body.totpRequired, true);
    const page = await anon.get<string>(link);
    assert.match(page.body, /<html lang="en">/);
    assert.match(page.body, /<label for="totp-code">/);

    const none = await anon.post(`/api/password-resets/${apiToken(link)}`, { newPassword: STRONG });
    assert.deepEqual([none.status, none.body.error.code], [401, 'totp_required']);
    const wrong = await postForm(anon, link, { ...formFields(page.body, link), newPassword: STRONG, totpCode: '000000' });
    assert.equal(wrong.status, 401);
    assert.match(wrong.body, /id="totp-code-error"/);
    assert.equal(await loginStatus(h.mailbox.address, h.password), 401, 'a login without the code is refused as before (totp_required)');

    clock.setWallOffset(30_000); // a code of the next step: the enrolment's was used
    const ok = await anon.post(`/api/password-resets/${apiToken(link)}`, { newPassword: STRONG, totpCode: codeAt(e.body.secret, clock.wallMs()) });
    assert.equal(ok.status, 204, JSON.stringify(ok.body));
    assert.equal((await api.get('/api/me')).status, 401);
    const withoutCode = await new Client(t.s.baseUrl).post('/api/session', { address: h.mailbox.address, password: STRONG });
    assert.deepEqual([withoutCode.status, withoutCode.body.error.code], [401, 'totp_required'], 'two-step verification is still on');
    clock.setWallOffset(60_000);
    const withCode = await new Client(t.s.baseUrl).post('/api/session', { address: h.mailbox.address, password: STRONG, totpCode: codeAt(e.body.secret, clock.wallMs()) });
    assert.equal(withCode.status, 200);
  });

  test('issue 19: a reset request takes as long for an unknown address as for a known one (medians of interleaved requests)', async () => {
    const pairs = 21;
    const h = await provisionHolder(t.op, { mailboxes: pairs + 1 });
    const timed = async (address: string, clientKey: string): Promise<number> => {
      const startMs = performance.now();
      await requestPasswordReset(t.s.app.ctx, address, clientKey);
      return performance.now() - startMs;
    };
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i <= pairs; i++) {
      const client = `198.51.100.${i + 1}`;
      const nobody = `nessuno${i}.${Date.now()}@pec.casella.test`;
      // Alternating which goes first, so neither gains from a warmer cache; the first pair warms up.
      let knownMs: number;
      let unknownMs: number;
      if (i % 2) {
        knownMs = await timed(h.mailboxes[i].address, client);
        unknownMs = await timed(nobody, client);
      } else {
        unknownMs = await timed(nobody, client);
        knownMs = await timed(h.mailboxes[i].address, client);
      }
      if (i === 0) continue;
      known.push(knownMs);
      unknown.push(unknownMs);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const [knownMs, unknownMs] = [median(known), median(unknown)];
    console.log(`reset timing [${t.s.app.db.engine}]: known ${knownMs.toFixed(2)} ms, unknown ${unknownMs.toFixed(2)} ms`);
    assert.equal((await resetMails(h.customer.id)).length, pairs + 1, 'every known address was sent a link');
    // Before the fix a known address took 2.8 to 3.3 times as long as an unknown one (medians on this
    // machine, both engines); since, 0.8 to 1.6 times. The bound is generous for a loaded machine.
    const ratio = Math.max(knownMs, unknownMs) / Math.min(knownMs, unknownMs);
    assert.ok(ratio <= 2, `known ${knownMs.toFixed(2)} ms, unknown ${unknownMs.toFixed(2)} ms: ${ratio.toFixed(2)} times`);
  });
});
