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

/** What the database holds that an operator watches: read at scrape time, each query bounded. */
function databaseGauges(db: Database): { local: Registry; snapshotPool: () => void } {
  // The pool as it was before this scrape's own queries took connections from it.
  let pool = db.poolStats?.() ?? null;
  const local = new Registry();
  const boundedCount = async (sql: string): Promise<number> => {
    const [row] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM (${sql} LIMIT ${BACKLOG_COUNT_MAX}) backlog`);
    return row?.n ?? 0;
  };
  new Gauge({
    name: 'casella_outbox_pending',
    help: `E-mails waiting to be delivered (counted up to ${BACKLOG_COUNT_MAX})`,
    registers: [local],
    async collect() {
      this.set(await boundedCount(`SELECT 1 FROM outbox WHERE status = 'pending'`));
    },
  });
  new Gauge({
    name: 'casella_outbox_failed',
    help: `E-mails that failed for good and wait for an operator (counted up to ${BACKLOG_COUNT_MAX})`,
    registers: [local],
    async collect() {
      this.set(await boundedCount(`SELECT 1 FROM outbox WHERE status = 'failed'`));
    },
  });
  new Gauge({
    name: 'casella_sdi_pending',
    help: `Invoices issued and not yet handed to SdI (counted up to ${BACKLOG_COUNT_MAX})`,
    registers: [local],
    async collect() {
      this.set(await boundedCount(`SELECT 1 FROM invoices WHERE sdi_status = 'issued'`));
    },
  });
  new Gauge({
    name: 'casella_sdi_rejected',
    help: `Invoices SdI rejected, waiting for an operator to correct and resend them (counted up to ${BACKLOG_COUNT_MAX})`,
    registers: [local],
    async collect() {
      this.set(await boundedCount(`SELECT 1 FROM invoices WHERE sdi_status = 'rejected'`));
    },
  });
  new Gauge({
    name: 'casella_daily_job_last_done_timestamp_seconds',
    help: 'When the scheduled daily job last finished, by any process (Unix time; 0: never)',
    registers: [local],
    async collect() {
      const [row] = await db.query<{ at: Date | null }>(`SELECT max(finished_at) AS at FROM job_runs WHERE job = 'daily'`);
      this.set(row?.at ? row.at.getTime() / 1000 : 0);
    },
  });
  if (pool) {
    new Gauge({
      name: 'casella_db_pool_connections',
      help: 'PostgreSQL connections of this process: open (total), idle, and requests waiting for one',
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
  return { local, snapshotPool: () => (pool = db.poolStats?.() ?? null) };
}

export async function metricsRoutes(server: FastifyInstance, opts: { db: Database; token: string | undefined }) {
  const gauges = databaseGauges(opts.db);
  const scraped = Registry.merge([registry, gauges.local]);
  server.get('/metrics', { schema: { hide: true } }, async (req, reply) => {
    if (!mayReadMetrics(req, opts.token)) return sendError(reply, 'not_found', 'Not found');
    gauges.snapshotPool();
    const text = await scraped.metrics();
    return reply.type(scraped.contentType).send(text);
  });
}
