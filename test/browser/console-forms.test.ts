// R19 (issue 21 items 1, 4, 7) in a real browser: a new holder with a mailbox (keyboard only, a wrong
// codice fiscale and a weak password answered on the form), a mailbox added, one mailbox's lifecycle
// (extend, type from the next renewal, reset link, suspend, reactivate, terminate), and staff accounts
// (a new colleague's one-time link, role and disabling, a new link). Each form's effect and its audit
// entry with the Motivo; every page at 375 and 1280 px fits and has no axe-core violation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { browserTestOptions, chromiumAvailable, launchChromium } from '../support/browser.ts';
import { clock } from '../../src/clock.ts';
import { Client, startTestServer, type TestServer } from '../support/http.ts';
import { checkPage, screenshotDir } from '../support/page-checks.ts';
import { activate, formsOn, logIn, resetWallClock } from '../support/console.ts';

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

test('R19: provisioning, a mailbox\'s lifecycle and staff accounts, each a form with Motivo: its effect, its audit entry, a wrong input answered on the form', browserTestOptions, async () => {
  const op = new Client(server.baseUrl, server.operatorToken);
  const context = await browser.newContext({ baseURL: server.baseUrl, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const dir = screenshotDir('console-forms');
  const auditOf = async (customerId: string) => (await op.get(`/api/admin/customers/${customerId}/audit`)).body.entries as { action: string; reason: string | null; actor: { name: string } }[];
  const { form, refused, done, bothWidths } = formsOn(page, dir);
  try {
    const password = 'Gestione-Sportello-2027!';
    const secret = await activate(server, page, { email: 'giulia@provider.test', name: 'Giulia Neri', role: 'admin', password });
    await logIn(page, 'giulia@provider.test', password, secret);

    // ---- Provision a holder with a mailbox, keyboard only: a wrong codice fiscale and a weak password are answered on the form. ----
    await page.getByRole('link', { name: 'Nuovo titolare' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.pathname === '/admin/customers/new');
    await bothWidths('new-holder');
    await page.getByLabel('Nome o ragione sociale').focus();
    await page.keyboard.type('Studio Ferri');
    await page.keyboard.press('Tab');
    await page.keyboard.type('RSSMRA85T10A562X');
    await page.keyboard.press('Tab');
    await page.keyboard.type('ferri@example.com');
    await page.keyboard.press('Tab'); // Lingua: Italiano stays
    await page.keyboard.press('Tab');
    await page.keyboard.type('studio.ferri@pec.casella.test');
    await page.keyboard.press('Tab');
    await page.keyboard.type('password');
    await page.keyboard.press('Tab'); // Tipologia: standard stays
    await page.keyboard.press('Tab');
    // Scadenza: the date's parts in this Chromium's order (month, day, year), then past its calendar button.
    await page.keyboard.type('06012027');
    assert.equal(await page.getByLabel('Scadenza').inputValue(), '2027-06-01');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.type('nuovo contratto firmato in sede');
    await page.keyboard.press('Enter');
    await refused(/Codice fiscale: ha il carattere di controllo sbagliato/);
    assert.match(await page.getByRole('alert').innerText(), /Password della casella: deve/);
    assert.equal(await page.getByLabel('Codice fiscale').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByLabel('Nome o ragione sociale').inputValue(), 'Studio Ferri', 'what was typed is kept');
    assert.equal(await page.getByLabel('Password della casella').inputValue(), '', 'a password is never sent back');
    await bothWidths('new-holder-error');
    // From the alert's link to the field, and the fixes typed there.
    await page.getByRole('link', { name: /Codice fiscale:/ }).focus();
    await page.keyboard.press('Enter');
    await page.getByLabel('Codice fiscale').focus();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('RSSMRA85T10A562S');
    await page.getByLabel('Password della casella').focus();
    await page.keyboard.type('Ferri-Studio-2027');
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.pathname.startsWith('/admin/customers/cus'));
    await done(/Titolare e casella creati/);
    const holderId = new URL(page.url()).pathname.split('/').pop()!;
    const created = (await op.get(`/api/admin/customers/${holderId}`)).body;
    assert.equal(created.customer.taxCode, 'RSSMRA85T10A562S');
    assert.deepEqual(created.mailboxes.map((m: { address: string; expiresOn: string }) => [m.address, m.expiresOn]), [['studio.ferri@pec.casella.test', '2027-06-01']]);
    const provisioned = await auditOf(holderId);
    assert.deepEqual(provisioned.slice(0, 2).map((e) => [e.action, e.reason, e.actor.name]), [['mailbox.create', 'nuovo contratto firmato in sede', 'Giulia Neri'], ['customer.create', 'nuovo contratto firmato in sede', 'Giulia Neri']]);

    // ---- Add a mailbox: an address already taken is answered on the form. ----
    const add = form('add-mailbox');
    await add.getByLabel('Indirizzo PEC').fill('studio.ferri@pec.casella.test');
    await add.getByLabel('Password della casella').fill('Ferri-Studio-2027');
    await add.getByLabel('Scadenza').fill('2027-06-01');
    await add.getByLabel('Motivo').fill('seconda casella richiesta');
    await add.getByRole('button', { name: 'Crea la casella' }).click();
    await refused(/Indirizzo PEC: è già in uso/);
    await form('add-mailbox').getByLabel('Indirizzo PEC').fill('segreteria.ferri@pec.casella.test');
    await form('add-mailbox').getByLabel('Password della casella').fill('Ferri-Studio-2027');
    await form('add-mailbox').getByLabel('Tipologia').selectOption('pro');
    await form('add-mailbox').getByRole('button', { name: 'Crea la casella' }).click();
    await done(/Casella creata/);
    assert.deepEqual((await auditOf(holderId)).slice(0, 1).map((e) => [e.action, e.reason]), [['mailbox.create', 'seconda casella richiesta']]);
    await bothWidths('holder-admin');

    // ---- One mailbox's lifecycle. ----
    await page.getByRole('link', { name: 'studio.ferri@pec.casella.test' }).click();
    await page.waitForURL((u) => u.pathname.startsWith('/admin/mailboxes/'));
    const mailboxId = new URL(page.url()).pathname.split('/').pop()!;
    await bothWidths('mailbox');
    await form('extend').getByLabel('Nuova scadenza').fill('2027-05-01');
    await form('extend').getByLabel('Motivo').fill('disservizio di maggio');
    await form('extend').getByRole('button', { name: 'Proroga' }).click();
    await refused(/Nuova scadenza: deve essere dopo la scadenza attuale/);
    await bothWidths('mailbox-error');
    await form('extend').getByLabel('Nuova scadenza').fill('2027-07-01');
    await form('extend').getByRole('button', { name: 'Proroga' }).click();
    await done(/Scadenza prorogata/);
    await form('type').getByLabel('Tipologia dal prossimo rinnovo').selectOption('pro');
    await form('type').getByLabel('Motivo').fill('chiede più spazio');
    await form('type').getByRole('button', { name: 'Cambia tipologia' }).click();
    await done(/Tipologia dal prossimo rinnovo registrata/);
    assert.match(await page.locator('section[aria-labelledby="h-facts"]').innerText(), /standard, pro dal prossimo rinnovo/);
    await form('reset-link').getByLabel('Motivo').fill('ha dimenticato la password');
    await form('reset-link').getByRole('button', { name: 'Invia il link' }).click();
    await done(/Link inviato/);
    await form('suspend').getByLabel('Motivo').fill('segnalazione di abuso n. 42');
    await form('suspend').getByRole('button', { name: 'Sospendi' }).click();
    await done(/Casella sospesa/);
    await form('reactivate').getByLabel('Motivo').fill('abuso chiarito');
    await form('reactivate').getByRole('button', { name: 'Riattiva' }).click();
    await done(/Casella riattivata/);
    await form('terminate').getByLabel('Motivo').fill('disdetta del titolare');
    await form('terminate').getByRole('button', { name: 'Cessa ora' }).click();
    await refused(/Confermo: cessare la casella adesso: spunta la conferma/);
    await form('terminate').getByLabel('Confermo: cessare la casella adesso').check();
    await form('terminate').getByRole('button', { name: 'Cessa ora' }).click();
    await done(/Casella cessata/);
    const box = (await op.get(`/api/admin/customers/${holderId}`)).body.mailboxes.find((m: { id: string }) => m.id === mailboxId);
    assert.deepEqual([box.status, box.expiresOn, box.nextType], ['terminated', '2027-07-01', 'pro']);
    const lifecycle = (await auditOf(holderId)).slice(0, 6).map((e) => [e.action, e.reason]);
    assert.deepEqual(lifecycle, [
      ['mailbox.terminate', 'disdetta del titolare'],
      ['mailbox.reactivate', 'abuso chiarito'],
      ['mailbox.suspend', 'segnalazione di abuso n. 42'],
      ['mailbox.password_reset_link', 'ha dimenticato la password'],
      ['mailbox.next_type', 'chiede più spazio'],
      ['mailbox.extend', 'disservizio di maggio'],
    ]);
    await bothWidths('mailbox-terminated');

    // ---- Staff: a new colleague (a wrong e-mail answered), the one-time link shown; role changed and disabled; a new link. ----
    await page.getByRole('link', { name: 'Personale' }).click();
    const ns = form('new-staff');
    await ns.getByLabel('E-mail').fill('non-una-email');
    await ns.getByLabel('Nome').fill('Paolo Conti');
    await ns.getByLabel('Ruolo').selectOption('billing');
    await ns.getByLabel('Motivo').fill('nuovo contabile');
    await ns.getByRole('button', { name: 'Crea l\'account' }).click();
    await refused(/E-mail:/);
    await bothWidths('staff-error');
    await form('new-staff').getByLabel('E-mail').fill('paolo@provider.test');
    await form('new-staff').getByRole('button', { name: 'Crea l\'account' }).click();
    await done(/Account di Paolo Conti creato/);
    assert.match(await page.getByRole('status').innerText(), /\/admin\/setup\/[A-Za-z0-9_-]+/);
    await bothWidths('staff-created');
    const paolo = (await op.get('/api/admin/staff')).body.staff.find((m: { email: string }) => m.email === 'paolo@provider.test');
    const member = form(`member-${paolo.id}`);
    await member.getByLabel('Cambia ruolo').selectOption('support');
    await member.getByLabel('Disattiva l\'account').check();
    await member.getByLabel('Motivo').fill('cambio di mansione');
    await member.getByRole('button', { name: 'Salva' }).click();
    await done(/Account aggiornato/);
    const updated = (await op.get('/api/admin/staff')).body.staff.find((m: { id: string }) => m.id === paolo.id);
    assert.deepEqual([updated.role, updated.disabled], ['support', true]);
    await form(`link-${paolo.id}`).getByLabel('Motivo').fill('primo link perso');
    await form(`link-${paolo.id}`).getByRole('button', { name: 'Crea il link' }).click();
    await done(/Nuovo link di attivazione per Paolo Conti/);
    const staffTrail = (await op.get(`/api/admin/audit?staffId=${(await op.get('/api/admin/staff')).body.staff.find((m: { email: string }) => m.email === 'giulia@provider.test').id}`)).body.entries.slice(0, 3);
    assert.deepEqual(staffTrail.map((e: { action: string; reason: string }) => [e.action, e.reason]), [['staff.setup_link', 'primo link perso'], ['staff.update', 'cambio di mansione'], ['staff.create', 'nuovo contabile']]);

    // English: the active mailbox's page, with its forms.
    const active = (await op.get(`/api/admin/customers/${holderId}`)).body.mailboxes.find((m: { status: string }) => m.status === 'active');
    await page.goto(`/lang/en?next=/admin/mailboxes/${active.id}`);
    await page.goto(`/admin/mailboxes/${active.id}`);
    await page.getByRole('button', { name: 'Suspend' }).waitFor();
    await checkPage(page, dir, 'mailbox-1280-en');
    await page.setViewportSize({ width: 375, height: 800 });
    await checkPage(page, dir, 'mailbox-375-en');
  } finally {
    await context.close();
  }
});
