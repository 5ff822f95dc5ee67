import { Client, provisionHolder, startTestServer } from './test/support/http.ts';
import { launchChromium } from './test/support/browser.ts';
import { clock } from './src/clock.ts';
clock.setRome('2026-06-10T10:00');
const server = await startTestServer('pglite');
const h = await provisionHolder(new Client(server.baseUrl, server.operatorToken));
const browser = await launchChromium();
const context = await browser.newContext({ javaScriptEnabled: false, baseURL: server.baseUrl });
const page = await context.newPage();
page.setDefaultTimeout(10_000);
setInterval(() => console.log('tick'), 2000).unref();
await page.goto('/login');
console.log('at login');
try {
await page.getByLabel('Indirizzo PEC', { exact: true }).fill(h.mailbox.address);
console.log('filled');
} catch (e) { console.log('err', String(e).slice(0, 500)); }
await browser.close();
await server.close();
