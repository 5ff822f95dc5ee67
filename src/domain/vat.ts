// R16 VAT by buyer: the place of supply of a B2B service is where the buyer is established
// (DPR 633/72 art. 7-ter), so the billing data decide what a payment charges and how its invoice
// reads. Pure: a table of EU VAT number formats (no network), the treatment of a buyer, the charge.
import { addVat, cents, type Cents, type VatRateBasisPoints } from './money.ts';

export type VatTreatment = 'standard' | 'reverse_charge' | 'not_subject';
export const VAT_TREATMENTS: readonly VatTreatment[] = ['standard', 'reverse_charge', 'not_subject'];

/** FatturaPA Natura N2.1: "non soggette ad IVA ai sensi degli artt. da 7 a 7-septies del DPR 633/72". */
export const NATURA_NOT_SUBJECT_7_TER = 'N2.1';

/**
 * The words art. 21 c. 6-bis DPR 633/72 asks for on an invoice without Italian VAT: lett. a) for a
 * taxable person in another member state ("inversione contabile"), lett. b) outside the EU
 * ("operazione non soggetta"). They go in RiferimentoNormativo (at most 100 characters).
 */
export const LEGAL_NOTE: Record<Exclude<VatTreatment, 'standard'>, string> = {
  reverse_charge: 'inversione contabile, art. 7-ter DPR 633/72',
  not_subject: 'operazione non soggetta, art. 7-ter DPR 633/72',
};

/**
 * The 27 member states by their ISO 3166 code, each with the format of its VAT number without the
 * prefix (the European Commission's VIES formats). Greece's prefix is EL, its ISO code GR.
 */
export const EU_VAT_FORMATS: Readonly<Record<string, RegExp>> = Object.freeze({
  AT: /^U\d{8}$/,
  BE: /^[01]\d{9}$/,
  BG: /^\d{9,10}$/,
  CY: /^\d{8}[A-Z]$/,
  CZ: /^\d{8,10}$/,
  DE: /^\d{9}$/,
  DK: /^\d{8}$/,
  EE: /^\d{9}$/,
  ES: /^[A-Z0-9]\d{7}[A-Z0-9]$/,
  FI: /^\d{8}$/,
  FR: /^[A-HJ-NP-Z0-9]{2}\d{9}$/,
  GR: /^\d{9}$/,
  HR: /^\d{11}$/,
  HU: /^\d{8}$/,
  IE: /^(\d{7}[A-W][A-I]?|\d[A-Z+*]\d{5}[A-W])$/,
  IT: /^\d{11}$/,
  LT: /^(\d{9}|\d{12})$/,
  LU: /^\d{8}$/,
  LV: /^\d{11}$/,
  MT: /^\d{8}$/,
  NL: /^\d{9}B\d{2}$/,
  PL: /^\d{10}$/,
  PT: /^\d{9}$/,
  RO: /^[1-9]\d{1,9}$/,
  SE: /^\d{10}01$/,
  SI: /^\d{8}$/,
  SK: /^\d{10}$/,
});

/** The prefix a VAT number carries in VIES: the ISO code, except Greece (EL). */
const VAT_PREFIX: Readonly<Record<string, string>> = { GR: 'EL' };

export const isEuCountry = (country: string): boolean => Object.prototype.hasOwnProperty.call(EU_VAT_FORMATS, country);

/** What people type around a VAT number: spaces, dots, dashes. */
const SEPARATORS = /[\s.\-/]/g;

/**
 * A foreign business's VAT number as the invoice carries it (IdCodice, without the country): for a
 * member state, its prefix dropped if given (DE123456789 or 123456789) and its format checked.
 * Outside the EU no format is known: letters and digits, at most 28 (the schema's IdCodice).
 */
export function foreignVatNumber(country: string, raw: string): { ok: true; value: string } | { ok: false; problem: string } {
  let value = raw.toUpperCase().replace(SEPARATORS, '');
  const format = EU_VAT_FORMATS[country];
  if (!format) {
    if (!/^[A-Z0-9]{1,28}$/.test(value)) return { ok: false, problem: 'must be letters and digits, at most 28' };
    return { ok: true, value };
  }
  const prefix = VAT_PREFIX[country] ?? country;
  for (const p of new Set([prefix, country])) {
    if (value.startsWith(p) && !format.test(value)) {
      value = value.slice(p.length);
      break;
    }
  }
  if (!format.test(value)) return { ok: false, problem: `is not a VAT number of ${country} (${prefix} followed by its format)` };
  return { ok: true, value };
}

/** The buyer facts the treatment depends on: who, and where established. */
export interface VatBuyer {
  kind: 'person' | 'business';
  address: { country: string };
}

export interface VatTerms {
  treatment: VatTreatment;
  /** The rate charged: the catalogue's for standard, 0 otherwise. */
  rateBasisPoints: number;
  natura: typeof NATURA_NOT_SUBJECT_7_TER | null;
  /** What the invoice must say about the missing VAT (art. 21 c. 6-bis), or null. */
  legalNote: string | null;
}

/**
 * R16: persons (who must have an Italian codice fiscale) and Italian businesses pay the catalogue's
 * rate; a business established in another member state self-assesses (reverse charge); one outside
 * the EU is outside the scope of Italian VAT. Both are art. 7-ter services, Natura N2.1.
 */
export function vatTermsFor(buyer: VatBuyer | null, catalogueRateBasisPoints: number): VatTerms {
  if (!buyer || buyer.kind === 'person' || buyer.address.country === 'IT') {
    return { treatment: 'standard', rateBasisPoints: catalogueRateBasisPoints, natura: null, legalNote: null };
  }
  const treatment: VatTreatment = isEuCountry(buyer.address.country) ? 'reverse_charge' : 'not_subject';
  return { treatment, rateBasisPoints: 0, natura: NATURA_NOT_SUBJECT_7_TER, legalNote: LEGAL_NOTE[treatment] };
}

/** The terms a stored top-up or invoice was made with (its treatment and its rate). */
export function termsOf(treatment: VatTreatment, rateBasisPoints: number): VatTerms {
  if (treatment === 'standard') return { treatment, rateBasisPoints, natura: null, legalNote: null };
  return { treatment, rateBasisPoints: 0, natura: NATURA_NOT_SUBJECT_7_TER, legalNote: LEGAL_NOTE[treatment] };
}

/** What this buyer pays for net credit: net + the VAT of their treatment, half-up (R1). */
export function chargeFor(net: Cents, terms: VatTerms): { netCents: Cents; vatCents: Cents; grossCents: Cents } {
  if (terms.treatment !== 'standard') return { netCents: net, vatCents: cents(0), grossCents: net };
  return addVat(net, terms.rateBasisPoints as VatRateBasisPoints);
}
