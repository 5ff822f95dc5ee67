// What every page of the customer area shares: the frame with its navigation and language switch,
// formatting, the holder's session and CSRF check around each route, and the way to the card payment.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../app.ts';
import type { PaymentGateway } from '../payments/gateway.ts';
import { csrfOk, sessionOf, type HolderAuth } from '../http/auth.ts';
import { SESSION_COOKIE } from '../http/cookies.ts';
import { startTopup } from '../payments/checkout.ts';
import { readCustomer, type CustomerRow, type TopupRow } from '../services/rows.ts';
import { readDisputedAndDebt } from '../services/billing/disputes.ts';
import { type MailboxView, type OrderView } from '../services/views.ts';
import { DomainError } from '../services/errors.ts';
import { longDate, money, type Locale } from '../i18n/format.ts';
import { date, dateInRome } from '../domain/calendar.ts';
import { cents, maxCents } from '../domain/money.ts';
import { buyerVat, shownPrice, type BuyerVat } from '../domain/price-display.ts';
import { vatTermsFor, type VatTerms } from '../domain/vat.ts';
import { readBillingProfile } from '../services/billing/billing-profiles.ts';
import { BYTES_PER_GB } from '../domain/catalogue.ts';
import { safeNext } from './forms.ts';
import { html, raw, type Html } from './html.ts';
import { page } from './layout.ts';
import { cardChargeBanner } from './card-banner.ts';
import { DICTIONARY, tr, type Key } from './i18n.ts';

export const HTML_TYPE = 'text/html; charset=utf-8';

/** Flash messages carried in ?msg= after a redirect: only these keys are shown. */
const MESSAGES = ['purchaseDone', 'renewalDone', 'settingsSaved', 'orderWaiting', 'orderCancelled', 'orderNotPending', 'passwordChanged', 'twoStepDisabled', 'nameSaved', 'localeSaved', 'emailLinkSent', 'othersEnded', 'withdrawDone', 'withdrawPending'] as const;
type MessageKey = (typeof MESSAGES)[number];

export interface Holder {
  auth: HolderAuth;
  customer: CustomerRow;
  L: Locale;
  /** R1/R16: how this holder reads prices (a consumer sees VAT included first). */
  buyer: BuyerVat;
  /** R18 (issue 22): failed card charges, shown on every page. */
  cardBanner?: Html;
}

type Form = Record<string, unknown>;
export const formOf = (req: FastifyRequest): Form => (req.body && typeof req.body === 'object' ? (req.body as Form) : {});
export const queryOf = (req: FastifyRequest): Form => (req.query && typeof req.query === 'object' ? (req.query as Form) : {});
export const text = (f: Form, k: string): string => (typeof f[k] === 'string' ? (f[k] as string) : '');

export const gb = (bytes: number, L: Locale): string =>
  (bytes / BYTES_PER_GB).toLocaleString(L === 'it' ? 'it-IT' : 'en-GB', { maximumFractionDigits: 2 });

/** Cents written as the top-up field reads them in this language (parseEuros): "25,50" or "25.50". */
export const eurosText = (amount: number, L: Locale): string =>
  `${Math.trunc(amount / 100)}${L === 'it' ? ',' : '.'}${String(amount % 100).padStart(2, '0')}`;

/** The page a request was made from, to come back to: after a form post, the form's own page (a page that can be fetched). */
export function pageToComeBackTo(req: FastifyRequest): string {
  if (req.method === 'GET') return safeNext(req.url);
  const path = req.url.split('?')[0]!;
  let formPage = '/';
  if (/^\/(login|password-dimenticata|mailboxes\/[^/]+\/extra-space)$/.test(path)) formPage = path;
  else if (path === '/credit/topups') formPage = '/credit';
  else if (path.startsWith('/profilo/due-passaggi/')) formPage = '/profilo/due-passaggi';
  else if (path.startsWith('/profilo/')) formPage = '/profilo';
  else if (/^\/mailboxes\/[^/]+/.test(path)) formPage = path.split('/').slice(0, 3).join('/');
  return safeNext(formPage);
}

export type WebKit = ReturnType<typeof webKit>;

