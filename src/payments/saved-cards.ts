// R18: saved cards at the gateway. Saving a card goes through the gateway's own page (no money
// moves); later the card is charged off-session, with an idempotency key so that a retried, replayed
// or crashed call is answered with the first call's outcome and never charges twice.
import { randomBytes } from 'node:crypto';
import type { Database } from '../db/database.ts';
import { clock } from '../clock.ts';
import { passesLuhn } from './luhn.ts';
import { signPayload } from './signature.ts';

/** What the gateway tells Casella about a card the holder saved on its page (never the number). */
export interface SavedCardNotice {
  gateway: string;
  eventId: string;
  setupId: string;
  card: { reference: string; gatewayCustomer: string | null; brand: string; last4: string; expMonth: number; expYear: number };
}

/** A saved card as Casella keeps it: the gateway's handles and what the holder recognises it by. */
export type SavedCard = SavedCardNotice['card'];

/**
 * R18, Stripe: a setup session the holder completed on the gateway's page. The notification names
 * the SetupIntent; the card it saved is read from the gateway before anything is recorded.
 */
export interface CardSetupCompletion {
  gateway: 'stripe';
  eventId: string;
  setupId: string;
  gatewaySessionId: string;
  setupIntentId: string;
  gatewayCustomer: string | null;
}

/** R18: where the holder completes, on-session, a charge the bank wanted authenticated. */
export interface ChargeConfirmationStart {
  url: string;
  /** The gateway's session, kept on the top-up so that one is open at a time; null when the page is the top-up's own. */
  sessionId: string | null;
}

export type ChargeConfirmationState =
  | { state: 'open' }
  | { state: 'expired' }
  /** Paid on the gateway's page (its notification may still be on its way). */
  | { state: 'paid'; reference: string | null }
  /** Completed on the page, the money not yet confirmed: its notification settles it. */
  | { state: 'processing' };

export interface SetupStart {
  setupUrl: string;
  gatewaySessionId: string | null;
}

export interface OffSessionCharge {
  topupId: string;
  /** What the card is charged: credit + VAT, in cents. */
  chargeCents: number;
  currency: 'eur';
  cardReference: string;
  gatewayCustomer: string | null;
  /** Derived from (mailbox, period, attempt): the same call always carries the same key. */
  idempotencyKey: string;
}

export type OffSessionResult =
  | { outcome: 'succeeded'; reference: string }
  | { outcome: 'failed'; failureCode: string; reference: string | null }
  /** The bank wants the holder to authenticate (SCA): the holder completes it at `actionUrl`. */
  | { outcome: 'requires_action'; reference: string; actionUrl: string };

export interface SavedCardGateway {
  readonly name: 'test' | 'stripe';
  startCardSetup(setup: { id: string; customerId: string; gatewayCustomer: string | null }, urls: { returnUrl: string; cancelUrl: string }): Promise<SetupStart>;
  chargeSavedCard(charge: OffSessionCharge): Promise<OffSessionResult>;
  /**
   * The card a completed setup saved, read from the gateway (Stripe: the SetupIntent's payment
   * method); null when the setup saved no card. Throws when the gateway gives no answer.
   */
  readSetupCard(setupIntentId: string): Promise<SavedCard | null>;
  /**
   * Opens the page where the holder pays, on-session, the charge that answered `requires_action`
   * (the same amount, the same gateway customer). The same key gives the same page.
   */
  openChargeConfirmation(c: {
    topupId: string;
    chargeCents: number;
    currency: 'eur';
    gatewayCustomer: string | null;
    idempotencyKey: string;
    returnUrl: string;
  }): Promise<ChargeConfirmationStart>;
  /** Where a confirmation page opened by openChargeConfirmation stands (gateways with sessions only). */
  readChargeConfirmation(sessionId: string): Promise<ChargeConfirmationState>;
}

// ---- the test gateway ----

/** How a card saved on the test gateway's page behaves when charged later (API.md "Saved cards"). */
export type TestCardBehaviour = 'ok' | 'declined' | 'insufficient' | 'auth';

