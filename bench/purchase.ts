// `casella bench purchase --seconds S --concurrency C`: C holders buy extra space over HTTP for S
// seconds against a running server (the real API path: session cookie, CSRF header, validation,
// one transaction per order). Then, when pgbench is on the PATH, pgbench's TPS on the same
// PostgreSQL server in the same run, and the ratio.
// R20: several --url (processes of one deployment on one database) spread the holders over them
// (holder h buys through url h mod n, with the session it got from the first); --scrape-every-ms N
// measures what serving Prometheus costs the purchases: the run alternates equal slices without
// and with GET /metrics on every URL every N ms, and reports both rates and the difference.
// --cpu-pid P (the `serve` processes) and --cpu-database D (the PostgreSQL backends serving D) add
// the CPU each used per purchase, read from /proc around the purchase phase only (provisioning, with
// its password hashing, excluded): on a machine shared with other work the rate moves with the load,
// and CPU per purchase is the figure two builds can be compared by (docs/PERFORMANCE.md).
import { execFileSync, spawnSync } from 'node:child_process';
import { cpuSince, markCpu, processCpuMs, type CpuMark, type PhaseCpu } from './cpu.ts';
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
  /** How many server processes the purchases were spread over. */
  processes: number;
  /** With --scrape-every-ms: purchases per second without and with scraping, in the same run. */
  scraping: { everyMs: number; scrapes: number; withoutPerSecond: number; withPerSecond: number; costPercent: number } | null;
  /** With --cpu-pid: milliseconds of CPU (user + system) per purchase; postgres with --cpu-database only. */
  cpu: { serverMsPerPurchase: number; postgresMsPerPurchase: number | null; clientMsPerPurchase: number } | null;
}

/** The serve processes' CPU so far (user + system), summed. */
function serversCpuMs(pids: number[]): number {
  let ms = 0;
  for (const pid of pids) {
    const used = processCpuMs(pid);
    if (used === null) throw new Error(`--cpu-pid ${pid}: /proc/${pid}/stat cannot be read (no such process, or not Linux)`);
    ms += used;
  }
  return ms;
}

/** Where the purchases started: the servers' CPU, this process's and the backends' (bench/cpu.ts). */
interface CpuStart {
  serverMs: number;
  mark: CpuMark;
}

const startCpu = (pids: number[], database: string | undefined): CpuStart => ({ serverMs: serversCpuMs(pids), mark: markCpu(database ?? null) });

/** What the purchases cost since `start`: the servers, this process (the load generator) and PostgreSQL. */
function cpuSpent(start: CpuStart, pids: number[], database: string | undefined): PhaseCpu & { serverMs: number } {
  return { serverMs: serversCpuMs(pids) - start.serverMs, ...cpuSince(start.mark, database ?? null) };
}

function cpuPerPurchase(spent: PhaseCpu & { serverMs: number }, purchases: number): NonNullable<PurchaseBenchResult['cpu']> {
  const per = (ms: number) => (purchases > 0 ? Math.round((ms / purchases) * 1000) / 1000 : 0);
  return { serverMsPerPurchase: per(spent.serverMs), postgresMsPerPurchase: spent.postgresMs === null ? null : per(spent.postgresMs), clientMsPerPurchase: per(spent.processMs) };
}

interface Holder {
  cookie: string;
  csrf: string;
  mailboxIds: string[];
  /** The mailbox being filled (each takes 50 GB of extra space). */
  box: number;
}

/**
 * The load generator shares the machine with the server and PostgreSQL, so it should cost them as
 * little CPU as it can: node:http with kept-alive sockets took about half the CPU of fetch here.
 */
