// The HTTP server. The holder and operator APIs, the pages and the payment routes register here.
import Fastify, { type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import type { App } from '../app.ts';

export async function buildServer(app: App, opts: { logger?: boolean } = {}): Promise<FastifyInstance> {
  const server = Fastify({
    logger: opts.logger ? { level: 'info', redact: ['req.headers.authorization', 'req.headers.cookie'] } : false,
    bodyLimit: 64 * 1024,
  });
  await server.register(cookie);
  await server.register(formbody);
  server.get('/healthz', async (_req, reply) => {
    await app.db.query('SELECT 1 FROM schema_migrations LIMIT 1');
    return reply.send({ status: 'ok' });
  });
  return server;
}
