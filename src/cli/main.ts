// The `casella` command (API.md "CLI"). Each command translates arguments to one service call.
import { savedCardGatewayFor } from '../payments/registry.ts';
import { parseArgs } from 'node:util';
import { loadConfig, ConfigError, type AppConfig } from '../config.ts';
import { CatalogueError } from '../domain/catalogue.ts';
import { openApp, type App } from '../app.ts';
import { TypeSpaceMismatchError } from '../mail-platform/type-space.ts';
import { DataDirInUseError } from '../db/database.ts';
import { verifyLedger } from '../ledger/verify.ts';
import { createOperator, ensureOperatorToken } from '../services/operators.ts';
import { seedDemo, type DemoLogin } from '../services/demo.ts';
import { buildServer } from '../http/server.ts';
import { startScheduler } from '../scheduler.ts';
import { forecastRenewals, runDailyJob } from '../services/daily.ts';
import { parseDate } from '../domain/calendar.ts';
import { money } from '../i18n/format.ts';
import { clock } from '../clock.ts';
import { progress } from './progress.ts';
import { dovecotConfigCommand, EMBEDDED_REFUSAL } from '../mail-platform/dovecot-cli.ts';

const USAGE = `casella — PEC customer area and billing engine

  casella serve                      HTTP server (and scheduler); what npm start runs
  casella migrate                    apply database migrations
  casella seed --demo                create the demo holder and print its login
  casella daily                      run the daily job once (renewals, expiry, alerts, usage)
  casella forecast --on YYYY-MM-DD   what that day's renewals would do with today's balances
  casella ledger verify              check every wallet against the ledger
  casella operator create --name N   create an operator and print its token
  casella dovecot-config --out DIR [--standalone --imap-port N --lmtp-port N --submission-port N]
                                     Dovecot configuration reading this database (docs/MAIL-PLATFORM.md)
  casella bench renewals --mailboxes N [--workers W] [--profile] [--json]
  casella bench purchase --seconds S --concurrency C [--url URL] [--token T] [--pgbench-url URL] [--mailboxes-per-holder M] [--json]
  casella bench imap-logins --port N --mailboxes N [--seconds S] [--concurrency C] [--json]
  casella bench logins --seconds S --concurrency C --holders N [--url URL] [--token T] [--json]
  casella bench model --runs N [--seed S] [--path P --replay-path R] [--max-commands C] [--engine pglite|postgres]
`;

type Command = (app: App, args: string[]) => Promise<number>;

export function printDemoLogin(login: DemoLogin, publicUrl: string): void {
  console.log(`\nDemo holder created. Log in at ${publicUrl}/login with:`);
  for (const a of login.addresses) console.log(`  Indirizzo PEC: ${a}`);
  console.log(`  Password:      ${login.password}\n`);
}

