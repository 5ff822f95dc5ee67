// The `stripe` gateway: a Stripe Checkout Session per top-up (amount = credit + VAT, in cents as
// Stripe counts them), and Stripe's signed webhook (Stripe-Signature, same t=/v1= scheme).
// Stripe is reached with fetch and form-encoded parameters; the SDK would add a dependency for a
// handful of calls. apiBase is Stripe's API (STRIPE_API_BASE), or a local stand-in in tests.
import { STRIPE_API_BASE_DEFAULT } from '../config.ts';
import type { TopupRow } from '../services/rows.ts';
import type { CheckoutStart, NotificationReading, PaymentGateway, RefundAnswer } from './gateway.ts';
import { header } from './gateway.ts';
import { verifySignature } from './signature.ts';
import type { ChargeConfirmationState, SavedCard, SavedCardGateway } from './saved-cards.ts';

const REQUEST_TIMEOUT_MS = 10_000;
/** Stripe's ids are well under this; anything longer in a notification is not Stripe's. */
const STRIPE_ID_LENGTH_MAX = 255;
/** R18: marks the Checkout Session where a holder completes a charge the bank wanted authenticated. */
export const CONFIRMATION_PURPOSE = 'card_charge_confirmation';

interface StripeEvent {
  id: string;
  type: string;
  /** Unix seconds: when the event happened (the payment), not when it is delivered. */
  created?: number;
  data: {
    object: {
      id?: string;
      mode?: string;
      client_reference_id?: string | null;
      payment_status?: string;
      payment_intent?: string | null;
      setup_intent?: string | null;
      customer?: string | null;
      status?: string;
      metadata?: Record<string, string> | null;
    };
  };
}

const stripeId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= STRIPE_ID_LENGTH_MAX;

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

