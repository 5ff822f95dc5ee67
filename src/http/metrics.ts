// R20: `GET /metrics` (API.md "Metrics") and the per-request counting behind it. The per-request work
// is one map lookup and two increments (the labelled children are cached), so that counting costs
// the purchase path almost nothing (docs/PERFORMANCE.md "Metrics").
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Gauge, Registry } from 'prom-client';
import type { Database } from '../db/database.ts';
import { httpRequestDurationSeconds, httpRequestsTotal, registry } from '../metrics.ts';
import { sendError } from './errors.ts';

/** A backlog bigger than this reads as this: a scrape must stay cheap whatever the backlog. */
export const BACKLOG_COUNT_MAX = 100_000;

/** Methods as they are; anything else (a scanner's WHATEVER) as one label value. */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/** Requests that match no route (404s, scanners): one label value, never the path they asked for. */
export const UNMATCHED_ROUTE = 'unmatched';

interface RequestSeries {
  count: { inc(): void };
  duration: { observe(seconds: number): void };
}
const seriesByKey = new Map<string, RequestSeries>();

function seriesOf(method: string, route: string, status: number): RequestSeries {
  const key = `${method} ${status} ${route}`;
  let s = seriesByKey.get(key);
  if (!s) {
    s = {
      count: httpRequestsTotal.labels(method, route, String(status)),
      duration: httpRequestDurationSeconds.labels(method, route),
    };
    seriesByKey.set(key, s);
  }
  return s;
}

/** Counts one answered request under its route template (`/api/orders/:id`, never the id itself). */
export function countRequest(req: FastifyRequest, reply: FastifyReply): void {
  const method = KNOWN_METHODS.has(req.method) ? req.method : 'OTHER';
  // A 404 from the not-found handler has no route; a route's own 404 (an unknown id) keeps its template.
  const route = req.routeOptions.url ?? UNMATCHED_ROUTE;
  const s = seriesOf(method, route, reply.statusCode);
  s.count.inc();
  s.duration.observe(reply.elapsedTime / 1000);
}

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/** 127.0.0.0/8 and ::1, as the socket's peer (never a forwarded header). */
function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}

/**
 * Loopback, or the bearer token. A request that came through a reverse proxy on the same machine
 * also arrives from loopback: one carrying a forwarding header is not taken as local.
 */
export function mayReadMetrics(req: FastifyRequest, token: string | undefined): boolean {
  const forwarded = req.headers['x-forwarded-for'] !== undefined || req.headers.forwarded !== undefined || req.headers['x-real-ip'] !== undefined;
  if (!forwarded && isLoopback(req.socket.remoteAddress)) return true;
  const given = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  return !!token && !!given && timingSafeEqual(sha256(given), sha256(token));
}

interface DatabaseReading {
  outboxPending: number;
  outboxFailed: number;
  sdiPending: number;
  sdiRejected: number;
  dailyJobLastDoneSeconds: number;
}

/**
 * What the database holds that an operator watches, read once per scrape in one statement whose
 * counts are each bounded (a scrape must stay cheap whatever the backlog; the partial indexes on
 * pending e-mails and invoices serve them).
 */
async function readDatabase(db: Database): Promise<DatabaseReading> {
  const bounded = (sql: string) => `(SELECT count(*)::int FROM (${sql} LIMIT ${BACKLOG_COUNT_MAX}) AS bounded)`;
  const [row] = await db.query<{ outbox_pending: number; outbox_failed: number; sdi_pending: number; sdi_rejected: number; daily_done_at: Date | null }>(
    `SELECT ${bounded(`SELECT 1 FROM outbox WHERE status = 'pending'`)} AS outbox_pending,
            ${bounded(`SELECT 1 FROM outbox WHERE status = 'failed'`)} AS outbox_failed,
            ${bounded(`SELECT 1 FROM invoices WHERE sdi_status = 'issued'`)} AS sdi_pending,
            ${bounded(`SELECT 1 FROM invoices WHERE sdi_status = 'rejected'`)} AS sdi_rejected,
            (SELECT max(finished_at) FROM job_runs WHERE job = 'daily') AS daily_done_at`,
  );
  return {
    outboxPending: row?.outbox_pending ?? 0,
    outboxFailed: row?.outbox_failed ?? 0,
    sdiPending: row?.sdi_pending ?? 0,
    sdiRejected: row?.sdi_rejected ?? 0,
    dailyJobLastDoneSeconds: row?.daily_done_at ? new Date(row.daily_done_at).getTime() / 1000 : 0,
  };
}

/** The gauges read at scrape time: `read()` before each scrape takes the database and the pool as they are. */
function scrapeTimeGauges(db: Database): { local: Registry; read: () => Promise<void> } {
  const local = new Registry();
  // The pool as it was before this scrape's own query took a connection from it.
  let pool = db.poolStats?.() ?? null;
  let reading: DatabaseReading | null = null;
  const gauge = (name: string, help: string, value: (r: DatabaseReading) => number) =>
    new Gauge({
      name,
      help,
      registers: [local],
      collect() {
        if (reading) this.set(value(reading));
      },
    });
  gauge('casella_outbox_pending', `E-mails waiting to be delivered (counted up to ${BACKLOG_COUNT_MAX})`, (r) => r.outboxPending);
  gauge('casella_outbox_failed', `E-mails that failed for good and wait for an operator (counted up to ${BACKLOG_COUNT_MAX})`, (r) => r.outboxFailed);
  gauge('casella_sdi_pending', `Invoices issued and not yet handed to SdI (counted up to ${BACKLOG_COUNT_MAX})`, (r) => r.sdiPending);
  gauge('casella_sdi_rejected', `Invoices SdI rejected, waiting to be corrected and resent (counted up to ${BACKLOG_COUNT_MAX})`, (r) => r.sdiRejected);
  gauge('casella_daily_job_last_done_timestamp_seconds', 'When the scheduled daily job last finished, by any process (Unix time; 0: never)', (r) => r.dailyJobLastDoneSeconds);
  if (pool) {
    new Gauge({
      name: 'casella_db_pool_connections',
      help: 'PostgreSQL connections of this process: open (total), idle, and callers waiting for one',
      labelNames: ['state'] as const,
      registers: [local],
      collect() {
        if (!pool) return;
        this.set({ state: 'total' }, pool.total);
        this.set({ state: 'idle' }, pool.idle);
        this.set({ state: 'waiting' }, pool.waiting);
      },
    });
  }
  return {
    local,
    read: async () => {
      pool = db.poolStats?.() ?? null;
      reading = await readDatabase(db);
    },
  };
}

export async function metricsRoutes(server: FastifyInstance, opts: { db: Database; token: string | undefined }) {
  const gauges = scrapeTimeGauges(opts.db);
  const scraped = Registry.merge([registry, gauges.local]);
  server.get('/metrics', { schema: { hide: true } }, async (req, reply) => {
    if (!mayReadMetrics(req, opts.token)) return sendError(reply, 'not_found', 'Not found');
    await gauges.read();
    const text = await scraped.metrics();
    return reply.type(scraped.contentType).send(text);
  });
}
