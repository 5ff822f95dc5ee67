// The `casella` command (API.md "CLI"). Each command translates arguments to one service call.
import { parseArgs } from 'node:util';
import { loadConfig, ConfigError, type AppConfig } from '../config.ts';
import { CatalogueError } from '../domain/catalogue.ts';
import { openApp, type App } from '../app.ts';
import { verifyLedger } from '../ledger/verify.ts';
import { createOperator, ensureOperatorToken } from '../services/operators.ts';
import { seedDemo, type DemoLogin } from '../services/demo.ts';
import { buildServer } from '../http/server.ts';

const USAGE = `casella — PEC customer area and billing engine

  casella serve                      HTTP server (and scheduler); what npm start runs
  casella migrate                    apply database migrations
  casella seed --demo                create the demo holder and print its login
  casella ledger verify              check every wallet against the ledger
  casella operator create --name N   create an operator and print its token
  casella bench renewals --mailboxes N [--json]
  casella bench purchase --seconds S --concurrency C [--json]
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
  async serve(app) {
    if (app.config.operatorToken) await ensureOperatorToken(app.db, app.config.operatorToken);
    if (!app.config.production) {
      const login = await seedDemo(app.ctx);
      if (login) printDemoLogin(login, app.config.publicUrl);
    }
    const server = await buildServer(app, { logger: true });
    await server.listen({ port: app.config.port, host: app.config.host });
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await server.close();
    return 0;
  },
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === 'help' || name === '--help') {
    console.log(USAGE);
    return name ? 0 : 2;
  }
  // The purchase benchmark talks HTTP to a running server and must not open its embedded database.
  if (name === 'bench') return (await import('./bench.ts')).runBench(args);
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
  const app = await openApp(config);
  try {
    return await command(app, args);
  } finally {
    await app.db.close();
  }
}
