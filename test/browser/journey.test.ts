// The holder's web customer area in a real browser (SPEC section 4, API.md "Web customer area"):
// the purchase journey with a card top-up in the middle, with and without JavaScript, the free
// purchase near expiry, the language switch, and axe-core on every page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { browserTestOptions, chromiumAvailable, launchChromium } from '../support/browser.ts';
import { clock } from '../../src/clock.ts';
import { Client, provisionHolder, startTestServer, type TestServer } from '../support/http.ts';

const available = chromiumAvailable;
const opts = browserTestOptions;

const SHOTS = 'test-output/screenshots';
const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

let server: TestServer;
let op: Client;
let browser: Browser;

before(async () => {
  if (!available) return;
  clock.setRome('2026-06-10T10:00');
  server = await startTestServer('pglite');
  op = new Client(server.baseUrl, server.operatorToken);
  mkdirSync(SHOTS, { recursive: true });
  browser = await launchChromium();
});

after(async () => {
  if (!available) return;
  await browser?.close();
  await server?.close();
});

async function newPage(js = true): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ javaScriptEnabled: js, baseURL: server.baseUrl, viewport: { width: 1000, height: 900 } });
  const page = await context.newPage();
  return { context, page };
}

async function logIn(page: Page, address: string, password: string) {
  await page.goto('/');
  assert.match(page.url(), /\/login$/);
  await page.getByLabel('Indirizzo PEC', { exact: true }).fill(address);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Accedi', exact: true }).click();
  await page.waitForURL((u) => u.pathname === '/');
}

const mainText = (page: Page) => page.locator('main').innerText();

async function shot(page: Page, name: string) {
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

async function purchaseJourney(page: Page, js: boolean, prefix: string) {
  const { mailbox, password } = await provisionHolder(op, { creditCents: 200, expiresOn: '2026-12-01' });
  await logIn(page, mailbox.address, password);
  const dash = await mainText(page);
  assert.match(dash, /Credito residuo/);
  assert.match(dash, /2,00 €/);
  await shot(page, `${prefix}dashboard`);

  await page.getByRole('link', { name: 'Lista caselle PEC', exact: true }).click();
  await page.waitForURL((u) => u.pathname === '/mailboxes');
  await shot(page, `${prefix}mailboxes`);
  await page.getByRole('link', { name: `Dettagli ${mailbox.address}`, exact: true }).click();
  await page.waitForURL((u) => u.pathname === `/mailboxes/${mailbox.id}`);
  const card = await mainText(page);
  for (const label of ['Stato', 'Data di scadenza', 'Tipologia', 'Spazio Inbox']) assert.ok(card.includes(label), `card shows ${label}`);
  assert.match(card, /1° dicembre 2026/);
  assert.match(card, /usati su 1 GB/);
  await shot(page, `${prefix}mailbox-card`);

  await page.getByRole('link', { name: 'Acquista nuovo Servizio Aggiuntivo', exact: true }).click();
  await page.waitForURL((u) => u.pathname === `/mailboxes/${mailbox.id}/extra-space`);
  assert.match(await mainText(page), /Spazio Extra Inbox/);
  await page.getByLabel('GB da acquistare', { exact: true }).fill('3');
  if (js) {
    // The live price: no page load, the quote appears from the JSON API.
    await page.locator('#quote').waitFor({ state: 'visible' });
    await page.getByRole('button', { name: "Ricarica e completa l'ordine", exact: true }).waitFor();
  } else {
    await page.getByRole('button', { name: 'Calcola il prezzo', exact: true }).click();
    await page.waitForURL((u) => u.searchParams.get('quantityGb') === '3');
  }
  const quote = await page.locator('#quote').innerText();
  assert.match(quote, /mancano più di tre mesi alla scadenza: si paga l'intero anno/);
  assert.match(quote, /10 giugno 2026/);
  assert.match(quote, /1° dicembre 2026/);
  assert.match(quote, /9,00 €/);
  assert.match(quote, /10,98 €/); // VAT-inclusive beside the net price
  assert.match(quote, /mancano 7,00 €/);
  assert.equal(await page.getByRole('button', { name: 'Conferma acquisto', exact: true }).count(), 0);
  await shot(page, `${prefix}extra-space-quote`);

  await page.getByRole('button', { name: "Ricarica e completa l'ordine", exact: true }).click();
  await page.waitForURL((u) => u.pathname.startsWith('/test-gateway/checkout/'));
  await shot(page, `${prefix}checkout`);
  await page.getByLabel('Numero carta', { exact: true }).fill('4242424242424242');
  await page.getByLabel('Scadenza', { exact: true }).fill('12/34');
  await page.getByLabel('CVC', { exact: true }).fill('123');
  await page.getByRole('button', { name: 'Paga', exact: true }).click();
  await page.waitForURL((u) => u.pathname.startsWith('/credit/topups/'));
  const result = await mainText(page);
  assert.match(result, /Ricarica riuscita/);
  assert.match(result, /Ordine completato/i);
  await shot(page, `${prefix}topup-result`);

  await page.getByRole('link', { name: 'Torna alla scheda della casella', exact: true }).click();
  await page.waitForURL((u) => u.pathname === `/mailboxes/${mailbox.id}`);
  const after = await mainText(page);
  assert.match(after, /usati su 4 GB/);
  assert.match(after, /3 GB, attivo/);

  await page.goto('/credit');
  const rows = page.locator('main table tbody tr');
  assert.equal(await rows.count(), 3);
  const credit = await mainText(page);
  assert.match(credit, /\+7,00 €/);
  assert.match(credit, /-9,00 €/);
  assert.match(credit, /\+2,00 €/);
  assert.match(await page.locator('#balance').innerText(), /0,00 €/);
  await shot(page, `${prefix}credit`);

  await page.goto('/orders');
  assert.match(await mainText(page), /Completato/);
  await shot(page, `${prefix}orders`);
  return mailbox;
}

test('purchase journey with a card top-up in the middle (JavaScript on)', opts, async () => {
  const { context, page } = await newPage(true);
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`${m.text()} ${m.location().url}`);
  });
  try {
    await purchaseJourney(page, true, '');
    assert.deepEqual(errors, [], 'no console errors (CSP violations would show here)');
  } finally {
    await context.close();
  }
});

