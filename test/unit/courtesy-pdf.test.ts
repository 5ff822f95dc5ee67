// R15: the courtesy copy carries the fiscal data, says it is not the fiscal document, and follows
// the holder's language. The text is read back from the PDF's content streams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import { courtesyCopyPdf } from '../../src/invoicing/courtesy-pdf.ts';
import { DEMO_SELLER, type InvoiceDocument } from '../../src/domain/invoice.ts';
import { validateBillingProfile } from '../../src/domain/billing-profile.ts';
import { BUSINESS_WITH_CODE } from '../support/billing.ts';

/** The text of a PDFKit document: each TJ array's hex strings, decoded (WinAnsi is Latin-1 here but for €). */
function pdfText(pdf: Buffer): string {
  const raw = pdf.toString('latin1');
  const streams = [...raw.matchAll(/stream\r?\n([\s\S]*?)endstream/g)].map((m) => {
    try {
      return inflateSync(Buffer.from(m[1]!, 'latin1')).toString('latin1');
    } catch {
      return '';
    }
  });
  return streams
    .flatMap((s) => [...s.matchAll(/\[([^\]]*)\] TJ/g)].map((m) => [...m[1]!.matchAll(/<([0-9a-f]*)>/g)].map((h) => Buffer.from(h[1]!, 'hex').toString('latin1')).join('')))
    .join('\n')
    .replace(/\x80/g, '€');
}

const buyer = validateBillingProfile(BUSINESS_WITH_CODE);
if (!buyer.ok) throw new Error('fixture');
const doc: InvoiceDocument = {
  number: '2026/000042',
  issuedOn: '2026-06-10',
  documentType: 'TD01',
  netCents: 1234,
  vatCents: 271,
  totalCents: 1505,
  vatRateBasisPoints: 2200,
  buyer: buyer.value,
  seller: DEMO_SELLER,
  paymentReference: 'top_1',
  vatTreatment: 'standard',
  paymentDate: '2026-06-10',
  paymentMethod: 'card',
};

test('the Italian courtesy copy: every fiscal datum, and "copia di cortesia" without fiscal value', async () => {
  const text = pdfText(await courtesyCopyPdf(doc, 'IT01234567897_00001.xml', 'it'));
  for (const expected of [
    'Fattura 2026/000042',
    'COPIA DI CORTESIA',
    'non ha valore fiscale',
    '10 giugno 2026',
    'IT01234567897_00001.xml',
    'Casella Demo S.r.l.',
    'IT00488410010',
    'Studio Legale Bianchi & Associati S.r.l.',
    'M5UXCR1',
    '12,34 €',
    '22 %',
    '2,71 €',
    '15,05 €',
    'Pagata con carta',
  ]) {
    assert.ok(text.includes(expected), `${expected} in:\n${text}`);
  }
});

test('the English courtesy copy is in English', async () => {
  const text = pdfText(await courtesyCopyPdf(doc, 'IT01234567897_00001.xml', 'en'));
  for (const expected of ['Invoice 2026/000042', 'COURTESY COPY', 'no fiscal value', '10 June 2026', '€15.05', 'Paid by card']) {
    assert.ok(text.includes(expected), `${expected} in:\n${text}`);
  }
});

test('issue 19: TD01 and RF01 are written in words beside the codes, in both languages', async () => {
  const it = pdfText(await courtesyCopyPdf(doc, 'IT01234567897_00001.xml', 'it'));
  assert.ok(it.includes('TD01 (Fattura)'), it);
  assert.ok(it.includes('RF01 (Regime ordinario)'), it);
  const en = pdfText(await courtesyCopyPdf(doc, 'IT01234567897_00001.xml', 'en'));
  assert.ok(en.includes('TD01 (Invoice)'), en);
  assert.ok(en.includes('RF01 (Ordinary regime)'), en);
});

test('issue 19: a company\'s REA number and share capital, from `seller`, are on the copy; none when the seller has none', async () => {
  const company = { ...DEMO_SELLER, rea: { office: 'RM', number: '1234567' }, shareCapitalCents: 1_000_000 };
  const it = pdfText(await courtesyCopyPdf({ ...doc, seller: company }, 'IT01234567897_00001.xml', 'it'));
  assert.ok(it.includes('REA: RM 1234567'), it);
  assert.ok(it.includes('Capitale sociale: 10.000,00 €'), it);
  const en = pdfText(await courtesyCopyPdf({ ...doc, seller: company }, 'IT01234567897_00001.xml', 'en'));
  assert.ok(en.includes('Share capital: €10,000.00'), en);
  const plain = pdfText(await courtesyCopyPdf(doc, 'IT01234567897_00001.xml', 'it'));
  assert.ok(!plain.includes('REA') && !plain.includes('Capitale sociale'), plain);
});

/** A 1×1 PNG: the smallest logo PDFKit embeds. */
const PNG_LOGO = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

test('issue 19: the copy carries the provider\'s brand: its logo, its name and where to reach it', async () => {
  const brand = { name: 'PEC Nord', logo: { bytes: PNG_LOGO, contentType: 'image/png' }, supportEmail: 'assistenza@pecnord.example', website: 'https://area.pecnord.example' };
  const pdf = await courtesyCopyPdf(doc, 'IT01234567897_00001.xml', 'it', brand);
  const text = pdfText(pdf);
  for (const expected of ['PEC Nord', 'assistenza@pecnord.example', 'https://area.pecnord.example']) assert.ok(text.includes(expected), `${expected} in:\n${text}`);
  assert.match(pdf.toString('latin1'), /\/Subtype \/Image/, 'the logo is embedded');
  assert.doesNotMatch((await courtesyCopyPdf(doc, 'IT01234567897_00001.xml', 'it')).toString('latin1'), /\/Subtype \/Image/);

  // An SVG logo cannot go into the PDF: the brand's name stands in for it, and the contacts stay.
  const svg = pdfText(await courtesyCopyPdf(doc, 'IT01234567897_00001.xml', 'en', { ...brand, logo: { bytes: Buffer.from('<svg/>'), contentType: 'image/svg+xml' } }));
  assert.ok(svg.split('PEC Nord').length >= 3, `the name as logo and in the contacts:\n${svg}`);
  assert.ok(svg.includes('assistenza@pecnord.example'), svg);
});
