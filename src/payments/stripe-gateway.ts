// The `stripe` gateway: a Stripe Checkout Session per top-up (amount = credit + VAT, in cents as
// Stripe counts them), and Stripe's signed webhook (Stripe-Signature, same t=/v1= scheme).
// Stripe is reached with fetch and form-encoded parameters; the SDK would add a dependency for two calls.
import type { TopupRow } from '../services/rows.ts';
import type { CheckoutStart, NotificationReading, PaymentGateway } from './gateway.ts';
import { header } from './gateway.ts';
import { verifySignature } from './signature.ts';

const STRIPE_API = 'https://api.stripe.com/v1';
const REQUEST_TIMEOUT_MS = 10_000;

interface StripeEvent {
  id: string;
  type: string;
  /** Unix seconds: when the event happened (the payment), not when it is delivered. */
  created?: number;
  data: { object: { id?: string; client_reference_id?: string | null; payment_status?: string; payment_intent?: string | null } };
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
