// The `casella` command (API.md "CLI"). Each command translates arguments to one service call.
import { savedCardGatewayFor } from '../payments/registry.ts';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig, ConfigError, type AppConfig } from '../config.ts';
import { CatalogueError } from '../domain/catalogue.ts';
import { openApp, type App } from '../app.ts';
import { TypeSpaceMismatchError } from '../mail-platform/type-space.ts';
import { DataDirInUseError } from '../db/database.ts';
import { verifyLedger } from '../ledger/verify.ts';
import { createOperator, ensureOperatorToken } from '../services/staff/operators.ts';
import { createStaff } from '../services/staff/accounts.ts';
import { isStaffRole, type StaffRole } from '../domain/staff-role.ts';
import { SYSTEM } from '../services/audit.ts';
import { DomainError } from '../services/errors.ts';
import { seedDemo, type DemoLogin } from '../services/demo.ts';
import { buildServer } from '../http/server.ts';
import { startScheduler } from '../scheduler.ts';
import { forecastRenewals, runDailyJob } from '../services/daily.ts';
import { INPUT_DATE_RULE, INPUT_YEAR_MAX, INPUT_YEAR_MIN, parseInputDate, type CalendarDate } from '../domain/calendar.ts';
import { money } from '../i18n/format.ts';
import { clock } from '../clock.ts';
import { progress } from './progress.ts';
import { DOVECOT_CONFIG_USAGE, dovecotConfigCommand, EMBEDDED_REFUSAL, parseDovecotConfigArgs, type DovecotConfigArgs } from '../mail-platform/dovecot-cli.ts';
import { stopGracefully } from '../http/shutdown.ts';
import { databaseErrorLine, listenErrorLine } from './startup-errors.ts';

const USAGE = `casella — PEC customer area and billing engine

  casella serve                      HTTP server (and scheduler); what npm start runs
  casella migrate                    apply database migrations
  casella seed --demo                create the demo holder (if needed) and print its login
  casella daily                      run the daily job once (renewals, expiry, alerts, usage)
  casella forecast --on YYYY-MM-DD   what that day's renewals would do with today's balances
  casella ledger verify              check every wallet against the ledger
  casella operator create --name N [--role support|billing|admin]
                                     create a machine's token (default role admin) and print it
  casella staff create --email E --name N --role support|billing|admin
                                     create a staff account; prints its one-time setup link (24 h)
  casella dovecot-config --out DIR [--standalone --imap-port N --lmtp-port N --submission-port N]
                                     Dovecot configuration reading this database (docs/MAIL-PLATFORM.md)
  casella dovecot-checkpassword      run by Dovecot for passwords hashed before Argon2id (not for people)
  casella bench renewals --mailboxes N [--workers W] [--profile] [--cpu] [--json]
  casella bench purchase --seconds S --concurrency C [--url URL]... [--token T] [--pgbench-url URL] [--mailboxes-per-holder M] [--scrape-every-ms N]
                         [--cpu-pid PID]... [--cpu-database NAME] [--json]
  casella bench imap-logins --port N --mailboxes N [--seconds S] [--concurrency C] [--json]
  casella bench logins --seconds S --concurrency C --holders N [--url URL] [--token T] [--json]
  casella bench search --holders N [--rounds R] [--reuse] [--json]
  casella bench model --runs N [--seed S] [--path P --replay-path R] [--max-commands C] [--engine pglite|postgres]
  casella bench topups --seconds S --concurrency C [--json]
  casella bench register --invoices N [--json]

  casella COMMAND --help             what a command does and takes
`;

type Command = (app: App, args: string[]) => Promise<number>;

type Parsed<A> = { ok: true; value: A } | { ok: false; error: string };

/**
 * What each command takes: its help, and a parser that checks every argument before anything is
 * opened (issue 19: a wrong argument is reported as such even while a server holds the embedded
 * database). The command itself gets the arguments already checked.
 */
