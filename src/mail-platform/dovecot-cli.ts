// `casella dovecot-config`: writes the Dovecot configuration of docs/MAIL-PLATFORM.md, and makes (or
// gives a new password to) the login role it connects as, a member of the read-only casella_mail.
import { chmodSync, chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { App } from '../app.ts';
import type { Database } from '../db/database.ts';
import { issueMailPolicyKey } from '../services/mailboxes/mail-login-policy.ts';
import { MAIL_POLICY_PATH, dovecotConfigFiles, type DovecotConfigOptions, type StandaloneOptions } from './dovecot-config.ts';

export const DOVECOT_CONFIG_USAGE =
  'casella dovecot-config --out DIR [--db-role NAME] [--db-host H] [--db-port P] [--auth-cache-ttl S] [--policy-url URL]\n' +
  '                       [--standalone --imap-port N --lmtp-port N --submission-port N [--mail-user U] [--relay-host H --relay-port P]]';

export const EMBEDDED_REFUSAL =
  'casella dovecot-config: the mail server reads Casella\'s PostgreSQL database, and the embedded database cannot be shared ' +
  'with it. Set DATABASE_URL to a PostgreSQL database. (The embedded demo runs without a mail server.)';

const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

class UsageError extends Error {}

/** The policy endpoint answers loopback only (src/http/mail-policy-routes.ts). */
function policyUrlOk(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' && ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname) && !url.username && !/\s/.test(text);
  } catch {
    return false;
  }
}

function port(v: string | undefined, name: string): number {
  const n = Number(v);
  if (!v || !Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`--${name} must be a port number (1-65535), got "${v ?? ''}"`);
  return n;
}

/** uid and gid of a system user, from /etc/passwd (Dovecot takes numbers for the mail owner). */
function systemUser(name: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.split(':')[0] === name);
  if (!line) throw new UsageError(`--mail-user: no system user "${name}"`);
  const [, , uid, gid] = line.split(':');
  if (Number(uid) === 0) throw new UsageError('--mail-user: Dovecot refuses to keep mail as root; name another user');
  return { uid: Number(uid), gid: Number(gid) };
}

/** The primary group of the `dovecot` user, which reads the SQL files from its auth and dict processes. */
function dovecotGid(): number | null {
  try {
    return systemUser('dovecot').gid;
  } catch {
    return null;
  }
}

/** The login role Dovecot connects as: made or refreshed with a new password, member of casella_mail. */
async function ensureLoginRole(db: Database, role: string): Promise<string> {
  const password = randomBytes(24).toString('base64url');
  const [exists] = await db.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
  // Role names and passwords cannot be bound parameters; both are checked to be plain characters.
  if (exists) await db.exec(`ALTER ROLE "${role}" LOGIN PASSWORD '${password}'; GRANT casella_mail TO "${role}"`);
  else await db.exec(`CREATE ROLE "${role}" LOGIN PASSWORD '${password}' IN ROLE casella_mail`);
  return password;
}

