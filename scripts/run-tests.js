#!/usr/bin/env node
// `npm test`: every test/**/*.test.ts through Node's own test runner, TypeScript loaded by tsx.
// Node 20's runner takes no globs, so the files are listed here.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? find(path) : name.endsWith('.test.ts') ? [path] : [];
  });
}

/**
 * `--liftoff-only`: the test processes run PGlite's WebAssembly with V8's baseline compiler only. A
 * test process lives seconds to minutes; recompiling PGlite's hot functions with the optimizing
 * compiler costs more CPU than it saves there (measured: 13% less CPU for test/e2e/api.test.ts, 10%
 * for the money model, a quarter for a short file). The flag goes to every test process (node --test
 * passes its own flags on), not to the `casella` processes the tests start. Left out where this
 * Node's V8 does not have it.
 */
function wasmFlags() {
  const probe = spawnSync(process.execPath, ['--liftoff-only', '-e', '0']);
  return probe.status === 0 ? ['--liftoff-only'] : [];
}

/** What test/support/templates.ts counted: databases of each kind this run made from a template. */
function copiesMade(log) {
  const lines = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
  rmSync(log, { force: true });
  const by = (kind) => lines.filter((l) => l === kind).length;
  return `${by('pglite-dump')} PGlite in memory, ${by('pglite-dir')} PGlite data directories, ${by('postgres')} PostgreSQL`;
}

const only = process.argv.slice(2);
const files = only.length ? only : find('test').sort();
const concurrency = process.env.TEST_CONCURRENCY ?? '2';

// Every test database is a copy of one migrated once (test/support/templates.ts): made here, before
// the test processes start, so they only copy; the embedded ones in a folder of this run's, or in
// CASELLA_TEST_TEMPLATES when set (kept between runs: a template is named by its migrations).
const kept = process.env.CASELLA_TEST_TEMPLATES;
const templates = kept || mkdtempSync(join(tmpdir(), 'casella-templates-'));
const env = { ...process.env, CASELLA_TEST_TEMPLATES: templates };
try {
  const built = spawnSync(
    process.execPath,
    ['--import', 'tsx', '-e', `import('./test/support/templates.ts').then((t) => t.buildTemplates())`],
    { stdio: 'inherit', env },
  );
  if (built.status !== 0) {
    console.error('run-tests: the migrated templates could not be made (above); no test was run');
    process.exitCode = 1;
  } else {
    // The usual report on stdout (spec on a terminal, TAP otherwise), and each file's time in
    // test-output/test-file-times.txt (scripts/file-times-reporter.js).
    mkdirSync('test-output', { recursive: true });
    const reporters = [
      `--test-reporter=${process.stdout.isTTY ? 'spec' : 'tap'}`, '--test-reporter-destination=stdout',
      '--test-reporter=./scripts/file-times-reporter.js', '--test-reporter-destination=test-output/test-file-times.txt',
    ];
    // A file's whole run may take 10 minutes: the browser files' every-page checks took over 5 on a
    // two-core box shared with other work, and a file cut off by the timeout says nothing of what failed.
    const run = spawnSync(
      process.execPath,
      [...wasmFlags(), '--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=600000', ...reporters, ...files],
      { stdio: 'inherit', env },
    );
    process.exitCode = run.status ?? 1;
    console.log(`# databases made from the migrated templates: ${copiesMade(join(templates, 'copies.log'))}`);
  }
} finally {
  if (!kept) rmSync(templates, { recursive: true, force: true });
}
