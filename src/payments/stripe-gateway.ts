// The `stripe` gateway: a Stripe Checkout Session per top-up (amount = credit + VAT, in cents as
// Stripe counts them), and Stripe's signed webhook (Stripe-Signature, same t=/v1= scheme).
// Stripe is reached with fetch and form-encoded parameters; the SDK would add a dependency for two calls.
import type { TopupRow } from '../services/rows.ts';
import type { CheckoutStart, NotificationReading, PaymentGateway, RefundAnswer } from './gateway.ts';
import { header } from './gateway.ts';
import { verifySignature } from './signature.ts';
import type { SavedCardGateway } from './saved-cards.ts';

const STRIPE_API = 'https://api.stripe.com/v1';
const REQUEST_TIMEOUT_MS = 10_000;

interface StripeEvent {
  id: string;
  type: string;
  /** Unix seconds: when the event happened (the payment), not when it is delivered. */
  created?: number;
  data: { object: { id?: string; client_reference_id?: string | null; payment_status?: string; payment_intent?: string | null; status?: string } };
}

interface StripeRefund {
  id?: string;
  status?: string;
  failure_reason?: string | null;
  error?: { message?: string; code?: string };
}

/** R17: Stripe's refund states as Casella's; `requires_action` waits like `pending`. */
function refundAnswer(r: StripeRefund): RefundAnswer {
  if (!r.id) throw new Error(`Stripe refund answered without an id`);
  if (r.status === 'succeeded') return { status: 'succeeded', gatewayRefundId: r.id };
  if (r.status === 'failed' || r.status === 'canceled') return { status: 'failed', gatewayRefundId: r.id, failureCode: r.failure_reason ?? r.status };
  return { status: 'pending', gatewayRefundId: r.id };
}

