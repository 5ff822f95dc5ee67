// R15 configuration: the seller is complete or the start stops naming what is missing; production
// needs a seller and a real SdI channel; development runs with a demo seller and the simulator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { DEMO_SELLER } from '../../src/domain/invoice.ts';

const SELLER = {
  companyName: 'PEC Provider S.p.A.',
  vatNumber: '00488410010',
  taxCode: '00488410010',
  taxRegime: 'RF01',
  address: { street: 'Via Roma', streetNumber: '1', postalCode: '00184', city: 'Roma', province: 'RM', country: 'IT' },
};
const PRODUCTION = { NODE_ENV: 'production', PAYMENT_GATEWAY: 'stripe', STRIPE_SECRET_KEY: 'sk', STRIPE_WEBHOOK_SECRET: 'wh' };

function withConfig(content: unknown, fn: (path: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'casella-config-'));
  try {
    const path = join(dir, 'casella.json');
    writeFileSync(path, JSON.stringify(content));
    fn(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('without a seller, development uses the demo seller and the simulator', () => {
  const c = loadConfig({});
  assert.equal(c.sellerIsDemo, true);
  assert.deepEqual(c.seller, DEMO_SELLER);
  assert.equal(c.sdiChannel, 'simulator');
});

test('a configured seller is used, with the catalogue keys beside it', () => {
  withConfig({ seller: SELLER, vatRatePercent: 10 }, (path) => {
    const c = loadConfig({ CASELLA_CONFIG: path });
    assert.equal(c.sellerIsDemo, false);
    assert.equal(c.seller.companyName, 'PEC Provider S.p.A.');
    assert.equal(c.catalogue.vatRateBasisPoints, 1000);
  });
});

test('an incomplete seller stops the start, naming each missing or wrong key', () => {
  withConfig({ seller: { ...SELLER, vatNumber: '00488410011', taxRegime: undefined, address: { ...SELLER.address, postalCode: '' } } }, (path) => {
    assert.throws(() => loadConfig({ CASELLA_CONFIG: path }), (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /seller\.vatNumber the check digit is wrong/);
      assert.match(err.message, /seller\.taxRegime is missing/);
      assert.match(err.message, /seller\.address\.postalCode is missing/);
      return true;
    });
  });
});

test('production needs a seller, and a directory channel with its folder', () => {
  assert.throws(() => loadConfig(PRODUCTION), /must give `seller` in production/);
  withConfig({ seller: SELLER }, (path) => {
    assert.throws(() => loadConfig({ ...PRODUCTION, CASELLA_CONFIG: path }), /SDI_CHANNEL must be set in production/);
    assert.throws(() => loadConfig({ ...PRODUCTION, CASELLA_CONFIG: path, SDI_CHANNEL: 'simulator' }), /simulator is refused in production/);
    assert.throws(() => loadConfig({ ...PRODUCTION, CASELLA_CONFIG: path, SDI_CHANNEL: 'directory' }), /needs SDI_OUTBOX_DIR/);
    const c = loadConfig({ ...PRODUCTION, CASELLA_CONFIG: path, SDI_CHANNEL: 'directory', SDI_OUTBOX_DIR: '/var/spool/casella/sdi' });
    assert.equal(c.sdiChannel, 'directory');
    assert.equal(c.sdiOutboxDir, '/var/spool/casella/sdi');
  });
  assert.throws(() => loadConfig({ SDI_CHANNEL: 'pec' }), /must be "simulator" or "directory"/);
  assert.throws(() => loadConfig({ SDI_SIMULATOR_DELAY_MS: '-1' }), /SDI_SIMULATOR_DELAY_MS/);
});

test('a VAT rate of 0 % is refused: such an invoice would need an exemption nature', () => {
  withConfig({ vatRatePercent: 0 }, (path) => assert.throws(() => loadConfig({ CASELLA_CONFIG: path }), /above 0/));
});