export function stripeGateway(secretKey: string, webhookSecret: string, apiBase = STRIPE_API_BASE_DEFAULT): PaymentGateway {
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
      const res = await fetch(`${apiBase}/checkout/sessions`, {
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
        const res = await fetch(`${apiBase}/refunds/${encodeURIComponent(request.gatewayRefundId)}`, { headers: auth, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
        const body = (await res.json()) as StripeRefund;
        if (!res.ok) throw new Error(`Stripe refund read failed: ${body.error?.message ?? res.status}`);
        return refundAnswer(body);
      }
      if (!request.topup.gateway_reference) return { status: 'failed', gatewayRefundId: null, failureCode: 'no_payment_reference' };
      const res = await fetch(`${apiBase}/refunds`, {
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
        return { kind: 'malformed', reason: 'not JSON' };
      }
      const session = event?.data?.object;
      // R17: charge-backs name the payment by its PaymentIntent.
      if (typeof event?.id === 'string' && (event.type === 'charge.dispute.created' || event.type === 'charge.dispute.closed')) {
        const status = event.type === 'charge.dispute.created' ? 'opened' : session?.status === 'won' ? 'won' : session?.status === 'lost' ? 'lost' : null;
        const reference = session?.payment_intent ?? null;
        if (!status || !reference) return { kind: 'ignored', eventId: event.id };
        return { kind: 'dispute', dispute: { gateway: 'stripe', eventId: event.id, topupId: null, paymentReference: reference, status } };
      }
      // R18: a setup session (Aggiungi carta) completed: the card is read from its SetupIntent next.
      if (session?.mode === 'setup') {
        if (event.type !== 'checkout.session.completed' || !stripeId(event.id) || !stripeId(session.id) || !stripeId(session.client_reference_id) || !stripeId(session.setup_intent)) {
          return { kind: 'ignored', eventId: String(event?.id) };
        }
        return {
          kind: 'card_setup_completed',
          setup: {
            gateway: 'stripe',
            eventId: event.id,
            setupId: session.client_reference_id,
            gatewaySessionId: session.id,
            setupIntentId: session.setup_intent,
            gatewayCustomer: stripeId(session.customer) ? session.customer : null,
          },
        };
      }
      // R18: a confirmation page left to expire fails nothing: the charge still waits, and the
      // holder's next `Conferma il pagamento` opens a new page.
      if (event.type === 'checkout.session.expired' && session?.metadata?.casella_purpose === CONFIRMATION_PURPOSE) {
        return { kind: 'ignored', eventId: String(event.id) };
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
 * R18: a card error as one of Casella's failure codes (the e-mail and the pages name these):
 * Stripe puts `card_declined` in `code` and the bank's reason in `decline_code`
 * (`insufficient_funds`, `generic_decline`, …); an expired card is `code: expired_card`.
 */
export function failureCodeOf(err: NonNullable<StripeErrorBody['error']>): string {
  if (err.code === 'expired_card' || err.decline_code === 'expired_card') return 'expired_card';
  if (err.decline_code === 'insufficient_funds') return 'insufficient_funds';
  if (err.code === 'card_declined') return 'card_declined';
  return err.code ?? 'card_declined';
}

interface StripePaymentMethod {
  id?: string;
  type?: string;
  customer?: string | null;
  card?: { brand?: string; last4?: string; exp_month?: number; exp_year?: number };
}

/** The card of an expanded PaymentMethod, checked as Casella stores it; null when it is not a card. */
function savedCardOf(pm: StripePaymentMethod, customer: string | null): SavedCard | null {
  if (pm.type !== 'card' || !pm.card) return null;
  const { brand, last4, exp_month: expMonth, exp_year: expYear } = pm.card;
  const ok =
    stripeId(pm.id) && typeof brand === 'string' && brand.length > 0 && brand.length <= 20 && typeof last4 === 'string' && /^\d{4}$/.test(last4) &&
    Number.isInteger(expMonth) && expMonth! >= 1 && expMonth! <= 12 && Number.isInteger(expYear) && expYear! >= 2000 && expYear! <= 2200;
  if (!ok) throw new Error('Stripe answered a payment method Casella cannot read');
  return { reference: pm.id!, gatewayCustomer: customer, brand: brand!, last4: last4!, expMonth: expMonth!, expYear: expYear! };
}

/**
 * R18 on Stripe: Checkout in `setup` mode saves a card to the holder's Stripe customer; its
 * `checkout.session.completed` names the SetupIntent, whose payment method (expanded) gives the
 * card's brand, last 4 digits and expiry. Later an off-session PaymentIntent (`off_session=true`,
 * `confirm=true`) charges it, with the Idempotency-Key Casella derives from (mailbox, period,
 * attempt): Stripe answers a repeated key with the first answer. A card the bank wants
 * authenticated fails with `authentication_required`; the holder then pays the same amount on a
 * Checkout Session in `payment` mode for the same Stripe customer (on-session, where Stripe runs
 * 3-D Secure), whose `checkout.session.completed` credits the same top-up.
 * apiBase: Stripe's API, or a local stand-in in tests.
 */
export function stripeSavedCardGateway(secretKey: string, apiBase = STRIPE_API_BASE_DEFAULT, publicUrl: () => string = () => ''): SavedCardGateway {
  const auth = { authorization: `Bearer ${secretKey}` };
  const post = async (path: string, params: URLSearchParams, idempotencyKey: string) => {
    const res = await fetch(`${apiBase}${path}`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded', 'idempotency-key': idempotencyKey },
      body: params,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> & StripeErrorBody };
  };
  const get = async (path: string, query?: URLSearchParams) => {
    const res = await fetch(`${apiBase}${path}${query ? `?${query}` : ''}`, { headers: auth, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
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
        // Casella keeps brand, last 4 digits and expiry: a card, not any method Checkout could offer.
        'payment_method_types[0]': 'card',
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
      if (err.code === 'authentication_required' || err.decline_code === 'authentication_required') {
        return { outcome: 'requires_action', reference: reference ?? '', actionUrl: `${publicUrl()}/credit/topups/${encodeURIComponent(charge.topupId)}` };
      }
      return { outcome: 'failed', failureCode: failureCodeOf(err), reference };
    },
    async readSetupCard(setupIntentId) {
      const { status, body } = await get(`/setup_intents/${encodeURIComponent(setupIntentId)}`, new URLSearchParams({ 'expand[]': 'payment_method' }));
      if (status !== 200) throw new Error(`Stripe SetupIntent not read: ${body.error?.message ?? status}`);
      if (body.status !== 'succeeded') return null;
      const pm = body.payment_method as StripePaymentMethod | string | null;
      if (!pm || typeof pm !== 'object') throw new Error('Stripe SetupIntent answered without its payment method');
      const customer = stripeId(body.customer) ? body.customer : stripeId(pm.customer) ? pm.customer : null;
      return savedCardOf(pm, customer);
    },
    async openChargeConfirmation(c) {
      if (!c.gatewayCustomer) throw new Error('a Stripe charge confirmation needs the card\'s Stripe customer');
      const params = new URLSearchParams({
        mode: 'payment',
        customer: c.gatewayCustomer,
        client_reference_id: c.topupId,
        success_url: c.returnUrl,
        cancel_url: c.returnUrl,
        'payment_method_types[0]': 'card',
        'line_items[0][quantity]': '1',
        'line_items[0][price_data][currency]': c.currency,
        'line_items[0][price_data][unit_amount]': String(c.chargeCents),
        'line_items[0][price_data][product_data][name]': 'Ricarica credito Casella per il rinnovo automatico (IVA inclusa)',
        'metadata[topup_id]': c.topupId,
        'metadata[casella_purpose]': CONFIRMATION_PURPOSE,
        'payment_intent_data[metadata][topup_id]': c.topupId,
      });
      const { status, body } = await post('/checkout/sessions', params, c.idempotencyKey);
      if (status !== 200 || !stripeId(body.id) || typeof body.url !== 'string') throw new Error(`Stripe confirmation page failed: ${body.error?.message ?? status}`);
      return { url: body.url, sessionId: body.id };
    },
    async readChargeConfirmation(sessionId): Promise<ChargeConfirmationState> {
      const { status, body } = await get(`/checkout/sessions/${encodeURIComponent(sessionId)}`);
      if (status !== 200) throw new Error(`Stripe Checkout Session not read: ${body.error?.message ?? status}`);
      if (body.status === 'open') return { state: 'open' };
      if (body.status === 'expired') return { state: 'expired' };
      if (body.status === 'complete' && body.payment_status === 'paid') return { state: 'paid', reference: stripeId(body.payment_intent) ? body.payment_intent : null };
      return { state: 'processing' };
    },
  };
}
