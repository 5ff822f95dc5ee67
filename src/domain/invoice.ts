// R15: the invoice of a card top-up, as data. Pure: the amounts come from the top-up (taxable = the
// credit, VAT as R1 computed it when the top-up was made, total = the card charge), the date from
// the payment's instant in Europe/Rome, the number from the year's counter.
import { partitaIvaProblem } from './fiscal-codes.ts';
import type { BillingProfile } from './billing-profile.ts';
import { toLatin1 } from './latin1.ts';
import type { VatTreatment } from './vat.ts';

/** DECISIONS.md: a top-up invoice is an ordinary invoice (TD01), not an advance (TD02). */
export const DOCUMENT_TYPE = 'TD01';
/** R17: a credit note (nota di credito), correcting an invoice it cites. */
export const CREDIT_NOTE_TYPE = 'TD04';
export const CREDIT_NOTE_LINE_DESCRIPTION = 'Storno della ricarica del credito prepagato per i servizi PEC (rimborso)';
/** The one line of every invoice: what the money buys. */
export const LINE_DESCRIPTION = 'Ricarica del credito prepagato per i servizi PEC';

export interface SellerAddress {
  street: string;
  streetNumber?: string | null;
  postalCode: string;
  city: string;
  province?: string | null;
  country: string;
}

/** The provider's fiscal data (CASELLA_CONFIG `seller`), printed on every invoice. */
export interface Seller {
  companyName: string;
  vatNumber: string;
  taxCode: string;
  /** Regime fiscale, e.g. RF01 (ordinario). */
  taxRegime: string;
  address: SellerAddress;
  /** Who transmits to SdI (IdTrasmittente): the seller itself (its partita IVA) unless an intermediary is named. */
  transmitter?: { country: string; code: string } | null;
  /**
   * The company's entry in the Registro delle Imprese (REA): the Chamber of Commerce's province and
   * the number. A company (S.r.l., S.p.A.) must show it on its documents (art. 2250 c.c.); FatturaPA
   * carries it as IscrizioneREA. Optional: a sole trader may have none to show.
   */
  rea?: { office: string; number: string } | null;
  /** Share capital (capitale sociale) in cents, shown with the REA entry; only with `rea`. */
  shareCapitalCents?: number | null;
}

/** FatturaPA's CapitaleSociale holds at most 11 digits of euros. */
export const SHARE_CAPITAL_CENTS_MAX = 99_999_999_999_99;

/** Outside production, with no `seller` configured: clearly not a real company (README). */
export const DEMO_SELLER: Seller = Object.freeze({
  companyName: 'Casella Demo S.r.l. (dati di prova)',
  vatNumber: '01234567897',
  taxCode: '01234567897',
  taxRegime: 'RF01',
  address: { street: 'Via di Prova', streetNumber: '1', postalCode: '00100', city: 'Roma', province: 'RM', country: 'IT' },
});

const TAX_REGIMES = /^RF(0[1-9]|1[0-9]|2[0-8])$/;

/** What is missing or wrong in a configured seller, each named by its key; empty when it is complete. */
export function sellerProblems(raw: unknown): string[] {
  const problems: string[] = [];
  const s = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const a = (s.address && typeof s.address === 'object' ? s.address : {}) as Record<string, unknown>;
  const need = (o: Record<string, unknown>, key: string, path: string) => {
    const v = o[key];
    if (typeof v !== 'string' || v.trim() === '') {
      problems.push(`${path} is missing`);
      return null;
    }
    if (toLatin1(v) === null) problems.push(`${path} has characters an e-invoice cannot carry`);
    return v.trim();
  };
  need(s, 'companyName', 'seller.companyName');
  const vat = need(s, 'vatNumber', 'seller.vatNumber');
  if (vat && partitaIvaProblem(vat)) problems.push(`seller.vatNumber ${partitaIvaProblem(vat)}`);
  const taxCode = need(s, 'taxCode', 'seller.taxCode');
  if (taxCode && !/^[A-Z0-9]{11,16}$/.test(taxCode)) problems.push('seller.taxCode must be 11 to 16 letters or digits');
  const regime = need(s, 'taxRegime', 'seller.taxRegime');
  if (regime && !TAX_REGIMES.test(regime)) problems.push('seller.taxRegime must be a regime fiscale code, RF01 to RF28');
  need(a, 'street', 'seller.address.street');
  const cap = need(a, 'postalCode', 'seller.address.postalCode');
  if (cap && !/^\d{5}$/.test(cap)) problems.push('seller.address.postalCode must be 5 digits');
  need(a, 'city', 'seller.address.city');
  const country = need(a, 'country', 'seller.address.country');
  if (country && country !== 'IT') problems.push('seller.address.country must be IT (an Italian provider issues FatturaPA)');
  if (a.province !== undefined && a.province !== null && !(typeof a.province === 'string' && /^[A-Z]{2}$/.test(a.province))) {
    problems.push('seller.address.province must be a two-letter sigla');
  }
  if (a.streetNumber !== undefined && a.streetNumber !== null && !(typeof a.streetNumber === 'string' && /^[\x20-\x7e]{1,8}$/.test(a.streetNumber))) {
    problems.push('seller.address.streetNumber must be at most 8 plain characters');
  }
  const t = s.transmitter as Record<string, unknown> | null | undefined;
  if (t !== undefined && t !== null) {
    if (typeof t !== 'object' || typeof t.country !== 'string' || !/^[A-Z]{2}$/.test(t.country)) problems.push('seller.transmitter.country must be two capital letters');
    if (typeof t !== 'object' || typeof t.code !== 'string' || !/^[A-Z0-9]{1,28}$/.test(t.code)) problems.push('seller.transmitter.code must be 1 to 28 letters or digits');
  }
  const rea = s.rea as Record<string, unknown> | null | undefined;
  if (rea !== undefined && rea !== null) {
    if (typeof rea !== 'object' || typeof rea.office !== 'string' || !/^[A-Z]{2}$/.test(rea.office)) {
      problems.push('seller.rea.office must be the two-letter sigla of the Chamber of Commerce\'s province, e.g. RM');
    }
    if (typeof rea !== 'object' || typeof rea.number !== 'string' || !/^[A-Za-z0-9\-/. ]{1,20}$/.test(rea.number.trim()) || !rea.number.trim()) {
      problems.push('seller.rea.number must be the REA number, 1 to 20 letters or digits');
    }
  }
  const capital = s.shareCapitalCents;
  if (capital !== undefined && capital !== null) {
    if (typeof capital !== 'number' || !Number.isSafeInteger(capital) || capital < 0 || capital > SHARE_CAPITAL_CENTS_MAX) {
      problems.push('seller.shareCapitalCents must be a whole number of cents from 0 to 9999999999999');
    } else if (rea === undefined || rea === null) {
      problems.push('seller.shareCapitalCents needs seller.rea (an invoice shows the share capital with the REA entry)');
    }
  }
  return problems;
}