export class Api {
  readonly #agent = new http.Agent({ keepAlive: true });
  constructor(readonly base: string, readonly token: string) {}
  /** The same operator and agent on another process of the deployment. */
  on(base: string): Api {
    return base === this.base ? this : new Api(base, this.token);
  }
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
    holders.push({ cookie, csrf: login.json.csrfToken, mailboxIds, box: 0 });
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
      url: { type: 'string', multiple: true },
      'scrape-every-ms': { type: 'string' },
      token: { type: 'string' },
      'mailboxes-per-holder': { type: 'string', default: '40' },
      'pgbench-url': { type: 'string' },
      'cpu-pid': { type: 'string', multiple: true },
      'cpu-database': { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const seconds = Number(values.seconds);
  const concurrency = Number(values.concurrency);
  const perHolder = Number(values['mailboxes-per-holder']);
  const token = values.token ?? process.env.CASELLA_OPERATOR_TOKEN;
  const urls = (values.url?.length ? values.url : [process.env.PUBLIC_URL || 'http://127.0.0.1:3000']).map((u) => u.replace(/\/+$/, ''));
  const scrapeEveryMs = values['scrape-every-ms'] === undefined ? null : Number(values['scrape-every-ms']);
  const cpuPids = (values['cpu-pid'] ?? []).map(Number);
  const cpuDatabase = values['cpu-database'];
  if (
    !(seconds > 0 && seconds <= secondsMax) ||
    !Number.isInteger(concurrency) ||
    concurrency < 1 ||
    concurrency > concurrencyMax ||
    !(perHolder >= 1 && perHolder <= 1000) ||
    !token ||
    urls.length > processesMax ||
    (scrapeEveryMs !== null && !(Number.isInteger(scrapeEveryMs) && scrapeEveryMs >= 10 && scrapeEveryMs <= 60_000)) ||
    cpuPids.length > processesMax ||
    !cpuPids.every((pid) => Number.isInteger(pid) && pid > 0) ||
    (cpuDatabase !== undefined && (cpuPids.length === 0 || !/^[\w$-]{1,63}$/.test(cpuDatabase)))
  ) {
    console.error(
      `usage: casella bench purchase --seconds S --concurrency C [--url URL]... [--token OPERATOR_TOKEN] [--pgbench-url URL] [--scrape-every-ms N]\n` +
        `         [--cpu-pid SERVER_PID]... [--cpu-database NAME] [--json]\n` +
        `  (0 < S ≤ ${secondsMax}, 1 ≤ C ≤ ${concurrencyMax}, at most ${processesMax} URLs, 10 ≤ N ≤ 60000; the token defaults to CASELLA_OPERATOR_TOKEN, the URL to PUBLIC_URL;\n` +
        `   --cpu-database, with --cpu-pid, adds the CPU of the PostgreSQL backends serving that database, on this machine)`,
    );
    return 2;
  }
  const apis = urls.map((u) => new Api(u, token));
  try {
    return await run(apis, { seconds, concurrency, perHolder, pgbenchUrl: values['pgbench-url'], json: values.json ?? false, scrapeEveryMs, cpuPids, cpuDatabase });
  } finally {
    for (const a of apis) a.close();
  }
}

const processesMax = 16;

interface Slice {
  latencies: number[];
  errors: number;
  elapsedSeconds: number;
}

/** Every holder buys through its process until `untilMs`; what completed and how long it took. */
async function purchaseSlice(apis: Api[], holders: Holder[], untilMs: number, errorSamples: string[], onPurchase: () => void): Promise<Slice> {
  const slice: Slice = { latencies: [], errors: 0, elapsedSeconds: 0 };
  const started = performance.now();
  await Promise.all(
    holders.map(async (h, i) => {
      const api = apis[i % apis.length]!;
      while (performance.now() < untilMs && h.box < h.mailboxIds.length) {
        const t0 = performance.now();
        const r = await api.call('POST', `/api/mailboxes/${h.mailboxIds[h.box]}/extra-space/orders`, { quantityGb: 1 }, {
          cookie: h.cookie,
          'x-csrf-token': h.csrf,
        });
        const ms = performance.now() - t0;
        if (r.status === 201 && r.json.order.status === 'completed') {
          slice.latencies.push(ms);
          onPurchase();
        } else if (r.status === 422 && r.json?.error?.code === 'limit_exceeded') h.box++; // this mailbox has its 50 GB
        else {
          slice.errors++;
          if (errorSamples.length < 5) errorSamples.push(`${r.status} ${JSON.stringify(r.json)}`);
        }
      }
    }),
  );
  slice.elapsedSeconds = (performance.now() - started) / 1000;
  return slice;
}

/** Scrapes GET /metrics on every process every `everyMs` until stopped; how many scrapes answered 200. */
function startScraping(apis: Api[], everyMs: number): { stop: () => Promise<number> } {
  let stopped = false;
  let scrapes = 0;
  const loops = apis.map(async (api) => {
    while (!stopped) {
      const t0 = performance.now();
      const r = await new Promise<number>((resolve) => {
        http.get(`${api.base}/metrics`, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        }).on('error', () => resolve(0));
      });
      if (r === 200) scrapes++;
      await new Promise((res) => setTimeout(res, Math.max(0, everyMs - (performance.now() - t0))));
    }
  });
  return {
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
      return scrapes;
    },
  };
}

