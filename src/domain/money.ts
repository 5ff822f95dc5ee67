// R1: money is integer euro cents, net of VAT, everywhere it is computed, stored or sent.
export type Cents = number & { readonly __unit: 'EUR cents' };

export function cents(n: number): Cents {
  if (!Number.isSafeInteger(n)) throw new RangeError(`not a whole number of cents: ${n}`);
  return n as Cents;
}

export const ZERO = cents(0);
export const addCents = (a: Cents, b: Cents): Cents => cents(a + b);
export const subCents = (a: Cents, b: Cents): Cents => cents(a - b);
export const minCents = (a: Cents, b: Cents): Cents => (a < b ? a : b);
export const maxCents = (a: Cents, b: Cents): Cents => (a > b ? a : b);

export function timesQuantity(unit: Cents, quantity: number): Cents {
  if (!Number.isSafeInteger(quantity)) throw new RangeError(`not a whole quantity: ${quantity}`);
  return cents(unit * quantity);
}

/** numerator / denominator rounded half-up, for non-negative integers, without floating point. */
export function divideHalfUp(numerator: number, denominator: number): number {
  if (!Number.isSafeInteger(numerator) || !Number.isSafeInteger(denominator) || numerator < 0 || denominator <= 0) {
    throw new RangeError(`divideHalfUp needs whole numerator >= 0 and denominator > 0`);
  }
  return Math.floor((2 * numerator + denominator) / (2 * denominator));
}

/** A VAT rate in basis points (22 % = 2200), so rates like 4.5 % stay integral. */
export type VatRateBasisPoints = number & { readonly __unit: 'basis points' };

export interface VatSplit {
  netCents: Cents;
  vatCents: Cents;
  grossCents: Cents;
}

/** R1: a top-up of credit C charges C plus VAT, rounded half-up to the cent. */
export function addVat(net: Cents, rate: VatRateBasisPoints): VatSplit {
  if (net < 0) throw new RangeError('VAT is computed on non-negative amounts');
  const vat = cents(divideHalfUp(net * rate, 10_000));
  return { netCents: net, vatCents: vat, grossCents: addCents(net, vat) };
}

/** 1234 → "12,34 €" (Italian format); "€12.34" for English. */
export function formatEuro(amount: Cents, locale: 'it' | 'en' = 'it'): string {
  const sign = amount < 0 ? '-' : '';
  const abs = Math.abs(amount);
  const euros = Math.floor(abs / 100);
  const rest = String(abs % 100).padStart(2, '0');
  if (locale === 'en') return `${sign}€${euros.toLocaleString('en-GB')}.${rest}`;
  const grouped = String(euros).replace(/\B(?=(\d{3})+(?!\d))/g, '.');
  return `${sign}${grouped},${rest} €`;
}