/** Everything a FatturaPA file and its courtesy copy show, fixed when the invoice is issued. */
export interface InvoiceDocument {
  number: string;
  issuedOn: string;
  documentType: string;
  netCents: number;
  vatCents: number;
  totalCents: number;
  vatRateBasisPoints: number;
  buyer: BillingProfile;
  seller: Seller;
  /** The payment it documents (the top-up's id, or a bank transfer's causale). */
  paymentReference: string;
  /** R16: how VAT applies to this buyer; a treatment other than standard has rate 0 and a Natura. */
  vatTreatment: VatTreatment;
  /** R15: the day the money was paid (a card's payment, a transfer's receipt), which may precede the invoice's date. */
  paymentDate: string;
  paymentMethod: PaymentMethodKind;
  /** R17: a credit note's invoice (DatiFattureCollegate); null on invoices. */
  related?: { number: string; issuedOn: string } | null;
}

/** How a top-up was paid: by card on the gateway's page, by a saved card, or by bank transfer. */
export type PaymentMethodKind = 'card' | 'saved_card' | 'bank_transfer';

/** The number as printed: the year and the year's sequence, e.g. 2026/000042 (sorts as it counts). */
export const invoiceNumber = (year: number, sequence: number): string => `${year}/${String(sequence).padStart(6, '0')}`;

/** R15: the amounts of a top-up's invoice; the assertion guards what the ledger also recorded. */
export function invoiceAmounts(topup: { amountCents: number; vatCents: number; chargeCents: number }) {
  if (topup.amountCents + topup.vatCents !== topup.chargeCents) {
    throw new Error(`top-up amounts do not add up: ${topup.amountCents} + ${topup.vatCents} != ${topup.chargeCents}`);
  }
  return { netCents: topup.amountCents, vatCents: topup.vatCents, totalCents: topup.chargeCents };
}

/** SdI's file name: IT + the transmitter's id + _ + a progressive of at most 5 letters or digits. */
export const PROGRESSIVE_BASE = 36;
export const PROGRESSIVE_LENGTH = 5;
/** 36^5 transmissions before the progressive would repeat. */
export const TRANSMISSIONS_MAX = PROGRESSIVE_BASE ** PROGRESSIVE_LENGTH - 1;
export function progressive(transmissionSeq: number): string {
  if (!Number.isSafeInteger(transmissionSeq) || transmissionSeq < 1 || transmissionSeq > TRANSMISSIONS_MAX) {
    throw new RangeError(`transmission ${transmissionSeq} is outside 1..${TRANSMISSIONS_MAX}`);
  }
  return transmissionSeq.toString(PROGRESSIVE_BASE).toUpperCase().padStart(PROGRESSIVE_LENGTH, '0');
}
export const transmitterOf = (seller: Seller): { country: string; code: string } => seller.transmitter ?? { country: 'IT', code: seller.vatNumber };
export const invoiceFileName = (seller: Seller, transmissionSeq: number): string => {
  const t = transmitterOf(seller);
  return `${t.country}${t.code}_${progressive(transmissionSeq)}.xml`;
};

/** 1234 → "12.34": the schema's decimal amounts. */
export const decimalAmount = (centsValue: number): string => {
  const sign = centsValue < 0 ? '-' : '';
  const abs = Math.abs(centsValue);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
};
/** 2200 basis points → "22.00". */
export const ratePercent = (basisPoints: number): string => decimalAmount(basisPoints);
