// Two-step verification (issue 15 item 5, TOTP per RFC 6238) over real HTTP on each engine: once a
// holder turns it on, POST /api/session answers 401 totp_required until a valid code comes with the
// password; a code works once; each recovery code works once; turning it off needs a code.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { Secret, TOTP } from 'otpauth';
import { clock } from '../../src/clock.ts';
import { confirmEnrolment, disableTwoStep, enrolment, SECOND_STEP_TRIES_MAX, twoStepStatus } from '../../src/services/access/two-step.ts';
import { login, SecondStepRequired } from '../../src/services/access/sessions.ts';
import { THROTTLE_WINDOW_MS } from '../../src/services/access/throttle.ts';
import { Client, forEachServer, provisionHolder } from '../support/http.ts';

const codeAt = (secret: string, wallMs: number) => new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 }).generate({ timestamp: wallMs });
const STEP_MS = 30_000;

forEachServer('two-step verification', (t) => {
  afterEach(async () => {
    clock.setWallOffset(0);
    await t.s.app.db.query('DELETE FROM login_throttle');
  });

  /** A holder who turned two-step verification on through the API, as a client would. */
  const enrolled = async () => {
    const h = await provisionHolder(t.op, {});
    const api = new Client(t.s.baseUrl);
    await api.login(h.mailbox.address, h.password);
    const e = await api.post('/api/me/two-step/enrolment');
    assert.equal(e.status, 200);
    assert.match(e.body.otpauthUri, /^otpauth:\/\/totp\/Casella:.*\?.*secret=[A-Z2-7]+/);
    assert.match(e.body.qrDataUrl, /^data:image\/png;base64,/);
    const wrong = await api.post('/api/me/two-step/confirmation', { totpCode: '000000' });
    assert.equal(wrong.status, 422);
    assert.ok(wrong.body.error.fields.totpCode);
    const confirmed = await api.post('/api/me/two-step/confirmation', { totpCode: codeAt(e.body.secret, clock.wallMs()) });
    assert.equal(confirmed.status, 200);
    assert.equal((await api.get('/api/me/two-step')).body.twoStep.recoveryCodesLeft, 10);
    assert.equal((await api.post('/api/me/two-step/enrolment')).status, 422, 'already on');
    return { ...h, api, secret: e.body.secret as string, codes: confirmed.body.recoveryCodes as string[] };
  };
  const logIn = (address: string, password: string, totpCode?: string) =>
    new Client(t.s.baseUrl).post('/api/session', { address, password, ...(totpCode === undefined ? {} : { totpCode }) });

  test('enrolment needs a right first code, and gives ten different recovery codes', async () => {
    const h = await provisionHolder(t.op, {});
    const e = await enrolment(t.s.app.ctx, h.customer.id, 'Casella', h.customer.referenceEmail);
    // Reloading the page keeps the secret the phone scanned.
    assert.equal((await enrolment(t.s.app.ctx, h.customer.id, 'Casella', h.customer.referenceEmail)).secret, e.secret);
    await assert.rejects(confirmEnrolment(t.s.app.ctx, h.customer.id, '000000'), /wrong or has expired/);
    assert.equal((await twoStepStatus(t.s.app.db, h.customer.id)).enabled, false);
    const codes = await confirmEnrolment(t.s.app.ctx, h.customer.id, codeAt(e.secret, clock.wallMs()));
    assert.equal(new Set(codes).size, 10);
    for (const c of codes) assert.match(c, /^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/);
    const status = await twoStepStatus(t.s.app.db, h.customer.id);
    assert.equal(status.enabled, true);
    assert.equal(status.recoveryCodesLeft, 10);
    const [stored] = await t.s.app.db.query<{ code_hash: string }>('SELECT code_hash FROM totp_recovery_codes WHERE customer_id = $1 LIMIT 1', [h.customer.id]);
    assert.ok(!codes.some((c) => stored!.code_hash.includes(c.replace(/-/g, ''))), 'only hashes are stored');
  });

  test('POST /api/session answers 401 totp_required without a code or with a wrong one, 200 with the right one', async () => {
    const h = await enrolled();
    const none = await logIn(h.mailbox.address, h.password);
    assert.equal(none.status, 401);
    assert.equal(none.body.error.code, 'totp_required');
    assert.equal(none.headers.get('set-cookie'), null, 'no session without the code');
    const wrong = await logIn(h.mailbox.address, h.password, '123456');
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error.code, 'totp_required');
    // A wrong password says so, code or not: the code is asked for only after the right password.
    assert.equal((await logIn(h.mailbox.address, 'sbagliata', codeAt(h.secret, clock.wallMs()))).body.error.code, 'invalid_credentials');

    clock.setWallOffset(STEP_MS); // the enrolment's code was of the previous step
    const code = codeAt(h.secret, clock.wallMs());
    const ok = await logIn(h.mailbox.address, h.password, code);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.customer.id, h.customer.id);
    // RFC 6238 5.2: a code is accepted once.
    const again = await logIn(h.mailbox.address, h.password, code);
    assert.equal(again.body.error.code, 'totp_required');
  });

  test('each recovery code logs in once, whatever its spacing or case', async () => {
    const h = await enrolled();
    const first = h.codes[0]!;
    assert.equal((await logIn(h.mailbox.address, h.password, ` ${first.toUpperCase().replace(/-/g, ' ')} `)).status, 200);
    assert.equal((await logIn(h.mailbox.address, h.password, first)).body.error.code, 'totp_required');
    assert.equal((await twoStepStatus(t.s.app.db, h.customer.id)).recoveryCodesLeft, 9);
  });

  test('turning it off needs a valid code; then the password alone logs in again', async () => {
    const h = await enrolled();
    await assert.rejects(disableTwoStep(t.s.app.ctx, h.customer.id, '000000'), /wrong or has expired/);
    assert.equal((await h.api.post('/api/me/two-step/disable', { totpCode: '000000' })).status, 422);
    assert.equal((await twoStepStatus(t.s.app.db, h.customer.id)).enabled, true);
    clock.setWallOffset(STEP_MS);
    assert.equal((await h.api.post('/api/me/two-step/disable', { totpCode: codeAt(h.secret, clock.wallMs()) })).status, 204);
    assert.equal((await logIn(h.mailbox.address, h.password)).status, 200);
  });

  test('guessing codes is throttled like guessing passwords', async () => {
    const h = await enrolled();
    const answers: number[] = [];
    for (let i = 0; i < 7; i++) answers.push((await logIn(h.mailbox.address, h.password, String(100000 + i))).status);
    assert.deepEqual(answers.slice(0, 5), [401, 401, 401, 401, 401]);
    assert.equal(answers[6], 429);
  });

  /** How a login with this code ended: 'checked' (a wrong code answered as such), 'refused' (429), or 'ok'. */
  const loginWith = async (address: string, password: string, clientKey: string, code?: string): Promise<'checked' | 'asked' | 'refused' | 'ok'> => {
    try {
      await login(t.s.app.ctx, address, password, clientKey, undefined, code);
      return 'ok';
    } catch (err) {
      if (err instanceof SecondStepRequired) return err.wrongCode ? 'checked' : 'asked';
      if ((err as { code?: string }).code === 'rate_limited') return 'refused';
      throw err;
    }
  };

  test('issue 19: wrong codes are counted per holder: 4 wrong codes and a code-less login per rotating client address check 5 codes in all, then none (not even the right one) until the window ends', async () => {
    const h = await enrolled();
    clock.setWallOffset(STEP_MS);
    const answers: string[] = [];
    for (let round = 0; round < 8; round++) {
      const client = `203.0.113.${round + 1}`;
      for (let i = 0; i < 4; i++) answers.push(await loginWith(h.mailbox.address, h.password, client, String(200000 + round * 4 + i)));
      // A right password without a code is asked for the code: it forgives nothing of the codes' count.
      assert.equal(await loginWith(h.mailbox.address, h.password, client), 'asked');
    }
    assert.equal(answers.filter((a) => a === 'checked').length, SECOND_STEP_TRIES_MAX, `codes checked: ${answers.join(' ')}`);
    assert.equal(await loginWith(h.mailbox.address, h.password, '198.51.100.9', codeAt(h.secret, clock.wallMs())), 'refused', 'the right code is not checked either');
    // The window ends: the right code logs in, and the count starts afresh.
    clock.setWallOffset(STEP_MS + THROTTLE_WINDOW_MS + STEP_MS);
    assert.equal(await loginWith(h.mailbox.address, h.password, '198.51.100.9', codeAt(h.secret, clock.wallMs())), 'ok');
  });

  test('issue 19: wrong recovery codes use the same per-holder count; a right one is refused once it is used up, and stays unused', async () => {
    const h = await enrolled();
    for (let i = 0; i < SECOND_STEP_TRIES_MAX; i++) {
      assert.equal(await loginWith(h.mailbox.address, h.password, `192.0.2.${i + 1}`, `aaaa-bbbb-cccc-${String(i).padStart(4, '2')}`), 'checked');
      assert.equal(await loginWith(h.mailbox.address, h.password, `192.0.2.${i + 1}`), 'asked');
    }
    assert.equal(await loginWith(h.mailbox.address, h.password, '192.0.2.99', h.codes[0]), 'refused');
    assert.equal((await twoStepStatus(t.s.app.db, h.customer.id)).recoveryCodesLeft, 10);
  });

  test('issue 19: two-step/disable answers 5 wrong codes, then 429 with Retry-After even for the right code; two-step stays on', async () => {
    const h = await enrolled();
    clock.setWallOffset(STEP_MS);
    const answers: number[] = [];
    for (let i = 0; i < 8; i++) answers.push((await h.api.post('/api/me/two-step/disable', { totpCode: String(300000 + i) })).status);
    assert.deepEqual(answers, [422, 422, 422, 422, 422, 429, 429, 429]);
    const right = await h.api.post('/api/me/two-step/disable', { totpCode: codeAt(h.secret, clock.wallMs()) });
    assert.equal(right.status, 429);
    assert.ok(Number(right.headers.get('retry-after')) > 0);
    assert.equal((await twoStepStatus(t.s.app.db, h.customer.id)).enabled, true);
    clock.setWallOffset(STEP_MS + THROTTLE_WINDOW_MS + STEP_MS);
    assert.equal((await h.api.post('/api/me/two-step/disable', { totpCode: codeAt(h.secret, clock.wallMs()) })).status, 204);
  });
});
