// `casella bench model` as a user runs it: a couple of runs with a given seed, on the embedded engine
// (the suite's own run of the same runner, on both engines, is test/integration/money-model.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

test('bench model smoke: prints its seed and passes its runs; bad arguments get the usage', async () => {
  const { stdout } = await run(process.execPath, ['bin/casella.js', 'bench', 'model', '--runs', '2', '--seed', '77', '--max-commands', '8']);
  assert.match(stdout, /money model: 2 runs of up to 8 actions on pglite, seed 77/);
  assert.match(stdout, /all 2 runs passed in [\d.]+ s \(seed 77\)/);
  for (const bad of [['--runs', 'x'], ['--runs', '1', '--engine', 'mysql'], ['--runs', '1', '--bogus']]) {
    await assert.rejects(
      () => run(process.execPath, ['bin/casella.js', 'bench', 'model', ...bad]),
      (e: { code: number; stderr: string }) => e.code === 2 && /usage: casella bench model --runs N/.test(e.stderr),
    );
  }
});
