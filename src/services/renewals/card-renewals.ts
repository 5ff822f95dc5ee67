// R18: renewal by saved card, in the daily job. Three steps, each crash-safe:
//  1. claim: for each mailbox renewing by card whose charge day has come (E − cardRenewalDaysBefore,
//     caught up until E) and whose credit will not cover it, one transaction inserts the charge row
//     (primary key (mailbox, period): at most one per period) and its pending `saved_card` top-up;
//  2. charge: outside any transaction, with bounded concurrency, the gateway is called with an
//     idempotency key derived from (mailbox, period, attempt);
//  3. record: one transaction applies the answer through the ordinary top-up path (credit, VAT,
//     invoice, receipt: R15 exactly as a card payment) and, on failure, the dunning of R18.
// A row left `claimed` by a killed process is driven again once its lease ends, with the same key:
// the gateway answers as the first time, so nothing is charged twice.
import { randomBytes } from 'node:crypto';
import { clock } from '../../clock.ts';
import { addDays, date, dateInRome, startOfDayInRome, type CalendarDate } from '../../domain/calendar.ts';
import {
  cardChargeFor,
  cardExpiresBefore,
  chargeMade,
  cardRenewalStanding,
  nextRetryOn,
  retriedOffSession,
  type CardRenewalFacts,
  type HolderCards,
} from '../../domain/card-renewal.ts';
import { dueRenewals } from '../../domain/holder-renewals.ts';
import { cents, type Cents } from '../../domain/money.ts';
import { extraGbRenewedWithMailbox } from '../../domain/mailbox.ts';
import { addonRenewalPrice, mailboxRenewalPrice } from '../../domain/renewal.ts';
import type { Queryable, Tx } from '../../db/database.ts';
import type { Locale } from '../../i18n/format.ts';
import { chargeFor, vatTermsFor } from '../../domain/vat.ts';
import { readBillingProfile } from '../billing/billing-profiles.ts';
import { newId } from '../../ids.ts';
import { cardChargeFailed, cardChargeNeedsAuthentication, cardExpiring, type CardChargeFacts } from '../../mail/card-renewal-mails.ts';
import { enqueueEmail } from '../../mail/outbox.ts';
import type { OffSessionResult, SavedCardGateway } from '../../payments/saved-cards.ts';
import type { ServiceContext } from '../context.ts';
import { DomainError } from '../errors.ts';
import { placeRenewalOrder } from '../billing/orders.ts';
import { holderMailbox, MAILBOX_COLUMNS, mailboxFacts, type MailboxRow } from '../rows.ts';
import { applyPaymentOutcome } from '../billing/topups.ts';

export interface CardRenewalOptions {
  /** Candidate mailboxes read per query. */
  batchSizeMax?: number;
  /** Gateway calls in flight at once. */
  concurrencyMax?: number;
  /** How long a claimed charge stays this process's before another may drive it (machine time). */
  leaseMs?: number;
  /** Who this process is, for the lease; a fresh id per run by default. */
  leaseOwner?: string;
}

/** What the card step did, in the daily job's summary (issue 22 item 6). */
export interface CardRenewalSummary {
  /** Charges claimed this run (first charges and retries). */
  cardChargesClaimed: number;
  /** Charges sent to the gateway this run, a killed run's taken over included. */
  cardChargesAttempted: number;
  cardChargesSucceeded: number;
  cardChargesFailed: number;
  /** Answered `authentication_required`: waiting for the holder, not retried off-session. */
  cardChargesAuthenticationRequired: number;
  cardsExpiringAnnounced: number;
}

export const cardRenewalBatchSizeDefault = 500;
export const cardRenewalConcurrencyDefault = 8;
/** R20: what a dead process had claimed is taken over within a minute. */
export const cardChargeLeaseMsDefault = 60_000;
const CARD_EXPIRY_NOTICE_DAYS = 30;

interface ChargeRow {
  mailbox_id: string;
  period_ends_on: string;
  customer_id: string;
  attempt: number;
  topup_id: string;
  charge_cents: Cents;
  gateway_reference: string;
  gateway_customer: string | null;
}

export const idempotencyKeyOf = (r: Pick<ChargeRow, 'mailbox_id' | 'period_ends_on' | 'attempt'>) =>
  `casella-card-renewal-${r.mailbox_id}-${r.period_ends_on}-${r.attempt}`;

/** One mailbox renewing by card, with its card and this period's charge (R18). */
export interface CardRenewalRow extends CardRenewalFacts {
  mailboxId: string;
  customerId: string;
  brand: string;
  last4: string;
}

/**
 * R18: the holders' mailboxes renewing by card (active, automatic renewal on), each with its card
 * and the charge made for its current period, if any. Bounded by the holders asked about.
 */