interface Arguments<A> {
  usage: string;
  help: string;
  parse: (args: string[]) => Parsed<A>;
}

/** node:util parseArgs, strict, with its refusals (unknown option, missing value) as a usage error. */
function parseStrict<O extends ParseArgsConfig['options']>(args: string[], options: O, allowPositionals = false) {
  try {
    return { ok: true as const, value: parseArgs({ args, options, allowPositionals, strict: true }) };
  } catch (err) {
    if (err instanceof TypeError) return { ok: false as const, error: err.message };
    throw err;
  }
}

const noArguments = (args: string[]): Parsed<null> => {
  const parsed = parseStrict(args, {});
  return parsed.ok ? { ok: true, value: null } : parsed;
};

const FORECAST_ARGUMENTS: Arguments<{ on: CalendarDate; json: boolean }> = {
  usage: 'casella forecast --on YYYY-MM-DD [--json]',
  help: `What the renewals due up to that day would do with today's balances; nothing is changed. The day is YYYY-MM-DD, from ${INPUT_YEAR_MIN}-01-01 to ${INPUT_YEAR_MAX}-12-31.`,
  parse: (args) => {
    const parsed = parseStrict(args, { on: { type: 'string' }, json: { type: 'boolean' } });
    if (!parsed.ok) return parsed;
    const { on, json } = parsed.value.values;
    if (on === undefined) return { ok: false, error: '--on YYYY-MM-DD is required' };
    const day = parseInputDate(on);
    if (!day) return { ok: false, error: `--on ${INPUT_DATE_RULE}, not "${on}"` };
    return { ok: true, value: { on: day, json: json ?? false } };
  },
};

const OPERATOR_ARGUMENTS: Arguments<{ name: string; role: StaffRole }> = {
  usage: 'casella operator create --name NAME [--role support|billing|admin]',
  help: 'Creates a machine\'s bearer token for the operator API with a role (R19; default admin) and prints it (shown once).',
  parse: (args) => {
    const parsed = parseStrict(args, { name: { type: 'string' }, role: { type: 'string' } }, true);
    if (!parsed.ok) return parsed;
    const [what, ...rest] = parsed.value.positionals;
    if (what !== 'create' || rest.length) return { ok: false, error: 'the only operator command is "create"' };
    const name = parsed.value.values.name?.trim();
    const role = parsed.value.values.role ?? 'admin';
    if (!isStaffRole(role)) return { ok: false, error: '--role must be support, billing or admin' };
    return name ? { ok: true, value: { name, role } } : { ok: false, error: '--name NAME is required' };
  },
};

const STAFF_ARGUMENTS: Arguments<{ email: string; name: string; role: StaffRole }> = {
  usage: 'casella staff create --email E --name N --role support|billing|admin',
  help: 'Creates a staff account of the console (R19) and prints its one-time link (valid 24 hours) where the person sets a password and enrols TOTP.',
  parse: (args) => {
    const parsed = parseStrict(args, { email: { type: 'string' }, name: { type: 'string' }, role: { type: 'string' } }, true);
    if (!parsed.ok) return parsed;
    const [what, ...rest] = parsed.value.positionals;
    if (what !== 'create' || rest.length) return { ok: false, error: 'the only staff command is "create"' };
    const { email, name, role } = parsed.value.values;
    if (!email?.trim()) return { ok: false, error: '--email E is required' };
    if (!name?.trim()) return { ok: false, error: '--name N is required' };
    if (!role || !isStaffRole(role)) return { ok: false, error: '--role must be support, billing or admin' };
    return { ok: true, value: { email: email.trim(), name: name.trim(), role } };
  },
};

const DOVECOT_CONFIG_ARGUMENTS: Arguments<DovecotConfigArgs> = {
  usage: DOVECOT_CONFIG_USAGE,
  help: 'Writes the Dovecot 2.3 configuration that reads this PostgreSQL database (docs/MAIL-PLATFORM.md); with --standalone, a complete dovecot.conf for a self-contained instance on 127.0.0.1. Needs DATABASE_URL.',
  parse: parseDovecotConfigArgs,
};

