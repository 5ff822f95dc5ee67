// The credit statement's descriptions, in both languages. A ledger row is never updated (R6), so it
// stores what it describes (a key and its values, `description_params`) beside the Italian text of
// record (`description`, for operators and exports); a holder reads it in their own language.
import { date } from '../domain/calendar.ts';
import { longDate, type Locale } from './format.ts';

export type LedgerText =
  | { key: 'topup' }
  | { key: 'adjustment'; reason: string }
  /** A mailbox renewed until a date, with the extra space renewed with it (0: none). */
  | { key: 'renewal'; address: string; until: string; extraGb: number }
  | { key: 'extra_space'; address: string; gb: number }
  /** Extra space renewed on its own end (R7.5). */
  | { key: 'extra_space_renewal'; address: string; gb: number; until: string };

export function ledgerText(d: LedgerText, locale: Locale): string {
  const en = locale === 'en';
  switch (d.key) {
    case 'topup':
      return en ? 'Card top-up' : 'Ricarica con carta';
    case 'adjustment':
      // The reason is the operator's own words, kept as written.
      return `${en ? 'Adjustment' : 'Rettifica'}: ${d.reason}`;
    case 'renewal': {
      const until = longDate(date(d.until), locale);
      const extra = d.extraGb > 0 ? (en ? ` (with ${d.extraGb} GB of extra inbox space)` : ` (con Spazio Extra Inbox ${d.extraGb} GB)`) : '';
      return (en ? `Renewal of ${d.address} until ${until}` : `Rinnovo ${d.address} fino al ${until}`) + extra;
    }
    case 'extra_space':
      return en ? `Extra inbox space ${d.gb} GB for ${d.address}` : `Spazio Extra Inbox ${d.gb} GB per ${d.address}`;
    case 'extra_space_renewal': {
      const until = longDate(date(d.until), locale);
      return en
        ? `Renewal of extra inbox space ${d.gb} GB for ${d.address} until ${until}`
        : `Rinnovo Spazio Extra Inbox ${d.gb} GB per ${d.address} fino al ${until}`;
    }
  }
}

const isLedgerText = (v: unknown): v is LedgerText =>
  typeof v === 'object' && v !== null && typeof (v as { key?: unknown }).key === 'string' &&
  ['topup', 'adjustment', 'renewal', 'extra_space', 'extra_space_renewal'].includes((v as { key: string }).key);

/** A stored row's description in the holder's language; rows written before the key was stored keep their text. */
export const describeTransaction = (row: { description: string; description_params?: unknown }, locale: Locale): string =>
  isLedgerText(row.description_params) ? ledgerText(row.description_params, locale) : row.description;
