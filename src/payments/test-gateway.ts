// The `test` gateway of API.md: Casella's own stand-in for a provider's hosted card page. The page
// decides by the test card numbers, then notifies the webhook over real HTTP with a signed event,
// exactly as a provider would; the card number is used for the decision and then dropped.
import { randomBytes } from 'node:crypto';
import type { Queryable } from '../db/database.ts';
import type { TopupRow } from '../services/rows.ts';
import type { CheckoutStart, NotificationReading, PaymentGateway, RefundAnswer, RefundRequest } from './gateway.ts';
import { header } from './gateway.ts';
import { passesLuhn } from './luhn.ts';
import { clock } from '../clock.ts';
import { signPayload, verifySignature } from './signature.ts';
import { parseTestCardSaved } from './saved-cards.ts';

export const TEST_SIGNATURE_HEADER = 'casella-signature';

export const TEST_CARDS = {
  succeeds: '4242424242424242',
  declined: '4000000000000002',
  insufficientFunds: '4000000000009995',
} as const;

export type CardDecision =
  | { ok: false; fields: Partial<Record<'cardNumber' | 'expiry' | 'cvc', string>> }
  | { ok: true; outcome: 'succeeded' } | { ok: true; outcome: 'failed'; failureCode: 'card_declined' | 'insufficient_funds' };

/**
 * Checks the form as a provider's page would, then decides by the test numbers. Any other number
 * that passes the Luhn check is accepted, like a real card. now: the machine's time (cards expire in
 * the real world, not on the test clock).
 */
export function decideCard(input: { cardNumber: string; expiry: string; cvc: string }, now: Date): CardDecision {
  const fields: Partial<Record<'cardNumber' | 'expiry' | 'cvc', string>> = {};
  const digits = input.cardNumber.replace(/[\s-]/g, '');
  if (!passesLuhn(digits)) fields.cardNumber = 'invalid';
  const m = /^\s*(\d{2})\s*\/\s*(\d{2})\s*$/.exec(input.expiry);
  const month = m ? Number(m[1]) : 0;
  if (!m || month < 1 || month > 12) fields.expiry = 'format';
  else {
    const year = 2000 + Number(m[2]);
    const endOfMonth = Date.UTC(year, month, 1);
    if (endOfMonth <= now.getTime()) fields.expiry = 'past';
  }
  if (!/^\d{3,4}$/.test(input.cvc.trim())) fields.cvc = 'invalid';
  if (Object.keys(fields).length) return { ok: false, fields };
  if (digits === TEST_CARDS.declined) return { ok: true, outcome: 'failed', failureCode: 'card_declined' };
  if (digits === TEST_CARDS.insufficientFunds) return { ok: true, outcome: 'failed', failureCode: 'insufficient_funds' };
  return { ok: true, outcome: 'succeeded' };
}

interface TestEvent {
  id: string;
  topupId: string;
  outcome: 'succeeded' | 'failed';
  failureCode: string | null;
  /** R15: when the card was charged (business time, ISO); the notification may arrive later. */
  paidAt?: string | null;
}

export function testNotification(secret: string, e: Omit<TestEvent, 'id'>, nowSeconds: number): { body: string; signature: string } {
  const body = JSON.stringify({ id: `evt_${randomBytes(12).toString('hex')}`, ...e } satisfies TestEvent);
  return { body, signature: signPayload(secret, body, nowSeconds) };
}

/** R17: the dispute notification a card network's charge-back makes the test gateway send. */
interface TestDisputeEvent {
  id: string;
  type: 'dispute';
  topupId: string;
  status: 'opened' | 'won' | 'lost';
}

export function testDisputeNotification(secret: string, e: { topupId: string; status: TestDisputeEvent['status'] }, nowSeconds: number): { body: string; signature: string } {
  const body = JSON.stringify({ id: `evt_${randomBytes(12).toString('hex')}`, type: 'dispute', ...e } satisfies TestDisputeEvent);
  return { body, signature: signPayload(secret, body, nowSeconds) };
}

