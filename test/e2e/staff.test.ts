// R19 (issue 21): staff accounts with a one-time setup link, mandatory TOTP and roles declared once
// per route; search; the holder's record; an append-only audit trail. Over real HTTP on each engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Secret, TOTP } from 'otpauth';
import { clock } from '../../src/clock.ts';
import { createOperator } from '../../src/services/staff/operators.ts';
import { createStaff, completeSetup, setupOffer } from '../../src/services/staff/accounts.ts';
import { SYSTEM } from '../../src/services/audit.ts';
import { STAFF_ROLES, roleCovers, type StaffRole } from '../../src/domain/staff-role.ts';
import { Client, forEachServer, payByCard, provisionHolder } from '../support/http.ts';

const codeAt = (secret: string, wallMs: number) => new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 }).generate({ timestamp: wallMs });
const STEP_MS = 30_000;
const STRONG = 'Ufficio-Contabile-2027!';

forEachServer('staff and back office', (t) => {
  let seq = 0;
  // Each TOTP code is accepted once: the tests move the machine's clock a step on between codes, as a
  // person waits for the next code.
  let wallOffsetMs = 0;
  const nextStep = () => clock.setWallOffset((wallOffsetMs += STEP_MS));
  /** A staff member who completed the setup link; answers a logged-in client. */
  async function staffMember(role: StaffRole) {
    const n = ++seq;
    const { member, setupToken } = await createStaff(t.s.app.db, SYSTEM, { email: `agente${n}.${role}@provider.test`, name: `Agente ${n}`, role });
    const offer = await setupOffer(t.s.app.db, setupToken);
    await completeSetup(t.s.app.db, setupToken, STRONG, codeAt(offer.secret, clock.wallMs()));
    nextStep();
    const c = new Client(t.s.baseUrl);
    const res = await c.post('/api/admin/session', { email: member.email, password: STRONG, totpCode: codeAt(offer.secret, clock.wallMs()) });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    c.csrfToken = res.body.csrfToken;
    return { member, secret: offer.secret, client: c };
  }

  test('setup link: the holders\' password rule, the first TOTP code, used once', async () => {
    const { setupToken } = await createStaff(t.s.app.db, SYSTEM, { email: 'nuova@provider.test', name: 'Nuova Collega', role: 'support' });
    const offer = await setupOffer(t.s.app.db, setupToken);
    assert.match(offer.otpauthUri, /^otpauth:\/\/totp\//);
    await assert.rejects(completeSetup(t.s.app.db, setupToken, 'password', codeAt(offer.secret, clock.wallMs())), /too weak/);
    await assert.rejects(completeSetup(t.s.app.db, setupToken, STRONG, '000000'), /wrong or has expired/);
    await completeSetup(t.s.app.db, setupToken, STRONG, codeAt(offer.secret, clock.wallMs()));
    await assert.rejects(setupOffer(t.s.app.db, setupToken), /not found/);
    // The setup page is where the link leads.
    const page = await fetch(`${t.s.baseUrl}/admin/setup/${setupToken}`);
    assert.equal(page.status, 404);
  });

  test('staff log in with e-mail, password and a TOTP code, each code once; wrong answers are throttled', async () => {
    const { member, secret } = await staffMember('support');
    nextStep();
    const code = codeAt(secret, clock.wallMs());
    const login = (body: Record<string, string>) => new Client(t.s.baseUrl).post('/api/admin/session', body);
    assert.equal((await login({ email: member.email, password: STRONG })).status, 422, 'the code is mandatory');
    assert.equal((await login({ email: member.email, password: 'Sbagliata-2027!', totpCode: code })).body.error.code, 'invalid_credentials');
    assert.equal((await login({ email: member.email, password: STRONG, totpCode: code })).status, 200);
    assert.equal((await login({ email: member.email, password: STRONG, totpCode: code })).body.error.code, 'invalid_credentials', 'a code works once');
    for (let i = 0; i < 6; i++) await login({ email: member.email, password: 'Sbagliata-2027!', totpCode: '123456' });
    nextStep();
    assert.equal((await login({ email: member.email, password: STRONG, totpCode: codeAt(secret, clock.wallMs()) })).status, 429);
    await t.s.app.db.query('DELETE FROM login_throttle');
  });

  test('a console session needs the CSRF header for changes, and never opens the holder API', async () => {
    const { client } = await staffMember('admin');
    assert.equal((await client.get('/api/admin/overview')).status, 200);
    const noCsrf = await client.post('/api/admin/staff', { email: 'x@provider.test', name: 'X', role: 'support', reason: 'prova' }, { 'x-csrf-token': 'wrong' });
    assert.equal(noCsrf.body.error.code, 'csrf_failed');
    assert.equal((await client.get('/api/me')).status, 401, 'a staff cookie is not a holder session');
    assert.equal((await client.delete('/api/admin/session')).status, 204);
    assert.equal((await client.get('/api/admin/overview')).status, 401, 'logged out');
  });

  test('roles: every operator route declares one, and each role reaches exactly the routes at or below it', async () => {
    const routes = t.s.server.routeRoles.filter((r) => r.role !== 'public' && r.url.startsWith('/api/'));
    assert.ok(routes.length >= 30, `${routes.length} routes`);
    const tokens = Object.fromEntries(
      await Promise.all(STAFF_ROLES.map(async (role) => [role, (await createOperator(t.s.app.db, `token ${role}`, role)).token] as const)),
    ) as Record<StaffRole, string>;
    for (const route of routes) {
      if (route.role === 'public') continue;
      const path = route.url.replace(/:id/g, 'nope_0');
      for (const role of STAFF_ROLES) {
        const res = await new Client(t.s.baseUrl, tokens[role]).request(route.method, path, route.method === 'GET' || route.method === 'DELETE' ? undefined : {});
        const allowed = roleCovers(role, route.role as StaffRole);
        if (allowed) assert.notEqual(res.status, 403, `${role} ${route.method} ${route.url}: ${JSON.stringify(res.body)}`);
        else assert.deepEqual([res.status, res.body.error.code], [403, 'forbidden'], `${role} ${route.method} ${route.url}`);
      }
    }
  });

  test('roles: each console page answers 403 below its role, whatever is posted; a form needs the session\'s CSRF token', async () => {
    // Logging out (any role) would end the member's session mid-walk: the browser test covers it.
    const pages = t.s.server.routeRoles.filter((r) => r.role !== 'public' && r.url.startsWith('/admin') && r.url !== '/admin/logout');
    assert.ok(pages.length >= 8, `${pages.length} pages`);
    // One after another: each login moves the shared clock a step on, so members made at once would
    // compute their codes for a step the server has already left.
    const members = {} as Record<StaffRole, Client>;
    for (const role of STAFF_ROLES) members[role] = (await staffMember(role)).client;
    for (const route of pages) {
      const path = route.url.replace(/:id/g, 'nope_0');
      for (const role of STAFF_ROLES) {
        const c = members[role];
        const res = await fetch(t.s.baseUrl + path, {
          method: route.method,
          headers: { cookie: c.cookie, ...(route.method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
          body: route.method === 'POST' ? new URLSearchParams({ _csrf: c.csrfToken, reason: 'prova dei ruoli' }) : undefined,
          redirect: 'manual',
        });
        if (roleCovers(role, route.role as StaffRole)) assert.ok(![401, 403].includes(res.status) && res.headers.get('location') !== '/admin/login', `${role} ${route.method} ${route.url}: ${res.status}`);
        else assert.equal(res.status, 403, `${role} ${route.method} ${route.url}`);
      }
    }
    const admin = (await staffMember('admin')).client;
    const forged = await fetch(`${t.s.baseUrl}/admin/customers/nope_0/two-step/reset`, {
      method: 'POST',
      headers: { cookie: admin.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: 'forged', reason: 'x' }),
      redirect: 'manual',
    });
    assert.equal(forged.status, 403);
  });

  test('search: address or its beginning, any part of the name without accents, codice fiscale, reference e-mail, invoice number', async () => {
    const h = await provisionHolder(t.op, { creditCents: 0 });
    const named = await t.op.post('/api/admin/customers', { name: 'Nicolò Àlberti S.r.l.', referenceEmail: 'Amministrazione@Alberti.example', taxCode: 'RSSMRA85T10A562S' });
    assert.equal(named.status, 201, JSON.stringify(named.body));
    const c = new Client(t.s.baseUrl, t.s.operatorToken);
    const find = async (q: string) => (await c.get(`/api/admin/search?q=${encodeURIComponent(q)}`)).body.results as { customerId: string; matched: string; mailboxes: string[] }[];
    const byAddress = await find(h.mailbox.address.slice(0, 8));
    assert.ok(byAddress.some((r) => r.customerId === h.customer.id && r.matched === 'address' && r.mailboxes.includes(h.mailbox.address)));
    assert.equal((await find(h.mailbox.address.toUpperCase()))[0]!.customerId, h.customer.id, 'the exact address first');
    assert.equal((await find('NICOLO alberti'))[0]?.customerId, named.body.customer.id);
    assert.equal((await find('lbert'))[0]?.matched, 'name');
    assert.equal((await find('rssmra85t10a562s'))[0]?.customerId, named.body.customer.id);
    assert.equal((await find('amministrazione@alberti.example'))[0]?.matched, 'referenceEmail');
    assert.deepEqual(await find('%'), [], 'LIKE wildcards match only themselves');
    // An invoice number, as printed or shortened.
    const holder = new Client(t.s.baseUrl);
    await holder.login(h.mailbox.address, h.password);
    const topup = (await holder.post('/api/credit/topups', { amountCents: 1000 })).body.topup;
    assert.equal((await payByCard(topup.checkoutUrl)).status, 303);
    const invoice = (await holder.get('/api/invoices')).body.invoices[0];
    const [year, sequence] = invoice.number.split('/');
    assert.equal((await find(invoice.number))[0]?.customerId, h.customer.id);
    assert.equal((await find(`${year}/${Number(sequence)}`))[0]?.matched, 'invoice');
    assert.equal((await c.get('/api/admin/search?q=')).status, 422);
  });

  test('the holder\'s record: statement paged, orders, payments, invoices, e-mails, access, audit', async () => {
    const h = await provisionHolder(t.op, { creditCents: 2000 });
    await t.op.post(`/api/admin/customers/${h.customer.id}/credit-adjustments`, { amountCents: 500, reason: 'buona volontà' });
    const c = new Client(t.s.baseUrl, t.s.operatorToken);
    const first = await c.get(`/api/admin/customers/${h.customer.id}/statement?limit=1`);
    assert.equal(first.body.transactions.length, 1);
    assert.equal(first.body.transactions[0].amountCents, 500);
    const second = await c.get(`/api/admin/customers/${h.customer.id}/statement?limit=1&before=${first.body.nextBefore}`);
    assert.equal(second.body.transactions[0].amountCents, 2000);
    assert.equal(second.body.nextBefore, null);
    for (const part of ['orders', 'topups', 'invoices', 'emails', 'access', 'audit']) {
      assert.equal((await c.get(`/api/admin/customers/${h.customer.id}/${part}`)).status, 200, part);
      assert.equal((await c.get(`/api/admin/customers/cus_nope/${part}`)).status, 404, part);
    }
    const audit = (await c.get(`/api/admin/customers/${h.customer.id}/audit`)).body.entries;
    assert.deepEqual(audit.map((e: { action: string }) => e.action).slice(0, 2), ['credit.adjust', 'billing_profile.save']);
    assert.equal(audit[0].reason, 'buona volontà');
    assert.deepEqual(audit[0].actor, { kind: 'token', id: audit[0].actor.id, name: 'test operator' });
  });

  test('the audit trail is append-only in the database, and staff actions name who did them', async () => {
    const { client, member } = await staffMember('admin');
    const created = await client.post('/api/admin/staff', { email: 'contabile@provider.test', name: 'Contabile', role: 'billing', reason: 'nuova assunzione' });
    assert.equal(created.status, 201);
    assert.match(created.body.setupUrl, /\/admin\/setup\//);
    assert.equal((await client.patch(`/api/admin/staff/${created.body.staff.id}`, { role: 'admin' })).body.error.code, 'reason_required');
    const entries = (await client.get(`/api/admin/audit?staffId=${member.id}`)).body.entries;
    assert.equal(entries[0].action, 'staff.create');
    assert.deepEqual(entries[0].actor, { kind: 'staff', id: member.id, name: member.name });
    assert.equal(entries[0].reason, 'nuova assunzione');
    await assert.rejects(t.s.app.db.query('UPDATE audit_log SET reason = $1', ['riscritto']), /append-only/);
    await assert.rejects(t.s.app.db.query('DELETE FROM audit_log'), /append-only/);
    const csv = await client.get(`/api/admin/audit/export?staffId=${member.id}`);
    assert.match(csv.headers.get('content-type') ?? '', /text\/csv/);
    assert.match(String(csv.body), /staff\.create/);
    assert.equal((await client.get('/api/admin/audit?from=0000-01-01')).status, 422);
  });

  test('support actions: a reset link to the reference e-mail, two-step reset, reference e-mail change, each with a reason and audited', async () => {
    const h = await provisionHolder(t.op, {});
    const { client } = await staffMember('support');
    const path = `/api/admin/customers/${h.customer.id}`;
    assert.equal((await client.post(`${path}/password-reset-link`, { mailboxId: h.mailbox.id })).body.error.code, 'reason_required');
    assert.equal((await client.post(`${path}/password-reset-link`, { mailboxId: h.mailbox.id, reason: '   ' })).body.error.code, 'reason_required');
    assert.equal((await client.post(`${path}/password-reset-link`, { mailboxId: h.mailbox.id, reason: 'ha telefonato, password persa' })).status, 202);
    const mails = (await client.get(`${path}/emails`)).body.emails;
    assert.equal(mails[0].to, h.customer.referenceEmail);
    assert.match(mails[0].subject, /^Reimposta la password/);
    assert.equal(mails[0].status, 'queued');
    // Two-step verification reset: the holder's sessions end.
    const holder = new Client(t.s.baseUrl);
    await holder.login(h.mailbox.address, h.password);
    assert.equal((await client.post(`${path}/two-step/reset`, { reason: 'telefono perso' })).status, 204);
    assert.equal((await holder.get('/api/me')).status, 401);
    assert.equal((await client.get(`${path}/access`)).body.twoStep.enabled, false);
    // Reference e-mail: checked like the holder's own form, applied at once, the old address told.
    assert.equal((await client.put(`${path}/reference-email`, { referenceEmail: 'not an address', reason: 'richiesta' })).status, 422);
    const changed = await client.put(`${path}/reference-email`, { referenceEmail: 'nuova@example.com', reason: 'richiesta del titolare' });
    assert.equal(changed.body.customer.referenceEmail, 'nuova@example.com');
    assert.equal((await client.get(`${path}/emails`)).body.emails[0].to, h.customer.referenceEmail);
    const actions = (await client.get(`${path}/audit`)).body.entries.map((e: { action: string }) => e.action);
    assert.deepEqual(actions.slice(0, 3), ['customer.reference_email', 'customer.two_step_reset', 'mailbox.password_reset_link']);
    // Money is above support.
    assert.equal((await client.post(`${path}/credit-adjustments`, { amountCents: 100, reason: 'x' })).body.error.code, 'forbidden');
  });

  test('provisioning: a holder with its mailboxes in one call, all or nothing, each audited with the reason', async () => {
    const { client } = await staffMember('admin');
    const mailbox = (address: string) => ({ address, password: 'Ufficio-Ferri-2027', type: 'standard', expiresOn: '2027-06-01' });
    const made = await client.post('/api/admin/customers', {
      name: 'Studio Ferri', referenceEmail: 'ferri@example.com', taxCode: 'RSSMRA85T10A562S', reason: 'contratto firmato',
      mailboxes: [mailbox(`ferri.${process.pid}@pec.casella.test`), mailbox(`segreteria.ferri.${process.pid}@pec.casella.test`)],
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal(made.body.mailboxes.length, 2);
    const trail = (await client.get(`/api/admin/customers/${made.body.customer.id}/audit`)).body.entries;
    assert.deepEqual(trail.map((e: { action: string; reason: string }) => [e.action, e.reason]), [['mailbox.create', 'contratto firmato'], ['mailbox.create', 'contratto firmato'], ['customer.create', 'contratto firmato']]);
    // The second mailbox's address is taken: nothing is created, and the field says which mailbox.
    const refused = await client.post('/api/admin/customers', {
      name: 'Studio Ferri Due', referenceEmail: `ferri2.${process.pid}@example.com`, reason: 'prova',
      mailboxes: [mailbox(`nuova.${process.pid}@pec.casella.test`), mailbox(`ferri.${process.pid}@pec.casella.test`)],
    });
    assert.equal(refused.status, 422);
    assert.equal(refused.body.error.fields['mailboxes.1.address'], 'is already taken');
    assert.deepEqual((await client.get(`/api/admin/search?q=${encodeURIComponent(`ferri2.${process.pid}@example.com`)}`)).body.results, [], 'no holder left behind');
    const weak = await client.post('/api/admin/customers', { name: 'X', referenceEmail: 'x@example.com', reason: 'prova', mailboxes: [{ ...mailbox(`x.${process.pid}@pec.casella.test`), password: 'password' }] });
    assert.ok(weak.body.error.fields['mailboxes.0.password'], JSON.stringify(weak.body));
  });

  test('R17: billing staff record a withdrawal the holder sent in writing, with the same rules and their reason', async () => {
    const h = await provisionHolder(t.op, {});
    const holder = new Client(t.s.baseUrl);
    await holder.login(h.mailbox.address, h.password);
    const topup = (await holder.post('/api/credit/topups', { amountCents: 1000 })).body.topup;
    assert.equal((await payByCard(topup.checkoutUrl)).status, 303);
    const { client } = await staffMember('billing');
    const support = (await staffMember('support')).client;
    assert.equal((await support.post(`/api/admin/topups/${topup.id}/withdrawal`, { reason: 'x' })).body.error.code, 'forbidden');
    assert.equal((await client.post(`/api/admin/topups/${topup.id}/withdrawal`, {})).body.error.code, 'reason_required');
    const made = await client.post(`/api/admin/topups/${topup.id}/withdrawal`, { reason: 'recesso via PEC del 10 giugno' });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.deepEqual([made.body.refund.kind, made.body.refund.amountCents, made.body.refund.status], ['withdrawal', 1000, 'succeeded']);
    assert.equal((await client.post(`/api/admin/topups/${topup.id}/withdrawal`, { reason: 'di nuovo' })).body.error.code, 'withdrawal_not_allowed');
    const entry = (await client.get(`/api/admin/customers/${h.customer.id}/audit`)).body.entries[0];
    assert.deepEqual([entry.action, entry.reason, entry.actor.kind], ['refund.withdrawal', 'recesso via PEC del 10 giugno', 'staff']);
    // An SdI outcome recorded by hand says why too.
    const invoice = (await holder.get('/api/invoices')).body.invoices[0];
    assert.equal((await client.post(`/api/admin/invoices/${invoice.id}/outcome`, { status: 'delivered' })).body.error.code, 'reason_required');
  });

  test('console forms over plain HTTP: a wrong input is answered on the form with the field marked, and nothing changes', async () => {
    const h = await provisionHolder(t.op, { creditCents: 1000 });
    const { client } = await staffMember('admin');
    const post = (path: string, fields: Record<string, string>) =>
      fetch(t.s.baseUrl + path, { method: 'POST', headers: { cookie: client.cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: client.csrfToken, ...fields }), redirect: 'manual' });
    const noReason = await post(`/admin/customers/${h.customer.id}/credit-adjustments`, { amount: '5' });
    assert.equal(noReason.status, 422);
    const page = await noReason.text();
    assert.match(page, /role="alert"[\s\S]*Motivo: è obbligatorio/);
    assert.match(page, /id="adjust-reason"[^>]*aria-invalid="true"/);
    const tooMuch = await post(`/admin/customers/${h.customer.id}/credit-adjustments`, { amount: '-20', reason: 'storno' });
    assert.equal(tooMuch.status, 422);
    assert.match(await tooMuch.text(), /porterebbe il credito sotto zero \(credito: 10,00 €\)/);
    const extend = await post(`/admin/mailboxes/${h.mailbox.id}/extend`, { expiresOn: '2040-01-01', reason: 'cortesia' });
    assert.equal(extend.status, 422);
    assert.match(await extend.text(), /Nuova scadenza: può essere al massimo tra 5 anni/);
    const suspendTwice = await post(`/admin/mailboxes/${h.mailbox.id}/reactivate`, { reason: 'prova' });
    assert.equal(suspendTwice.status, 409);
    assert.match(await suspendTwice.text(), /si riattiva solo una casella sospesa/);
    const after = (await t.op.get(`/api/admin/customers/${h.customer.id}`)).body;
    assert.deepEqual([after.credit.balanceCents, after.mailboxes[0].status, after.mailboxes[0].expiresOn], [1000, 'active', h.mailbox.expiresOn]);
    const done = await post(`/admin/mailboxes/${h.mailbox.id}/suspend`, { reason: 'ordine del giudice' });
    assert.deepEqual([done.status, done.headers.get('location')], [303, `/admin/mailboxes/${h.mailbox.id}?done=suspend`]);
    assert.equal((await t.op.get(`/api/admin/customers/${h.customer.id}`)).body.mailboxes[0].status, 'suspended');
  });

  test('overview: backlogs, liability, the next 30 days of renewals and what they lack', async () => {
    const before = (await t.op.get('/api/admin/overview')).body;
    const today = before.today as string;
    const due = new Date(`${today}T12:00:00Z`);
    due.setUTCDate(due.getUTCDate() + 10);
    await provisionHolder(t.op, { creditCents: 200, expiresOn: due.toISOString().slice(0, 10), type: 'standard' });
    const after = (await t.op.get('/api/admin/overview')).body;
    assert.equal(after.creditLiabilityCents - before.creditLiabilityCents, 200);
    assert.equal(after.renewalsNext30Days.count - before.renewalsNext30Days.count, 1);
    assert.equal(after.renewalsNext30Days.amountCents - before.renewalsNext30Days.amountCents, 500);
    assert.equal(after.renewalsNext30Days.shortfallCents - before.renewalsNext30Days.shortfallCents, 300);
    await t.op.post('/api/admin/jobs/daily');
    const ran = (await t.op.get('/api/admin/overview')).body;
    assert.ok(ran.dailyJob.lastRunAt);
    assert.equal(typeof ran.dailyJob.summary.mailboxesRenewed, 'number');
  });
});
