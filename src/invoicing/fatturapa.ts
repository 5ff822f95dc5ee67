// R15: the FatturaPA 1.2.2 file (format FPR12, invoices between private parties) of one invoice.
// Built by hand with one escaping function: the document is small and fixed in shape, and every
// text passes through `text()`, which escapes XML and brings it into the schema's Latin-1 range.
import type { BillingProfile } from '../domain/billing-profile.ts';
import { NO_SDI_CODE } from '../domain/billing-profile.ts';
import { CREDIT_NOTE_LINE_DESCRIPTION, decimalAmount, LINE_DESCRIPTION, progressive, ratePercent, transmitterOf, type InvoiceDocument, type PaymentMethodKind, type SellerAddress } from '../domain/invoice.ts';
import { termsOf } from '../domain/vat.ts';
import { toLatin1 } from '../domain/latin1.ts';

export const FATTURAPA_NAMESPACE = 'http://ivaservizi.agenziaentrate.gov.it/docs/xsd/fatture/v1.2';
/** ModalitaPagamento MP08: carta di pagamento; MP05: bonifico. CondizioniPagamento TP02: pagamento completo. */
const PAYMENT_MODE: Record<PaymentMethodKind, string> = { card: 'MP08', saved_card: 'MP08', bank_transfer: 'MP05' };
const PAID_WITH: Record<PaymentMethodKind, string> = { card: 'carta di pagamento', saved_card: 'carta di pagamento', bank_transfer: 'bonifico bancario' };
const FULL_PAYMENT = 'TP02';
/** Sede of a buyer abroad: SdI wants CAP 00000 and no provincia. */
const FOREIGN_CAP = '00000';

const escapeXml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

/** Text for a Latin-1 field, at most `max` characters. Billing data is checked on input, so null here is a bug. */
function text(value: string, max: number): string {
  const latin = toLatin1(value.trim());
  if (latin === null) throw new Error(`text an e-invoice cannot carry: ${JSON.stringify(value)}`);
  return escapeXml(latin.slice(0, max));
}

type Node = string | null | undefined | false;
const el = (name: string, ...children: Node[]): string => {
  const inner = children.filter((c): c is string => typeof c === 'string' && c !== '').join('');
  return `<${name}>${inner}</${name}>`;
};
const leaf = (name: string, value: string | null | undefined): string | null => (value == null || value === '' ? null : `<${name}>${value}</${name}>`);

function sede(a: SellerAddress): string {
  const italian = a.country === 'IT';
  return el(
    'Sede',
    leaf('Indirizzo', text(a.street, 60)),
    a.streetNumber ? leaf('NumeroCivico', escapeXml(a.streetNumber.slice(0, 8))) : null,
    leaf('CAP', italian ? a.postalCode : FOREIGN_CAP),
    leaf('Comune', text(italian ? a.city : `${a.city} ${a.postalCode}`, 60)),
    italian && a.province ? leaf('Provincia', a.province) : null,
    leaf('Nazione', a.country),
  );
}

/** FatturaPA's StatoLiquidazione: LN, not in liquidation (a provider in liquidation sells no renewals). */
const NOT_IN_LIQUIDATION = 'LN';

/** The seller's REA entry (IscrizioneREA), with the share capital when configured; null without `rea`. */
function iscrizioneRea(seller: InvoiceDocument['seller']): string | null {
  if (!seller.rea) return null;
  return el(
    'IscrizioneREA',
    leaf('Ufficio', seller.rea.office),
    leaf('NumeroREA', text(seller.rea.number, 20)),
    seller.shareCapitalCents != null ? leaf('CapitaleSociale', decimalAmount(seller.shareCapitalCents)) : null,
    leaf('StatoLiquidazione', NOT_IN_LIQUIDATION),
  );
}

function anagrafica(p: { companyName: string | null; givenName: string | null; familyName: string | null }): string {
  if (p.companyName) return el('Anagrafica', leaf('Denominazione', text(p.companyName, 80)));
  return el('Anagrafica', leaf('Nome', text(p.givenName ?? '', 60)), leaf('Cognome', text(p.familyName ?? '', 60)));
}

function cessionario(b: BillingProfile): string {
  // R16: a business is identified by its VAT number under its own country (IdPaese); a person by
  // the Italian codice fiscale they must have, wherever they live.
  const foreignPersonWithoutCf = b.kind === 'person' && b.address.country !== 'IT' && !/^[A-Z0-9]{16}$/.test(b.taxCode ?? '');
  const idFiscale =
    b.kind === 'business'
      ? el('IdFiscaleIVA', leaf('IdPaese', b.address.country), leaf('IdCodice', b.vatNumber))
      : foreignPersonWithoutCf
        ? el('IdFiscaleIVA', leaf('IdPaese', b.address.country), leaf('IdCodice', b.taxCode))
        : null;
  const codiceFiscale = b.taxCode && (b.address.country === 'IT' || (b.kind === 'person' && !foreignPersonWithoutCf)) ? leaf('CodiceFiscale', b.taxCode) : null;
  return el('CessionarioCommittente', el('DatiAnagrafici', idFiscale, codiceFiscale, anagrafica(b)), sede(b.address));
}

