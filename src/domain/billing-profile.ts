// R15 "Dati di fatturazione": who a holder's invoices are made out to. Validation is pure and names
// every wrong field (API.md: 422 with `fields`), with the JSON path of the field as its key.
import { codiceFiscaleProblem, partitaIvaProblem } from './fiscal-codes.ts';
import { foreignVatNumber } from './vat.ts';
import { toLatin1 } from './latin1.ts';

export interface BillingAddress {
  street: string;
  streetNumber: string | null;
  postalCode: string;
  city: string;
  province: string | null;
  country: string;
}

export interface BillingProfile {
  kind: 'person' | 'business';
  givenName: string | null;
  familyName: string | null;
  companyName: string | null;
  taxCode: string | null;
  vatNumber: string | null;
  address: BillingAddress;
  /** Codice Destinatario: 7 characters; "0000000" when the buyer has none (or gives a PEC instead). */
  sdiCode: string;
  sdiPec: string | null;
}

export const NO_SDI_CODE = '0000000';
/** SdI's Codice Destinatario for buyers outside Italy. */
export const FOREIGN_SDI_CODE = 'XXXXXXX';

/** Field lengths of the FatturaPA schema the data ends up in. */
const LENGTH_MAX = { name: 60, companyName: 80, street: 60, streetNumber: 8, city: 60, pec: 256 };

const PROVINCE = /^[A-Z]{2}$/;
const SDI_CODE = /^[A-Z0-9]{7}$/;
// Close to the schema's EmailType, restricted to what a PEC address looks like.
const PEC = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;

const regionNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });
/** Region codes Intl knows that are not countries of ISO 3166-1. */
const NOT_COUNTRIES = new Set(['EU', 'EZ', 'UN', 'QO', 'XA', 'XB', 'ZZ']);
export function isCountryCode(code: string): boolean {
  if (!/^[A-Z]{2}$/.test(code) || NOT_COUNTRIES.has(code)) return false;
  return regionNames.of(code) !== undefined;
}

export type Fields = Record<string, string>;

/**
 * A VAT number as people write it: "IT 01234567890", "it01234567890" → "01234567890" (spaces are
 * already gone). The prefix is the country's own (Greece writes EL); the number is kept without it.
 */
export function withoutCountryPrefix(vatNumber: string | null, country: string): string | null {
  if (vatNumber === null) return null;
  const prefix = country === 'GR' ? 'EL' : country;
  return vatNumber.startsWith(prefix) && vatNumber.length > prefix.length ? vatNumber.slice(prefix.length) : vatNumber;
}

type Raw = Record<string, unknown>;
const str = (o: Raw, k: string): string | null => {
  const v = o[k];
  if (typeof v !== 'string') return null;
  const t = v.trim().replace(/\s+/g, ' ');
  return t === '' ? null : t;
};

/**
 * Checks and normalises a billing profile (upper-cases codes, trims text). Either the profile or
 * the fields that are wrong, each with why.
 */
