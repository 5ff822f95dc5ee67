// The daily job (R5 expiry, R7, R8, R10, R11) on each engine, with the clock moved through the year.
import { beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { clock } from '../../src/clock.ts';
import { date } from '../../src/domain/calendar.ts';
import { forEachEngine } from '../support/engines.ts';
import { holderWithMailbox, outboxOf } from '../support/fixtures.ts';
import { placeExtraSpaceOrder, placeRenewalOrder } from '../../src/services/billing/orders.ts';
import { forecastRenewals, runDailyJob, type DailySummary } from '../../src/services/daily.ts';
import { readBalance, readMailbox } from '../../src/services/rows.ts';
import { updateMailboxAsOperator } from '../../src/services/mailboxes/provision.ts';
import { setRenewalSwitches } from '../../src/services/mailboxes/mailbox-settings.ts';
import { SYSTEM } from '../../src/services/audit.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import type { ServiceContext } from '../../src/services/context.ts';

const GB = 1024 ** 3;

async function addonOf(ctx: ServiceContext, mailboxId: string) {
  const [a] = await ctx.db.query<{ status: string; active_until: string; quantity_gb: number }>(
    'SELECT status, active_until, quantity_gb FROM addons WHERE mailbox_id = $1',
    [mailboxId],
  );
  return a;
}

async function renewalsOf(ctx: ServiceContext, mailboxId: string) {
  return ctx.db.query<{ service: string; period_ends_on: string; outcome: string; amount_cents: number }>(
    'SELECT service, period_ends_on, outcome, amount_cents FROM renewals WHERE mailbox_id = $1 ORDER BY period_ends_on, service DESC',
    [mailboxId],
  );
}

async function milestonesOf(ctx: ServiceContext, mailboxId: string) {
  const rows = await ctx.db.query<{ expires_on: string; milestone_days: number }>(
    'SELECT expires_on, milestone_days FROM alerts_sent WHERE mailbox_id = $1 ORDER BY sent_at, milestone_days DESC',
    [mailboxId],
  );
  return rows.map((r) => `${r.expires_on}/${r.milestone_days}`);
}

const subjects = async (ctx: ServiceContext, customerId: string) => (await outboxOf(ctx, customerId)).map((m) => m.subject);

forEachEngine('daily job', (use) => {
  beforeEach(() => clock.setRome('2026-06-10T10:00'));

  test('R7: enough credit renews the mailbox and its extra space, one ledger charge, a receipt', async () => {
    const { ctx } = use();
    const { customer, mailbox } = await holderWithMailbox(ctx, { creditCents: 2300 });
    await placeExtraSpaceOrder(ctx, customer.id, mailbox.id, 3); // 900, full year
    assert.equal(await readBalance(ctx.db, customer.id), 1400);

    clock.setRome('2026-12-01T00:30');
    await runDailyJob(ctx);
    assert.equal(await readBalance(ctx.db, customer.id), 0);
    const m = (await readMailbox(ctx.db, mailbox.id, null))!;
    assert.deepEqual([m.status, m.expires_on], ['active', '2027-12-01']);
    assert.deepEqual(await addonOf(ctx, mailbox.id), { status: 'active', active_until: '2027-12-01', quantity_gb: 3 });
    assert.deepEqual(await renewalsOf(ctx, mailbox.id), [
      { service: 'mailbox', period_ends_on: '2026-12-01', outcome: 'renewed', amount_cents: 500 },
      { service: 'extra_inbox_space', period_ends_on: '2026-12-01', outcome: 'renewed', amount_cents: 900 },
    ]);
    const txns = await ctx.db.query<{ wallet_amount_cents: number; balance_after_cents: number; mailbox_id: string }>(
      `SELECT wallet_amount_cents, balance_after_cents, mailbox_id FROM ledger_transactions WHERE customer_id = $1 AND kind = 'renewal'`,
      [customer.id],
    );
    assert.deepEqual(txns, [{ wallet_amount_cents: -1400, balance_after_cents: 0, mailbox_id: mailbox.id }]);
    assert.ok((await verifyLedger(ctx.db)).ok);
    const mails = await outboxOf(ctx, customer.id);
    const last = mails.at(-1)!;
    assert.equal(last.subject, `Rinnovo effettuato: ${mailbox.address}`);
    assert.match(last.text_body, /1° dicembre 2027/);
    assert.match(last.text_body, /14,00 €/);
    assert.doesNotMatch(last.text_body, /rifiutati/);

    // Same day again: nothing.
    const before = mails.length;
    await runDailyJob(ctx);
    assert.equal((await outboxOf(ctx, customer.id)).length, before);
    assert.equal(await readBalance(ctx.db, customer.id), 0);
  });

  test('R7.2 + R7.4: credit for the mailbox only deactivates the extra space; over quota is said plainly', async () => {
    const { ctx } = use();
    const { customer, mailbox } = await holderWithMailbox(ctx, { creditCents: 1500, usedBytes: 2 * GB, locale: 'it' });
    await placeExtraSpaceOrder(ctx, customer.id, mailbox.id, 3); // 1500 - 900 = 600
    clock.setRome('2026-12-01T03:00');
    await runDailyJob(ctx);
    assert.equal(await readBalance(ctx.db, customer.id), 100);
    const m = (await readMailbox(ctx.db, mailbox.id, null))!;
    assert.deepEqual([m.status, m.expires_on], ['active', '2027-12-01']);
    assert.deepEqual(await addonOf(ctx, mailbox.id), { status: 'deactivated', active_until: '2026-12-01', quantity_gb: 3 });
    assert.deepEqual((await renewalsOf(ctx, mailbox.id)).map((r) => [r.service, r.outcome, r.amount_cents]), [
      ['mailbox', 'renewed', 500],
      ['extra_inbox_space', 'deactivated', 0],
    ]);
    const mails = await outboxOf(ctx, customer.id);
    const deact = mails.find((x) => x.subject.startsWith('Servizio aggiuntivo disattivato'))!;
    assert.equal(deact.subject, `Servizio aggiuntivo disattivato: ${mailbox.address}`);
    assert.match(deact.text_body, /I nuovi messaggi PEC saranno rifiutati/);
    assert.match(deact.text_body, /avviso di mancata consegna/);
    assert.match(deact.text_body, /mancavano 8,00 €/);
    // Usage 2 GB of a 1 GB space: the 95 % warning follows the deactivation.
    assert.ok(mails.some((x) => x.subject === `Spazio in esaurimento: ${mailbox.address}`));
    assert.ok((await verifyLedger(ctx.db)).ok);
  });

  test('R7.1 + R8: no credit expires the mailbox; terminated once E + 90 days has passed', async () => {
    const { ctx } = use();
    const { customer, mailbox } = await holderWithMailbox(ctx, { creditCents: 300, locale: 'en' });
    clock.setRome('2026-12-01T03:00');
    await runDailyJob(ctx);
    assert.equal(await readBalance(ctx.db, customer.id), 300);
    let m = (await readMailbox(ctx.db, mailbox.id, null))!;
    assert.deepEqual([m.status, m.expires_on], ['expired', '2026-12-01']);
    assert.deepEqual((await renewalsOf(ctx, mailbox.id)).map((r) => r.outcome), ['expired']);
    const last = (await outboxOf(ctx, customer.id)).at(-1)!;
    assert.equal(last.subject, `Mailbox expired: ${mailbox.address}`);
    assert.match(last.text_body, /1 March 2027/); // grace end

    clock.setRome('2027-03-01T12:00'); // last day of grace
    await runDailyJob(ctx);
    assert.equal((await readMailbox(ctx.db, mailbox.id, null))!.status, 'expired');
    clock.setRome('2027-03-02T00:10');
    const s = await runDailyJob(ctx);
    assert.ok(s.mailboxesTerminated >= 1);
    m = (await readMailbox(ctx.db, mailbox.id, null))!;
    assert.equal(m.status, 'terminated');
    // The holder is told, in their language, once: what happened, that the mail is kept, what to do.
    const told = (await outboxOf(ctx, customer.id)).filter((x) => x.kind === 'mailbox_terminated');
    assert.equal(told.length, 1);
    assert.equal(told[0]!.subject, `Mailbox terminated: ${mailbox.address}`);
    assert.equal(told[0]!.to_address, customer.reference_email);
    assert.match(told[0]!.text_body, /expired on 1 December 2026 and was not renewed by 1 March 2027/);
    assert.match(told[0]!.text_body, /mail and data have not been deleted/);
    assert.match(told[0]!.text_body, /write to the provider's support/);
    assert.equal((await runDailyJob(ctx)).mailboxesTerminated, 0);
    assert.equal((await outboxOf(ctx, customer.id)).filter((x) => x.kind === 'mailbox_terminated').length, 1);
  });

  test('R8: the "Casella cessata" e-mail is in Italian for an Italian holder', async () => {
    const { ctx } = use();
    const { customer, mailbox } = await holderWithMailbox(ctx, { expiresOn: '2026-06-01' });
    clock.setRome('2026-09-01T03:00'); // E + 92 days: expired and terminated in one run
    const s = await runDailyJob(ctx);
    assert.ok(s.mailboxesTerminated >= 1);
    const mails = await outboxOf(ctx, customer.id);
    assert.deepEqual(mails.filter((x) => x.subject.startsWith('Casella')).map((x) => x.subject), [
      `Casella scaduta: ${mailbox.address}`,
      `Casella cessata: ${mailbox.address}`,
    ]);
    const last = mails.find((x) => x.kind === 'mailbox_terminated')!;
    assert.match(last.text_body, /scaduta il 1° giugno 2026/);
    assert.match(last.text_body, /non sono stati cancellati/);
  });

  test('R7: auto-renewal off expires the mailbox even with credit', async () => {
    const { ctx } = use();
    const { customer, mailbox } = await holderWithMailbox(ctx, { creditCents: 5000 });
    await ctx.db.query('UPDATE mailboxes SET auto_renew = false WHERE id = $1', [mailbox.id]);
    clock.setRome('2026-12-01T03:00');
    await runDailyJob(ctx);
    assert.equal(await readBalance(ctx.db, customer.id), 5000);
    assert.equal((await readMailbox(ctx.db, mailbox.id, null))!.status, 'expired');
    assert.match((await subjects(ctx, customer.id)).at(-1)!, /^Casella scaduta: /);
  });

  test('R7 catch-up: a mailbox years overdue is renewed year by year while credit lasts', async () => {
    const { ctx } = use();
    clock.setRome('2025-06-10T10:00');
    const { customer, mailbox } = await holderWithMailbox(ctx, { creditCents: 1200, expiresOn: '2024-12-01' });
    clock.setRome('2026-06-10T10:00'); // the job did not run for a year
    await runDailyJob(ctx);
    const m = (await readMailbox(ctx.db, mailbox.id, null))!;
    assert.deepEqual([m.status, m.expires_on], ['active', '2026-12-01']);
    assert.equal(await readBalance(ctx.db, customer.id), 200);
    assert.deepEqual((await renewalsOf(ctx, mailbox.id)).map((r) => `${r.period_ends_on}:${r.outcome}`), [
      '2024-12-01:renewed',
      '2025-12-01:renewed',
    ]);
    assert.ok((await verifyLedger(ctx.db)).ok);
  });

  test('catch-up is bounded: a mailbox more than two years overdue expires, nothing charged, with the reason told', async () => {
    const { ctx } = use();
    const { customer, mailbox } = await holderWithMailbox(ctx, { creditCents: 100_000 });
    // Provisioning refuses such a date (issue 12, item 2): only data from elsewhere can hold one.
    await ctx.db.query(`UPDATE mailboxes SET expires_on = '0001-01-01' WHERE id = $1`, [mailbox.id]);
    await runDailyJob(ctx);
    assert.equal(await readBalance(ctx.db, customer.id), 100_000);
    assert.deepEqual((await renewalsOf(ctx, mailbox.id)).map((r) => `${r.period_ends_on}:${r.outcome}`), ['0001-01-01:expired']);
    const mails = await outboxOf(ctx, customer.id);
    const expired = mails.find((x) => x.kind === 'mailbox_expired')!;
    assert.match(expired.subject, /^Casella scaduta: /);
    assert.match(expired.text_body, /più di due anni/);
    // Its grace is long over too: terminated in the same run, and told so.
    assert.match(mails.at(-1)!.subject, /^Casella cessata: /);
    assert.ok((await verifyLedger(ctx.db)).ok);
  });

  test('R10: alerts at 90 and 60 days, once each, with price, balance, shortfall and top-up link', async () => {
    const { ctx } = use();
    const { customer, mailbox } = await holderWithMailbox(ctx, { creditCents: 200 });
    clock.setRome('2026-09-01T10:00'); // 91 days before
    await runDailyJob(ctx);
    assert.deepEqual(await milestonesOf(ctx, mailbox.id), []);
    clock.setRome('2026-09-02T00:30'); // 90 days before
    await runDailyJob(ctx);
    await runDailyJob(ctx);
    assert.deepEqual(await milestonesOf(ctx, mailbox.id), ['2026-12-01/90']);
    const mails = await outboxOf(ctx, customer.id);
    const alerts = mails.filter((x) => x.subject.startsWith('Avviso scadenza servizio'));
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]!.subject, `Avviso scadenza servizio: ${mailbox.address}`);
    assert.equal(alerts[0]!.to_address, customer.reference_email);
    assert.match(alerts[0]!.text_body, new RegExp(mailbox.address.replace(/\./g, '\\.')));
    assert.match(alerts[0]!.text_body, /1° dicembre 2026/);
    assert.match(alerts[0]!.text_body, /5,00 €/); // mailbox price
    assert.match(alerts[0]!.text_body, /2,00 €/); // balance
    assert.match(alerts[0]!.text_body, /Credito mancante:\s+3,00 €/);
    assert.match(alerts[0]!.text_body, /http:\/\/casella\.test\/credit/);

    clock.setRome('2026-10-01T10:00'); // 61 days
    await runDailyJob(ctx);
    clock.setRome('2026-10-02T10:00'); // 60 days
    await runDailyJob(ctx);
    assert.deepEqual(await milestonesOf(ctx, mailbox.id), ['2026-12-01/90', '2026-12-01/60']);
    assert.equal((await subjects(ctx, customer.id)).filter((s) => s.startsWith('Avviso')).length, 2);
  });

  test('R10: an alert promises no renewal the credit cannot pay, and names extra space that will not be renewed', async () => {
    const { ctx } = use();
    // Credit for the mailbox (5 €) but not its 3 GB (9 €): the job would renew only the mailbox.
    const short = await holderWithMailbox(ctx, { creditCents: 1500 });
    await placeExtraSpaceOrder(ctx, short.customer.id, short.mailbox.id, 3); // 600 left
    // No credit at all: the mailbox itself would expire.
    const none = await holderWithMailbox(ctx, { locale: 'en' });
    // Enough credit, but the holder switched the extra space's renewal off.
    const off = await holderWithMailbox(ctx, { creditCents: 2000 });
    await placeExtraSpaceOrder(ctx, off.customer.id, off.mailbox.id, 2);
    await setRenewalSwitches(ctx, SYSTEM, off.customer.id, off.mailbox.id, { extraSpaceAutoRenew: false });
    clock.setRome('2026-09-02T10:00'); // 90 days before
    await runDailyJob(ctx);
    const alertOf = async (customerId: string) => (await outboxOf(ctx, customerId)).find((x) => x.kind === 'expiry_alert')!.text_body;

    const a = await alertOf(short.customer.id);
    assert.match(a, /la casella sarà rinnovata automaticamente/);
    assert.doesNotMatch(a, /i servizi sotto elencati saranno rinnovati/);
    assert.match(a, /Lo Spazio Extra Inbox \(3 GB\) invece non sarà rinnovato: il credito non basta\. Ricarica 8,00 € prima del 1° dicembre 2026/);
    assert.match(a, /Rinnovo casella:\s+5,00 € \(IVA esclusa\)/);
    assert.match(a, /Totale:\s+14,00 € \(IVA esclusa\)/);
    assert.match(a, /Credito mancante:\s+8,00 €/);

    const b = await alertOf(none.customer.id);
    assert.match(b, /Your credit does not cover the automatic renewal: top up €5\.00 before 1 December 2026, or the mailbox will expire/);
    assert.match(b, /Mailbox renewal:\s+€5\.00 \(VAT excluded\)/);
    assert.doesNotMatch(b, /will be renewed automatically/);

    const c = await alertOf(off.customer.id);
    assert.match(c, /i servizi sotto elencati saranno rinnovati automaticamente/);
    assert.match(c, /Lo Spazio Extra Inbox \(2 GB\) non sarà rinnovato: il suo rinnovo automatico è disattivato/);
    assert.match(c, /Spazio Extra Inbox 2 GB:\s+non sarà rinnovato/);
    assert.match(c, /Totale:\s+5,00 € \(IVA esclusa\)/);
  });

  test('R10 catch-up: after 80 days without the job only the latest milestone is sent', async () => {
    const { ctx } = use();
    const { customer, mailbox } = await holderWithMailbox(ctx, { creditCents: 2000, locale: 'en' });
    await placeExtraSpaceOrder(ctx, customer.id, mailbox.id, 2);
    clock.setRome('2026-09-02T10:00');
    await runDailyJob(ctx);
    clock.setRome('2026-11-21T10:00'); // 10 days left: 60, 30 and 15 missed
    await runDailyJob(ctx);
    assert.deepEqual(await milestonesOf(ctx, mailbox.id), ['2026-12-01/90', '2026-12-01/15']);
    const alerts = (await outboxOf(ctx, customer.id)).filter((x) => x.subject.startsWith('Service expiry notice'));
    assert.equal(alerts.length, 2);
    assert.match(alerts[1]!.text_body, /1 December 2026/);
    assert.match(alerts[1]!.text_body, /Extra inbox space 2 GB/);
    assert.doesNotMatch(alerts[1]!.text_body, /Shortfall/);
  });

  test('R10: alerts stop once the mailbox is renewed (by hand or by the job)', async () => {
    const { ctx } = use();
    const { customer, mailbox } = await holderWithMailbox(ctx, { creditCents: 1000 });
    clock.setRome('2026-09-02T10:00');
    await runDailyJob(ctx);
    clock.setRome('2026-09-10T10:00');
    await placeRenewalOrder(ctx, customer.id, mailbox.id);
    assert.equal((await readMailbox(ctx.db, mailbox.id, null))!.expires_on, '2027-12-01');
    for (const day of ['2026-10-02', '2026-11-01', '2026-11-30', '2026-12-01', '2026-12-02']) {
      clock.setRome(`${day}T10:00`);
      await runDailyJob(ctx);
    }
    assert.deepEqual(await milestonesOf(ctx, mailbox.id), ['2026-12-01/90']);
    assert.equal(await readBalance(ctx.db, customer.id), 500); // not charged again on the old E
    assert.equal((await readMailbox(ctx.db, mailbox.id, null))!.expires_on, '2027-12-01');
  });

  test('R11: one warning per crossing, re-armed when usage falls back; checkUsage for the operator path', async () => {
    const { ctx } = use();
    const { customer, mailbox } = await holderWithMailbox(ctx, { usedBytes: 0 });
    const setUsed = (bytes: number) => ctx.db.query('UPDATE mailboxes SET used_bytes = $2 WHERE id = $1', [mailbox.id, Math.round(bytes)]);
    const warnings = async () => (await subjects(ctx, customer.id)).filter((s) => s.startsWith('Spazio in esaurimento'));

    await setUsed(0.85 * GB);
    await runDailyJob(ctx);
    await runDailyJob(ctx);
    assert.deepEqual(await warnings(), [`Spazio in esaurimento: ${mailbox.address}`]);
    const mail = (await outboxOf(ctx, customer.id)).find((m) => m.kind === 'usage_warning')!;
    assert.match(mail.text_body, new RegExp(`http://casella\\.test/mailboxes/${mailbox.id}`));

    await setUsed(0.5 * GB);
    await runDailyJob(ctx);
    assert.equal((await ctx.db.query('SELECT 1 FROM usage_warnings WHERE mailbox_id = $1', [mailbox.id])).length, 0);
    assert.equal((await warnings()).length, 1);

    await setUsed(0.9 * GB);
    await runDailyJob(ctx);
    assert.equal((await warnings()).length, 2);

    // The operator's usage report path checks at once, in its own transaction.
    const mailsBefore = (await outboxOf(ctx, customer.id)).length;
    await updateMailboxAsOperator(ctx, SYSTEM, mailbox.id, { usedBytes: Math.round(0.97 * GB) });
    assert.equal((await outboxOf(ctx, customer.id)).length, mailsBefore + 1);
    assert.match((await outboxOf(ctx, customer.id)).at(-1)!.text_body, /95%/);
    await updateMailboxAsOperator(ctx, SYSTEM, mailbox.id, { usedBytes: Math.round(0.98 * GB) });
    assert.equal((await outboxOf(ctx, customer.id)).length, mailsBefore + 1);
    await runDailyJob(ctx);
    assert.equal((await warnings()).length, 3);
  });
});

