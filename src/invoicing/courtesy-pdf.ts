// R15: the courtesy copy of an invoice ("copia di cortesia"), in the holder's language, with all the
// fiscal data, saying plainly that the fiscal document is the FatturaPA file sent through SdI.
// Made with PDFKit and its built-in Helvetica (WinAnsi covers the Latin-1 text invoices carry).
import PDFDocument from 'pdfkit';
import { buyerName, type BillingProfile } from '../domain/billing-profile.ts';
import type { InvoiceDocument, Seller, SellerAddress } from '../domain/invoice.ts';
import { termsOf } from '../domain/vat.ts';
import { LINE_DESCRIPTION } from '../domain/invoice.ts';
import { date } from '../domain/calendar.ts';
import { longDate, money, type Locale } from '../i18n/format.ts';
import { fillIn } from '../i18n/dictionary.ts';

/** The regimi fiscali of FatturaPA (RegimeFiscale), in words beside the code (issue 19). */
const TAX_REGIMES_IT: Record<string, string> = {
  RF01: 'Regime ordinario',
  RF02: 'Contribuenti minimi',
  RF04: 'Agricoltura e attività connesse e pesca',
  RF05: 'Vendita sali e tabacchi',
  RF06: 'Commercio fiammiferi',
  RF07: 'Editoria',
  RF08: 'Gestione servizi telefonia pubblica',
  RF09: 'Rivendita documenti di trasporto pubblico e di sosta',
  RF10: 'Intrattenimenti, giochi e altre attività',
  RF11: 'Agenzie viaggi e turismo',
  RF12: 'Agriturismo',
  RF13: 'Vendite a domicilio',
  RF14: 'Rivendita beni usati, oggetti d\'arte, d\'antiquariato o da collezione',
  RF15: 'Agenzie di vendite all\'asta',
  RF16: 'IVA per cassa P.A.',
  RF17: 'IVA per cassa',
  RF18: 'Altro',
  RF19: 'Regime forfettario',
};
const TAX_REGIMES_EN: Record<string, string> = {
  RF01: 'Ordinary regime',
  RF02: 'Minimum taxpayers',
  RF04: 'Agriculture and fishing',
  RF05: 'Sale of salt and tobacco',
  RF06: 'Sale of matches',
  RF07: 'Publishing',
  RF08: 'Public telephone services',
  RF09: 'Resale of public transport and parking tickets',
  RF10: 'Entertainment and gaming',
  RF11: 'Travel and tourism agencies',
  RF12: 'Farm holidays',
  RF13: 'Door-to-door sales',
  RF14: 'Resale of second-hand goods, art, antiques and collectibles',
  RF15: 'Auction agencies',
  RF16: 'VAT on cash basis (public administration)',
  RF17: 'VAT on cash basis',
  RF18: 'Other',
  RF19: 'Flat-rate regime',
};

const TEXT = {
  it: {
    title: 'Fattura',
    courtesy: 'Copia di cortesia',
    notFiscal:
      'Questo documento non ha valore fiscale. La fattura è il file FatturaPA trasmesso al Sistema di Interscambio (SdI) ed è consultabile anche nel cassetto fiscale del cliente.',
    number: 'Numero',
    date: 'Data',
    type: 'Tipo documento',
    documentTypes: { TD01: 'Fattura', TD04: 'Nota di credito' } as Record<string, string>,
    taxRegimes: TAX_REGIMES_IT,
    rea: 'REA',
    shareCapital: 'Capitale sociale',
    fileName: 'File FatturaPA',
    seller: 'Cedente / prestatore',
    buyer: 'Cessionario / committente',
    vat: 'Partita IVA',
    taxCode: 'Codice fiscale',
    regime: 'Regime fiscale',
    sdi: 'Recapito SdI',
    description: 'Descrizione',
    line: 'Ricarica del credito prepagato per i servizi PEC',
    taxable: 'Imponibile',
    vatRate: 'Aliquota IVA',
    vatAmount: 'IVA',
    total: 'Totale documento',
    payment: 'Pagamento',
    paid: 'Pagata con carta il {date}.',
    paidTransfer: 'Pagata con bonifico bancario il {date}.',
    natura: 'IVA non applicata ({natura}): {note}.',
  },
  en: {
    title: 'Invoice',
    courtesy: 'Courtesy copy',
    notFiscal:
      'This document has no fiscal value. The invoice is the FatturaPA file sent through the Italian Exchange System (SdI); the customer can also find it in their cassetto fiscale.',
    number: 'Number',
    date: 'Date',
    type: 'Document type',
    documentTypes: { TD01: 'Invoice', TD04: 'Credit note' } as Record<string, string>,
    taxRegimes: TAX_REGIMES_EN,
    rea: 'REA (companies register)',
    shareCapital: 'Share capital',
    fileName: 'FatturaPA file',
    seller: 'Seller',
    buyer: 'Buyer',
    vat: 'VAT number',
    taxCode: 'Tax code',
    regime: 'Tax regime',
    sdi: 'SdI delivery',
    description: 'Description',
    line: 'Top-up of prepaid credit for PEC services',
    taxable: 'Taxable amount',
    vatRate: 'VAT rate',
    vatAmount: 'VAT',
    total: 'Total',
    payment: 'Payment',
    paid: 'Paid by card on {date}.',
    paidTransfer: 'Paid by bank transfer on {date}.',
    natura: 'No Italian VAT ({natura}): {note}.',
  },
} as const;

