// Issue 19 items 12–14 in real Chromium, as a new holder meets them: English chosen on the login page
// stays after logging in; the price with VAT first; "Ricarica e completa l'ordine" without billing
// data asks for them (the person's or the company's fields, by a radio with its label beside it) and
// goes straight on to the card; the result links the invoice; the same space again asks first.
// Every page fits 375 and 1280 px with zero axe-core violations (test/support/page-checks.ts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { browserTestOptions, chromiumAvailable, launchChromium } from '../support/browser.ts';
import { clock } from '../../src/clock.ts';
import { Client, provisionHolder, startTestServer, type TestServer } from '../support/http.ts';
import { checkPage, screenshotDir } from '../support/page-checks.ts';

let server: TestServer;
let browser: Browser;

before(async () => {
  if (!chromiumAvailable) return;
  clock.setRome('2026-06-10T10:00');
  server = await startTestServer('pglite');
  browser = await launchChromium();
});

after(async () => {
  if (!chromiumAvailable) return;
  await browser?.close();
  await server?.close();
});

/** The page checked at a phone's width and a desktop's, then left at the desktop's. */
async function atBothWidths(page: Page, dir: string, name: string) {
  for (const width of [375, 1280]) {
    await page.setViewportSize({ width, height: 812 });
    await checkPage(page, dir, `${name}-${width}`);
  }
}

test('issue 19: a new holder in English, then the order paid through the billing data in one go, and the same space asked about', browserTestOptions, async () => {
  const op = new Client(server.baseUrl, server.operatorToken);
  const { customer, mailbox, password } = await provisionHolder(op, { billingProfile: false, expiresOn: '2026-12-01' });
  const context = await browser.newContext({ baseURL: server.baseUrl, locale: 'it-IT' });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const dir = screenshotDir('new-user');
  try {
    // Item 12: English chosen before logging in is still English after.
    await page.goto('/login');
    await page.getByRole('link', { name: 'English', exact: true }).click();
    await page.getByRole('heading', { name: 'Customer area login' }).waitFor();
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    await page.getByLabel('PEC address', { exact: true }).fill(mailbox.address);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/');
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.match(await page.locator('main').innerText(), /Hello, Studio \d+\./);
    await atBothWidths(page, dir, 'en-dashboard');
    await page.getByRole('button', { name: 'Italiano', exact: true }).click();
    await page.getByRole('heading', { name: 'Area clienti' }).waitFor();
    assert.equal(await page.getAttribute('html', 'lang'), 'it');
    assert.match(await page.locator('main').innerText(), /Credito residuo\s+0,00 € IVA esclusa/);
    await atBothWidths(page, dir, 'dashboard');

    // Item 13: a holder without billing data is a consumer: the price with VAT first.
    await page.goto(`/mailboxes/${mailbox.id}/extra-space`);
    await page.getByLabel('GB da acquistare').fill('2');
    await page.getByRole('button', { name: "Ricarica e completa l'ordine" }).waitFor();
    assert.equal(await page.locator('#q-price').innerText(), '7,32 € IVA inclusa (6,00 € + IVA)');
    await atBothWidths(page, dir, 'quote');

    // Item 14: the billing data, then straight on to the card.
    await page.getByRole('button', { name: "Ricarica e completa l'ordine" }).click();
    await page.waitForURL((u) => u.pathname === '/profilo/fatturazione');
    await page.getByText('Appena li salvi passi al pagamento').waitFor();
    const person = page.getByLabel('Privato (persona fisica)');
    const business = page.getByLabel('Azienda o professionista con partita IVA');
    assert.equal(await person.isChecked(), true);
    assert.equal(await page.getByLabel('Nome', { exact: true }).isVisible(), true);
    assert.equal(await page.getByLabel(/^Ragione sociale/).isVisible(), false);
    // The radio's label is beside it, on the same line.
    const radio = (await person.boundingBox())!;
    const label = (await page.locator('label[for="bp-kind-person"]').boundingBox())!;
    assert.ok(label.x > radio.x + radio.width && label.y < radio.y + radio.height && label.y + label.height > radio.y, 'label beside its radio');
    await atBothWidths(page, dir, 'billing-person');
    await business.check();
    assert.equal(await page.getByLabel(/^Ragione sociale/).isVisible(), true);
    assert.equal(await page.getByLabel('Partita IVA', { exact: true }).isVisible(), true);
    assert.equal(await page.getByLabel('Nome', { exact: true }).isVisible(), false);
    await atBothWidths(page, dir, 'billing-business');
    await person.check();
    await page.getByLabel('Nome', { exact: true }).fill('Mario');
    await page.getByLabel('Cognome', { exact: true }).fill('Rossi');
    await page.getByLabel('Codice fiscale', { exact: true }).fill('RSSMRA85T10A562S');
    await page.getByLabel('Indirizzo (via o piazza)').fill('Via Roma');
    await page.getByLabel('CAP', { exact: true }).fill('00184');
    await page.getByLabel('Comune', { exact: true }).fill('Roma');
    await page.getByLabel('Provincia (sigla, es. RM)').fill('RM');
    await page.getByRole('button', { name: 'Salva i dati di fatturazione' }).click();
    await page.waitForURL((u) => u.pathname.startsWith('/test-gateway/checkout/'));
    await page.getByLabel('Numero carta').fill('4242424242424242');
    await page.getByLabel('Scadenza').fill('12/34');
    await page.getByLabel('CVC').fill('123');
    await page.getByRole('button', { name: 'Paga' }).click();
    await page.waitForURL((u) => u.pathname.startsWith('/credit/topups/'));
    await page.getByText('Ordine completato').waitFor();
    const invoiceLink = page.getByRole('link', { name: 'Scarica la fattura (PDF)' });
    assert.match((await invoiceLink.getAttribute('href'))!, /^\/fatture\/[^/]+\/pdf$/);
    await atBothWidths(page, dir, 'topup-result');

    // Item 11 on the card: one status per line, the price with VAT first.
    await page.goto(`/mailboxes/${mailbox.id}`);
    const card = await page.locator('main').innerText();
    assert.match(card, /2 GB, attivo fino al 1° dicembre 2026\./);
    assert.match(card, /6,10 € IVA inclusa \(5,00 € \+ IVA\)/);
    await atBothWidths(page, dir, 'mailbox');

    // Item 14: the same 2 GB again, a minute later, is asked about before anything is charged.
    clock.setRome('2026-06-10T10:01');
    await page.goto(`/mailboxes/${mailbox.id}/extra-space`);
    await page.getByLabel('GB da acquistare').fill('2');
    await page.getByRole('button', { name: "Ricarica e completa l'ordine" }).click();
    await page.waitForURL((u) => u.pathname.endsWith('/extra-space/again'));
    assert.match(await page.locator('main').innerText(), /Hai appena acquistato 2 GB di Spazio Extra Inbox per la casella .* \(alle 10:00\): confermi un altro acquisto di 2 GB\?/);
    await atBothWidths(page, dir, 'again');
    await page.getByRole('link', { name: 'No, torna alla scheda della casella' }).click();
    await page.waitForURL((u) => u.pathname === `/mailboxes/${mailbox.id}`);
    const orders = await server.app.db.query('SELECT 1 FROM orders WHERE customer_id = $1', [customer.id]);
    assert.equal(orders.length, 1, 'no second order');
  } finally {
    await context.close();
  }
});
