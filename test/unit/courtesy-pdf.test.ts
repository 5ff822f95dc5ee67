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
