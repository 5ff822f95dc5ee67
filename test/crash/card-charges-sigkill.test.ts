// R18 under a crash, on PostgreSQL: a spawned `casella serve` is killed with SIGKILL while its
// start-up daily job charges saved cards; once the dead process's leases have ended, a restarted one
// finishes. Each mailbox is charged exactly once at the gateway (one idempotency key answered once),
// credited once, invoiced once, and the ledger verifies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { openDatabase, type Database } from '../../src/db/database.ts';
import { migrate } from '../../src/db/migrate.ts';
import { saveTestClock } from '../../src/app.ts';
import { clock } from '../../src/clock.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { seedCardRenewals } from '../../bench/card-renewals.ts';
import { storedDatabase } from '../support/http.ts';
import { spawnServe, waitForLog } from '../support/serve-process.ts';

const MAILBOXES = 3000;
const TODAY = '2027-02-22';
const DUE_ON = '2027-03-01';
// Classes 2 (extra space short) and 3 (no credit) of the bench seed need a charge.
const NEEDING = Math.floor((MAILBOXES + 2) / 4) + Math.floor((MAILBOXES + 1) / 4);

const gatewayCharges = async (db: Database) => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM test_gateway_charges'))[0]!.n;

test('SIGKILL during a run of card charges, restart: each mailbox charged exactly once [postgres]', { skip: !process.env.TEST_DATABASE_URL }, async () => {
  const stored = await storedDatabase('postgres');
  const db = await openDatabase({ url: stored.env.DATABASE_URL });
  try {
    await migrate(db);
    clock.setRome(`${TODAY}T08:00`);
    await seedCardRenewals(db, MAILBOXES, DUE_ON);
    await saveTestClock(db, clock.nowMs());

    const first = spawnServe(stored.env);
    const exited = once(first, 'exit');
    await waitForLog(first, /Server listening/);
    // Kill it in the middle: some cards charged at the gateway, not all.
    while ((await gatewayCharges(db)) === 0) { /* poll */ }
    first.kill('SIGKILL');
    await exited;
    const partial = await gatewayCharges(db);
    assert.ok(partial < NEEDING, `the kill came after the charges ended (${partial})`);
    const claimedLeft = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM card_charges WHERE state = 'claimed'`))[0]!.n;

    // R20: a dead process's claims are taken over when their lease (a minute) ends; the test
    // lets that minute pass by moving the leases' end instead of waiting.
    await db.query(`UPDATE card_charges SET lease_until = now() - interval '1 second' WHERE state = 'claimed'`);
    const second = spawnServe(stored.env);
    const exited2 = once(second, 'exit');
    await waitForLog(second, /daily job done/);
    second.kill('SIGTERM');
    await exited2;

    const perMailbox = await db.query<{ charges: number; succeeded: number; invoices: number }>(
      `SELECT count(g.*)::int AS charges, count(*) FILTER (WHERE t.status = 'succeeded')::int AS succeeded, count(i.*)::int AS invoices
         FROM card_charge_attempts a JOIN topups t ON t.id = a.topup_id
         LEFT JOIN test_gateway_charges g ON g.topup_id = a.topup_id LEFT JOIN invoices i ON i.topup_id = t.id
        GROUP BY a.mailbox_id`,
    );
    assert.equal(perMailbox.length, NEEDING, `claimed at the kill: ${claimedLeft}`);
    assert.ok(perMailbox.every((m) => m.charges === 1 && m.succeeded === 1 && m.invoices === 1), JSON.stringify(perMailbox.filter((m) => m.charges !== 1 || m.succeeded !== 1).slice(0, 5)));
    assert.equal(await gatewayCharges(db), NEEDING);
    const states = await db.query<{ state: string; n: number }>('SELECT state, count(*)::int AS n FROM card_charges GROUP BY state');
    assert.deepEqual(states, [{ state: 'succeeded', n: NEEDING }]);
    // Every credited top-up was credited once: the ledger has one top-up transaction per charge.
    const credited = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ledger_transactions WHERE kind = 'topup'`);
    assert.equal(credited[0]!.n, NEEDING);
    assert.equal((await verifyLedger(db)).ok, true);
  } finally {
    await db.close();
    clock.set(null);
    await stored.drop();
  }
});
