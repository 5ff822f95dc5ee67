// R18: the holder's saved cards ("Metodi di pagamento") and the per-mailbox choice of renewing with
// one. A card is saved only through the gateway's page and its signed notification; the choice to
// renew a mailbox with it is the holder's own, separate act: never on by default, never switched on
// by saving a card or by paying (AGCM, Aruba 2017).
import { clock } from '../../clock.ts';
import { newId } from '../../ids.ts';
import type { Queryable } from '../../db/database.ts';
import type { CardSetupCompletion, SavedCardGateway, SavedCardNotice } from '../../payments/saved-cards.ts';
import { audit, type Actor } from '../audit.ts';
import { requireBillingProfile } from './billing-profiles.ts';
import type { ServiceContext } from '../context.ts';
import { DomainError, notFound } from '../errors.ts';
import { lockMailbox, readMailbox, type MailboxRow } from '../rows.ts';

export interface PaymentMethodRow {
  id: string;
  customer_id: string;
  gateway: string;
  gateway_reference: string;
  gateway_customer: string | null;
  brand: string;
  last4: string;
  exp_month: number;
  exp_year: number;
  created_at: Date;
  removed_at: Date | null;
  /** The mailboxes that renew with this card. */
  mailbox_ids: string[];
}

export interface CardSetupRow {
  id: string;
  customer_id: string;
  gateway: string;
  status: 'pending' | 'completed';
  setup_url: string | null;
  gateway_session_id: string | null;
  payment_method_id: string | null;
}

const PAYMENT_METHOD_COLUMNS = `p.*, coalesce((SELECT array_agg(m.id ORDER BY m.address) FROM mailboxes m
  WHERE m.card_renewal_payment_method_id = p.id), '{}') AS mailbox_ids`;

export async function listPaymentMethods(db: Queryable, customerId: string): Promise<PaymentMethodRow[]> {
  return db.query<PaymentMethodRow>(
    `SELECT ${PAYMENT_METHOD_COLUMNS} FROM payment_methods p WHERE p.customer_id = $1 AND p.removed_at IS NULL ORDER BY p.created_at, p.id`,
    [customerId],
  );
}

export const paymentMethodView = (p: PaymentMethodRow) => ({
  id: p.id,
  brand: p.brand,
  last4: p.last4,
  expMonth: p.exp_month,
  expYear: p.exp_year,
  createdAt: p.created_at.toISOString(),
  mailboxIds: p.mailbox_ids,
});
export type PaymentMethodView = ReturnType<typeof paymentMethodView>;

/** Opens a setup session at the gateway; the holder saves the card on the gateway's page. */
export async function startCardSetup(ctx: ServiceContext, gateway: SavedCardGateway, customerId: string): Promise<CardSetupRow> {
  // R15: a saved card will pay top-ups, and each needs somebody to invoice.
  await requireBillingProfile(ctx.db, customerId);
  const now = clock.now();
  const id = newId('set');
  const [known] = await ctx.db.query<{ gateway_customer: string | null }>(
    'SELECT gateway_customer FROM payment_methods WHERE customer_id = $1 AND gateway = $2 AND gateway_customer IS NOT NULL LIMIT 1',
    [customerId, gateway.name],
  );
  await ctx.db.query(
    `INSERT INTO card_setups (id, customer_id, gateway, status, created_at) VALUES ($1, $2, $3, 'pending', $4)`,
    [id, customerId, gateway.name, now],
  );
  const back = `${ctx.publicUrl}/metodi-di-pagamento`;
  const started = await gateway.startCardSetup({ id, customerId, gatewayCustomer: known?.gateway_customer ?? null }, { returnUrl: back, cancelUrl: back });
  const [row] = await ctx.db.query<CardSetupRow>(
    'UPDATE card_setups SET setup_url = $2, gateway_session_id = $3 WHERE id = $1 RETURNING *',
    [id, started.setupUrl, started.gatewaySessionId],
  );
  return row!;
}

export async function readCardSetup(db: Queryable, setupId: string): Promise<CardSetupRow | null> {
  const [row] = await db.query<CardSetupRow>('SELECT * FROM card_setups WHERE id = $1', [setupId]);
  return row ?? null;
}

/** not_a_card: the gateway's setup saved nothing Casella can charge (not succeeded, or not a card). */
export type CardSavedApplication = 'saved' | 'duplicate' | 'unknown_setup' | 'not_a_card';