async function seedHolders(ctx: ServiceContext) {
  // Several holders, each with a mailbox and 2 GB of extra space, due on the same day.
  const holders = [];
  for (let i = 0; i < 24; i++) {
    const credit = [1500, 1100, 300, 0][i % 4]!;
    const h = await holderWithMailbox(ctx, { creditCents: 2000 + credit, expiresOn: '2026-12-01' });
    await placeExtraSpaceOrder(ctx, h.customer.id, h.mailbox.id, 2); // 600 each
    holders.push({ ...h, credit });
  }
  return holders;
}

async function snapshot(ctx: ServiceContext) {
  const q = async (sql: string) => (await ctx.db.query<{ n: string }>(sql))[0]!.n;
  return {
    wallets: await ctx.db.query('SELECT customer_id, balance_cents FROM wallets ORDER BY customer_id'),
    mailboxes: await ctx.db.query('SELECT id, status, expires_on FROM mailboxes ORDER BY id'),
    addons: await ctx.db.query('SELECT mailbox_id, status, active_until FROM addons ORDER BY mailbox_id'),
    ledger: await q('SELECT count(*)::text AS n FROM ledger_transactions'),
    outbox: await q('SELECT count(*)::text AS n FROM outbox'),
    renewals: await q('SELECT count(*)::text AS n FROM renewals'),
    alerts: await q('SELECT count(*)::text AS n FROM alerts_sent'),
  };
}

