import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/db/database.ts';
import { migrate } from '../../src/db/migrate.ts';
import { DEFAULT_CATALOGUE } from '../../src/domain/catalogue.ts';
import { holderWithMailbox } from '../support/fixtures.ts';
import { readBalance } from '../../src/services/rows.ts';

test('embedded engine: data survives a restart, and a second process cannot open the same folder', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'casella-embedded-'));
  try {
    const first = await openDatabase({ dataDir: dir });
    await migrate(first);
    const ctx = { db: first, catalogue: DEFAULT_CATALOGUE, publicUrl: 'http://casella.test' };
    const { customer } = await holderWithMailbox(ctx, { creditCents: 1234 });
    // The lock names the owner; this same process holding it is what a second `casella` would meet.
    await assert.rejects(
      () => import('node:child_process').then(({ execFileSync }) =>
        execFileSync(process.execPath, ['--import', 'tsx', '-e',
          `const { openDatabase } = await import(${JSON.stringify(new URL('../../src/db/database.ts', import.meta.url).href)}); await openDatabase({ dataDir: ${JSON.stringify(dir)} });`,
        ], { stdio: 'pipe' })),
      (err: { stderr?: Buffer }) => /in use by process/.test(String(err.stderr)),
    );
    await first.close();

    const again = await openDatabase({ dataDir: dir });
    assert.deepEqual(await migrate(again), []);
    assert.equal(await readBalance(again, customer.id), 1234);
    await again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