test('purchase journey without JavaScript', opts, async () => {
  const { context, page } = await newPage(false);
  try {
    await purchaseJourney(page, false, 'nojs-');
  } finally {
    await context.close();
  }
});

test('free purchase with less than three months left', opts, async () => {
  const { mailbox, password } = await provisionHolder(op, { expiresOn: '2026-08-01' });
  const { context, page } = await newPage(false);
  try {
    await logIn(page, mailbox.address, password);
    await page.goto(`/mailboxes/${mailbox.id}/extra-space`);
    await page.getByLabel('GB da acquistare', { exact: true }).fill('2');
    await page.getByRole('button', { name: 'Calcola il prezzo', exact: true }).click();
    await page.waitForURL((u) => u.searchParams.get('quantityGb') === '2');
    const quote = await page.locator('#quote').innerText();
    assert.match(quote, /mancano tre mesi o meno: gratuito fino alla scadenza/);
    assert.match(quote, /1° agosto 2026/);
    assert.match(quote, /Gratuito \(0,00 €\)/);
    await shot(page, 'free-quote');
    await page.getByRole('button', { name: 'Conferma acquisto', exact: true }).click();
    await page.waitForURL((u) => u.pathname === `/mailboxes/${mailbox.id}`);
    const card = await mainText(page);
    assert.match(card, /Ordine completato/);
    assert.match(card, /usati su 3 GB/);
    await page.goto('/orders');
    const orders = await mainText(page);
    assert.match(orders, /Completato/);
    assert.match(orders, /0,00 €/);
  } finally {
    await context.close();
  }
});