export async function readCardRenewals(q: Queryable, customerIds: readonly string[]): Promise<Map<string, CardRenewalRow[]>> {
  const byHolder = new Map<string, CardRenewalRow[]>();
  if (!customerIds.length) return byHolder;
  const rows = await q.query<{
    id: string; customer_id: string; expires_on: string; brand: string; last4: string; exp_month: number; exp_year: number; removed: boolean; billable: boolean;
    state: 'claimed' | 'succeeded' | 'failed' | 'requires_action' | null; next_retry_on: string | null; topup_status: 'pending' | 'succeeded' | 'failed' | 'expired' | null; amount_cents: number | null;
  }>(
    `SELECT m.id, m.customer_id, m.expires_on, p.brand, p.last4, p.exp_month, p.exp_year, p.removed_at IS NOT NULL AS removed,
            EXISTS (SELECT 1 FROM billing_profiles b WHERE b.customer_id = m.customer_id) AS billable,
            cc.state, cc.next_retry_on, t.status AS topup_status, t.amount_cents
       FROM mailboxes m JOIN payment_methods p ON p.id = m.card_renewal_payment_method_id
            LEFT JOIN card_charges cc ON cc.mailbox_id = m.id AND cc.period_ends_on = m.expires_on
            LEFT JOIN topups t ON t.id = cc.topup_id
      WHERE m.customer_id = ANY($1::text[]) AND m.card_renewal_payment_method_id IS NOT NULL AND m.status = 'active' AND m.auto_renew`,
    [customerIds],
  );
  for (const r of rows) {
    const row: CardRenewalRow = {
      mailboxId: r.id,
      customerId: r.customer_id,
      brand: r.brand,
      last4: r.last4,
      expiresOn: date(r.expires_on),
      card: { expMonth: r.exp_month, expYear: r.exp_year, removed: r.removed },
      billable: r.billable,
      charge: r.state === null || r.topup_status === null
        ? null
        : { state: r.state, nextRetryOn: r.next_retry_on ? date(r.next_retry_on) : null, topupStatus: r.topup_status, amountCents: cents(Number(r.amount_cents ?? 0)) },
    };
    const list = byHolder.get(r.customer_id);
    if (list) list.push(row);
    else byHolder.set(r.customer_id, [row]);
  }
  return byHolder;
}

/**
 * R18: the holder's cards as the plan takes them (planWithCards), by index into `mailboxIds` (the
 * list the renewals were gathered from); a card of a mailbox not in that list is not counted.
 * `except`: the mailbox whose charge is being decided.
 */
export function holderCards(rows: readonly CardRenewalRow[] | undefined, mailboxIds: readonly string[], today: CalendarDate, daysBefore: number, except: string | null = null): HolderCards {
  const cards: { inFlight: { mailboxIndex: number; cents: Cents }[]; covered: number[]; toCharge: { mailboxIndex: number; chargeOn: CalendarDate; periodEndsOn: CalendarDate }[] } = { inFlight: [], covered: [], toCharge: [] };
  if (!rows?.length) return cards;
  const indexOf = new Map(mailboxIds.map((id, index) => [id, index]));
  for (const row of rows) {
    const mailboxIndex = indexOf.get(row.mailboxId);
    if (mailboxIndex === undefined || row.mailboxId === except) continue;
    const standing = cardRenewalStanding(row, today, daysBefore);
    if (standing.kind === 'paid') cards.covered.push(mailboxIndex);
    else if (standing.kind === 'in_flight') {
      cards.covered.push(mailboxIndex);
      cards.inFlight.push({ mailboxIndex, cents: standing.cents });
    } else if (standing.kind === 'to_charge') cards.toCharge.push({ mailboxIndex, chargeOn: standing.chargeOn, periodEndsOn: row.expiresOn });
  }
  return cards;
}

/**
 * R18 item 3: what the card must add today for this mailbox's renewal at E, by the job's own plan
 * (planHolderRenewals through cardChargeFor): the holder's renewals due up to E in the job's order
 * (R7.3), extra space ending before its mailbox (R7.6) included, against the balance and the card
 * charges in flight; the renewals whose card charge for this period is made keep their money.
 * At least R5's minimum top-up; 0 when the credit covers it.
 */
