// Issue 13: the `Profilo` page and its `Cambia password` form, posted as a browser without
// JavaScript posts it, on each engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, forEachServer, provisionHolder } from '../support/http.ts';
import { formFields, postForm, submitPageForm } from '../support/web-forms.ts';

const STRONG = 'Tramonto-sul-Po-7';

forEachServer('web: Profilo and Cambia password', (t) => {
  const holderClient = async (opts: Parameters<typeof provisionHolder>[1] = {}) => {
    const holder = await provisionHolder(t.op, opts);
    const client = new Client(t.s.baseUrl);
    assert.equal((await client.login(holder.mailbox.address, holder.password)).status, 200);
    return { ...holder, client };
  };
  const ACTION = '/profilo/password';

  test('every page after login links to Profilo, whose first section is Cambia password with its two labelled fields', async () => {
    const { client, mailbox } = await holderClient();
    for (const path of ['/', '/mailboxes', `/mailboxes/${mailbox.id}`, '/credit', '/orders', '/profilo']) {
      const page = await client.get<string>(path);
      assert.equal(page.status, 200, path);
      assert.match(page.body, /<a href="\/profilo"( aria-current="page")?>Profilo<\/a>/, path);
    }
    const profile = (await client.get<string>('/profilo')).body;
    assert.match(profile, /<h1>Profilo<\/h1>/);
    const firstSection = /<section[^>]*>\s*<h2[^>]*>([^<]*)<\/h2>/.exec(profile);
    assert.equal(firstSection?.[1], 'Cambia password');
    assert.match(profile, /<label for="current-password">Password attuale<\/label>/);
    assert.match(profile, /<label for="new-password">Nuova password<\/label>/);
    assert.match(profile, /<button type="submit" class="primary">Cambia password<\/button>/);
    assert.ok(profile.includes(mailbox.address), 'the page names the mailbox whose password changes');
  });

  test('the form shows a weak new password and a wrong current one next to their fields, changes nothing, and then changes the password once, posted twice', async () => {
    const { client, mailbox, password } = await holderClient();
    const other = new Client(t.s.baseUrl);
    assert.equal((await other.login(mailbox.address, password)).status, 200);

    const weak = await submitPageForm(client, '/profilo', ACTION, { currentPassword: password, newPassword: 'corta1' });
    assert.equal(weak.res.status, 422);
    assert.match(weak.res.body, /id="new-password"[^>]*aria-invalid="true"[^>]*aria-describedby="new-password-error new-password-hint"/);
    assert.match(weak.res.body, /<p class="error" id="new-password-error">La nuova password deve avere almeno 10 caratteri\.<\/p>/);
    const accented = await submitPageForm(client, '/profilo', ACTION, { currentPassword: password, newPassword: 'Perché-no-2026' });
    assert.match(accented.res.body, /id="new-password-error">La nuova password può contenere solo lettere senza accenti/);

    const wrong = await submitPageForm(client, '/profilo', ACTION, { currentPassword: 'non-la-password-1', newPassword: STRONG });
    assert.equal(wrong.res.status, 401);
    assert.match(wrong.res.body, /<p class="error" id="current-password-error">La password attuale non è corretta\.<\/p>/);
    assert.equal((await other.get('/api/me')).status, 200, 'nothing changed yet');

    const { fields, res } = await submitPageForm(client, '/profilo', ACTION, { currentPassword: password, newPassword: STRONG });
    assert.equal(res.status, 303, res.body);
    assert.equal(res.headers.get('location'), '/profilo?msg=passwordChanged');
    const again = await postForm(client, ACTION, fields);
    assert.equal(again.status, 303, 'a double click shows the first outcome, not "wrong current password"');
    assert.equal(again.headers.get('location'), '/profilo?msg=passwordChanged');
    const done = await client.get<string>('/profilo?msg=passwordChanged');
    assert.match(done.body, /<p class="notice" role="status">Password cambiata\./);

    assert.equal((await other.get('/api/me')).status, 401, 'the other session ended');
    assert.equal((await new Client(t.s.baseUrl).login(mailbox.address, password)).status, 401);
    assert.equal((await new Client(t.s.baseUrl).login(mailbox.address, STRONG)).status, 200);
  });

  test('in English the page and its messages are English', async () => {
    const { client, password } = await holderClient({ locale: 'en' });
    const page = (await client.get<string>('/profilo')).body;
    assert.match(page, /<a href="\/profilo" aria-current="page">Profile<\/a>/);
    assert.match(page, /<label for="current-password">Current password<\/label>/);
    assert.match(page, /<label for="new-password">New password<\/label>/);
    const same = await postForm(client, ACTION, { ...formFields(page, ACTION), currentPassword: password, newPassword: password });
    assert.equal(same.status, 422);
    assert.match(same.body, /id="new-password-error">The new password must differ from the current one\.<\/p>/);
  });

  test('the form without its CSRF token is refused and changes nothing', async () => {
    const { client, mailbox, password } = await holderClient();
    const fields = formFields((await client.get<string>('/profilo')).body, ACTION);
    const forged = await postForm(client, ACTION, { ...fields, _csrf: 'forged', currentPassword: password, newPassword: STRONG });
    assert.equal(forged.status, 403);
    assert.equal((await new Client(t.s.baseUrl).login(mailbox.address, password)).status, 200);
  });
});
