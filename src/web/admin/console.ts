// R19: the staff console at /admin — its own pages and routes, with the holder pages' kit (frame,
// escaping, stylesheet, checks). Each route declares its role once (`config.role`); a page above the
// staff member's role answers 403, a visitor without a console session goes to /admin/login, and
// every form post carries the session's CSRF token. Every action is a form with a `Motivo` field.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../../app.ts';
import { clock } from '../../clock.ts';
import { dateInRome } from '../../domain/calendar.ts';
import { roleCovers, type StaffRole } from '../../domain/staff-role.ts';
import { longDate, money, isLocale, type Locale } from '../../i18n/format.ts';
import { staffOf, type OperatorAuth } from '../../http/auth.ts';
import { LANG_COOKIE, STAFF_COOKIE, staffCookieOptions } from '../../http/cookies.ts';
import { fromAnotherSite } from '../../http/same-origin.ts';
import { DomainError } from '../../services/errors.ts';
import { adjustCredit } from '../../services/credit.ts';
import { readBillingProfile } from '../../services/billing-profiles.ts';
import { listInvoices } from '../../services/invoices.ts';
import { readOrders } from '../../services/orders.ts';
import { completeSetup, createStaff, endStaffSession, listStaff, setupOffer, staffLogin, updateStaff } from '../../services/staff/accounts.ts';
import { accessOf, emailsOf, holderSummary, statementPage, topupsOf } from '../../services/staff/holder-record.ts';
import { readOverview } from '../../services/staff/overview.ts';
import { searchHolders } from '../../services/staff/search.ts';
import { changeReferenceEmailByStaff, resetTwoStep, sendPasswordResetLink } from '../../services/staff/support-actions.ts';
import { readAudit, type Actor } from '../../services/audit.ts';
import { requireReason } from '../../services/errors.ts';
import { describeTransaction } from '../../i18n/ledger-text.ts';
import { isStaffRole, STAFF_ROLES } from '../../domain/staff-role.ts';
import { parseEuros, safeNext } from '../forms.ts';
import { html, raw, type Html } from '../html.ts';
import { page } from '../layout.ts';
import { HTML_TYPE, formOf, queryOf, text } from '../kit.ts';
import { say, type ConsoleKey } from './texts.ts';

type Form = Record<string, unknown>;
interface Staff {
  who: OperatorAuth;
  L: Locale;
}

const DONE = ['adjusted', 'resetLink', 'twoStep', 'email', 'staffUpdated'] as const;

