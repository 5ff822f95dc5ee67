// Payments (API.md "Payments"): the gateway's webhook, and the test gateway's stand-in checkout page.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { App } from '../app.ts';
import { clock } from '../clock.ts';
import type { PaymentGateway } from '../payments/gateway.ts';
import { decideCard, TEST_SIGNATURE_HEADER, testDisputeNotification, testNotification } from '../payments/test-gateway.ts';
import { applyDispute } from '../services/billing/disputes.ts';
import { applyPaymentOutcome, readTopup } from '../services/billing/topups.ts';
import { paymentsTotal } from '../metrics.ts';
import { completeCardSetup, recordSavedCard } from '../services/billing/payment-methods.ts';
import type { SavedCardGateway } from '../payments/saved-cards.ts';
import { DomainError } from '../services/errors.ts';
import type { TopupRow } from '../services/rows.ts';
import { money, type Locale } from '../i18n/format.ts';
import { tr } from '../web/i18n.ts';
import { chosenLocale, visitorLocale } from './cookies.ts';
import { html } from '../web/html.ts';
import { page } from '../web/layout.ts';
import { sendError } from './errors.ts';

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

type CardField = 'cardNumber' | 'expiry' | 'cvc';

/** The page in the holder's language, as a provider's page follows the locale it is opened with. */
function checkoutPage(L: Locale, t: TopupRow, errors: Partial<Record<CardField, string>> = {}, notice?: string): string {
  const field = (name: CardField, label: string, attrs: { autocomplete: string; inputmode: string; placeholder: string }) => {
    const err = errors[name];
    const errId = `${name}-error`;
    return html`<div class="field${err ? ' has-error' : ''}">
  <label for="${name}">${label}</label>
  <input id="${name}" name="${name}" type="text" inputmode="${attrs.inputmode}" autocomplete="${attrs.autocomplete}" placeholder="${attrs.placeholder}"
    maxlength="${CARD_FORM_FIELD_LENGTH_MAX}" required${err ? html` aria-invalid="true" aria-describedby="${errId}"` : ''}>
  ${err ? html`<p class="error" id="${errId}">${err}</p>` : ''}
</div>`;
  };
  const body = html`<section class="card narrow">
<h1>${tr(L, 'gwTitle')}</h1>
<p class="muted">${tr(L, 'gwIntro')}</p>
<dl class="facts">
  <div><dt>${tr(L, 'gwCredit')}</dt><dd>${money(t.amount_cents, L)}</dd></div>
  <div><dt>${tr(L, 'gwVat')}</dt><dd>${t.vat_treatment === 'standard' ? money(t.vat_cents, L) : tr(L, `gwVatNone_${t.vat_treatment}`)}</dd></div>
  <div><dt>${tr(L, 'gwCharged')}</dt><dd><strong>${money(t.charge_cents, L)}</strong></dd></div>
</dl>
${notice ? html`<p class="error" role="alert">${notice}</p>` : ''}
<form method="post" action="/test-gateway/checkout/${t.id}" novalidate>
${field('cardNumber', tr(L, 'gwCardNumber'), { autocomplete: 'cc-number', inputmode: 'numeric', placeholder: '4242 4242 4242 4242' })}
${field('expiry', tr(L, 'gwExpiry'), { autocomplete: 'cc-exp', inputmode: 'numeric', placeholder: tr(L, 'gwExpiryPlaceholder') })}
${field('cvc', 'CVC', { autocomplete: 'cc-csc', inputmode: 'numeric', placeholder: '123' })}
<button type="submit" class="primary">${tr(L, 'gwPay')}</button>
</form>
<p class="muted small">${tr(L, 'gwTestCards')}</p>
</section>`;
  return page({ lang: L, title: tr(L, 'gwTitle'), body });
}

