// R17, R15 and R19 (issue 21 item 4) in a real browser, for billing staff: refund part of a card
// payment and record a withdrawal sent in writing, record a bank transfer received (a wrong amount
// answered on the form), correct and resend a rejected invoice, record SdI's outcome for one sent —
// each with its effect and its audit entry. Below its role a form is not offered and a post is 403.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { browserTestOptions, chromiumAvailable, launchChromium } from '../support/browser.ts';
import { clock } from '../../src/clock.ts';
import { Client, provisionHolder, startTestServer, type TestServer } from '../support/http.ts';
import { checkPage, screenshotDir } from '../support/page-checks.ts';
import { activate, formsOn, logIn, nextStep, paidTopup, resetWallClock } from '../support/console.ts';
import { BUSINESS_WITH_CODE } from '../support/billing.ts';
import { sdiRound } from '../../src/invoicing/sdi-delivery.ts';
import { simulatorChannel, SIMULATOR_REJECTED_CODE } from '../../src/invoicing/sdi-channel.ts';

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
  resetWallClock();
  await browser?.close();
  await server?.close();
});

test('R17, R15: money back, a bank transfer and invoices, each a form with Motivo: its effect, its audit entry, a wrong input answered on the form', browserTestOptions, async () => {
  const op = new Client(server.baseUrl, server.operatorToken);
  const context = await browser.newContext({ baseURL: server.baseUrl, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const dir = screenshotDir('console-forms');
  const auditOf = async (customerId: string) => (await op.get(`/api/admin/customers/${customerId}/audit`)).body.entries as { action: string; reason: string | null; actor: { name: string } }[];
  const { form, refused, done, bothWidths } = formsOn(page, dir);
  try {
    const password = 'Gestione-Sportello-2027!';
    const secret = await activate(server, page, { email: 'marta@provider.test', name: 'Marta Russo', role: 'billing', password });
    await logIn(page, 'marta@provider.test', password, secret);

    // ---- Money back: refund part of a card payment, then the holder's withdrawal sent in writing. ----
    const payer = await provisionHolder(op, {});
    const { holder, topup } = await paidTopup(server, payer.mailbox.address, payer.password, 2000);
    await page.goto(`/admin/customers/${payer.customer.id}`);
    await page.locator('section[aria-labelledby="h-pay"]').getByRole('link').first().click();
    await page.waitForURL((u) => u.pathname === `/admin/topups/${topup.id}`);
    await bothWidths('payment');
    await form('refund').getByLabel('Imponibile da rimborsare, in euro').fill('30');
    await form('refund').getByLabel('Motivo').fill('addebito doppio');
    await form('refund').getByRole('button', { name: 'Rimborsa' }).click();
    await refused(/Rimborso non possibile: è più di quanto resta da rimborsare/);
    await bothWidths('payment-error');
    await form('refund').getByLabel('Imponibile da rimborsare, in euro').fill('abc');
    await form('refund').getByRole('button', { name: 'Rimborsa' }).click();
    await refused(/Imponibile da rimborsare, in euro: scrivi un importo in euro/);
    await form('refund').getByLabel('Imponibile da rimborsare, in euro').fill('5,00');
    await form('refund').getByRole('button', { name: 'Rimborsa' }).click();
    await done(/Rimborso eseguito/);
    await form('withdrawal').getByLabel('Motivo').fill('recesso ricevuto via PEC il 10 giugno');
    await form('withdrawal').getByRole('button', { name: 'Registra il recesso' }).click();
    await done(/Recesso registrato e rimborsato/);
    const refunds = (await holder.get('/api/refunds')).body.refunds as { kind: string; amountCents: number; status: string }[];
    assert.deepEqual(refunds.map((r) => [r.kind, r.amountCents, r.status]).sort(), [['refund', 500, 'succeeded'], ['withdrawal', 1500, 'succeeded']]);
    assert.deepEqual((await auditOf(payer.customer.id)).slice(0, 2).map((e) => [e.action, e.reason]), [['refund.withdrawal', 'recesso ricevuto via PEC il 10 giugno'], ['refund.refund', 'addebito doppio']]);
    await bothWidths('payment-refunded');

    // ---- A bank transfer received: a wrong amount is answered, the right one credits and invoices. ----
    const transfer = (await holder.post('/api/credit/topups', { amountCents: 1000, method: 'bank_transfer' })).body.topup;
    await page.getByRole('link', { name: 'Bonifici' }).click();
    await page.waitForURL((u) => u.pathname === '/admin/bank-transfers');
    assert.match(await page.locator('section[aria-labelledby="h-waiting"]').innerText(), new RegExp(payer.customer.name));
    await bothWidths('bank-transfers');
    const tf = form('transfer');
    await tf.getByLabel('Causale (riferimento)').fill(transfer.bankTransfer.reference);
    await tf.getByLabel('Importo ricevuto, in euro (IVA inclusa)').fill('10,00');
    await tf.getByLabel('Motivo').fill('estratto conto del 10 giugno');
    await tf.getByRole('button', { name: 'Registra il bonifico' }).click();
    await refused(/Bonifico non registrato: la ricarica chiede 12,20 €, non 10,00 €: nulla è stato registrato/);
    await bothWidths('bank-transfers-error');
    await form('transfer').getByLabel('Importo ricevuto, in euro (IVA inclusa)').fill('12,20');
    await form('transfer').getByRole('button', { name: 'Registra il bonifico' }).click();
    await page.waitForURL((u) => u.pathname === `/admin/topups/${transfer.id}`);
    await done(/Bonifico registrato/);
    assert.equal((await holder.get(`/api/credit/topups/${transfer.id}`)).body.topup.status, 'succeeded');
    assert.deepEqual((await auditOf(payer.customer.id)).slice(0, 1).map((e) => [e.action, e.reason]), [['bank_transfer.record', 'estratto conto del 10 giugno']]);

    // ---- Invoices: a rejected one corrected and sent again; SdI's outcome for one sent. ----
    const business = await provisionHolder(op, { billingProfile: false });
    assert.equal((await op.put(`/api/admin/customers/${business.customer.id}/billing-profile`, { ...BUSINESS_WITH_CODE, sdiCode: SIMULATOR_REJECTED_CODE })).status, 200);
    const rejectedTopup = (await paidTopup(server, business.mailbox.address, business.password, 1000)).topup;
    const simulator = simulatorChannel(server.app.db, 60_000);
    await sdiRound(server.app.db, simulator);
    nextStep();
    nextStep();
    nextStep(); // the simulator answers a minute and a half later
    await sdiRound(server.app.db, simulator);
    // Another invoice sent, its answer not come yet: the intermediary's outcome is recorded by hand.
    const sentTopup = (await paidTopup(server, payer.mailbox.address, payer.password, 1000)).topup;
    await sdiRound(server.app.db, simulator);
    await page.goto(`/admin/topups/${rejectedTopup.id}`);
    await page.getByRole('link', { name: 'Apri la fattura' }).click();
    await page.waitForURL((u) => u.pathname.startsWith('/admin/invoices/'));
    const rejectedId = new URL(page.url()).pathname.split('/').pop()!;
    assert.match(await page.locator('section[aria-labelledby="h-facts"]').innerText(), /scartata/);
    await bothWidths('invoice-rejected');
    await form('resend').getByLabel('Codice destinatario').fill('AB');
    await form('resend').getByLabel('Motivo').fill('codice destinatario corretto dal cliente');
    await form('resend').getByRole('button', { name: 'Invia di nuovo' }).click();
    await refused(/Codice destinatario: il Codice Destinatario ha 7 lettere o cifre/);
    await bothWidths('invoice-rejected-error');
    await form('resend').getByLabel('Codice destinatario').fill(BUSINESS_WITH_CODE.sdiCode);
    await form('resend').getByRole('button', { name: 'Invia di nuovo' }).click();
    await done(/Fattura inviata di nuovo/);
    const resent = (await op.get(`/api/admin/invoices/${rejectedId}`)).body;
    assert.deepEqual([resent.invoice.sdiStatus, resent.buyer.sdiCode], ['issued', BUSINESS_WITH_CODE.sdiCode]);
    // The first run of SdI rounds left the payer's new invoice sent: its outcome comes from the intermediary.
    await page.goto(`/admin/topups/${sentTopup.id}`);
    await page.getByRole('link', { name: 'Apri la fattura' }).click();
    await page.waitForURL((u) => u.pathname.startsWith('/admin/invoices/'));
    const sentId = new URL(page.url()).pathname.split('/').pop()!;
    await bothWidths('invoice-sent');
    await form('outcome').getByLabel('Esito').selectOption('not_delivered');
    await form('outcome').getByLabel('Messaggio').fill('casella del destinatario piena');
    await form('outcome').getByLabel('Motivo').fill('ricevuta MC dall\'intermediario');
    await form('outcome').getByRole('button', { name: 'Registra l\'esito' }).click();
    await done(/Esito registrato/);
    assert.equal((await op.get(`/api/admin/invoices/${sentId}`)).body.invoice.sdiStatus, 'not_delivered');
    assert.deepEqual((await auditOf(business.customer.id)).slice(0, 1).map((e) => [e.action, e.reason]), [['invoice.resend', 'codice destinatario corretto dal cliente']]);
    assert.deepEqual((await auditOf(payer.customer.id)).slice(0, 1).map((e) => [e.action, e.reason]), [['invoice.outcome', 'ricevuta MC dall\'intermediario']]);

    // English, a new page.
    await page.goto('/lang/en?next=/admin/bank-transfers');
    await page.goto('/admin/bank-transfers');
    await checkPage(page, dir, 'bank-transfers-1280-en');
    await page.setViewportSize({ width: 375, height: 800 });
    await checkPage(page, dir, 'bank-transfers-375-en');
  } finally {
    await context.close();
  }
});

test('R19: below its role a console action is not offered, and posting it anyway answers 403', browserTestOptions, async () => {
  const op = new Client(server.baseUrl, server.operatorToken);
  const h = await provisionHolder(op, { creditCents: 1000 });
  const context = await browser.newContext({ baseURL: server.baseUrl, viewport: { width: 375, height: 800 } });
  const page = await context.newPage();
  const dir = screenshotDir('console-forms');
  try {
    const secret = await activate(server, page, { email: 'sara@provider.test', name: 'Sara Galli', role: 'support', password: 'Sportello-Assistenza-2027!' });
    await logIn(page, 'sara@provider.test', 'Sportello-Assistenza-2027!', secret);
    await page.goto(`/admin/mailboxes/${h.mailbox.id}`);
    // Support sends a reset link; the lifecycle is admin's.
    assert.equal(await page.locator('#f-reset-link').count(), 1);
    for (const id of ['suspend', 'extend', 'type', 'terminate']) assert.equal(await page.locator(`#f-${id}`).count(), 0, id);
    await checkPage(page, dir, 'mailbox-support-375-it');
    await page.goto(`/admin/customers/${h.customer.id}`);
    for (const id of ['adjust', 'add-mailbox', 'closing']) assert.equal(await page.locator(`#f-${id}`).count(), 0, id);
    assert.equal(await page.getByRole('link', { name: 'Bonifici' }).count(), 0);
    assert.equal((await page.goto('/admin/bank-transfers'))?.status(), 403);
    assert.equal((await page.goto('/admin/customers/new'))?.status(), 403);
    await checkPage(page, dir, 'forbidden-375-it');
    // A post made by hand, with the session's own CSRF token, is refused all the same.
    const csrf = await page.locator('input[name="_csrf"]').first().inputValue();
    const res = await page.request.post(`/admin/mailboxes/${h.mailbox.id}/suspend`, { form: { _csrf: csrf, reason: 'prova' }, maxRedirects: 0 });
    assert.equal(res.status(), 403);
    assert.equal((await op.get(`/api/admin/customers/${h.customer.id}`)).body.mailboxes[0].status, 'active');
  } finally {
    await context.close();
  }
});
