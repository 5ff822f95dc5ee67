// R19 (issue 21 item 7): the staff console in a real browser — a new colleague activates the account
// from the one-time link (password and TOTP), logs in with the keyboard only, finds a holder with
// `Cerca`, opens the holder's page with its sections, and records an action with its `Motivo`. Every
// console page, in Italian and English, at 375 and 1280 px: fits the screen, zero axe-core violations.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { Secret, TOTP } from 'otpauth';
import { browserTestOptions, chromiumAvailable, launchChromium } from '../support/browser.ts';
import { clock } from '../../src/clock.ts';
import { createStaff } from '../../src/services/staff/accounts.ts';
import { SYSTEM } from '../../src/services/audit.ts';
import { Client, provisionHolder, startTestServer, type TestServer } from '../support/http.ts';
import { checkPage, screenshotDir } from '../support/page-checks.ts';

const STEP_MS = 30_000;
const codeAt = (secret: string) => new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 }).generate({ timestamp: clock.wallMs() });
let server: TestServer;
let browser: Browser;
let wallOffsetMs = 0;
const nextStep = () => clock.setWallOffset((wallOffsetMs += STEP_MS));

before(async () => {
  if (!chromiumAvailable) return;
  clock.setRome('2026-06-10T10:00');
  server = await startTestServer('pglite');
  browser = await launchChromium();
});
after(async () => {
  if (!chromiumAvailable) return;
  clock.setWallOffset(0);
  await browser?.close();
  await server?.close();
});

async function logIn(page: Page, email: string, password: string, secret: string) {
  nextStep();
  await page.goto('/admin/login');
  // Keyboard only: the fields in order, then Enter.
  await page.getByLabel('E-mail', { exact: true }).focus();
  await page.keyboard.type(email);
  await page.keyboard.press('Tab');
  await page.keyboard.type(password);
  await page.keyboard.press('Tab');
  await page.keyboard.type(codeAt(secret));
  await page.keyboard.press('Enter');
  await page.waitForURL((u) => u.pathname === '/admin');
}

