// Issue 15 item 3, the `Profilo` sections about the holder, over real HTTP on each engine: the
// reference e-mail changes only once the link sent to the new address is opened and confirmed; the
// open sessions are listed and "Esci da tutti gli altri dispositivi" ends all but this one; the name
// and the language are stored, and e-mails follow the language.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { clock } from '../../src/clock.ts';
import { EMAIL_CHANGE_REQUESTS_MAX } from '../../src/services/access/reference-email.ts';
import { outboxOf } from '../support/fixtures.ts';
import { Client, forEachServer, provisionHolder } from '../support/http.ts';
import { formFields, postForm, submitPageForm } from '../support/web-forms.ts';

forEachServer('web and API: Profilo sections', (t) => {
  afterEach(async () => {
    clock.setWallOffset(0);
    await t.s.app.db.query('DELETE FROM login_throttle');
  });
  const holderClient = async (opts: Parameters<typeof provisionHolder>[1] = {}) => {
    const holder = await provisionHolder(t.op, opts);
    const client = new Client(t.s.baseUrl);
    assert.equal((await client.login(holder.mailbox.address, holder.password)).status, 200);
    return { ...holder, client };
  };
  const mails = (customerId: string, kind: string) => outboxOf(t.s.app.ctx, customerId).then((all) => all.filter((m) => m.kind === kind));
  const confirmationLink = async (customerId: string): Promise<string> => {
    const sent = await mails(customerId, 'reference_email_confirmation');
    const m = /https?:\/\/[^/\s]+(\/email-di-riferimento\/[A-Za-z0-9_-]+)/.exec(sent.at(-1)?.text_body ?? '');
    assert.ok(m, 'a confirmation link in the e-mail');
    return m[1]!;
  };

  test('the reference e-mail changes only when the link sent to the new address is confirmed, once; the old address is told; e-mails then go to the new one', async () => {
    const { client, customer, mailbox, password } = await holderClient();
    const newEmail = `nuovo.${Date.now()}@example.com`;

    assert.equal((await client.post('/api/me/reference-email', { email: 'non-un-indirizzo', currentPassword: password })).status, 422);
    const same = await client.post('/api/me/reference-email', { email: customer.referenceEmail, currentPassword: password });
    assert.deepEqual([same.status, Object.keys(same.body.error.fields)], [422, ['email']]);

    const asked = await client.post('/api/me/reference-email', { email: newEmail.toUpperCase(), currentPassword: password });
    assert.equal(asked.status, 202);
    assert.equal(asked.body.pending.email, newEmail);
    assert.equal((await client.get('/api/me')).body.customer.referenceEmail, customer.referenceEmail, 'nothing changes before the link is opened');
    assert.deepEqual((await client.get('/api/me/reference-email')).body.pending.email, newEmail);
    const [confirmation] = await mails(customer.id, 'reference_email_confirmation');
    assert.equal(confirmation!.to_address, newEmail, 'the link goes to the new address');
    assert.match(confirmation!.text_body, /vale 24 ore/);
    const profile = await client.get<string>('/profilo');
    assert.match(profile.body, new RegExp(`In attesa di conferma: ${newEmail.replace(/\./g, '\\.')}`));

    const link = await confirmationLink(customer.id);
    const anon = new Client(t.s.baseUrl); // the link may be opened anywhere: it is the proof
    const page = await anon.get<string>(link);
    assert.equal(page.status, 200);
    assert.match(page.body, /<button type="submit" class="primary">Conferma l&#39;indirizzo<\/button>/);
    assert.equal((await client.get('/api/me')).body.customer.referenceEmail, customer.referenceEmail, 'opening the page alone changes nothing');
    const confirmed = await postForm(anon, link, formFields(page.body, link));
    assert.equal(confirmed.status, 200);
    assert.match(confirmed.body, /Indirizzo confermato/);
    assert.equal((await client.get('/api/me')).body.customer.referenceEmail, newEmail);
    assert.equal((await client.get('/api/me/reference-email')).body.pending, null);
    const [notice] = await mails(customer.id, 'reference_email_changed');
    assert.equal(notice!.to_address, customer.referenceEmail, 'the old address is told');
    assert.equal(notice!.subject, 'Indirizzo e-mail di riferimento cambiato');

    assert.equal((await anon.get(link)).status, 404, 'the link works once');
    assert.equal((await anon.post(`/api/reference-email-confirmations/${link.split('/').pop()}`)).status, 404);

    await anon.post('/api/password-resets', { address: mailbox.address });
    const [reset] = await mails(customer.id, 'password_reset');
    assert.equal(reset!.to_address, newEmail, 'e-mails now go to the new reference address');
  });

  test('a confirmation link expires after 24 hours, and the web form asks for the link with errors next to the field', async () => {
    const { client, customer, password } = await holderClient();
    const bad = await submitPageForm(client, '/profilo', '/profilo/email', { email: 'nome@', currentPassword: password });
    assert.equal(bad.res.status, 422);
    assert.match(bad.res.body, /id="new-email"[^>]*aria-invalid="true"/);
    assert.match(bad.res.body, /<p class="error" id="new-email-error">Scrivi un indirizzo e-mail/);
    const { res } = await submitPageForm(client, '/profilo', '/profilo/email', { email: `tardi.${Date.now()}@example.com`, currentPassword: password });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/profilo?msg=emailLinkSent#reference-email');
    const link = await confirmationLink(customer.id);
    clock.setWallOffset(24 * 3600_000 + 60_000);
    assert.equal((await new Client(t.s.baseUrl).get(link)).status, 404);
    assert.equal((await new Client(t.s.baseUrl).post(`/api/reference-email-confirmations/${link.split('/').pop()}`)).status, 404);
    clock.setWallOffset(0);
    assert.equal((await client.get('/api/me')).body.customer.referenceEmail, customer.referenceEmail);

    // Confirmation e-mails are throttled per holder (the first request above counted too).
    for (let i = 1; i < EMAIL_CHANGE_REQUESTS_MAX; i++) assert.equal((await client.post('/api/me/reference-email', { email: `altro${i}.${Date.now()}@example.com`, currentPassword: password })).status, 202);
    const flood = await client.post('/api/me/reference-email', { email: `troppi.${Date.now()}@example.com`, currentPassword: password });
    assert.equal(flood.status, 429);
    assert.equal((await mails(customer.id, 'reference_email_confirmation')).length, EMAIL_CHANGE_REQUESTS_MAX);
  });

  test('the active sessions are listed without tokens, this one marked; "Esci da tutti gli altri dispositivi" ends the others and keeps this one', async () => {
    const { client, mailboxes, password } = await holderClient({ mailboxes: 2 });
    const phone = new Client(t.s.baseUrl);
    assert.equal((await phone.login(mailboxes[1].address, password)).status, 200);
    const tablet = new Client(t.s.baseUrl);
    assert.equal((await tablet.login(mailboxes[0].address, password)).status, 200);

    const list = await client.get('/api/me/sessions');
    assert.equal(list.status, 200);
    assert.equal(list.body.sessions.length, 3);
    assert.deepEqual(list.body.sessions.map((s: any) => s.current), [true, false, false]);
    assert.deepEqual(Object.keys(list.body.sessions[0]).sort(), ['createdAt', 'current', 'lastSeenAt', 'mailboxAddress']);
    assert.ok(list.body.sessions.some((s: any) => s.mailboxAddress === mailboxes[1].address));
    const cookieValue = client.cookie.split('=')[1]!;
    assert.ok(!JSON.stringify(list.body).includes(cookieValue));

    const page = await client.get<string>('/profilo');
    assert.match(page.body, /<h2 id="sessions-h">Sessioni attive<\/h2>/);
    assert.equal(page.body.match(/<strong>Questo dispositivo<\/strong>/g)?.length, 1);
    assert.equal(page.body.match(/Un altro dispositivo/g)?.length, 2);
    const ended = await postForm(client, '/profilo/sessioni/altre', formFields(page.body, '/profilo/sessioni/altre'));
    assert.equal(ended.status, 303);
    assert.equal((await phone.get('/api/me')).status, 401);
    assert.equal((await tablet.get('/api/me')).status, 401);
    assert.equal((await client.get('/api/me')).status, 200);
    const after = await client.get<string>('/profilo?msg=othersEnded');
    assert.match(after.body, /role="status">Le sessioni sugli altri dispositivi sono state chiuse\./);
    assert.match(after.body, /Non ci sono altre sessioni aperte\./);

    // The same through the API.
    const again = new Client(t.s.baseUrl);
    assert.equal((await again.login(mailboxes[0].address, password)).status, 200);
    const viaApi = await client.delete('/api/me/sessions/others');
    assert.deepEqual([viaApi.status, viaApi.body], [200, { ended: 1 }]);
    assert.equal((await again.get('/api/me')).status, 401);
    assert.equal((await client.delete('/api/me/sessions/others', { 'x-csrf-token': '' })).status, 403);
  });

  test('the name and the language are stored; pages and e-mails follow the language', async () => {
    const { client, customer, mailbox } = await holderClient();
    const empty = await submitPageForm(client, '/profilo', '/profilo/nome', { name: '   ' });
    assert.equal(empty.res.status, 422);
    assert.match(empty.res.body, /id="holder-name-error">Inserisci il nome\./);
    const named = await submitPageForm(client, '/profilo', '/profilo/nome', { name: 'Studio Legale Rossi & Associati' });
    assert.equal(named.res.status, 303);
    assert.equal((await client.get('/api/me')).body.customer.name, 'Studio Legale Rossi & Associati');

    const profile = (await client.get<string>('/profilo')).body;
    assert.match(profile, /<legend>Lingua delle pagine e delle e-mail<\/legend>/);
    assert.match(profile, /<input type="radio" id="locale-it" name="locale" value="it" checked>/);
    const lang = await postForm(client, '/profilo/lingua', { ...formFields(profile, '/profilo/lingua'), locale: 'en' });
    assert.equal(lang.status, 303);
    assert.match(lang.headers.get('set-cookie') ?? '', /casella_lang=en/);
    assert.equal((await client.get('/api/me')).body.customer.locale, 'en');
    assert.match((await client.get<string>('/profilo')).body, /<h2 id="language-h">Language<\/h2>/);
    await new Client(t.s.baseUrl).post('/api/password-resets', { address: mailbox.address });
    const [reset] = await mails(customer.id, 'password_reset');
    assert.match(reset!.subject, /^Reset your password: /, 'e-mails follow the stored language');

    const patched = await client.patch('/api/me', { name: 'Rossi S.r.l.', locale: 'it' });
    assert.equal(patched.status, 200);
    assert.deepEqual([patched.body.customer.name, patched.body.customer.locale], ['Rossi S.r.l.', 'it']);
    const bad = await client.patch('/api/me', { name: '' });
    assert.deepEqual([bad.status, Object.keys(bad.body.error.fields)], [422, ['name']]);
    assert.equal((await client.patch('/api/me', { locale: 'fr' })).status, 422);
    assert.equal((await client.patch('/api/me', { referenceEmail: 'x@example.com' })).status, 422, 'the reference e-mail changes only through its link');
  });

  test('issue 19: a session alone cannot move the reference e-mail: the current password is asked (wrong → 401, a guess counted like a login), and the current address is told at once', async () => {
    const { client, customer, password } = await holderClient();
    const attackerEmail = `altrove.${Date.now()}@example.com`;
    const without = await client.post('/api/me/reference-email', { email: attackerEmail });
    assert.equal(without.status, 422);
    const wrong = await client.post('/api/me/reference-email', { email: attackerEmail, currentPassword: 'non-la-password-1' });
    assert.deepEqual([wrong.status, wrong.body.error.code], [401, 'invalid_credentials']);
    assert.equal((await mails(customer.id, 'reference_email_confirmation')).length, 0);
    assert.equal((await client.get('/api/me/reference-email')).body.pending, null);
    // Wrong passwords here are guesses of the address: the sixth within the window is refused.
    for (let i = 0; i < 4; i++) assert.equal((await client.post('/api/me/reference-email', { email: attackerEmail, currentPassword: `sbagliata-${i}-X` })).status, 401);
    assert.equal((await client.post('/api/me/reference-email', { email: attackerEmail, currentPassword: password })).status, 429);
    await t.s.app.db.query('DELETE FROM login_throttle');

    const asked = await client.post('/api/me/reference-email', { email: attackerEmail, currentPassword: password });
    assert.equal(asked.status, 202);
    const [told] = await mails(customer.id, 'reference_email_change_asked');
    assert.equal(told!.to_address, customer.referenceEmail, 'the current address is told when the change is asked');
    assert.match(told!.text_body, new RegExp(attackerEmail.replace(/\./g, '\\.')));
    assert.match(told!.text_body, /cambia la password: la richiesta viene annullata/);

    // The form asks for the password too, and shows a wrong one at its field.
    const page = await client.get<string>('/profilo');
    assert.match(page.body, /<label for="email-current-password">Conferma con la password attuale<\/label>\n<input id="email-current-password" name="currentPassword" type="password" autocomplete="current-password"/);
    const refused = await submitPageForm(client, '/profilo', '/profilo/email', { email: `altro.${Date.now()}@example.com`, currentPassword: 'non-la-password-2' });
    assert.equal(refused.res.status, 401);
    assert.match(refused.res.body, /<p class="error" id="email-current-password-error">La password attuale non è corretta\.<\/p>/);
  });

  test('issue 19: the confirmation e-mail begins with the provider\'s words; the name the holder typed comes after them, quoted', async () => {
    const { client, customer, password } = await holderClient();
    assert.equal((await client.patch('/api/me', { name: 'URGENTE: il tuo conto è bloccato, chiama il 800 000 000' })).status, 200);
    assert.equal((await client.post('/api/me/reference-email', { email: `chiunque.${Date.now()}@example.com`, currentPassword: password })).status, 202);
    const [confirmation] = await mails(customer.id, 'reference_email_confirmation');
    const body = confirmation!.text_body;
    const name = body.indexOf('URGENTE');
    assert.ok(name > 0);
    assert.ok(body.indexOf("Dall'area clienti è stato chiesto") < name, 'the provider\'s text comes before the holder\'s');
    assert.match(body, /Il cliente, con il nome scritto nel suo profilo: «URGENTE: il tuo conto è bloccato/);
    assert.ok(!/^\s*URGENTE/.test(body), 'the e-mail does not open with the holder\'s text');
  });

  test('issue 19: a pending reference e-mail change ends with "Esci da tutti gli altri dispositivi" and with a password change; "Password dimenticata?" keeps writing to the old address', async () => {
    const { client, customer, mailbox, password } = await holderClient();
    const stolen = new Client(t.s.baseUrl);
    assert.equal((await stolen.login(mailbox.address, password)).status, 200);
    const viaOthers = `primo.${Date.now()}@example.com`;
    assert.equal((await stolen.post('/api/me/reference-email', { email: viaOthers, currentPassword: password })).status, 202);
    const firstLink = await confirmationLink(customer.id);
    assert.deepEqual((await client.delete('/api/me/sessions/others')).body, { ended: 1 });
    assert.equal((await client.get('/api/me/reference-email')).body.pending, null);
    assert.equal((await new Client(t.s.baseUrl).get(firstLink)).status, 404, 'the link is void');
    assert.equal((await new Client(t.s.baseUrl).post(`/api/reference-email-confirmations/${firstLink.split('/').pop()}`)).status, 404);

    assert.equal((await stolen.login(mailbox.address, password)).status, 200);
    assert.equal((await stolen.post('/api/me/reference-email', { email: `secondo.${Date.now()}@example.com`, currentPassword: password })).status, 202);
    const secondLink = await confirmationLink(customer.id);
    const newPassword = 'Nuova-Password-2026';
    assert.equal((await client.put('/api/me/password', { currentPassword: password, newPassword })).status, 204);
    assert.equal((await new Client(t.s.baseUrl).post(`/api/reference-email-confirmations/${secondLink.split('/').pop()}`)).status, 404);
    assert.equal((await client.get('/api/me')).body.customer.referenceEmail, customer.referenceEmail);

    await new Client(t.s.baseUrl).post('/api/password-resets', { address: mailbox.address });
    const [reset] = await mails(customer.id, 'password_reset');
    assert.equal(reset!.to_address, customer.referenceEmail, 'the reset link goes to the holder, not to the address the stolen session asked for');
  });

  test('issue 19: a two-step enrolment read by another session is not offered after a password change: the next enrolment has a new secret, and the old one confirms nothing', async () => {
    const { client, customer, mailbox, password } = await holderClient();
    const stolen = new Client(t.s.baseUrl);
    assert.equal((await stolen.login(mailbox.address, password)).status, 200);
    const read = await stolen.post('/api/me/two-step/enrolment');
    assert.equal(read.status, 200);
    assert.equal((await client.put('/api/me/password', { currentPassword: password, newPassword: 'Nuova-Password-2027' })).status, 204);
    const offered = await client.post('/api/me/two-step/enrolment');
    assert.equal(offered.status, 200);
    assert.notEqual(offered.body.secret, read.body.secret);
    const [row] = await t.s.app.db.query<{ secret: string }>('SELECT secret FROM totp_credentials WHERE customer_id = $1', [customer.id]);
    assert.equal(row!.secret, offered.body.secret);

    // The same after "Esci da tutti gli altri dispositivi".
    const again = new Client(t.s.baseUrl);
    assert.equal((await again.login(mailbox.address, 'Nuova-Password-2027')).status, 200);
    const readAgain = await again.post('/api/me/two-step/enrolment');
    assert.equal(readAgain.body.secret, offered.body.secret, 'reloading keeps the enrolment while no session ends');
    assert.equal((await client.delete('/api/me/sessions/others')).body.ended, 1);
    assert.notEqual((await client.post('/api/me/two-step/enrolment')).body.secret, readAgain.body.secret);
  });
});