export const SAVED_TEST_CARDS: Record<string, TestCardBehaviour> = {
  '4242424242424242': 'ok',
  '4000000000000341': 'declined',
  '4000000000000002': 'declined',
  '4000000000009995': 'insufficient',
  '4000002760003184': 'auth',
};

const BEHAVIOURS: readonly TestCardBehaviour[] = ['ok', 'declined', 'insufficient', 'auth'];

export type SaveDecision =
  | { ok: false; fields: Partial<Record<'cardNumber' | 'expiry' | 'cvc', string>> }
  | { ok: true; card: { reference: string; brand: string; last4: string; expMonth: number; expYear: number } };

/**
 * The test gateway's "vault": the reference it gives names the behaviour of the card, as a real
 * provider's token stands for a card it keeps. The number itself is dropped here (R12).
 * now: the machine's time (cards expire in the real world, not on the test clock).
 */
export function decideCardToSave(input: { cardNumber: string; expiry: string; cvc: string }, now: Date): SaveDecision {
  const fields: Partial<Record<'cardNumber' | 'expiry' | 'cvc', string>> = {};
  const digits = input.cardNumber.replace(/[\s-]/g, '');
  if (!passesLuhn(digits)) fields.cardNumber = 'invalid';
  const m = /^\s*(\d{2})\s*\/\s*(\d{2})\s*$/.exec(input.expiry);
  const month = m ? Number(m[1]) : 0;
  const year = m ? 2000 + Number(m[2]) : 0;
  if (!m || month < 1 || month > 12) fields.expiry = 'format';
  else if (Date.UTC(year, month, 1) <= now.getTime()) fields.expiry = 'past';
  if (!/^\d{3,4}$/.test(input.cvc.trim())) fields.cvc = 'invalid';
  if (Object.keys(fields).length) return { ok: false, fields };
  const behaviour = SAVED_TEST_CARDS[digits] ?? 'ok';
  const brand = digits.startsWith('4') ? 'visa' : digits.startsWith('5') ? 'mastercard' : digits.startsWith('3') ? 'amex' : 'card';
  return {
    ok: true,
    card: { reference: `tcard_${behaviour}_${randomBytes(9).toString('hex')}`, brand, last4: digits.slice(-4), expMonth: month, expYear: year },
  };
}

export function behaviourOf(reference: string): TestCardBehaviour | null {
  const b = /^tcard_([a-z]+)_[0-9a-f]+$/.exec(reference)?.[1];
  return b && (BEHAVIOURS as readonly string[]).includes(b) ? (b as TestCardBehaviour) : null;
}

/** The signed notification the test gateway's setup page sends to the webhook. */
export function testCardSavedNotification(
  secret: string,
  e: { setupId: string; card: SavedCardNotice['card'] },
  nowSeconds: number,
): { body: string; signature: string } {
  const body = JSON.stringify({ id: `evt_${randomBytes(12).toString('hex')}`, type: 'card_saved', setupId: e.setupId, card: e.card });
  return { body, signature: signPayload(secret, body, nowSeconds) };
}

/** Reads a test-gateway `card_saved` event (already verified), or null when the body is not one. */
export function parseTestCardSaved(v: Record<string, unknown>): Omit<SavedCardNotice, 'gateway'> | null {
  if (v.type !== 'card_saved') return null;
  const c = v.card as Record<string, unknown> | null;
  const ok =
    typeof v.id === 'string' && v.id.length <= 100 && typeof v.setupId === 'string' && v.setupId.length <= 100 &&
    typeof c === 'object' && c !== null &&
    typeof c.reference === 'string' && c.reference.length <= 100 &&
    typeof c.brand === 'string' && c.brand.length <= 20 &&
    typeof c.last4 === 'string' && /^\d{4}$/.test(c.last4) &&
    Number.isInteger(c.expMonth) && (c.expMonth as number) >= 1 && (c.expMonth as number) <= 12 &&
    Number.isInteger(c.expYear) && (c.expYear as number) >= 2000 && (c.expYear as number) <= 2200;
  if (!ok) return null;
  return {
    eventId: v.id as string,
    setupId: v.setupId as string,
    card: { reference: c.reference as string, gatewayCustomer: null, brand: c.brand as string, last4: c.last4 as string, expMonth: c.expMonth as number, expYear: c.expYear as number },
  };
}

