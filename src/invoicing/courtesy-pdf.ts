// R15: the courtesy copy of an invoice ("copia di cortesia"), in the holder's language, with all the
// fiscal data, saying plainly that the fiscal document is the FatturaPA file sent through SdI.
// Made with PDFKit and its built-in Helvetica (WinAnsi covers the Latin-1 text invoices carry).
import PDFDocument from 'pdfkit';
import { buyerName, type BillingProfile } from '../domain/billing-profile.ts';
import type { InvoiceDocument, SellerAddress } from '../domain/invoice.ts';
import { termsOf } from '../domain/vat.ts';
import { LINE_DESCRIPTION } from '../domain/invoice.ts';
import { date } from '../domain/calendar.ts';
import { longDate, money, type Locale } from '../i18n/format.ts';

const TEXT = {
  it: {
    title: 'Fattura',
    courtesy: 'Copia di cortesia',
    notFiscal:
      'Questo documento non ha valore fiscale. La fattura è il file FatturaPA trasmesso al Sistema di Interscambio (SdI) ed è consultabile anche nel cassetto fiscale del cliente.',
    number: 'Numero',
    date: 'Data',
    type: 'Tipo documento',
    typeTD01: 'TD01 fattura',
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
    paid: 'Pagata con carta di pagamento il {date}.',
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
    typeTD01: 'TD01 invoice',
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

const addressLines = (a: SellerAddress): string[] => [
  `${a.street}${a.streetNumber ? ` ${a.streetNumber}` : ''}`,
  `${a.postalCode} ${a.city}${a.province ? ` (${a.province})` : ''} ${a.country}`,
];

function buyerLines(b: BillingProfile, t: (typeof TEXT)[Locale]): string[] {
  const lines = [buyerName(b)];
  if (b.vatNumber) lines.push(`${t.vat}: ${b.address.country}${b.vatNumber}`);
  if (b.taxCode) lines.push(`${t.taxCode}: ${b.taxCode}`);
  lines.push(...addressLines(b.address));
  lines.push(`${t.sdi}: ${b.sdiPec ?? b.sdiCode}`);
  return lines;
}

/** The PDF bytes. The description line is Italian in the fiscal file; here it follows the holder's language. */
export function courtesyCopyPdf(doc: InvoiceDocument, fileName: string, locale: Locale): Promise<Buffer> {
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

  pdf.font('Helvetica-Bold').fontSize(18).text(`${t.title} ${doc.number}`);
  pdf.font('Helvetica-Bold').fontSize(11).fillColor('#a00000').text(t.courtesy.toUpperCase());
  pdf.font('Helvetica').fontSize(9).text(t.notFiscal).fillColor('black').moveDown();

  pdf.font('Helvetica').fontSize(10);
  pdf.text(`${t.number}: ${doc.number}`);
  pdf.text(`${t.date}: ${issued}`);
  pdf.text(`${t.type}: ${doc.documentType === 'TD01' ? t.typeTD01 : doc.documentType}`);
  pdf.text(`${t.fileName}: ${fileName}`).moveDown();

  const top = pdf.y;
  pdf.font('Helvetica-Bold').text(t.seller, 50, top, { width: 240 });
  pdf.font('Helvetica').text(
    [doc.seller.companyName, `${t.vat}: IT${doc.seller.vatNumber}`, `${t.taxCode}: ${doc.seller.taxCode}`, `${t.regime}: ${doc.seller.taxRegime}`, ...addressLines(doc.seller.address)].join('\n'),
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
  pdf.font('Helvetica').text((doc.paymentMethod === 'bank_transfer' ? t.paidTransfer : t.paid).replace('{date}', paidOn));
  pdf.end();
  return done;
}