/** Applies a verified `card_saved` notification: one payment method per setup, whatever is replayed. */
export async function recordSavedCard(ctx: ServiceContext, n: SavedCardNotice): Promise<CardSavedApplication> {
  const now = clock.now();
  return ctx.db.transaction(async (tx) => {
    const [setup] = await tx.query<CardSetupRow>('SELECT * FROM card_setups WHERE id = $1 AND gateway = $2 FOR UPDATE', [n.setupId, n.gateway]);
    if (!setup) return 'unknown_setup';
    if (setup.status !== 'pending') return 'duplicate';
    const id = newId('pm');
    await tx.query(
      `INSERT INTO payment_methods (id, customer_id, gateway, gateway_reference, gateway_customer, brand, last4, exp_month, exp_year, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [id, setup.customer_id, n.gateway, n.card.reference, n.card.gatewayCustomer, n.card.brand, n.card.last4, n.card.expMonth, n.card.expYear, now],
    );
    await tx.query(`UPDATE card_setups SET status = 'completed', payment_method_id = $2, completed_at = $3 WHERE id = $1`, [setup.id, id, now]);
    // R18: saving a card switches nothing on; the holder chooses per mailbox.
    await audit(tx, { kind: 'holder', id: setup.customer_id }, { action: 'payment_method.saved', entityKind: 'payment_method', entityId: id, after: { brand: n.card.brand, last4: n.card.last4 } }, now);
    return 'saved';
  });
}

/**
 * R18 on Stripe: a verified `checkout.session.completed` of a setup session. The card is read from
 * the gateway (outside any transaction) only while the setup still waits, then recorded as a
 * `card_saved` notification is: one payment method per setup, whatever is replayed. Throws when the
 * gateway cannot be read (the webhook answers 500 and the gateway notifies again).
 */
export async function completeCardSetup(ctx: ServiceContext, gateway: SavedCardGateway, n: CardSetupCompletion): Promise<CardSavedApplication> {
  const setup = await readCardSetup(ctx.db, n.setupId);
  // The session must be the one this setup opened (its id is kept when the setup starts).
  if (!setup || setup.gateway !== n.gateway || (setup.gateway_session_id !== null && setup.gateway_session_id !== n.gatewaySessionId)) return 'unknown_setup';
  if (setup.status !== 'pending') return 'duplicate';
  const card = await gateway.readSetupCard(n.setupIntentId);
  if (!card) return 'not_a_card';
  return recordSavedCard(ctx, { gateway: n.gateway, eventId: n.eventId, setupId: n.setupId, card: { ...card, gatewayCustomer: card.gatewayCustomer ?? n.gatewayCustomer } });
}

/** Removes a card; R18: the mailboxes that renewed with it stop doing so, and the answer names them. */
export async function removePaymentMethod(ctx: ServiceContext, actor: Actor, customerId: string, paymentMethodId: string): Promise<{ mailboxesSwitchedOff: string[] }> {
  const now = clock.now();
  return ctx.db.transaction(async (tx) => {
    const [pm] = await tx.query<{ id: string }>(
      'SELECT id FROM payment_methods WHERE id = $1 AND customer_id = $2 AND removed_at IS NULL FOR UPDATE',
      [paymentMethodId, customerId],
    );
    if (!pm) throw notFound('payment method');
    const switched = await tx.query<{ id: string; address: string }>(
      `UPDATE mailboxes SET card_renewal_payment_method_id = NULL, updated_at = $3
        WHERE card_renewal_payment_method_id = $1 AND customer_id = $2 RETURNING id, address`,
      [paymentMethodId, customerId, now],
    );
    await tx.query('UPDATE payment_methods SET removed_at = $2 WHERE id = $1', [paymentMethodId, now]);
    const mailboxesSwitchedOff = switched.sort((a, b) => a.address.localeCompare(b.address)).map((m) => m.id);
    await audit(tx, actor, { action: 'payment_method.removed', entityKind: 'payment_method', entityId: paymentMethodId, after: { mailboxesSwitchedOff } }, now);
    return { mailboxesSwitchedOff };
  });
}

/** R18: switches card renewal on for one mailbox with one of the holder's cards, or off (null). */
export async function setCardRenewal(
  ctx: ServiceContext,
  actor: Actor,
  customerId: string,
  mailboxId: string,
  choice: { paymentMethodId: string } | null,
): Promise<MailboxRow> {
  const now = clock.now();
  return ctx.db.transaction(async (tx) => {
    const before = await lockMailbox(tx, mailboxId, customerId);
    if (!before) throw notFound('mailbox');
    if (choice !== null) {
      const [pm] = await tx.query('SELECT 1 FROM payment_methods WHERE id = $1 AND customer_id = $2 AND removed_at IS NULL', [choice.paymentMethodId, customerId]);
      if (!pm) throw notFound('payment method');
      if (before.status === 'terminated') throw new DomainError('mailbox_not_active', 'A terminated mailbox is not renewed');
    }
    const paymentMethodId = choice?.paymentMethodId ?? null;
    await tx.query('UPDATE mailboxes SET card_renewal_payment_method_id = $2, updated_at = $3 WHERE id = $1', [mailboxId, paymentMethodId, now]);
    await audit(
      tx,
      actor,
      { action: 'mailbox.card_renewal', entityKind: 'mailbox', entityId: mailboxId, before: { paymentMethodId: before.card_renewal_payment_method_id }, after: { paymentMethodId } },
      now,
    );
    return (await readMailbox(tx, mailboxId, customerId))!;
  });
}
