// The customer area a holder expects (issue 15), in real Chromium: warnings where the holder looks,
// every page at 375 and 1280 px (screenshots, nothing wider than the screen), the provider's brand
// and legal footer on pages and e-mails, an expired session that brings the holder back, zero
// axe-core violations (WCAG 2.1 AA) in both languages at both widths, a keyboard-only journey, and
// two-step verification.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Secret, TOTP } from 'otpauth';
import { browserTestOptions, chromiumAvailable, launchChromium } from '../support/browser.ts';
import { clock } from '../../src/clock.ts';
import { BYTES_PER_GB } from '../../src/domain/catalogue.ts';
import { Client, provisionHolder, startTestServer, type TestServer } from '../support/http.ts';
import { assertAccessible, assertFits } from '../support/page-checks.ts';

const opts = browserTestOptions;
const SHOTS = resolve('test-output/screenshots/customer-area');
const WIDTHS = [375, 1280] as const;

let server: TestServer;
let op: Client;
let browser: Browser;

before(async () => {
  if (!chromiumAvailable) return;
  clock.setRome('2026-06-10T10:00');
  const dir = mkdtempSync(join(tmpdir(), 'casella-brand-'));
  writeFileSync(
    join(dir, 'logo.svg'),
    '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="32" viewBox="0 0 64 32"><rect width="64" height="32" rx="6" fill="#0b5cad"/><text x="32" y="22" font-size="16" text-anchor="middle" fill="#fff" font-family="sans-serif">PN</text></svg>',
  );
  writeFileSync(
    join(dir, 'casella.json'),
    JSON.stringify({
      brand: { name: 'PEC Nord', logoFile: 'logo.svg', supportEmail: 'assistenza@pecnord.example' },
      seller: {
        companyName: 'PEC Nord S.r.l.',
        vatNumber: '01234567897',
        taxCode: '01234567897',
        taxRegime: 'RF01',
        address: { street: 'Via della Posta Certificata', streetNumber: '12', postalCode: '20121', city: 'Milano', province: 'MI', country: 'IT' },
      },
    }),
  );
  server = await startTestServer('pglite', { CASELLA_CONFIG: join(dir, 'casella.json') });
  op = new Client(server.baseUrl, server.operatorToken);
  mkdirSync(SHOTS, { recursive: true });
  console.log(`screenshots: ${SHOTS}`);
  browser = await launchChromium();
});

after(async () => {
  if (!chromiumAvailable) return;
  await browser?.close();
  await server?.close();
});

async function newContext(lang: 'it' | 'en' = 'it', width = 1280): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL: server.baseUrl, viewport: { width, height: width < 600 ? 812 : 900 } });
  if (lang === 'en') await context.addCookies([{ name: 'casella_lang', value: 'en', url: server.baseUrl }]);
  return { context, page: await context.newPage() };
}

async function logIn(page: Page, address: string, password: string, lang: 'it' | 'en' = 'it') {
  await page.goto('/login');
  await page.getByLabel(lang === 'it' ? 'Indirizzo PEC' : 'PEC address', { exact: true }).fill(address);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: lang === 'it' ? 'Accedi' : 'Log in', exact: true }).click();
  await page.waitForURL((u) => u.pathname === '/');
}

const mainText = (page: Page) => page.locator('main').innerText();

/** A mailbox of the holder's own, beside the first one provisionHolder made. */
async function addMailbox(customerId: string, name: string, expiresOn: string, usedBytes = 0) {
  const m = await op.post('/api/admin/mailboxes', {
    customerId,
    address: `${name}.${Math.random().toString(36).slice(2, 8)}@pec.casella.test`,
    password: 'segreta-casella-1',
    type: 'standard',
    expiresOn,
    usedBytes,
  });
  assert.equal(m.status, 201, JSON.stringify(m.body));
  return m.body.mailbox;
}

