// Rows as the database returns them, and their conversion to domain facts.
import type { Tx, Queryable } from '../db/database.ts';
import { date } from '../domain/calendar.ts';
import type { MailboxType } from '../domain/catalogue.ts';
import type { MailboxFacts, MailboxStatus, AddonStatus } from '../domain/mailbox.ts';
import type { HolderMailbox } from '../domain/holder-renewals.ts';
import type { Cents } from '../domain/money.ts';
import type { Locale } from '../i18n/format.ts';
import type { VatTreatment } from '../domain/vat.ts';
import type { PaymentMethodKind } from '../domain/invoice.ts';

export interface CustomerRow {
  id: string;
  name: string;
  tax_code: string | null;
  reference_email: string;
  locale: Locale;
  created_at: Date;
}

export interface MailboxRow {
  id: string;
  customer_id: string;
  address: string;
  type: MailboxType;
  status: MailboxStatus;
  expires_on: string;
  auto_renew: boolean;
  extra_space_auto_renew: boolean;
  used_bytes: number;
  addon_quantity_gb: number | null;
  addon_status: AddonStatus | null;
  addon_active_until: string | null;
  /** R19: the type it takes at its next renewal (null: it keeps its own). */
  next_type: MailboxType | null;
  /** R18: the saved card this mailbox renews with, or null (off). */
  card_renewal_payment_method_id?: string | null;
  card_renewal_last4?: string | null;
}

export interface OrderRow {
  id: string;
  customer_id: string;
  mailbox_id: string;
  kind: 'extra_inbox_space' | 'renewal';
  quantity_gb: number;
  rule: 'full_year' | 'free_until_expiry' | 'remaining_months' | null;
  amount_cents: Cents;
  status: 'completed' | 'awaiting_topup' | 'cancelled' | 'expired';
  period_ends_on: string;
  active_until: string;
  created_at: Date;
  expires_at: Date;
  completed_at: Date | null;
  /** Why a waiting order was cancelled when its top-up came (a CompletionRefusal), or null. */
  cancel_reason: string | null;
}

export interface TopupRow {
  id: string;
  customer_id: string;
  amount_cents: Cents;
  vat_cents: Cents;
  charge_cents: Cents;
  status: 'pending' | 'succeeded' | 'failed' | 'expired';
  failure_code: string | null;
  gateway: string;
  order_id: string | null;
  settled_order_ids: string[];
  /** A hosted checkout page the gateway gave (Stripe); null for the test gateway. */
  checkout_url: string | null;
  /** R18: the saved card charged off-session; null when paid on the gateway's page. */
  payment_method_id?: string | null;
  /** The VAT rate vat_cents was computed at; null for top-ups made before it was recorded. */
  vat_rate_basis_points: number | null;
  /** R16: the buyer's treatment the VAT was computed with (rate 0 unless standard). */
  vat_treatment: VatTreatment;
  method: PaymentMethodKind;
  /** R15: when the money was paid (card charge, transfer received); null until it succeeds. */
  paid_at: Date | null;
  /** R17: a bank transfer's causale reference and the last day it waits; null for cards. */
  bank_reference: string | null;
  bank_expires_on: string | null;
  /** R15: the invoice of a succeeded top-up, when the query joins it. */
  invoice_id?: string | null;
  created_at: Date;
  decided_at?: Date | null;
  /** R17, when the query selects TOPUP_MONEY_BACK_COLUMNS: net refunded (pending or done), and its charge-back. */
  refunded_cents?: Cents;
  dispute?: 'opened' | 'won' | 'lost' | null;
}

/** R17: a top-up's refunds (pending or succeeded) and dispute, for `SELECT t.*, … FROM topups t`. */
export const TOPUP_MONEY_BACK_COLUMNS = `(SELECT coalesce(sum(r.amount_cents), 0)::int8 FROM refunds r WHERE r.topup_id = t.id AND r.status <> 'failed') AS refunded_cents,
  (SELECT d.status FROM disputes d WHERE d.topup_id = t.id) AS dispute`;

export const MAILBOX_COLUMNS = `m.id, m.customer_id, m.address, m.type, m.status, m.expires_on, m.auto_renew,
  m.extra_space_auto_renew, m.used_bytes, a.quantity_gb AS addon_quantity_gb, a.status AS addon_status,
  a.active_until AS addon_active_until, m.next_type`;
/** R18: what the holder's views add: the card the mailbox renews with (the batch jobs do not need it). */
const MAILBOX_VIEW_COLUMNS = `${MAILBOX_COLUMNS}, m.card_renewal_payment_method_id,
  (SELECT p.last4 FROM payment_methods p WHERE p.id = m.card_renewal_payment_method_id) AS card_renewal_last4`;

export function mailboxFacts(r: MailboxRow): MailboxFacts {
  return holderMailbox(r);
}

/**
 * The facts of a mailbox with its address, which orders a holder's renewals due the same day (R7.3).
 * Built whole rather than as `{ ...mailboxFacts(r), address }`: the spread cost the daily job 15 µs a
 * mailbox, more than the rest of its planning.
 */
export function holderMailbox(r: MailboxRow): HolderMailbox {
  return {
    address: r.address,
    type: r.type,
    nextType: r.next_type ?? null,
    status: r.status,
    expiresOn: date(r.expires_on),
    autoRenew: r.auto_renew,
    extraSpaceAutoRenew: r.extra_space_auto_renew,
    addon:
      r.addon_status && r.addon_quantity_gb !== null && r.addon_active_until
        ? { quantityGb: r.addon_quantity_gb, status: r.addon_status, activeUntil: date(r.addon_active_until) }
        : null,
  };
}


