// Issue 12 item 15: a money form posted twice without JavaScript (double click, reload, Back and
// confirm again) acts once. Each such form carries a one-time token used as the Idempotency-Key of
// the call behind it; the second post shows the first outcome. A fresh form acts again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clock } from '../../src/clock.ts';
import { engineNames } from '../support/engines.ts';
import { Client, provisionHolder, startTestServer, type TestServer } from '../support/http.ts';
import { formFields, postForm, submitPageForm } from '../support/web-forms.ts';

async function holderClient(server: TestServer, opts: Parameters<typeof provisionHolder>[1]) {
  const op = new Client(server.baseUrl, server.operatorToken);
  const holder = await provisionHolder(op, opts);
  const client = new Client(server.baseUrl);
  assert.equal((await client.login(holder.mailbox.address, holder.password)).status, 200);
  return { ...holder, client };
}

const count = async (server: TestServer, sql: string, customerId: string) =>
  (await server.app.db.query<{ n: number }>(sql, [customerId]))[0]!.n;
const ordersOf = (s: TestServer, id: string) => count(s, 'SELECT count(*)::int AS n FROM orders WHERE customer_id = $1', id);
const chargesOf = (s: TestServer, id: string) =>
  count(s, `SELECT count(*)::int AS n FROM ledger_transactions WHERE customer_id = $1 AND kind <> 'adjustment'`, id);
const topupsOf = (s: TestServer, id: string) => count(s, 'SELECT count(*)::int AS n FROM topups WHERE customer_id = $1', id);

