// A real `casella serve` in a child process, for the crash tests: unlike startServerOn, it can be
// killed with SIGKILL in the middle of its work.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Client, provisionHolder } from './http.ts';

/**
 * `casella serve` on a free loopback port over the stored database `env` names, with a test clock.
 * `env` may also set SMTP_URL (unset by default: e-mails stay in the outbox).
 */
export function spawnServe(env: Record<string, string>, operatorToken = `cop_${randomBytes(16).toString('hex')}`): ChildProcess {
  return spawn(process.execPath, ['bin/casella.js', 'serve'], {
    env: { ...process.env, SMTP_URL: '', ...env, PORT: '0', CASELLA_TEST_CLOCK: '1', NODE_ENV: '', CASELLA_OPERATOR_TOKEN: operatorToken },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Reads the child's log until a line matches; the match. */
export function waitForLog(child: ChildProcess, pattern: RegExp): Promise<RegExpExecArray> {
  let buffer = '';
  let stderr = '';
  child.stderr!.on('data', (c) => (stderr += String(c)));
  return new Promise((resolve, reject) => {
    // The listener stays on, so the child's output keeps draining after the match.
    child.stdout!.on('data', (c) => {
      buffer += String(c);
      const m = pattern.exec(buffer);
      if (m) resolve(m);
    });
    child.once('exit', () => reject(new Error(`the server exited before logging ${pattern}: ${buffer.slice(-1500)} ${stderr.slice(-1500)}`)));
  });
}

export interface Served {
  child: ChildProcess;
  baseUrl: string;
  /** Resolves to [exit code, signal]. */
  exited: Promise<unknown>;
  /** Everything the process wrote to stdout so far (its JSON log lines and the demo login). */
  output: () => string;
}

/** spawnServe, once it listens. */
export async function serveProcess(env: Record<string, string>, operatorToken: string): Promise<Served> {
  const child = spawnServe(env, operatorToken);
  const exited = once(child, 'exit');
  let output = '';
  child.stdout!.on('data', (c) => (output += String(c)));
  const [, baseUrl] = await waitForLog(child, /Server listening at (http:\/\/127\.0\.0\.1:\d+)/);
  return { child, baseUrl: baseUrl!, exited, output: () => output };
}

/**
 * A crash test's starting point: `casella serve` listening, the test clock at 15 January 2027, and
 * `holders` holders with one mailbox (E 1 December 2027) and `creditCents` each, made by the operator.
 */
export async function servedWithHolders(env: Record<string, string>, operatorToken: string, holders: number, creditCents: number) {
  const served = await serveProcess(env, operatorToken);
  const op = new Client(served.baseUrl, operatorToken);
  const clockSet = await op.put('/api/test/clock', { now: '2027-01-15T10:00:00+01:00' });
  if (clockSet.status !== 200) throw new Error(`test clock: ${clockSet.status}`);
  const made: Awaited<ReturnType<typeof provisionHolder>>[] = [];
  for (let i = 0; i < holders; i++) made.push(await provisionHolder(op, { creditCents, expiresOn: '2027-12-01' }));
  return { served, op, holders: made };
}
