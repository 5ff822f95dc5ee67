// `casella bench purchase --seconds S --concurrency C`: C holders buy extra space over HTTP for S
// seconds against a running server (the real API path: session cookie, CSRF header, validation,
// one transaction per order). Then, when pgbench is on the PATH, pgbench's TPS on the same
// PostgreSQL server in the same run, and the ratio.
import { execFileSync, spawnSync } from 'node:child_process';
import http from 'node:http';
import { parseArgs } from 'node:util';
import { peakRssMb, progress } from '../src/cli/progress.ts';

export const secondsMax = 3600;
export const concurrencyMax = 256;
/** pgbench's reference run, as the issue fixes it. */
const PGBENCH = { clients: 16, threads: 2, scale: 10 } as const;

export interface PurchaseBenchResult {
  seconds: number;
  concurrency: number;
  purchases: number;
  purchasesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  pgbenchTps: number | null;
  ratio: number | null;
  ledgerOk: boolean | null;
  peakRssMb: number;
}

interface Holder {
  cookie: string;
  csrf: string;
  mailboxIds: string[];
}

/**
 * The load generator shares the machine with the server and PostgreSQL, so it should cost them as
 * little CPU as it can: node:http with kept-alive sockets took about half the CPU of fetch here.
 */
export class Api {
  readonly #agent = new http.Agent({ keepAlive: true });
  constructor(readonly base: string, readonly token: string) {}
  call(method: string, path: string, body: unknown, headers: Record<string, string> = {}) {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<{ status: number; json: any; cookies: string[] }>((resolve, reject) => {
      const req = http.request(
        this.base + path,
        {
          method,
          agent: this.#agent,
          headers: { ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }), ...headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            try {
              resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : null, cookies: res.headers['set-cookie'] ?? [] });
            } catch (err) {
              reject(err);
            }
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }
  /** Closes the kept-alive sockets, so the command can exit. */
  close(): void {
    this.#agent.destroy();
  }
  async admin(method: string, path: string, body?: unknown) {
    const r = await this.call(method, path, body, { authorization: `Bearer ${this.token}` });
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`);
    return r.json;
  }
}

export const percentile = (sorted: number[], p: number): number =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : 0;

async function provision(api: Api, concurrency: number, mailboxesPerHolder: number, runId: string): Promise<Holder[]> {
  const expiresOn = new Date(Date.now() + 300 * 86_400_000).toISOString().slice(0, 10); // > 3 months ahead: full-year price
  const bar = progress('provisioning');
  const holders: Holder[] = [];
  for (let h = 0; h < concurrency; h++) {
    const { customer } = await api.admin('POST', '/api/admin/customers', { name: `Bench ${runId} ${h}`, referenceEmail: `bench-${runId}-${h}@example.com` });
    const mailboxIds: string[] = [];
    const password = 'bench-password-1';
    const address = (i: number) => `bench-${runId}-${h}-${i}@pec.bench.test`;
    await Promise.all(
      Array.from({ length: mailboxesPerHolder }, async (_, i) => {
        const { mailbox } = await api.admin('POST', '/api/admin/mailboxes', {
          customerId: customer.id,
          address: address(i),
          password,
          type: 'standard',
          expiresOn,
        });
        mailboxIds.push(mailbox.id);
      }),
    );
    await api.admin('POST', `/api/admin/customers/${customer.id}/credit-adjustments`, {
      amountCents: mailboxesPerHolder * 50 * 300,
      reason: 'benchmark credit',
    });
    const login = await api.call('POST', '/api/session', { address: address(0), password });
    if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.json)}`);
    const cookie = login.cookies.map((c) => c.split(';')[0]).join('; ');
    holders.push({ cookie, csrf: login.json.csrfToken, mailboxIds });
    bar.update(`${h + 1}/${concurrency} holders`);
  }
  bar.done(`${concurrency} holders with ${mailboxesPerHolder} mailboxes each`);
  return holders;
}