async function shot(page: Page, name: string) {
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

/** One page checked as a holder sees it: it fits the screen, passes axe-core, and is saved as a screenshot. */
async function check(page: Page, name: string) {
  await assertFits(page, name);
  await assertAccessible(page, name);
  await shot(page, name);
}

test('item 1: the pages warn of expiry, grace, full space and credit too short for the coming renewals', opts, async () => {
  const { customer, mailbox: expiring, password } = await provisionHolder(op, { creditCents: 200, expiresOn: '2026-06-30', usedBytes: Math.round(0.86 * BYTES_PER_GB) });
  const lapsed = await addMailbox(customer.id, 'scaduta', '2026-06-01');
  const full = await addMailbox(customer.id, 'piena', '2027-03-01', Math.round(1.2 * BYTES_PER_GB));
  // The daily job of today: the mailbox due on 1 June finds 2,00 € for its 5,00 € and expires.
  assert.equal((await op.post('/api/admin/jobs/daily')).status, 200);

  const { context, page } = await newContext('it', 1280);
  try {
    await logIn(page, expiring.address, password);
    const dash = await mainText(page);
    // 5,00 € for the mailbox due on 30 June; the expired one is renewed by hand, the other is due in 2027.
    assert.match(dash, /Il credito non basta per i rinnovi dei prossimi 90 giorni: mancano 3,00 €/);
    assert.match(dash, /In scadenza/);
    assert.match(dash, /scade tra 20 giorni/);
    assert.match(dash, /Scaduta, rinnovabile fino al 30 agosto 2026/);
    assert.match(dash, /Rinnova entro il 30 agosto 2026/);
    assert.match(dash, /Attiva/);
    assert.match(dash, /quasi esaurito \(86% usato\)/);
    assert.match(dash, /i nuovi messaggi PEC vengono rifiutati \(il mittente riceve un avviso di mancata consegna e a te non arriva nulla\)/);
    // The badge is text: its state is read out, not only coloured.
    assert.equal(await page.locator('.badge', { hasText: 'In scadenza' }).count(), 1);

    await page.goto(`/mailboxes/${lapsed.id}`);
    const card = await mainText(page);
    assert.match(card, /Rinnova entro il 30 agosto 2026/);
    assert.match(card, /continua a ricevere i messaggi, che puoi leggere, ma non può inviarne/);
    assert.equal(await page.getByRole('button', { name: 'Rinnova ora', exact: true }).count(), 1);
    await page.goto(`/mailboxes/${full.id}`);
    assert.match(await mainText(page), /finché non acquisti altro spazio o elimini dei messaggi/);
    await page.getByRole('link', { name: 'Acquista spazio', exact: true }).waitFor();

    // One click tops up exactly what is missing, and the warning is gone.
    await page.goto('/');
    await page.getByRole('button', { name: 'Ricarica 3,00 €', exact: true }).click();
    await page.waitForURL((u) => u.pathname.startsWith('/test-gateway/checkout/'));
    assert.match(await mainText(page), /3,00 €/);
    assert.match(await mainText(page), /3,66 €/);
    await page.getByLabel('Numero carta', { exact: true }).fill('4242424242424242');
    await page.getByLabel('Scadenza', { exact: true }).fill('12/34');
    await page.getByLabel('CVC', { exact: true }).fill('123');
    await page.getByRole('button', { name: 'Paga', exact: true }).click();
    await page.waitForURL((u) => u.pathname.startsWith('/credit/topups/'));
    await page.goto('/');
    const after = await mainText(page);
    assert.match(after, /5,00 €/);
    assert.doesNotMatch(after, /Il credito non basta/);
  } finally {
    await context.close();
  }
});

test('item 1: orders waiting for a top-up are added to the one-click top-up, since they are paid first', opts, async () => {
  const { mailbox, password } = await provisionHolder(op, { expiresOn: '2026-07-15' });
  const api = new Client(server.baseUrl);
  await api.login(mailbox.address, password);
  assert.equal((await api.post(`/api/mailboxes/${mailbox.id}/renewal`)).body.order.status, 'awaiting_topup');
  const { context, page } = await newContext('it', 1280);
  try {
    await logIn(page, mailbox.address, password);
    const dash = await mainText(page);
    assert.match(dash, /mancano 5,00 €/);
    assert.match(dash, /Gli ordini in attesa di ricarica \(5,00 €\) vengono pagati per primi/);
    await page.getByRole('button', { name: 'Ricarica 10,00 €', exact: true }).waitFor();
  } finally {
    await context.close();
  }
});

const totpNow = (secret: string) => new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 }).generate({ timestamp: clock.wallMs() });