export function webKit(app: App, gateway: PaymentGateway) {
  const ctx = app.ctx;
  const cat = ctx.catalogue;

  /** The dictionary key of how this buyer reads a price, for the page and for casella.js. */
  const priceKey = (buyer: BuyerVat): Key => {
    const order = shownPrice(cents(0), buyer).order;
    if (order === 'no_vat') return buyer.treatment === 'standard' ? 'priceNoVat' : `withoutVat_${buyer.treatment}`;
    return order === 'gross_first' ? 'priceGrossFirst' : 'priceNetFirst';
  };
  /** A net price as the holder reads it: every price on the holder's pages goes through here. */
  const price = (net: number, h: Pick<Holder, 'L' | 'buyer'>): string => {
    const p = shownPrice(cents(net), h.buyer);
    return tr(h.L, priceKey(h.buyer), { net: money(p.netCents, h.L), gross: money(p.grossCents, h.L) });
  };
  /** R16: how VAT applies to this holder, from their billing data (the catalogue's rate until they have some). */
  const vatTermsOf = async (h: Holder): Promise<VatTerms> =>
    vatTermsFor((await readBillingProfile(ctx.db, h.auth.customerId))?.profile ?? null, cat.vatRateBasisPoints);
  const day = (iso: string, L: Locale): string => longDate(date(iso), L);
  const instantDay = (iso: string | Date, L: Locale): string => longDate(dateInRome(new Date(iso).getTime()), L);
  const timeOfDay = (d: Date, L: Locale): string =>
    new Intl.DateTimeFormat(L === 'it' ? 'it-IT' : 'en-GB', { timeZone: 'Europe/Rome', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d);
  const statusLabel = (s: MailboxView['status'], L: Locale) =>
    tr(L, s === 'active' ? 'statusActive' : s === 'expired' ? 'statusExpired' : s === 'suspended' ? 'statusSuspended' : 'statusTerminated');
  const typeLabel = (t: string, L: Locale) => tr(L, t === 'pro' ? 'typePro' : 'typeStandard');
  const pct = (bp: number) => (bp / 100).toLocaleString('it-IT');

  const switchLink = (L: Locale, req: FastifyRequest) => {
    const other: Locale = L === 'it' ? 'en' : 'it';
    const next = pageToComeBackTo(req);
    return { label: DICTIONARY[L].switchTo, lang: other, href: `/lang/${other}?next=${encodeURIComponent(next)}`, next };
  };

  const nav = (h: Holder, current: string): Html => {
    const L = h.L;
    const item = (href: string, key: Key) =>
      html`<li><a href="${href}"${current === href ? raw(' aria-current="page"') : ''}>${tr(L, key)}</a></li>`;
    return html`<nav class="wrap" aria-label="${tr(L, 'navLabel')}"><ul class="nav">
${item('/', 'navHome')}${item('/mailboxes', 'navMailboxes')}${item('/credit', 'navCredit')}${item('/orders', 'navOrders')}${item('/fatture', 'navInvoices')}${item('/profilo', 'navProfile')}
<li class="nav-end"><form method="post" action="/logout" class="inline">${csrfField(h)}<button type="submit" class="linklike">${tr(L, 'logout')}</button></form></li>
</ul></nav>`;
  };
  const csrfField = (h: Holder): Html => html`<input type="hidden" name="_csrf" value="${h.auth.csrfToken}">`;

  const send = (reply: FastifyReply, status: number, body: string) => reply.code(status).type(HTML_TYPE).send(body);

  /** R17: frozen credit and a debt are said on every page (the holder must not be surprised at renewal). */
  const moneyBackBanner = async (h: Holder): Promise<Html> => {
    const held = await readDisputedAndDebt(ctx.db, h.auth.customerId);
    if (held.disputedCents <= 0 && held.debtCents <= 0) return html``;
    return html`<div class="banner banner-bad" role="region" aria-label="${tr(h.L, 'creditTitle')}">
${held.disputedCents > 0 ? html`<p>${tr(h.L, 'disputedBanner', { amount: money(held.disputedCents, h.L) })}</p>` : ''}
${held.debtCents > 0 ? html`<p><strong>${tr(h.L, 'debtBanner', { amount: money(held.debtCents, h.L) })}</strong></p>` : ''}
</div>`;
  };

  const holderPage = async (
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
        body: html`${h.cardBanner ?? ''}${await moneyBackBanner(h)}${o.body}`,
        csrfToken: h.auth.csrfToken,
        langSwitch: switchLink(h.L, req),
        brand: app.config.brand,
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
      if (!auth || !customer) {
        // An expired session says so, and the login brings the holder back to where they were.
        const expired = Boolean(req.cookies[SESSION_COOKIE]);
        if (expired) reply.clearCookie(SESSION_COOKIE, { path: '/' });
        const next = pageToComeBackTo(req);
        const query = [expired ? 'expired=1' : '', next !== '/' ? `next=${encodeURIComponent(next)}` : ''].filter(Boolean).join('&');
        return reply.redirect(query ? `/login?${query}` : '/login', 303);
      }
      const billing = await readBillingProfile(ctx.db, auth.customerId);
      const h: Holder = { auth, customer, L: customer.locale, buyer: buyerVat(billing?.profile ?? null, cat) };
      h.cardBanner = await cardChargeBanner(ctx.db, auth.customerId, h.L, (topupId) =>
        gateway.name === 'test' ? `/test-gateway/authenticate/${encodeURIComponent(topupId)}` : `/credit/topups/${encodeURIComponent(topupId)}`);
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

  /** Where the card payment of a new top-up happens: the gateway's page, or the top-up's own page when it has none. */
  const checkoutLocation = (topup: TopupRow): string => gateway.checkoutUrl(topup) ?? `/credit/topups/${encodeURIComponent(topup.id)}`;

  /** R15: whether the holder has billing data, which a card payment needs first. */
  const hasBillingProfile = async (h: Holder): Promise<boolean> =>
    (await ctx.db.query('SELECT 1 FROM billing_profiles WHERE customer_id = $1', [h.auth.customerId])).length > 0;

  /** Starts the top-up that completes an order waiting for credit; where to pay it (or, first, the billing data). */
  const topupForOrder = async (h: Holder, o: OrderView): Promise<string> => {
    // R15: the billing data first; that form then goes straight on to this payment.
    if (!(await hasBillingProfile(h))) return `/profilo/fatturazione?order=${encodeURIComponent(o.id)}`;
    const amount = maxCents(cents(o.topupRequiredCents), cat.topupMinCents);
    return checkoutLocation(await startTopup(ctx, gateway, h.auth.customerId, amount, o.id));
  };

  return { app, ctx, cat, gateway, price, priceKey, day, instantDay, timeOfDay, statusLabel, typeLabel, pct, switchLink, nav, csrfField, send, holderPage, notice, notFoundPage, holderRoute, idOf, checkoutLocation, topupForOrder, hasBillingProfile, vatTermsOf };
}