async function chargeNeeded(tx: Tx, ctx: ServiceContext, m: { id: string; customer_id: string; expires_on: string }, balanceCents: Cents): Promise<Cents> {
  const today = clock.today();
  // A charge is made from E − daysBefore on, so every mailbox whose charge for this period is made
  // falls due by today + daysBefore: the plan reaches that far, or to E when later. One query: the
  // holder's mailboxes with something due by then, each with this period's charge if one was made.
  const lastMade = addDays(today, ctx.catalogue.cardRenewalDaysBefore).toString();
  const horizon = m.expires_on > lastMade ? m.expires_on : lastMade;
  const rows = await tx.query<MailboxRow & { charge_state: 'claimed' | 'succeeded' | 'failed' | 'requires_action' | null; topup_status: 'pending' | 'succeeded' | 'failed' | 'expired' | null; charge_cents: number | null }>(
    `SELECT ${MAILBOX_COLUMNS}, cc.state AS charge_state, t.status AS topup_status, t.amount_cents AS charge_cents
       FROM mailboxes m LEFT JOIN addons a ON a.mailbox_id = m.id
            LEFT JOIN card_charges cc ON cc.mailbox_id = m.id AND cc.period_ends_on = m.expires_on LEFT JOIN topups t ON t.id = cc.topup_id
      WHERE m.customer_id = $1 AND m.status = 'active' AND (m.expires_on <= $2 OR (a.status = 'active' AND a.active_until <= $2))
      ORDER BY m.address`,
    [m.customer_id, horizon],
  );
  const target = rows.findIndex((r) => r.id === m.id);
  if (target < 0) return cents(0);
  const covered = new Set<number>();
  let inFlightCents = 0;
  rows.forEach((r, index) => {
    if (index === target || r.charge_state === null || r.topup_status === null) return;
    const made = chargeMade({ state: r.charge_state, topupStatus: r.topup_status, nextRetryOn: null, amountCents: cents(Number(r.charge_cents ?? 0)) });
    if (made) covered.add(index);
    if (made?.kind === 'in_flight') inFlightCents += made.cents;
  });
  return cardChargeFor({
    due: dueRenewals(rows.map(holderMailbox), today, date(horizon), ctx.catalogue),
    balanceCents: cents(balanceCents + inFlightCents),
    covered,
    target,
    chargeOn: today,
    limits: ctx.catalogue,
  });
}

/**
 * Step 1 for one mailbox (first attempt or a retry): in one transaction, with the holder's wallet
 * locked so the amount is judged against the balance as it is, the charge row and its top-up.
 * Returns null when the credit already covers the renewal (nothing to charge today).
 */
async function claimCharge(
  ctx: ServiceContext,
  m: { id: string; customer_id: string; expires_on: string; payment_method_id: string },
  retryOf: { attempt: number } | null,
  lease: { owner: string; untilMs: number },
): Promise<boolean> {
  const now = clock.now();
  return ctx.db.transaction(async (tx) => {
    const [wallet] = await tx.query<{ balance_cents: Cents }>('SELECT balance_cents FROM wallets WHERE customer_id = $1 FOR UPDATE', [m.customer_id]);
    const [mailbox] = await tx.query<{ ok: boolean; gateway: string; exp_month: number; exp_year: number }>(
      `SELECT (m.status = 'active' AND m.auto_renew AND m.expires_on = $2) AS ok, p.gateway, p.exp_month, p.exp_year
         FROM mailboxes m JOIN payment_methods p ON p.id = m.card_renewal_payment_method_id AND p.id = $3 WHERE m.id = $1 FOR UPDATE OF m`,
      [m.id, m.expires_on, m.payment_method_id],
    );
    if (!wallet || !mailbox?.ok) return false;
    // R18: a card expired by today is not charged (the bank would refuse it). The holder was told 30
    // days ahead (`Carta in scadenza`), and the alerts and the dashboard count it as not paying.
    if (cardExpiresBefore({ expMonth: mailbox.exp_month, expYear: mailbox.exp_year }, clock.today())) return false;
    const [existing] = await tx.query<{ attempt: number; state: string }>(
      'SELECT attempt, state FROM card_charges WHERE mailbox_id = $1 AND period_ends_on = $2 FOR UPDATE',
      [m.id, m.expires_on],
    );
    // Exactly one charge per (mailbox, period): a first attempt only where there is none; a retry only of the attempt it follows.
    if (retryOf === null ? existing !== undefined : existing?.attempt !== retryOf.attempt || existing.state !== 'failed') return false;
    // R15: no card payment without billing data to invoice.
    const billing = await readBillingProfile(tx, m.customer_id);
    if (!billing) return false;
    const amount = await chargeNeeded(tx, ctx, m, cents(wallet.balance_cents));
    if (amount === 0) {
      // The holder topped up meanwhile: no retry is needed any more.
      if (existing) await tx.query('UPDATE card_charges SET next_retry_on = NULL, updated_at = $3 WHERE mailbox_id = $1 AND period_ends_on = $2', [m.id, m.expires_on, now]);
      return false;
    }
    // R16: the charge carries this buyer's VAT, as every other payment does (none for a business abroad).
    const terms = vatTermsFor(billing.profile, ctx.catalogue.vatRateBasisPoints);
    const split = chargeFor(amount, terms);
    const topupId = newId('top');
    await tx.query(
      `INSERT INTO topups (id, customer_id, amount_cents, vat_cents, charge_cents, status, gateway, created_at, vat_rate_basis_points, payment_method_id, vat_treatment, method)
       VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $9, $10, 'saved_card')`,
      [topupId, m.customer_id, split.netCents, split.vatCents, split.grossCents, mailbox.gateway, now, terms.rateBasisPoints, m.payment_method_id, terms.treatment],
    );
    const attempt = retryOf ? retryOf.attempt + 1 : 1;
    if (existing) {
      await tx.query(
        `UPDATE card_charges SET attempt = $3, topup_id = $4, state = 'claimed', failure_code = NULL, next_retry_on = NULL,
           payment_method_id = $5, lease_owner = $6, lease_until = $7, updated_at = $8 WHERE mailbox_id = $1 AND period_ends_on = $2`,
        [m.id, m.expires_on, attempt, topupId, m.payment_method_id, lease.owner, new Date(lease.untilMs), now],
      );
    } else {
      await tx.query(
        `INSERT INTO card_charges (mailbox_id, period_ends_on, customer_id, payment_method_id, attempt, topup_id, state, lease_owner, lease_until, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 1, $5, 'claimed', $6, $7, $8, $8)`,
        [m.id, m.expires_on, m.customer_id, m.payment_method_id, topupId, lease.owner, new Date(lease.untilMs), now],
      );
    }
    await tx.query('INSERT INTO card_charge_attempts (topup_id, mailbox_id, period_ends_on, attempt) VALUES ($1, $2, $3, $4)', [topupId, m.id, m.expires_on, attempt]);
    return true;
  });
}