const ARGUMENTS: Record<string, Arguments<unknown>> = {
  serve: {
    usage: 'casella serve',
    help: 'Starts the HTTP server and the scheduler (the daily job at start and after each midnight Europe/Rome, e-mail delivery, invoices to SdI): what npm start runs. Outside production it creates the demo holder on first start.',
    parse: noArguments,
  },
  migrate: { usage: 'casella migrate', help: 'Applies the database migrations (serve also does it when it starts).', parse: noArguments },
  seed: {
    usage: 'casella seed --demo',
    help: 'Creates the demo holder (two mailboxes and 10 € of credit) unless it exists, and prints its login either way. Refused in production.',
    parse: (args) => {
      const parsed = parseStrict(args, { demo: { type: 'boolean' } });
      if (!parsed.ok) return parsed;
      return parsed.value.values.demo ? { ok: true, value: null } : { ok: false, error: '--demo is required' };
    },
  },
  daily: {
    usage: 'casella daily',
    help: "Runs today's daily job once: renewals, expiries, alerts, usage warnings, orders left waiting. Running it again the same day changes nothing.",
    parse: noArguments,
  },
  forecast: FORECAST_ARGUMENTS,
  ledger: {
    usage: 'casella ledger verify',
    help: "Checks every wallet's balance against its ledger postings and prints the report; exit 1 when a problem is found.",
    parse: (args) => {
      const parsed = parseStrict(args, {}, true);
      if (!parsed.ok) return parsed;
      const [what, ...rest] = parsed.value.positionals;
      return what === 'verify' && rest.length === 0 ? { ok: true, value: null } : { ok: false, error: 'the only ledger command is "verify"' };
    },
  },
  operator: OPERATOR_ARGUMENTS,
  staff: STAFF_ARGUMENTS,
  'dovecot-config': DOVECOT_CONFIG_ARGUMENTS,
};

/** The arguments main() has checked already, as their parser gives them. */
function checked<A>(spec: Arguments<A>, args: string[]): A {
  const parsed = spec.parse(args);
  if (!parsed.ok) throw new Error(`arguments not checked before the run: ${parsed.error}`);
  return parsed.value;
}

/** Help of the commands that open no application: the benchmarks and Dovecot's checkpassword. */
const BENCH_HELP =
  'Benchmarks (docs/PERFORMANCE.md); each prints its figures, --json as one JSON line:\n' +
  USAGE.split('\n')
    .filter((l) => l.trim().startsWith('casella bench'))
    .join('\n');
const CHECKPASSWORD_HELP =
  'usage: casella dovecot-checkpassword REPLY-PROGRAM\n\nRun by Dovecot (checkpassword protocol) for mailbox passwords hashed before Argon2id; not for people. Needs DATABASE_URL.';

const wantsHelp = (args: string[]): boolean => args.includes('--help') || args.includes('-h');

export function printDemoLogin(login: DemoLogin, publicUrl: string): void {
  console.log(login.created ? `\nDemo holder created. Log in at ${publicUrl}/login with:` : `\nThe demo holder exists already. Log in at ${publicUrl}/login with:`);
  for (const a of login.addresses) console.log(`  Indirizzo PEC: ${a}`);
  console.log(`  Password:      ${login.password}${login.created ? '' : ' (unless it was changed since)'}\n`);
}

const MAILBOX_OUTCOME: Record<string, string> = { renewed: 'renewed', expired: 'expires', none: 'not due' };
const ADDON_OUTCOME: Record<string, string> = { renewed: 'renewed', deactivated: 'deactivated', none: 'none' };