/** A holder's mailbox, locked for change; null when it is not theirs (R12: as if it did not exist). */
export async function lockMailbox(tx: Tx, mailboxId: string, customerId: string | null): Promise<MailboxRow | null> {
  const rows = await tx.query<MailboxRow>(
    `SELECT ${MAILBOX_VIEW_COLUMNS} FROM mailboxes m LEFT JOIN addons a ON a.mailbox_id = m.id
      WHERE m.id = $1 AND ($2::text IS NULL OR m.customer_id = $2) FOR UPDATE OF m`,
    [mailboxId, customerId],
  );
  return rows[0] ?? null;
}

export async function readMailbox(db: Queryable, mailboxId: string, customerId: string | null): Promise<MailboxRow | null> {
  const rows = await db.query<MailboxRow>(
    `SELECT ${MAILBOX_VIEW_COLUMNS} FROM mailboxes m LEFT JOIN addons a ON a.mailbox_id = m.id
      WHERE m.id = $1 AND ($2::text IS NULL OR m.customer_id = $2)`,
    [mailboxId, customerId],
  );
  return rows[0] ?? null;
}

export async function readMailboxes(db: Queryable, customerId: string): Promise<MailboxRow[]> {
  return db.query<MailboxRow>(
    `SELECT ${MAILBOX_VIEW_COLUMNS} FROM mailboxes m LEFT JOIN addons a ON a.mailbox_id = m.id
      WHERE m.customer_id = $1 ORDER BY m.address`,
    [customerId],
  );
}

/** Who an e-mail about a holder goes to. */
export type Addressee = Pick<CustomerRow, 'id' | 'reference_email' | 'locale'>;

export interface LockedHolderMailbox {
  balance: Cents;
  holder: Addressee;
  mailbox: MailboxRow;
}

/**
 * The holder's wallet and one of their mailboxes, locked in that order (as lockWallet then
 * lockMailbox would), with where to write to them, in one round trip; null when the mailbox is not
 * theirs (R12: as if it did not exist).
 *
 * The add-on cannot be locked with them (it is on the nullable side of an outer join), and under
 * READ COMMITTED a statement that waited for the mailbox's lock sees the add-on as it was before
 * the wait. Every writer of an add-on holds its mailbox's lock, so `rereadAddon` reads it again
 * after the lock, fresh; without it the writer must check the add-on is still as read
 * (writeCompletion does, and the caller retries with `rereadAddon`).
 */
export async function lockHolderMailbox(
  tx: Tx,
  customerId: string,
  mailboxId: string,
  opts: { rereadAddon?: boolean } = {},
): Promise<LockedHolderMailbox | null> {
  const [row] = await tx.query<MailboxRow & { balance_cents: Cents; reference_email: string; locale: Locale }>(
    `SELECT w.balance_cents, c.reference_email, c.locale, ${MAILBOX_COLUMNS}
       FROM wallets w JOIN customers c ON c.id = w.customer_id
       JOIN mailboxes m ON m.id = $2 AND m.customer_id = w.customer_id
       LEFT JOIN addons a ON a.mailbox_id = m.id
      WHERE w.customer_id = $1
      FOR UPDATE OF w, m`,
    [customerId, mailboxId],
  );
  if (!row) return null;
  const { balance_cents, reference_email, locale, ...mailbox } = row;
  if (opts.rereadAddon) {
    const [a] = await tx.query<Pick<MailboxRow, 'addon_quantity_gb' | 'addon_status' | 'addon_active_until'>>(
      'SELECT quantity_gb AS addon_quantity_gb, status AS addon_status, active_until AS addon_active_until FROM addons WHERE mailbox_id = $1',
      [mailboxId],
    );
    Object.assign(mailbox, a ?? { addon_quantity_gb: null, addon_status: null, addon_active_until: null });
  }
  return { balance: balance_cents, holder: { id: customerId, reference_email, locale }, mailbox };
}

/**
 * Locks the wallets of these holders, in one consistent order so that concurrent batches never
 * deadlock on each other; each holder's balance.
 */
export async function lockWallets(tx: Tx, customerIds: readonly string[]): Promise<Map<string, Cents>> {
  const rows = await tx.query<{ customer_id: string; balance_cents: number }>(
    'SELECT customer_id, balance_cents FROM wallets WHERE customer_id = ANY($1::text[]) ORDER BY customer_id FOR UPDATE',
    [[...new Set(customerIds)]],
  );
  return new Map(rows.map((w) => [w.customer_id, Number(w.balance_cents) as Cents]));
}

/** Locks the holder's wallet: every change of money or space for a holder starts here (R5). */
export async function lockWallet(tx: Tx, customerId: string): Promise<Cents | null> {
  const rows = await tx.query<{ balance_cents: Cents }>('SELECT balance_cents FROM wallets WHERE customer_id = $1 FOR UPDATE', [customerId]);
  return rows[0]?.balance_cents ?? null;
}

export async function readBalance(db: Queryable, customerId: string): Promise<Cents> {
  const rows = await db.query<{ balance_cents: Cents }>('SELECT balance_cents FROM wallets WHERE customer_id = $1', [customerId]);
  return rows[0]?.balance_cents ?? (0 as Cents);
}

export async function readCustomer(db: Queryable, customerId: string): Promise<CustomerRow | null> {
  const rows = await db.query<CustomerRow>('SELECT * FROM customers WHERE id = $1', [customerId]);
  return rows[0] ?? null;
}
