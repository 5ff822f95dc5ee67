// R19: the staff console at /admin — its own pages and routes, with the holder pages' kit (frame,
// escaping, stylesheet, checks). Each route declares its role once (`config.role`); a page above the
// staff member's role answers 403, a visitor without a console session goes to /admin/login, and
// every form post carries the session's CSRF token. Every action is a form with a `Motivo` field.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../../app.ts';
import { clock } from '../../clock.ts';
import { roleCovers } from '../../domain/staff-role.ts';
import { isStaffRole, STAFF_ROLES } from '../../domain/staff-role.ts';
import { money, type Locale } from '../../i18n/format.ts';
import { describeTransaction } from '../../i18n/ledger-text.ts';
import { staffOf, type OperatorAuth } from '../../http/auth.ts';
import { STAFF_COOKIE, staffCookieOptions } from '../../http/cookies.ts';
import { fromAnotherSite } from '../../http/same-origin.ts';
import type { PaymentGateway } from '../../payments/gateway.ts';
import { DomainError, invalid, requireReason } from '../../services/errors.ts';
import { adjustCredit } from '../../services/billing/credit.ts';
import { readBillingProfile } from '../../services/billing/billing-profiles.ts';
import { listInvoices } from '../../services/billing/invoices.ts';
import { readOrders } from '../../services/billing/orders.ts';
import { createMailbox } from '../../services/mailboxes/provision.ts';
import { closeAccountRefund } from '../../services/billing/refunds.ts';
import { completeSetup, createStaff, endStaffSession, listStaff, newSetupLink, setupOffer, staffLogin, updateStaff } from '../../services/staff/accounts.ts';
import { accessOf, emailsOf, holderSummary, statementPage, topupsOf } from '../../services/staff/holder-record.ts';
import { readOverview } from '../../services/staff/overview.ts';
import { searchHolders } from '../../services/staff/search.ts';
import { changeReferenceEmailByStaff, resetTwoStep, sendPasswordResetLink } from '../../services/staff/support-actions.ts';
import { readAudit } from '../../services/audit.ts';
import { parseEuros, safeNext } from '../forms.ts';
import { html, raw, type Html } from '../html.ts';
import { formOf, queryOf, text } from '../kit.ts';
import { consoleKit, type Failure, type FormSpec, type Staff } from './kit.ts';
import { mailboxFields, mailboxPages } from './mailbox-pages.ts';
import { moneyPages } from './money-pages.ts';
import { say, type ConsoleKey } from './texts.ts';

const HOLDER_DONE = ['adjusted', 'resetLink', 'twoStep', 'email', 'provisioned', 'mailboxAdded', 'closingRefund'] as const;

