// Issue 19, on each engine: the daily job purges what counts for nothing any more (sessions idle or
// past their lifetime, throttle counters whose window ended, used or expired reset and confirmation
// links, timed-out login second steps), in bounded batches; and a throttled client cannot grow the
// throttle table by trying new addresses.
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { clock } from '../../src/clock.ts';
import { forEachEngine } from '../support/engines.ts';
import { holderWithMailbox } from '../support/fixtures.ts';
import { runDailyJob } from '../../src/services/daily.ts';
import { login, SESSION_IDLE_MS, THROTTLE } from '../../src/services/access/sessions.ts';
import { THROTTLE_WINDOW_MS } from '../../src/services/access/throttle.ts';
import { RESET_THROTTLE, requestPasswordReset } from '../../src/services/access/password-reset.ts';
import type { ServiceContext } from '../../src/services/context.ts';

const DAY_MS = 24 * 3600_000;
const count = async (ctx: ServiceContext, table: string): Promise<number> => (await ctx.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0]!.n;

forEachEngine('housekeeping of the security tables', (use) => {
  beforeEach(() => clock.setRome('2026-06-10T10:00'));
  afterEach(async () => {
    clock.setWallOffset(0);
    await use().ctx.db.query('DELETE FROM login_throttle');
  });

  test('issue 19: the daily job purges expired sessions, ended throttle windows, used and expired reset and confirmation links and timed-out second steps, in batches, keeping what is live', async () => {
    const { ctx } = use();
    const { customer, mailbox } = await holderWithMailbox(ctx, { password: 'Password-1234' });
    const nowMs = clock.wallMs();
    const at = (agoMs: number) => new Date(nowMs - agoMs);
    const insertSession = (id: string, createdAgoMs: number, seenAgoMs: number) =>
      ctx.db.query('INSERT INTO sessions (id_hash, customer_id, mailbox_id, csrf_token, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6)', [
        id, customer.id, mailbox.id, 'csrf', at(createdAgoMs), at(seenAgoMs),
      ]);
    for (let i = 0; i < 5; i++) await insertSession(`idle-${i}`, DAY_MS, SESSION_IDLE_MS + 60_000);
    await insertSession('too-old', 13 * 3600_000, 1000);
    await insertSession('live', 3600_000, 1000);
    for (let i = 0; i < 5; i++) await ctx.db.query('INSERT INTO login_throttle (key, attempts, window_start) VALUES ($1, 9, $2)', [`client:old-${i}`, at(THROTTLE_WINDOW_MS + 1000)]);
    await ctx.db.query('INSERT INTO login_throttle (key, attempts, window_start) VALUES ($1, 3, $2)', ['client:now', at(1000)]);
    const insertReset = (id: string, expiresAgoMs: number, used: boolean) =>
      ctx.db.query('INSERT INTO password_resets (id_hash, mailbox_id, customer_id, created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $5, $6)', [
        id, mailbox.id, customer.id, at(DAY_MS), at(expiresAgoMs), used ? at(DAY_MS) : null,
      ]);
    await insertReset('reset-used', -60_000, true);
    await insertReset('reset-expired', 60_000, false);
    await insertReset('reset-live', -60_000, false);
    const insertEmailLink = (id: string, expiresAgoMs: number, used: boolean) =>
      ctx.db.query('INSERT INTO reference_email_changes (id_hash, customer_id, new_email, created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $5, $6)', [
        id, customer.id, 'nuovo@example.com', at(DAY_MS), at(expiresAgoMs), used ? at(DAY_MS) : null,
      ]);
    await insertEmailLink('email-used', -60_000, true);
    await insertEmailLink('email-expired', 60_000, false);
    await insertEmailLink('email-live', -60_000, false);
    await ctx.db.query('INSERT INTO login_challenges (id_hash, customer_id, address, expires_at) VALUES ($1, $2, $3, $4), ($5, $2, $3, $6)', [
      'challenge-over', customer.id, mailbox.address, at(60_000), 'challenge-live', at(-60_000),
    ]);

    await runDailyJob(ctx, { batchSizeMax: 2 });

    const ids = async (table: string, key: string) => (await ctx.db.query<{ id: string }>(`SELECT ${key} AS id FROM ${table} ORDER BY 1`)).map((r) => r.id);
    assert.deepEqual(await ids('sessions', 'id_hash'), ['live']);
    assert.deepEqual(await ids('login_throttle', 'key'), ['client:now']);
    assert.deepEqual(await ids('password_resets', 'id_hash'), ['reset-live']);
    assert.deepEqual(await ids('reference_email_changes', 'id_hash'), ['email-live']);
    assert.deepEqual(await ids('login_challenges', 'id_hash'), ['challenge-live']);
  });

  test('issue 19: a throttled client cannot grow the throttle table: once refused, its tries of new addresses (logins, reset requests) write no row', async () => {
    const { ctx } = use();
    const client = '203.0.113.77';
    const statuses: string[] = [];
    const tryLogin = async (address: string) => {
      try {
        await login(ctx, address, 'Qualunque-1', client);
        statuses.push('ok');
      } catch (err) {
        statuses.push((err as { code: string }).code);
      }
    };
    for (let i = 0; i < THROTTLE.perClientMax + 1; i++) await tryLogin(`nessuno${i}@pec.test.it`);
    assert.equal(statuses.at(-1), 'rate_limited');
    const rowsWhenRefused = await count(ctx, 'login_throttle');
    for (let i = 0; i < 50; i++) await tryLogin(`ancora${i}@pec.test.it`);
    assert.deepEqual(new Set(statuses.slice(THROTTLE.perClientMax)), new Set(['rate_limited']));
    assert.equal(await count(ctx, 'login_throttle'), rowsWhenRefused, 'no new row for the addresses a refused client tries');

    const resetAnswers: string[] = [];
    const askReset = async (address: string) => {
      try {
        await requestPasswordReset(ctx, address, client);
        resetAnswers.push('accepted');
      } catch (err) {
        resetAnswers.push((err as { code: string }).code);
      }
    };
    for (let i = 0; i <= RESET_THROTTLE.perClientMax; i++) await askReset(`chiunque${i}@pec.test.it`);
    assert.equal(resetAnswers.at(-1), 'rate_limited');
    const rowsWhenResetsRefused = await count(ctx, 'login_throttle');
    for (let i = 0; i < 50; i++) await askReset(`altri${i}@pec.test.it`);
    assert.equal(resetAnswers.filter((a) => a === 'rate_limited').length, 51);
    assert.equal(await count(ctx, 'login_throttle'), rowsWhenResetsRefused);
  });
});