export async function consoleRoutes(server: FastifyInstance, opts: { app: App }): Promise<void> {
  const { app } = opts;
  const ctx = app.ctx;
  const localeOf = (req: FastifyRequest): Locale => (isLocale(req.cookies[LANG_COOKIE]) ? (req.cookies[LANG_COOKIE] as Locale) : 'it');
  const staffOfReq = new WeakMap<FastifyRequest, OperatorAuth>();

  // Who may see each page: the role declared on the route; then, for a form post, its CSRF token.
  server.addHook('onRequest', async (req, reply) => {
    const needs = req.routeOptions.config.role;
    if (!needs || needs === 'public') return;
    const who = await staffOf(app, req);
    if (!who) {
      if (req.cookies[STAFF_COOKIE]) reply.clearCookie(STAFF_COOKIE, { path: '/' });
      return reply.redirect(`/admin/login?next=${encodeURIComponent(safeNext(req.method === 'GET' ? req.url : '/admin'))}`, 303);
    }
    if (!roleCovers(who.role, needs)) {
      const L = localeOf(req);
      return sendPage(reply, 403, { who, L }, req, say(L, 'forbiddenTitle'), html`<h1>${say(L, 'forbiddenTitle')}</h1><p>${say(L, 'forbiddenBody', { role: say(L, `role_${needs}`), have: say(L, `role_${who.role}`) })}</p>`);
    }
    staffOfReq.set(req, who);
  });
  server.addHook('preHandler', async (req, reply) => {
    const who = staffOfReq.get(req);
    if (!who || req.method !== 'POST') return;
    if (text(formOf(req), '_csrf') !== who.csrfToken) {
      const L = localeOf(req);
      return sendPage(reply, 403, { who, L }, req, say(L, 'forbiddenTitle'), html`<h1>${say(L, 'forbiddenTitle')}</h1>`);
    }
  });
  const staff = (req: FastifyRequest): Staff => ({ who: staffOfReq.get(req)!, L: localeOf(req) });

  function nav(s: Staff | null, L: Locale, req: FastifyRequest): Html {
    if (!s) return html``;
    const q = text(queryOf(req), 'q');
    const link = (href: string, key: ConsoleKey) => html`<li><a href="${href}"${req.url.split('?')[0] === href ? raw(' aria-current="page"') : ''}>${say(L, key)}</a></li>`;
    return html`<nav class="wrap" aria-label="${say(L, 'consoleName')}"><ul class="nav">
${link('/admin', 'navOverview')}${roleCovers(s.who.role, 'admin') ? link('/admin/staff', 'navStaff') : ''}
<li class="nav-end"><form method="post" action="/admin/logout" class="inline"><input type="hidden" name="_csrf" value="${s.who.csrfToken ?? ''}"><button type="submit" class="linklike">${say(L, 'logout')} (${s.who.name})</button></form></li>
</ul>
<form method="get" action="/admin/search" class="search-form" role="search"><label for="q">${say(L, 'searchLabel')}</label><div class="search-row"><input type="search" id="q" name="q" value="${q}" maxlength="200" aria-describedby="q-hint" required><button type="submit">${say(L, 'searchButton')}</button></div><p id="q-hint" class="small search-hint">${say(L, 'searchHint')}</p></form>
</nav>`;
  }

  function sendPage(reply: FastifyReply, status: number, s: Staff | null, req: FastifyRequest, title: string, body: Html) {
    const L = s?.L ?? localeOf(req);
    const other: Locale = L === 'it' ? 'en' : 'it';
    const next = safeNext(req.method === 'GET' ? req.url : '/admin');
    return reply
      .code(status)
      .type(HTML_TYPE)
      .send(
        page({
          lang: L,
          title: `${title} — ${say(L, 'consoleName')}`,
          nav: nav(s, L, req),
          body,
          langSwitch: { label: other === 'en' ? 'English' : 'Italiano', lang: other, href: `/lang/${other}?next=${encodeURIComponent(next)}`, next },
          brand: app.config.brand,
        }),
      );
  }

  const csrf = (s: Staff) => html`<input type="hidden" name="_csrf" value="${s.who.csrfToken ?? ''}">`;
  const reasonField = (L: Locale, id: string) =>
    html`<div class="field"><label for="${id}">${say(L, 'reason')}</label><input type="text" id="${id}" name="reason" maxlength="500" required aria-describedby="${id}-hint"><p id="${id}-hint" class="small muted">${say(L, 'reasonHint')}</p></div>`;
  const when = (d: Date | string, L: Locale) => longDate(dateInRome(new Date(d).getTime()), L);
  const errorSummary = (L: Locale, err: unknown): Html => {
    if (!(err instanceof DomainError)) throw err;
    const fields = Object.entries(err.fields ?? {}).map(([k, v]) => `${k}: ${v}`).join('; ');
    return html`<p class="error" role="alert">${fields ? say(L, 'formErrors', { fields }) : err.message}</p>`;
  };
  const actor = (s: Staff): Actor => ({ kind: s.who.kind, id: s.who.id });

  // ---- Login and setup (public) ----
  const loginForm = (L: Locale, req: FastifyRequest, error: Html | null = null, email = '') => html`<div class="card narrow"><h1>${say(L, 'loginTitle')}</h1><p>${say(L, 'loginIntro')}</p>${error ?? ''}
<form method="post" action="/admin/login" novalidate>
<input type="hidden" name="next" value="${safeNext(text(queryOf(req), 'next') || '/admin')}">
<div class="field"><label for="email">${say(L, 'email')}</label><input type="email" id="email" name="email" value="${email}" autocomplete="username" required></div>
<div class="field"><label for="password">${say(L, 'password')}</label><input type="password" id="password" name="password" autocomplete="current-password" required></div>
<div class="field"><label for="totpCode">${say(L, 'totpCode')}</label><input type="text" id="totpCode" name="totpCode" inputmode="numeric" autocomplete="one-time-code" maxlength="64" required></div>
<button type="submit" class="primary">${say(L, 'loginButton')}</button>
</form></div>`;
  server.get('/admin/login', { config: { role: 'public' }, schema: { hide: true } }, async (req, reply) => {
    const L = localeOf(req);
    const note = text(queryOf(req), 'done') === 'setup' ? html`<p class="notice" role="status">${say(L, 'setupDone')}</p>` : html``;
    return sendPage(reply, 200, null, req, say(L, 'loginTitle'), html`${note}${loginForm(L, req)}`);
  });
  server.post('/admin/login', { config: { role: 'public' }, schema: { hide: true } }, async (req, reply) => {
    const L = localeOf(req);
    const f = formOf(req);
    const email = text(f, 'email').slice(0, 254);
    const fail = (status: number, message: string) => sendPage(reply, status, null, req, say(L, 'loginTitle'), loginForm(L, req, html`<p class="error" role="alert">${message}</p>`, email));
    if (fromAnotherSite(req, ctx.publicUrl)) return fail(403, say(L, 'loginFailed'));
    if (!email || !text(f, 'password') || !text(f, 'totpCode')) return fail(422, say(L, 'loginMissing'));
    try {
      const opened = await staffLogin(app.db, { email, password: text(f, 'password').slice(0, 200), totpCode: text(f, 'totpCode').slice(0, 64) }, req.ip);
      reply.setCookie(STAFF_COOKIE, opened.token, staffCookieOptions(ctx.publicUrl));
      const next = safeNext(text(f, 'next'));
      return reply.redirect(next.startsWith('/admin') ? next : '/admin', 303);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      if (err.code === 'rate_limited') return fail(429, say(L, 'loginRateLimited', { minutes: Math.ceil((err.retryAfterSeconds ?? 60) / 60) }));
      return fail(401, say(L, 'loginFailed'));
    }
  });
  server.post('/admin/logout', { config: { role: 'support' }, schema: { hide: true } }, async (req, reply) => {
    const token = req.cookies[STAFF_COOKIE];
    if (token) await endStaffSession(app.db, token);
    reply.clearCookie(STAFF_COOKIE, { path: '/' });
    return reply.redirect('/admin/login', 303);
  });

  const setupPage = async (req: FastifyRequest, reply: FastifyReply, status: number, error: Html | null) => {
    const L = localeOf(req);
    const token = (req.params as { token: string }).token;
    let offer;
    try {
      offer = await setupOffer(app.db, token);
    } catch {
      return sendPage(reply, 404, null, req, say(L, 'setupTitle'), html`<div class="card narrow"><h1>${say(L, 'setupTitle')}</h1><p>${say(L, 'setupGone')}</p></div>`);
    }
    return sendPage(reply, status, null, req, say(L, 'setupTitle'), html`<div class="card narrow"><h1>${say(L, 'setupTitle')}</h1>
<p>${say(L, 'setupIntro', { name: offer.name, email: offer.email })}</p>${error ?? ''}
<p>${say(L, 'setupQr')}</p><img class="qr" src="${offer.qrDataUrl}" alt="${say(L, 'setupQrAlt')}" width="220" height="220"><p><code class="secret">${offer.secret.match(/.{1,4}/g)!.join(' ')}</code></p>
<form method="post" action="/admin/setup/${token}" novalidate>
<div class="field"><label for="password">${say(L, 'newPassword')}</label><input type="password" id="password" name="password" autocomplete="new-password" required aria-describedby="password-rule"><p id="password-rule" class="small muted">${say(L, 'passwordRule')}</p></div>
<div class="field"><label for="totpCode">${say(L, 'totpCode')}</label><input type="text" id="totpCode" name="totpCode" inputmode="numeric" autocomplete="one-time-code" maxlength="64" required></div>
<button type="submit" class="primary">${say(L, 'setupButton')}</button></form></div>`);
  };
  server.get('/admin/setup/:token', { config: { role: 'public' }, schema: { hide: true } }, (req, reply) => setupPage(req, reply, 200, null));
  server.post('/admin/setup/:token', { config: { role: 'public' }, schema: { hide: true } }, async (req, reply) => {
    const L = localeOf(req);
    const f = formOf(req);
    try {
      await completeSetup(app.db, (req.params as { token: string }).token, text(f, 'password').slice(0, 200), text(f, 'totpCode').slice(0, 64));
      return reply.redirect('/admin/login?done=setup', 303);
    } catch (err) {
      if (err instanceof DomainError && err.code === 'not_found') return setupPage(req, reply, 404, null);
      return setupPage(req, reply, 422, errorSummary(L, err));
    }
  });

  // ---- Overview and search (support) ----
  server.get('/admin', { config: { role: 'support' }, schema: { hide: true } }, async (req, reply) => {
    const s = staff(req);
    const L = s.L;
    const o = await readOverview(app.db, ctx.catalogue, clock.today());
    const fact = (label: string, value: string) => html`<div><dt>${label}</dt><dd>${value}</dd></div>`;
    const job = o.dailyJob.summary
      ? html`<p>${say(L, 'dailyLastRun', { when: when(o.dailyJob.lastRunAt!, L) })}: ${say(L, 'dailyRenewed', { mailboxes: o.dailyJob.summary.mailboxesRenewed, expired: o.dailyJob.summary.mailboxesExpired, alerts: o.dailyJob.summary.alertsQueued })}</p>
<p>${say(L, 'dailyCardCharges', { attempted: o.dailyJob.summary.cardChargesAttempted, succeeded: o.dailyJob.summary.cardChargesSucceeded, failed: o.dailyJob.summary.cardChargesFailed, authentication: o.dailyJob.summary.cardChargesAuthenticationRequired })}</p>`
      : html`<p>${say(L, 'dailyNever')}</p>`;
    return sendPage(reply, 200, s, req, say(L, 'overviewTitle'), html`<h1>${say(L, 'overviewTitle')}</h1>
<section class="card" aria-labelledby="h-job"><h2 id="h-job">${say(L, 'dailyJob')}</h2>${job}</section>
<section class="card" aria-labelledby="h-q"><h2 id="h-q">${say(L, 'backlogs')}</h2><dl class="facts">${fact(say(L, 'outboxPending'), String(o.outboxPending))}${fact(say(L, 'outboxFailed'), String(o.outboxFailed))}${fact(say(L, 'invoicesRejected'), String(o.invoicesRejected))}</dl></section>
<section class="card" aria-labelledby="h-m"><h2 id="h-m">${say(L, 'money')}</h2><dl class="facts">${fact(say(L, 'liability'), money(o.creditLiabilityCents, L))}${fact(say(L, 'renewals30'), say(L, 'renewals30Value', { count: o.renewalsNext30Days.count, amount: money(o.renewalsNext30Days.amountCents, L), shortfall: money(o.renewalsNext30Days.shortfallCents, L) }))}${fact(say(L, 'vatMonth'), money(o.vatThisMonthCents, L))}</dl></section>`);
  });

  server.get('/admin/search', { config: { role: 'support' }, schema: { hide: true } }, async (req, reply) => {
    const s = staff(req);
    const L = s.L;
    const q = text(queryOf(req), 'q').slice(0, 200);
    if (!q.trim()) return reply.redirect('/admin', 303);
    const results = await searchHolders(app.db, q);
    const rows = results.map(
      (r) => html`<tr><td data-label="${say(L, 'colHolder')}"><div><a href="/admin/customers/${r.customerId}">${r.name}</a><br><span class="small muted addr">${r.referenceEmail}</span></div></td>
<td data-label="${say(L, 'colMailboxes')}" class="addr"><div>${r.mailboxes.map((m, i) => html`${i ? html`<br>` : ''}${m}`)}</div></td>
<td data-label="${say(L, 'colTaxCode')}">${[r.taxCode, r.vatNumber].filter(Boolean).join(' / ')}</td>
<td data-label="${say(L, 'colMatched')}">${say(L, `matched_${r.matched}`)}</td></tr>`,
    );
    return sendPage(reply, 200, s, req, say(L, 'resultsTitle', { q }), html`<h1>${say(L, 'resultsTitle', { q })}</h1>
${results.length ? html`<div class="table-wrap"><table class="stack"><thead><tr><th scope="col">${say(L, 'colHolder')}</th><th scope="col">${say(L, 'colMailboxes')}</th><th scope="col">${say(L, 'colTaxCode')}</th><th scope="col">${say(L, 'colMatched')}</th></tr></thead><tbody>${rows}</tbody></table></div>` : html`<p>${say(L, 'noResults')}</p>`}`);
  });

  // ---- The holder's page (support reads; actions by role) ----
  const holderPage = async (req: FastifyRequest, reply: FastifyReply, status = 200, formError: Html | null = null) => {
    const s = staff(req);
    const L = s.L;
    const id = (req.params as { id: string }).id;
    let summary;
    try {
      summary = await holderSummary(ctx, id);
    } catch {
      return sendPage(reply, 404, s, req, say(L, 'notFoundTitle'), html`<h1>${say(L, 'notFoundTitle')}</h1><p>${say(L, 'notFoundBody')}</p>`);
    }
    const { customer, balanceCents, mailboxes } = summary;
    const before = text(queryOf(req), 'before');
    const [billing, statement, orders, topups, invoices, emails, access, trail] = await Promise.all([
      readBillingProfile(app.db, id),
      statementPage(app.db, id, /^\d{1,15}$/.test(before) ? Number(before) : null, 50),
      readOrders(ctx, id, 50),
      topupsOf(app.db, id, 50),
      listInvoices(app.db, id),
      emailsOf(app.db, id, 50),
      accessOf(app.db, id),
      readAudit(app.db, { customerId: id, limit: 50 }),
    ]);
    const done = text(queryOf(req), 'done');
    const notice = (DONE as readonly string[]).includes(done) ? html`<p class="notice" role="status">${say(L, `done_${done as (typeof DONE)[number]}`)}</p>` : html``;
    const th = (...keys: ConsoleKey[]) => html`<thead><tr>${keys.map((k) => html`<th scope="col">${say(L, k)}</th>`)}</tr></thead>`;
    const td = (key: ConsoleKey, v: Html | string, cls = '') => html`<td data-label="${say(L, key)}"${cls ? raw(` class="${cls}"`) : ''}>${v}</td>`;
    const table = (head: Html, rows: Html[]) => (rows.length ? html`<div class="table-wrap"><table class="stack">${head}<tbody>${rows}</tbody></table></div>` : html`<p>${say(L, 'none')}</p>`);
    const section = (hid: string, key: ConsoleKey, body: Html) => html`<section class="card" aria-labelledby="${hid}"><h2 id="${hid}">${say(L, key)}</h2>${body}</section>`;
    const bp = billing?.profile as Record<string, unknown> | undefined;
    const fact = (label: string, value: Html | string | null | undefined) => (value ? html`<div><dt>${label}</dt><dd>${value}</dd></div>` : '');
    const can = (role: StaffRole) => roleCovers(s.who.role, role);

    const actions: Html[] = [];
    if (can('billing')) {
      actions.push(html`<form method="post" action="/admin/customers/${id}/credit-adjustments" class="card"><h3>${say(L, 'adjustTitle')}</h3>${csrf(s)}
<div class="field"><label for="adj-amount">${say(L, 'adjustAmount')}</label><input type="text" id="adj-amount" name="amount" inputmode="decimal" required></div>${reasonField(L, 'adj-reason')}<button type="submit">${say(L, 'adjustButton')}</button></form>`);
    }
    const loginBoxes = mailboxes.filter((m) => m.status !== 'terminated');
    if (loginBoxes.length) {
      actions.push(html`<form method="post" action="/admin/customers/${id}/password-reset-link" class="card"><h3>${say(L, 'resetLinkTitle')}</h3>${csrf(s)}
<div class="field"><label for="rl-mailbox">${say(L, 'resetLinkMailbox')}</label><select id="rl-mailbox" name="mailboxId">${loginBoxes.map((m) => html`<option value="${m.id}">${m.address}</option>`)}</select></div>${reasonField(L, 'rl-reason')}<button type="submit">${say(L, 'resetLinkButton')}</button></form>`);
    }
    if (access.twoStep.enabled) {
      actions.push(html`<form method="post" action="/admin/customers/${id}/two-step/reset" class="card"><h3>${say(L, 'twoStepResetTitle')}</h3><p>${say(L, 'twoStepResetIntro')}</p>${csrf(s)}${reasonField(L, 'ts-reason')}<button type="submit">${say(L, 'twoStepResetButton')}</button></form>`);
    }
    actions.push(html`<form method="post" action="/admin/customers/${id}/reference-email" class="card"><h3>${say(L, 'emailTitle')}</h3>${csrf(s)}
<div class="field"><label for="re-email">${say(L, 'emailNew')}</label><input type="email" id="re-email" name="referenceEmail" maxlength="254" required></div>${reasonField(L, 're-reason')}<button type="submit">${say(L, 'emailButton')}</button></form>`);

    return sendPage(reply, status, s, req, customer.name, html`<h1>${say(L, 'holderTitle', { name: customer.name })}</h1>${notice}${formError ?? ''}
${section('h-reg', 'registry', html`<dl class="facts">${fact(say(L, 'referenceEmail'), html`<span class="addr">${customer.reference_email}</span>`)}${fact(say(L, 'taxCode'), customer.tax_code)}${fact(say(L, 'locale'), customer.locale)}</dl>
<h3>${say(L, 'billing')}</h3>${bp ? html`<dl class="facts">${fact(say(L, 'name'), String(bp.companyName ?? `${bp.givenName ?? ''} ${bp.familyName ?? ''}`).trim())}${fact(say(L, 'taxCode'), bp.taxCode as string)}${fact(say(L, 'vatNumber'), bp.vatNumber as string)}${fact(say(L, 'sdi'), [bp.sdiCode, bp.sdiPec].filter(Boolean).join(' / '))}</dl>` : html`<p>${say(L, 'noBilling')}</p>`}
<h3>${say(L, 'access')}</h3><p>${access.twoStep.enabled ? say(L, 'twoStepOn', { left: access.twoStep.recoveryCodesLeft }) : say(L, 'twoStepOff')} ${say(L, 'sessionsOpen', { count: access.sessions.length })}</p>`)}
${section('h-boxes', 'sectionMailboxes', table(th('colAddress', 'colStatus', 'colType', 'colExpiry'), mailboxes.map((m) => html`<tr>${td('colAddress', html`<span class="addr">${m.address}</span>`)}${td('colStatus', say(L, `status_${m.status}` as ConsoleKey))}${td('colType', m.type)}${td('colExpiry', longDate(dateInRome(Date.parse(`${m.expires_on}T12:00:00Z`)), L))}</tr>`)))}
${section('h-credit', 'sectionCredit', html`<p class="big">${say(L, 'balance', { amount: money(balanceCents, L) })}</p>${table(th('colWhen', 'colDescription', 'colAmount', 'colBalance'), statement.transactions.map((t) => html`<tr>${td('colWhen', when(t.created_at, L))}${td('colDescription', describeTransaction(t, L))}${td('colAmount', money(t.wallet_amount_cents, L), 'num')}${td('colBalance', money(t.balance_after_cents, L), 'num')}</tr>`))}${statement.nextBefore !== null ? html`<p><a href="/admin/customers/${id}?before=${statement.nextBefore}#h-credit">${say(L, 'moreStatement')}</a></p>` : ''}`)}
${section('h-orders', 'sectionOrders', table(th('colWhen', 'colKind', 'colAmount', 'colStatus'), orders.map((o) => html`<tr>${td('colWhen', when(o.created_at, L))}${td('colKind', o.kind)}${td('colAmount', money(o.amount_cents, L), 'num')}${td('colStatus', o.status)}</tr>`)))}
${section('h-pay', 'sectionPayments', table(th('colWhen', 'colAmount', 'colKind', 'colStatus'), topups.map((t) => html`<tr>${td('colWhen', when(t.created_at, L))}${td('colAmount', money(t.charge_cents, L), 'num')}${td('colKind', t.gateway)}${td('colStatus', t.status)}</tr>`)))}
${section('h-inv', 'sectionInvoices', table(th('colNumber', 'colWhen', 'colAmount', 'colSdi'), invoices.map((i) => html`<tr>${td('colNumber', i.number)}${td('colWhen', longDate(dateInRome(Date.parse(`${i.issued_on}T12:00:00Z`)), L))}${td('colAmount', money(i.total_cents, L), 'num')}${td('colSdi', i.sdi_status)}</tr>`)))}
${section('h-mail', 'sectionEmails', table(th('colWhen', 'colTo', 'colSubject', 'colStatus', 'colAttempts'), emails.map((e) => html`<tr>${td('colWhen', when(e.at, L))}${td('colTo', html`<span class="addr">${e.to}</span>`)}${td('colSubject', e.subject)}${td('colStatus', e.status)}${td('colAttempts', String(e.attempts), 'num')}</tr>`)))}
${section('h-audit', 'sectionAudit', table(th('colWhen', 'colWho', 'colAction', 'colReason'), trail.map((e) => html`<tr>${td('colWhen', when(e.at, L))}${td('colWho', `${e.actor.name ?? e.actor.kind}`)}${td('colAction', e.action)}${td('colReason', e.reason ?? '')}</tr>`)))}
<section aria-labelledby="h-actions"><h2 id="h-actions">${say(L, 'actions')}</h2>${actions}</section>`);
  };
  server.get('/admin/customers/:id', { config: { role: 'support' }, schema: { hide: true } }, (req, reply) => holderPage(req, reply));

  /** A form action: run it, back to the holder's page with its notice, or the page again with the error. */
  const action = (done: (typeof DONE)[number], run: (s: Staff, id: string, f: Form, reason: string) => Promise<unknown>) => async (req: FastifyRequest, reply: FastifyReply) => {
    const s = staff(req);
    const id = (req.params as { id: string }).id;
    const f = formOf(req);
    try {
      await run(s, id, f, requireReason(text(f, 'reason')));
      return reply.redirect(`/admin/customers/${id}?done=${done}`, 303);
    } catch (err) {
      return holderPage(req, reply, err instanceof DomainError && err.code === 'not_found' ? 404 : 422, errorSummary(s.L, err));
    }
  };
  server.post('/admin/customers/:id/credit-adjustments', { config: { role: 'billing' }, schema: { hide: true } }, action('adjusted', async (s, id, f, reason) => {
    const raw = text(f, 'amount').trim();
    const negative = raw.startsWith('-');
    const amount = parseEuros(negative ? raw.slice(1) : raw, s.L);
    if (amount === null || amount === 0) throw new DomainError('validation_failed', 'amount', { amount: s.L === 'it' ? 'importo non valido' : 'not a valid amount' });
    await adjustCredit(ctx, actor(s), id, negative ? -amount : amount, reason);
  }));
  server.post('/admin/customers/:id/password-reset-link', { config: { role: 'support' }, schema: { hide: true } }, action('resetLink', (s, id, f, reason) => sendPasswordResetLink(ctx, actor(s), id, text(f, 'mailboxId').slice(0, 100), reason)));
  server.post('/admin/customers/:id/two-step/reset', { config: { role: 'support' }, schema: { hide: true } }, action('twoStep', (s, id, _f, reason) => resetTwoStep(ctx, actor(s), id, reason)));
  server.post('/admin/customers/:id/reference-email', { config: { role: 'support' }, schema: { hide: true } }, action('email', (s, id, f, reason) => changeReferenceEmailByStaff(ctx, actor(s), id, text(f, 'referenceEmail').slice(0, 254), reason)));

  // ---- Staff accounts (admin) ----
  const staffPage = async (req: FastifyRequest, reply: FastifyReply, status = 200, top: Html | null = null) => {
    const s = staff(req);
    const L = s.L;
    const members = await listStaff(app.db);
    const roleSelect = (id: string, current: string) => html`<select id="${id}" name="role">${STAFF_ROLES.map((r) => html`<option value="${r}"${r === current ? raw(' selected') : ''}>${say(L, `role_${r}`)}</option>`)}</select>`;
    const rows = members.map((m) => html`<tr><td data-label="${say(L, 'colName')}"><div>${m.name}<br><span class="small muted addr">${m.email}</span></div></td><td data-label="${say(L, 'colRole')}">${say(L, `role_${m.role}`)}</td>
<td data-label="${say(L, 'colState')}">${m.disabled ? say(L, 'stateDisabled') : m.enrolled ? say(L, 'stateActive') : say(L, 'statePending')}</td>
<td class="cell-action">${m.id === s.who.id ? '' : html`<form method="post" action="/admin/staff/${m.id}" class="inline">${csrf(s)}<label for="role-${m.id}">${say(L, 'changeRole')}</label>${roleSelect(`role-${m.id}`, m.role)}<label class="check-inline"><input type="checkbox" name="disabled" value="1"${m.disabled ? raw(' checked') : ''}> ${say(L, 'disable')}</label>${reasonField(L, `reason-${m.id}`)}<button type="submit">${say(L, 'saveButton')}</button></form>`}</td></tr>`);
    return sendPage(reply, status, s, req, say(L, 'staffTitle'), html`<h1>${say(L, 'staffTitle')}</h1>${top ?? ''}
<div class="table-wrap"><table class="stack"><thead><tr><th scope="col">${say(L, 'colName')}</th><th scope="col">${say(L, 'colRole')}</th><th scope="col">${say(L, 'colState')}</th><th scope="col">${say(L, 'actions')}</th></tr></thead><tbody>${rows}</tbody></table></div>
<form method="post" action="/admin/staff" class="card"><h2>${say(L, 'newStaffTitle')}</h2>${csrf(s)}
<div class="field"><label for="ns-email">${say(L, 'email')}</label><input type="email" id="ns-email" name="email" maxlength="254" required></div>
<div class="field"><label for="ns-name">${say(L, 'name')}</label><input type="text" id="ns-name" name="name" maxlength="200" required></div>
<div class="field"><label for="ns-role">${say(L, 'role')}</label>${roleSelect('ns-role', 'support')}</div>${reasonField(L, 'ns-reason')}
<button type="submit" class="primary">${say(L, 'createButton')}</button></form>`);
  };
  server.get('/admin/staff', { config: { role: 'admin' }, schema: { hide: true } }, (req, reply) => staffPage(req, reply, 200, text(queryOf(req), 'done') === 'staffUpdated' ? html`<p class="notice" role="status">${say(staff(req).L, 'done_staffUpdated')}</p>` : null));
  server.post('/admin/staff', { config: { role: 'admin' }, schema: { hide: true } }, async (req, reply) => {
    const s = staff(req);
    const f = formOf(req);
    try {
      const reason = requireReason(text(f, 'reason'));
      const { setupToken } = await createStaff(app.db, actor(s), { email: text(f, 'email'), name: text(f, 'name'), role: text(f, 'role'), reason });
      // The link is shown once, here: it is the new colleague's way in, to pass on in person.
      return staffPage(req, reply, 201, html`<p class="notice" role="status">${say(s.L, 'done_staffCreated', { url: `${ctx.publicUrl}/admin/setup/${setupToken}` })}</p>`);
    } catch (err) {
      return staffPage(req, reply, 422, errorSummary(s.L, err));
    }
  });
  server.post('/admin/staff/:id', { config: { role: 'admin' }, schema: { hide: true } }, async (req, reply) => {
    const s = staff(req);
    const f = formOf(req);
    try {
      const reason = requireReason(text(f, 'reason'));
      const role = text(f, 'role');
      if (!isStaffRole(role)) throw new DomainError('validation_failed', 'role', { role: 'support, billing, admin' });
      await updateStaff(app.db, actor(s), (req.params as { id: string }).id, { role, disabled: text(f, 'disabled') === '1' }, reason);
      return reply.redirect('/admin/staff?done=staffUpdated', 303);
    } catch (err) {
      return staffPage(req, reply, 422, errorSummary(s.L, err));
    }
  });
}
