// A payment gateway turns a pending top-up into a hosted card payment and, later, reads the
// gateway's signed notification about it. Casella never sees a card number except on the test
// gateway's stand-in page, which decides at once and keeps nothing (R12).
import type { TopupRow } from '../services/rows.ts';
import type { PaymentOutcome } from '../services/topups.ts';
import type { SavedCardNotice } from './saved-cards.ts';

export interface CheckoutStart {
  /** Where the holder pays; null when the gateway derives it from the top-up id. */
  checkoutUrl: string | null;
  gatewaySessionId: string | null;
}

export type NotificationReading =
  | { kind: 'outcome'; outcome: PaymentOutcome }
  /** R18: a card saved on the gateway's page (setup session completed). */
  | { kind: 'card_saved'; notice: SavedCardNotice }
  /** Verified, but about nothing Casella acts on (another event type): acknowledged, ignored. */
  | { kind: 'ignored'; eventId: string }
  | { kind: 'rejected'; reason: string };

export interface PaymentGateway {
  readonly name: 'test' | 'stripe';
  /** Called once when the top-up is created. */
  startCheckout(topup: TopupRow, urls: { returnUrl: string; cancelUrl: string }): Promise<CheckoutStart>;
  /** The URL the holder is sent to while the top-up is pending. */
  checkoutUrl(topup: TopupRow & { checkout_url?: string | null }): string | null;
  /** Verifies and reads a notification from its raw body and headers. */
  readNotification(rawBody: Buffer, headers: Record<string, string | string[] | undefined>, nowSeconds: number): NotificationReading;
}

export const header = (headers: Record<string, string | string[] | undefined>, name: string): string | undefined => {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
};