const commands: Record<string, Command> = {
  async migrate() {
    console.log('database migrated');
    return 0;
  },
  async seed(app) {
    if (app.config.production) {
      console.error('demo data is refused in production');
      return 2;
    }
    // Issue 19: the login is printed again when the demo holder exists already.
    printDemoLogin(await seedDemo(app.ctx), app.config.publicUrl);
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
    const { on, json } = checked(FORECAST_ARGUMENTS, args);
    const f = await forecastRenewals(app.ctx, on);
    if (json) {
      console.log(JSON.stringify(f));
      return 0;
    }
    // In English, like every other line the CLI prints (issue 19).
    const eur = (cents: number) => money(cents, 'en');
    console.log(`Renewals up to ${f.onDate} with today's balances (${clock.today()}); nothing is changed.`);
    console.log(`  mailboxes due:             ${f.mailboxes}`);
    console.log(`  renewed:                   ${f.renewed}`);
    console.log(`  expiring (not renewed):    ${f.expired}`);
    console.log(`  extra space renewed:       ${f.addonsRenewed}`);
    console.log(`  extra space deactivated:   ${f.deactivated}`);
    console.log(`  charged:                   ${eur(f.chargedCents)}`);
    console.log(`  credit missing:            ${eur(f.missingCents)}`);
    console.log(`  paid in by saved cards:    ${eur(f.cardChargesCents)}`);
    for (const i of f.items.filter((x) => x.missingCents > 0)) {
      console.log(`  ${i.address} (expires ${i.expiresOn}): mailbox ${MAILBOX_OUTCOME[i.mailbox ?? 'none']}, extra space ${ADDON_OUTCOME[i.addon]}, ${eur(i.missingCents)} missing`);
    }
    if (f.itemsTruncated) console.log('  (list cut short)');
    return 0;
  },
  async ledger(app) {
    const report = await verifyLedger(app.db);
    console.log(JSON.stringify(report, null, 2));
    return report.ok ? 0 : 1;
  },
  async operator(app, args) {
    const { name, role } = checked(OPERATOR_ARGUMENTS, args);
    const { id, token } = await createOperator(app.db, name, role);
    console.log(`operator ${id} (${name}, ${role})\ntoken: ${token}`);
    return 0;
  },
  async staff(app, args) {
    const input = checked(STAFF_ARGUMENTS, args);
    try {
      const { member, setupToken } = await createStaff(app.db, SYSTEM, { ...input, reason: 'casella staff create' });
      console.log(`staff ${member.id} (${member.email}, ${member.role})`);
      console.log(`One-time link, valid 24 hours, to set the password and enrol two-step verification:\n  ${app.config.publicUrl}/admin/setup/${setupToken}`);
      return 0;
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      console.error(`casella staff create: ${Object.entries(err.fields ?? {}).map(([k, v]) => `--${k} ${v}`).join('; ') || err.message}`);
      return 2;
    }
  },
  'dovecot-config': (app, args) => dovecotConfigCommand(app, checked(DOVECOT_CONFIG_ARGUMENTS, args)),
  async serve(app) {
    if (app.config.operatorToken) await ensureOperatorToken(app.db, app.config.operatorToken);
    const server = await buildServer(app, { logger: true });
    try {
      await server.listen({ port: app.config.port, host: app.config.host });
    } catch (err) {
      const line = listenErrorLine(err, app.config.host, app.config.port);
      if (!line) throw err;
      console.error(line);
      return 1;
    }
    // Only now, with the server listening: a login printed before a failed start would point at
    // whatever else holds the port.
    if (!app.config.production) {
      const login = await seedDemo(app.ctx);
      if (login.created) printDemoLogin(login, app.config.publicUrl);
    }
    if (!app.config.smtpUrl) server.log.info(`SMTP_URL is not set: e-mails stay in the outbox, readable at ${app.config.publicUrl}/dev/mail`);
    if (app.config.sellerIsDemo) {
      server.log.warn('CASELLA_CONFIG has no `seller`: invoices are issued by a demo seller (required in production; see README "Invoices")');
    }
    server.log.info(`invoices go to SdI through the ${app.config.sdiChannel} channel${app.config.sdiOutboxDir ? ` (${app.config.sdiOutboxDir})` : ''}`);
    const scheduler = startScheduler(app, server.log);
    // R20: the first SIGTERM or SIGINT stops gracefully (src/http/shutdown.ts); a second one exits at once.
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      const first = (sig: NodeJS.Signals) => {
        process.off('SIGINT', first);
        process.off('SIGTERM', first);
        const again = (sig2: NodeJS.Signals) => {
          console.error(`casella serve: ${sig2} again: exiting now, without waiting for requests in flight`);
          process.exit(1);
        };
        process.once('SIGINT', again);
        process.once('SIGTERM', again);
        resolve(sig);
      };
      process.on('SIGINT', first);
      process.on('SIGTERM', first);
    });
    const line = await stopGracefully({ server, stopBackground: () => scheduler.stop(), closeDatabase: () => app.db.close(), log: server.log }, signal);
    server.log.info(line);
    // Whatever still holds the event loop (a socket the stop cut off) must not keep the process up.
    setTimeout(() => process.exit(0), 1000).unref();
    return 0;
  },
};