interface Candidate {
  id: string;
  customer_id: string;
  expires_on: string;
  address: string;
  payment_method_id: string;
}

/** Told how many charges a step has just written (claimed or driven). */
type KeepStatistics = (charges: number) => Promise<void>;

/** The tables a run of card charges grows: each charge adds a row to each. */
const GROWN_BY_CHARGES = 'card_charges, card_charge_attempts, topups, invoices, test_gateway_charges';
const STATISTICS_FIRST_AT = 1000;

/**
 * One run can take these tables from nothing to 100,000 rows. PostgreSQL plans by the statistics it
 * last gathered, and keeps the plans of foreign-key checks for the life of a connection: planned
 * while the tables were small, every claim scanned them whole (claims slowed from 290/s to 70/s over
 * 45,000, 4 billion rows read). The statistics are gathered again, which also replans, each time the
 * charges written have doubled since: what autovacuum does on a server that runs it, and the
 * embedded engine has no autovacuum at all.
 */
function keepStatistics(ctx: ServiceContext): KeepStatistics {
  let written = 0;
  let gatheredAt = 0;
  return async (charges) => {
    written += charges;
    if (written < STATISTICS_FIRST_AT || written < 2 * gatheredAt) return;
    gatheredAt = written;
    await ctx.db.exec(`ANALYZE ${GROWN_BY_CHARGES}`);
  };
}

/**
 * Claims a batch's charges, `concurrencyMax` holders at a time: one holder's in the batch's order
 * (R7.3: each charge sees the balance the holder's earlier renewals leave), different holders side
 * by side, since a claim locks only its own holder's wallet and mailboxes. Each claim is its own
 * transaction waiting on PostgreSQL's round trips, so one at a time left the process idle.
 */
async function claimByHolder<M extends { customer_id: string }>(batch: readonly M[], concurrencyMax: number, claim: (m: M) => Promise<boolean>): Promise<number> {
  const byHolder = new Map<string, M[]>();
  for (const m of batch) {
    const list = byHolder.get(m.customer_id);
    if (list) list.push(m);
    else byHolder.set(m.customer_id, [m]);
  }
  let claimed = 0;
  await atMostAtOnce([...byHolder.values()], concurrencyMax, async (holder) => {
    for (const m of holder) if (await claim(m)) claimed++;
  });
  return claimed;
}

/** `work` on every item, at most `concurrencyMax` at once, each taking the next item as it is free. */
async function atMostAtOnce<T>(items: readonly T[], concurrencyMax: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrencyMax, items.length) }, worker));
}

