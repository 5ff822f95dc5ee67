// R15: every FatturaPA file Casella writes is valid against the official 1.2.2 schema (checked by
// libxml2's validator), for a person, a business with a Codice Destinatario, one with a PEC address
// and a buyer abroad, and its totals add up.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { validateBillingProfile, type BillingProfile } from '../../src/domain/billing-profile.ts';
import { DEMO_SELLER, invoiceFileName, invoiceNumber, progressive, sellerProblems, type InvoiceDocument } from '../../src/domain/invoice.ts';
import { cents } from '../../src/domain/money.ts';
import { chargeFor, vatTermsFor } from '../../src/domain/vat.ts';
import { fatturaPaXml } from '../../src/invoicing/fatturapa.ts';
import { schemaErrors } from '../support/fatturapa-schema.ts';
import { BUSINESS_WITH_CODE, BUSINESS_WITH_PEC, PERSON_PROFILE } from '../support/billing.ts';

const profile = (input: Record<string, unknown>): BillingProfile => {
  const r = validateBillingProfile(input);
  if (!r.ok) throw new Error(JSON.stringify(r.fields));
  return r.value;
};

function documentFor(buyer: BillingProfile, netCents = 1234): InvoiceDocument {
  // R16: what this buyer is charged decides the document.
  const terms = vatTermsFor(buyer, 2200);
  const split = chargeFor(cents(netCents), terms);
  return {
    vatTreatment: terms.treatment,
    paymentDate: '2026-06-10',
    paymentMethod: 'card',
    number: invoiceNumber(2026, 42),
    issuedOn: '2026-06-10',
    documentType: 'TD01',
    netCents: split.netCents,
    vatCents: split.vatCents,
    totalCents: split.grossCents,
    vatRateBasisPoints: terms.rateBasisPoints,
    buyer,
    seller: DEMO_SELLER,
    paymentReference: 'top_abc',
  };
}

const tag = (xml: string, name: string): string[] => [...xml.matchAll(new RegExp(`<${name}>([^<]*)</${name}>`, 'g'))].map((m) => m[1]!);