/** While the server holds it, what each command can do instead: the operator API does the same work. */
const WHILE_SERVING: Record<string, string> = {
  daily: 'stop it first, or run the job through the operator API: POST /api/admin/jobs/daily',
  forecast: 'stop it first, or use the operator API: GET /api/admin/forecast?on=YYYY-MM-DD',
  ledger: 'stop it first, or use the operator API: GET /api/admin/ledger/verify',
  operator: 'stop it first, or restart it with CASELLA_OPERATOR_TOKEN set (it creates that operator at start)',
  staff: 'stop it first, or create the account from the console (/admin, Staff) or with POST /api/admin/staff',
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
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    const about = name === 'help' && args[0] ? ARGUMENTS[args[0]] : undefined;
    console.log(about ? `usage: ${about.usage}\n\n${about.help}` : USAGE);
    return name ? 0 : 2;
  }
  // The purchase benchmark talks HTTP to a running server and must not open its embedded database.
  if (name === 'bench') {
    if (wantsHelp(args)) {
      console.log(BENCH_HELP);
      return 0;
    }
    return (await import('./bench.ts')).runBench(args);
  }
  // Run by Dovecot at each login of a mailbox with an old hash: only a database connection, no app.
  if (name === 'dovecot-checkpassword') {
    if (wantsHelp(args)) {
      console.log(CHECKPASSWORD_HELP);
      return 0;
    }
    return (await import('../mail-platform/checkpassword.ts')).checkpasswordMain(args, process.env);
  }
  const command = commands[name];
  if (!command) {
    console.error(`unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  const spec = ARGUMENTS[name];
  if (wantsHelp(args)) {
    // A command without its own help text has at least its line of the usage.
    console.log(spec ? `usage: ${spec.usage}\n\n${spec.help}` : USAGE.split('\n').filter((l) => l.trim().startsWith(`casella ${name} `)).join('\n') || USAGE);
    return 0;
  }
  // Issue 19: the arguments are checked before the configuration is read and the database opened,
  // so a wrong one is reported as such even while a server holds the embedded database.
  const parsed = spec?.parse(args);
  if (parsed && !parsed.ok) {
    console.error(`casella ${name}: ${parsed.error}\nusage: ${spec!.usage}`);
    return 2;
  }
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError || err instanceof CatalogueError) {
      // R20: one line, exit 1, as every other reason not to start.
      console.error(`casella ${name}: configuration error: ${err.message}`);
      return 1;
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
    if (err instanceof DataDirInUseError) {
      console.error(dataDirInUseLine(name, err));
      return 1;
    }
    const line = databaseErrorLine(name, err, config.databaseUrl);
    if (!line) throw err;
    console.error(line);
    return 1;
  }
  try {
    return await command(app, args);
  } finally {
    await app.db.close();
  }
}