function parseDispute(e: Record<string, unknown>): TestDisputeEvent | null {
  const ok =
    e.type === 'dispute' && typeof e.id === 'string' && e.id.length <= 100 && typeof e.topupId === 'string' && e.topupId.length <= 100 &&
    (e.status === 'opened' || e.status === 'won' || e.status === 'lost');
  return ok ? (e as unknown as TestDisputeEvent) : null;
}

function parseJson(raw: Buffer): Record<string, unknown> | null {
  let v: unknown;
  try {
    v = JSON.parse(raw.toString('utf8'));
  } catch {
    return null;
  }
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/**
 * R17: the test gateway refunds at once. Its books (test_gateway_refunds) are keyed by the
 * idempotency key, as a provider's are: the same refund asked again is answered, not made again.
 */
async function testRefund(db: Queryable, r: RefundRequest): Promise<RefundAnswer> {
  await db.query(
    `INSERT INTO test_gateway_refunds (idempotency_key, topup_id, charge_cents, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (idempotency_key) DO NOTHING`,
    [r.refundId, r.topup.id, r.chargeCents, new Date(clock.wallMs())],
  );
  return { status: 'succeeded', gatewayRefundId: `re_test_${r.refundId}` };
}

function parseEvent(raw: Buffer): TestEvent | null {
  const e = parseJson(raw);
  if (!e) return null;
  const ok =
    typeof e.id === 'string' && e.id.length <= 100 &&
    typeof e.topupId === 'string' && e.topupId.length <= 100 &&
    (e.outcome === 'succeeded' || e.outcome === 'failed') &&
    (e.failureCode === null || (typeof e.failureCode === 'string' && e.failureCode.length <= 100)) &&
    (e.paidAt === undefined || e.paidAt === null || (typeof e.paidAt === 'string' && e.paidAt.length <= 40 && Number.isFinite(Date.parse(e.paidAt))));
  return ok ? (e as unknown as TestEvent) : null;
}

/** R18: a `card_saved` event from the setup page, or null. */
function parseCardSaved(raw: Buffer) {
  try {
    const v: unknown = JSON.parse(raw.toString('utf8'));
    return typeof v === 'object' && v !== null ? parseTestCardSaved(v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function testGateway(secret: string, publicUrl: () => string): PaymentGateway {
  return {
    name: 'test',
    async startCheckout(): Promise<CheckoutStart> {
      return { checkoutUrl: null, gatewaySessionId: null };
    },
    checkoutUrl: (t: TopupRow) => `${publicUrl()}/test-gateway/checkout/${encodeURIComponent(t.id)}`,
    refund: testRefund,
    readNotification(rawBody, headers, nowSeconds): NotificationReading {
      const check = verifySignature(secret, rawBody, header(headers, TEST_SIGNATURE_HEADER), nowSeconds);
      if (!check.ok) return { kind: 'rejected', reason: `signature ${check.reason}` };
      const json = parseJson(rawBody);
      const dispute = json ? parseDispute(json) : null;
      if (dispute) {
        return { kind: 'dispute', dispute: { gateway: 'test', eventId: dispute.id, topupId: dispute.topupId, paymentReference: null, status: dispute.status } };
      }
      const saved = parseCardSaved(rawBody);
      if (saved) return { kind: 'card_saved', notice: { gateway: 'test', ...saved } };
      const event = parseEvent(rawBody);
      if (!event) return { kind: 'malformed', reason: 'not a test gateway event' };
      return {
        kind: 'outcome',
        outcome: {
          gateway: 'test',
          eventId: event.id,
          topupId: event.topupId,
          outcome: event.outcome,
          failureCode: event.failureCode,
          paidAt: event.paidAt ? new Date(event.paidAt) : null,
        },
      };
    },
  };
}
