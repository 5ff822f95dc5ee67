// `casella bench logins --seconds S --concurrency C --holders N`: customer-area logins per second
// and their latency against a running server (the real path: POST /api/session, the throttle's
// count and forgiveness, the Argon2id check, the session row), with N distinct holders taken in
// turn so no address's allowance is touched twice in a row. Then, in this process, the time of one
// password check with the hash of today (Argon2id) and with the one it replaced (scrypt).
import { parseArgs } from 'node:util';
import { peakRssMb, progress } from '../src/cli/progress.ts';
import { THROTTLE } from '../src/services/access/sessions.ts';
import { hashPassword, legacyHashPassword, verifyPassword } from '../src/services/access/passwords.ts';
import { Api, percentile, secondsMax } from './purchase.ts';

/**
 * Every request comes from one client address; a login in flight counts against that client's
 * allowance until it succeeds, so more parallel logins than the allowance would be throttled.
 */
export const concurrencyMax = THROTTLE.perClientMax - 1;
const holdersMax = 10_000;
const PASSWORD = 'Bench-password-2026';

export interface LoginBenchResult {
  seconds: number;
  concurrency: number;
  holders: number;
  logins: number;
  loginsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** One password check in this process, median of several: today's hash and the one it replaced. */
  checkMs: { argon2id: number; scrypt: number };
  peakRssMb: number;
}

async function provision(api: Api, holders: number, runId: string): Promise<string[]> {
  const expiresOn = new Date(Date.now() + 300 * 86_400_000).toISOString().slice(0, 10);
  const bar = progress('provisioning');
  const addresses: string[] = [];
  for (let h = 0; h < holders; h++) {
    const { customer } = await api.admin('POST', '/api/admin/customers', { name: `Bench ${runId} ${h}`, referenceEmail: `bench-${runId}-${h}@example.com` });
    const address = `login-${runId}-${h}@pec.bench.test`;
    await api.admin('POST', '/api/admin/mailboxes', { customerId: customer.id, address, password: PASSWORD, type: 'standard', expiresOn });
    addresses.push(address);
    if (h % 10 === 9) bar.update(`${h + 1}/${holders} holders`);
  }
  bar.done(`${holders} holders`);
  return addresses;
}

async function medianCheckMs(stored: string, runs = 15): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    if (!(await verifyPassword(PASSWORD, stored))) throw new Error('the password check failed');
    times.push(performance.now() - t0);
  }
  return Math.round(percentile(times.sort((a, b) => a - b), 50) * 10) / 10;
}

export async function runLoginBench(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      seconds: { type: 'string', default: '10' },
      concurrency: { type: 'string', default: '4' },
      holders: { type: 'string', default: '200' },
      url: { type: 'string' },
      token: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const seconds = Number(values.seconds);
  const concurrency = Number(values.concurrency);
  const holders = Number(values.holders);
  const token = values.token ?? process.env.CASELLA_OPERATOR_TOKEN;
  const base = (values.url ?? process.env.PUBLIC_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
  const ok =
    seconds > 0 && seconds <= secondsMax && Number.isInteger(concurrency) && concurrency >= 1 && concurrency <= concurrencyMax &&
    Number.isInteger(holders) && holders >= concurrency && holders <= holdersMax && token;
  if (!ok) {
    console.error(
      `usage: casella bench logins --seconds S --concurrency C --holders N [--url URL] [--token OPERATOR_TOKEN] [--json]\n` +
        `  (0 < S ≤ ${secondsMax}, 1 ≤ C ≤ ${concurrencyMax}, C ≤ N ≤ ${holdersMax}; the token defaults to CASELLA_OPERATOR_TOKEN, the URL to PUBLIC_URL)`,
    );
    return 2;
  }
  const api = new Api(base, token!);
  try {
    return await run(api, { seconds, concurrency, holders, json: values.json ?? false });
  } finally {
    api.close();
  }
}

async function run(api: Api, o: { seconds: number; concurrency: number; holders: number; json: boolean }): Promise<number> {
  const addresses = await provision(api, o.holders, Date.now().toString(36));
  const latencies: number[] = [];
  let errors = 0;
  const errorSamples: string[] = [];
  let next = 0;
  const bar = progress('logging in');
  const started = performance.now();
  const deadline = started + o.seconds * 1000;
  const ticker = setInterval(() => bar.update(`${latencies.length} logins, ${errors} errors`), 500);
  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      while (performance.now() < deadline) {
        const address = addresses[next++ % addresses.length]!;
        const t0 = performance.now();
        const r = await api.call('POST', '/api/session', { address, password: PASSWORD });
        const ms = performance.now() - t0;
        if (r.status === 200 && r.json?.csrfToken) latencies.push(ms);
        else {
          errors++;
          if (errorSamples.length < 5) errorSamples.push(`${r.status} ${JSON.stringify(r.json)}`);
        }
      }
    }),
  );
  clearInterval(ticker);
  const elapsed = (performance.now() - started) / 1000;
  bar.done(`${latencies.length} logins in ${elapsed.toFixed(1)} s, ${errors} errors`);
  for (const e of errorSamples) console.error(`  error: ${e}`);

  const checks = progress('password check');
  const checkMs = { argon2id: await medianCheckMs(await hashPassword(PASSWORD)), scrypt: await medianCheckMs(await legacyHashPassword(PASSWORD)) };
  checks.done(`Argon2id ${checkMs.argon2id} ms, scrypt ${checkMs.scrypt} ms`);

  const sorted = [...latencies].sort((a, b) => a - b);
  const result: LoginBenchResult = {
    seconds: Math.round(elapsed * 100) / 100,
    concurrency: o.concurrency,
    holders: o.holders,
    logins: latencies.length,
    loginsPerSecond: Math.round((latencies.length / elapsed) * 10) / 10,
    p50Ms: Math.round(percentile(sorted, 50) * 10) / 10,
    p99Ms: Math.round(percentile(sorted, 99) * 10) / 10,
    errors,
    checkMs,
    peakRssMb: peakRssMb(),
  };
  if (o.json) console.log(JSON.stringify(result));
  else {
    console.log(`logins: ${result.loginsPerSecond}/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ${errors} errors (${o.concurrency} at a time, ${o.holders} holders)`);
    console.log(`one password check: Argon2id ${checkMs.argon2id} ms, scrypt (before) ${checkMs.scrypt} ms`);
  }
  return errors === 0 ? 0 : 1;
}
