// A real Dovecot for the mail platform tests (R14): `casella dovecot-config --standalone` writes its
// configuration into a temporary folder, on free loopback ports, over the test's PostgreSQL database;
// Debian's dovecot binary runs it in the foreground. Where it cannot run, the tests say why and skip.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const DOVECOT = '/usr/sbin/dovecot';

function whyNot(): string | null {
  if (!existsSync(DOVECOT)) return 'Dovecot not found at /usr/sbin/dovecot: mail platform tests skipped (.ci/run installs dovecot-core, dovecot-imapd, dovecot-lmtpd, dovecot-submissiond, dovecot-pgsql)';
  if (!process.env.TEST_DATABASE_URL) return 'TEST_DATABASE_URL is not set: Dovecot reads PostgreSQL, so the mail platform tests are skipped';
  if (process.getuid?.() !== 0) return 'not running as root: a standalone Dovecot must start as root, so the mail platform tests are skipped';
  return null;
}
const SKIP = whyNot();
if (SKIP) console.log(SKIP);
/** Options for describe()/test(): skipped, with the reason, where Dovecot cannot run. */
export const dovecotTestOptions = SKIP ? { skip: SKIP } : {};

export async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  s.close();
  await once(s, 'close');
  return port;
}

/** Resolves once something accepts connections on the port, polling; rejects after `ms`. */
async function listening(port: number, child: ChildProcess, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`dovecot exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => (c.destroy(), resolve(true)));
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`dovecot did not listen on ${port} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface RunningDovecot {
  /** The database role this instance connects as (and its login policy key's name). */
  role: string;
  imapPort: number;
  lmtpPort: number;
  submissionPort: number;
  dir: string;
  /** The instance's log, for assertions and for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Writes a standalone configuration with the real CLI against `databaseUrl` and starts Dovecot on it.
 * `relayPort`: where submission relays mail (an SMTP sink of the test's), if any. `env`: the
 * server's own configuration (CASELLA_CONFIG): every Casella command checks its catalogue's base
 * inbox sizes against the server's, so they must agree. `policyUrl`: the test server's login policy
 * endpoint (`${baseUrl}/api/mail-platform/dovecot-policy`), which Dovecot asks before each login.
 */
export async function startDovecot(
  databaseUrl: string,
  opts: { relayPort?: number; authCacheTtl?: number; env?: Record<string, string>; policyUrl?: string } = {},
): Promise<RunningDovecot> {
  const dir = mkdtempSync(join(tmpdir(), 'casella-dovecot-'));
  const [imapPort, lmtpPort, submissionPort] = [await freePort(), await freePort(), await freePort()];
  const role = `casella_dovecot_${randomBytes(5).toString('hex')}`;
  const written = spawnSync(
    process.execPath,
    [
      'bin/casella.js', 'dovecot-config', '--out', dir, '--standalone', '--db-role', role,
      '--imap-port', String(imapPort), '--lmtp-port', String(lmtpPort), '--submission-port', String(submissionPort),
      '--relay-port', String(opts.relayPort ?? (await freePort())), '--auth-cache-ttl', String(opts.authCacheTtl ?? 0),
      ...(opts.policyUrl ? ['--policy-url', opts.policyUrl] : []),
    ],
    { env: { ...process.env, ...opts.env, DATABASE_URL: databaseUrl }, encoding: 'utf8' },
  );
  if (written.status !== 0) throw new Error(`dovecot-config failed: ${written.stdout} ${written.stderr}`);
  const child = spawn(DOVECOT, ['-F', '-c', join(dir, 'dovecot.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c) => (output += String(c)));
  child.stderr!.on('data', (c) => (output += String(c)));
  const log = () => output + (existsSync(join(dir, 'dovecot.log')) ? readFileSync(join(dir, 'dovecot.log'), 'utf8') : '');
  try {
    for (const p of [imapPort, lmtpPort, submissionPort]) await listening(p, child, 10_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${log()}`);
  }
  return {
    role,
    imapPort,
    lmtpPort,
    submissionPort,
    dir,
    log,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
      rmSync(dir, { recursive: true, force: true });
      // The role belongs to the server, not to the test's database: drop it too.
      const admin = new pg.Client({ connectionString: databaseUrl });
      await admin.connect();
      await admin.query(`REVOKE casella_mail FROM "${role}"`).catch(() => {});
      await admin.end();
      const server = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
      await server.connect();
      await server.query(`DROP ROLE IF EXISTS "${role}"`).catch(() => {});
      await server.end();
    },
  };
}
