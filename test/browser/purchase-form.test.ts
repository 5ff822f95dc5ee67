// The extra-space purchase form in a real browser, for two defects a new user found (issue 12):
// item 14, "2,5" typed in "GB da acquistare" became 25 GB (a number field drops the comma); item 15,
// Back and confirm again bought twice.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { browserTestOptions, chromiumAvailable, launchChromium } from '../support/browser.ts';
import { clock } from '../../src/clock.ts';
import { Client, provisionHolder, startTestServer, type TestServer } from '../support/http.ts';

const available = chromiumAvailable;
const opts = browserTestOptions;

let server: TestServer;
let op: Client;
let browser: Browser;

before(async () => {
  if (!available) return;
  clock.setRome('2026-06-10T10:00');
  server = await startTestServer('pglite');
  op = new Client(server.baseUrl, server.operatorToken);
  browser = await launchChromium();
});

after(async () => {
  if (!available) return;
  await browser?.close();
  await server?.close();
});

async function loggedIn(js: boolean, creditCents: number) {
  const holder = await provisionHolder(op, { creditCents, expiresOn: '2027-03-01' });
  const context = await browser.newContext({ javaScriptEnabled: js, baseURL: server.baseUrl, locale: 'it-IT' });
  const page = await context.newPage();
  await page.goto('/login');
  await page.getByLabel('Indirizzo PEC', { exact: true }).fill(holder.mailbox.address);
  await page.getByLabel('Password', { exact: true }).fill(holder.password);
  await page.getByRole('button', { name: 'Accedi', exact: true }).click();
  await page.waitForURL((u) => u.pathname === '/');
  const api = new Client(server.baseUrl);
  await api.login(holder.mailbox.address, holder.password);
  return { ...holder, page, api, close: () => context.close() };
}

const quantityField = (page: Page) => page.getByLabel('GB da acquistare', { exact: true });

for (const js of [false, true]) {
  test(`"2,5" typed in "GB da acquistare" is refused with a message, never quoted or bought as 25 GB (${js ? 'with' : 'without'} JavaScript)`, opts, async () => {
    const h = await loggedIn(js, 100_000);
    try {
      await h.page.goto(`/mailboxes/${h.mailbox.id}/extra-space`);
      for (const typed of ['2,5', '+3', '1e1']) {
        await quantityField(h.page).fill('');
        await quantityField(h.page).pressSequentially(typed);
        assert.equal(await quantityField(h.page).inputValue(), typed, 'the field keeps what was typed');
        await h.page.getByRole('button', { name: 'Calcola il prezzo', exact: true }).click();
        if (!js) await h.page.waitForURL((u) => u.searchParams.has('quantityGb'));
        const error = h.page.locator('#quantity-error');
        await error.waitFor({ state: 'visible' });
        assert.equal(await error.innerText(), 'Inserisci un numero intero di GB, almeno 1.', typed);
        assert.equal(await h.page.locator('#quote').isVisible(), false, `no quote for "${typed}"`);
        if (!js) assert.equal(new URL(h.page.url()).searchParams.get('quantityGb'), typed, 'the server saw what was typed');
      }
      assert.equal((await h.api.get('/api/orders')).body.orders.length, 0);
    } finally {
      await h.close();
    }
  });
}

test('Back to the quote and confirm again (without JavaScript) buys once', opts, async () => {
  const h = await loggedIn(false, 100_000);
  try {
    await h.page.goto(`/mailboxes/${h.mailbox.id}/extra-space`);
    await quantityField(h.page).fill('5');
    await h.page.getByRole('button', { name: 'Calcola il prezzo', exact: true }).click();
    await h.page.waitForURL((u) => u.searchParams.get('quantityGb') === '5');
    await h.page.getByRole('button', { name: 'Conferma acquisto', exact: true }).click();
    await h.page.waitForURL((u) => u.pathname === `/mailboxes/${h.mailbox.id}`);
    const balance = (await h.api.get('/api/credit')).body.balanceCents;

    await h.page.goBack();
    await h.page.waitForURL((u) => u.searchParams.get('quantityGb') === '5');
    await h.page.getByRole('button', { name: 'Conferma acquisto', exact: true }).click();
    await h.page.waitForURL((u) => u.pathname === `/mailboxes/${h.mailbox.id}`);

    assert.equal((await h.api.get('/api/orders')).body.orders.length, 1);
    assert.equal((await h.api.get('/api/credit')).body.balanceCents, balance);
    assert.match(await h.page.locator('main').innerText(), /5 GB, attivo/);
  } finally {
    await h.close();
  }
});