/**
 * The test gateway's off-session charges. Its answers are kept by idempotency key in its own table
 * (the provider's side of the world), so a repeated key is answered exactly as the first time.
 */
export function testSavedCardGateway(db: Database, publicUrl: () => string): SavedCardGateway {
  return {
    name: 'test',
    async startCardSetup(setup) {
      return { setupUrl: `${publicUrl()}/test-gateway/setup/${encodeURIComponent(setup.id)}`, gatewaySessionId: null };
    },
    async chargeSavedCard(charge) {
      const behaviour = behaviourOf(charge.cardReference);
      const decided =
        behaviour === 'ok' ? { outcome: 'succeeded', failureCode: null }
        : behaviour === 'insufficient' ? { outcome: 'failed', failureCode: 'insufficient_funds' }
        : behaviour === 'auth' ? { outcome: 'requires_action', failureCode: 'authentication_required' }
        : { outcome: 'failed', failureCode: 'card_declined' };
      await db.query(
        `INSERT INTO test_gateway_charges (idempotency_key, topup_id, card_reference, amount_cents, outcome, failure_code, reference, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (idempotency_key) DO NOTHING`,
        [charge.idempotencyKey, charge.topupId, charge.cardReference, charge.chargeCents, decided.outcome, decided.failureCode, `tpi_${randomBytes(9).toString('hex')}`, new Date(clock.wallMs())],
      );
      const [stored] = await db.query<{ outcome: string; failure_code: string | null; reference: string; topup_id: string; amount_cents: number; authorised_at: Date | null }>(
        'SELECT outcome, failure_code, reference, topup_id, amount_cents, authorised_at FROM test_gateway_charges WHERE idempotency_key = $1',
        [charge.idempotencyKey],
      );
      // Stripe answers a key reused with other parameters with an error; so does this stand-in.
      if (stored!.topup_id !== charge.topupId || stored!.amount_cents !== charge.chargeCents) throw new Error('idempotency key reused with other parameters');
      if (stored!.outcome === 'succeeded') return { outcome: 'succeeded', reference: stored!.reference };
      if (stored!.outcome === 'requires_action') {
        if (stored!.authorised_at) return { outcome: 'succeeded', reference: stored!.reference };
        return { outcome: 'requires_action', reference: stored!.reference, actionUrl: `${publicUrl()}/test-gateway/authenticate/${encodeURIComponent(charge.topupId)}` };
      }
      return { outcome: 'failed', failureCode: stored!.failure_code ?? 'card_declined', reference: stored!.reference };
    },
    async readSetupCard() {
      throw new Error('the test gateway sends the saved card in its own notification');
    },
    // The test gateway's page for a charge waiting for authentication is per top-up (no session).
    async openChargeConfirmation(c) {
      return { url: `${publicUrl()}/test-gateway/authenticate/${encodeURIComponent(c.topupId)}`, sessionId: null };
    },
    async readChargeConfirmation() {
      throw new Error('the test gateway opens no confirmation sessions');
    },
  };
}

/** The holder authorised a charge on the test gateway's page: it now counts as paid. */
export async function authoriseTestCharge(db: Database, topupId: string): Promise<'authorised' | 'not_waiting'> {
  const rows = await db.query(
    `UPDATE test_gateway_charges SET authorised_at = $2 WHERE topup_id = $1 AND outcome = 'requires_action' AND authorised_at IS NULL RETURNING 1`,
    [topupId, new Date(clock.wallMs())],
  );
  return rows.length ? 'authorised' : 'not_waiting';
}