/** Mailboxes whose hash predates Argon2id, which Dovecot cannot verify itself. */
async function legacyHashes(db: Database): Promise<number> {
  const [row] = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM mailboxes WHERE status <> 'terminated' AND password_hash NOT LIKE '$argon2id$%'`,
  );
  return Number(row!.n);
}

/** What `casella dovecot-config` was asked, checked before any database is opened. */
export interface DovecotConfigArgs {
  out: string;
  dbRole: string;
  dbHost: string | undefined;
  dbPort: string | undefined;
  authCacheTtlSeconds: number;
  standalone: StandaloneOptions | null;
  /** Where Dovecot asks for its login policy (issue 19); null: this server's own port on loopback. */
  policyUrl: string | null;
}

/** The arguments, or why they are wrong (issue 19: argument errors come before the database). */
export function parseDovecotConfigArgs(args: string[]): { ok: true; value: DovecotConfigArgs } | { ok: false; error: string } {
  try {
    const { values: v } = parseArgs({
      args,
      options: {
        out: { type: 'string' },
        'db-role': { type: 'string', default: 'casella_dovecot' },
        'db-host': { type: 'string' },
        'db-port': { type: 'string' },
        'auth-cache-ttl': { type: 'string', default: '0' },
        standalone: { type: 'boolean' },
        'imap-port': { type: 'string' },
        'lmtp-port': { type: 'string' },
        'submission-port': { type: 'string' },
        'mail-user': { type: 'string', default: 'nobody' },
        'relay-host': { type: 'string', default: '127.0.0.1' },
        'relay-port': { type: 'string', default: '25' },
        'policy-url': { type: 'string' },
      },
    });
    if (!v.out) throw new UsageError('--out DIR is required');
    if (!ROLE_NAME.test(v['db-role']!)) throw new UsageError('--db-role must be lower-case letters, digits and _');
    const ttl = Number(v['auth-cache-ttl']);
    if (!Number.isInteger(ttl) || ttl < 0 || ttl > 3600) throw new UsageError('--auth-cache-ttl must be whole seconds, 0 to 3600');
    if (v['policy-url'] !== undefined && !policyUrlOk(v['policy-url'])) {
      throw new UsageError('--policy-url must be an http:// URL of a casella serve on this machine (127.0.0.1 or ::1): the endpoint answers loopback only');
    }
    const dir = resolve(v.out);
    let standalone: StandaloneOptions | null = null;
    if (v.standalone) {
      const owner = systemUser(v['mail-user']!);
      standalone = {
        dir,
        imapPort: port(v['imap-port'], 'imap-port'),
        lmtpPort: port(v['lmtp-port'], 'lmtp-port'),
        submissionPort: port(v['submission-port'], 'submission-port'),
        mailUser: v['mail-user']!,
        mailUid: owner.uid,
        mailGid: owner.gid,
        relayHost: v['relay-host']!,
        relayPort: port(v['relay-port'], 'relay-port'),
      };
    }
    return { ok: true, value: { out: dir, dbRole: v['db-role']!, dbHost: v['db-host'], dbPort: v['db-port'], authCacheTtlSeconds: ttl, standalone, policyUrl: v['policy-url'] ?? null } };
  } catch (err) {
    if (!(err instanceof UsageError) && !(err instanceof TypeError)) throw err;
    return { ok: false, error: (err as Error).message };
  }
}

export async function dovecotConfigCommand(app: App, v: DovecotConfigArgs): Promise<number> {
  if (!app.config.databaseUrl) {
    console.error(EMBEDDED_REFUSAL);
    return 2;
  }
  const dir = v.out;
  const url = new URL(app.config.databaseUrl);
  const standalone = v.standalone;

  const role = v.dbRole;
  const password = await ensureLoginRole(app.db, role);
  const policyKey = await issueMailPolicyKey(app.db, role);
  const legacy = await legacyHashes(app.db);
  const options: DovecotConfigOptions = {
    dir,
    db: {
      host: v.dbHost ?? (url.hostname || '127.0.0.1'),
      port: Number(v.dbPort ?? (url.port || 5432)),
      dbname: decodeURIComponent(url.pathname.replace(/^\//, '')),
      user: role,
      password,
    },
    authCacheTtlSeconds: v.authCacheTtlSeconds,
    legacyCheckpassword: legacy > 0 ? `${dir}/casella-checkpassword` : null,
    standalone,
    loginPolicy: {
      url: v.policyUrl ?? `http://127.0.0.1:${app.config.port}${MAIL_POLICY_PATH}`,
      key: policyKey,
      hashNonce: randomBytes(16).toString('hex'),
    },
  };

  mkdirSync(dir, { recursive: true });
  const root = process.getuid?.() === 0;
  const readerGid = root ? dovecotGid() : null;
  for (const f of dovecotConfigFiles(options)) {
    const path = `${dir}/${f.name}`;
    writeFileSync(path, f.content);
    // Dovecot's auth and dict processes read the SQL files as the dovecot user; nobody else may.
    if (f.secret && readerGid !== null) {
      chownSync(path, 0, readerGid);
      chmodSync(path, 0o640);
    } else chmodSync(path, f.secret ? 0o600 : 0o644);
  }
  if (options.legacyCheckpassword) writeCheckpasswordScript(options.legacyCheckpassword, app.config.databaseUrl, readerGid);
  if (standalone) {
    mkdirSync(`${dir}/mail`, { recursive: true });
    if (root) chownSync(`${dir}/mail`, standalone.mailUid, standalone.mailGid);
    chmodSync(dir, 0o755); // the mail owner walks through it to its mail
  }

  console.log(`Dovecot configuration written to ${dir} (database role ${role}, member of casella_mail).`);
  if (standalone) console.log(`Start it as root: dovecot -F -c ${dir}/dovecot.conf`);
  else console.log(`Add to your dovecot.conf: !include ${dir}/casella.conf   (see docs/MAIL-PLATFORM.md)`);
  if (legacy > 0) console.log(`${legacy} mailbox password(s) predate Argon2id: Dovecot checks them through ${options.legacyCheckpassword} until they are upgraded at their next login.`);
  return 0;
}

/** The checkpassword program for hashes before Argon2id: Casella itself, with its own database URL. */
function writeCheckpasswordScript(path: string, databaseUrl: string, readerGid: number | null): void {
  const bin = fileURLToPath(new URL('../../bin/casella.js', import.meta.url));
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  writeFileSync(
    path,
    `#!/bin/sh\n# Casella: verifies (and upgrades) mailbox passwords hashed before Argon2id, for Dovecot's checkpassword passdb.\n` +
      `DATABASE_URL=${q(databaseUrl)} exec ${q(process.execPath)} ${q(bin)} dovecot-checkpassword "$@"\n`,
  );
  // Dovecot's auth process runs it as the dovecot user; it holds Casella's database URL, so nobody else may read it.
  if (readerGid !== null) chownSync(path, 0, readerGid);
  chmodSync(path, readerGid !== null ? 0o750 : 0o700);
}
