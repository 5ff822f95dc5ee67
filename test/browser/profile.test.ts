// `Profilo` and `Password dimenticata?` in a real browser (one Chromium for the file). Issue 13:
// `Cambia password` without JavaScript, errors tied to their field, the success message. Issue 15:
// the way through `Password dimenticata?` from the login page to the new password, and the profile's
// sections (sessions, name, reference e-mail with its confirmation link, language), each state at
// 375 and 1280 px: nothing wider than the screen, zero axe-core violations, a screenshot.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { browserTestOptions, chromiumAvailable, launchChromium } from '../support/browser.ts';
import { clock } from '../../src/clock.ts';
import { outboxOf } from '../support/fixtures.ts';
import { Client, provisionHolder, startTestServer, type TestServer } from '../support/http.ts';
import { assertAccessible, checkPage, screenshotDir } from '../support/page-checks.ts';

const NEW_PASSWORD = 'Tramonto-sul-Po-7';
const WIDTHS = [375, 1280] as const;

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

async function logIn(baseURL: string, address: string, password: string, js: boolean, width = 1280): Promise<Page> {
  const context = await browser.newContext({ javaScriptEnabled: js, baseURL, viewport: { width, height: width < 600 ? 812 : 900 } });
  const page = await context.newPage();
  await page.goto('/login');
  await page.getByLabel('Indirizzo PEC', { exact: true }).fill(address);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Accedi', exact: true }).click();
  await page.waitForURL((u) => u.pathname === '/');
  return page;
}

async function submitPasswords(page: Page, current: string, next: string) {
  await page.getByLabel('Password attuale', { exact: true }).fill(current);
  await page.getByLabel('Nuova password', { exact: true }).fill(next);
  await page.getByRole('button', { name: 'Cambia password', exact: true }).click();
}

/** The path of the newest link of this kind e-mailed to the holder. */
async function mailedLink(customerId: string, kind: string, path: RegExp): Promise<string> {
  const mails = (await outboxOf(server.app.ctx, customerId)).filter((m) => m.kind === kind);
  const m = path.exec(mails.at(-1)?.text_body ?? '');
  assert.ok(m, `a ${kind} link in the e-mail`);
  return m[1]!;
}

test('Cambia password without JavaScript: from the Profilo link, a wrong current password is shown at its field, then the password changes; no axe-core violation', browserTestOptions, async () => {
  if (!chromiumAvailable) return;
  const { mailbox, password } = await provisionHolder(new Client(server.baseUrl, server.operatorToken));

  // The same states, checked by axe-core in a browser with JavaScript.
  const checked = await logIn(server.baseUrl, mailbox.address, password, true);
  await checked.goto('/profilo');
  await assertAccessible(checked, 'profile');
  await submitPasswords(checked, password, 'corta');
  await assertAccessible(checked, 'profile-weak');

  const page = await logIn(server.baseUrl, mailbox.address, password, false);
  await page.getByRole('link', { name: 'Profilo', exact: true }).click();
  await page.waitForURL((u) => u.pathname === '/profilo');
  await submitPasswords(page, 'non-la-password-1', NEW_PASSWORD);
  const current = page.getByLabel('Password attuale', { exact: true });
  assert.equal(await current.getAttribute('aria-invalid'), 'true');
  assert.match(await page.locator('#current-password-error').innerText(), /password attuale non è corretta/);

  await submitPasswords(page, password, NEW_PASSWORD);
  await page.waitForURL((u) => u.pathname === '/profilo' && u.search === '?msg=passwordChanged');
  assert.match(await page.getByRole('status').innerText(), /Password cambiata/);

  // The page with JavaScript was another session: it ended, and the login says so and comes back here.
  await checked.goto('/profilo');
  assert.match(checked.url(), /\/login\?expired=1&next=%2Fprofilo$/);
  assert.equal((await new Client(server.baseUrl).login(mailbox.address, NEW_PASSWORD)).status, 200);
  await checked.context().close();
  await page.context().close();
});

