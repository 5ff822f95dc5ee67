// The JSON shapes of API.md "Shapes", built from rows. One place, so the API, the pages and the CLI agree.
import { baseBytes, BYTES_PER_GB, type Catalogue } from '../domain/catalogue.ts';
import { activeExtraGb, extraGbRenewedWithMailbox } from '../domain/mailbox.ts';
import { cents, maxCents, subCents, type Cents } from '../domain/money.ts';
import { addonRenewalPrice, mailboxRenewalPrice } from '../domain/renewal.ts';
import type { ExtraSpaceQuote } from '../domain/pricing.ts';
import { buyerFiscalId, buyerName } from '../domain/billing-profile.ts';
import { bankCausale, formatBankReference, type BankAccount } from '../domain/bank-transfer.ts';
import type { InvoiceRow } from './billing/invoices.ts';
import { describeTransaction } from '../i18n/ledger-text.ts';
import type { Locale } from '../i18n/format.ts';
import type { StoredBillingProfile } from './billing/billing-profiles.ts';
import { mailboxFacts, type CustomerRow, type MailboxRow, type OrderRow, type TopupRow } from './rows.ts';

export const customerView = (c: CustomerRow) => ({
  id: c.id,
  name: c.name,
  taxCode: c.tax_code,
  referenceEmail: c.reference_email,
  locale: c.locale,
});
export type CustomerView = ReturnType<typeof customerView>;

export function mailboxView(r: MailboxRow, c: Catalogue) {
  const facts = mailboxFacts(r);
  const baseGb = c.mailboxTypes[r.type].baseInboxGb;
  const extraGb = activeExtraGb(facts);
  const mailboxPrice = mailboxRenewalPrice(facts, c);
  // What renews at E: the mailbox, and the extra space ending with it unless the holder switched
  // that off (extra space ending earlier renews on its own end, R7.5: its add-on shows that date).
  const addonsDue = r.extra_space_auto_renew ? addonRenewalPrice(extraGbRenewedWithMailbox(facts), c) : cents(0);
  return {
    id: r.id,
    address: r.address,
    type: r.type,
    status: r.status,
    expiresOn: r.expires_on,
    autoRenew: r.auto_renew,
    extraSpaceAutoRenew: r.extra_space_auto_renew,
    space: {
      baseGb,
      extraGb,
      totalGb: baseGb + extraGb,
      usedBytes: r.used_bytes,
      totalBytes: baseBytes(c, r.type) + extraGb * BYTES_PER_GB,
    },
    addons: facts.addon
      ? [
          {
            kind: 'extra_inbox_space' as const,
            quantityGb: facts.addon.quantityGb,
            status: facts.addon.status,
            activeUntil: facts.addon.activeUntil.toString(),
            // A deactivated add-on never renews (R8: extra space is bought again), so it has no price to show.
            renewalPriceCents: facts.addon.status === 'active' ? addonRenewalPrice(facts.addon.quantityGb, c) : null,
          },
        ]
      : [],
    nextType: r.next_type ?? null,
    renewal:
      r.status === 'terminated'
        ? null
        : { dueOn: r.expires_on, mailboxPriceCents: mailboxPrice, addonsPriceCents: addonsDue, totalCents: cents(mailboxPrice + addonsDue) },
    // R18: the saved card this mailbox renews with; null when the holder has not chosen one.
    cardRenewal: r.card_renewal_payment_method_id ? { paymentMethodId: r.card_renewal_payment_method_id, last4: r.card_renewal_last4 ?? '' } : null,
  };
}
export type MailboxView = ReturnType<typeof mailboxView>;

/** An order as the holder sees it; a waiting order past its 24 hours reads as expired even before the job runs. */
export function orderView(o: OrderRow, balance: Cents, nowMs: number, c: Catalogue) {
  const waiting = o.status === 'awaiting_topup' && o.expires_at.getTime() > nowMs;
  const status = o.status === 'awaiting_topup' && !waiting ? 'expired' : o.status;
  const shortfall = waiting ? maxCents(cents(0), subCents(o.amount_cents, balance)) : cents(0);
  return {
    id: o.id,
    mailboxId: o.mailbox_id,
    kind: o.kind,
    quantityGb: o.quantity_gb,
    rule: o.rule,
    amountCents: o.amount_cents,
    status,
    shortfallCents: shortfall,
    topupRequiredCents: shortfall > 0 ? maxCents(shortfall, c.topupMinCents) : cents(0),
    createdAt: o.created_at.toISOString(),
    completedAt: o.completed_at ? o.completed_at.toISOString() : null,
    activeUntil: o.active_until,
    expiresAt: o.expires_at.toISOString(),
    cancelReason: o.cancel_reason,
  };
}
export type OrderView = ReturnType<typeof orderView>;