test('bad input is tied to its field; another holder\'s mailbox is a 404 page', opts, async () => {
  const a = await provisionHolder(op, {});
  const b = await provisionHolder(op, {});
  const { context, page } = await newPage(false);
  try {
    await page.goto('/login');
    await page.getByLabel('Indirizzo PEC', { exact: true }).fill(a.mailbox.address);
    await page.getByLabel('Password', { exact: true }).fill('sbagliata');
    await page.getByRole('button', { name: 'Accedi', exact: true }).click();
    const pw = page.getByLabel('Password', { exact: true });
    assert.equal(await pw.getAttribute('aria-invalid'), 'true');
    assert.match(await page.locator(`#${await pw.getAttribute('aria-describedby')}`).innerText(), /non corretti/);
    await shot(page, 'login-error');

    await logIn(page, a.mailbox.address, a.password);
    const res = await page.goto(`/mailboxes/${b.mailbox.id}`);
    assert.equal(res?.status(), 404);
    assert.match(await mainText(page), /Pagina non trovata/);

    await page.goto('/credit');
    await page.getByLabel('Importo da ricaricare', { exact: true }).fill('0,5');
    await page.getByRole('button', { name: 'Ricarica', exact: true }).click();
    const amount = page.getByLabel('Importo da ricaricare', { exact: true });
    assert.equal(await amount.getAttribute('aria-invalid'), 'true');
    assert.match(await page.locator('#amount-error').innerText(), /tra 1,00 € e 5.000,00 €/);

    await amount.fill('25,50');
    await page.getByRole('button', { name: 'Ricarica', exact: true }).click();
    await page.waitForURL((u) => u.pathname.startsWith('/test-gateway/checkout/'));
    assert.match(await mainText(page), /25,50 €/);
    assert.match(await mainText(page), /31,11 €/); // 25,50 + 22 % = 31,11

    // Renewal switches: a plain form, no JavaScript needed.
    await page.goto(`/mailboxes/${a.mailbox.id}`);
    await page.getByLabel('Rinnova automaticamente la casella alla scadenza', { exact: true }).uncheck();
    await page.getByRole('button', { name: 'Salva impostazioni', exact: true }).click();
    await page.waitForURL((u) => u.searchParams.get('msg') === 'settingsSaved');
    assert.match(await mainText(page), /Impostazioni salvate/);
    assert.equal(await page.getByLabel('Rinnova automaticamente la casella alla scadenza', { exact: true }).isChecked(), false);
    assert.equal(await page.getByLabel('Rinnova automaticamente lo Spazio Extra Inbox', { exact: true }).isChecked(), true);

    // A form post without the right _csrf field is refused with a page, and changes nothing.
    const forged = await page.request.post(`/mailboxes/${a.mailbox.id}/settings`, { form: { _csrf: 'wrong', autoRenew: '1' }, maxRedirects: 0 });
    assert.equal(forged.status(), 403);
    assert.match(await forged.text(), /Richiesta non valida/);
    const still = await op.get(`/api/admin/customers/${a.customer.id}`);
    assert.equal(still.body.mailboxes[0].autoRenew, false);

    // Static assets: right types, cacheable.
    const css = await page.request.get('/assets/casella.css');
    assert.match(css.headers()['content-type'] ?? '', /^text\/css/);
    assert.match(css.headers()['cache-control'] ?? '', /max-age=\d+/);
    const js = await page.request.get('/assets/casella.js');
    assert.match(js.headers()['content-type'] ?? '', /javascript/);

    // The language link only sends back to this site.
    const away = await page.request.get('/lang/it?next=//evil.example/x', { maxRedirects: 0 });
    assert.equal(away.status(), 303);
    assert.equal(away.headers()['location'], '/');

    await page.goto('/');
    await page.getByRole('button', { name: 'Esci', exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/login');
    await page.goto('/');
    assert.match(page.url(), /\/login$/);
  } finally {
    await context.close();
  }
});

test('manual renewal: a waiting order can be cancelled, or paid from the orders page', opts, async () => {
  const { mailbox, password } = await provisionHolder(op, { expiresOn: '2026-08-01' });
  const { context, page } = await newPage(false);
  try {
    await logIn(page, mailbox.address, password);
    await page.goto(`/mailboxes/${mailbox.id}`);
    await page.getByRole('button', { name: 'Rinnova ora', exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/orders');
    assert.match(await mainText(page), /In attesa di ricarica/);
    await page.getByRole('button', { name: 'Annulla ordine', exact: true }).click();
    await page.waitForURL((u) => u.searchParams.get('msg') === 'orderCancelled');
    assert.match(await mainText(page), /Annullato/);

    await page.goto(`/mailboxes/${mailbox.id}`);
    await page.getByRole('button', { name: 'Rinnova ora', exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/orders');
    await page.getByRole('button', { name: "Ricarica e completa l'ordine", exact: true }).click();
    await page.waitForURL((u) => u.pathname.startsWith('/test-gateway/checkout/'));
    assert.match(await mainText(page), /6,10 €/); // 5,00 € of credit plus VAT
    await page.getByLabel('Numero carta', { exact: true }).fill('4242424242424242');
    await page.getByLabel('Scadenza', { exact: true }).fill('12/34');
    await page.getByLabel('CVC', { exact: true }).fill('123');
    await page.getByRole('button', { name: 'Paga', exact: true }).click();
    await page.waitForURL((u) => u.pathname.startsWith('/credit/topups/'));
    assert.match(await mainText(page), /Ordine completato/);
    await page.getByRole('link', { name: 'Torna alla scheda della casella', exact: true }).click();
    assert.match(await mainText(page), /1° agosto 2027/);
  } finally {
    await context.close();
  }
});

test('English switch and back', opts, async () => {
  const { customer, mailbox, password } = await provisionHolder(op, { creditCents: 1234 });
  const { context, page } = await newPage(true);
  try {
    await page.goto('/login');
    await page.getByRole('link', { name: 'English', exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/login');
    await page.getByLabel('PEC address', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Log in', exact: true }).waitFor();
    await page.getByRole('link', { name: 'Italiano', exact: true }).click();
    await page.getByLabel('Indirizzo PEC', { exact: true }).waitFor();

    await logIn(page, mailbox.address, password);
    assert.match(await mainText(page), /12,34 €/);
    await page.getByRole('button', { name: 'English', exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/');
    const en = await mainText(page);
    assert.match(en, /Remaining credit/);
    assert.match(en, /€12\.34/);
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    await page.getByRole('link', { name: 'PEC mailbox list', exact: true }).click();
    await page.getByRole('link', { name: `Details ${mailbox.address}`, exact: true }).click();
    const card = await mainText(page);
    assert.match(card, /Expiry date/);
    assert.match(card, /1 December 2026/);
    await shot(page, 'en-mailbox-card');
    // The choice is the holder's: it survives a new login.
    const again = await op.get(`/api/admin/customers/${customer.id}`);
    assert.equal(again.body.customer.locale, 'en');

    await page.getByRole('button', { name: 'Italiano', exact: true }).click();
    await page.waitForURL((u) => u.pathname === `/mailboxes/${mailbox.id}`);
    const it = await mainText(page);
    assert.match(it, /Data di scadenza/);
    assert.equal(await page.getAttribute('html', 'lang'), 'it');
  } finally {
    await context.close();
  }
});

async function axe(page: Page, name: string) {
  await page.evaluate(AXE_SOURCE);
  const result = (await page.evaluate(() => (window as any).axe.run())) as {
    violations: { id: string; impact: string | null; help: string; nodes: { target: unknown }[] }[];
  };
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    bad.map((v) => `${name}: ${v.id} (${v.impact}) ${v.help} at ${JSON.stringify(v.nodes.map((n) => n.target))}`),
    [],
  );
  await shot(page, `axe-${name}`);
}

test('axe-core finds no serious or critical violation on any page', opts, async () => {
  const { mailbox, password } = await provisionHolder(op, { creditCents: 100, expiresOn: '2026-08-20' });
  const { context, page } = await newPage(true);
  try {
    await page.goto('/login');
    await axe(page, 'login');
    await page.getByLabel('Indirizzo PEC', { exact: true }).fill(mailbox.address);
    await page.getByLabel('Password', { exact: true }).fill('nope');
    await page.getByRole('button', { name: 'Accedi', exact: true }).click();
    await axe(page, 'login-error');
    await logIn(page, mailbox.address, password);
    await axe(page, 'dashboard');
    await page.goto('/mailboxes');
    await axe(page, 'mailboxes');
    await page.goto(`/mailboxes/${mailbox.id}`);
    await axe(page, 'mailbox-card');
    await page.goto(`/mailboxes/${mailbox.id}/extra-space?quantityGb=abc`);
    await axe(page, 'extra-space-invalid');
    await page.goto(`/mailboxes/${mailbox.id}/extra-space`);
    await page.getByLabel('GB da acquistare', { exact: true }).fill('5');
    await page.locator('#quote').waitFor({ state: 'visible' });
    await axe(page, 'extra-space');
    await page.goto('/credit');
    await axe(page, 'credit');
    // A waiting order, paid and declined, then the orders page.
    await page.goto('/orders');
    await axe(page, 'orders-empty');
    await page.goto(`/mailboxes/${mailbox.id}/extra-space?quantityGb=1`);
    await page.locator('#quote').waitFor({ state: 'visible' });
    await page.getByRole('button', { name: 'Conferma acquisto', exact: true }).click(); // free: under three months
    await page.goto('/credit');
    await page.getByLabel('Importo da ricaricare', { exact: true }).fill('10');
    await page.getByRole('button', { name: 'Ricarica', exact: true }).click();
    await page.waitForURL((u) => u.pathname.startsWith('/test-gateway/checkout/'));
    await axe(page, 'checkout');
    await page.getByLabel('Numero carta', { exact: true }).fill('4000000000000002');
    await page.getByLabel('Scadenza', { exact: true }).fill('12/34');
    await page.getByLabel('CVC', { exact: true }).fill('123');
    await page.getByRole('button', { name: 'Paga', exact: true }).click();
    await page.waitForURL((u) => u.pathname.startsWith('/credit/topups/'));
    assert.match(await mainText(page), /carta è stata rifiutata/);
    await axe(page, 'topup-failed');
    await page.goto('/orders');
    await axe(page, 'orders');
    await page.goto('/mailboxes/nope');
    await axe(page, 'not-found');
    await page.getByRole('button', { name: 'English', exact: true }).click();
    await axe(page, 'en-not-found');
    await page.goto(`/mailboxes/${mailbox.id}`);
    await axe(page, 'en-mailbox-card');
    await page.setViewportSize({ width: 360, height: 800 });
    await page.goto(`/mailboxes/${mailbox.id}/extra-space?quantityGb=2`);
    await axe(page, 'en-extra-space-360');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    assert.equal(overflow, false, 'no horizontal scrolling at 360 px');
  } finally {
    await context.close();
  }
});
