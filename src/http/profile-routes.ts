// Issue 15 through the holder API (Casella's additions beside API.md): the profile's name and
// language, its reference e-mail change, its open sessions, and password recovery. The same service
// calls as the pages of /profilo and /password-dimenticata.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { App } from '../app.ts';
import { customerView } from '../services/views.ts';
import { updateProfile } from '../services/access/profile.ts';
import { endOtherSessions, openSessions } from '../services/access/holder-sessions.ts';
import { confirmReferenceEmail, pendingReferenceEmail, requestReferenceEmailChange, type PendingEmail } from '../services/access/reference-email.ts';
import { completePasswordReset, requestPasswordReset, resetLink } from '../services/access/password-reset.ts';
import { readCustomer } from '../services/rows.ts';
import { notFound } from '../services/errors.ts';
import { requireHolder } from './auth.ts';
import { DEVICE_COOKIE } from './cookies.ts';
import { ApiError } from './errors.ts';
import { fromAnotherSite } from './same-origin.ts';
import * as S from './schemas.ts';

const strict = { additionalProperties: false } as const;
const Locale = Type.Union([Type.Literal('it'), Type.Literal('en')]);
const ProfileBody = Type.Object({ name: Type.Optional(Type.String({ maxLength: 200 })), locale: Type.Optional(Locale) }, strict);
const Session = Type.Object({ createdAt: Type.String(), lastSeenAt: Type.String(), mailboxAddress: Type.String(), current: Type.Boolean() });
const Pending = Type.Object({ email: Type.String(), expiresAt: Type.String() });
// Issue 19: the password of the session's mailbox too, so a stolen session cannot move the address reset links go to.
const EmailBody = Type.Object({ email: Type.String({ maxLength: 254 }), currentPassword: Type.String({ minLength: 1, maxLength: 1024 }) }, strict);
const TokenParams = Type.Object({ token: Type.String({ minLength: 1, maxLength: 100 }) });
const ResetRequestBody = Type.Object({ address: Type.String({ maxLength: 320 }) }, strict);
const ResetBody = Type.Object({ newPassword: Type.String({ maxLength: 1024 }), totpCode: Type.Optional(Type.String({ maxLength: 64 })) }, strict);

const pendingJson = (p: PendingEmail | null) => (p ? { email: p.email, expiresAt: p.expiresAt.toISOString() } : null);

export async function profileRoutes(server: FastifyInstance, opts: { app: App }) {
  const { app } = opts;
  const ctx = app.ctx;
  const tags = ['holder'];
  const r = server.withTypeProvider<TypeBoxTypeProvider>();
  const refuseOtherSites = (req: Parameters<typeof fromAnotherSite>[0]) => {
    if (fromAnotherSite(req, ctx.publicUrl)) throw new ApiError('csrf_failed', 'Requests from a page of another site are refused');
  };

  // Without a session: the recovery of a lost password, and the link that confirms a reference e-mail.
  r.post('/api/password-resets', { schema: { tags, body: ResetRequestBody, response: { 202: Type.Object({}), ...S.errors(403, 422, 429) } } }, async (req, reply) => {
    refuseOtherSites(req);
    await requestPasswordReset(ctx, req.body.address, req.ip);
    return reply.code(202).send({});
  });
  r.get(
    '/api/password-resets/:token',
    { schema: { tags, params: TokenParams, response: { 200: Type.Object({ address: Type.String(), totpRequired: Type.Boolean(), expiresAt: Type.String() }), ...S.errors(404) } } },
    async (req) => {
      const link = await resetLink(ctx, req.params.token);
      if (!link) throw notFound('reset link');
      return { address: link.address, totpRequired: link.twoStep, expiresAt: link.expiresAt.toISOString() };
    },
  );
  r.post(
    '/api/password-resets/:token',
    { schema: { tags, params: TokenParams, body: ResetBody, response: { 204: Type.Null(), ...S.errors(401, 403, 404, 422, 429) } } },
    async (req, reply) => {
      refuseOtherSites(req);
      await completePasswordReset(ctx, req.params.token, req.body.newPassword, req.body.totpCode);
      return reply.code(204).send(null);
    },
  );
  r.post(
    '/api/reference-email-confirmations/:token',
    { schema: { tags, params: TokenParams, response: { 204: Type.Null(), ...S.errors(403, 404) } } },
    async (req, reply) => {
      refuseOtherSites(req);
      await confirmReferenceEmail(ctx, req.params.token);
      return reply.code(204).send(null);
    },
  );

  await server.register(async (s) => {
    s.addHook('onRequest', requireHolder(app));
    const h = s.withTypeProvider<TypeBoxTypeProvider>();
    const auth = S.errors(401, 403);

    h.patch('/api/me', { schema: { tags, body: ProfileBody, response: { 200: Type.Object({ customer: S.Customer }), ...S.errors(401, 403, 422) } } }, async (req) => ({
      customer: customerView(await updateProfile(ctx, req.holder!.customerId, req.body)),
    }));

    h.get('/api/me/sessions', { schema: { tags, response: { 200: Type.Object({ sessions: Type.Array(Session) }), ...auth } } }, async (req) => {
      const list = await openSessions(ctx, req.holder!.customerId, req.holder!.sessionToken);
      return { sessions: list.map((x) => ({ createdAt: x.createdAt.toISOString(), lastSeenAt: x.lastSeenAt.toISOString(), mailboxAddress: x.address, current: x.current })) };
    });
    h.delete('/api/me/sessions/others', { schema: { tags, response: { 200: Type.Object({ ended: Type.Integer() }), ...auth } } }, async (req) => ({
      ended: await endOtherSessions(ctx, req.holder!.customerId, req.holder!.sessionToken),
    }));

    h.get(
      '/api/me/reference-email',
      { schema: { tags, response: { 200: Type.Object({ referenceEmail: Type.String(), pending: Type.Union([Pending, Type.Null()]) }), ...auth } } },
      async (req) => {
        const customer = (await readCustomer(ctx.db, req.holder!.customerId))!;
        return { referenceEmail: customer.reference_email, pending: pendingJson(await pendingReferenceEmail(ctx.db, customer.id)) };
      },
    );
    h.post(
      '/api/me/reference-email',
      { schema: { tags, body: EmailBody, response: { 202: Type.Object({ pending: Pending }), ...S.errors(401, 403, 422, 429) } } },
      async (req, reply) => {
        const who = { customerId: req.holder!.customerId, mailboxId: req.holder!.mailboxId, clientKey: req.ip, deviceCookie: req.cookies[DEVICE_COOKIE] };
        return reply.code(202).send({ pending: pendingJson(await requestReferenceEmailChange(ctx, who, req.body.email, req.body.currentPassword))! });
      },
    );
  });
}
