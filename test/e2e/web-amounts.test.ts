// Issue 12 item 14: what the holder types into the money forms is read as the page writes it, or
// refused with a message in the page's language; never reinterpreted. Euros take the Italian
// thousands separator the page's own hints use ("1.000,00"); GB are whole numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clock } from '../../src/clock.ts';
import { engineNames } from '../support/engines.ts';
import { Client, provisionHolder, startTestServer } from '../support/http.ts';
import { submitPageForm } from '../support/web-forms.ts';

for (const engine of engineNames()) {
  test(`"Importo da ricaricare" reads 1.000,00 as a thousand euros and refuses 1,000.00 and 25,505 with a message [${engine}]`, async () => {
    clock.setRome('2026-06-10T10:00');
    const server = await startTestServer(engine);
    try {
      const op = new Client(server.baseUrl, server.operatorToken);
      const login = async (locale: 'it' | 'en') => {
        const h = await provisionHolder(op, { locale, expiresOn: '2027-03-01' });
        const client = new Client(server.baseUrl);
        await client.login(h.mailbox.address, h.password);
        return { ...h, client };
      };
      const topups = async (customerId: string) =>
        (await server.app.db.query<{ amount_cents: number }>('SELECT amount_cents FROM topups WHERE customer_id = $1', [customerId]))
          .map((r) => r.amount_cents)
          .sort((a, b) => a - b);

      const it = await login('it');
      for (const [typed, cents] of [['1.000,00', 100_000], ['1.000', 100_000], ['25,50', 2550], ['25', 2500]] as const) {
        const { res } = await submitPageForm(it.client, '/credit', '/credit/topups', { amount: typed });
        assert.equal(res.status, 303, `${typed}: ${res.body}`);
        const started = new URL(res.headers.get('location')!, server.baseUrl).pathname.split('/').pop()!;
        const [row] = await server.app.db.query<{ amount_cents: number }>('SELECT amount_cents FROM topups WHERE id = $1', [decodeURIComponent(started)]);
        assert.equal(row?.amount_cents, cents, typed);
      }
      for (const typed of ['1,000.00', '1.00.0', '25,505', '1,000', '٢٥']) {
        const { res } = await submitPageForm(it.client, '/credit', '/credit/topups', { amount: typed });
        assert.equal(res.status, 422, typed);
        assert.match(res.body, /<p class="error" id="amount-error">Inserisci un importo in euro tra 1,00 € e 5\.000,00 €, scritto come 25, 25,50 o 1\.000,00\.<\/p>/, typed);
        assert.ok(res.body.includes(`value="${typed}"`), `the field keeps ${typed}`);
      }
      assert.deepEqual(await topups(it.customer.id), [2500, 2550, 100_000, 100_000]);

      const en = await login('en');
      const { res } = await submitPageForm(en.client, '/credit', '/credit/topups', { amount: '1.000,00' });
      assert.equal(res.status, 422);
      assert.match(res.body, /Enter an amount in euros between €1\.00 and €5,000\.00, written as 25, 25\.50 or 1,000\.00\./);
      assert.deepEqual(await topups(en.customer.id), []);
    } finally {
      await server.close();
    }
  });

  test(`"GB da acquistare": 2,5 and other non-whole quantities are refused with a message, nothing is bought [${engine}]`, async () => {
    clock.setRome('2026-06-10T10:00');
    const server = await startTestServer(engine);
    try {
      const op = new Client(server.baseUrl, server.operatorToken);
      const h = await provisionHolder(op, { creditCents: 100_000, expiresOn: '2027-03-01' });
      const client = new Client(server.baseUrl);
      await client.login(h.mailbox.address, h.password);
      const buy = `/mailboxes/${h.mailbox.id}/extra-space`;
      for (const typed of ['2,5', '2.5', '1e1', '+3', '٣', '', '-3', '1234567']) {
        const quote = await client.get<string>(`${buy}?quantityGb=${encodeURIComponent(typed)}`);
        assert.equal(quote.status, 422, typed);
        assert.match(quote.body, /Inserisci un numero intero di GB, almeno 1\./, typed);
        const { res } = await submitPageForm(client, `${buy}?quantityGb=5`, buy, { quantityGb: typed });
        assert.equal(res.status, 422, typed);
        assert.match(res.body, /Inserisci un numero intero di GB, almeno 1\./, typed);
      }
      const huge = await client.get<string>(`${buy}?quantityGb=999999`);
      assert.equal(huge.status, 422);
      assert.match(huge.body, /può avere al massimo/);
      assert.equal((await client.get('/api/orders')).body.orders.length, 0);
    } finally {
      await server.close();
    }
  });
}