export async function consoleRoutes(server: FastifyInstance, opts: { app: App; gateway: PaymentGateway }): Promise<void> {
  const { app, gateway } = opts;
  const ctx = app.ctx;
  const staffOfReq = new WeakMap<FastifyRequest, OperatorAuth>();
  const kit = consoleKit(app, staffOfReq);
  const { localeOf, staff, sendPage, actionForm, failureSummary, failureOf, doneNotice, action, can, actor, when, day } = kit;

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

  /** The setup page's own error (a public page: no action form). */
  const errorSummary = (L: Locale, err: unknown): Html => {
    const failure = failureOf(L, err, { id: 'setup', title: say(L, 'setupTitle') }, {});
    const fields = Object.entries(failure.fields).map(([k, v]) => `${k === 'password' ? say(L, 'newPassword') : k === 'totpCode' ? say(L, 'totpCode') : k}: ${v}`).join('; ');
    return html`<p class="error" role="alert">${fields ? say(L, 'formErrors', { fields }) : failure.message ?? ''}</p>`;
  };

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
  /** The actions this staff member may take on this holder's page, each a form with `Motivo`. */
  const holderForms = (s: Staff, id: string, facts: { mailboxes: { id: string; address: string; status: string }[]; twoStep: boolean }): FormSpec[] => {
    const L = s.L;
    const forms: FormSpec[] = [];
    if (can(s, 'billing')) {
      forms.push({
        id: 'adjust', action: `/admin/customers/${id}/credit-adjustments`, title: say(L, 'adjustTitle'), button: say(L, 'adjustButton'),
        fields: [{ name: 'amount', label: say(L, 'adjustAmount'), inputmode: 'decimal', hint: say(L, 'adjustHint'), errorsFrom: ['amountCents'], maxlength: 20 }],
      });
    }
    const loginBoxes = facts.mailboxes.filter((m) => m.status !== 'terminated');
    if (loginBoxes.length) {
      forms.push({
        id: 'reset-link', action: `/admin/customers/${id}/password-reset-link`, title: say(L, 'resetLinkTitle'), button: say(L, 'resetLinkButton'),
        fields: [{ name: 'mailboxId', label: say(L, 'resetLinkMailbox'), kind: 'select', options: loginBoxes.map((m) => ({ value: m.id, label: m.address })) }],
      });
    }
    if (facts.twoStep) {
      forms.push({ id: 'two-step', action: `/admin/customers/${id}/two-step/reset`, title: say(L, 'twoStepResetTitle'), intro: say(L, 'twoStepResetIntro'), button: say(L, 'twoStepResetButton'), fields: [] });
    }
    forms.push({
      id: 'reference-email', action: `/admin/customers/${id}/reference-email`, title: say(L, 'emailTitle'), button: say(L, 'emailButton'),
      fields: [{ name: 'referenceEmail', label: say(L, 'emailNew'), kind: 'email', maxlength: 254, autocomplete: 'off' }],
    });
    if (can(s, 'admin')) {
      forms.push({ id: 'add-mailbox', action: `/admin/customers/${id}/mailboxes`, title: say(L, 'addMailboxTitle'), button: say(L, 'addMailboxButton'), fields: mailboxFields(L, '', ctx.catalogue) });
    }
    if (can(s, 'billing') && facts.mailboxes.length && facts.mailboxes.every((m) => m.status === 'terminated')) {
      forms.push({ id: 'closing', action: `/admin/customers/${id}/closing-refund`, title: say(L, 'closingTitle'), intro: say(L, 'closingIntro'), button: say(L, 'closingButton'), fields: [] });
    }
    return forms;
  };

  const holderPage = async (req: FastifyRequest, reply: FastifyReply, status = 200, failure: Failure | null = null) => {
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
    const th = (...keys: ConsoleKey[]) => html`<thead><tr>${keys.map((k) => html`<th scope="col">${say(L, k)}</th>`)}</tr></thead>`;
    const td = (key: ConsoleKey, v: Html | string, cls = '') => html`<td data-label="${say(L, key)}"${cls ? raw(` class="${cls}"`) : ''}>${v}</td>`;
    const table = (head: Html, rows: Html[]) => (rows.length ? html`<div class="table-wrap"><table class="stack">${head}<tbody>${rows}</tbody></table></div>` : html`<p>${say(L, 'none')}</p>`);
    const section = (hid: string, key: ConsoleKey, body: Html) => html`<section class="card" aria-labelledby="${hid}"><h2 id="${hid}">${say(L, key)}</h2>${body}</section>`;
    const bp = billing?.profile as Record<string, unknown> | undefined;
    const fact = (label: string, value: Html | string | null | undefined) => (value ? html`<div><dt>${label}</dt><dd>${value}</dd></div>` : '');
    const forms = holderForms(s, id, { mailboxes, twoStep: access.twoStep.enabled });
    const typeText = (m: (typeof mailboxes)[number]) => (m.next_type ? say(L, 'typeThenNext', { type: m.type, next: m.next_type }) : m.type);

    const jump = ([['h-boxes', 'sectionMailboxes'], ['h-credit', 'sectionCredit'], ['h-orders', 'sectionOrders'], ['h-pay', 'sectionPayments'], ['h-inv', 'sectionInvoices'], ['h-mail', 'sectionEmails'], ['h-audit', 'sectionAudit'], ['h-actions', 'actions']] as const);
    return sendPage(reply, status, s, req, customer.name, html`<h1>${say(L, 'holderTitle', { name: customer.name })}</h1>${doneNotice(L, req, HOLDER_DONE)}${failureSummary(L, failure, forms)}
<nav aria-label="${say(L, 'onThisPage')}" class="jump"><ul>${jump.map(([hid, key]) => html`<li><a href="#${hid}">${say(L, key)}</a></li>`)}</ul></nav>
${section('h-reg', 'registry', html`<dl class="facts">${fact(say(L, 'referenceEmail'), html`<span class="addr">${customer.reference_email}</span>`)}${fact(say(L, 'taxCode'), customer.tax_code)}${fact(say(L, 'locale'), customer.locale)}</dl>
<h3>${say(L, 'billing')}</h3>${bp ? html`<dl class="facts">${fact(say(L, 'name'), String(bp.companyName ?? `${bp.givenName ?? ''} ${bp.familyName ?? ''}`).trim())}${fact(say(L, 'taxCode'), bp.taxCode as string)}${fact(say(L, 'vatNumber'), bp.vatNumber as string)}${fact(say(L, 'sdi'), [bp.sdiCode, bp.sdiPec].filter(Boolean).join(' / '))}</dl>` : html`<p>${say(L, 'noBilling')}</p>`}
<h3>${say(L, 'access')}</h3><p>${access.twoStep.enabled ? say(L, 'twoStepOn', { left: access.twoStep.recoveryCodesLeft }) : say(L, 'twoStepOff')} ${say(L, 'sessionsOpen', { count: access.sessions.length })}</p>`)}
${section('h-boxes', 'sectionMailboxes', table(th('colAddress', 'colStatus', 'colType', 'colExpiry'), mailboxes.map((m) => html`<tr>${td('colAddress', html`<a class="addr" href="/admin/mailboxes/${m.id}">${m.address}</a>`)}${td('colStatus', say(L, `status_${m.status}` as ConsoleKey))}${td('colType', typeText(m))}${td('colExpiry', day(m.expires_on, L))}</tr>`)))}
${section('h-credit', 'sectionCredit', html`<p class="big">${say(L, 'balance', { amount: money(balanceCents, L) })}</p>${table(th('colWhen', 'colDescription', 'colAmount', 'colBalance'), statement.transactions.map((t) => html`<tr>${td('colWhen', when(t.created_at, L))}${td('colDescription', describeTransaction(t, L))}${td('colAmount', money(t.wallet_amount_cents, L), 'num')}${td('colBalance', money(t.balance_after_cents, L), 'num')}</tr>`))}${statement.nextBefore !== null ? html`<p><a href="/admin/customers/${id}?before=${statement.nextBefore}#h-credit">${say(L, 'moreStatement')}</a></p>` : ''}`)}
${section('h-orders', 'sectionOrders', table(th('colWhen', 'colKind', 'colAmount', 'colStatus'), orders.map((o) => html`<tr>${td('colWhen', when(o.created_at, L))}${td('colKind', o.kind)}${td('colAmount', money(o.amount_cents, L), 'num')}${td('colStatus', o.status)}</tr>`)))}
${section('h-pay', 'sectionPayments', table(th('colWhen', 'colAmount', 'colKind', 'colStatus'), topups.map((t) => html`<tr>${td('colWhen', html`<a href="/admin/topups/${t.id}">${when(t.created_at, L)}</a>`)}${td('colAmount', money(t.charge_cents, L), 'num')}${td('colKind', say(L, `method_${t.method}` as ConsoleKey))}${td('colStatus', say(L, `topup_${t.status}` as ConsoleKey))}</tr>`)))}
${section('h-inv', 'sectionInvoices', table(th('colNumber', 'colWhen', 'colAmount', 'colSdi'), invoices.map((i) => html`<tr>${td('colNumber', html`<a href="/admin/invoices/${i.id}">${i.number}</a>${i.document_type === 'TD04' ? html` <span class="small muted">${say(L, 'creditNote')}</span>` : ''}`)}${td('colWhen', day(i.issued_on, L))}${td('colAmount', money(i.total_cents, L), 'num')}${td('colSdi', say(L, `sdi_${i.sdi_status}` as ConsoleKey))}</tr>`)))}
${section('h-mail', 'sectionEmails', table(th('colWhen', 'colTo', 'colSubject', 'colStatus', 'colAttempts'), emails.map((e) => html`<tr>${td('colWhen', when(e.at, L))}${td('colTo', html`<span class="addr">${e.to}</span>`)}${td('colSubject', e.subject)}${td('colStatus', e.status)}${td('colAttempts', String(e.attempts), 'num')}</tr>`)))}
${section('h-audit', 'sectionAudit', table(th('colWhen', 'colWho', 'colAction', 'colReason'), trail.map((e) => html`<tr>${td('colWhen', when(e.at, L))}${td('colWho', `${e.actor.name ?? e.actor.kind}`)}${td('colAction', e.action)}${td('colReason', e.reason ?? '')}</tr>`)))}
${kit.actionsSection(s, forms, failure, html`<p>${say(L, 'none')}</p>`)}`);
  };
  server.get('/admin/customers/:id', { config: { role: 'support' }, schema: { hide: true } }, (req, reply) => holderPage(req, reply));

  const idOf = (req: FastifyRequest) => (req.params as { id: string }).id;
  /** A holder's action: done → the holder's page with its notice; refused → the page again with the form's errors. */
  const holderAction = (formId: string, titleKey: ConsoleKey, done: (typeof HOLDER_DONE)[number], run: (s: Staff, id: string, f: Record<string, unknown>, reason: string) => Promise<unknown>) =>
    action({
      form: (s) => ({ id: formId, title: say(s.L, titleKey) }),
      run: async (s, f, reason, req) => {
        await run(s, idOf(req), f, reason);
        return `/admin/customers/${idOf(req)}?done=${done}`;
      },
      redraw: (req, reply, status, failure) => holderPage(req, reply, status, failure),
    });
  server.post('/admin/customers/:id/credit-adjustments', { config: { role: 'billing' }, schema: { hide: true } }, holderAction('adjust', 'adjustTitle', 'adjusted', async (s, id, f, reason) => {
    const amount = kit.eurosTyped(text(f, 'amount'), s.L, parseEuros, true);
    if (amount === null || amount === 0) throw invalid({ amount: say(s.L, 'amountUnreadable') });
    await adjustCredit(ctx, actor(s), id, amount, reason);
  }));
  server.post('/admin/customers/:id/password-reset-link', { config: { role: 'support' }, schema: { hide: true } }, holderAction('reset-link', 'resetLinkTitle', 'resetLink', (s, id, f, reason) => sendPasswordResetLink(ctx, actor(s), id, text(f, 'mailboxId').slice(0, 100), reason)));
  server.post('/admin/customers/:id/two-step/reset', { config: { role: 'support' }, schema: { hide: true } }, holderAction('two-step', 'twoStepResetTitle', 'twoStep', (s, id, _f, reason) => resetTwoStep(ctx, actor(s), id, reason)));
  server.post('/admin/customers/:id/reference-email', { config: { role: 'support' }, schema: { hide: true } }, holderAction('reference-email', 'emailTitle', 'email', (s, id, f, reason) => changeReferenceEmailByStaff(ctx, actor(s), id, text(f, 'referenceEmail').slice(0, 254), reason)));
  server.post('/admin/customers/:id/mailboxes', { config: { role: 'admin' }, schema: { hide: true } }, holderAction('add-mailbox', 'addMailboxTitle', 'mailboxAdded', (s, id, f, reason) =>
    createMailbox(ctx, actor(s), { customerId: id, address: text(f, 'address').slice(0, 254), password: text(f, 'password').slice(0, 200), type: text(f, 'type') as never, expiresOn: text(f, 'expiresOn').slice(0, 10), reason }).catch((err) => {
      // An unknown holder is the page's 404, not a field.
      if (err instanceof DomainError && err.fields?.customerId) throw new DomainError('not_found', 'customer not found');
      throw err;
    })));
  server.post('/admin/customers/:id/closing-refund', { config: { role: 'billing' }, schema: { hide: true } }, holderAction('closing', 'closingTitle', 'closingRefund', (s, id, _f, reason) => closeAccountRefund(ctx, gateway, actor(s), id, reason)));

  mailboxPages(server, kit, { holderPath: (id) => `/admin/customers/${id}` });
  moneyPages(server, kit, gateway);

  // ---- Staff accounts (admin) ----
  const STAFF_DONE = ['staffUpdated', 'setupLink'] as const;
  const newStaffForm = (L: Locale): FormSpec => ({
    id: 'new-staff', action: '/admin/staff', title: say(L, 'newStaffTitle'), button: say(L, 'createButton'), primary: true,
    fields: [
      { name: 'email', label: say(L, 'email'), kind: 'email', maxlength: 254, autocomplete: 'off' },
      { name: 'name', label: say(L, 'name'), maxlength: 200, autocomplete: 'off' },
      { name: 'role', label: say(L, 'role'), kind: 'select', value: 'support', options: STAFF_ROLES.map((r) => ({ value: r, label: say(L, `role_${r}`) })), hint: say(L, 'roleHint') },
    ],
  });
  const memberForm = (L: Locale, m: { id: string; name: string; role: string; disabled: boolean }): FormSpec => ({
    id: `member-${m.id}`, action: `/admin/staff/${m.id}`, title: say(L, 'memberTitle', { name: m.name }), button: say(L, 'saveButton'),
    fields: [
      { name: 'role', label: say(L, 'changeRole'), kind: 'select', value: m.role, options: STAFF_ROLES.map((r) => ({ value: r, label: say(L, `role_${r}`) })) },
      { name: 'disabled', label: say(L, 'disable'), kind: 'checkbox', value: m.disabled ? '1' : '', hint: say(L, 'disableHint') },
    ],
  });
  const linkForm = (L: Locale, m: { id: string; name: string }): FormSpec => ({
    id: `link-${m.id}`, action: `/admin/staff/${m.id}/setup-link`, title: say(L, 'setupLinkTitle', { name: m.name }), intro: say(L, 'setupLinkIntro'), button: say(L, 'setupLinkButton'), fields: [],
  });
  const staffPage = async (req: FastifyRequest, reply: FastifyReply, status = 200, o: { top?: Html | null; failure?: Failure | null } = {}) => {
    const s = staff(req);
    const L = s.L;
    const members = await listStaff(app.db);
    const others = members.filter((m) => m.id !== s.who.id);
    const forms = [newStaffForm(L), ...others.flatMap((m) => [memberForm(L, m), linkForm(L, m)])];
    const failure = o.failure ?? null;
    const rows = members.map((m) => html`<tr><td data-label="${say(L, 'colName')}"><div>${m.name}<br><span class="small muted addr">${m.email}</span></div></td><td data-label="${say(L, 'colRole')}">${say(L, `role_${m.role}`)}</td>
<td data-label="${say(L, 'colState')}">${m.disabled ? say(L, 'stateDisabled') : m.enrolled ? say(L, 'stateActive') : say(L, 'statePending')}</td>
<td data-label="${say(L, 'actions')}">${m.id === s.who.id ? say(L, 'thisIsYou') : html`<a href="#f-member-${m.id}">${say(L, 'changeLink', { name: m.name })}</a>`}</td></tr>`);
    return sendPage(reply, status, s, req, say(L, 'staffTitle'), html`<h1>${say(L, 'staffTitle')}</h1>${o.top ?? doneNotice(L, req, STAFF_DONE)}${failureSummary(L, failure, forms)}
<div class="table-wrap spaced"><table class="stack"><thead><tr><th scope="col">${say(L, 'colName')}</th><th scope="col">${say(L, 'colRole')}</th><th scope="col">${say(L, 'colState')}</th><th scope="col">${say(L, 'actions')}</th></tr></thead><tbody>${rows}</tbody></table></div>
${actionForm(s, forms[0]!, failure)}
${others.length ? html`<section aria-labelledby="h-members"><h2 id="h-members">${say(L, 'membersTitle')}</h2>${others.map((m) => html`<div class="pair">${actionForm(s, memberForm(L, m), failure)}${actionForm(s, linkForm(L, m), failure)}</div>`)}</section>` : ''}`);
  };
  server.get('/admin/staff', { config: { role: 'admin' }, schema: { hide: true } }, (req, reply) => staffPage(req, reply));
  const linkNotice = (L: Locale, key: 'done_staffCreated' | 'done_setupLink', name: string, token: string) =>
    html`<div class="notice" role="status"><p>${say(L, key, { name })}</p><p class="addr"><code>${`${ctx.publicUrl}/admin/setup/${token}`}</code></p><p class="small">${say(L, 'linkOnce')}</p></div>`;
  server.post('/admin/staff', { config: { role: 'admin' }, schema: { hide: true } }, async (req, reply) => {
    const s = staff(req);
    const f = formOf(req);
    try {
      const reason = requireReason(text(f, 'reason'));
      const { member, setupToken } = await createStaff(app.db, actor(s), { email: text(f, 'email'), name: text(f, 'name'), role: text(f, 'role'), reason });
      // The link is shown once, here: it is the new colleague's way in, to pass on in person.
      return staffPage(req, reply, 201, { top: linkNotice(s.L, 'done_staffCreated', member.name, setupToken) });
    } catch (err) {
      return staffPage(req, reply, 422, { failure: failureOf(s.L, err, { id: 'new-staff', title: say(s.L, 'newStaffTitle') }, f) });
    }
  });
  server.post('/admin/staff/:id', { config: { role: 'admin' }, schema: { hide: true } }, action({
    form: (s, req) => ({ id: `member-${idOf(req)}`, title: say(s.L, 'membersTitle') }),
    run: async (s, f, reason, req) => {
      const role = text(f, 'role');
      if (!isStaffRole(role)) throw invalid({ role: `must be one of ${STAFF_ROLES.join(', ')}` });
      await updateStaff(app.db, actor(s), idOf(req), { role, disabled: text(f, 'disabled') === '1' }, reason);
      return '/admin/staff?done=staffUpdated';
    },
    redraw: (req, reply, status, failure) => staffPage(req, reply, status, { failure }),
  }));
  server.post('/admin/staff/:id/setup-link', { config: { role: 'admin' }, schema: { hide: true } }, async (req, reply) => {
    const s = staff(req);
    const f = formOf(req);
    try {
      const reason = requireReason(text(f, 'reason'));
      const token = await newSetupLink(app.db, actor(s), idOf(req), reason);
      const member = (await listStaff(app.db)).find((m) => m.id === idOf(req))!;
      return staffPage(req, reply, 201, { top: linkNotice(s.L, 'done_setupLink', member.name, token) });
    } catch (err) {
      const status = err instanceof DomainError && err.code === 'not_found' ? 404 : 422;
      return staffPage(req, reply, status, { failure: failureOf(s.L, err, { id: `link-${idOf(req)}`, title: say(s.L, 'setupLinkGeneric') }, f) });
    }
  });
}