const commands: Record<string, Command> = {
  async migrate() {
    console.log('database migrated');
    return 0;
  },
  async seed(app, args) {
    const { values } = parseArgs({ args, options: { demo: { type: 'boolean' } } });
    if (!values.demo) {
      console.error('usage: casella seed --demo');
      return 2;
    }
    if (app.config.production) {
      console.error('demo data is refused in production');
      return 2;
    }
    const login = await seedDemo(app.ctx);
    if (login) printDemoLogin(login, app.config.publicUrl);
    else console.log(`The demo holder already exists; its password is the demo password printed when it was created.`);
    return 0;
  },
  async daily(app) {
    const bar = progress('daily job');
    const summary = await runDailyJob(app.ctx, { savedCards: savedCardGatewayFor(app.config, app.db), onProgress: (step, done) => bar.update(`${step} ${done}`) });
    bar.done('done');
    console.log(JSON.stringify({ day: clock.today().toString(), summary }, null, 2));
    return 0;
  },
  async forecast(app, args) {
    const { values } = parseArgs({ args, options: { on: { type: 'string' }, json: { type: 'boolean' } } });
    const on = values.on ? parseDate(values.on) : null;
    if (!on) {
      console.error('usage: casella forecast --on YYYY-MM-DD [--json]');
      return 2;
    }
    const f = await forecastRenewals(app.ctx, on);
    if (values.json) {
      console.log(JSON.stringify(f));
      return 0;
    }
    console.log(`Rinnovi fino al ${f.onDate} con i saldi di oggi (${clock.today()}): nulla viene modificato.`);
    console.log(`  caselle in scadenza:        ${f.mailboxes}`);
    console.log(`  rinnovate:                  ${f.renewed}`);
    console.log(`  scadute (non rinnovate):    ${f.expired}`);
    console.log(`  spazio extra rinnovato:     ${f.addonsRenewed}`);
    console.log(`  spazio extra disattivato:   ${f.deactivated}`);
    console.log(`  addebiti:                   ${money(f.chargedCents, 'it')}`);
    console.log(`  credito mancante:           ${money(f.missingCents, 'it')}`);
    for (const i of f.items.filter((x) => x.missingCents > 0)) {
      console.log(`  ${i.address} (${i.expiresOn}): casella ${i.mailbox ?? 'non in scadenza'}, spazio extra ${i.addon}, mancano ${money(i.missingCents, 'it')}`);
    }
    if (f.itemsTruncated) console.log('  (elenco troncato)');
    return 0;
  },
  async ledger(app, args) {
    if (args[0] !== 'verify') {
      console.error('usage: casella ledger verify');
      return 2;
    }
    const report = await verifyLedger(app.db);
    console.log(JSON.stringify(report, null, 2));
    return report.ok ? 0 : 1;
  },
  async operator(app, args) {
    const { values, positionals } = parseArgs({ args, options: { name: { type: 'string' } }, allowPositionals: true });
    if (positionals[0] !== 'create' || !values.name?.trim()) {
      console.error('usage: casella operator create --name NAME');
      return 2;
    }
    const { id, token } = await createOperator(app.db, values.name.trim());
    console.log(`operator ${id} (${values.name.trim()})\ntoken: ${token}`);
    return 0;
  },
  'dovecot-config': dovecotConfigCommand,
  async serve(app) {
    if (app.config.operatorToken) await ensureOperatorToken(app.db, app.config.operatorToken);
    if (!app.config.production) {
      const login = await seedDemo(app.ctx);
      if (login) printDemoLogin(login, app.config.publicUrl);
    }
    const server = await buildServer(app, { logger: true });
    await server.listen({ port: app.config.port, host: app.config.host });
    if (!app.config.smtpUrl) server.log.info(`SMTP_URL is not set: e-mails stay in the outbox, readable at ${app.config.publicUrl}/dev/mail`);
    if (app.config.sellerIsDemo) {
      server.log.warn('CASELLA_CONFIG has no `seller`: invoices are issued by a demo seller (required in production; see README "Invoices")');
    }
    server.log.info(`invoices go to SdI through the ${app.config.sdiChannel} channel${app.config.sdiOutboxDir ? ` (${app.config.sdiOutboxDir})` : ''}`);
    const scheduler = startScheduler(app, server.log);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await server.close();
    await scheduler.stop();
    return 0;
  },
};

/** While the server holds it, what each command can do instead: the operator API does the same work. */
const WHILE_SERVING: Record<string, string> = {
  daily: 'stop it first, or run the job through the operator API: POST /api/admin/jobs/daily',
  forecast: 'stop it first, or use the operator API: GET /api/admin/forecast?on=YYYY-MM-DD',
  ledger: 'stop it first, or use the operator API: GET /api/admin/ledger/verify',
  operator: 'stop it first, or restart it with CASELLA_OPERATOR_TOKEN set (it creates that operator at start)',
  seed: 'stop it first (serve itself creates the demo holder outside production)',
  migrate: 'stop it first (serve migrates the database when it starts)',
  serve: 'only one server can use an embedded database (or set DATABASE_URL to use PostgreSQL)',
};

/** One line, no stack trace: the usual cause is `npm start` running in another terminal. */
export function dataDirInUseLine(command: string, err: DataDirInUseError): string {
  const by = err.ownerPid ? `process ${err.ownerPid} (casella serve, as npm start runs it, or another casella command)` : 'another casella process';
  const instead = WHILE_SERVING[command] ?? 'stop it first, or set DATABASE_URL to use PostgreSQL';
  return `casella ${command}: the embedded database in ${err.dataDir} is in use by ${by}; ${instead}`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === 'help' || name === '--help') {
    console.log(USAGE);
    return name ? 0 : 2;
  }
  // The purchase benchmark talks HTTP to a running server and must not open its embedded database.
  if (name === 'bench') return (await import('./bench.ts')).runBench(args);
  // Run by Dovecot at each login of a mailbox with an old hash: only a database connection, no app.
  if (name === 'dovecot-checkpassword') return (await import('../mail-platform/checkpassword.ts')).checkpasswordMain(args, process.env);
  const command = commands[name];
  if (!command) {
    console.error(`unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError || err instanceof CatalogueError) {
      console.error(`configuration error: ${err.message}`);
      return 2;
    }
    throw err;
  }
  if (name === 'dovecot-config' && !config.databaseUrl) {
    console.error(EMBEDDED_REFUSAL);
    return 2;
  }
  let app: App;
  try {
    // R14: only the server and migrate write the base inboxes the mail server enforces.
    app = await openApp(config, { typeSpace: name === 'serve' || name === 'migrate' ? 'write' : 'check' });
  } catch (err) {
    if (err instanceof TypeSpaceMismatchError) {
      console.error(`casella ${name}: ${err.message}`);
      return 2;
    }
    if (!(err instanceof DataDirInUseError)) throw err;
    console.error(dataDirInUseLine(name, err));
    return 1;
  }
  try {
    return await command(app, args);
  } finally {
    await app.db.close();
  }
}