async function run(
  apis: Api[],
  opts: {
    seconds: number;
    concurrency: number;
    perHolder: number;
    pgbenchUrl: string | undefined;
    json: boolean;
    scrapeEveryMs: number | null;
    cpuPids: number[];
    cpuDatabase: string | undefined;
  },
): Promise<number> {
  const { seconds, concurrency, perHolder, pgbenchUrl: pgbenchUrlOption, json, scrapeEveryMs, cpuPids, cpuDatabase } = opts;
  const api = apis[0]!;
  const runId = Date.now().toString(36);
  const holders = await provision(api, concurrency, perHolder, runId);

  const errorSamples: string[] = [];
  let done = 0;
  let errorsSoFar = 0;
  const bar = progress('purchasing');
  const ticker = setInterval(() => bar.update(`${done} purchases, ${errorsSoFar} errors`), 500);
  const slices: { scraping: boolean; slice: Slice }[] = [];
  let scrapes = 0;
  const cpuStart = cpuPids.length ? startCpu(cpuPids, cpuDatabase) : null;
  if (scrapeEveryMs === null) {
    slices.push({ scraping: false, slice: await purchaseSlice(apis, holders, performance.now() + seconds * 1000, errorSamples, () => done++) });
  } else {
    // Alternating slices, so that drift over the run (a growing table, a warming cache) falls on both.
    const sliceCount = 6;
    for (let i = 0; i < sliceCount; i++) {
      const scraping = i % 2 === 1;
      const scraper = scraping ? startScraping(apis, scrapeEveryMs) : null;
      const slice = await purchaseSlice(apis, holders, performance.now() + (seconds * 1000) / sliceCount, errorSamples, () => done++);
      if (scraper) scrapes += await scraper.stop();
      errorsSoFar += slice.errors;
      slices.push({ scraping, slice });
    }
  }
  const cpuUsed = cpuStart ? cpuSpent(cpuStart, cpuPids, cpuDatabase) : null;
  clearInterval(ticker);
  const latencies = slices.flatMap((s) => s.slice.latencies);
  const errors = slices.reduce((n, s) => n + s.slice.errors, 0);
  const elapsed = slices.reduce((n, s) => n + s.slice.elapsedSeconds, 0);
  const sorted = [...latencies].sort((a, b) => a - b);
  bar.done(`${latencies.length} purchases in ${elapsed.toFixed(1)} s over ${apis.length} process${apis.length > 1 ? 'es' : ''}, ${errors} errors`);
  for (const e of errorSamples) console.error(`  error: ${e}`);
  const rateOf = (scraping: boolean) => {
    const chosen = slices.filter((s) => s.scraping === scraping);
    const secs = chosen.reduce((n, s) => n + s.slice.elapsedSeconds, 0);
    return secs > 0 ? chosen.reduce((n, s) => n + s.slice.latencies.length, 0) / secs : 0;
  };

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
    processes: apis.length,
    scraping:
      scrapeEveryMs === null
        ? null
        : {
            everyMs: scrapeEveryMs,
            scrapes,
            withoutPerSecond: Math.round(rateOf(false) * 10) / 10,
            withPerSecond: Math.round(rateOf(true) * 10) / 10,
            costPercent: rateOf(false) > 0 ? Math.round((1 - rateOf(true) / rateOf(false)) * 1000) / 10 : 0,
          },
    cpu: cpuUsed ? cpuPerPurchase(cpuUsed, latencies.length) : null,
  };
  if (json) console.log(JSON.stringify(result));
  else {
    console.log(`purchases: ${result.purchasesPerSecond}/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ${errors} errors, ledger ${result.ledgerOk ? 'ok' : 'NOT ok'}`);
    if (result.scraping) {
      const sc = result.scraping;
      console.log(`metrics: ${sc.withoutPerSecond}/s without scraping, ${sc.withPerSecond}/s with GET /metrics every ${sc.everyMs} ms (${sc.scrapes} scrapes): cost ${sc.costPercent} %`);
    }
    if (result.cpu) {
      const c = result.cpu;
      console.log(
        `CPU per purchase: server ${c.serverMsPerPurchase} ms` +
          (c.postgresMsPerPurchase === null ? '' : `, PostgreSQL ${c.postgresMsPerPurchase} ms`) +
          `, this load generator ${c.clientMsPerPurchase} ms`,
      );
    }
    if (result.pgbenchTps !== null) console.log(`pgbench: ${result.pgbenchTps} TPS; purchases/pgbench = ${result.ratio}`);
    else console.log('pgbench: not run (no pgbench on the PATH or no --pgbench-url / DATABASE_URL)');
  }
  return errors === 0 && result.ledgerOk ? 0 : 1;
}