export async function paymentRoutes(server: FastifyInstance, opts: { app: App; gateway: PaymentGateway; savedCards: SavedCardGateway }) {
  const { app, gateway, savedCards } = opts;

  // The webhook needs the exact bytes that were signed, so JSON is not parsed before it is verified.
  await server.register(async (s) => {
    s.removeAllContentTypeParsers();
    s.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    s.post<{ Params: { gateway: string } }>('/api/payments/webhook/:gateway', { schema: { hide: true } }, async (req, reply) => {
      if (req.params.gateway !== gateway.name) return sendError(reply, 'not_found', 'No such payment gateway');
      const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const reading = gateway.readNotification(rawBody, req.headers, Math.floor(clock.wallMs() / 1000));
      if (reading.kind === 'rejected') {
        req.log.warn({ gateway: gateway.name, reason: reading.reason }, 'payment notification rejected');
        return sendError(reply, 'invalid_signature', 'The notification could not be verified');
      }
      if (reading.kind === 'malformed') {
        req.log.warn({ gateway: gateway.name, reason: reading.reason }, 'payment notification malformed');
        return sendError(reply, 'validation_failed', 'The notification is signed but not in the form the gateway documents');
      }
      if (reading.kind === 'ignored') return reply.send({ received: true, result: 'ignored' });
      if (reading.kind === 'dispute') {
        const applied = await applyDispute(app.ctx, reading.dispute);
        req.log.info({ gateway: gateway.name, topupId: reading.dispute.topupId, status: reading.dispute.status, result: applied.result }, 'dispute notification');
        return reply.send({ received: true, result: applied.result });
      }
      if (reading.kind === 'card_saved') {
        // R18: a card saved on the gateway's page (once per setup, whatever is replayed).
        const saved = await recordSavedCard(app.ctx, reading.notice);
        req.log.info({ gateway: gateway.name, setupId: reading.notice.setupId, result: saved }, 'card saved notification');
        return reply.send({ received: true, result: saved });
      }
      if (reading.kind === 'card_setup_completed') {
        // R18, Stripe: the card is read from the SetupIntent, then saved once per setup.
        const saved = await completeCardSetup(app.ctx, savedCards, reading.setup);
        req.log.info({ gateway: gateway.name, setupId: reading.setup.setupId, result: saved }, 'card setup notification');
        return reply.send({ received: true, result: saved });
      }
      const applied = await applyPaymentOutcome(app.ctx, reading.outcome);
      // R20: each top-up's outcome counted once (a replayed notification is not 'applied').
      if (applied.result === 'applied') paymentsTotal.inc({ method: 'card', outcome: reading.outcome.outcome });
      req.log.info({ gateway: gateway.name, topupId: reading.outcome.topupId, result: applied.result }, 'payment notification');
      return reply.send({ received: true, result: applied.result });
    });
  });

  if (gateway.name !== 'test') return;

  const topupFor = async (id: string): Promise<TopupRow | null> => {
    try {
      return await readTopup(app.ctx, null, id);
    } catch (err) {
      if (err instanceof DomainError) return null;
      throw err;
    }
  };
  const notFoundPage = (L: Locale) => page({ lang: L, title: tr(L, 'gwNotFound'), body: html`<h1>${tr(L, 'gwNotFound')}</h1><p><a href="/">${tr(L, 'gwBack')}</a></p>` });
  // The language the holder's pages are in (their switch), else the holder's own.
  const localeOf = async (req: FastifyRequest, t: TopupRow | null): Promise<Locale> => {
    const c = chosenLocale(req);
    if (c) return c;
    if (!t) return visitorLocale(req);
    const [row] = await app.ctx.db.query<{ locale: Locale }>('SELECT locale FROM customers WHERE id = $1', [t.customer_id]);
    return row?.locale ?? 'it';
  };

  // R17: what a card network's charge-back makes the gateway do: a signed dispute notification to
  // the webhook; 204 once Casella has taken it.
  server.post<{ Body: unknown }>('/test-gateway/disputes', { schema: { hide: true } }, async (req, reply) => {
    const b = (req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? req.body : {}) as Record<string, unknown>;
    const fields: Record<string, string> = {};
    if (typeof b.topupId !== 'string' || b.topupId.length < 1 || b.topupId.length > 100) fields.topupId = 'must be a top-up id';
    if (b.status !== 'opened' && b.status !== 'won' && b.status !== 'lost') fields.status = 'must be opened, won or lost';
    const unknown = Object.keys(b).filter((k) => k !== 'topupId' && k !== 'status');
    for (const k of unknown) fields[k] = 'is not a known field';
    if (Object.keys(fields).length) return sendError(reply, 'validation_failed', 'The dispute is not valid', fields);
    if (!(await topupFor(b.topupId as string))) return sendError(reply, 'not_found', 'No such top-up');
    const n = testDisputeNotification(app.config.testGatewaySecret, { topupId: b.topupId as string, status: b.status as 'opened' | 'won' | 'lost' }, Math.floor(clock.wallMs() / 1000));
    const res = await fetch(`${ownBaseUrl(server)}/api/payments/webhook/test`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [TEST_SIGNATURE_HEADER]: n.signature },
      body: n.body,
      signal: AbortSignal.timeout(NOTIFY_TIMEOUT_MS),
    });
    const answer = (await res.json().catch(() => null)) as { result?: string } | null;
    if (!res.ok || answer?.result === 'unknown_topup') {
      req.log.error({ status: res.status, topupId: b.topupId }, 'test gateway dispute notification refused');
      return sendError(reply, 'not_found', 'No paid top-up with that id took the dispute');
    }
    return reply.code(204).send();
  });

  server.get<{ Params: { id: string } }>('/test-gateway/checkout/:id', { schema: { hide: true } }, async (req, reply) => {
    const t = await topupFor(req.params.id);
    const L = await localeOf(req, t);
    if (!t) return reply.code(404).type('text/html; charset=utf-8').send(notFoundPage(L));
    if (t.status !== 'pending' || t.method === 'bank_transfer') return reply.redirect(`/credit/topups/${encodeURIComponent(t.id)}`, 303);
    return reply.type('text/html; charset=utf-8').send(checkoutPage(L, t));
  });

  server.post<{ Params: { id: string }; Body: unknown }>('/test-gateway/checkout/:id', { schema: { hide: true } }, async (req: FastifyRequest<{ Params: { id: string }; Body: unknown }>, reply) => {
    const t = await topupFor(req.params.id);
    const L = await localeOf(req, t);
    if (!t) return reply.code(404).type('text/html; charset=utf-8').send(notFoundPage(L));
    if (t.status !== 'pending' || t.method === 'bank_transfer') return reply.redirect(`/credit/topups/${encodeURIComponent(t.id)}`, 303);
    const form = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
    const text = (k: string) => (typeof form[k] === 'string' ? (form[k] as string).slice(0, CARD_FORM_FIELD_LENGTH_MAX) : '');
    // The card number lives only in this function's locals: never stored, never logged (R12).
    const decision = decideCard({ cardNumber: text('cardNumber'), expiry: text('expiry'), cvc: text('cvc') }, new Date(clock.wallMs()));
    if (!decision.ok) {
      const errors: Partial<Record<CardField, string>> = {};
      if (decision.fields.cardNumber) errors.cardNumber = tr(L, 'gwBadCard');
      if (decision.fields.expiry) errors.expiry = tr(L, decision.fields.expiry === 'past' ? 'gwExpired' : 'gwBadExpiry');
      if (decision.fields.cvc) errors.cvc = tr(L, 'gwBadCvc');
      return reply.code(422).type('text/html; charset=utf-8').send(checkoutPage(L, t, errors));
    }
    const n = testNotification(
      app.config.testGatewaySecret,
      { topupId: t.id, outcome: decision.outcome, failureCode: decision.outcome === 'failed' ? decision.failureCode : null, paidAt: clock.now().toISOString() },
      Math.floor(clock.wallMs() / 1000),
    );
    const res = await fetch(`${ownBaseUrl(server)}/api/payments/webhook/test`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [TEST_SIGNATURE_HEADER]: n.signature },
      body: n.body,
      signal: AbortSignal.timeout(NOTIFY_TIMEOUT_MS),
    });
    if (!res.ok) {
      req.log.error({ status: res.status, topupId: t.id }, 'test gateway notification refused');
      return reply.code(502).type('text/html; charset=utf-8').send(checkoutPage(L, t, {}, tr(L, 'gwNotRecorded')));
    }
    return reply.redirect(`/credit/topups/${encodeURIComponent(t.id)}`, 303);
  });
}
