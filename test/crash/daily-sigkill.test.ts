// R7.3 under a crash: a spawned `casella serve` is killed with SIGKILL while its start-up daily job
// renews thousands of due mailboxes; a restarted one finishes the job. Every mailbox is renewed
// exactly once (one renewal record, one charge) and the ledger verifies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { openDatabase, type Database } from '../../src/db/database.ts';
import { migrate } from '../../src/db/migrate.ts';
import { saveTestClock } from '../../src/app.ts';
import { clock } from '../../src/clock.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { seedDueMailboxes } from '../../bench/renewals.ts';
import { engineNames } from '../support/engines.ts';
import { storedDatabase } from '../support/http.ts';
import { spawnServe, waitForLog } from '../support/serve-process.ts';

const MAILBOXES = 4000;
const DUE_ON = '2027-03-01';

const renewedCount = async (db: Database) =>
  (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM renewals WHERE service = 'mailbox'`))[0]!.n;

for (const engine of engineNames()) {
  test(`SIGKILL during the daily job, restart, run again: every mailbox renewed exactly once [${engine}]`, async () => {
    const stored = await storedDatabase(engine);
    const open = () => openDatabase({ url: stored.env.DATABASE_URL, dataDir: stored.env.CASELLA_DATA_DIR });
    try {
      let db = await open();
      await migrate(db);
      clock.setRome(`${DUE_ON}T08:00`);
      await seedDueMailboxes(db, MAILBOXES, DUE_ON);
      await saveTestClock(db, clock.nowMs());
      if (engine === 'pglite') await db.close(); // the embedded data directory is one process's at a time

      const first = spawnServe(stored.env);
      const exited = once(first, 'exit');
      await waitForLog(first, /Server listening/);
      if (engine === 'postgres') {
        // Kill it in the middle: some mailboxes done, not all.
        for (;;) {
          const n = await renewedCount(db);
          if (n > 0) break;
        }
      }
      first.kill('SIGKILL');
      await exited;

      if (engine === 'postgres') {
        const partial = await renewedCount(db);
        assert.ok(partial < MAILBOXES, `the kill came after the job ended (${partial})`);
      }
      if (engine === 'pglite') db = await open();
      const before = await renewedCount(db);
      if (engine === 'pglite') await db.close();

      const second = spawnServe(stored.env);
      const exited2 = once(second, 'exit');
      await waitForLog(second, /daily job done/);
      second.kill('SIGTERM');
      await exited2;

      if (engine === 'pglite') db = await open();
      assert.equal(await renewedCount(db), MAILBOXES, `renewed before the restart: ${before}`);
      const charges = await db.query<{ n: number; mailboxes: number }>(
        `SELECT count(*)::int AS n, count(DISTINCT mailbox_id)::int AS mailboxes FROM ledger_transactions WHERE kind = 'renewal'`,
      );
      // Classes 0,1 (mailbox + extra space) and 2 (mailbox only) pay; class 3 has no credit.
      const paying = MAILBOXES - Math.floor((MAILBOXES + 1) / 4);
      assert.equal(charges[0]!.n, paying);
      assert.equal(charges[0]!.mailboxes, paying);
      const states = await db.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM mailboxes WHERE id LIKE 'mbx_bench%' GROUP BY status ORDER BY status`);
      assert.deepEqual(states, [
        { status: 'active', n: paying },
        { status: 'expired', n: MAILBOXES - paying },
      ]);
      assert.equal((await verifyLedger(db)).ok, true);
      await db.close();
    } finally {
      clock.set(null);
      await stored.drop();
    }
  });
}
