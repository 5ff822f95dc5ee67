// The scheduler inside `casella serve`: besides the daily job, the usage pass runs at every tick, so
// usage reported continuously by the mail server (R14) warns the holder within a minute (R11), not at
// the next daily run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config.ts';
import { startScheduler } from '../../src/scheduler.ts';
import { forEachEngine } from '../support/engines.ts';
import { holderWithMailbox, outboxOf } from '../support/fixtures.ts';

/** Resolves once `check` holds, checking every 20 ms; fails after `ms`. */
async function eventually(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

forEachEngine('scheduler', (use) => {
  test('a usage report from the mail server is warned about at the next tick, without a daily run', async () => {
    const { ctx, db } = use();
    clock.setRome('2027-01-15T10:00');
    const { customer, mailbox } = await holderWithMailbox(ctx, { expiresOn: '2027-12-01' });
    const infos: string[] = [];
    const log = { info: (_o: object, m?: string) => infos.push(m ?? ''), warn: () => {}, error: (o: object) => infos.push(JSON.stringify(o)) };
    const app = { config: { ...loadConfig({}), smtpUrl: undefined }, db, ctx };
    const scheduler = startScheduler(app, log, { dayCheckIntervalMs: 50 });
    try {
      await eventually(async () => infos.includes('daily job done'), 10_000, 'the daily job at start');
      assert.equal((await outboxOf(ctx, customer.id)).filter((m) => m.kind === 'usage_warning').length, 0);
      // Dovecot's quota_clone reports 900 MB of the 1 GB inbox.
      await db.query(`INSERT INTO dovecot.quota_usage (username, bytes) VALUES ($1, $2)`, [mailbox.address.toLowerCase(), 900 * 1024 * 1024]);
      await eventually(
        async () => (await outboxOf(ctx, customer.id)).some((m) => m.kind === 'usage_warning'),
        5_000,
        'the usage warning',
      );
      assert.equal(infos.filter((m) => m === 'daily job done').length, 1, 'no second daily run did it');
    } finally {
      await scheduler.stop();
    }
  });
});