describe('FatturaPA files against the official schema', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['a private person', PERSON_PROFILE],
    ['a business with a Codice Destinatario', BUSINESS_WITH_CODE],
    ['a business (a professional, by name) with a PEC address', BUSINESS_WITH_PEC],
  ];
  for (const [who, input] of cases) {
    test(`${who}: valid, with the buyer and the amounts`, async () => {
      const doc = documentFor(profile(input));
      const xml = fatturaPaXml(doc, 1);
      assert.deepEqual(await schemaErrors(xml), []);
      assert.deepEqual(tag(xml, 'FormatoTrasmissione'), ['FPR12']);
      assert.deepEqual(tag(xml, 'TipoDocumento'), ['TD01']);
      assert.deepEqual(tag(xml, 'ImponibileImporto'), ['12.34']);
      assert.deepEqual(tag(xml, 'Imposta'), ['2.71']);
      assert.deepEqual(tag(xml, 'ImportoTotaleDocumento'), ['15.05']);
      assert.deepEqual(tag(xml, 'ImportoPagamento'), ['15.05']);
      assert.deepEqual(tag(xml, 'ModalitaPagamento'), ['MP08']);
      assert.deepEqual(tag(xml, 'AliquotaIVA'), ['22.00', '22.00']);
      assert.deepEqual(tag(xml, 'Numero'), ['2026/000042']);
    });
  }

  // R16: a business elsewhere in the EU (reverse charge) and one outside the EU (not subject): no
  // Italian VAT, Natura N2.1 with the article, Codice Destinatario XXXXXXX, IdPaese its country.
  const abroad: [string, Record<string, unknown>, string, string][] = [
    ['a German company (reverse charge)', { kind: 'business', companyName: 'Müller GmbH', vatNumber: 'DE 123 456 789', address: { street: 'Hauptstraße', postalCode: '10115', city: 'Berlin', country: 'DE' } }, 'DE', 'inversione contabile, art. 7-ter DPR 633/72'],
    ['a Swiss company (not subject)', { kind: 'business', companyName: 'Käse AG', vatNumber: 'CHE123456789', address: { street: 'Bahnhofstrasse', postalCode: '8001', city: 'Zürich', country: 'CH' } }, 'CH', 'operazione non soggetta, art. 7-ter DPR 633/72'],
  ];
  for (const [who, input, country, note] of abroad) {
    test(`${who}: valid, 12,34 € charged 12,34 €, N2.1 and "${note}"`, async () => {
      const xml = fatturaPaXml(documentFor(profile(input)), 1);
      assert.deepEqual(await schemaErrors(xml), []);
      assert.deepEqual(tag(xml, 'CodiceDestinatario'), ['XXXXXXX']);
      assert.deepEqual(tag(xml, 'IdPaese'), ['IT', 'IT', country], 'the transmitter, the seller, then the buyer');
      assert.deepEqual(tag(xml, 'AliquotaIVA'), ['0.00', '0.00']);
      assert.deepEqual(tag(xml, 'Natura'), ['N2.1', 'N2.1']);
      assert.deepEqual(tag(xml, 'ImponibileImporto'), ['12.34']);
      assert.deepEqual(tag(xml, 'Imposta'), ['0.00']);
      assert.deepEqual(tag(xml, 'ImportoTotaleDocumento'), ['12.34']);
      assert.deepEqual(tag(xml, 'ImportoPagamento'), ['12.34']);
      assert.deepEqual(tag(xml, 'RiferimentoNormativo'), [note]);
      assert.ok(tag(xml, 'Causale').includes(note));
      assert.deepEqual(tag(xml, 'EsigibilitaIVA'), []);
    });
  }

  test('R15: the payment\'s own day and way are written (a card payment notified after midnight, a transfer)', async () => {
    const late = { ...documentFor(profile(PERSON_PROFILE)), number: '2027/000001', issuedOn: '2027-01-01', paymentDate: '2026-12-31' };
    const xml = fatturaPaXml(late, 3);
    assert.deepEqual(await schemaErrors(xml), []);
    assert.deepEqual(tag(xml, 'Data'), ['2027-01-01']);
    assert.deepEqual(tag(xml, 'DataRiferimentoTerminiPagamento'), ['2026-12-31']);
    assert.deepEqual(tag(xml, 'DataScadenzaPagamento'), ['2026-12-31']);
    assert.match(tag(xml, 'Causale')[0]!, /Pagata con carta di pagamento il 2026-12-31/);
    const transfer = fatturaPaXml({ ...late, paymentMethod: 'bank_transfer', paymentReference: 'CAS-7KMQ-RX4A' }, 4);
    assert.deepEqual(await schemaErrors(transfer), []);
    assert.deepEqual(tag(transfer, 'ModalitaPagamento'), ['MP05']);
    assert.match(tag(transfer, 'Causale')[0]!, /Pagata con bonifico bancario il 2026-12-31 \(rif\. CAS-7KMQ-RX4A\)/);
  });

  test('the addressee: code, or 0000000 with the PEC, or XXXXXXX abroad', () => {
    assert.deepEqual(tag(fatturaPaXml(documentFor(profile(BUSINESS_WITH_CODE)), 1), 'CodiceDestinatario'), ['M5UXCR1']);
    const pec = fatturaPaXml(documentFor(profile(BUSINESS_WITH_PEC)), 1);
    assert.deepEqual(tag(pec, 'CodiceDestinatario'), ['0000000']);
    assert.deepEqual(tag(pec, 'PECDestinatario'), ['giulia.verdi@pec.example.it']);
    // A person living abroad still has an Italian codice fiscale (R16), and is reached through XXXXXXX.
    const personAbroad = fatturaPaXml(documentFor(profile({ ...PERSON_PROFILE, address: { street: 'Rue', postalCode: '75001', city: 'Paris', country: 'FR' } })), 1);
    assert.deepEqual(tag(personAbroad, 'CodiceDestinatario'), ['XXXXXXX']);
    assert.deepEqual(tag(personAbroad, 'CodiceFiscale').at(-1), 'RSSMRA85T10A562S');
  });

  test('text with XML characters and accents outside Latin-1 stays valid', async () => {
    const buyer = profile({ ...BUSINESS_WITH_CODE, companyName: 'Ditta <Řezník> & “Figli” — Ştefan' });
    const xml = fatturaPaXml(documentFor(buyer), 7);
    assert.deepEqual(await schemaErrors(xml), []);
    assert.deepEqual(tag(xml, 'Denominazione').slice(1), ['Ditta &lt;Rezník&gt; &amp; &quot;Figli&quot; - Stefan']);
  });

  test('the largest top-up is valid too', async () => {
    assert.deepEqual(await schemaErrors(fatturaPaXml(documentFor(profile(PERSON_PROFILE), 500_000), 60_466_175)), []);
  });
});

