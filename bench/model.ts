// `casella bench model --runs N [--seed S] [--path P --replay-path R] [--max-commands C] [--engine pglite|postgres]`:
// the model-based test of the money rules (test/support/money-model-run.ts) for many runs, with a
// random seed unless one is given. Prints the seed first, and on failure the shrunk counterexample
// with the seed and path that replay it. PostgreSQL: a fresh database on TEST_DATABASE_URL, dropped
// after.
import { parseArgs } from 'node:util';
import { openTestEngine } from '../test/support/engines.ts';
import { runMoneyModel, modelRunDefaults } from '../test/support/money-model-run.ts';

const USAGE = 'usage: casella bench model --runs N [--seed S] [--path P --replay-path R] [--max-commands C] [--engine pglite|postgres]';

export async function runModelBench(args: string[]): Promise<number> {
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      options: { runs: { type: 'string' }, seed: { type: 'string' }, path: { type: 'string' }, 'replay-path': { type: 'string' }, 'max-commands': { type: 'string' }, engine: { type: 'string' } },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const runs = Number(values.runs);
  const seed = values.seed === undefined ? (Math.random() * 2 ** 31) | 0 : Number(values.seed);
  const maxCommands = values['max-commands'] === undefined ? modelRunDefaults.maxCommands : Number(values['max-commands']);
  const engine = values.engine ?? 'pglite';
  if (!Number.isSafeInteger(runs) || runs < 1 || !Number.isSafeInteger(seed) || !Number.isSafeInteger(maxCommands) || maxCommands < 1) {
    console.error(USAGE);
    return 2;
  }
  if (engine !== 'pglite' && engine !== 'postgres') {
    console.error(USAGE);
    return 2;
  }
  if (engine === 'postgres' && !process.env.TEST_DATABASE_URL) {
    console.error('--engine postgres needs TEST_DATABASE_URL (a server where a fresh database is created and dropped)');
    return 2;
  }
  console.log(`money model: ${runs} runs of up to ${maxCommands} actions on ${engine}, seed ${seed}${values.path ? `, path ${values.path}` : ''}`);
  const { engine: opened, close } = await openTestEngine(engine);
  const started = performance.now();
  try {
    const report = await runMoneyModel(opened.ctx, { numRuns: runs, seed, path: values.path, replayPath: values['replay-path'], maxCommands });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    if (report.ok) {
      console.log(`all ${report.runs} runs passed in ${seconds} s (seed ${report.seed})`);
      return 0;
    }
    console.log(`FAILED after ${seconds} s (seed ${report.seed})\n${report.failure}`);
    return 1;
  } finally {
    await close();
  }
}
