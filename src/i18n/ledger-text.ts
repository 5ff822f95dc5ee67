// The credit statement's descriptions, in both languages. A ledger row is never updated (R6), so it
// stores what it describes (a key and its values, `description_params`) beside the Italian text of
// record (`description`, for operators and exports); a holder reads it in their own language.
import { date } from '../domain/calendar.ts';
import { longDate, type Locale } from './format.ts';
import { dictionary } from './dictionary.ts';

export type LedgerText =
  | { key: 'topup' }
  | { key: 'adjustment'; reason: string }
  /** R17: money given back to the card (asked, confirmed by the gateway, or refused and given back). */
  | { key: 'refund'; kind: 'refund' | 'withdrawal' | 'closing'; step: 'asked' | 'completed' | 'released' }
  /** R17: a charge-back on a payment, and a debt it left paid by a later top-up. */
  | { key: 'dispute'; step: 'opened' | 'won' | 'lost' }
  | { key: 'debt_paid' }
  /** A mailbox renewed until a date, with the extra space renewed with it (0: none). */
  | { key: 'renewal'; address: string; until: string; extraGb: number }
  | { key: 'extra_space'; address: string; gb: number }
  /** Extra space renewed on its own end (R7.5). */
  | { key: 'extra_space_renewal'; address: string; gb: number; until: string };

const say = dictionary(
  {
    topup: 'Ricarica con carta',
    adjustment: 'Rettifica: {reason}',
    refundAsked: 'Rimborso sulla carta',
    withdrawalAsked: 'Recesso: rimborso sulla carta',
    closingAsked: 'Chiusura: rimborso del credito residuo sulla carta',
    refundCompleted: 'Rimborso eseguito dal circuito di pagamento',
    refundReleased: 'Rimborso non riuscito: credito restituito',
    disputeOpened: 'Contestazione del pagamento: credito sospeso',
    disputeWon: 'Contestazione chiusa a favore: credito restituito',
    disputeLost: 'Contestazione persa: pagamento stornato',
    debtPaid: 'Pagamento del debito da contestazione',
    renewal: 'Rinnovo {address} fino al {until}',
    renewalWithExtra: 'Rinnovo {address} fino al {until} (con Spazio Extra Inbox {gb} GB)',
    extraSpace: 'Spazio Extra Inbox {gb} GB per {address}',
    extraSpaceRenewal: 'Rinnovo Spazio Extra Inbox {gb} GB per {address} fino al {until}',
  },
  {
    topup: 'Card top-up',
    adjustment: 'Adjustment: {reason}',
    refundAsked: 'Refund to the card',
    withdrawalAsked: 'Withdrawal: refund to the card',
    closingAsked: 'Closing: remaining credit refunded to the card',
    refundCompleted: 'Refund made by the card network',
    refundReleased: 'Refund failed: credit given back',
    disputeOpened: 'Payment disputed: credit on hold',
    disputeWon: 'Dispute closed in your favour: credit given back',
    disputeLost: 'Dispute lost: payment reversed',
    debtPaid: 'Debt from a disputed payment paid',
    renewal: 'Renewal of {address} until {until}',
    renewalWithExtra: 'Renewal of {address} until {until} (with {gb} GB of extra inbox space)',
    extraSpace: 'Extra inbox space {gb} GB for {address}',
    extraSpaceRenewal: 'Renewal of extra inbox space {gb} GB for {address} until {until}',
  },
);

export function ledgerText(d: LedgerText, L: Locale): string {
  switch (d.key) {
    case 'topup':
      return say(L, 'topup');
    case 'adjustment':
      // The reason is the operator's own words, kept as written.
      return say(L, 'adjustment', { reason: d.reason });
    case 'refund':
      if (d.step === 'completed') return say(L, 'refundCompleted');
      if (d.step === 'released') return say(L, 'refundReleased');
      return say(L, d.kind === 'withdrawal' ? 'withdrawalAsked' : d.kind === 'closing' ? 'closingAsked' : 'refundAsked');
    case 'dispute':
      return say(L, d.step === 'opened' ? 'disputeOpened' : d.step === 'won' ? 'disputeWon' : 'disputeLost');
    case 'debt_paid':
      return say(L, 'debtPaid');
    case 'renewal':
      return say(L, d.extraGb > 0 ? 'renewalWithExtra' : 'renewal', { address: d.address, until: longDate(date(d.until), L), gb: d.extraGb });
    case 'extra_space':
      return say(L, 'extraSpace', { address: d.address, gb: d.gb });
    case 'extra_space_renewal':
      return say(L, 'extraSpaceRenewal', { address: d.address, gb: d.gb, until: longDate(date(d.until), L) });
  }
}

const isLedgerText = (v: unknown): v is LedgerText =>
  typeof v === 'object' && v !== null && typeof (v as { key?: unknown }).key === 'string' &&
  ['topup', 'adjustment', 'refund', 'dispute', 'debt_paid', 'renewal', 'extra_space', 'extra_space_renewal'].includes((v as { key: string }).key);

/** A stored row's description in the holder's language; rows written before the key was stored keep their text. */
export const describeTransaction = (row: { description: string; description_params?: unknown }, locale: Locale): string =>
  isLedgerText(row.description_params) ? ledgerText(row.description_params, locale) : row.description;