export function stripeGateway(secretKey: string, webhookSecret: string): PaymentGateway {
  return {
    name: 'stripe',
    async startCheckout(topup: TopupRow, urls): Promise<CheckoutStart> {
      const params = new URLSearchParams({
        mode: 'payment',
        client_reference_id: topup.id,
        success_url: urls.returnUrl,
        cancel_url: urls.cancelUrl,
        'line_items[0][quantity]': '1',
        'line_items[0][price_data][currency]': 'eur',
        'line_items[0][price_data][unit_amount]': String(topup.charge_cents),
        'line_items[0][price_data][product_data][name]': 'Ricarica credito Casella (IVA inclusa)',
        'metadata[topup_id]': topup.id,
      });
      const res = await fetch(`${STRIPE_API}/checkout/sessions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/x-www-form-urlencoded', 'idempotency-key': topup.id },
        body: params,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const session = (await res.json()) as { id?: string; url?: string; error?: { message?: string } };
      if (!res.ok || !session.id || !session.url) throw new Error(`Stripe checkout failed: ${session.error?.message ?? res.status}`);
      return { checkoutUrl: session.url, gatewaySessionId: session.id };
    },
    checkoutUrl: (t) => t.checkout_url ?? null,
    // R17: Stripe Refunds, with the refund id as Stripe's Idempotency-Key, so a retry after a crash
    // gets the refund already made; once Stripe's refund id is known, it is only read back.
    async refund(_db, request): Promise<RefundAnswer> {
      const auth = { authorization: `Bearer ${secretKey}` };
      if (request.gatewayRefundId) {
        const res = await fetch(`${STRIPE_API}/refunds/${encodeURIComponent(request.gatewayRefundId)}`, { headers: auth, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
        const body = (await res.json()) as StripeRefund;
        if (!res.ok) throw new Error(`Stripe refund read failed: ${body.error?.message ?? res.status}`);
        return refundAnswer(body);
      }
      if (!request.topup.gateway_reference) return { status: 'failed', gatewayRefundId: null, failureCode: 'no_payment_reference' };
      const res = await fetch(`${STRIPE_API}/refunds`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded', 'idempotency-key': request.refundId },
        body: new URLSearchParams({
          payment_intent: request.topup.gateway_reference,
          amount: String(request.chargeCents),
          'metadata[refund_id]': request.refundId,
          'metadata[topup_id]': request.topup.id,
        }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const body = (await res.json()) as StripeRefund;
      // A 4xx is Stripe refusing this refund (e.g. more than the charge has left): it will not change.
      if (res.status >= 400 && res.status < 500 && res.status !== 409 && res.status !== 429) {
        return { status: 'failed', gatewayRefundId: null, failureCode: body.error?.code ?? `http_${res.status}` };
      }
      if (!res.ok) throw new Error(`Stripe refund failed: ${body.error?.message ?? res.status}`);
      return refundAnswer(body);
    },
    readNotification(rawBody, headers, nowSeconds): NotificationReading {
      const check = verifySignature(webhookSecret, rawBody, header(headers, 'stripe-signature'), nowSeconds);
      if (!check.ok) return { kind: 'rejected', reason: `signature ${check.reason}` };
      let event: StripeEvent;
      try {
        event = JSON.parse(rawBody.toString('utf8')) as StripeEvent;
      } catch {
        return { kind: 'rejected', reason: 'malformed event' };
      }
      const session = event?.data?.object;
      // R17: charge-backs name the payment by its PaymentIntent.
      if (typeof event?.id === 'string' && (event.type === 'charge.dispute.created' || event.type === 'charge.dispute.closed')) {
        const status = event.type === 'charge.dispute.created' ? 'opened' : session?.status === 'won' ? 'won' : session?.status === 'lost' ? 'lost' : null;
        const reference = session?.payment_intent ?? null;
        if (!status || !reference) return { kind: 'ignored', eventId: event.id };
        return { kind: 'dispute', dispute: { gateway: 'stripe', eventId: event.id, topupId: null, paymentReference: reference, status } };
      }
      const topupId = session?.client_reference_id;
      if (typeof event?.id !== 'string' || typeof topupId !== 'string') return { kind: 'ignored', eventId: String(event?.id) };
      const paidAt = typeof event.created === 'number' && Number.isFinite(event.created) ? new Date(event.created * 1000) : null;
      const base = { gateway: 'stripe', eventId: event.id, topupId, gatewayReference: session.payment_intent ?? session.id ?? null, paidAt };
      switch (event.type) {
        case 'checkout.session.completed':
          // Delayed methods complete the session before the money arrives; they settle in the async events.
          if (session.payment_status !== 'paid') return { kind: 'ignored', eventId: event.id };
          return { kind: 'outcome', outcome: { ...base, outcome: 'succeeded' } };
        case 'checkout.session.async_payment_succeeded':
          return { kind: 'outcome', outcome: { ...base, outcome: 'succeeded' } };
        case 'checkout.session.async_payment_failed':
          return { kind: 'outcome', outcome: { ...base, outcome: 'failed', failureCode: 'payment_failed' } };
        case 'checkout.session.expired':
          return { kind: 'outcome', outcome: { ...base, outcome: 'failed', failureCode: 'checkout_expired' } };
        default:
          return { kind: 'ignored', eventId: event.id };
      }
    },
  };
}

/** A Stripe error body as documented: `{error: {type, code, decline_code, message, payment_intent}}`. */
interface StripeErrorBody {
  error?: { type?: string; code?: string; decline_code?: string; message?: string; payment_intent?: { id?: string; status?: string } };
}

/**
 * R18 on Stripe: Checkout in `setup` mode saves a card to the holder's Stripe customer; later an
 * off-session PaymentIntent (`off_session=true`, `confirm=true`) charges it, with the Idempotency-Key
 * Casella derives from (mailbox, period, attempt): Stripe answers a repeated key with the first
 * answer. A card the bank wants authenticated fails with `authentication_required`; the holder then
 * pays on Casella's top-up page (on-session, where Stripe can run 3-D Secure).
 * apiBase: Stripe's API, or a local stand-in in tests.
 */
export function stripeSavedCardGateway(secretKey: string, apiBase = STRIPE_API, publicUrl: () => string = () => ''): SavedCardGateway {
  const post = async (path: string, params: URLSearchParams, idempotencyKey: string) => {
    const res = await fetch(`${apiBase}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/x-www-form-urlencoded', 'idempotency-key': idempotencyKey },
      body: params,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> & StripeErrorBody };
  };
  return {
    name: 'stripe',
    async startCardSetup(setup, urls) {
      let customer = setup.gatewayCustomer;
      if (!customer) {
        const made = await post('/customers', new URLSearchParams({ 'metadata[casella_customer_id]': setup.customerId }), `customer-${setup.customerId}`);
        if (made.status !== 200 || typeof made.body.id !== 'string') throw new Error(`Stripe customer failed: ${made.body.error?.message ?? made.status}`);
        customer = made.body.id;
      }
      const params = new URLSearchParams({
        mode: 'setup',
        currency: 'eur',
        customer,
        client_reference_id: setup.id,
        success_url: urls.returnUrl,
        cancel_url: urls.cancelUrl,
        'metadata[setup_id]': setup.id,
      });
      const session = await post('/checkout/sessions', params, setup.id);
      if (session.status !== 200 || typeof session.body.id !== 'string' || typeof session.body.url !== 'string') {
        throw new Error(`Stripe setup failed: ${session.body.error?.message ?? session.status}`);
      }
      return { setupUrl: session.body.url, gatewaySessionId: session.body.id };
    },
    async chargeSavedCard(charge) {
      const params = new URLSearchParams({
        amount: String(charge.chargeCents),
        currency: charge.currency,
        customer: charge.gatewayCustomer ?? '',
        payment_method: charge.cardReference,
        off_session: 'true',
        confirm: 'true',
        'metadata[topup_id]': charge.topupId,
      });
      const { status, body } = await post('/payment_intents', params, charge.idempotencyKey);
      if (status === 200 && body.status === 'succeeded' && typeof body.id === 'string') return { outcome: 'succeeded', reference: body.id };
      const err = body.error;
      if (!err || err.type !== 'card_error') {
        // Not an answer about the card (network, Stripe down, our request): the caller tries again
        // later with the same key, so nothing is charged twice.
        throw new Error(`Stripe charge not answered: ${err?.message ?? status}`);
      }
      const reference = err.payment_intent?.id ?? null;
      if (err.code === 'authentication_required') {
        return { outcome: 'requires_action', reference: reference ?? '', actionUrl: `${publicUrl()}/credit/topups/${encodeURIComponent(charge.topupId)}` };
      }
      return { outcome: 'failed', failureCode: err.decline_code ?? err.code ?? 'card_declined', reference };
    },
  };
}
