// The holder's pages (SPEC section 4, API.md "Web customer area"): server-rendered HTML that works
// without JavaScript; /assets/casella.js only adds a live price on the purchase form.
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../app.ts';
import { clock } from '../clock.ts';
import type { PaymentGateway } from '../payments/gateway.ts';
import { csrfOk, sessionOf, type HolderAuth } from '../http/auth.ts';
import { LANG_COOKIE, SESSION_COOKIE, sessionCookieOptions } from '../http/cookies.ts';
import { startTopup } from '../http/holder-routes.ts';
import { login, logout, setLocale } from '../services/sessions.ts';
import { mailboxFacts, readBalance, readCustomer, readMailbox, readMailboxes, type CustomerRow, type TopupRow } from '../services/rows.ts';
import { mailboxView, orderView, quoteView, type MailboxView, type OrderView, type QuoteView } from '../services/views.ts';
import { cancelOrder, placeExtraSpaceOrder, placeRenewalOrder, quoteExtraSpaceFor, readOrder, readOrders } from '../services/orders.ts';
import { readStatement } from '../services/credit.ts';
import { readTopup } from '../services/topups.ts';
import { setRenewalSwitches } from '../services/mailbox-settings.ts';
import { DomainError } from '../services/errors.ts';
import { isLocale, longDate, money, type Locale } from '../i18n/format.ts';
import { date, dateInRome } from '../domain/calendar.ts';
import { manualRenewalWindow } from '../domain/mailbox.ts';
import { addVat, cents, maxCents } from '../domain/money.ts';
import { BYTES_PER_GB } from '../domain/catalogue.ts';
import { parseEuros, parseQuantity, safeNext } from './forms.ts';
import { html, raw, type Html } from './html.ts';
import { page } from './layout.ts';
import { DICTIONARY, tr, type Key } from './i18n.ts';

const HTML_TYPE = 'text/html; charset=utf-8';
const ASSET_CACHE = 'public, max-age=3600';
const LANG_COOKIE_MAX_AGE_S = 365 * 24 * 3600;

/** Flash messages carried in ?msg= after a redirect: only these keys are shown. */
const MESSAGES = ['purchaseDone', 'renewalDone', 'settingsSaved', 'orderWaiting', 'orderCancelled', 'orderNotPending'] as const;
type MessageKey = (typeof MESSAGES)[number];

interface Holder {
  auth: HolderAuth;
  customer: CustomerRow;
  L: Locale;
}

type Form = Record<string, unknown>;
const formOf = (req: FastifyRequest): Form => (req.body && typeof req.body === 'object' ? (req.body as Form) : {});
const queryOf = (req: FastifyRequest): Form => (req.query && typeof req.query === 'object' ? (req.query as Form) : {});
const text = (f: Form, k: string): string => (typeof f[k] === 'string' ? (f[k] as string) : '');

const gb = (bytes: number, L: Locale): string =>
  (bytes / BYTES_PER_GB).toLocaleString(L === 'it' ? 'it-IT' : 'en-GB', { maximumFractionDigits: 2 });

const asset = (name: string): string => readFileSync(new URL(`./assets/${name}`, import.meta.url), 'utf8');