export function quoteView(q: ExtraSpaceQuote, balance: Cents) {
  return {
    quantityGb: q.quantityGb,
    unitPriceCents: q.unitPriceCents,
    rule: q.rule,
    amountCents: q.amountCents,
    activeFrom: q.activeFrom.toString(),
    activeUntil: q.activeUntil.toString(),
    renewalOn: q.renewalOn.toString(),
    renewalAmountCents: q.renewalAmountCents,
    renewalGb: q.renewalGb,
    balanceCents: balance,
    shortfallCents: maxCents(cents(0), subCents(q.amountCents, balance)),
  };
}
export type QuoteView = ReturnType<typeof quoteView>;

/**
 * checkoutUrl: where the card is paid while the top-up is pending (the gateway decides); a bank
 * transfer has none, and shows instead the account and the causale's reference (R17).
 */
export const topupView = (t: TopupRow, checkoutUrl: string | null, bankAccount: BankAccount | null = null) => ({
  id: t.id,
  amountCents: t.amount_cents,
  vatCents: t.vat_cents,
  chargeCents: t.charge_cents,
  status: t.status,
  failureCode: t.failure_code,
  checkoutUrl: t.status === 'pending' && t.method !== 'bank_transfer' ? checkoutUrl : null,
  orderId: t.order_id,
  settledOrderIds: t.settled_order_ids,
  createdAt: t.created_at.toISOString(),
  invoiceId: t.invoice_id ?? null,
  // R18: a charge of a saved card, off-session; otherwise as the top-up was made (card page or transfer).
  method: t.payment_method_id ? ('saved_card' as const) : t.method,
  vatTreatment: t.vat_treatment,
  paidAt: t.paid_at ? t.paid_at.toISOString() : null,
  bankTransfer:
    t.method === 'bank_transfer' && t.bank_reference
      ? {
          iban: bankAccount?.iban ?? null,
          beneficiary: bankAccount?.beneficiary ?? null,
          reference: formatBankReference(t.bank_reference),
          causale: bankCausale(t.bank_reference),
          expiresOn: t.bank_expires_on,
        }
      : null,
  refundedCents: Number(t.refunded_cents ?? 0),
  dispute: t.dispute ?? null,
});
export type TopupView = ReturnType<typeof topupView>;

export interface TransactionRow {
  id: string;
  created_at: Date;
  kind: 'topup' | 'purchase' | 'renewal' | 'adjustment' | 'refund' | 'dispute' | 'debt';
  wallet_amount_cents: Cents;
  balance_after_cents: Cents;
  description: string;
  /** What it describes, for the holder's language (rows written since migration 020). */
  description_params: unknown;
  order_id: string | null;
  mailbox_id: string | null;
}

/** locale: the reader's language, for the description ('it': the text of record). */
export const transactionView = (t: TransactionRow, locale: Locale = 'it') => ({
  id: t.id,
  at: t.created_at.toISOString(),
  // R17: charge-back movements are shown as adjustments (API.md's kinds), described as what they are.
  kind: t.kind === 'dispute' || t.kind === 'debt' ? ('adjustment' as const) : t.kind,
  amountCents: t.wallet_amount_cents,
  balanceAfterCents: t.balance_after_cents,
  description: describeTransaction(t, locale),
  orderId: t.order_id,
  mailboxId: t.mailbox_id,
});
export type TransactionView = ReturnType<typeof transactionView>;


// R15

export const billingProfileView = (s: StoredBillingProfile) => ({ ...s.profile, updatedAt: s.updatedAt.toISOString() });

export const invoiceView = (r: InvoiceRow) => ({
  id: r.id,
  number: r.number,
  year: r.year,
  sequence: r.sequence,
  issuedOn: r.issued_on,
  documentType: r.document_type,
  netCents: r.net_cents,
  vatCents: r.vat_cents,
  totalCents: r.total_cents,
  vatRatePercent: r.vat_rate_basis_points / 100,
  vatTreatment: r.vat_treatment,
  natura: r.natura,
  paymentDate: r.payment_date ?? r.issued_on,
  paymentMethod: r.payment_method,
  topupId: r.topup_id,
  relatedInvoiceId: r.related_invoice_id ?? null,
  fileName: r.file_name,
  sdiStatus: r.sdi_status,
  sdiMessage: r.sdi_message,
});

export const adminInvoiceView = (r: InvoiceRow) => ({
  ...invoiceView(r),
  customerId: r.customer_id,
  buyerName: buyerName(r.buyer),
  buyerFiscalId: buyerFiscalId(r.buyer),
  attempts: r.attempts,
  lastError: r.last_error,
  sentAt: r.sent_at ? r.sent_at.toISOString() : null,
  outcomeAt: r.outcome_at ? r.outcome_at.toISOString() : null,
});
