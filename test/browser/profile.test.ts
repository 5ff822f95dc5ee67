// Issue 13: `Profilo` → `Cambia password` in a real browser without JavaScript: reached from the
// navigation, errors tied to their field, the success message; axe-core on each state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { browserTestOptions, chromiumAvailable, launchChromium } from '../support/browser.ts';
import { clock } from '../../src/clock.ts';
import { Client, provisionHolder, startTestServer } from '../support/http.ts';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const NEW_PASSWORD = 'Tramonto-sul-Po-7';

async function logIn(browser: Browser, baseURL: string, address: string, password: string, js: boolean): Promise<Page> {
  const context = await browser.newContext({ javaScriptEnabled: js, baseURL });
  const page = await context.newPage();
  await page.goto('/login');
  await page.getByLabel('Indirizzo PEC', { exact: true }).fill(address);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Accedi', exact: true }).click();
  await page.waitForURL((u) => u.pathname === '/');
  return page;
}

/** axe-core runs as a script: on a page of its own, with JavaScript. */
async function axe(page: Page, name: string) {
  await page.evaluate(AXE_SOURCE);
  const result = (await page.evaluate(() => (window as any).axe.run())) as { violations: { id: string; impact: string | null; help: string }[] };
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${name}: ${v.id} (${v.impact}) ${v.help}`), []);
}

async function submitPasswords(page: Page, current: string, next: string) {
  await page.getByLabel('Password attuale', { exact: true }).fill(current);
  await page.getByLabel('Nuova password', { exact: true }).fill(next);
  await page.getByRole('button', { name: 'Cambia password', exact: true }).click();
}

test('Cambia password without JavaScript: from the Profilo link, a wrong current password is shown at its field, then the password changes; no axe-core violation', browserTestOptions, async () => {
  if (!chromiumAvailable) return;
  clock.setRome('2026-06-10T10:00');
  const server = await startTestServer('pglite');
  const browser = await launchChromium();
  try {
    const { mailbox, password } = await provisionHolder(new Client(server.baseUrl, server.operatorToken));

    // The same states, checked by axe-core in a browser with JavaScript.
    const checked = await logIn(browser, server.baseUrl, mailbox.address, password, true);
    await checked.goto('/profilo');
    await axe(checked, 'profile');
    await submitPasswords(checked, password, 'corta');
    await axe(checked, 'profile-weak');

    const page = await logIn(browser, server.baseUrl, mailbox.address, password, false);
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
  } finally {
    await browser.close();
    await server.close();
  }
});