for (const engine of engineNames()) {
  test(`the extra-space confirm form posted twice buys once; Back and confirm again buys nothing; a fresh form buys again [${engine}]`, async () => {
    clock.setRome('2026-06-10T10:00');
    const server = await startTestServer(engine);
    try {
      const { client, customer, mailbox } = await holderClient(server, { creditCents: 100_000, expiresOn: '2027-03-01' });
      const buyPage = `/mailboxes/${mailbox.id}/extra-space`;
      const balance = async () => (await client.get('/api/credit')).body.balanceCents as number;
      const start = await balance();

      // The quote form without JavaScript: its URL carries the token the confirm form will use.
      const empty = await client.get<string>(buyPage);
      const quoteUrl = `${buyPage}?${new URLSearchParams({ ...formFields(empty.body, buyPage, 'get'), quantityGb: '5' })}`;
      const quote = await client.get<string>(quoteUrl);
      assert.equal(quote.status, 200);
      const confirm = formFields(quote.body, buyPage);
      assert.equal(confirm.quantityGb, '5');

      const first = await postForm(client, buyPage, confirm);
      assert.equal(first.status, 303, first.body);
      const again = await postForm(client, buyPage, confirm);
      assert.equal(again.status, 303, again.body);
      assert.equal(again.headers.get('location'), first.headers.get('location'));
      assert.equal(await ordersOf(server, customer.id), 1);
      assert.equal(await chargesOf(server, customer.id), 1);
      const afterOne = await balance();
      assert.ok(afterOne < start, 'the first post bought');

      // Back: the browser fetches the quote URL again; confirming that page again changes nothing.
      const back = await client.get<string>(quoteUrl);
      const backAgain = await postForm(client, buyPage, formFields(back.body, buyPage));
      assert.equal(backAgain.status, 303);
      assert.equal(backAgain.headers.get('location'), first.headers.get('location'));
      assert.equal(await ordersOf(server, customer.id), 1);
      assert.equal(await balance(), afterOne);

      // The same 5 GB again minutes later asks first (issue 19); the question's form is the fresh one,
      // and a double click on it still buys once.
      const freshQuote = formFields((await client.get<string>(`${buyPage}?quantityGb=5`)).body, buyPage);
      const asked = await postForm(client, buyPage, freshQuote);
      assert.equal(asked.headers.get('location'), `${buyPage}/again?quantityGb=5`);
      assert.equal(await ordersOf(server, customer.id), 1);
      const fresh = formFields((await client.get<string>(`${buyPage}/again?quantityGb=5`)).body, buyPage);
      assert.notEqual(fresh._once, confirm._once, 'a fresh form has a token of its own');
      const both = await Promise.all([postForm(client, buyPage, fresh), postForm(client, buyPage, fresh)]);
      assert.ok(both.some((r) => r.status === 303), JSON.stringify(both.map((r) => r.status)));
      for (const r of both) assert.ok(r.status === 303 || r.status === 409, `${r.status}: ${r.body}`);
      assert.equal(await ordersOf(server, customer.id), 2);
      assert.equal(await chargesOf(server, customer.id), 2);
      assert.equal(start - (await balance()), 2 * (start - afterOne));

      // The same token with other content (a quantity changed on a form already sent) does nothing.
      const reused = await postForm(client, buyPage, { ...fresh, quantityGb: '7' });
      assert.equal(reused.status, 422);
      assert.match(reused.body, /Questo modulo è già stato inviato/);
      // And a post without a token (not one of our forms) does nothing either.
      const { _once, ...tokenless } = fresh;
      assert.ok(_once);
      const bare = await postForm(client, buyPage, tokenless);
      assert.equal(bare.status, 422);
      assert.match(bare.body, /Questo modulo non è più valido/);
      assert.equal(await ordersOf(server, customer.id), 2);
    } finally {
      await server.close();
    }
  });

  test(`renewal, top-up, pay and cancel forms posted twice act once [${engine}]`, async () => {
    clock.setRome('2026-06-10T10:00');
    const server = await startTestServer(engine);
    try {
      const { client, customer, mailbox } = await holderClient(server, { expiresOn: '2026-07-01', locale: 'en' });
      const card = `/mailboxes/${mailbox.id}`;

      // Manual renewal with no credit: one order waiting for a top-up, however often it is posted.
      const renewal = await submitPageForm(client, card, `${card}/renewal`);
      assert.equal(renewal.res.status, 303, renewal.res.body);
      const renewalAgain = await postForm(client, `${card}/renewal`, renewal.fields);
      assert.equal(renewalAgain.headers.get('location'), renewal.res.headers.get('location'));
      assert.equal(await ordersOf(server, customer.id), 1);
      const [order] = (await client.get('/api/orders')).body.orders;
      assert.equal(order.status, 'awaiting_topup');

      // "Top up and complete the order": one top-up for the order.
      const pay = await submitPageForm(client, '/orders', `/orders/${order.id}/pay`);
      assert.equal(pay.res.status, 303, pay.res.body);
      const payAgain = await postForm(client, `/orders/${order.id}/pay`, pay.fields);
      assert.equal(payAgain.status, 303);
      assert.equal(payAgain.headers.get('location'), pay.res.headers.get('location'));
      assert.equal(await topupsOf(server, customer.id), 1);

      // Cancel twice: the second post shows the first outcome ("cancelled"), not an error.
      const cancel = await submitPageForm(client, '/orders', `/orders/${order.id}/cancel`);
      assert.equal(cancel.res.headers.get('location'), '/orders?msg=orderCancelled');
      const cancelAgain = await postForm(client, `/orders/${order.id}/cancel`, cancel.fields);
      assert.equal(cancelAgain.headers.get('location'), '/orders?msg=orderCancelled');
      assert.equal((await client.get(`/api/orders/${order.id}`)).body.order.status, 'cancelled');

      // A plain top-up: one card payment started, whatever the number of posts.
      const topup = await submitPageForm(client, '/credit', '/credit/topups', { amount: '1,000.00' });
      assert.equal(topup.res.status, 303, topup.res.body);
      const topupAgain = await postForm(client, '/credit/topups', topup.fields);
      assert.equal(topupAgain.headers.get('location'), topup.res.headers.get('location'));
      assert.equal(await topupsOf(server, customer.id), 2);
      const fresh = await submitPageForm(client, '/credit', '/credit/topups', { amount: '25' });
      assert.equal(fresh.res.status, 303);
      assert.notEqual(fresh.res.headers.get('location'), topup.res.headers.get('location'));
      assert.equal(await topupsOf(server, customer.id), 3);
      // The page's language: a form already sent is explained in English to an English holder.
      const reused = await postForm(client, '/credit/topups', { ...topup.fields, amount: '30' });
      assert.equal(reused.status, 422);
      assert.match(reused.body, /This form was already sent/);
      assert.equal(await topupsOf(server, customer.id), 3);
    } finally {
      await server.close();
    }
  });
}