export function validateBillingProfile(input: Raw): { ok: true; value: BillingProfile } | { ok: false; fields: Fields } {
  const fields: Fields = {};
  const address = (input.address && typeof input.address === 'object' ? input.address : {}) as Raw;
  const kind = input.kind;
  if (kind !== 'person' && kind !== 'business') fields.kind = 'must be "person" or "business"';

  const text = (o: Raw, key: string, path: string, max: number, required: boolean): string | null => {
    const v = str(o, key);
    if (v === null) {
      if (required) fields[path] = 'is required';
      return null;
    }
    const latin = toLatin1(v);
    if (latin === null) fields[path] = 'contains characters an e-invoice cannot carry (use Latin letters)';
    else if (latin.length > max) fields[path] = `must have at most ${max} characters`;
    return latin ?? v;
  };
  const upper = (o: Raw, key: string): string | null => str(o, key)?.toUpperCase().replace(/\s/g, '') ?? null;

  const country = upper(address, 'country') ?? 'IT';
  if (!isCountryCode(country)) fields['address.country'] = 'must be an ISO 3166 country code of two letters, e.g. IT';
  const italian = country === 'IT';

  const companyName = text(input, 'companyName', 'companyName', LENGTH_MAX.companyName, false);
  const nameRequired = kind === 'person' || (kind === 'business' && companyName === null);
  const givenName = text(input, 'givenName', 'givenName', LENGTH_MAX.name, nameRequired);
  const familyName = text(input, 'familyName', 'familyName', LENGTH_MAX.name, nameRequired);
  if (kind === 'person' && companyName !== null) fields.companyName = 'is for businesses only';

  const taxCode = upper(input, 'taxCode');
  // An Italian partita IVA typed with IT or spaces is normalised here; a foreign number keeps what its
  // own format needs (a Swiss UID starts with CHE) and is checked against it below.
  let vatNumber = country === 'IT' ? withoutCountryPrefix(upper(input, 'vatNumber'), country) : upper(input, 'vatNumber');
  if (kind === 'person') {
    // R16: a person must have an Italian codice fiscale (a PEC holder needs one), wherever they live.
    if (taxCode === null) fields.taxCode = 'is required';
    else {
      const problem = codiceFiscaleProblem(taxCode);
      if (problem) fields.taxCode = problem;
    }
    if (vatNumber !== null) fields.vatNumber = 'is for businesses only';
  } else if (kind === 'business') {
    if (vatNumber === null) fields.vatNumber = 'is required';
    else if (italian) {
      const problem = partitaIvaProblem(vatNumber.replace(/^IT/, ''));
      if (problem) fields.vatNumber = problem;
      else vatNumber = vatNumber.replace(/^IT/, '');
    } else if (!fields['address.country']) {
      // R16: a member state's number by its format, with or without the country prefix (API.md).
      const foreign = foreignVatNumber(country, vatNumber);
      if (foreign.ok) vatNumber = foreign.value;
      else fields.vatNumber = foreign.problem;
    }
    if (taxCode !== null && italian) {
      const problem = codiceFiscaleProblem(taxCode, { allowNumeric: true });
      if (problem) fields.taxCode = problem;
    }
  }

  const street = text(address, 'street', 'address.street', LENGTH_MAX.street, true);
  const streetNumber = str(address, 'streetNumber');
  if (streetNumber !== null && !/^[\x20-\x7e]{1,8}$/.test(streetNumber)) fields['address.streetNumber'] = 'must be at most 8 plain characters';
  const postalCode = str(address, 'postalCode');
  if (postalCode === null) fields['address.postalCode'] = 'is required';
  else if (italian && !/^\d{5}$/.test(postalCode)) fields['address.postalCode'] = 'must be 5 digits (CAP)';
  else if (!italian && !/^[A-Za-z0-9 -]{1,10}$/.test(postalCode)) fields['address.postalCode'] = 'must be at most 10 letters or digits';
  const city = text(address, 'city', 'address.city', LENGTH_MAX.city, true);
  const province = upper(address, 'province');
  if (italian && province === null) fields['address.province'] = 'is required (the two-letter sigla, e.g. RM)';
  else if (italian && !PROVINCE.test(province!)) fields['address.province'] = 'must be the two-letter sigla of the province, e.g. RM';
  else if (!italian && province !== null && !PROVINCE.test(province)) fields['address.province'] = 'must be two letters';

  // R16 / API.md: a buyer outside Italy is reached through SdI's XXXXXXX whatever is sent.
  const sdiCode = italian ? (upper(input, 'sdiCode') ?? NO_SDI_CODE) : FOREIGN_SDI_CODE;
  const sdiPec = italian ? (str(input, 'sdiPec')?.toLowerCase() ?? null) : null;
  if (!SDI_CODE.test(sdiCode)) fields.sdiCode = 'must be 7 letters or digits (Codice Destinatario), or 0000000';
  if (sdiPec !== null && (!PEC.test(sdiPec) || sdiPec.length > LENGTH_MAX.pec)) fields.sdiPec = 'is not an e-mail address';
  if (sdiPec !== null && sdiCode !== NO_SDI_CODE) fields.sdiPec = 'give either a Codice Destinatario or a PEC address, not both';

  if (Object.keys(fields).length) return { ok: false, fields };
  return {
    ok: true,
    value: {
      kind: kind as BillingProfile['kind'],
      givenName,
      familyName,
      companyName: kind === 'business' ? companyName : null,
      taxCode,
      vatNumber: kind === 'business' ? vatNumber : null,
      address: { street: street!, streetNumber, postalCode: postalCode!, city: city!, province, country },
      sdiCode,
      sdiPec,
    },
  };
}

/** The name the invoice is made out to. */
export const buyerName = (p: BillingProfile): string => p.companyName ?? `${p.givenName ?? ''} ${p.familyName ?? ''}`.trim();
/** The identifier shown beside the name: partita IVA for businesses, codice fiscale for persons. */
export const buyerFiscalId = (p: BillingProfile): string => (p.kind === 'business' ? `${p.address.country}${p.vatNumber}` : (p.taxCode ?? ''));