/** The FatturaPA XML of an invoice, for its transmission number `transmissionSeq` (the file's progressive). */
export function fatturaPaXml(doc: InvoiceDocument, transmissionSeq: number): string {
  const { seller, buyer } = doc;
  const transmitter = transmitterOf(seller);
  const usesPec = buyer.sdiPec !== null && buyer.sdiCode === NO_SDI_CODE;
  const terms = termsOf(doc.vatTreatment, doc.vatRateBasisPoints);
  const rate = ratePercent(terms.rateBasisPoints);
  // R16: without Italian VAT the lines carry rate 0, Natura N2.1 and the article (art. 21 c. 6-bis).
  const natura = terms.natura ? leaf('Natura', terms.natura) : null;
  // R17: a credit note cites the invoice it corrects and gives no payment terms (money goes back).
  const related = doc.related ?? null;
  const causale = related
    ? `Nota di credito a storno della fattura n. ${related.number} del ${related.issuedOn} (rimborso sulla carta, rif. ${doc.paymentReference})`
    : `Pagata con ${PAID_WITH[doc.paymentMethod]} il ${doc.paymentDate} (rif. ${doc.paymentReference})`;
  const header = el(
    'FatturaElettronicaHeader',
    el(
      'DatiTrasmissione',
      el('IdTrasmittente', leaf('IdPaese', transmitter.country), leaf('IdCodice', escapeXml(transmitter.code))),
      leaf('ProgressivoInvio', progressive(transmissionSeq)),
      leaf('FormatoTrasmissione', 'FPR12'),
      leaf('CodiceDestinatario', buyer.sdiCode),
      usesPec ? leaf('PECDestinatario', escapeXml(buyer.sdiPec!)) : null,
    ),
    el(
      'CedentePrestatore',
      el(
        'DatiAnagrafici',
        el('IdFiscaleIVA', leaf('IdPaese', 'IT'), leaf('IdCodice', seller.vatNumber)),
        leaf('CodiceFiscale', seller.taxCode),
        anagrafica({ companyName: seller.companyName, givenName: null, familyName: null }),
        leaf('RegimeFiscale', seller.taxRegime),
      ),
      sede(seller.address),
      iscrizioneRea(seller),
    ),
    cessionario(buyer),
  );
  const body = el(
    'FatturaElettronicaBody',
    el(
      'DatiGenerali',
      el(
        'DatiGeneraliDocumento',
        leaf('TipoDocumento', doc.documentType),
        leaf('Divisa', 'EUR'),
        leaf('Data', doc.issuedOn),
        leaf('Numero', escapeXml(doc.number)),
        leaf('ImportoTotaleDocumento', decimalAmount(doc.totalCents)),
        // R15: the day the money was paid, which may be before the invoice's date (a payment notified after midnight).
        leaf('Causale', text(causale, 200)),
        terms.legalNote ? leaf('Causale', text(terms.legalNote, 200)) : null,
      ),
      related ? el('DatiFattureCollegate', leaf('IdDocumento', escapeXml(related.number)), leaf('Data', related.issuedOn)) : null,
    ),
    el(
      'DatiBeniServizi',
      el(
        'DettaglioLinee',
        leaf('NumeroLinea', '1'),
        leaf('Descrizione', text(related ? CREDIT_NOTE_LINE_DESCRIPTION : LINE_DESCRIPTION, 1000)),
        leaf('Quantita', '1.00'),
        leaf('PrezzoUnitario', decimalAmount(doc.netCents)),
        leaf('PrezzoTotale', decimalAmount(doc.netCents)),
        leaf('AliquotaIVA', rate),
        natura,
      ),
      el(
        'DatiRiepilogo',
        leaf('AliquotaIVA', rate),
        natura,
        leaf('ImponibileImporto', decimalAmount(doc.netCents)),
        leaf('Imposta', decimalAmount(doc.vatCents)),
        terms.natura ? null : leaf('EsigibilitaIVA', 'I'),
        terms.legalNote ? leaf('RiferimentoNormativo', text(terms.legalNote, 100)) : null,
      ),
    ),
    related
      ? null
      : el(
          'DatiPagamento',
          leaf('CondizioniPagamento', FULL_PAYMENT),
          el(
            'DettaglioPagamento',
            leaf('ModalitaPagamento', PAYMENT_MODE[doc.paymentMethod]),
            leaf('DataRiferimentoTerminiPagamento', doc.paymentDate),
            leaf('DataScadenzaPagamento', doc.paymentDate),
            leaf('ImportoPagamento', decimalAmount(doc.totalCents)),
          ),
        ),
  );
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<p:FatturaElettronica xmlns:p="${FATTURAPA_NAMESPACE}" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" versione="FPR12">` +
    header +
    body +
    '</p:FatturaElettronica>\n'
  );
}