/** The provider's brand on the copy (CASELLA_CONFIG `brand`): logo, name and where to reach it. */
export interface CourtesyBrand {
  name: string;
  logo: { bytes: Buffer; contentType: string } | null;
  supportEmail: string | null;
  website: string | null;
}

/** PDFKit embeds PNG and JPEG; an SVG or WebP logo leaves the brand's name alone in the header. */
const EMBEDDABLE_LOGO_TYPES = new Set(['image/png', 'image/jpeg']);
const LOGO_BOX = { width: 160, height: 48 } as const;

/** "TD01 (Fattura)": a code an accountant reads, and the words anyone reads. */
const coded = (code: string, words: Record<string, string>): string => (words[code] ? `${code} (${words[code]})` : code);

const addressLines = (a: SellerAddress): string[] => [
  `${a.street}${a.streetNumber ? ` ${a.streetNumber}` : ''}`,
  `${a.postalCode} ${a.city}${a.province ? ` (${a.province})` : ''} ${a.country}`,
];

/** The seller's fiscal data, with its REA entry and share capital when the company has them (art. 2250 c.c.). */
function sellerLines(seller: Seller, t: (typeof TEXT)[Locale], locale: Locale): string[] {
  const lines = [seller.companyName, `${t.vat}: IT${seller.vatNumber}`, `${t.taxCode}: ${seller.taxCode}`, `${t.regime}: ${coded(seller.taxRegime, t.taxRegimes)}`];
  if (seller.rea) lines.push(`${t.rea}: ${seller.rea.office} ${seller.rea.number}`);
  if (seller.rea && seller.shareCapitalCents != null) lines.push(`${t.shareCapital}: ${money(seller.shareCapitalCents, locale)}`);
  lines.push(...addressLines(seller.address));
  return lines;
}

/** The logo (or the brand's name) at the top left, the name and contacts beside it on the right. */
function brandHeader(pdf: PDFKit.PDFDocument, brand: CourtesyBrand): void {
  const top = pdf.y;
  const left = pdf.page.margins.left;
  const right = pdf.page.width - pdf.page.margins.right;
  let logoDrawn = false;
  if (brand.logo && EMBEDDABLE_LOGO_TYPES.has(brand.logo.contentType)) {
    try {
      pdf.image(brand.logo.bytes, left, top, { fit: [LOGO_BOX.width, LOGO_BOX.height] });
      logoDrawn = true;
    } catch {
      // A file PDFKit cannot read (checked only for size and extension at start): the name stands in.
    }
  }
  if (!logoDrawn) pdf.font('Helvetica-Bold').fontSize(16).fillColor('black').text(brand.name, left, top + 12, { width: LOGO_BOX.width * 1.5 });
  const contacts = [brand.name, brand.supportEmail, brand.website].filter((line): line is string => Boolean(line));
  pdf.font('Helvetica').fontSize(9).fillColor('#333333').text(contacts.join('\n'), left + LOGO_BOX.width + 20, top, { width: right - left - LOGO_BOX.width - 20, align: 'right' });
  pdf.fillColor('black');
  pdf.x = left;
  pdf.y = top + LOGO_BOX.height + 16;
}