export async function webRoutes(server: FastifyInstance, opts: { app: App; gateway: PaymentGateway }): Promise<void> {
  const { app, gateway } = opts;
  const ctx = app.ctx;
  const cat = ctx.catalogue;
  const css = asset('casella.css');
  const js = asset('casella.js');
  const icon = asset('favicon.svg');

  server.get('/assets/casella.css', { schema: { hide: true } }, async (_req, reply) =>
    reply.header('cache-control', ASSET_CACHE).type('text/css; charset=utf-8').send(css),
  );
  server.get('/assets/casella.js', { schema: { hide: true } }, async (_req, reply) =>
    reply.header('cache-control', ASSET_CACHE).type('text/javascript; charset=utf-8').send(js),
  );

  server.get('/assets/favicon.svg', { schema: { hide: true } }, async (_req, reply) =>
    reply.header('cache-control', ASSET_CACHE).type('image/svg+xml').send(icon),
  );
  server.get('/favicon.ico', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/assets/favicon.svg', 301));

  // ---------- helpers ----------
  const withVat = (net: number, L: Locale): string =>
    tr(L, 'withVat', { net: money(net, L), gross: money(addVat(cents(net), cat.vatRateBasisPoints).grossCents, L) });
  const day = (iso: string, L: Locale): string => longDate(date(iso), L);
  const instantDay = (iso: string | Date, L: Locale): string => longDate(dateInRome(new Date(iso).getTime()), L);
  const statusLabel = (s: MailboxView['status'], L: Locale) =>
    tr(L, s === 'active' ? 'statusActive' : s === 'expired' ? 'statusExpired' : 'statusTerminated');
  const typeLabel = (t: string, L: Locale) => tr(L, t === 'pro' ? 'typePro' : 'typeStandard');
  const pct = (bp: number) => (bp / 100).toLocaleString('it-IT');

  const switchLink = (L: Locale, req: FastifyRequest) => {
    const other: Locale = L === 'it' ? 'en' : 'it';
    // After a form post, come back to a page that can be fetched: the form's own page.
    let back = req.url;
    if (req.method !== 'GET') {
      const path = req.url.split('?')[0]!;
      back = /^\/(login|mailboxes\/[^/]+\/extra-space)$/.test(path) ? path : path === '/credit/topups' ? '/credit' : '/';
    }
    return { label: DICTIONARY[L].switchTo, lang: other, href: `/lang/${other}?next=${encodeURIComponent(safeNext(back))}` };
  };

  const nav = (h: Holder, current: string): Html => {
    const L = h.L;
    const item = (href: string, key: Key) =>
      html`<li><a href="${href}"${current === href ? raw(' aria-current="page"') : ''}>${tr(L, key)}</a></li>`;
    return html`<nav class="wrap" aria-label="${tr(L, 'navLabel')}"><ul class="nav">
${item('/', 'navHome')}${item('/mailboxes', 'navMailboxes')}${item('/credit', 'navCredit')}${item('/orders', 'navOrders')}
<li class="nav-end"><form method="post" action="/logout" class="inline">${csrfField(h)}<button type="submit" class="linklike">${tr(L, 'logout')}</button></form></li>
</ul></nav>`;
  };
  const csrfField = (h: Holder): Html => html`<input type="hidden" name="_csrf" value="${h.auth.csrfToken}">`;

  const send = (reply: FastifyReply, status: number, body: string) => reply.code(status).type(HTML_TYPE).send(body);

  const holderPage = (
    req: FastifyRequest,
    reply: FastifyReply,
    h: Holder,
    o: { status?: number; title: string; current: string; body: Html; scripts?: string[] },
  ) =>
    send(
      reply,
      o.status ?? 200,
      page({
        lang: h.L,
        title: o.title,
        nav: nav(h, o.current),
        body: o.body,
        csrfToken: h.auth.csrfToken,
        langSwitch: switchLink(h.L, req),
        ...(o.scripts ? { scripts: o.scripts } : {}),
      }),
    );

  const notice = (L: Locale, req: FastifyRequest): Html => {
    const m = text(queryOf(req), 'msg');
    return (MESSAGES as readonly string[]).includes(m) ? html`<p class="notice" role="status">${tr(L, m as MessageKey)}</p>` : html``;
  };

  const notFoundPage = (req: FastifyRequest, reply: FastifyReply, h: Holder) =>
    holderPage(req, reply, h, {
      status: 404,
      title: tr(h.L, 'notFoundTitle'),
      current: '',
      body: html`<h1>${tr(h.L, 'notFoundTitle')}</h1><p>${tr(h.L, 'notFoundText')}</p><p><a href="/">${tr(h.L, 'backHome')}</a></p>`,
    });

  type Handler = (req: FastifyRequest, reply: FastifyReply, h: Holder) => Promise<unknown>;
  /** A page for a logged-in holder: no session → /login; a POST without the form's CSRF token → 403. */
  const holderRoute =
    (handler: Handler) =>
    async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
      const auth = await sessionOf(app, req);
      const customer = auth ? await readCustomer(ctx.db, auth.customerId) : null;
      if (!auth || !customer) return reply.redirect('/login', 303);
      const h: Holder = { auth, customer, L: customer.locale };
      if (req.method === 'POST' && !csrfOk(req, auth, text(formOf(req), '_csrf') || '\u0000no-token')) {
        return holderPage(req, reply, h, {
          status: 403,
          title: tr(h.L, 'forbiddenTitle'),
          current: '',
          body: html`<h1>${tr(h.L, 'forbiddenTitle')}</h1><p>${tr(h.L, 'forbiddenText')}</p><p><a href="/">${tr(h.L, 'backHome')}</a></p>`,
        });
      }
      try {
        return await handler(req, reply, h);
      } catch (err) {
        if (err instanceof DomainError && err.code === 'not_found') return notFoundPage(req, reply, h);
        throw err;
      }
    };

  const idOf = (req: FastifyRequest): string => (req.params as { id: string }).id;

  // ---------- login, logout, language ----------
  const loginLocale = (req: FastifyRequest): Locale => {
    const c = req.cookies[LANG_COOKIE];
    return isLocale(c) ? c : 'it';
  };
  const loginPage = (req: FastifyRequest, reply: FastifyReply, status: number, address = '', error: string | null = null) => {
    const L = loginLocale(req);
    const described = error ? html` aria-invalid="true" aria-describedby="login-error"` : html``;
    const body = html`<section class="card narrow">
<h1>${tr(L, 'loginTitle')}</h1>
<p class="muted">${tr(L, 'loginIntro')}</p>
${error ? html`<p class="error" id="login-error" role="alert">${error}</p>` : ''}
<form method="post" action="/login" novalidate>
<div class="field"><label for="address">${tr(L, 'address')}</label>
<input id="address" name="address" type="email" autocomplete="username" required value="${address}"${described}></div>
<div class="field"><label for="password">${tr(L, 'password')}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${described}></div>
<button type="submit" class="primary">${tr(L, 'loginButton')}</button>
</form>
</section>`;
    return send(reply, status, page({ lang: L, title: tr(L, 'loginTitle'), body, langSwitch: switchLink(L, req) }));
  };

  server.get('/login', { schema: { hide: true } }, async (req, reply) => {
    if (await sessionOf(app, req)) return reply.redirect('/', 303);
    return loginPage(req, reply, 200);
  });

  server.post('/login', { schema: { hide: true } }, async (req, reply) => {
    const f = formOf(req);
    const address = text(f, 'address').slice(0, 320);
    const password = text(f, 'password').slice(0, 1024);
    const L = loginLocale(req);
    if (!address.trim() || !password) return loginPage(req, reply, 422, address, tr(L, 'loginMissing'));
    try {
      const opened = await login(ctx, address, password, req.ip);
      reply.setCookie(SESSION_COOKIE, opened.token, sessionCookieOptions(app.config.publicUrl));
      return reply.redirect('/', 303);
    } catch (err) {
      if (err instanceof DomainError && err.code === 'invalid_credentials') return loginPage(req, reply, 401, address, tr(L, 'loginInvalid'));
      if (err instanceof DomainError && err.code === 'rate_limited') {
        const s = err.retryAfterSeconds ?? 60;
        reply.header('retry-after', String(s));
        return loginPage(req, reply, 429, address, tr(L, 'loginRateLimited', { minutes: Math.max(1, Math.ceil(s / 60)) }));
      }
      throw err;
    }
  });

  server.post(
    '/logout',
    { schema: { hide: true } },
    holderRoute(async (_req, reply, h) => {
      await logout(ctx, h.auth.sessionToken);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.redirect('/login', 303);
    }),
  );

  server.get('/lang/:lang', { schema: { hide: true } }, async (req, reply) => {
    const lang = (req.params as { lang: string }).lang;
    const next = safeNext(queryOf(req).next);
    if (!isLocale(lang)) return reply.redirect(next, 303);
    reply.setCookie(LANG_COOKIE, lang, {
      path: '/',
      sameSite: 'lax',
      httpOnly: true,
      secure: app.config.publicUrl.startsWith('https:'),
      maxAge: LANG_COOKIE_MAX_AGE_S,
    });
    const auth = await sessionOf(app, req);
    if (auth) await setLocale(ctx, auth.customerId, lang);
    return reply.redirect(next, 303);
  });

  // ---------- dashboard and mailboxes ----------
  server.get(
    '/',
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) => {
      const L = h.L;
      const [rows, balance] = await Promise.all([readMailboxes(ctx.db, h.auth.customerId), readBalance(ctx.db, h.auth.customerId)]);
      const boxes = rows.map((r) => mailboxView(r, cat));
      const body = html`<h1>${tr(L, 'dashboardTitle')}</h1>
${notice(L, req)}
<p>${tr(L, 'welcome', { name: h.customer.name })}</p>
<section class="card" aria-labelledby="balance-h">
<h2 id="balance-h">${tr(L, 'balance')}</h2>
<p class="big" id="balance">${money(balance, L)}</p>
<p><a class="button" href="/credit">${tr(L, 'topupLink')}</a></p>
</section>
<section class="card" aria-labelledby="boxes-h">
<h2 id="boxes-h">${tr(L, 'yourMailboxes')}</h2>
${boxes.length === 0
  ? html`<p>${tr(L, 'noMailboxes')}</p>`
  : html`<ul class="plain">${boxes.map(
      (b) => html`<li><strong class="addr">${b.address}</strong> — ${statusLabel(b.status, L)}, ${tr(L, 'expiresOn').toLowerCase()}: ${day(b.expiresOn, L)}</li>`,
    )}</ul>`}
<p><a href="/mailboxes">${tr(L, 'mailboxListLink')}</a></p>
</section>`;
      return holderPage(req, reply, h, { title: tr(L, 'dashboardTitle'), current: '/', body });
    }),
  );

  const magnifier = raw(
    '<svg aria-hidden="true" focusable="false" width="20" height="20" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round"><circle cx="10.5" cy="10.5" r="6.5"/><line x1="15.5" y1="15.5" x2="21" y2="21"/></svg>',
  );

  server.get(
    '/mailboxes',
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) => {
      const L = h.L;
      const boxes = (await readMailboxes(ctx.db, h.auth.customerId)).map((r) => mailboxView(r, cat));
      const body = html`<h1>${tr(L, 'mailboxesTitle')}</h1>
${boxes.length === 0
  ? html`<p>${tr(L, 'noMailboxes')}</p>`
  : html`<div class="table-wrap"><table>
<thead><tr><th scope="col">${tr(L, 'colAddress')}</th><th scope="col">${tr(L, 'colStatus')}</th><th scope="col">${tr(L, 'colExpiry')}</th><th scope="col">${tr(L, 'colType')}</th><th scope="col">${tr(L, 'colDetails')}</th></tr></thead>
<tbody>${boxes.map(
      (b) => html`<tr><td class="addr">${b.address}</td><td>${statusLabel(b.status, L)}</td><td>${day(b.expiresOn, L)}</td><td>${typeLabel(b.type, L)}</td>
<td><a class="icon-link" href="/mailboxes/${encodeURIComponent(b.id)}" aria-label="${tr(L, 'details', { address: b.address })}">${magnifier}</a></td></tr>`,
    )}</tbody></table></div>`}`;
      return holderPage(req, reply, h, { title: tr(L, 'mailboxesTitle'), current: '/mailboxes', body });
    }),
  );

  const mailboxCard = async (req: FastifyRequest, reply: FastifyReply, h: Holder, status = 200, error: string | null = null) => {
    const L = h.L;
    const row = await readMailbox(ctx.db, idOf(req), h.auth.customerId);
    if (!row) return notFoundPage(req, reply, h);
    const m = mailboxView(row, cat);
    const window = manualRenewalWindow(mailboxFacts(row), clock.today(), cat);
    const usedPct = m.space.totalBytes > 0 ? Math.min(100, Math.round((m.space.usedBytes / m.space.totalBytes) * 100)) : 0;
    const id = encodeURIComponent(m.id);
    const body = html`<h1 class="addr">${m.address}</h1>
${notice(L, req)}
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<section class="card">
<dl class="facts">
<div><dt>${tr(L, 'status')}</dt><dd>${statusLabel(m.status, L)}</dd></div>
<div><dt>${tr(L, 'expiresOn')}</dt><dd>${day(m.expiresOn, L)}</dd></div>
<div><dt>${tr(L, 'type')}</dt><dd>${typeLabel(m.type, L)}</dd></div>
<div><dt id="space-label">${tr(L, 'inboxSpace')}</dt><dd><span id="space-text">${tr(L, 'spaceUsed', { used: gb(m.space.usedBytes, L), total: m.space.totalGb })}</span>
<progress class="space" max="${m.space.totalBytes}" value="${Math.min(m.space.usedBytes, m.space.totalBytes)}" aria-labelledby="space-label" aria-describedby="space-text">${usedPct}%</progress></dd></div>
</dl>
</section>
<section class="card" aria-labelledby="addons-h">
<h2 id="addons-h">${tr(L, 'addons')}</h2>
${m.addons.length === 0
  ? html`<p>${tr(L, 'noAddons')}</p>`
  : html`<ul class="plain">${m.addons.map(
      (a) => html`<li><strong>${tr(L, 'extraSpace')}</strong>: ${tr(L, 'addonLine', {
        gb: a.quantityGb,
        status: tr(L, a.status === 'active' ? 'addonActive' : 'addonDeactivated'),
        until: day(a.activeUntil, L),
      })}. ${tr(L, 'addonRenewal', { price: withVat(a.renewalPriceCents, L) })}</li>`,
    )}</ul>`}
${m.status === 'active' ? html`<p><a class="button" href="/mailboxes/${id}/extra-space">${tr(L, 'buyAddon')}</a></p>` : ''}
</section>
<section class="card" aria-labelledby="renewal-h">
<h2 id="renewal-h">${tr(L, 'renewal')}</h2>
${m.renewal
  ? html`<p>${tr(L, 'renewalDue', { date: day(m.renewal.dueOn, L) })}</p>
<dl class="facts">
<div><dt>${tr(L, 'renewalMailbox')}</dt><dd>${withVat(m.renewal.mailboxPriceCents, L)}</dd></div>
<div><dt>${tr(L, 'renewalAddons')}</dt><dd>${withVat(m.renewal.addonsPriceCents, L)}</dd></div>
<div><dt>${tr(L, 'renewalTotal')}</dt><dd><strong>${withVat(m.renewal.totalCents, L)}</strong></dd></div>
</dl>`
  : html`<p>${tr(L, 'noRenewal')}</p>`}
${window.allowed
  ? html`<h3>${tr(L, 'manualRenewal')}</h3><form method="post" action="/mailboxes/${id}/renewal">${csrfField(h)}<button type="submit">${tr(L, 'renewNow')}</button></form>`
  : window.reason === 'too_early' && window.opensOn
    ? html`<p class="muted">${tr(L, 'renewalClosed', { date: longDate(window.opensOn, L) })}</p>`
    : ''}
</section>
${m.status !== 'terminated'
  ? html`<section class="card" aria-labelledby="auto-h">
<h2 id="auto-h">${tr(L, 'autoRenewTitle')}</h2>
<form method="post" action="/mailboxes/${id}/settings">${csrfField(h)}
<p class="muted" id="auto-hint">${tr(L, 'autoRenewHint')}</p>
<div class="check"><input type="checkbox" id="autoRenew" name="autoRenew" value="1"${m.autoRenew ? raw(' checked') : ''} aria-describedby="auto-hint"><label for="autoRenew">${tr(L, 'autoRenew')}</label></div>
<div class="check"><input type="checkbox" id="extraSpaceAutoRenew" name="extraSpaceAutoRenew" value="1"${m.extraSpaceAutoRenew ? raw(' checked') : ''}><label for="extraSpaceAutoRenew">${tr(L, 'extraAutoRenew')}</label></div>
<button type="submit">${tr(L, 'saveSettings')}</button>
</form></section>`
  : ''}`;
    return holderPage(req, reply, h, { status, title: m.address, current: '/mailboxes', body });
  };

  server.get('/mailboxes/:id', { schema: { hide: true } }, holderRoute(async (req, reply, h) => mailboxCard(req, reply, h)));

  server.post(
    '/mailboxes/:id/settings',
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) => {
      const f = formOf(req);
      await setRenewalSwitches(ctx, { kind: 'holder', id: h.auth.customerId }, h.auth.customerId, idOf(req), {
        autoRenew: f.autoRenew !== undefined,
        extraSpaceAutoRenew: f.extraSpaceAutoRenew !== undefined,
      });
      return reply.redirect(`/mailboxes/${encodeURIComponent(idOf(req))}?msg=settingsSaved`, 303);
    }),
  );

  server.post(
    '/mailboxes/:id/renewal',
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) => {
      try {
        const placed = await placeRenewalOrder(ctx, h.auth.customerId, idOf(req));
        if (placed.order.status === 'completed') return reply.redirect(`/mailboxes/${encodeURIComponent(idOf(req))}?msg=renewalDone`, 303);
        return reply.redirect('/orders?msg=orderWaiting', 303);
      } catch (err) {
        if (err instanceof DomainError && (err.code === 'not_renewable' || err.code === 'mailbox_not_active')) {
          return mailboxCard(req, reply, h, 409, tr(h.L, 'notRenewable'));
        }
        throw err;
      }
    }),
  );

  // ---------- buying extra space ----------
  const quoteError = (err: unknown, L: Locale): { status: number; message: string } | null => {
    if (!(err instanceof DomainError)) return null;
    if (err.code === 'validation_failed') return { status: 422, message: tr(L, 'quantityInvalid') };
    if (err.code === 'limit_exceeded') return { status: 422, message: tr(L, 'limitExceeded', { max: cat.extraSpace.maxGbPerMailbox }) };
    if (err.code === 'mailbox_not_active') return { status: 409, message: tr(L, 'notActive') };
    return null;
  };

  const quoteSection = (h: Holder, mailboxId: string, q: QuoteView | null): Html => {
    const L = h.L;
    const d = DICTIONARY[L];
    const rule = q ? tr(L, q.rule === 'full_year' ? 'ruleFullYear' : q.rule === 'free_until_expiry' ? 'ruleFree' : 'ruleRemaining') : '';
    const details = q
      ? tr(L, 'ruleDetails', { from: day(q.activeFrom, L), until: day(q.activeUntil, L), renewal: day(q.renewalOn, L), renewalAmount: money(q.renewalAmountCents, L) })
      : '';
    const topup = q && q.shortfallCents > 0 ? maxCents(cents(q.shortfallCents), cat.topupMinCents) : 0;
    const short = q && q.shortfallCents > 0;
    return html`<section id="quote" class="card quote" aria-labelledby="quote-h"${q ? '' : raw(' hidden')}
 data-lang="${L}" data-vat-bp="${cat.vatRateBasisPoints}" data-topup-min="${cat.topupMinCents}"
 data-t-full_year="${d.ruleFullYear}" data-t-free_until_expiry="${d.ruleFree}" data-t-remaining_months="${d.ruleRemaining}"
 data-t-details="${d.ruleDetails}" data-t-withvat="${d.withVat}" data-t-free="${d.free}" data-t-shortfall="${d.shortfall}"
 data-t-confirm="${d.confirm}" data-t-topup="${d.topupAndComplete}" data-t-invalid="${d.quantityInvalid}"
 data-t-limit="${tr(L, 'limitExceeded', { max: cat.extraSpace.maxGbPerMailbox })}" data-t-inactive="${d.notActive}">
<h2 id="quote-h">${tr(L, 'quoteTitle')}</h2>
<div aria-live="polite" id="quote-live">
<p class="rule"><strong>${tr(L, 'ruleLabel')}:</strong> <span id="q-rule">${rule}</span>.</p>
<p id="q-details">${details}</p>
<dl class="facts">
<div><dt>${tr(L, 'price')}</dt><dd id="q-price">${q ? (q.amountCents === 0 ? `${tr(L, 'free')} (${money(0, L)})` : withVat(q.amountCents, L)) : ''}</dd></div>
<div><dt>${tr(L, 'balance')}</dt><dd id="q-balance">${q ? money(q.balanceCents, L) : ''}</dd></div>
</dl>
<p id="q-shortfall" class="warning"${short ? '' : raw(' hidden')}>${short && q
      ? tr(L, 'shortfall', {
          balance: money(q.balanceCents, L),
          shortfall: money(q.shortfallCents, L),
          topup: money(topup, L),
          topupGross: money(addVat(cents(topup), cat.vatRateBasisPoints).grossCents, L),
        })
      : ''}</p>
</div>
<form method="post" action="/mailboxes/${encodeURIComponent(mailboxId)}/extra-space" id="confirm-form">${csrfField(h)}
<input type="hidden" name="quantityGb" id="q-quantity" value="${q ? q.quantityGb : ''}">
<input type="hidden" name="withTopup" id="q-withtopup" value="1"${short ? '' : raw(' disabled')}>
<button type="submit" class="primary" id="q-submit">${short ? d.topupAndComplete : d.confirm}</button>
</form>
</section>`;
  };

  const extraSpacePage = async (
    req: FastifyRequest,
    reply: FastifyReply,
    h: Holder,
    quantityText: string | null,
    forced: { status: number; message: string } | null = null,
  ) => {
    const L = h.L;
    const row = await readMailbox(ctx.db, idOf(req), h.auth.customerId);
    if (!row) return notFoundPage(req, reply, h);
    const m = mailboxView(row, cat);
    let quote: QuoteView | null = null;
    let problem = forced;
    if (!problem && quantityText !== null) {
      const q = parseQuantity(quantityText);
      if (q === null) problem = { status: 422, message: tr(L, 'quantityInvalid') };
      else {
        try {
          const r = await quoteExtraSpaceFor(ctx, h.auth.customerId, m.id, q);
          quote = quoteView(r.quote, r.balanceCents);
        } catch (err) {
          problem = quoteError(err, L);
          if (!problem) throw err;
        }
      }
    }
    const invalid = problem ? html` aria-invalid="true" aria-describedby="quantity-error quantity-hint"` : html` aria-describedby="quantity-hint"`;
    const id = encodeURIComponent(m.id);
    const body = html`<p class="crumb"><a href="/mailboxes/${id}">${m.address}</a></p>
<h1>${tr(L, 'buyTitle')}</h1>
<p>${tr(L, 'buyFor', { address: m.address, date: day(m.expiresOn, L) })}</p>
<section class="card" aria-labelledby="extra-h">
<h2 id="extra-h">${tr(L, 'extraSpace')}</h2>
<form method="get" action="/mailboxes/${id}/extra-space" id="quote-form" data-mailbox="${m.id}" novalidate>
<div class="field${problem ? ' has-error' : ''}"><label for="quantityGb">${tr(L, 'quantity')}</label>
<input id="quantityGb" name="quantityGb" type="number" inputmode="numeric" min="1" max="${cat.extraSpace.maxGbPerMailbox}" step="1" required value="${quantityText ?? ''}"${invalid}>
<p class="muted small" id="quantity-hint">${tr(L, 'quantityHint', { unit: withVat(cat.extraSpace.pricePerGbYearCents, L) })}</p>
<p class="error" id="quantity-error"${problem ? '' : raw(' hidden')}>${problem?.message ?? ''}</p>
</div>
<button type="submit">${tr(L, 'showPrice')}</button>
</form>
</section>
${quoteSection(h, m.id, quote)}`;
    return holderPage(req, reply, h, {
      status: problem?.status ?? 200,
      title: tr(L, 'buyTitle'),
      current: '/mailboxes',
      body,
      scripts: ['/assets/casella.js'],
    });
  };

  server.get(
    '/mailboxes/:id/extra-space',
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) => {
      const q = queryOf(req).quantityGb;
      return extraSpacePage(req, reply, h, typeof q === 'string' ? q : null);
    }),
  );

  server.post(
    '/mailboxes/:id/extra-space',
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) => {
      const f = formOf(req);
      const qText = text(f, 'quantityGb');
      const quantity = parseQuantity(qText);
      if (quantity === null) return extraSpacePage(req, reply, h, qText, { status: 422, message: tr(h.L, 'quantityInvalid') });
      const mailboxId = idOf(req);
      let placed;
      try {
        placed = await placeExtraSpaceOrder(ctx, h.auth.customerId, mailboxId, quantity);
      } catch (err) {
        const problem = quoteError(err, h.L);
        if (!problem) throw err;
        return extraSpacePage(req, reply, h, qText, problem);
      }
      if (placed.order.status === 'completed') return reply.redirect(`/mailboxes/${encodeURIComponent(mailboxId)}?msg=purchaseDone`, 303);
      if (text(f, 'withTopup') === '1') return payForOrder(reply, h, orderView(placed.order, placed.balanceCents, clock.nowMs(), cat));
      return reply.redirect('/orders?msg=orderWaiting', 303);
    }),
  );

  /** The card payment of a new top-up: the gateway's page, or the top-up's own page when it has none. */
  const toCheckout = (reply: FastifyReply, topup: TopupRow) =>
    reply.redirect(gateway.checkoutUrl(topup) ?? `/credit/topups/${encodeURIComponent(topup.id)}`, 303);

  const payForOrder = async (reply: FastifyReply, h: Holder, o: OrderView) => {
    const amount = maxCents(cents(o.topupRequiredCents), cat.topupMinCents);
    return toCheckout(reply, await startTopup(ctx, gateway, h.auth.customerId, amount, o.id));
  };

  // ---------- orders ----------
  server.get(
    '/orders',
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) => {
      const L = h.L;
      const [orders, balance, rows] = await Promise.all([
        readOrders(ctx, h.auth.customerId),
        readBalance(ctx.db, h.auth.customerId),
        readMailboxes(ctx.db, h.auth.customerId),
      ]);
      const address = new Map(rows.map((r) => [r.id, r.address]));
      const views = orders.map((o) => orderView(o, balance, clock.nowMs(), cat));
      const body = html`<h1>${tr(L, 'ordersTitle')}</h1>
${notice(L, req)}
${views.length === 0
  ? html`<p>${tr(L, 'noOrders')}</p>`
  : html`<div class="table-wrap"><table>
<thead><tr><th scope="col">${tr(L, 'colDate')}</th><th scope="col">${tr(L, 'colOrder')}</th><th scope="col">${tr(L, 'colMailbox')}</th><th scope="col" class="num">${tr(L, 'colAmount')}</th><th scope="col">${tr(L, 'colStatus')}</th><th scope="col">${tr(L, 'colActions')}</th></tr></thead>
<tbody>${views.map((o) => {
      const oid = encodeURIComponent(o.id);
      return html`<tr><td>${instantDay(o.createdAt, L)}</td>
<td>${o.kind === 'renewal' ? tr(L, 'orderRenewal') : tr(L, 'orderExtra', { gb: o.quantityGb })}</td>
<td class="addr">${address.get(o.mailboxId) ?? ''}</td>
<td class="num">${money(o.amountCents, L)}</td>
<td>${tr(L, `order_${o.status}` as Key)}</td>
<td>${o.status === 'awaiting_topup'
        ? html`<form method="post" action="/orders/${oid}/pay" class="inline">${csrfField(h)}<button type="submit" class="primary">${tr(L, 'topupAndComplete')}</button></form>
<form method="post" action="/orders/${oid}/cancel" class="inline">${csrfField(h)}<button type="submit">${tr(L, 'cancelOrder')}</button></form>`
        : ''}</td></tr>`;
    })}</tbody></table></div>`}`;
      return holderPage(req, reply, h, { title: tr(L, 'ordersTitle'), current: '/orders', body });
    }),
  );

  server.post(
    '/orders/:id/cancel',
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) => {
      try {
        await cancelOrder(ctx, h.auth.customerId, idOf(req));
        return reply.redirect('/orders?msg=orderCancelled', 303);
      } catch (err) {
        if (err instanceof DomainError && err.code === 'order_not_pending') return reply.redirect('/orders?msg=orderNotPending', 303);
        throw err;
      }
    }),
  );

  server.post(
    '/orders/:id/pay',
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) => {
      const order = await readOrder(ctx, h.auth.customerId, idOf(req));
      const view = orderView(order, await readBalance(ctx.db, h.auth.customerId), clock.nowMs(), cat);
      if (view.status !== 'awaiting_topup') return reply.redirect('/orders?msg=orderNotPending', 303);
      try {
        return await payForOrder(reply, h, view);
      } catch (err) {
        if (err instanceof DomainError && err.code === 'order_not_pending') return reply.redirect('/orders?msg=orderNotPending', 303);
        throw err;
      }
    }),
  );

  // ---------- credit ----------
  const creditPage = async (req: FastifyRequest, reply: FastifyReply, h: Holder, status = 200, amountText = '', error: string | null = null) => {
    const L = h.L;
    const st = await readStatement(ctx, h.auth.customerId);
    const range = { min: money(cat.topupMinCents, L), max: money(cat.topupMaxCents, L) };
    const invalid = error ? html` aria-invalid="true" aria-describedby="amount-error amount-hint"` : html` aria-describedby="amount-hint"`;
    const body = html`<h1>${tr(L, 'creditTitle')}</h1>
${notice(L, req)}
<section class="card" aria-labelledby="balance-h">
<h2 id="balance-h">${tr(L, 'balance')}</h2>
<p class="big" id="balance">${money(st.balanceCents, L)}</p>
</section>
<section class="card" aria-labelledby="topup-h">
<h2 id="topup-h">${tr(L, 'topupTitle')}</h2>
<form method="post" action="/credit/topups" novalidate>${csrfField(h)}
<div class="field${error ? ' has-error' : ''}"><label for="amount">${tr(L, 'topupAmount')}</label>
<input id="amount" name="amount" type="text" inputmode="decimal" autocomplete="off" required value="${amountText}"${invalid}>
<p class="muted small" id="amount-hint">${tr(L, 'topupHint', { ...range, vat: pct(cat.vatRateBasisPoints) })}</p>
${error ? html`<p class="error" id="amount-error">${error}</p>` : ''}
</div>
<button type="submit" class="primary">${tr(L, 'topupButton')}</button>
</form>
</section>
<section class="card" aria-labelledby="mov-h">
<h2 id="mov-h">${tr(L, 'movements')}</h2>
${st.transactions.length === 0
  ? html`<p>${tr(L, 'noMovements')}</p>`
  : html`<div class="table-wrap"><table>
<thead><tr><th scope="col">${tr(L, 'colDate')}</th><th scope="col">${tr(L, 'colDescription')}</th><th scope="col" class="num">${tr(L, 'colAmount')}</th><th scope="col" class="num">${tr(L, 'colBalanceAfter')}</th></tr></thead>
<tbody>${st.transactions.map(
      (t) => html`<tr><td>${instantDay(t.created_at, L)}</td><td>${t.description}</td>
<td class="num ${t.wallet_amount_cents < 0 ? 'neg' : 'pos'}">${t.wallet_amount_cents > 0 ? '+' : ''}${money(t.wallet_amount_cents, L)}</td>
<td class="num">${money(t.balance_after_cents, L)}</td></tr>`,
    )}</tbody></table></div>`}
</section>`;
    return holderPage(req, reply, h, { status, title: tr(L, 'creditTitle'), current: '/credit', body });
  };

  server.get('/credit', { schema: { hide: true } }, holderRoute(async (req, reply, h) => creditPage(req, reply, h)));

  server.post(
    '/credit/topups',
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) => {
      const amountText = text(formOf(req), 'amount').slice(0, 40);
      const amount = parseEuros(amountText);
      if (amount === null || amount < cat.topupMinCents || amount > cat.topupMaxCents) {
        const msg = tr(h.L, 'topupInvalid', { min: money(cat.topupMinCents, h.L), max: money(cat.topupMaxCents, h.L) });
        return creditPage(req, reply, h, 422, amountText, msg);
      }
      return toCheckout(reply, await startTopup(ctx, gateway, h.auth.customerId, amount, null));
    }),
  );

  server.get(
    '/credit/topups/:id',
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) => {
      const L = h.L;
      const t = await readTopup(ctx, h.auth.customerId, idOf(req));
      let outcome: Html;
      if (t.status === 'succeeded') {
        outcome = html`<p class="notice" role="status">${tr(L, 'topupSucceeded', { amount: money(t.amount_cents, L), charge: money(t.charge_cents, L) })}</p>`;
      } else if (t.status === 'failed') {
        const reasonKey = (t.failure_code === 'card_declined' || t.failure_code === 'insufficient_funds' ? `reason_${t.failure_code}` : 'reason_other') as Key;
        outcome = html`<p class="error" role="alert">${tr(L, 'topupFailed', { reason: tr(L, reasonKey) })}</p>
<p><a href="${t.order_id ? '/orders' : '/credit'}">${tr(L, 'tryAgain')}</a></p>`;
      } else {
        const url = gateway.checkoutUrl(t);
        outcome = html`<p role="status">${tr(L, 'topupPending')}</p>${url ? html`<p><a class="button" href="${url}">${tr(L, 'payNow')}</a></p>` : ''}`;
      }
      let orderPart: Html = html``;
      if (t.order_id) {
        const o = orderView(await readOrder(ctx, h.auth.customerId, t.order_id), await readBalance(ctx.db, h.auth.customerId), clock.nowMs(), cat);
        const back = html`<p><a href="/mailboxes/${encodeURIComponent(o.mailboxId)}">${tr(L, 'backToMailbox')}</a></p>`;
        orderPart =
          o.status === 'completed'
            ? html`<p class="notice" role="status"><strong>${tr(L, 'orderCompleted')}</strong></p>${back}`
            : t.status === 'pending'
              ? html``
              : html`<p>${tr(L, 'orderNotCompleted', { status: tr(L, `order_${o.status}` as Key) })}</p>${back}`;
      }
      const body = html`<h1>${tr(L, 'topupResultTitle')}</h1>
<section class="card">
${outcome}
${orderPart}
<p><a href="/credit">${tr(L, 'navCredit')}</a></p>
</section>`;
      return holderPage(req, reply, h, { title: tr(L, 'topupResultTitle'), current: '/credit', body });
    }),
  );



}
