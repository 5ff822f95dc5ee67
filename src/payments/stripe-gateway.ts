// The `stripe` gateway: a Stripe Checkout Session per top-up (amount = credit + VAT, in cents as
// Stripe counts them), and Stripe's signed webhook (Stripe-Signature, same t=/v1= scheme).
// Stripe is reached through Stripe's official `stripe` package (the SDK), configured so that it
// does no more than Casella asks: no retries of its own (maxNetworkRetries 0: a call with no answer
// is driven again later by Casella with the same Idempotency-Key), the same 10 s timeout as before.
// apiBase is Stripe's API (STRIPE_API_BASE), or a local stand-in in tests: its scheme, host and port
// become the SDK's protocol, host and port (the SDK always requests /v1/...).
import Stripe from 'stripe';
import { STRIPE_API_BASE_DEFAULT, stripeApiAddress } from '../config.ts';
import type { TopupRow } from '../services/rows.ts';
import type { CheckoutStart, NotificationReading, PaymentGateway, RefundAnswer } from './gateway.ts';
import { header } from './gateway.ts';
import { verifySignature } from './signature.ts';
import type { ChargeConfirmationState, SavedCard, SavedCardGateway } from './saved-cards.ts';

const REQUEST_TIMEOUT_MS = 10_000;

/**
 * The Stripe API version Casella's requests are written for (sent as Stripe-Version). The SDK 23.x
 * pins `2026-11-18.endive` by default, and from `2026-09-30.endive` Stripe refuses
 * `payment_method_types` on a new Checkout Session (docs.stripe.com/changelog/endive/2026-09-30/
 * remove-payment-method-types-checkout-sessions), which Casella's setup and confirmation sessions
 * send to offer cards only. `2026-08-26.dahlia` is the last version that takes it (that version
 * removed it only from PaymentIntents and SetupIntents, which Casella does not send it to).
 * Moving to endive means `allowed_payment_method_types` instead: a decision of its own.
 */
export const STRIPE_API_VERSION = '2026-08-26.dahlia';

/**
 * A client of Stripe's SDK for apiBase. maxNetworkRetries 0: the SDK retries nothing of its own
 * (except, by its design, once on a connection closed before an answer, with the same
 * Idempotency-Key, which Stripe answers with the first answer). The SDK's timeout is per request.
 */
export function stripeClient(secretKey: string, apiBase = STRIPE_API_BASE_DEFAULT): Stripe {
  const { host, port, protocol } = stripeApiAddress(apiBase);
  return new Stripe(secretKey, {
    host,
    port,
    protocol,
    maxNetworkRetries: 0,
    timeout: REQUEST_TIMEOUT_MS,
    // The SDK's types describe its pinned version only; the fields Casella reads are the same in both.
    apiVersion: STRIPE_API_VERSION as Stripe.LatestApiVersion,
  });
}

/** A Stripe API error as the SDK throws it (with the HTTP status Stripe answered), or undefined for anything else. */
const stripeErrorOf = (e: unknown): InstanceType<typeof Stripe.errors.StripeError> | undefined =>
  e instanceof Stripe.errors.StripeError ? e : undefined;
const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));
/** A call to Stripe whose every failure is no answer: thrown again, saying which call it was. */
const asked = <T>(what: string, call: () => Promise<T>): Promise<T> =>
  call().catch((e: unknown) => {
    throw new Error(`${what}: ${messageOf(e)}`);
  });
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
  status?: string | null;
  failure_reason?: string | null;
}

/** R17: Stripe's refund states as Casella's; `requires_action` waits like `pending`. */
function refundAnswer(r: StripeRefund): RefundAnswer {
  if (!r.id) throw new Error(`Stripe refund answered without an id`);
  if (r.status === 'succeeded') return { status: 'succeeded', gatewayRefundId: r.id };
  if (r.status === 'failed' || r.status === 'canceled') return { status: 'failed', gatewayRefundId: r.id, failureCode: r.failure_reason ?? r.status };
  return { status: 'pending', gatewayRefundId: r.id };
}

