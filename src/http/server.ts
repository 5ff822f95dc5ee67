// The HTTP server. The holder and operator APIs, the pages and the payment routes register here.
import Fastify, { type FastifyInstance } from 'fastify';
import type { App } from '../app.ts';

export async function buildServer(app: App, opts: { logger?: boolean } = {}): Promise<FastifyInstance> {
  const server = Fastify({
    logger: opts.logger ? { level: 'info', redact: ['req.headers.authorization', 'req.headers.cookie'] } : false,
    bodyLimit: 64 * 1024,
  });
  server.get('/healthz', async (_req, reply) => {
    await app.db.query('SELECT 1 FROM schema_migrations LIMIT 1');
    return reply.send({ status: 'ok' });
  });
  return server;
}
