// Issue 12 item 1: the money rules as a model-based test (test/support/money-model-run.ts), on each
// engine, with a fixed seed. `npx casella bench model --runs N` runs the same thing with random seeds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachEngine } from '../support/engines.ts';
import { runMoneyModel } from '../support/money-model-run.ts';

forEachEngine('money model', (use) => {
  test('random holder and operator actions keep balances, ledger, extra space coverage and state as the model says', async () => {
    const report = await runMoneyModel(use().ctx, { numRuns: 40, seed: 1212 });
    assert.ok(report.ok, report.failure ?? undefined);
  });
});
