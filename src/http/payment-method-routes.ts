// R18 (API.md "Holder API", payment methods): the holder's saved cards, and the test gateway's
// stand-in pages for saving a card (`/test-gateway/setup/{id}`) and for authorising an off-session
// charge the bank wants authenticated (`/test-gateway/authenticate/{topupId}`).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { App } from '../app.ts';
import { clock } from '../clock.ts';
import { html, type Html } from '../web/html.ts';
import { page } from '../web/layout.ts';
import { tr } from '../web/i18n.ts';
import { isLocale, money, type Locale } from '../i18n/format.ts';
import { authoriseTestCharge, decideCardToSave, testCardSavedNotification, type SavedCardGateway } from '../payments/saved-cards.ts';
import { TEST_SIGNATURE_HEADER, testNotification } from '../payments/test-gateway.ts';
import { listPaymentMethods, paymentMethodView, readCardSetup, removePaymentMethod, startCardSetup } from '../services/billing/payment-methods.ts';
import { confirmCardCharge } from '../services/renewals/card-charge-confirmation.ts';
import { DomainError } from '../services/errors.ts';
import { requireHolder } from './auth.ts';
import { LANG_COOKIE } from './cookies.ts';
import { idempotent } from './idempotency.ts';
import * as S from './schemas.ts';

const NOTIFY_TIMEOUT_MS = 10_000;
const CARD_FORM_FIELD_LENGTH_MAX = 40;

/** This server's own listening address: the test gateway notifies over real HTTP, as a provider would. */
function ownBaseUrl(server: FastifyInstance): string {
  const addrs = server.addresses().filter((x): x is import('node:net').AddressInfo => typeof x !== 'string');
  const a = addrs.find((x) => x.family === 'IPv4') ?? addrs[0];
  if (!a) throw new Error('the server is not listening');
  const host = a.family === 'IPv6' ? `[${a.address === '::' ? '::1' : a.address}]` : a.address === '0.0.0.0' ? '127.0.0.1' : a.address;
  return `http://${host}:${a.port}`;
}

async function notifyWebhook(server: FastifyInstance, n: { body: string; signature: string }): Promise<boolean> {
  const res = await fetch(`${ownBaseUrl(server)}/api/payments/webhook/test`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [TEST_SIGNATURE_HEADER]: n.signature },
    body: n.body,
    signal: AbortSignal.timeout(NOTIFY_TIMEOUT_MS),
  });
  return res.ok;
}