/** Step 1 for every mailbox whose first charge day has come (caught up until E), in bounded batches. */
async function claimFirstCharges(ctx: ServiceContext, today: CalendarDate, batchSizeMax: number, concurrencyMax: number, lease: () => { owner: string; untilMs: number }, wrote: KeepStatistics): Promise<number> {
  const lastDue = addDays(today, ctx.catalogue.cardRenewalDaysBefore).toString();
  let cursor = { expiresOn: '0001-01-01', id: '' };
  let claimed = 0;
  for (;;) {
    const batch = await ctx.db.query<Candidate>(
      `SELECT m.id, m.customer_id, m.expires_on, m.address, m.card_renewal_payment_method_id AS payment_method_id FROM mailboxes m
        WHERE m.card_renewal_payment_method_id IS NOT NULL AND m.status = 'active' AND m.auto_renew
          AND m.expires_on >= $1 AND m.expires_on <= $2 AND (m.expires_on, m.id) > ($3::date, $4)
          AND NOT EXISTS (SELECT 1 FROM card_charges c WHERE c.mailbox_id = m.id AND c.period_ends_on = m.expires_on)
        ORDER BY m.expires_on, m.id LIMIT $5`,
      [today.toString(), lastDue, cursor.expiresOn, cursor.id, batchSizeMax],
    );
    if (!batch.length) return claimed;
    // R7.3: a holder's earlier renewals first, so each charge sees the balance they leave.
    const n = await claimByHolder(batch, concurrencyMax, (m) => claimCharge(ctx, m, null, lease()));
    claimed += n;
    await wrote(n);
    const last = batch[batch.length - 1]!;
    cursor = { expiresOn: last.expires_on, id: last.id };
  }
}

/** Step 1 for the retries of R18 (E−3, E−1) that are due today. */
async function claimRetries(ctx: ServiceContext, today: CalendarDate, batchSizeMax: number, concurrencyMax: number, lease: () => { owner: string; untilMs: number }, wrote: KeepStatistics): Promise<number> {
  let claimed = 0;
  let cursor = '';
  for (;;) {
    const batch = await ctx.db.query<Candidate & { attempt: number }>(
      `SELECT m.id, m.customer_id, m.expires_on, m.address, m.card_renewal_payment_method_id AS payment_method_id, c.attempt
         FROM card_charges c JOIN mailboxes m ON m.id = c.mailbox_id AND m.expires_on = c.period_ends_on
        WHERE c.state = 'failed' AND c.next_retry_on <= $1 AND c.period_ends_on >= $1 AND m.card_renewal_payment_method_id IS NOT NULL
          AND m.id > $2 ORDER BY m.id LIMIT $3`,
      [today.toString(), cursor, batchSizeMax],
    );
    if (!batch.length) return claimed;
    const n = await claimByHolder(batch, concurrencyMax, (m) => claimCharge(ctx, m, { attempt: m.attempt }, lease()));
    claimed += n;
    await wrote(n);
    cursor = batch[batch.length - 1]!.id;
  }
}

/** Takes the claimed charges this process may drive: its own, and any whose lease has ended. */
async function takeClaimed(ctx: ServiceContext, owner: string, leaseMs: number, limit: number): Promise<ChargeRow[]> {
  const nowMs = clock.wallMs();
  return ctx.db.transaction((tx) =>
    tx.query<ChargeRow>(
      `WITH taken AS (
         SELECT mailbox_id, period_ends_on FROM card_charges
          WHERE state = 'claimed' AND ((lease_owner = $1 AND lease_until > $2) OR lease_until <= $2)
          ORDER BY period_ends_on, mailbox_id LIMIT $4 FOR UPDATE SKIP LOCKED)
       UPDATE card_charges c SET lease_owner = $1, lease_until = $3
         FROM taken, topups t, payment_methods p
        WHERE c.mailbox_id = taken.mailbox_id AND c.period_ends_on = taken.period_ends_on AND t.id = c.topup_id AND p.id = c.payment_method_id
        RETURNING c.mailbox_id, c.period_ends_on, c.customer_id, c.attempt, c.topup_id, t.charge_cents, p.gateway_reference, p.gateway_customer`,
      [owner, new Date(nowMs), new Date(nowMs + leaseMs), limit],
    ),
  );
}

