// What the console's browser tests share: a staff member activated through the setup page and
// logged in with the keyboard (each TOTP code once: the machine's clock moves a step between codes),
// a holder's paid card top-up, and the checks of a form's answer (done, refused on the form).
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { Secret, TOTP } from 'otpauth';
import { clock } from '../../src/clock.ts';
import { createStaff } from '../../src/services/staff/accounts.ts';
import { SYSTEM } from '../../src/services/audit.ts';
import { Client, payByCard, type TestServer } from './http.ts';
import { checkPage } from './page-checks.ts';

const STEP_MS = 30_000;
let wallOffsetMs = 0;
export const codeAt = (secret: string) => new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 }).generate({ timestamp: clock.wallMs() });
/** The machine's clock a TOTP step (30 s) on: the next code, and the SdI simulator's later answers. */
export const nextStep = () => clock.setWallOffset((wallOffsetMs += STEP_MS));
export const resetWallClock = () => clock.setWallOffset((wallOffsetMs = 0));

export async function activate(server: TestServer, page: Page, who: { email: string; name: string; role: 'support' | 'billing' | 'admin'; password: string }): Promise<string> {
  const { setupToken } = await createStaff(server.app.db, SYSTEM, who);
  await page.goto(`/admin/setup/${setupToken}`);
  const secret = (await page.locator('code.secret').innerText()).replace(/\s+/g, '');
  await page.getByLabel('Nuova password').fill(who.password);
  await page.getByLabel('Codice di verifica').fill(codeAt(secret));
  await page.getByRole('button', { name: 'Attiva l\'account' }).click();
  await page.waitForURL((u) => u.pathname === '/admin/login');
  return secret;
}

/** Keyboard only: the login's fields in order, then Enter. */
export async function logIn(page: Page, email: string, password: string, secret: string) {
  nextStep();
  await page.goto('/admin/login');
  await page.getByLabel('E-mail', { exact: true }).focus();
  await page.keyboard.type(email);
  await page.keyboard.press('Tab');
  await page.keyboard.type(password);
  await page.keyboard.press('Tab');
  await page.keyboard.type(codeAt(secret));
  await page.keyboard.press('Enter');
  await page.waitForURL((u) => u.pathname === '/admin');
}

/** A holder's own client with a paid card top-up of `amountCents` (net); answers the top-up. */
export async function paidTopup(server: TestServer, address: string, password: string, amountCents: number) {
  const holder = new Client(server.baseUrl);
  await holder.login(address, password);
  const started = await holder.post('/api/credit/topups', { amountCents });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  assert.equal((await payByCard(started.body.topup.checkoutUrl)).status, 303);
  return { holder, topup: (await holder.get(`/api/credit/topups/${started.body.topup.id}`)).body.topup };
}

/** A page's action forms and what they answer. */
export function formsOn(page: Page, dir: string) {
  return {
    form: (id: string) => page.locator(`#f-${id}`),
    /** A refused post: the page's alert says which action and each problem, with a link to its field. */
    refused: async (text: RegExp) => {
      const alert = page.getByRole('alert');
      await alert.waitFor();
      assert.match(await alert.innerText(), text);
    },
    done: async (text: RegExp) => {
      await page.getByRole('status').waitFor();
      assert.match(await page.getByRole('status').innerText(), text);
    },
    /** The page at 1280 and at 375 px: it fits, no axe-core violation, a screenshot of each. */
    bothWidths: async (name: string) => {
      await checkPage(page, dir, `${name}-1280-it`);
      await page.setViewportSize({ width: 375, height: 800 });
      await checkPage(page, dir, `${name}-375-it`);
      await page.setViewportSize({ width: 1280, height: 900 });
    },
  };
}
