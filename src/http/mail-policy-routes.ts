// R12, R14: the endpoint Dovecot's auth policy asks (auth_policy_server_url, written by
// `casella dovecot-config`): before each login to the mail server, whether the guess may be tried;
// after it, how it went. Only the mail server on this machine may ask: the caller must be on
// loopback, come through no proxy (a reverse proxy on this machine makes every client loopback,
// but it adds X-Forwarded-For or Forwarded), and show a key of mail_policy_keys. Anyone else gets
// 404, as if the endpoint did not exist.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { App } from '../app.ts';
import { allowMailLogin, isMailPolicyKey, reportMailLogin } from '../services/mailboxes/mail-login-policy.ts';
import { MAIL_POLICY_PATH } from '../mail-platform/dovecot-config.ts';
import { isLoopback } from './dev-routes.ts';
import { ApiError } from './errors.ts';


const KEY_HEADER = /^Bearer ([A-Za-z0-9_-]{20,100})$/;

async function fromLocalMailServer(app: App, req: FastifyRequest): Promise<boolean> {
  if (!isLoopback(req.socket.remoteAddress ?? '') || !isLoopback(req.ip)) return false;
  if (req.headers['x-forwarded-for'] !== undefined || req.headers.forwarded !== undefined) return false;
  const key = KEY_HEADER.exec((req.headers.authorization ?? '').trim());
  return key !== null && (await isMailPolicyKey(app.db, key[1]!));
}

// Dovecot adds attributes of its own to those configured (`tls` over TLS, for one): unlike the public
// API, unknown fields are accepted here and ignored.
const PolicyBody = Type.Object(
  {
    login: Type.Optional(Type.String({ maxLength: 1000 })),
    remote: Type.Optional(Type.String({ maxLength: 100 })),
    protocol: Type.Optional(Type.String({ maxLength: 100 })),
    success: Type.Optional(Type.Boolean()),
    policy_reject: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: true },
);

export async function mailPolicyRoutes(server: FastifyInstance, opts: { app: App }) {
  const { app } = opts;
  const r = server.withTypeProvider<TypeBoxTypeProvider>();
  r.post(
    MAIL_POLICY_PATH,
    {
      schema: { hide: true, querystring: Type.Object({ command: Type.Union([Type.Literal('allow'), Type.Literal('report')]) }), body: PolicyBody },
      // Checked before the body is read: a caller that is not the local mail server learns nothing.
      onRequest: async (req) => {
        if (!(await fromLocalMailServer(app, req))) throw new ApiError('not_found', 'Not found');
      },
    },
    async (req) => {
      if (req.query.command === 'report') {
        await reportMailLogin(app.db, req.body);
        return { status: 0 };
      }
      return allowMailLogin(app.db, req.body);
    },
  );
}