/** What the e-mails of R18 say about the renewal at E. */
async function chargeFacts(tx: Tx, ctx: ServiceContext, r: ChargeRow): Promise<CardChargeFacts & { reference_email: string; locale: Locale; customer_id: string }> {
  const [row] = await tx.query<MailboxRow & { reference_email: string; locale: Locale; brand: string; last4: string; balance_cents: Cents }>(
    `SELECT ${MAILBOX_COLUMNS}, c.reference_email, c.locale, p.brand, p.last4, w.balance_cents
       FROM mailboxes m LEFT JOIN addons a ON a.mailbox_id = m.id JOIN customers c ON c.id = m.customer_id
       JOIN wallets w ON w.customer_id = m.customer_id JOIN card_charges cc ON cc.mailbox_id = m.id AND cc.period_ends_on = $2
       JOIN payment_methods p ON p.id = cc.payment_method_id WHERE m.id = $1`,
    [r.mailbox_id, r.period_ends_on],
  );
  const facts = mailboxFacts(row!);
  const extraGb = row!.extra_space_auto_renew ? extraGbRenewedWithMailbox(facts) : 0;
  return {
    customer_id: row!.customer_id,
    reference_email: row!.reference_email,
    locale: row!.locale,
    address: row!.address,
    dueOn: date(r.period_ends_on),
    chargeCents: r.charge_cents,
    brand: row!.brand,
    last4: row!.last4,
    balanceCents: row!.balance_cents,
    renewalPriceCents: cents(mailboxRenewalPrice(facts, ctx.catalogue) + (extraGb ? addonRenewalPrice(extraGb, ctx.catalogue) : 0)),
    hasExtraSpace: extraGb > 0,
    graceDays: ctx.catalogue.graceDays,
  };
}

/** Step 3: the gateway's answer, in one transaction; a second recording of the same attempt does nothing. */
async function recordAnswer(ctx: ServiceContext, gatewayName: string, r: ChargeRow, answer: OffSessionResult, today: CalendarDate): Promise<'succeeded' | 'failed' | 'requires_action' | 'already_recorded'> {
  const now = clock.now();
  return ctx.db.enclosingTransaction(async (tx) => {
    const state = answer.outcome === 'succeeded' ? 'succeeded' : answer.outcome === 'failed' ? 'failed' : 'requires_action';
    const failureCode = answer.outcome === 'failed' ? answer.failureCode : answer.outcome === 'requires_action' ? 'authentication_required' : null;
    // Issue 22 item 4: a charge the bank wants the holder to authenticate is not retried off-session.
    const retryOn = answer.outcome === 'failed' && retriedOffSession(answer.failureCode) ? nextRetryOn(date(r.period_ends_on), ctx.catalogue.cardRenewalDaysBefore, today) : null;
    const updated = await tx.query(
      `UPDATE card_charges SET state = $4, failure_code = $5, next_retry_on = $6, lease_owner = NULL, lease_until = NULL, updated_at = $7
        WHERE mailbox_id = $1 AND period_ends_on = $2 AND topup_id = $3 AND state = 'claimed' RETURNING 1`,
      [r.mailbox_id, r.period_ends_on, r.topup_id, state, failureCode, retryOn?.toString() ?? null, now],
    );
    if (!updated.length) return 'already_recorded';
    const eventId = `offsession:${idempotencyKeyOf(r)}`;
    if (answer.outcome === 'succeeded') {
      // The same path as a card payment's notification: credit, VAT, invoice, receipt (R15).
      await applyPaymentOutcome(ctx, { gateway: gatewayName, eventId, topupId: r.topup_id, outcome: 'succeeded', gatewayReference: answer.reference });
      return 'succeeded';
    }
    if (answer.outcome === 'requires_action') {
      await tx.query('UPDATE topups SET gateway_reference = $2 WHERE id = $1', [r.topup_id, answer.reference || null]);
      const facts = await chargeFacts(tx, ctx, r);
      await enqueueEmail(
        tx,
        { customerId: facts.customer_id, kind: 'card_charge_authentication', to: facts.reference_email, locale: facts.locale, content: cardChargeNeedsAuthentication(facts.locale, { ...facts, actionUrl: answer.actionUrl }) },
        now,
      );
      return 'requires_action';
    }
    await applyPaymentOutcome(ctx, { gateway: gatewayName, eventId, topupId: r.topup_id, outcome: 'failed', failureCode: answer.failureCode, gatewayReference: answer.reference });
    const facts = await chargeFacts(tx, ctx, r);
    // R18: a renewal order waiting for payment, which the holder can pay by card or cancel, until the
    // next attempt (which leaves its own if it fails too) or E, and never less than the usual wait.
    try {
      await placeRenewalOrder(ctx, facts.customer_id, r.mailbox_id, { waitsUntil: new Date(startOfDayInRome(retryOn ?? date(r.period_ends_on))) });
    } catch (err) {
      if (!(err instanceof DomainError)) throw err; // one already waits, or the window closed: nothing to add
    }
    // The e-mail names the last day of the order waiting now (this one, or one placed before).
    const [waiting] = await tx.query<{ expires_at: Date }>(
      `SELECT expires_at FROM orders WHERE customer_id = $3 AND mailbox_id = $1 AND kind = 'renewal' AND status = 'awaiting_topup' AND expires_at > $2
        ORDER BY expires_at DESC LIMIT 1`,
      [r.mailbox_id, now, facts.customer_id],
    );
    const orderWaitsUntil = waiting ? dateInRome(waiting.expires_at.getTime() - 1) : null;
    await enqueueEmail(
      tx,
      {
        customerId: facts.customer_id,
        kind: 'card_charge_failed',
        to: facts.reference_email,
        locale: facts.locale,
        content: cardChargeFailed(facts.locale, { ...facts, failureCode: answer.failureCode, retryOn, orderWaitsUntil, ordersUrl: `${ctx.publicUrl}/orders` }),
      },
      now,
    );
    return 'failed';
  });
}

