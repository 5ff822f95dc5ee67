// R18: a card renewal charge the bank wanted authenticated (`authentication_required`) is completed
// by the holder, on-session, on the gateway's own page: `Conferma il pagamento` on the top-up's page
// (the e-mail's and the banner's link) opens it. The test gateway's page is its authentication page;
// Stripe's is a Checkout Session in `payment` mode for the charge's amount and Stripe customer, whose
// `checkout.session.completed` credits the same top-up through the webhook.
//
// Exactly once: the top-up is credited once (its status leaves `pending` once, whichever of the
// webhook and this service gets there first), and at most one confirmation page is open for it at
// a time: the page's session is kept on the top-up, a new one is opened only once the gateway says
// the last one expired, with an idempotency key derived from the charge's own key (mailbox, period,
// attempt) and the page it replaces, so two clicks at once get the same page.
import type { Queryable } from '../../db/database.ts';
import type { Cents } from '../../domain/money.ts';
import type { SavedCardGateway } from '../../payments/saved-cards.ts';
import { idempotencyKeyOf } from './card-renewals.ts';
import type { ServiceContext } from '../context.ts';
import { DomainError } from '../errors.ts';
import { applyPaymentOutcome, readTopup } from '../billing/topups.ts';

export interface ChargeAwaitingConfirmation {
  topup_id: string;
  customer_id: string;
  charge_cents: Cents;
  gateway: string;
  gateway_session_id: string | null;
  checkout_url: string | null;
  mailbox_id: string;
  address: string;
  period_ends_on: string;
  attempt: number;
  brand: string;
  last4: string;
  gateway_customer: string | null;
}

/** The holder's card charge `topupId` when it waits for the holder to confirm it; null otherwise. */
export async function readChargeAwaitingConfirmation(db: Queryable, customerId: string, topupId: string): Promise<ChargeAwaitingConfirmation | null> {
  const [row] = await db.query<ChargeAwaitingConfirmation>(
    `SELECT t.id AS topup_id, t.customer_id, t.charge_cents, t.gateway, t.gateway_session_id, t.checkout_url,
            c.mailbox_id, m.address, c.period_ends_on::text AS period_ends_on, c.attempt, p.brand, p.last4, p.gateway_customer
       FROM topups t JOIN card_charges c ON c.topup_id = t.id JOIN payment_methods p ON p.id = c.payment_method_id
       JOIN mailboxes m ON m.id = c.mailbox_id
      WHERE t.id = $1 AND t.customer_id = $2 AND t.status = 'pending' AND c.state = 'requires_action'`,
    [topupId, customerId],
  );
  return row ?? null;
}

export type ConfirmationAnswer =
  /** The page where the holder confirms the payment. */
  | { kind: 'open'; url: string }
  /** Paid (now or before): the top-up's page says so. */
  | { kind: 'settled' }
  /** Completed on the gateway's page, the money not yet confirmed: its notification settles it. */
  | { kind: 'processing' };

/**
 * `Conferma il pagamento`: where the holder completes the charge. 404 for an unknown top-up or
 * another holder's; 409 `topup_not_pending` for one that is not a charge waiting for confirmation.
 * Gateway calls run outside any transaction; what they answer is written in one statement each.
 */
export async function confirmCardCharge(ctx: ServiceContext, gateway: SavedCardGateway, customerId: string, topupId: string): Promise<ConfirmationAnswer> {
  const waiting = await readChargeAwaitingConfirmation(ctx.db, customerId, topupId);
  if (!waiting || waiting.gateway !== gateway.name) {
    const topup = await readTopup(ctx, customerId, topupId); // 404 when it is not the holder's
    if (topup.status === 'succeeded') return { kind: 'settled' };
    throw new DomainError('topup_not_pending', 'This top-up is not a card charge waiting for confirmation');
  }
  const previous = waiting.gateway_session_id;
  if (previous) {
    const page = await gateway.readChargeConfirmation(previous);
    if (page.state === 'open' && waiting.checkout_url) return { kind: 'open', url: waiting.checkout_url };
    if (page.state === 'processing') return { kind: 'processing' };
    if (page.state === 'paid') {
      // Paid, and the holder is back before the gateway's notification: credited now, once (the
      // notification then finds the top-up decided).
      await applyPaymentOutcome(ctx, { gateway: gateway.name, eventId: `confirmation:${previous}`, topupId, outcome: 'succeeded', gatewayReference: page.reference });
      return { kind: 'settled' };
    }
    // Expired: it can no longer be paid, so a new page replaces it.
  }
  const started = await gateway.openChargeConfirmation({
    topupId,
    chargeCents: waiting.charge_cents,
    currency: 'eur',
    gatewayCustomer: waiting.gateway_customer,
    idempotencyKey: `${idempotencyKeyOf(waiting)}-confirm-${previous ?? 'first'}`,
    returnUrl: `${ctx.publicUrl}/credit/topups/${encodeURIComponent(topupId)}`,
  });
  if (started.sessionId === null) return { kind: 'open', url: started.url };
  // Kept only over the page it replaces: of two requests at once, the second finds the first's.
  const kept = await ctx.db.query(
    `UPDATE topups SET checkout_url = $2, gateway_session_id = $3
      WHERE id = $1 AND status = 'pending' AND gateway_session_id IS NOT DISTINCT FROM $4 RETURNING 1`,
    [topupId, started.url, started.sessionId, previous],
  );
  if (kept.length) return { kind: 'open', url: started.url };
  const [now] = await ctx.db.query<{ status: string; checkout_url: string | null }>('SELECT status, checkout_url FROM topups WHERE id = $1', [topupId]);
  if (now!.status !== 'pending') return { kind: 'settled' };
  // Another request kept its page first; the one opened here was shown to nobody.
  return now!.checkout_url ? { kind: 'open', url: now!.checkout_url } : { kind: 'processing' };
}
