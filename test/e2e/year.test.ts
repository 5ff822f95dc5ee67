// A year with the test clock, over the HTTP API, on each engine, with a real SMTP server on loopback
// receiving what the outbox delivers: expiry alerts at each milestone (and only the latest after
// missed days), renewals with enough credit, with credit for the mailbox only, with none; grace,
// manual renewal during grace, termination; usage warnings; amounts and dates in the e-mails; and
// the SMTP server down on renewal day, every e-mail still arriving exactly once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Temporal } from 'temporal-polyfill';
import { clock } from '../../src/clock.ts';
import { deliverDueEmails, type DeliveryOptions } from '../../src/mail/delivery.ts';
import { engineNames } from '../support/engines.ts';
import { Client, provisionHolder, startTestServer, type TestServer } from '../support/http.ts';
import { readMessage, startSmtp } from '../support/smtp.ts';

const GIB = 1024 ** 3;
const E = '2027-03-01';
const START = '2026-11-20';
// The job does not run from E-40 to E-16: the 30-day milestone is missed, and on E-15 only the
// 15-day alert goes out (R10 catch-up), never the 30-day one.
const GAP = { from: '2027-01-20', to: '2027-02-13' };
const END = '2027-06-05';

for (const engine of engineNames()) {
  describe(`a simulated year [${engine}]`, () => {
    let s: TestServer;
    let smtp: Awaited<ReturnType<typeof startSmtp>>;
    let op: Client;
    let delivery: DeliveryOptions;
    const holders: Record<string, Awaited<ReturnType<typeof provisionHolder>> & { c: Client }> = {};

    const deliver = async () => {
      for (;;) {
        const r = await deliverDueEmails(s.app.db, null, delivery);
        if (r.sent + r.failed + r.retried === 0) return r;
        if (r.retried > 0) return r;
      }
    };
    // Messages of the SMTP server before the outage, then of the one started after it.
    const earlier: { raw: string; messageId: string }[] = [];
    const received = () => [...earlier, ...smtp.received];
    const mailsTo = (who: string) =>
      received().map((m) => readMessage(m.raw)).filter((m) => m.to.includes(holders[who]!.customer.referenceEmail));
    const moveTo = async (day: string) => {
      const res = await op.put('/api/test/clock', { now: `${day}T06:00:00+01:00` });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    };
    const daily = async () => (await op.post('/api/admin/jobs/daily')).body.summary;

    before(async () => {
      clock.setRome(`${START}T06:00`);
      smtp = await startSmtp();
      s = await startTestServer(engine, { SMTP_URL: `smtp://127.0.0.1:${smtp.port}` });
      delivery = { smtpUrl: `smtp://127.0.0.1:${smtp.port}`, mailFrom: 'Casella <noreply@casella.test>', smtpTimeoutMs: 2000, retryDelayMsBase: 1, retryDelayMsMax: 5 };
      op = new Client(s.baseUrl, s.operatorToken);
      const make = async (name: string, creditCents: number, extraGb: number) => {
        const h = await provisionHolder(op, { expiresOn: E, creditCents: creditCents + extraGb * 300 });
        const c = new Client(s.baseUrl);
        await c.login(h.mailbox.address, h.password);
        if (extraGb) {
          const o = await c.post(`/api/mailboxes/${h.mailbox.id}/extra-space/orders`, { quantityGb: extraGb });
          assert.equal(o.body.order.status, 'completed');
          assert.equal(o.body.order.rule, 'full_year'); // 20 November + 3 months < 1 March
        }
        holders[name] = { ...h, c };
      };
      await make('full', 1100, 2); // mailbox 5 € + 2 GB 6 € = 11 €
      await make('mailboxOnly', 500, 2);
      await make('none', 0, 2);
      await make('lapsing', 0, 0); // never renewed: terminated after the grace
    });
    after(async () => {
      await s.close();
      await smtp.close();
    });

    test('alerts, catch-up, renewals, expiry, grace, manual renewal, termination and usage warnings, as e-mails', async () => {
      // Usage reported by the platform: 2.5 GB of 3 GB is over 80 %, once.
      await op.patch(`/api/admin/mailboxes/${holders.full!.mailbox.id}`, { usedBytes: Math.round(2.5 * GIB) });
      await op.patch(`/api/admin/mailboxes/${holders.full!.mailbox.id}`, { usedBytes: Math.round(2.6 * GIB) });
      // The mailbox-only holder keeps 1.5 GB: more than the base space once the extra space goes.
      await op.patch(`/api/admin/mailboxes/${holders.mailboxOnly!.mailbox.id}`, { usedBytes: Math.round(1.5 * GIB) });

      let smtpDownOnRenewal = false;
      for (let day = Temporal.PlainDate.from(START); Temporal.PlainDate.compare(day, Temporal.PlainDate.from(END)) <= 0; day = day.add({ days: 1 })) {
        const d = day.toString();
        if (d >= GAP.from && d <= GAP.to) continue;
        await moveTo(d);
        if (d === E) {
          earlier.push(...smtp.received);
          await smtp.close(); // the mail server is down during the renewal run
          smtpDownOnRenewal = true;
        }
        const summary = await daily();
        if (d === E) {
          assert.deepEqual(
            { renewed: summary.mailboxesRenewed, addons: summary.addonsRenewed, deactivated: summary.addonsDeactivated, expired: summary.mailboxesExpired },
            { renewed: 2, addons: 1, deactivated: 2, expired: 2 },
          );
          assert.deepEqual(await daily(), { ...summary, mailboxesRenewed: 0, addonsRenewed: 0, addonsDeactivated: 0, mailboxesExpired: 0, alertsQueued: 0, usageWarningsQueued: 0, ordersExpired: 0, mailboxesTerminated: 0 });
          const r = await deliverDueEmails(s.app.db, null, delivery);
          assert.equal(r.sent, 0);
          assert.ok(r.retried >= 4, JSON.stringify(r));
          smtp = await startSmtp(smtp.port); // back up on the same port
          for (let i = 0; i < 20 && (await s.app.db.query(`SELECT 1 FROM outbox WHERE status <> 'sent'`)).length > 0; i++) await deliver();
        }
        if (d === '2027-03-20') {
          // R8/R9: the expired holder tops up by card and renews by hand during the grace.
          const none = holders.none!;
          const order = (await none.c.post(`/api/mailboxes/${none.mailbox.id}/renewal`)).body.order;
          assert.equal(order.status, 'awaiting_topup');
          assert.equal(order.amountCents, 500); // the extra space is gone; only the mailbox renews
          const topup = (await none.c.post('/api/credit/topups', { amountCents: order.topupRequiredCents, orderId: order.id })).body.topup;
          const paid = await fetch(topup.checkoutUrl, { method: 'POST', body: new URLSearchParams({ cardNumber: '4242424242424242', expiry: '12/34', cvc: '123' }), redirect: 'manual' });
          assert.equal(paid.status, 303);
          const mb = (await none.c.get(`/api/mailboxes/${none.mailbox.id}`)).body.mailbox;
          assert.deepEqual([mb.status, mb.expiresOn], ['active', '2028-03-01']); // from the old E, not from today
        }
        await deliver();
      }
      assert.ok(smtpDownOnRenewal);

      // Alerts: 90, 60 days, then after the gap only 15 (not 30), then 7 and 1 — for each holder.
      for (const who of ['full', 'mailboxOnly', 'none', 'lapsing']) {
        const alerts = mailsTo(who).filter((m) => m.subject.startsWith('Avviso scadenza servizio'));
        assert.equal(alerts.length, 5, `${who}: ${alerts.map((a) => a.subject).join(' | ')}`);
        assert.ok(alerts.every((a) => a.subject.includes(holders[who]!.mailbox.address)));
        assert.deepEqual(alerts.map((a) => /tra (\d+) giorn/.exec(a.text)?.[1]), ['90', '60', '15', '7', '1']);
        assert.ok(alerts.every((a) => a.text.includes('1° marzo 2027')));
      }
      const fullAlert = mailsTo('full').find((m) => m.subject.startsWith('Avviso'))!;
      for (const amount of ['5,00 €', '6,00 €', '11,00 €']) assert.ok(fullAlert.text.includes(amount), amount);
      const shortAlert = mailsTo('mailboxOnly').find((m) => m.subject.startsWith('Avviso'))!;
      assert.match(shortAlert.text, /Credito mancante:\s+6,00 €/);
      assert.ok(shortAlert.text.includes(`${s.baseUrl}/credit`));

      // Renewal day: each holder one e-mail saying what happened, delivered once despite the outage.
      const subjects = (who: string) => mailsTo(who).map((m) => m.subject.split(':')[0] ?? '');
      assert.deepEqual(subjects('full').filter((x) => !x.startsWith('Avviso')), ['Ordine completato', 'Spazio in esaurimento', 'Rinnovo effettuato']);
      // Back to 1 GB with 1.5 GB used: the deactivation notice, then (R11) the usage warning of the smaller space.
      assert.deepEqual(subjects('mailboxOnly').filter((x) => !x.startsWith('Avviso')), ['Ordine completato', 'Servizio aggiuntivo disattivato', 'Spazio in esaurimento']);
      const deactivated = mailsTo('mailboxOnly').find((m) => m.subject.startsWith('Servizio aggiuntivo disattivato'))!;
      assert.match(deactivated.text, /rifiutat/); // more mail than space: new PEC messages refused
      assert.ok(subjects('none').includes('Casella scaduta'));
      assert.ok(subjects('none').includes('Ricarica effettuata'));
      assert.ok(subjects('none').includes('Ordine completato'));
      assert.ok(subjects('lapsing').includes('Casella scaduta'));
      const ids = received().map((m) => m.messageId);
      assert.equal(new Set(ids).size, ids.length, 'no e-mail arrived twice');
      const pending = await s.app.db.query(`SELECT 1 FROM outbox WHERE status <> 'sent'`);
      assert.equal(pending.length, 0);

      // State at the end: renewed, renewed without extra space, renewed by hand, terminated.
      const state = async (who: string) => {
        const m = (await op.get(`/api/admin/customers/${holders[who]!.customer.id}`)).body;
        return { status: m.mailboxes[0].status, expiresOn: m.mailboxes[0].expiresOn, extraGb: m.mailboxes[0].space.extraGb, balance: m.credit.balanceCents };
      };
      assert.deepEqual(await state('full'), { status: 'active', expiresOn: '2028-03-01', extraGb: 2, balance: 0 });
      assert.deepEqual(await state('mailboxOnly'), { status: 'active', expiresOn: '2028-03-01', extraGb: 0, balance: 0 });
      assert.deepEqual(await state('none'), { status: 'active', expiresOn: '2028-03-01', extraGb: 0, balance: 0 });
      assert.deepEqual(await state('lapsing'), { status: 'terminated', expiresOn: E, extraGb: 0, balance: 0 });
      const late = await holders.lapsing!.c.post(`/api/mailboxes/${holders.lapsing!.mailbox.id}/renewal`);
      assert.equal(late.body.error.code, 'not_renewable');
      assert.equal((await op.get('/api/admin/ledger/verify')).body.ok, true);
    });
  });
}