/** Step 2 and 3 for every charge this process may drive, `concurrencyMax` gateway calls at a time. */
async function driveClaimed(ctx: ServiceContext, gateway: SavedCardGateway, today: CalendarDate, owner: string, leaseMs: number, concurrencyMax: number, summary: CardRenewalSummary, wrote: KeepStatistics) {
  for (;;) {
    const rows = await takeClaimed(ctx, owner, leaseMs, concurrencyMax * 16);
    if (!rows.length) return;
    await wrote(rows.length);
    await atMostAtOnce(rows, concurrencyMax, async (r) => {
      let answer: OffSessionResult;
      summary.cardChargesAttempted++;
      try {
        answer = await gateway.chargeSavedCard({
          topupId: r.topup_id,
          chargeCents: r.charge_cents,
          currency: 'eur',
          cardReference: r.gateway_reference,
          gatewayCustomer: r.gateway_customer,
          idempotencyKey: idempotencyKeyOf(r),
        });
      } catch {
        // No answer (network, gateway down): the lease is let go so a later pass drives it again, same key.
        await ctx.db.query(`UPDATE card_charges SET lease_owner = NULL, lease_until = $3 WHERE mailbox_id = $1 AND period_ends_on = $2 AND state = 'claimed'`, [
          r.mailbox_id, r.period_ends_on, new Date(clock.wallMs() + leaseMs),
        ]);
        return;
      }
      const recorded = await recordAnswer(ctx, gateway.name, r, answer, today);
      if (recorded === 'succeeded') summary.cardChargesSucceeded++;
      // A decline asking for authentication (Stripe's decline_code) waits for the holder like requires_action.
      else if (recorded === 'requires_action' || (recorded === 'failed' && answer.outcome === 'failed' && !retriedOffSession(answer.failureCode))) summary.cardChargesAuthenticationRequired++;
      else if (recorded === 'failed') summary.cardChargesFailed++;
    });
  }
}

/**
 * R18: cards that will have expired by their next charge date, announced 30 days before that date,
 * once per (card, charge date): the charge date of a mailbox renewing by card is E − daysBefore.
 */
async function announceExpiringCards(ctx: ServiceContext, today: CalendarDate, batchSizeMax: number): Promise<number> {
  const chargeOn = addDays(today, CARD_EXPIRY_NOTICE_DAYS);
  const dueOn = addDays(chargeOn, ctx.catalogue.cardRenewalDaysBefore);
  // Only cards good through a month before the charge's (cardExpiresBefore, in SQL), a batch at a
  // time: the mailboxes due in the next five weeks may be a twelfth of them all.
  const lastGoodMonthBefore = chargeOn.year * 12 + (chargeOn.month - 1);
  let cards: ExpiringCard[] = [];
  let sent = 0;
  let after = '';
  do {
    cards = await ctx.db.query(
      `SELECT p.id, p.customer_id, p.brand, p.last4, p.exp_month, p.exp_year, array_agg(m.address ORDER BY m.address) AS addresses,
              min(m.expires_on)::text AS first_due_on, c.reference_email, c.locale
         FROM payment_methods p JOIN mailboxes m ON m.card_renewal_payment_method_id = p.id JOIN customers c ON c.id = p.customer_id
        WHERE p.removed_at IS NULL AND p.exp_year * 12 + p.exp_month - 1 < $3 AND p.id > $4
          AND m.status = 'active' AND m.auto_renew AND m.expires_on > $1 AND m.expires_on <= $2
          -- only the mailboxes whose charge day (E − daysBefore) falls after the card's last good month
          AND extract(year FROM m.expires_on - $6::int) * 12 + extract(month FROM m.expires_on - $6::int) - 1 > p.exp_year * 12 + p.exp_month - 1
        GROUP BY p.id, c.reference_email, c.locale ORDER BY p.id LIMIT $5`,
      [addDays(today, ctx.catalogue.cardRenewalDaysBefore).toString(), dueOn.toString(), lastGoodMonthBefore, after, batchSizeMax, ctx.catalogue.cardRenewalDaysBefore],
    );
    sent += await announceCards(ctx, cards, chargeOn);
    after = cards.at(-1)?.id ?? after;
  } while (cards.length === batchSizeMax);
  return sent;
}