describe('file names and the seller', () => {
  test('IT<id>_<progressive of 5 letters or digits>.xml', () => {
    assert.equal(invoiceFileName(DEMO_SELLER, 1), 'IT01234567897_00001.xml');
    assert.equal(invoiceFileName(DEMO_SELLER, 36), 'IT01234567897_00010.xml');
    assert.equal(progressive(60_466_175), 'ZZZZZ');
    assert.throws(() => progressive(60_466_176), RangeError);
  });

  test('an incomplete seller names what is missing', () => {
    assert.deepEqual(sellerProblems(DEMO_SELLER), []);
    const problems = sellerProblems({ companyName: 'Provider S.p.A.', vatNumber: '00488410011', address: { city: 'Roma' } });
    assert.deepEqual(problems, [
      'seller.vatNumber the check digit is wrong',
      'seller.taxCode is missing',
      'seller.taxRegime is missing',
      'seller.address.street is missing',
      'seller.address.postalCode is missing',
      'seller.address.country is missing',
    ]);
  });
});

describe('issue 19: the seller\'s REA entry and share capital', () => {
  const company = { ...DEMO_SELLER, rea: { office: 'RM', number: '1234567' }, shareCapitalCents: 1_000_000 };

  test('a company\'s REA and share capital are in the file as IscrizioneREA, valid against the schema', async () => {
    const xml = fatturaPaXml({ ...documentFor(profile(PERSON_PROFILE)), seller: company }, 1);
    assert.deepEqual(await schemaErrors(xml), []);
    assert.match(xml, /<\/Sede><IscrizioneREA><Ufficio>RM<\/Ufficio><NumeroREA>1234567<\/NumeroREA><CapitaleSociale>10000\.00<\/CapitaleSociale><StatoLiquidazione>LN<\/StatoLiquidazione><\/IscrizioneREA><\/CedentePrestatore>/);
    const withoutCapital = fatturaPaXml({ ...documentFor(profile(PERSON_PROFILE)), seller: { ...company, shareCapitalCents: null } }, 1);
    assert.deepEqual(await schemaErrors(withoutCapital), []);
    assert.deepEqual(tag(withoutCapital, 'CapitaleSociale'), []);
    assert.deepEqual(tag(fatturaPaXml(documentFor(profile(PERSON_PROFILE)), 1), 'NumeroREA'), [], 'no REA entry when the seller has none');
  });

  test('a wrong REA entry or share capital stops the start, naming the key', () => {
    assert.deepEqual(sellerProblems(company), []);
    assert.deepEqual(sellerProblems({ ...company, rea: { office: 'Roma', number: '1234567' } }), ['seller.rea.office must be the two-letter sigla of the Chamber of Commerce\'s province, e.g. RM']);
    assert.match(sellerProblems({ ...company, rea: { office: 'RM', number: '' } }).join(), /seller\.rea\.number/);
    assert.match(sellerProblems({ ...company, shareCapitalCents: 10.5 }).join(), /seller\.shareCapitalCents must be a whole number/);
    assert.match(sellerProblems({ ...DEMO_SELLER, shareCapitalCents: 1000 }).join(), /seller\.shareCapitalCents needs seller\.rea/);
  });
});

describe('the VAT register', () => {
  test('a buyer\'s name that a spreadsheet would run as a formula is made inert', async () => {
    const { spreadsheetSafe } = await import('../../src/invoicing/register.ts');
    assert.equal(spreadsheetSafe('=HYPERLINK("http://x")'), '\'=HYPERLINK("http://x")');
    assert.equal(spreadsheetSafe('@SUM(A1)'), "'@SUM(A1)");
    assert.equal(spreadsheetSafe('-2+3'), "'-2+3");
    assert.equal(spreadsheetSafe('Studio Rossi'), 'Studio Rossi');
  });

  test('issue 19: each piece after a ";" is guarded too, since Excel in Italian splits a CSV line on ";"', async () => {
    const { spreadsheetSafe } = await import('../../src/invoicing/register.ts');
    assert.equal(spreadsheetSafe('Rossi;=HYPERLINK("http://x")'), 'Rossi;\'=HYPERLINK("http://x")');
    assert.equal(spreadsheetSafe('Rossi; +1;@A1;"=2'), "Rossi;' +1;'@A1;'\"=2");
    assert.equal(spreadsheetSafe('Rossi & Bianchi; Studio - Legale'), 'Rossi & Bianchi; Studio - Legale');
  });
});