for (const width of WIDTHS) {
  test(`Password dimenticata? and the profile's sections at ${width} px: through each state, nothing wider than the screen, zero axe-core violations`, browserTestOptions, async () => {
    if (!chromiumAvailable) return;
    await server.app.db.query('DELETE FROM login_throttle');
    const dir = screenshotDir('profile');
    const p = `${width}`;
    const { customer, mailbox, password } = await provisionHolder(new Client(server.baseUrl, server.operatorToken));
    const elsewhere = new Client(server.baseUrl);
    assert.equal((await elsewhere.login(mailbox.address, password)).status, 200);

    // Password dimenticata?, from the login page (axe-core needs JavaScript; the pages do not use it).
    const context = await browser.newContext({ baseURL: server.baseUrl, viewport: { width, height: width < 600 ? 812 : 900 } });
    const page = await context.newPage();
    try {
      await page.goto('/login');
      await page.getByRole('link', { name: 'Password dimenticata?', exact: true }).click();
      await page.waitForURL((u) => u.pathname === '/password-dimenticata');
      await checkPage(page, dir, `${p}-forgot`);
      await page.getByLabel('Indirizzo PEC', { exact: true }).fill(mailbox.address);
      await page.getByRole('button', { name: 'Invia il link', exact: true }).click();
      await page.waitForURL((u) => u.search === '?inviato=1');
      assert.match(await page.getByRole('status').innerText(), /abbiamo inviato all'e-mail di riferimento/);
      await checkPage(page, dir, `${p}-forgot-sent`);

      await page.goto(await mailedLink(customer.id, 'password_reset', /https?:\/\/[^/\s]+(\/reimposta-password\/[A-Za-z0-9_-]+)/));
      await checkPage(page, dir, `${p}-reset`);
      await page.getByLabel('Nuova password', { exact: true }).fill('corta');
      await page.getByRole('button', { name: 'Reimposta la password', exact: true }).click();
      assert.equal(await page.getByLabel('Nuova password', { exact: true }).getAttribute('aria-invalid'), 'true');
      await checkPage(page, dir, `${p}-reset-weak`);
      await page.getByLabel('Nuova password', { exact: true }).fill(NEW_PASSWORD);
      await page.getByRole('button', { name: 'Reimposta la password', exact: true }).click();
      await page.waitForURL((u) => u.pathname === '/login' && u.search === '?reimpostata=1');
      assert.match(await page.getByRole('status').innerText(), /Password reimpostata/);
      await checkPage(page, dir, `${p}-reset-done`);
      assert.equal((await elsewhere.get('/api/me')).status, 401, 'the reset ended the other session');

      // The new password logs in; the profile's sections.
      await page.getByLabel('Indirizzo PEC', { exact: true }).fill(mailbox.address);
      await page.getByLabel('Password', { exact: true }).fill(NEW_PASSWORD);
      await page.getByRole('button', { name: 'Accedi', exact: true }).click();
      await page.waitForURL((u) => u.pathname === '/');
      const phone = new Client(server.baseUrl);
      assert.equal((await phone.login(mailbox.address, NEW_PASSWORD)).status, 200);
      await page.getByRole('link', { name: 'Profilo', exact: true }).click();
      await page.waitForURL((u) => u.pathname === '/profilo');
      assert.equal(await page.getByRole('cell', { name: 'Questo dispositivo' }).count(), 1);
      await checkPage(page, dir, `${p}-profile`);

      await page.getByRole('button', { name: 'Esci da tutti gli altri dispositivi', exact: true }).click();
      await page.waitForURL((u) => u.search === '?msg=othersEnded');
      assert.equal((await phone.get('/api/me')).status, 401);

      await page.getByLabel('Nome e cognome o ragione sociale', { exact: true }).fill('');
      await page.getByRole('button', { name: 'Salva il nome', exact: true }).click();
      await checkPage(page, dir, `${p}-profile-name-missing`);
      await page.getByLabel('Nome e cognome o ragione sociale', { exact: true }).fill('Studio Associato Bianchi e Verdi');
      await page.getByRole('button', { name: 'Salva il nome', exact: true }).click();
      await page.waitForURL((u) => u.search === '?msg=nameSaved');

      const newEmail = `segreteria.${width}.${Date.now()}@studio-bianchi-e-verdi.example.com`;
      await page.getByLabel('Nuovo indirizzo e-mail', { exact: true }).fill(newEmail);
      await page.getByLabel('Conferma con la password attuale', { exact: true }).fill(NEW_PASSWORD);
      await page.getByRole('button', { name: 'Invia il link di conferma', exact: true }).click();
      await page.waitForURL((u) => u.search === '?msg=emailLinkSent');
      await checkPage(page, dir, `${p}-profile-email-pending`);
      await page.goto(await mailedLink(customer.id, 'reference_email_confirmation', /https?:\/\/[^/\s]+(\/email-di-riferimento\/[A-Za-z0-9_-]+)/));
      await checkPage(page, dir, `${p}-email-confirm`);
      await page.getByRole('button', { name: "Conferma l'indirizzo", exact: true }).click();
      assert.match(await page.getByRole('status').innerText(), /Indirizzo confermato/);
      await checkPage(page, dir, `${p}-email-confirmed`);

      await page.goto('/profilo');
      assert.match(await page.locator('#reference-email').innerText(), /segreteria\./);
      await page.getByLabel('English', { exact: true }).check();
      await page.getByRole('button', { name: 'Salva la lingua', exact: true }).click();
      await page.waitForURL((u) => u.search === '?msg=localeSaved');
      assert.equal(await page.locator('html').getAttribute('lang'), 'en');
      await checkPage(page, dir, `${p}-profile-en`);
    } finally {
      await context.close();
    }
  });
}