interface ExpiringCard {
  id: string;
  customer_id: string;
  brand: string;
  last4: string;
  exp_month: number;
  exp_year: number;
  /** The mailboxes whose next charge falls after the card's last good month. */
  addresses: string[];
  /** The earliest E among them. */
  first_due_on: string;
  reference_email: string;
  locale: Locale;
}

async function announceCards(ctx: ServiceContext, cards: readonly ExpiringCard[], chargeOn: CalendarDate): Promise<number> {
  let sent = 0;
  for (const card of cards) {
    if (!cardExpiresBefore({ expMonth: card.exp_month, expYear: card.exp_year }, chargeOn)) continue;
    const now = clock.now();
    await ctx.db.transaction(async (tx) => {
      // At most one notice per card and expiry month.
      const fresh = await tx.query(
        `INSERT INTO card_expiry_notices (payment_method_id, sent_at) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1`,
        [card.id, now],
      );
      if (!fresh.length) return;
      await enqueueEmail(
        tx,
        {
          customerId: card.customer_id,
          kind: 'card_expiring',
          to: card.reference_email,
          locale: card.locale,
          content: cardExpiring(card.locale, {
            brand: card.brand, last4: card.last4, expMonth: card.exp_month, expYear: card.exp_year, addresses: card.addresses,
            chargeOn: addDays(date(card.first_due_on), -ctx.catalogue.cardRenewalDaysBefore), dueOn: date(card.first_due_on),
            paymentMethodsUrl: `${ctx.publicUrl}/metodi-di-pagamento`,
          }),
        },
        now,
      );
      sent++;
    });
  }
  return sent;
}

/** The daily job's card step (R18), for today: recover, claim, charge, record; then the expiry notices. */
export async function runCardRenewals(ctx: ServiceContext, gateway: SavedCardGateway, opts: CardRenewalOptions = {}): Promise<CardRenewalSummary> {
  const today = clock.today();
  const batchSizeMax = opts.batchSizeMax ?? cardRenewalBatchSizeDefault;
  const concurrencyMax = opts.concurrencyMax ?? cardRenewalConcurrencyDefault;
  const leaseMs = opts.leaseMs ?? cardChargeLeaseMsDefault;
  const owner = opts.leaseOwner ?? `run_${randomBytes(8).toString('hex')}`;
  const lease = () => ({ owner, untilMs: clock.wallMs() + leaseMs });
  const summary: CardRenewalSummary = {
    cardChargesClaimed: 0, cardChargesAttempted: 0, cardChargesSucceeded: 0, cardChargesFailed: 0, cardChargesAuthenticationRequired: 0, cardsExpiringAnnounced: 0,
  };
  const wrote = keepStatistics(ctx);
  // Recovery first: charges a killed run left claimed (lease over) are driven again with their key.
  await driveClaimed(ctx, gateway, today, owner, leaseMs, concurrencyMax, summary, wrote);
  summary.cardChargesClaimed += await claimRetries(ctx, today, batchSizeMax, concurrencyMax, lease, wrote);
  summary.cardChargesClaimed += await claimFirstCharges(ctx, today, batchSizeMax, concurrencyMax, lease, wrote);
  await driveClaimed(ctx, gateway, today, owner, leaseMs, concurrencyMax, summary, wrote);
  summary.cardsExpiringAnnounced = await announceExpiringCards(ctx, today, batchSizeMax);
  return summary;
}

/** R18: the holder's card charges that failed or wait for authentication, for a renewal still to come. */
export async function readCardChargeProblems(db: import('../../db/database.ts').Queryable, customerId: string) {
  return db.query<{ address: string; state: 'failed' | 'requires_action'; topup_id: string; period_ends_on: string; next_retry_on: string | null }>(
    `SELECT m.address, c.state, c.topup_id, c.period_ends_on, c.next_retry_on FROM card_charges c
       JOIN mailboxes m ON m.id = c.mailbox_id AND m.expires_on = c.period_ends_on AND m.status = 'active'
       JOIN topups t ON t.id = c.topup_id
      WHERE c.customer_id = $1 AND (c.state = 'failed' OR (c.state = 'requires_action' AND t.status = 'pending'))
      ORDER BY c.period_ends_on, m.address LIMIT 10`,
    [customerId],
  );
}
