// Two-step verification (issue 15 item 5, TOTP per RFC 6238) over real HTTP on each engine: once a
// holder turns it on, POST /api/session answers 401 totp_required until a valid code comes with the
// password; a code works once; each recovery code works once; turning it off needs a code.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { Secret, TOTP } from 'otpauth';
import { clock } from '../../src/clock.ts';
import { confirmEnrolment, disableTwoStep, enrolment, twoStepStatus } from '../../src/services/two-step.ts';
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
});