const zero: DailySummary = {
  alertsQueued: 0,
  usageWarningsQueued: 0,
  mailboxesRenewed: 0,
  addonsRenewed: 0,
  addonsDeactivated: 0,
  mailboxesExpired: 0,
  mailboxesTerminated: 0,
  ordersExpired: 0,
  cardChargesAttempted: 0,
  cardChargesSucceeded: 0,
  cardChargesFailed: 0,
  cardChargesAuthenticationRequired: 0,
};

forEachEngine('daily job: idempotence and forecast', (use) => {
  test('forecast changes nothing; running twice the same day changes nothing the second time', async () => {
    const { ctx } = use();
    clock.setRome('2026-06-10T10:00');
    await seedHolders(ctx);
    clock.setRome('2026-12-01T00:10');
    const before = await snapshot(ctx);
    const f = await forecastRenewals(ctx, date('2026-12-01'), { itemsMax: 5, batchSizeMax: 7 });
    assert.deepEqual(await snapshot(ctx), before);
    assert.equal(f.mailboxes, 24);
    assert.equal(f.items.length, 5);
    assert.ok(f.itemsTruncated);

    const first = await runDailyJob(ctx, { batchSizeMax: 5 });
    assert.deepEqual(
      [first.mailboxesRenewed, first.addonsRenewed, first.addonsDeactivated, first.mailboxesExpired],
      [f.renewed, f.addonsRenewed, f.deactivated, f.expired],
    );
    // Balances after the 600 of space: 2900, 2500, 1700, 1400: all renew the mailbox (500) and the space (600).
    assert.equal(first.mailboxesRenewed, 24);
    const after = await snapshot(ctx);
    const second = await runDailyJob(ctx, { batchSizeMax: 5 });
    assert.deepEqual(second, zero);
    assert.deepEqual(await snapshot(ctx), after);
    assert.ok((await verifyLedger(ctx.db)).ok);
  });
});

