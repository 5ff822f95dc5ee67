// Dovecot's checkpassword protocol, for mailboxes whose password hash predates Argon2id (which Dovecot
// cannot verify): Dovecot writes "user\0password\0" on fd 3; on success we run the program it names in
// our arguments (checkpassword-reply) with USER set, which answers on fd 4; exit 1 is a wrong password,
// 111 a temporary failure. A correct password is re-hashed with Argon2id at once, so the next login
// is Dovecot's own (DECISIONS.md). The same states apply as in dovecot.passdb.
import { readSync } from 'node:fs';
import { spawn } from 'node:child_process';
import pg from 'pg';
import { READING_SERVICES } from './dovecot-config.ts';
import { isLegacyHash, upgradeLegacyHashIfNeeded, verifyPassword } from '../services/access/passwords.ts';

const AUTH_FAILED = 1;
const TEMPORARY_FAILURE = 111;

function readCredentials(): { user: string; password: string } | null {
  const buf = Buffer.alloc(1024);
  let len = 0;
  for (;;) {
    const n = readSync(3, buf, len, buf.length - len, null);
    if (n === 0) break;
    len += n;
    if (len === buf.length) return null; // longer than any address and password we accept
  }
  const [user, password] = buf.subarray(0, len).toString('utf8').split('\0');
  return user && password !== undefined ? { user: user.toLowerCase(), password } : null;
}

export async function checkpasswordMain(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let creds;
  try {
    creds = readCredentials();
  } catch {
    return TEMPORARY_FAILURE; // not started by Dovecot (no fd 3)
  }
  if (!creds || !env.DATABASE_URL || !argv.length) return AUTH_FAILED;
  const db = new pg.Client({ connectionString: env.DATABASE_URL });
  try {
    await db.connect();
  } catch {
    return TEMPORARY_FAILURE;
  }
  try {
    const { rows } = await db.query<{ id: string; password_hash: string; status: string }>(
      "SELECT id, password_hash, status FROM mailboxes WHERE lower(address) = $1 AND status <> 'terminated'",
      [creds.user],
    );
    const m = rows[0];
    // R19: a suspended mailbox has no login anywhere.
    if (!m || m.status === 'suspended' || !isLegacyHash(m.password_hash)) return AUTH_FAILED;
    // R14: a mailbox that cannot send logs in to read only (as dovecot.passdb's nologin).
    if (m.status !== 'active' && !(READING_SERVICES as readonly string[]).includes(env.SERVICE ?? '')) return AUTH_FAILED;
    if (!(await verifyPassword(creds.password, m.password_hash))) return AUTH_FAILED;
    const queryable = { query: async <R,>(sql: string, params?: readonly unknown[]) => (await db.query(sql, params as unknown[])).rows as R[] };
    await upgradeLegacyHashIfNeeded(queryable, m.id, creds.password, m.password_hash);
  } catch {
    return TEMPORARY_FAILURE;
  } finally {
    await db.end().catch(() => {});
  }
  const reply = spawn(argv[0]!, argv.slice(1), { stdio: ['inherit', 'inherit', 'inherit', 'inherit', 'inherit'], env: { ...env, USER: creds.user } });
  return new Promise((resolve) => reply.on('exit', (code) => resolve(code ?? TEMPORARY_FAILURE)));
}
