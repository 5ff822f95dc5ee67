// R14's contract without Dovecot: what the views say of each state and space, that a report of usage
// reaches the mailbox, that each lookup is one index probe, and that the mail role reads nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clock } from '../../src/clock.ts';
import { forEachEngine } from '../support/engines.ts';
import { holderWithMailbox } from '../support/fixtures.ts';
import { placeExtraSpaceOrder } from '../../src/services/billing/orders.ts';
import { syncMailboxTypeSpace } from '../../src/mail-platform/type-space.ts';
import { buildCatalogue } from '../../src/domain/catalogue.ts';

const GiB = 1024 ** 3;

forEachEngine('R14: the dovecot schema', (use) => {
  test('passdb and userdb follow the state, the password and the space sold', async () => {
    const { ctx, db } = use();
    clock.setRome('2027-01-15T10:00');
    const { customer, mailbox } = await holderWithMailbox(ctx, { creditCents: 10_000, expiresOn: '2027-12-01' });
    const user = mailbox.address.toLowerCase();
    const pass = async () => (await db.query<{ password: string; can_send: boolean }>('SELECT password, can_send FROM dovecot.passdb WHERE username = $1', [user]))[0];
    const quota = async () => (await db.query<{ quota_bytes: string }>('SELECT quota_bytes FROM dovecot.userdb WHERE username = $1', [user]))[0];

    assert.match((await pass())!.password, /^\{ARGON2ID\}\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.equal((await pass())!.can_send, true);
    assert.equal(Number((await quota())!.quota_bytes), 1 * GiB);

    const { order } = await placeExtraSpaceOrder(ctx, customer.id, mailbox.id, 2);
    assert.equal(order.status, 'completed');
    assert.equal(Number((await quota())!.quota_bytes), 3 * GiB, 'the purchase is the quota at the next lookup');
    await db.query(`UPDATE addons SET status = 'deactivated' WHERE mailbox_id = $1`, [mailbox.id]);
    assert.equal(Number((await quota())!.quota_bytes), 1 * GiB, 'deactivated extra space is no longer enforced');

    await db.query(`UPDATE mailboxes SET status = 'expired' WHERE id = $1`, [mailbox.id]);
    assert.equal((await pass())!.can_send, false, 'in grace: reads, cannot send');
    await db.query(`UPDATE mailboxes SET status = 'terminated' WHERE id = $1`, [mailbox.id]);
    assert.equal(await pass(), undefined, 'terminated: no login');
    assert.equal(await quota(), undefined, 'terminated: unknown recipient');
  });

  test('a usage report reaches the mailbox and notes it for the usage pass; an unknown address changes nothing', async () => {
    const { ctx, db } = use();
    const { mailbox } = await holderWithMailbox(ctx);
    await db.query('DELETE FROM usage_changes');
    await db.query(
      `INSERT INTO dovecot.quota_usage (username, bytes) VALUES ($1, 123456)
       ON CONFLICT (username) DO UPDATE SET bytes = EXCLUDED.bytes`,
      [mailbox.address.toUpperCase().toLowerCase()],
    );
    await db.query(`INSERT INTO dovecot.quota_usage (username, bytes) VALUES ('nessuno@pec.test.it', 99)`);
    const [m] = await db.query<{ used_bytes: string }>('SELECT used_bytes FROM mailboxes WHERE id = $1', [mailbox.id]);
    assert.equal(Number(m!.used_bytes), 123456);
    assert.deepEqual(await db.query('SELECT mailbox_id FROM usage_changes'), [{ mailbox_id: mailbox.id }]);
  });

  test('a changed base inbox in the catalogue is the new quota of every mailbox of the type', async () => {
    const { ctx, db } = use();
    const { mailbox } = await holderWithMailbox(ctx);
    await syncMailboxTypeSpace(db, buildCatalogue({ mailboxTypes: { standard: { baseInboxMb: 5 } } }));
    const [q] = await db.query<{ quota_bytes: string }>('SELECT quota_bytes FROM dovecot.userdb WHERE username = $1', [mailbox.address.toLowerCase()]);
    assert.equal(Number(q!.quota_bytes), 5 * 1024 * 1024);
    await syncMailboxTypeSpace(db, ctx.catalogue);
  });

  test('each lookup is one probe of the address index', async () => {
    const { db } = use();
    await db.query(
      `INSERT INTO customers (id, name, reference_email, locale, created_at)
       SELECT 'cus_plan' || g, 'Plan ' || g, 'plan' || g || '@example.com', 'it', now() FROM generate_series(1, 3000) g`,
    );
    await db.query(
      `INSERT INTO mailboxes (id, customer_id, address, password_hash, type, status, expires_on, created_at, updated_at)
       SELECT 'mbx_plan' || g, 'cus_plan' || g, 'plan' || g || '@pec.test.it', '$argon2id$v=19$x', 'standard', 'active', '2030-01-01', now(), now()
         FROM generate_series(1, 3000) g`,
    );
    await db.exec('ANALYZE');
    for (const sql of [
      `SELECT password FROM dovecot.passdb WHERE username = 'plan42@pec.test.it'`,
      `SELECT '*:bytes=' || quota_bytes FROM dovecot.userdb WHERE username = 'plan42@pec.test.it'`,
    ]) {
      const plan = (await db.query<Record<string, string>>(`EXPLAIN ${sql}`)).map((r) => Object.values(r)[0]).join('\n');
      assert.match(plan, /Index Scan using mailboxes_address_key on mailboxes/, plan);
      assert.doesNotMatch(plan, /Seq Scan on mailboxes/, plan);
    }
  });
});

forEachEngine('R14: the mail role reads the contract and nothing else', (use) => {
  test('casella_mail may read the views and write usage, not the tables behind them', async () => {
    const { db } = use();
    const as = async (sql: string) =>
      db.transaction(async (tx) => {
        await tx.exec('SET LOCAL ROLE casella_mail');
        return tx.query(sql);
      });
    await as('SELECT * FROM dovecot.passdb LIMIT 1');
    await as('SELECT * FROM dovecot.userdb LIMIT 1');
    await as(`INSERT INTO dovecot.quota_usage (username, bytes) VALUES ('ruolo@pec.test.it', 1)`);
    await assert.rejects(as('SELECT * FROM mailboxes LIMIT 1'), /permission denied/);
    await assert.rejects(as('SELECT * FROM wallets LIMIT 1'), /permission denied/);
    await assert.rejects(as(`UPDATE mailboxes SET used_bytes = 0`), /permission denied/);
  });
});
