// The HTTP server: the holder and operator APIs, payments, the test clock, the docs and the pages.
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { randomUUID } from 'node:crypto';
import type { Writable } from 'node:stream';
import type { App } from '../app.ts';
import { gatewayFor, savedCardGatewayFor } from '../payments/registry.ts';
import { paymentMethodRoutes } from './payment-method-routes.ts';
import { ApiError, clientErrorHandler, frameworkErrorHandler, handleError, sendError } from './errors.ts';
import { holderRoutes } from './holder-routes.ts';
import { operatorRoutes } from './operator-routes.ts';
import { invoiceRoutes } from './invoice-routes.ts';
import { invoiceAdminRoutes } from './invoice-admin-routes.ts';
import { paymentRoutes } from './payment-routes.ts';
import { testClockRoutes } from './test-clock-routes.ts';
import { securityHeaders } from './security-headers.ts';
import { webRoutes } from '../web/routes.ts';
import { twoStepRoutes } from './two-step-routes.ts';
import { profileRoutes } from './profile-routes.ts';
import { devRoutes } from './dev-routes.ts';
import { declareRouteRoles } from './route-roles.ts';
import { staffRoutes } from './staff-routes.ts';
import { consoleRoutes } from '../web/admin/console.ts';
import { mailPolicyRoutes } from './mail-policy-routes.ts';
import { countRequest, metricsRoutes } from './metrics.ts';
import { refuseWhileStopping } from './shutdown.ts';
import { terminalLogStream } from './log-format.ts';

export const BODY_BYTES_MAX = 64 * 1024;
const NESTING_DEPTH_MAX = 32;

function containsNul(v: unknown, depth = 0): boolean {
  if (typeof v === 'string') return v.includes('\u0000');
  if (depth > NESTING_DEPTH_MAX || v === null || typeof v !== 'object' || Buffer.isBuffer(v)) return false;
  return Object.entries(v).some(([k, x]) => k.includes('\u0000') || containsNul(x, depth + 1));
}

/** A hop count as proxy-addr reads one: the first `hops` addresses from the socket inward are proxies. */
const trustHops = (hops: number) => (_address: string, hop: number) => hop < hops;

export interface ServerOptions {
  logger?: boolean;
  /** Where log lines go (tests read them); stdout by default. */
  logStream?: Writable;
}

export async function buildServer(app: App, opts: ServerOptions = {}): Promise<FastifyInstance> {
  const logging = opts.logger || opts.logStream;
  // JSON lines for a log collector; short lines on a developer's terminal (src/http/log-format.ts).
  const logStream = opts.logStream ?? (process.stdout.isTTY && !app.config.production ? terminalLogStream(process.stdout) : undefined);
  const server = Fastify({
    logger: logging
      ? {
          level: 'info',
          ...(logStream ? { stream: logStream } : {}),
          // Secrets never reach the log: credentials, cookies, tokens. Bodies are never logged at all.
          redact: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-csrf-token"]', 'res.headers["set-cookie"]'],
        }
      : false,
    // One line per request, written when it is answered (method, URL, status, time), instead of
    // Fastify's two: each line is a synchronous write to stdout, as costly as a database round trip.
    // (Through logController: the top-level disableRequestLogging prints FSTDEP023 at every start.)
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_BYTES_MAX,
    // R20: while stopping, src/http/shutdown.ts answers in API.md's shape, with Retry-After.
    return503OnClosing: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
    },
    // API.md TRUST_PROXY: unset, req.ip is the peer and X-Forwarded-For is ignored; set, req.ip is the
    // client the trusted proxies name, so per-client limits count clients, not the proxy.
    trustProxy: typeof app.config.trustProxy === 'number' ? trustHops(app.config.trustProxy) : app.config.trustProxy,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: true } },
    // What fails before a route is found goes through the same error mapper, with the same headers.
    frameworkErrors: frameworkErrorHandler(app.config.publicUrl),
    clientErrorHandler: clientErrorHandler(app.config.publicUrl),
  });
  const gateway = gatewayFor(app.config);

  declareRouteRoles(server);
  refuseWhileStopping(server, handleError);
  // R20: every answer counted by route template and status (src/http/metrics.ts).
  server.addHook('onResponse', (req, reply, done) => {
    countRequest(req, reply);
    done();
  });
  if (logging) {
    server.addHook('onResponse', async (req, reply) => {
      req.log.info({ req, res: reply, responseTime: reply.elapsedTime }, 'request completed');
    });
  }
  // PostgreSQL text cannot hold NUL: such input is refused at the edge instead of failing in SQL.
  server.addHook('preValidation', async (req) => {
    if (containsNul(req.params)) throw new ApiError('not_found', 'Not found');
    if (containsNul(req.body) || containsNul(req.query)) throw new ApiError('validation_failed', 'Text must not contain NUL characters', {});
  });
  server.setNotFoundHandler((_req, reply) => sendError(reply, 'not_found', 'Not found'));
  server.addHook('onSend', securityHeaders(app.config.publicUrl));
  server.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  // JSON as API.md has it; an empty body counts as no body (a POST without one is common and harmless).
  server.removeContentTypeParser('application/json');
  server.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(Object.assign(new Error('The body is not valid JSON'), { statusCode: 400 }), undefined);
    }
  });

  await server.register(cookie);
  await server.register(formbody, { bodyLimit: BODY_BYTES_MAX });
  await server.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Casella API', version: '1', description: 'The holder and operator API of Casella (see API.md).' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          session: { type: 'apiKey', in: 'cookie', name: 'casella_session' },
          staffSession: { type: 'apiKey', in: 'cookie', name: 'casella_staff' },
        },
      },
    },
  });
  await server.register(swaggerUi, { routePrefix: '/api/docs', staticCSP: true });
  server.get('/api/openapi.json', { schema: { hide: true } }, async () => server.swagger());

  server.get('/healthz', { schema: { hide: true } }, async (_req, reply) => {
    await app.db.query('SELECT 1 FROM schema_migrations LIMIT 1');
    return reply.send({ status: 'ok' });
  });

  await server.register(metricsRoutes, { db: app.db, token: app.config.metricsToken });
  await server.register(holderRoutes, { app, gateway });
  await server.register(twoStepRoutes, { app });
  await server.register(profileRoutes, { app });
  await server.register(operatorRoutes, { app, gateway });
  await server.register(staffRoutes, { app });
  await server.register(invoiceRoutes, { app });
  await server.register(invoiceAdminRoutes, { app });
  // R18: saved cards and card renewal (the webhook reads Stripe's completed setups through it).
  const savedCards = savedCardGatewayFor(app.config, app.db);
  await server.register(paymentRoutes, { app, gateway, savedCards });
  await server.register(paymentMethodRoutes, { app, savedCards });
  await server.register(mailPolicyRoutes, { app });
  if (app.config.testClock) await server.register(testClockRoutes, { app });
  await server.register(webRoutes, { app, gateway });
  await server.register(consoleRoutes, { app, gateway });
  if (!app.config.smtpUrl && !app.config.production) await server.register(devRoutes, { app });
  return server;
}
