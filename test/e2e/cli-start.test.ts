// Issue 19, item 15: the CLI as a new user meets it. Every command answers --help without opening
// anything; a wrong argument is reported as such before the database is opened, even while a
// running server holds the embedded one; `seed --demo` prints the demo login again when the demo
// holder exists; `forecast` speaks English like the rest of the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../src/cli/main.ts';
import { storedDatabase } from '../support/http.ts';
import { serveProcess } from '../support/serve-process.ts';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `casella ARGS` in this process, with CASELLA_DATA_DIR from `env`: what it printed and returned.
 * (In-process: twenty child processes would cost minutes on a busy machine, and the lock a running
 * server holds on the data directory is the same for a call here as for another process.)
 */
async function casella(args: string[], env: Record<string, string>): Promise<Run> {
  const saved = { log: console.log, error: console.error, env: { ...process.env } };
  let stdout = '';
  let stderr = '';
  console.log = (...parts: unknown[]) => void (stdout += `${parts.join(' ')}\n`);
  console.error = (...parts: unknown[]) => void (stderr += `${parts.join(' ')}\n`);
  Object.assign(process.env, { ...env, NODE_ENV: '', SMTP_URL: '', CASELLA_OPERATOR_TOKEN: '', DATABASE_URL: '' });
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    console.log = saved.log;
    console.error = saved.error;
    for (const key of Object.keys(process.env)) if (!(key in saved.env)) delete process.env[key];
    Object.assign(process.env, saved.env);
  }
}

const COMMANDS = ['serve', 'migrate', 'seed', 'daily', 'forecast', 'ledger', 'operator', 'dovecot-config', 'bench', 'dovecot-checkpassword'];

test('item 15: while casella serve holds the embedded database, --help on every command and argument errors are still answered, before the database', async () => {
  const stored = await storedDatabase('pglite');
  const served = await serveProcess(stored.env, `cop_${'b'.repeat(40)}`);
  try {
    const top = await casella(['--help'], stored.env);
    assert.equal(top.code, 0, top.stderr);
    for (const name of COMMANDS) assert.match(top.stdout, new RegExp(`casella ${name}\\b`), `casella --help names ${name}`);

    for (const name of COMMANDS) {
      const run = await casella([name, '--help'], stored.env);
      assert.equal(run.code, 0, `casella ${name} --help: ${run.code} ${run.stderr}`);
      assert.match(run.stdout, new RegExp(`casella ${name}`), `casella ${name} --help: ${run.stdout}`);
      assert.ok(run.stdout.trim().split('\n').length >= 2, `casella ${name} --help says what it does: ${run.stdout}`);
      assert.equal(run.stderr, '', `casella ${name} --help`);
    }

    const wrong: [string[], RegExp][] = [
      [['forecast', '--on', '2027-13-45'], /--on must be a date YYYY-MM-DD between 2000-01-01 and 2999-12-31, not "2027-13-45"/],
      [['forecast', '--on', '0000-01-01'], /--on must be a date YYYY-MM-DD between 2000-01-01 and 2999-12-31/],
      [['forecast'], /--on YYYY-MM-DD is required/],
      [['daily', '--tomorrow'], /Unknown option '--tomorrow'/],
      [['operator', 'create'], /--name NAME is required/],
      [['operator', 'delete', '--name', 'x'], /only operator command is "create"/],
      [['seed'], /--demo is required/],
      [['ledger', 'check'], /only ledger command is "verify"/],
      [['migrate', 'now'], /Unexpected argument 'now'|positional/],
    ];
    for (const [args, message] of wrong) {
      const run = await casella(args, stored.env);
      const what = `casella ${args.join(' ')}: ${run.code} ${run.stderr}`;
      assert.equal(run.code, 2, what);
      assert.match(run.stderr, message, what);
      assert.match(run.stderr, new RegExp(`usage: casella ${args[0]}`), what);
      assert.doesNotMatch(run.stderr, /in use by|\n\s+at /, what);
    }
  } finally {
    served.child.kill('SIGTERM');
    await served.exited;
    await stored.drop();
  }
});

test('item 15: seed --demo prints the demo login, and prints it again when the demo holder exists; forecast prints in English', async () => {
  const stored = await storedDatabase('pglite');
  try {
    const first = await casella(['seed', '--demo'], stored.env);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /studio\.rossi@pec\.casella\.test/);
    assert.match(first.stdout, /Password:\s+demo-casella-2026/);

    const again = await casella(['seed', '--demo'], stored.env);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /exists already/);
    assert.match(again.stdout, /Indirizzo PEC: studio\.rossi@pec\.casella\.test/);
    assert.match(again.stdout, /Indirizzo PEC: mario\.rossi@pec\.casella\.test/);
    assert.match(again.stdout, /Password:\s+demo-casella-2026/);

    // The demo's second mailbox expires within three months, and 10 € does not cover the pro one.
    const forecast = await casella(['forecast', '--on', '2999-12-31'], stored.env);
    assert.equal(forecast.code, 0, forecast.stderr);
    assert.match(forecast.stdout, /^Renewals up to 2999-12-31 with today's balances/);
    for (const label of ['mailboxes due:', 'renewed:', 'charged:', 'credit missing:', 'missing']) assert.ok(forecast.stdout.includes(label), `${label} in ${forecast.stdout}`);
    assert.doesNotMatch(forecast.stdout, /Rinnovi|caselle|rinnovate|scadute|addebiti|credito mancante|mancano|casella /);
  } finally {
    await stored.drop();
  }
});
