// R20: a graceful stop. On SIGTERM or SIGINT the server stops taking connections (idle keep-alive
// ones are closed at once), answers any request that still arrives on a busy connection 503 with
// Retry-After (a payment gateway retries its notification on another process, or later), lets the
// requests in flight finish for at most STOP_DEADLINE_MS, stops the background loops, closes the
// database, and exits 0 saying so on one line. A second signal exits at once.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './errors.ts';

export const STOP_DEADLINE_MS = 10_000;
/** What a 503 while stopping asks the client to wait before trying again (another process, or this one restarted). */
export const RETRY_AFTER_SECONDS = 5;

const stoppingServers = new WeakSet<FastifyInstance>();

export function isStopping(server: FastifyInstance): boolean {
  return stoppingServers.has(server);
}

/**
 * Requests that arrive while stopping get API.md's error shape (`service_unavailable`, 503, with
 * Retry-After) instead of Fastify's own 503 body, and close their connection.
 * An error a handler meets because the stop is closing things under it is a 503 too, never a 500.
 */
export function refuseWhileStopping(server: FastifyInstance, handleError: (err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply) => unknown): void {
  server.addHook('onRequest', (req, reply, done) => {
    if (!stoppingServers.has(server)) return done();
    reply.header('connection', 'close');
    sendError(reply, 'service_unavailable', 'The server is restarting: try again shortly', undefined, RETRY_AFTER_SECONDS);
  });
  // A keep-alive connection whose request finishes while stopping is closed as soon as it is idle
  // (Node closes only the connections idle at the moment of close()); one with a request already
  // pipelined behind stays until that request has its 503.
  server.addHook('onResponse', (_req, _reply, done) => {
    if (stoppingServers.has(server)) setImmediate(() => server.server.closeIdleConnections());
    done();
  });
  server.setErrorHandler((err: FastifyError | Error, req, reply) => {
    const status = (err as FastifyError).statusCode ?? 500;
    if (stoppingServers.has(server) && status >= 500) {
      req.log.warn({ err }, 'request failed while stopping: answered 503');
      return sendError(reply, 'service_unavailable', 'The server is restarting: try again shortly', undefined, RETRY_AFTER_SECONDS);
    }
    return handleError(err, req, reply);
  });
}

export interface StopLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface StopParts {
  server: FastifyInstance;
  /** The background loops and the scheduler. */
  stopBackground: () => Promise<void>;
  closeDatabase: () => Promise<void>;
  log: StopLogger;
  deadlineMs?: number;
}

/** Resolves to whether `work` finished before `ms`. */
async function within(ms: number, work: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  try {
    return await Promise.race([work.then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Stops everything in order, within the deadline; resolves to the line that says how it went. */
export async function stopGracefully(parts: StopParts, signal: string): Promise<string> {
  const deadlineMs = parts.deadlineMs ?? STOP_DEADLINE_MS;
  const startedMs = Date.now();
  const left = () => deadlineMs - (Date.now() - startedMs);
  const { server } = parts;
  stoppingServers.add(server);
  parts.log.info({ signal, deadlineMs }, `stopping (${signal}): no new connections; requests in flight get ${deadlineMs / 1000} s to finish`);
  // Fastify's close stops listening, closes idle keep-alive connections and waits for the others.
  const closing = server.close();
  const requestsDone = await within(left(), closing);
  if (!requestsDone) server.server.closeAllConnections();
  // The loops finish the round they are in (an e-mail being sent is marked sent); what they do not
  // finish in time is left claimed and taken over by another process when its lease runs out.
  const backgroundDone = await within(Math.max(left(), 1000), parts.stopBackground());
  await within(2000, parts.closeDatabase());
  const seconds = ((Date.now() - startedMs) / 1000).toFixed(1);
  return `casella serve stopped on ${signal} in ${seconds} s: ${requestsDone ? 'every request in flight finished' : `requests still running after ${deadlineMs / 1000} s were cut off`}${backgroundDone ? '' : ', background work left to other processes'}`;
}