/** Every page of a holder with each kind of warning, in one language at one width. */
async function tour(lang: 'it' | 'en', width: number) {
  const { customer, mailbox, password } = await provisionHolder(op, {
    creditCents: 150,
    expiresOn: '2026-07-01',
    locale: lang,
    usedBytes: Math.round(0.9 * BYTES_PER_GB),
  });
  const lapsed = await addMailbox(customer.id, 'ufficio-protocollo-generale-del-comune-di-sanvalentino', '2026-06-02');
  assert.equal((await op.post('/api/admin/jobs/daily')).status, 200);
  // A waiting order (its buttons) and a completed one.
  const api = new Client(server.baseUrl);
  await api.login(mailbox.address, password);
  await api.post(`/api/mailboxes/${mailbox.id}/renewal`);
  await api.post(`/api/mailboxes/${mailbox.id}/extra-space/orders`, { quantityGb: 1 });

  const p = `${lang}-${width}`;
  const { context, page } = await newContext(lang, width);
  try {
    await page.goto('/login');
    await check(page, `${p}-login`);
    await page.getByRole('button', { name: lang === 'it' ? 'Accedi' : 'Log in', exact: true }).click();
    await check(page, `${p}-login-error`);
    await page.goto('/password-dimenticata');
    await check(page, `${p}-forgot-password`);
    await logIn(page, mailbox.address, password, lang);
    await check(page, `${p}-dashboard`);
    await page.goto('/mailboxes');
    await check(page, `${p}-mailboxes`);
    // The magnifier and the state stay visible in the stacked list.
    const details = page.getByRole('link', { name: `${lang === 'it' ? 'Dettagli' : 'Details'} ${lapsed.address}`, exact: true });
    assert.ok(await details.isVisible(), 'magnifier visible');
    assert.ok(await page.locator('main .badge').first().isVisible(), 'state visible');
    await page.goto(`/mailboxes/${mailbox.id}`);
    await check(page, `${p}-mailbox-card`);
    await page.goto(`/mailboxes/${lapsed.id}`);
    await check(page, `${p}-mailbox-expired`);
    await page.goto(`/mailboxes/${mailbox.id}/extra-space?quantityGb=2`);
    await page.locator('#quote').waitFor({ state: 'visible' });
    await check(page, `${p}-extra-space`);
    await page.goto(`/mailboxes/${mailbox.id}/extra-space?quantityGb=2,5`);
    await check(page, `${p}-extra-space-invalid`);
    await page.goto('/credit');
    await check(page, `${p}-credit`);
    await page.goto('/orders');
    await check(page, `${p}-orders`);
    const pay = page.getByRole('button', { name: lang === 'it' ? "Ricarica e completa l'ordine" : 'Top up and complete the order', exact: true }).first();
    assert.ok(await pay.isVisible(), 'order actions visible');
    await page.goto('/mailboxes/nope');
    await check(page, `${p}-not-found`);
    await page.goto('/credit');
    await page.getByLabel(lang === 'it' ? 'Importo da ricaricare' : 'Amount to top up', { exact: true }).fill('20');
    await page.getByRole('button', { name: lang === 'it' ? 'Ricarica' : 'Top up', exact: true }).click();
    await page.waitForURL((u) => u.pathname.startsWith('/test-gateway/checkout/'));
    await check(page, `${p}-checkout`);
    // The test gateway's page follows the holder's language, as a provider's page would.
    await page.getByLabel(lang === 'it' ? 'Numero carta' : 'Card number', { exact: true }).fill('4000000000000002');
    await page.getByLabel(lang === 'it' ? 'Scadenza' : 'Expiry date', { exact: true }).fill('12/34');
    await page.getByLabel('CVC', { exact: true }).fill('123');
    await page.getByRole('button', { name: lang === 'it' ? 'Paga' : 'Pay', exact: true }).click();
    await page.waitForURL((u) => u.pathname.startsWith('/credit/topups/'));
    await check(page, `${p}-topup-failed`);

    await page.goto('/profilo');
    await check(page, `${p}-profile`);
    // R18: Metodi di pagamento, the gateway's setup page, the card in the list and on the mailbox card.
    await page.goto('/metodi-di-pagamento');
    await check(page, `${p}-payment-methods-empty`);
    await page.getByRole('button', { name: lang === 'it' ? 'Aggiungi carta' : 'Add card', exact: true }).click();
    await page.waitForURL((u) => u.pathname.startsWith('/test-gateway/setup/'));
    await check(page, `${p}-card-setup`);
    await page.getByLabel(lang === 'it' ? 'Numero carta' : 'Card number', { exact: true }).fill('4242424242424242');
    await page.getByLabel(lang === 'it' ? 'Scadenza' : 'Expiry date', { exact: true }).fill('12/34');
    await page.getByLabel('CVC', { exact: true }).fill('123');
    await page.getByRole('button', { name: lang === 'it' ? 'Salva carta' : 'Save card', exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/metodi-di-pagamento');
    await check(page, `${p}-payment-methods`);
    assert.ok(await page.getByRole('button', { name: lang === 'it' ? 'Rimuovi la carta che termina con 4242' : 'Remove the card ending in 4242', exact: true }).isVisible());
    await page.goto(`/mailboxes/${mailbox.id}`);
    await check(page, `${p}-mailbox-card-with-card`);
    assert.ok(await page.getByRole('group', { name: lang === 'it' ? 'Rinnova con la carta' : 'Renew with the card', exact: true }).isVisible());
    await page.goto('/profilo/fatturazione');
    await check(page, `${p}-billing`);
    await page.goto('/fatture');
    await check(page, `${p}-invoices`);
    await page.goto('/profilo/due-passaggi');
    await check(page, `${p}-two-step-off`);
    await page.getByRole('button', { name: lang === 'it' ? 'Attiva la verifica in due passaggi' : 'Turn on two-step verification', exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/profilo/due-passaggi/attivazione');
    await check(page, `${p}-two-step-enrol`);
    const secret = (await page.locator('code.secret').innerText()).replace(/\s+/g, '');
    await page.getByLabel(lang === 'it' ? 'Codice di verifica' : 'Verification code', { exact: true }).fill(totpNow(secret));
    await page.getByRole('button', { name: lang === 'it' ? 'Conferma e attiva' : 'Confirm and turn on', exact: true }).click();
    const recovery = await page.locator('ol.codes li').allInnerTexts();
    await check(page, `${p}-two-step-codes`);

    // The session ends while the holder is away: the login page says so, and leads back.
    await server.app.db.query(`UPDATE sessions SET last_seen_at = last_seen_at - interval '45 minutes' WHERE customer_id = $1`, [customer.id]);
    await page.goto('/orders');
    await page.waitForURL((u) => u.pathname === '/login');
    await check(page, `${p}-login-session-expired`);
    await page.getByLabel(lang === 'it' ? 'Indirizzo PEC' : 'PEC address', { exact: true }).fill(mailbox.address);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: lang === 'it' ? 'Accedi' : 'Log in', exact: true }).click();
    const code = page.getByLabel(lang === 'it' ? 'Codice di verifica' : 'Verification code', { exact: true });
    await code.waitFor();
    await check(page, `${p}-login-code`);
    await code.fill(recovery[0]!);
    await page.getByRole('button', { name: lang === 'it' ? 'Verifica' : 'Verify', exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/orders');
    await page.goto('/profilo/due-passaggi');
    await check(page, `${p}-two-step-on`);
  } finally {
    await context.close();
  }
}

for (const lang of ['it', 'en'] as const) {
  test(`items 2 and 8: every page at 375 and 1280 px in ${lang === 'it' ? 'Italian' : 'English'}: fits the screen, zero axe-core violations`, opts, async () => {
    for (const width of WIDTHS) await tour(lang, width);
  });
}

test('item 7: the provider\'s name, logo and legal footer on the pages and in HTML e-mails', opts, async () => {
  const { mailbox, password } = await provisionHolder(op, { creditCents: 1000 });
  const { context, page } = await newContext('it', 1280);
  try {
    await page.goto('/login');
    assert.match(await page.title(), /— PEC Nord$/);
    const footer = await page.locator('footer').innerText();
    assert.match(footer, /PEC Nord S\.r\.l\./);
    assert.match(footer, /P\. IVA 01234567897/);
    assert.match(footer, /Sede legale: Via della Posta Certificata 12, 20121 Milano \(MI\)/);
    assert.match(footer, /assistenza@pecnord\.example/);
    const logo = page.locator('header img.brand-logo');
    assert.equal(await logo.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0), true, 'the logo loads under the CSP');
    assert.match(await page.locator('header').innerText(), /PEC Nord/);

    // A top-up sends "Ricarica effettuata" as HTML with the pages' look and the same footer.
    await logIn(page, mailbox.address, password);
    await page.goto('/credit');
    await page.getByLabel('Importo da ricaricare', { exact: true }).fill('10');
    await page.getByRole('button', { name: 'Ricarica', exact: true }).click();
    await page.waitForURL((u) => u.pathname.startsWith('/test-gateway/checkout/'));
    await page.getByLabel('Numero carta', { exact: true }).fill('4242424242424242');
    await page.getByLabel('Scadenza', { exact: true }).fill('12/34');
    await page.getByLabel('CVC', { exact: true }).fill('123');
    await page.getByRole('button', { name: 'Paga', exact: true }).click();
    await page.waitForURL((u) => u.pathname.startsWith('/credit/topups/'));
    const outbox = await fetch(`${server.baseUrl}/dev/mail.json`).then((r) => r.json() as Promise<{ emails: { subject: string; text_body: string; html_body: string }[] }>);
    const receipt = outbox.emails.find((e) => e.subject.startsWith('Ricarica effettuata'));
    assert.ok(receipt, 'receipt e-mail');
    assert.match(receipt.text_body, /PEC Nord S\.r\.l\.\nP\. IVA 01234567897/);
    // Shown as a mail client would: a blank page of its own, without the site's CSP, logo from the site.
    const reader = await browser.newPage();
    try {
      for (const width of WIDTHS) {
        await reader.setViewportSize({ width, height: 900 });
        await reader.setContent(receipt.html_body, { waitUntil: 'load' });
        const mail = await reader.locator('body').innerText();
        assert.match(mail, /PEC Nord/);
        assert.match(mail, /Sede legale: Via della Posta Certificata 12/);
        assert.equal(await reader.locator(`img[src="${server.baseUrl}/assets/logo.svg"]`).count(), 1);
        assert.equal(await reader.locator('a', { hasText: 'Movimenti del credito' }).evaluate((a) => getComputedStyle(a).backgroundColor), 'rgb(11, 92, 173)');
        await assertFits(reader, `email-receipt-${width}`);
        await assertAccessible(reader, `email-receipt-${width}`);
        await shot(reader, `email-receipt-${width}`);
      }
    } finally {
      await reader.close();
    }
  } finally {
    await context.close();
  }
});

test('item 7: an expired session says so, and logging in again goes back to the page the holder was on', opts, async () => {
  const { mailbox, password } = await provisionHolder(op, { creditCents: 1000 });
  const { context, page } = await newContext('it', 375);
  try {
    await logIn(page, mailbox.address, password);
    await page.goto(`/mailboxes/${mailbox.id}/extra-space?quantityGb=2`);
    // 45 idle minutes, past the 30 of R12 (sessions count wall time, not the test clock).
    const idle = () => server.app.db.query(`UPDATE sessions SET last_seen_at = last_seen_at - interval '45 minutes'`);
    await idle();
    {
      await page.reload();
      await page.waitForURL((u) => u.pathname === '/login');
      assert.match(await mainText(page), /La sessione è scaduta: accedi di nuovo per tornare alla pagina dove eri/);
      await check(page, 'it-375-login-session-expired');
      await page.getByLabel('Indirizzo PEC', { exact: true }).fill(mailbox.address);
      await page.getByLabel('Password', { exact: true }).fill(password);
      await page.getByRole('button', { name: 'Accedi', exact: true }).click();
      await page.waitForURL((u) => u.pathname === `/mailboxes/${mailbox.id}/extra-space` && u.searchParams.get('quantityGb') === '2');
      // A form posted after the session ended comes back to the form's page, not to its action.
      await idle();
      await page.getByRole('button', { name: 'Conferma acquisto', exact: true }).click();
      await page.waitForURL((u) => u.pathname === '/login');
      assert.equal(new URL(page.url()).searchParams.get('next'), `/mailboxes/${mailbox.id}/extra-space`);
      // Never away from this site.
      const away = await page.request.get('/login?next=//evil.example/', { maxRedirects: 0 });
      assert.equal(away.status(), 200);
      assert.doesNotMatch(await away.text(), /name="next" value="[^"]*evil/);
    }
  } finally {
    await context.close();
  }
});

/** Tab until the focused element is the one wanted (at most `presses` times); its focus must show. */
async function tabTo(page: Page, describe: string, matches: (el: { tag: string; name: string; label: string }) => boolean, presses = 40) {
  for (let i = 0; i < presses; i++) {
    await page.keyboard.press('Tab');
    const el = await page.evaluate(() => {
      const a = document.activeElement as HTMLElement | null;
      if (!a) return null;
      const label = a.id ? (document.querySelector(`label[for="${a.id}"]`)?.textContent ?? '') : '';
      const style = getComputedStyle(a);
      return {
        tag: a.tagName.toLowerCase(),
        name: (a.getAttribute('aria-label') ?? a.textContent ?? '').trim(),
        label: label.trim(),
        outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
      };
    });
    if (el && matches(el)) {
      assert.ok(el.outline, `${describe}: the focus is visible`);
      return;
    }
  }
  throw new Error(`${describe}: not reached with ${presses} presses of Tab`);
}

test('item 8: purchase and top-up with the keyboard alone', opts, async () => {
  const { mailbox, password } = await provisionHolder(op, { creditCents: 200, expiresOn: '2026-12-01' });
  const { context, page } = await newContext('it', 375);
  const field = (label: string) => (el: { label: string }) => el.label === label;
  const control = (name: string) => (el: { name: string }) => el.name === name;
  const pay = async () => {
    await tabTo(page, 'Numero carta', field('Numero carta'));
    await page.keyboard.type('4242424242424242');
    await tabTo(page, 'Scadenza', field('Scadenza'));
    await page.keyboard.type('12/34');
    await tabTo(page, 'CVC', field('CVC'));
    await page.keyboard.type('123');
    await tabTo(page, 'Paga', control('Paga'));
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.pathname.startsWith('/credit/topups/'));
  };
  try {
    await page.goto('/login');
    await tabTo(page, 'Indirizzo PEC', field('Indirizzo PEC'));
    await page.keyboard.type(mailbox.address);
    await tabTo(page, 'Password', field('Password'));
    await page.keyboard.type(password);
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.pathname === '/');

    await tabTo(page, 'Lista caselle PEC', control('Lista caselle PEC'));
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.pathname === '/mailboxes');
    await tabTo(page, 'magnifier', control(`Dettagli ${mailbox.address}`));
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.pathname === `/mailboxes/${mailbox.id}`);
    await tabTo(page, 'Acquista', control('Acquista nuovo Servizio Aggiuntivo'));
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.pathname.endsWith('/extra-space'));
    await tabTo(page, 'GB da acquistare', field('GB da acquistare'));
    await page.keyboard.type('1');
    await page.keyboard.press('Enter');
    await page.locator('#quote').waitFor({ state: 'visible' });
    assert.match(await page.locator('#quote').innerText(), /mancano 1,00 €/);
    await tabTo(page, 'Ricarica e completa', control("Ricarica e completa l'ordine"));
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.pathname.startsWith('/test-gateway/checkout/'));
    await pay();
    assert.match(await mainText(page), /Ordine completato/);

    await tabTo(page, 'Credito', control('Credito'));
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.pathname === '/credit');
    await tabTo(page, 'Importo da ricaricare', field('Importo da ricaricare'));
    await page.keyboard.type('15');
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.pathname.startsWith('/test-gateway/checkout/'));
    await pay();
    assert.match(await mainText(page), /Ricarica riuscita: aggiunti 15,00 € di credito/);
  } finally {
    await context.close();
  }
});

