// Issue 15 item 1: the dashboard's "Il credito non basta per i rinnovi dei prossimi 90 giorni:
// mancano X" is what the daily job will need: with X more credit every renewal of the next 90 days
// goes through, with one cent less one does not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, forEachServer, provisionHolder } from '../support/http.ts';

/** The dashboard's shortfall and its one-click top-up amount, as the page writes them. */
async function dashboardShortfall(baseUrl: string, address: string, password: string) {
  const res = await fetch(`${baseUrl}/login`, { method: 'POST', body: new URLSearchParams({ address, password }), redirect: 'manual' });
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const page = await (await fetch(`${baseUrl}/`, { headers: { cookie } })).text();
  const missing = /mancano ([\d.]+,\d{2}) €/.exec(page);
  const topup = /name="amount" value="(\d+,\d{2})"/.exec(page);
  const cents = (s: string) => Number(s.replace(/\./g, '').replace(',', ''));
  return { missingCents: missing ? cents(missing[1]!) : 0, topupCents: topup ? cents(topup[1]!) : 0 };
}

forEachServer('credit outlook on the dashboard', (t) => {
  const holderWithRenewalsDue = async (creditCents: number) => {
    const h = await provisionHolder(t.op, { creditCents, expiresOn: '2026-06-30' });
    const api = new Client(t.s.baseUrl);
    await api.login(h.mailbox.address, h.password);
    // Free until 30 June (R4), then 2 GB renew with the mailbox: 6,00 €.
    assert.equal((await api.post(`/api/mailboxes/${h.mailbox.id}/extra-space/orders`, { quantityGb: 2 })).body.order.status, 'completed');
    for (const [type, expiresOn] of [['pro', '2026-08-20'], ['standard', '2026-09-20']] as const) {
      const m = await t.op.post('/api/admin/mailboxes', {
        customerId: h.customer.id,
        address: `${type}${expiresOn.replace(/-/g, '')}.${h.customer.id.slice(-8).toLowerCase().replace(/[^a-z0-9]/g, 'x')}@pec.casella.test`,
        password: h.password,
        type,
        expiresOn,
      });
      assert.equal(m.status, 201, JSON.stringify(m.body));
    }
    return h;
  };

  test('topping up exactly what is missing renews every mailbox and extra space due in the next 90 days; a cent less does not', async () => {
    const enough = await holderWithRenewalsDue(1000);
    const short = await holderWithRenewalsDue(1000);
    const seen = await dashboardShortfall(t.s.baseUrl, enough.mailbox.address, enough.password);
    // 5,00 + 6,00 (30 June) + 25,00 (20 August) = 36,00 €; the mailbox of 20 September is past 90 days.
    assert.deepEqual(seen, { missingCents: 2600, topupCents: 2600 });
    const credit = (id: string, amountCents: number) => t.op.post(`/api/admin/customers/${id}/credit-adjustments`, { amountCents, reason: 'ricarica' });
    assert.equal((await credit(enough.customer.id, seen.missingCents)).status, 201);
    assert.equal((await credit(short.customer.id, seen.missingCents - 1)).status, 201);
    assert.deepEqual(await dashboardShortfall(t.s.baseUrl, enough.mailbox.address, enough.password), { missingCents: 0, topupCents: 0 });

    // The daily job of 20 August catches up 30 June and 20 August.
    assert.equal((await t.op.put('/api/test/clock', { now: '2026-08-20T08:00:00+02:00' })).status, 200);
    const summary = (await t.op.post('/api/admin/jobs/daily')).body.summary;
    assert.ok(summary.mailboxesRenewed >= 3);
    const after = async (id: string) => (await t.op.get(`/api/admin/customers/${id}`)).body;
    const a = await after(enough.customer.id);
    assert.equal(a.credit.balanceCents, 0);
    assert.deepEqual(a.mailboxes.map((m: any) => [m.status, m.space.extraGb]).sort(), [['active', 0], ['active', 0], ['active', 2]]);
    const b = await after(short.customer.id);
    assert.ok(b.mailboxes.some((m: any) => m.status === 'expired') || b.mailboxes.every((m: any) => m.space.extraGb === 0), 'one cent short: something is not renewed');
  });
});
