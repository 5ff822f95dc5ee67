// CASELLA_CONFIG `brand` and the legal footer from `seller` (issue 15 item 7), read at start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { legalFooterOf } from '../../src/brand.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';

const withConfig = (json: unknown, files: Record<string, string | Buffer> = {}) => {
  const dir = mkdtempSync(join(tmpdir(), 'casella-brand-unit-'));
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(json));
  return loadConfig({ CASELLA_CONFIG: join(dir, 'config.json') });
};

test('without brand: the name Casella, no logo, no legal footer', () => {
  const c = loadConfig({});
  assert.equal(c.brand.name, 'Casella');
  assert.equal(c.brand.logo, null);
  assert.equal(c.brand.legal, null);
});

test('brand and seller sit beside the catalogue in CASELLA_CONFIG', () => {
  const c = withConfig(
    {
      graceDays: 60,
      brand: { name: 'PEC Nord', logoFile: 'logo.png', supportEmail: 'aiuto@pecnord.example' },
      seller: {
        companyName: 'PEC Nord S.r.l.',
        vatNumber: '01234567897',
        taxCode: 'RSSMRA80A01H501U',
        taxRegime: 'RF01',
        address: { street: 'Via Roma', streetNumber: '1', postalCode: '10121', city: 'Torino', province: 'TO', country: 'IT' },
      },
    },
    { 'logo.png': Buffer.from([0x89, 0x50, 0x4e, 0x47]) },
  );
  assert.equal(c.catalogue.graceDays, 60);
  assert.equal(c.brand.name, 'PEC Nord');
  assert.equal(c.brand.logo?.path, '/assets/logo.png');
  assert.equal(c.brand.logo?.contentType, 'image/png');
  assert.deepEqual(c.brand.legal, { companyName: 'PEC Nord S.r.l.', ids: 'P. IVA 01234567897 · C.F. RSSMRA80A01H501U', office: 'Via Roma 1, 10121 Torino (TO)' });
});

test('the registered office from an address object, as invoices write it', () => {
  assert.deepEqual(legalFooterOf({ companyName: 'X S.p.A.', vatNumber: '01234567897', taxCode: '01234567897', address: { street: 'Via Larga', streetNumber: '3', postalCode: '20122', city: 'Milano', province: 'MI', country: 'IT' } }), {
    companyName: 'X S.p.A.',
    ids: 'P. IVA 01234567897',
    office: 'Via Larga 3, 20122 Milano (MI)',
  });
  assert.equal(legalFooterOf('not an object'), null);
});

test('a wrong brand stops the start with a message naming it', () => {
  assert.throws(() => withConfig({ brand: { name: 'X', colour: 'red' } }), (e) => e instanceof ConfigError && /brand\.colour/.test(e.message));
  assert.throws(() => withConfig({ brand: { logoFile: 'logo.gif' } }), (e) => e instanceof ConfigError && /\.svg, \.png/.test(e.message));
  assert.throws(() => withConfig({ brand: { logoFile: 'missing.svg' } }), (e) => e instanceof ConfigError && /missing\.svg/.test(e.message));
  assert.throws(() => withConfig({ brand: { supportEmail: 'nope' } }), (e) => e instanceof ConfigError && /supportEmail/.test(e.message));
});