export function stripeGateway(secretKey: string, webhookSecret: string, apiBase = STRIPE_API_BASE_DEFAULT): PaymentGateway {
  const stripe = stripeClient(secretKey, apiBase);
  return {
    name: 'stripe',
    async startCheckout(topup: TopupRow, urls): Promise<CheckoutStart> {
      const session: Stripe.Checkout.Session = await asked('Stripe checkout failed', () => stripe.checkout.sessions.create(
        {
          mode: 'payment',
          client_reference_id: topup.id,
          success_url: urls.returnUrl,
          cancel_url: urls.cancelUrl,
          line_items: [{ quantity: 1, price_data: { currency: 'eur', unit_amount: topup.charge_cents, product_data: { name: 'Ricarica credito Casella (IVA inclusa)' } } }],
          metadata: { topup_id: topup.id },
        },
        { idempotencyKey: topup.id },
      ));
      if (!session.id || !session.url) throw new Error('Stripe checkout failed: no session id or url');
      return { checkoutUrl: session.url, gatewaySessionId: session.id };
    },
    checkoutUrl: (t) => t.checkout_url ?? null,
    // R17: Stripe Refunds, with the refund id as Stripe's Idempotency-Key, so a retry after a crash
    // gets the refund already made; once Stripe's refund id is known, it is only read back.
    async refund(_db, request): Promise<RefundAnswer> {
      const known = request.gatewayRefundId;
      if (known) return refundAnswer(await asked('Stripe refund read failed', () => stripe.refunds.retrieve(known)));
      if (!request.topup.gateway_reference) return { status: 'failed', gatewayRefundId: null, failureCode: 'no_payment_reference' };
      let made: Stripe.Refund;
      try {
        made = await stripe.refunds.create(
          {
            payment_intent: request.topup.gateway_reference,
            amount: request.chargeCents,
            metadata: { refund_id: request.refundId, topup_id: request.topup.id },
          },
          { idempotencyKey: request.refundId },
        );
      } catch (e) {
        // A 4xx is Stripe refusing this refund (e.g. more than the charge has left): it will not change.
        const status = stripeErrorOf(e)?.statusCode;
        if (status !== undefined && status >= 400 && status < 500 && status !== 409 && status !== 429) {
          return { status: 'failed', gatewayRefundId: null, failureCode: stripeErrorOf(e)?.code ?? `http_${status}` };
        }
        throw new Error(`Stripe refund failed: ${messageOf(e)}`);
      }
      return refundAnswer(made);
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
  const stripe = stripeClient(secretKey, apiBase);
  return {
    name: 'stripe',
    async startCardSetup(setup, urls) {
      let customer = setup.gatewayCustomer;
      if (!customer) {
        const made: Stripe.Customer = await asked('Stripe customer failed', () => stripe.customers.create({ metadata: { casella_customer_id: setup.customerId } }, { idempotencyKey: `customer-${setup.customerId}` }));
        if (typeof made.id !== 'string') throw new Error('Stripe customer failed: no id');
        customer = made.id;
      }
      const session: Stripe.Checkout.Session = await asked('Stripe setup failed', () => stripe.checkout.sessions.create(
        {
          mode: 'setup',
          currency: 'eur',
          customer,
          // Casella keeps brand, last 4 digits and expiry: a card, not any method Checkout could offer.
          payment_method_types: ['card'],
          client_reference_id: setup.id,
          success_url: urls.returnUrl,
          cancel_url: urls.cancelUrl,
          metadata: { setup_id: setup.id },
          // `payment_method_types` is in STRIPE_API_VERSION's parameters, not in the SDK's types (endive's).
        } as Stripe.Checkout.SessionCreateParams,
        { idempotencyKey: setup.id },
      ));
      if (typeof session.id !== 'string' || typeof session.url !== 'string') throw new Error('Stripe setup failed: no session id or url');
      return { setupUrl: session.url, gatewaySessionId: session.id };
    },
    async chargeSavedCard(charge) {
      let pi: Stripe.PaymentIntent;
      try {
        pi = await stripe.paymentIntents.create(
          {
            amount: charge.chargeCents,
            currency: charge.currency,
            customer: charge.gatewayCustomer ?? '',
            payment_method: charge.cardReference,
            off_session: true,
            confirm: true,
            metadata: { topup_id: charge.topupId },
          },
          { idempotencyKey: charge.idempotencyKey },
        );
      } catch (e) {
        const err = stripeErrorOf(e);
        // Only a card error (402 `card_error`) is an answer about the card. Anything else (network,
        // timeout, Stripe down, our request refused) is no answer: the caller tries again later with
        // the same key, so nothing is charged twice.
        if (!err || err.type !== 'StripeCardError' || err.rawType !== 'card_error') throw new Error(`Stripe charge not answered: ${messageOf(e)}`);
        const reference = stripeId(err.payment_intent?.id) ? err.payment_intent.id : null;
        if (err.code === 'authentication_required' || err.decline_code === 'authentication_required') {
          return { outcome: 'requires_action', reference: reference ?? '', actionUrl: `${publicUrl()}/credit/topups/${encodeURIComponent(charge.topupId)}` };
        }
        return { outcome: 'failed', failureCode: failureCodeOf({ type: err.rawType, code: err.code, decline_code: err.decline_code }), reference };
      }
      if (pi.status === 'succeeded' && typeof pi.id === 'string') return { outcome: 'succeeded', reference: pi.id };
      throw new Error(`Stripe charge not answered: PaymentIntent ${pi.status}`);
    },
    async readSetupCard(setupIntentId) {
      const si: Stripe.SetupIntent = await asked('Stripe SetupIntent not read', () => stripe.setupIntents.retrieve(setupIntentId, { expand: ['payment_method'] }));
      if (si.status !== 'succeeded') return null;
      const pm = si.payment_method as StripePaymentMethod | string | null;
      if (!pm || typeof pm !== 'object') throw new Error('Stripe SetupIntent answered without its payment method');
      const siCustomer: unknown = si.customer;
      const customer = stripeId(siCustomer) ? siCustomer : stripeId(pm.customer) ? pm.customer : null;
      return savedCardOf(pm, customer);
    },
    async openChargeConfirmation(c) {
      if (!c.gatewayCustomer) throw new Error('a Stripe charge confirmation needs the card\'s Stripe customer');
      const session: Stripe.Checkout.Session = await asked('Stripe confirmation page failed', () => stripe.checkout.sessions.create(
        {
          mode: 'payment',
          customer: c.gatewayCustomer,
          client_reference_id: c.topupId,
          success_url: c.returnUrl,
          cancel_url: c.returnUrl,
          payment_method_types: ['card'],
          line_items: [{ quantity: 1, price_data: { currency: c.currency, unit_amount: c.chargeCents, product_data: { name: 'Ricarica credito Casella per il rinnovo automatico (IVA inclusa)' } } }],
          metadata: { topup_id: c.topupId, casella_purpose: CONFIRMATION_PURPOSE },
          payment_intent_data: { metadata: { topup_id: c.topupId } },
        } as Stripe.Checkout.SessionCreateParams,
        { idempotencyKey: c.idempotencyKey },
      ));
      if (!stripeId(session.id) || typeof session.url !== 'string') throw new Error('Stripe confirmation page failed: no session id or url');
      return { url: session.url, sessionId: session.id };
    },
    async readChargeConfirmation(sessionId): Promise<ChargeConfirmationState> {
      const session: Stripe.Checkout.Session = await asked('Stripe Checkout Session not read', () => stripe.checkout.sessions.retrieve(sessionId));
      if (session.status === 'open') return { state: 'open' };
      if (session.status === 'expired') return { state: 'expired' };
      const paidIntent: unknown = session.payment_intent;
      if (session.status === 'complete' && session.payment_status === 'paid') return { state: 'paid', reference: stripeId(paidIntent) ? paidIntent : null };
      return { state: 'processing' };
    },
  };
}
