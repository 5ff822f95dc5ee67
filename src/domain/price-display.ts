// How a price is shown to a buyer (R1, R16): a consumer reads the VAT-inclusive price first (Codice
// del Consumo art. 14: the final price to the consumer, taxes included), a business the net price
// it books, with the other beside it. The buyer's VAT treatment is one value, so that who pays which
// VAT (R16: a foreign business pays none) changes `buyerVat` alone and every page follows.
import type { BillingProfile } from './billing-profile.ts';
import { vatTermsFor, type VatTreatment } from './vat.ts';
import type { Catalogue } from './catalogue.ts';
import { addVat, type Cents, type VatRateBasisPoints } from './money.ts';

export interface BuyerVat {
  /** A person (or a holder without billing data yet): the gross price comes first. */
  consumer: boolean;
  /** The VAT the buyer's card payments carry; 0 when none is charged (R16: a business abroad). */
  vatRateBasisPoints: VatRateBasisPoints;
  treatment: VatTreatment;
}

/** The buyer's treatment from the billing data (none yet: a consumer, at the catalogue's rate). */
export function buyerVat(profile: Pick<BillingProfile, 'kind' | 'address'> | null, catalogue: Pick<Catalogue, 'vatRateBasisPoints'>): BuyerVat {
  const terms = vatTermsFor(profile, catalogue.vatRateBasisPoints);
  return { consumer: profile?.kind !== 'business', vatRateBasisPoints: terms.rateBasisPoints as VatRateBasisPoints, treatment: terms.treatment };
}

export type PriceOrder = 'gross_first' | 'net_first' | 'no_vat';

export interface ShownPrice {
  order: PriceOrder;
  netCents: Cents;
  grossCents: Cents;
}

/** A net catalogue price as this buyer reads it. */
export function shownPrice(net: Cents, buyer: BuyerVat): ShownPrice {
  if (buyer.vatRateBasisPoints === 0) return { order: 'no_vat', netCents: net, grossCents: net };
  return { order: buyer.consumer ? 'gross_first' : 'net_first', netCents: net, grossCents: addVat(net, buyer.vatRateBasisPoints).grossCents };
}