function runPgbench(url: string, seconds: number): number | null {
  if (spawnSync('pgbench', ['--version']).status !== 0) return null;
  const target = new URL(url);
  const admin = new URL(url);
  target.pathname = '/casella_pgbench';
  const env = { ...process.env, PGCONNECT_TIMEOUT: '10' };
  const bar = progress('pgbench');
  try {
    execFileSync('psql', [admin.toString(), '-qc', 'DROP DATABASE IF EXISTS casella_pgbench'], { env, stdio: 'ignore' });
    execFileSync('psql', [admin.toString(), '-qc', 'CREATE DATABASE casella_pgbench'], { env, stdio: 'ignore' });
    bar.update(`initialising scale ${PGBENCH.scale}`);
    execFileSync('pgbench', ['-i', '-q', '-s', String(PGBENCH.scale), target.toString()], { env, stdio: 'ignore' });
    bar.update(`running ${seconds} s`);
    const out = execFileSync(
      'pgbench',
      ['-c', String(PGBENCH.clients), '-j', String(PGBENCH.threads), '-T', String(seconds), target.toString()],
      { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const tps = Number(/tps = ([\d.]+)/.exec(out)?.[1]);
    bar.done(`${tps.toFixed(0)} TPS (-c ${PGBENCH.clients} -j ${PGBENCH.threads}, scale ${PGBENCH.scale})`);
    return Number.isFinite(tps) ? tps : null;
  } finally {
    spawnSync('psql', [admin.toString(), '-qc', 'DROP DATABASE IF EXISTS casella_pgbench'], { env, stdio: 'ignore' });
  }
}

export async function runPurchaseBench(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      seconds: { type: 'string', default: '10' },
      concurrency: { type: 'string', default: '16' },
      url: { type: 'string' },
      token: { type: 'string' },
      'mailboxes-per-holder': { type: 'string', default: '40' },
      'pgbench-url': { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const seconds = Number(values.seconds);
  const concurrency = Number(values.concurrency);
  const perHolder = Number(values['mailboxes-per-holder']);
  const token = values.token ?? process.env.CASELLA_OPERATOR_TOKEN;
  const base = (values.url ?? process.env.PUBLIC_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
  if (!(seconds > 0 && seconds <= secondsMax) || !Number.isInteger(concurrency) || concurrency < 1 || concurrency > concurrencyMax || !(perHolder >= 1 && perHolder <= 1000) || !token) {
    console.error(
      `usage: casella bench purchase --seconds S --concurrency C [--url URL] [--token OPERATOR_TOKEN] [--pgbench-url URL] [--json]\n` +
        `  (0 < S ≤ ${secondsMax}, 1 ≤ C ≤ ${concurrencyMax}; the token defaults to CASELLA_OPERATOR_TOKEN, the URL to PUBLIC_URL)`,
    );
    return 2;
  }
  const api = new Api(base, token);
  try {
    return await run(api, { seconds, concurrency, perHolder, pgbenchUrl: values['pgbench-url'], json: values.json ?? false });
  } finally {
    api.close();
  }
}

async function run(
  api: Api,
  { seconds, concurrency, perHolder, pgbenchUrl: pgbenchUrlOption, json }: { seconds: number; concurrency: number; perHolder: number; pgbenchUrl: string | undefined; json: boolean },
): Promise<number> {
  const runId = Date.now().toString(36);
  const holders = await provision(api, concurrency, perHolder, runId);

  const latencies: number[] = [];
  let errors = 0;
  const errorSamples: string[] = [];
  const bar = progress('purchasing');
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  const ticker = setInterval(() => bar.update(`${latencies.length} purchases, ${errors} errors`), 500);
  await Promise.all(
    holders.map(async (h) => {
      let box = 0;
      while (performance.now() < deadline && box < h.mailboxIds.length) {
        const t0 = performance.now();
        const r = await api.call('POST', `/api/mailboxes/${h.mailboxIds[box]}/extra-space/orders`, { quantityGb: 1 }, {
          cookie: h.cookie,
          'x-csrf-token': h.csrf,
        });
        const ms = performance.now() - t0;
        if (r.status === 201 && r.json.order.status === 'completed') latencies.push(ms);
        else if (r.status === 422 && r.json?.error?.code === 'limit_exceeded') box++; // this mailbox has its 50 GB
        else {
          errors++;
          if (errorSamples.length < 5) errorSamples.push(`${r.status} ${JSON.stringify(r.json)}`);
        }
      }
    }),
  );
  clearInterval(ticker);
  const elapsed = (performance.now() - started) / 1000;
  const sorted = [...latencies].sort((a, b) => a - b);
  bar.done(`${latencies.length} purchases in ${elapsed.toFixed(1)} s, ${errors} errors`);
  for (const e of errorSamples) console.error(`  error: ${e}`);

  const verify = await api.admin('GET', '/api/admin/ledger/verify');
  const pgbenchUrl = pgbenchUrlOption ?? process.env.DATABASE_URL;
  const pgbenchTps = pgbenchUrl ? runPgbench(pgbenchUrl, Math.max(5, Math.round(seconds))) : null;
  const purchasesPerSecond = latencies.length / elapsed;
  const result: PurchaseBenchResult = {
    seconds: Math.round(elapsed * 100) / 100,
    concurrency,
    purchases: latencies.length,
    purchasesPerSecond: Math.round(purchasesPerSecond),
    p50Ms: Math.round(percentile(sorted, 50) * 10) / 10,
    p99Ms: Math.round(percentile(sorted, 99) * 10) / 10,
    errors,
    pgbenchTps: pgbenchTps === null ? null : Math.round(pgbenchTps),
    ratio: pgbenchTps ? Math.round((purchasesPerSecond / pgbenchTps) * 100) / 100 : null,
    ledgerOk: verify?.ok ?? null,
    peakRssMb: peakRssMb(),
  };
  if (json) console.log(JSON.stringify(result));
  else {
    console.log(`purchases: ${result.purchasesPerSecond}/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ${errors} errors, ledger ${result.ledgerOk ? 'ok' : 'NOT ok'}`);
    if (result.pgbenchTps !== null) console.log(`pgbench: ${result.pgbenchTps} TPS; purchases/pgbench = ${result.ratio}`);
    else console.log('pgbench: not run (no pgbench on the PATH or no --pgbench-url / DATABASE_URL)');
  }
  return errors === 0 && result.ledgerOk ? 0 : 1;
}