forEachEngine('daily job: concurrent runs', (use) => {
  test('two runs at once renew each mailbox once and charge it once', async () => {
    const { ctx } = use();
    clock.setRome('2026-06-10T10:00');
    const holders = [];
    for (let i = 0; i < 30; i++) {
      const credit = [1100, 500, 200][i % 3]!;
      const h = await holderWithMailbox(ctx, { creditCents: credit, expiresOn: i % 2 ? '2026-12-01' : '2026-11-15' });
      // Holders with 1100 buy 2 GB (600) and keep 500: mailbox renews, space is deactivated.
      if (credit === 1100) await placeExtraSpaceOrder(ctx, h.customer.id, h.mailbox.id, 2);
      holders.push({ ...h, credit });
    }
    // A second mailbox for some holders: they share one wallet within and across batches.
    for (const h of holders.slice(0, 6)) {
      await ctx.db.query(
        `INSERT INTO mailboxes (id, customer_id, address, password_hash, type, expires_on, created_at, updated_at)
         VALUES ($1, $2, $3, 'x', 'standard', '2026-11-20', now(), now())`,
        [`${h.mailbox.id}b`, h.customer.id, `b.${h.mailbox.address}`],
      );
    }
    clock.setRome('2026-12-01T00:10');
    const [a, b] = await Promise.all([runDailyJob(ctx, { batchSizeMax: 4 }), runDailyJob(ctx, { batchSizeMax: 4 })]);
    const sum = (k: keyof DailySummary) => a[k] + b[k];
    assert.equal(sum('mailboxesRenewed') + sum('mailboxesExpired'), 36);
    const renewalTxns = await ctx.db.query<{ mailbox_id: string; n: number }>(
      `SELECT mailbox_id, count(*)::int AS n FROM ledger_transactions WHERE kind = 'renewal' GROUP BY mailbox_id`,
    );
    assert.ok(renewalTxns.every((r) => r.n === 1));
    assert.equal(renewalTxns.length, sum('mailboxesRenewed'));
    assert.equal((await ctx.db.query('SELECT 1 FROM renewals WHERE service = $1', ['mailbox'])).length, 36);
    const renewalMails = await ctx.db.query(
      `SELECT 1 FROM outbox WHERE kind IN ('renewal_completed', 'addon_deactivated', 'mailbox_expired')`,
    );
    assert.equal(renewalMails.length, 36);
    // Each holder: balance = credit - what their mailboxes cost, never below zero.
    for (const h of holders) {
      const bal = await readBalance(ctx.db, h.customer.id);
      assert.ok(bal >= 0);
    }
    // Holders with 200 credit and one mailbox: expired, untouched balance.
    const poor = holders.filter((h, i) => h.credit === 200 && i >= 6);
    for (const h of poor) {
      assert.equal((await readMailbox(ctx.db, h.mailbox.id, null))!.status, 'expired');
      assert.equal(await readBalance(ctx.db, h.customer.id), 200);
    }
    assert.ok((await verifyLedger(ctx.db)).ok);
    const again = await runDailyJob(ctx);
    assert.equal(again.mailboxesRenewed + again.mailboxesExpired, 0);
  });
});