test('R19: activate, log in with the keyboard, search, the holder\'s page, an action with its reason; every page fits and passes axe', browserTestOptions, async () => {
  const op = new Client(server.baseUrl, server.operatorToken);
  const h = await provisionHolder(op, { creditCents: 1500 });
  const { setupToken } = await createStaff(server.app.db, SYSTEM, { email: 'lucia@provider.test', name: 'Lucia Bianchi', role: 'admin' });
  const context = await browser.newContext({ baseURL: server.baseUrl, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const dir = screenshotDir('console');
  const password = 'Console-Sicura-2027!';
  try {
    // The one-time link: the QR code, its key, a password and the first code.
    await page.goto(`/admin/setup/${setupToken}`);
    await page.getByRole('img', { name: 'Codice QR per l\'app di autenticazione' }).waitFor();
    const secret = (await page.locator('code.secret').innerText()).replace(/\s+/g, '');
    await checkPage(page, dir, 'setup-1280-it');
    await page.getByLabel('Nuova password').fill('corta');
    await page.getByLabel('Codice di verifica').fill(codeAt(secret));
    await page.getByRole('button', { name: 'Attiva l\'account' }).click();
    await page.getByRole('alert').waitFor();
    assert.match(await page.getByRole('alert').innerText(), /password/);
    await page.getByLabel('Nuova password').fill(password);
    await page.getByLabel('Codice di verifica').fill(codeAt(secret));
    await page.getByRole('button', { name: 'Attiva l\'account' }).click();
    await page.waitForURL((u) => u.pathname === '/admin/login');
    await checkPage(page, dir, 'login-1280-it');

    await logIn(page, 'lucia@provider.test', password, secret);
    await checkPage(page, dir, 'overview-1280-it');

    // Cerca, on every page: the beginning of the address finds the holder.
    await page.getByLabel('Cerca').fill(h.mailbox.address.slice(0, 10));
    await page.getByLabel('Cerca').press('Enter');
    await page.waitForURL((u) => u.pathname === '/admin/search');
    await checkPage(page, dir, 'search-1280-it');
    await page.getByRole('link', { name: h.customer.name }).click();
    await page.waitForURL((u) => u.pathname === `/admin/customers/${h.customer.id}`);
    for (const section of ['Caselle', 'Credito', 'Ordini', 'Pagamenti', 'Fatture', 'E-mail', 'Registro attività']) {
      await page.getByRole('heading', { name: section, exact: true, level: 2 }).waitFor();
    }
    await checkPage(page, dir, 'holder-1280-it');

    // An action without a reason is refused by the form; with one it is done and in the trail.
    const adjust = page.locator('form[action$="/credit-adjustments"]');
    await adjust.getByLabel('Importo in euro (negativo per togliere)').fill('2,50');
    await adjust.getByLabel('Motivo').fill('disservizio del 9 giugno');
    await adjust.getByRole('button', { name: 'Registra la rettifica' }).click();
    await page.getByRole('status').waitFor();
    assert.match(await page.locator('section[aria-labelledby="h-credit"]').innerText(), /17,50/);
    assert.match(await page.locator('section[aria-labelledby="h-audit"]').innerText(), /disservizio del 9 giugno/);

    await page.goto('/admin/staff');
    await checkPage(page, dir, 'staff-1280-it');

    // Phone width and English, every page.
    await page.setViewportSize({ width: 375, height: 800 });
    for (const [path, name] of [['/admin', 'overview'], [`/admin/search?q=${encodeURIComponent(h.mailbox.address.slice(0, 10))}`, 'search'], [`/admin/customers/${h.customer.id}`, 'holder'], ['/admin/staff', 'staff']] as const) {
      await page.goto(path);
      await checkPage(page, dir, `${name}-375-it`);
    }
    await page.goto('/lang/en?next=/admin');
    for (const [path, name] of [['/admin', 'overview'], [`/admin/customers/${h.customer.id}`, 'holder'], ['/admin/staff', 'staff']] as const) {
      await page.goto(path);
      await checkPage(page, dir, `${name}-375-en`);
      await page.setViewportSize({ width: 1280, height: 900 });
      await checkPage(page, dir, `${name}-1280-en`);
      await page.setViewportSize({ width: 375, height: 800 });
    }
    await page.getByRole('button', { name: /Log out/ }).click();
    await page.waitForURL((u) => u.pathname === '/admin/login');
    await checkPage(page, dir, 'login-375-en');
    await page.goto('/admin');
    await page.waitForURL((u) => u.pathname === '/admin/login');
  } finally {
    await context.close();
  }
});

test('R19: a support agent\'s console shows no money action, and the staff page answers 403', browserTestOptions, async () => {
  const { setupToken } = await createStaff(server.app.db, SYSTEM, { email: 'marco@provider.test', name: 'Marco Verdi', role: 'support' });
  const context = await browser.newContext({ baseURL: server.baseUrl });
  const page = await context.newPage();
  try {
    await page.goto(`/admin/setup/${setupToken}`);
    const secret = (await page.locator('code.secret').innerText()).replace(/\s+/g, '');
    await page.getByLabel('Nuova password').fill('Assistenza-Clienti-2027!');
    await page.getByLabel('Codice di verifica').fill(codeAt(secret));
    await page.getByRole('button', { name: 'Attiva l\'account' }).click();
    await page.waitForURL((u) => u.pathname === '/admin/login');
    await logIn(page, 'marco@provider.test', 'Assistenza-Clienti-2027!', secret);
    assert.equal(await page.getByRole('link', { name: 'Personale' }).count(), 0);
    const res = await page.goto('/admin/staff');
    assert.equal(res?.status(), 403);
  } finally {
    await context.close();
  }
});