export async function paymentMethodRoutes(server: FastifyInstance, opts: { app: App; savedCards: SavedCardGateway }) {
  const { app, savedCards } = opts;
  const ctx = app.ctx;
  const tags = ['holder'];

  await server.register(async (s) => {
    s.addHook('onRequest', requireHolder(app));
    const h = s.withTypeProvider<TypeBoxTypeProvider>();
    h.get('/api/payment-methods', { schema: { tags, response: { 200: Type.Object({ paymentMethods: Type.Array(S.PaymentMethod) }), ...S.errors(401, 403) } } }, async (req) => ({
      paymentMethods: (await listPaymentMethods(ctx.db, req.holder!.customerId)).map(paymentMethodView),
    }));
    h.post(
      '/api/payment-methods',
      {
        schema: {
          tags,
          body: Type.Optional(S.EmptyBody),
          response: { 201: Type.Object({ setup: Type.Object({ id: Type.String(), setupUrl: Type.String() }) }), ...S.errors(401, 403, 409, 422) },
        },
      },
      async (req, reply) =>
        idempotent(app, req, reply, `holder:${req.holder!.customerId}`, async () => {
          const setup = await startCardSetup(ctx, savedCards, req.holder!.customerId);
          return { status: 201, body: { setup: { id: setup.id, setupUrl: setup.setup_url! } } };
        }),
    );
    // R18: where the holder confirms, on-session, a card charge the bank wanted authenticated.
    h.post(
      '/api/credit/topups/:id/confirmation',
      {
        schema: {
          tags,
          params: S.IdParams,
          body: Type.Optional(S.EmptyBody),
          response: { 200: Type.Object({ confirmationUrl: Type.String() }), ...S.errors(401, 403, 404, 409, 422) },
        },
      },
      async (req) => {
        const answer = await confirmCardCharge(ctx, savedCards, req.holder!.customerId, req.params.id);
        if (answer.kind === 'settled') throw new DomainError('topup_not_pending', 'The payment is already made');
        if (answer.kind === 'processing') throw new DomainError('topup_not_pending', 'The payment is being confirmed by the gateway');
        return { confirmationUrl: answer.url };
      },
    );
    h.delete(
      '/api/payment-methods/:id',
      { schema: { tags, params: S.IdParams, response: { 200: Type.Object({ mailboxesSwitchedOff: Type.Array(Type.String()) }), ...S.errors(401, 403, 404) } } },
      async (req) => removePaymentMethod(ctx, { kind: 'holder', id: req.holder!.customerId }, req.holder!.customerId, req.params.id),
    );
  });

  if (savedCards.name !== 'test') return;

  const localeOf = async (req: FastifyRequest, customerId: string | null): Promise<Locale> => {
    const c = req.cookies[LANG_COOKIE];
    if (isLocale(c)) return c;
    if (!customerId) return 'it';
    const [row] = await ctx.db.query<{ locale: Locale }>('SELECT locale FROM customers WHERE id = $1', [customerId]);
    return row?.locale ?? 'it';
  };
  const sendPage = (reply: import('fastify').FastifyReply, status: number, L: Locale, title: string, body: Html) =>
    reply.code(status).type('text/html; charset=utf-8').send(page({ lang: L, title, body }));
  const notFoundBody = (L: Locale) => html`<h1>${tr(L, 'gwNotFound')}</h1><p><a href="/">${tr(L, 'gwBack')}</a></p>`;

  type CardField = 'cardNumber' | 'expiry' | 'cvc';
  const setupForm = (L: Locale, setupId: string, errors: Partial<Record<CardField, string>> = {}, notice?: string) => {
    const field = (name: CardField, label: string, attrs: { autocomplete: string; placeholder: string }) => {
      const err = errors[name];
      return html`<div class="field${err ? ' has-error' : ''}">
  <label for="${name}">${label}</label>
  <input id="${name}" name="${name}" type="text" inputmode="numeric" autocomplete="${attrs.autocomplete}" placeholder="${attrs.placeholder}"
    maxlength="${CARD_FORM_FIELD_LENGTH_MAX}" required${err ? html` aria-invalid="true" aria-describedby="${name}-error"` : ''}>
  ${err ? html`<p class="error" id="${name}-error">${err}</p>` : ''}
</div>`;
    };
    return html`<section class="card narrow">
<h1>${tr(L, 'gwSetupTitle')}</h1>
<p class="muted">${tr(L, 'gwSetupIntro')}</p>
${notice ? html`<p class="error" role="alert">${notice}</p>` : ''}
<form method="post" action="/test-gateway/setup/${setupId}" novalidate>
${field('cardNumber', tr(L, 'gwCardNumber'), { autocomplete: 'cc-number', placeholder: '4242 4242 4242 4242' })}
${field('expiry', tr(L, 'gwExpiry'), { autocomplete: 'cc-exp', placeholder: tr(L, 'gwExpiryPlaceholder') })}
${field('cvc', 'CVC', { autocomplete: 'cc-csc', placeholder: '123' })}
<button type="submit" class="primary">${tr(L, 'gwSaveCard')}</button>
</form>
<p class="muted small">${tr(L, 'gwSetupTestCards')}</p>
</section>`;
  };

  server.get<{ Params: { id: string } }>('/test-gateway/setup/:id', { schema: { hide: true } }, async (req, reply) => {
    const setup = await readCardSetup(ctx.db, req.params.id.slice(0, 100));
    const L = await localeOf(req, setup?.customer_id ?? null);
    if (!setup) return sendPage(reply, 404, L, tr(L, 'gwNotFound'), notFoundBody(L));
    if (setup.status !== 'pending') return reply.redirect('/metodi-di-pagamento', 303);
    return sendPage(reply, 200, L, tr(L, 'gwSetupTitle'), setupForm(L, setup.id));
  });

  server.post<{ Params: { id: string }; Body: unknown }>('/test-gateway/setup/:id', { schema: { hide: true } }, async (req, reply) => {
    const setup = await readCardSetup(ctx.db, req.params.id.slice(0, 100));
    const L = await localeOf(req, setup?.customer_id ?? null);
    if (!setup) return sendPage(reply, 404, L, tr(L, 'gwNotFound'), notFoundBody(L));
    if (setup.status !== 'pending') return reply.redirect('/metodi-di-pagamento', 303);
    const form = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
    const text = (k: string) => (typeof form[k] === 'string' ? (form[k] as string).slice(0, CARD_FORM_FIELD_LENGTH_MAX) : '');
    // R12: the number lives only in this function's locals; the gateway keeps it, Casella gets a reference.
    const decision = decideCardToSave({ cardNumber: text('cardNumber'), expiry: text('expiry'), cvc: text('cvc') }, new Date(clock.wallMs()));
    if (!decision.ok) {
      const errors: Partial<Record<CardField, string>> = {};
      if (decision.fields.cardNumber) errors.cardNumber = tr(L, 'gwBadCard');
      if (decision.fields.expiry) errors.expiry = tr(L, decision.fields.expiry === 'past' ? 'gwExpired' : 'gwBadExpiry');
      if (decision.fields.cvc) errors.cvc = tr(L, 'gwBadCvc');
      return sendPage(reply, 422, L, tr(L, 'gwSetupTitle'), setupForm(L, setup.id, errors));
    }
    const n = testCardSavedNotification(app.config.testGatewaySecret, { setupId: setup.id, card: { ...decision.card, gatewayCustomer: null } }, Math.floor(clock.wallMs() / 1000));
    if (!(await notifyWebhook(server, n))) {
      req.log.error({ setupId: setup.id }, 'test gateway card notification refused');
      return sendPage(reply, 502, L, tr(L, 'gwSetupTitle'), setupForm(L, setup.id, {}, tr(L, 'gwNotRecorded')));
    }
    return reply.redirect('/metodi-di-pagamento', 303);
  });

  interface WaitingCharge { topup_id: string; customer_id: string; charge_cents: number; last4: string }
  const waitingCharge = async (topupId: string): Promise<WaitingCharge | null> => {
    const [row] = await ctx.db.query<WaitingCharge>(
      `SELECT t.id AS topup_id, t.customer_id, t.charge_cents, p.last4 FROM topups t JOIN payment_methods p ON p.id = t.payment_method_id
        JOIN test_gateway_charges g ON g.topup_id = t.id
        WHERE t.id = $1 AND t.status = 'pending' AND g.outcome = 'requires_action' AND g.authorised_at IS NULL`,
      [topupId.slice(0, 100)],
    );
    return row ?? null;
  };
  const authPage = (L: Locale, w: WaitingCharge) => html`<section class="card narrow">
<h1>${tr(L, 'gwAuthTitle')}</h1>
<p>${tr(L, 'gwAuthIntro', { last4: w.last4 })}</p>
<dl class="facts"><div><dt>${tr(L, 'gwCharged')}</dt><dd><strong>${money(w.charge_cents, L)}</strong></dd></div></dl>
<form method="post" action="/test-gateway/authenticate/${w.topup_id}"><button type="submit" class="primary">${tr(L, 'gwAuthorise')}</button></form>
</section>`;
  const notWaiting = (L: Locale) => html`<h1>${tr(L, 'gwAuthTitle')}</h1><p>${tr(L, 'gwAuthNotWaiting')}</p><p><a href="/">${tr(L, 'gwBack')}</a></p>`;

  server.get<{ Params: { topupId: string } }>('/test-gateway/authenticate/:topupId', { schema: { hide: true } }, async (req, reply) => {
    const w = await waitingCharge(req.params.topupId);
    const L = await localeOf(req, w?.customer_id ?? null);
    if (!w) return sendPage(reply, 404, L, tr(L, 'gwAuthTitle'), notWaiting(L));
    return sendPage(reply, 200, L, tr(L, 'gwAuthTitle'), authPage(L, w));
  });

  server.post<{ Params: { topupId: string } }>('/test-gateway/authenticate/:topupId', { schema: { hide: true } }, async (req, reply) => {
    const w = await waitingCharge(req.params.topupId);
    const L = await localeOf(req, w?.customer_id ?? null);
    if (!w || (await authoriseTestCharge(ctx.db, w.topup_id)) !== 'authorised') return sendPage(reply, 404, L, tr(L, 'gwAuthTitle'), notWaiting(L));
    // The bank said yes: the gateway completes the charge and tells Casella, as for any payment.
    const n = testNotification(app.config.testGatewaySecret, { topupId: w.topup_id, outcome: 'succeeded', failureCode: null }, Math.floor(clock.wallMs() / 1000));
    if (!(await notifyWebhook(server, n))) return sendPage(reply, 502, L, tr(L, 'gwAuthTitle'), html`<p class="error" role="alert">${tr(L, 'gwNotRecorded')}</p>`);
    return reply.redirect(`/credit/topups/${encodeURIComponent(w.topup_id)}`, 303);
  });
}
