// A payment gateway turns a pending top-up into a hosted card payment and, later, reads the
// gateway's signed notification about it. Casella never sees a card number except on the test
// gateway's stand-in page, which decides at once and keeps nothing (R12).
import type { Queryable } from '../db/database.ts';
import type { TopupRow } from '../services/rows.ts';
import type { PaymentOutcome } from '../services/billing/topups.ts';
import type { CardSetupCompletion, SavedCardNotice } from './saved-cards.ts';

export interface CheckoutStart {
  /** Where the holder pays; null when the gateway derives it from the top-up id. */
  checkoutUrl: string | null;
  gatewaySessionId: string | null;
}

/** R17: a charge-back as the gateway reports it; the payment named by our top-up id or the gateway's reference. */
export interface DisputeNotice {
  gateway: string;
  eventId: string;
  topupId: string | null;
  paymentReference: string | null;
  status: 'opened' | 'won' | 'lost';
}

/** R17: money back to the card that paid `topup`; the refund id is the gateway's idempotency key. */
export interface RefundRequest {
  refundId: string;
  topup: Pick<TopupRow, 'id' | 'gateway'> & { gateway_reference?: string | null };
  chargeCents: number;
  /** Set when an earlier call got the gateway's refund id (it is then only asked where it stands). */
  gatewayRefundId: string | null;
}

export type RefundAnswer =
  | { status: 'succeeded' | 'pending'; gatewayRefundId: string }
  /** Refused for good (nothing was given back). */
  | { status: 'failed'; gatewayRefundId: string | null; failureCode: string };

export type NotificationReading =
  | { kind: 'outcome'; outcome: PaymentOutcome }
  | { kind: 'dispute'; dispute: DisputeNotice }
  /** R18: a card saved on the gateway's page (setup session completed). */
  | { kind: 'card_saved'; notice: SavedCardNotice }
  /**
   * R18, Stripe: a setup session completed; the card itself (brand, last 4, expiry) is read from
   * the SetupIntent's payment method before it is saved (SavedCardGateway.readSetupCard).
   */
  | { kind: 'card_setup_completed'; setup: CardSetupCompletion }
  /** Verified, but about nothing Casella acts on (another event type): acknowledged, ignored. */
  | { kind: 'ignored'; eventId: string }
  /** Not verified: a missing, wrong or stale signature. */
  | { kind: 'rejected'; reason: string }
  /** Verified, but not in the form the gateway documents: nothing to act on, and said so. */
  | { kind: 'malformed'; reason: string };

export interface PaymentGateway {
  readonly name: 'test' | 'stripe';
  /** Called once when the top-up is created. */
  startCheckout(topup: TopupRow, urls: { returnUrl: string; cancelUrl: string }): Promise<CheckoutStart>;
  /** The URL the holder is sent to while the top-up is pending. */
  checkoutUrl(topup: TopupRow & { checkout_url?: string | null }): string | null;
  /** Verifies and reads a notification from its raw body and headers. */
  readNotification(rawBody: Buffer, headers: Record<string, string | string[] | undefined>, nowSeconds: number): NotificationReading;
  /**
   * R17: refunds through the gateway; the same refund id never refunds twice (idempotency key).
   * Throws when the gateway cannot be reached (the refund stays pending and is tried again).
   * db: the test gateway keeps its own books there; real gateways ignore it.
   */
  refund(db: Queryable, request: RefundRequest): Promise<RefundAnswer>;
}

export const header = (headers: Record<string, string | string[] | undefined>, name: string): string | undefined => {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
};