function buyerLines(b: BillingProfile, t: (typeof TEXT)[Locale]): string[] {
  const lines = [buyerName(b)];
  if (b.vatNumber) lines.push(`${t.vat}: ${b.address.country}${b.vatNumber}`);
  if (b.taxCode) lines.push(`${t.taxCode}: ${b.taxCode}`);
  lines.push(...addressLines(b.address));
  lines.push(`${t.sdi}: ${b.sdiPec ?? b.sdiCode}`);
  return lines;
}

/** The PDF bytes. The description line is Italian in the fiscal file; here it follows the holder's language. */
export function courtesyCopyPdf(doc: InvoiceDocument, fileName: string, locale: Locale, brand: CourtesyBrand | null = null): Promise<Buffer> {
  const t = TEXT[locale];
  const pdf = new PDFDocument({ size: 'A4', margin: 50, info: { Title: `${t.title} ${doc.number}`, Author: doc.seller.companyName } });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    pdf.on('data', (c: Buffer) => chunks.push(c));
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);
  });
  const issued = longDate(date(doc.issuedOn), locale);
  const rate = `${(termsOf(doc.vatTreatment, doc.vatRateBasisPoints).rateBasisPoints / 100).toLocaleString(locale === 'it' ? 'it-IT' : 'en-GB')} %`;

  if (brand) brandHeader(pdf, brand);
  pdf.font('Helvetica-Bold').fontSize(18).text(`${t.title} ${doc.number}`);
  pdf.font('Helvetica-Bold').fontSize(11).fillColor('#a00000').text(t.courtesy.toUpperCase());
  pdf.font('Helvetica').fontSize(9).text(t.notFiscal).fillColor('black').moveDown();

  pdf.font('Helvetica').fontSize(10);
  pdf.text(`${t.number}: ${doc.number}`);
  pdf.text(`${t.date}: ${issued}`);
  pdf.text(`${t.type}: ${coded(doc.documentType, t.documentTypes)}`);
  pdf.text(`${t.fileName}: ${fileName}`).moveDown();

  const top = pdf.y;
  pdf.font('Helvetica-Bold').text(t.seller, 50, top, { width: 240 });
  pdf.font('Helvetica').text(
    sellerLines(doc.seller, t, locale).join('\n'),
    { width: 240 },
  );
  const sellerBottom = pdf.y;
  pdf.font('Helvetica-Bold').text(t.buyer, 310, top, { width: 240 });
  pdf.font('Helvetica').text(buyerLines(doc.buyer, t).join('\n'), { width: 240 });
  pdf.x = 50;
  pdf.y = Math.max(sellerBottom, pdf.y) + 20;

  pdf.font('Helvetica-Bold').text(t.description);
  pdf.font('Helvetica').text(locale === 'it' ? LINE_DESCRIPTION : t.line).moveDown();
  const row = (label: string, value: string, bold = false) => {
    const y = pdf.y;
    pdf.font(bold ? 'Helvetica-Bold' : 'Helvetica').text(label, 50, y, { width: 250 });
    pdf.text(value, 300, y, { width: 245, align: 'right' });
    pdf.x = 50;
  };
  row(t.taxable, money(doc.netCents, locale));
  row(t.vatRate, rate);
  row(t.vatAmount, money(doc.vatCents, locale));
  row(t.total, money(doc.totalCents, locale), true);
  // R16: the article that puts the service outside Italian VAT, in the words the fiscal file uses.
  const terms = termsOf(doc.vatTreatment, doc.vatRateBasisPoints);
  if (terms.natura && terms.legalNote) pdf.moveDown().text(t.natura.replace('{natura}', terms.natura).replace('{note}', terms.legalNote));
  pdf.moveDown();
  pdf.font('Helvetica-Bold').text(t.payment);
  // R15: the day the money was paid, which may precede the invoice's date.
  const paidOn = longDate(date(doc.paymentDate), locale);
  pdf.font('Helvetica').text(fillIn(locale, doc.paymentMethod === 'bank_transfer' ? t.paidTransfer : t.paid, { date: paidOn }));
  pdf.end();
  return done;
}