test('item 5: two-step verification turned on with the QR code and a first code, then asked at login', opts, async () => {
  const { mailbox, password } = await provisionHolder(op, {});
  const { context, page } = await newContext('it', 375);
  try {
    await logIn(page, mailbox.address, password);
    await page.goto('/profilo/due-passaggi');
    await check(page, 'it-375-two-step-off');
    await page.getByRole('button', { name: 'Attiva la verifica in due passaggi', exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/profilo/due-passaggi/attivazione');
    const qr = page.getByRole('img', { name: "Codice QR da inquadrare con l'app di autenticazione", exact: true });
    assert.equal(await qr.evaluate((img: HTMLImageElement) => img.naturalWidth > 100), true, 'the QR code is drawn');
    await check(page, 'it-375-two-step-enrol');
    const secret = (await page.locator('code.secret').innerText()).replace(/\s+/g, '');
    await page.getByLabel('Codice di verifica', { exact: true }).fill('000000');
    await page.getByRole('button', { name: 'Conferma e attiva', exact: true }).click();
    assert.match(await page.locator('#code-error').innerText(), /Codice non valido/);
    await page.getByLabel('Codice di verifica', { exact: true }).fill(totpNow(secret));
    await page.getByRole('button', { name: 'Conferma e attiva', exact: true }).click();
    const codes = await page.locator('ol.codes li').allInnerTexts();
    assert.equal(codes.length, 10);
    await check(page, 'it-375-two-step-codes');

    await page.getByRole('button', { name: 'Esci', exact: true }).click();
    await page.getByLabel('Indirizzo PEC', { exact: true }).fill(mailbox.address);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Accedi', exact: true }).click();
    await page.getByLabel('Codice di verifica', { exact: true }).waitFor();
    await check(page, 'it-375-login-code');
    await page.getByLabel('Codice di verifica', { exact: true }).fill('999999');
    await page.getByRole('button', { name: 'Verifica', exact: true }).click();
    assert.match(await mainText(page), /Codice non valido o già usato/);
    // A recovery code, as someone without their phone would.
    await page.getByLabel('Codice di verifica', { exact: true }).fill(codes[0]!);
    await page.getByRole('button', { name: 'Verifica', exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/');

    await page.goto('/profilo/due-passaggi');
    assert.match(await mainText(page), /Codici di recupero non ancora usati: 9 su 10/);
    await check(page, 'it-375-two-step-on');
    await page.getByLabel('Codice di verifica', { exact: true }).fill(codes[1]!);
    await page.getByRole('button', { name: 'Disattiva la verifica in due passaggi', exact: true }).click();
    await page.waitForURL((u) => u.searchParams.get('msg') === 'twoStepDisabled');
    assert.match(await mainText(page), /Verifica in due passaggi disattivata/);
  } finally {
    await context.close();
  }
});
