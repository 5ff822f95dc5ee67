// Two-step verification through the holder API (Casella's addition beside API.md's totpCode): the
// same service calls as the /profilo/due-passaggi pages.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { App } from '../app.ts';
import { readCustomer } from '../services/rows.ts';
import { confirmEnrolment, disableTwoStep, enrolment, twoStepStatus } from '../services/access/two-step.ts';
import { requireHolder } from './auth.ts';
import * as S from './schemas.ts';

const CodeBody = Type.Object({ totpCode: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });
const Status = Type.Object({ enabled: Type.Boolean(), enabledAt: Type.Union([Type.String(), Type.Null()]), recoveryCodesLeft: Type.Integer() });

export async function twoStepRoutes(server: FastifyInstance, opts: { app: App }) {
  const { app } = opts;
  const ctx = app.ctx;
  const tags = ['holder'];
  server.addHook('onRequest', requireHolder(app));
  const h = server.withTypeProvider<TypeBoxTypeProvider>();
  const errors = S.errors(401, 403, 422);

  h.get('/api/me/two-step', { schema: { tags, response: { 200: Type.Object({ twoStep: Status }), ...errors } } }, async (req) => {
    const s = await twoStepStatus(ctx.db, req.holder!.customerId);
    return { twoStep: { enabled: s.enabled, enabledAt: s.enabledAt ? s.enabledAt.toISOString() : null, recoveryCodesLeft: s.recoveryCodesLeft } };
  });

  h.post(
    '/api/me/two-step/enrolment',
    { schema: { tags, response: { 200: Type.Object({ secret: Type.String(), otpauthUri: Type.String(), qrDataUrl: Type.String() }), ...errors } } },
    async (req) => {
      const customer = (await readCustomer(ctx.db, req.holder!.customerId))!;
      return enrolment(ctx, customer.id, app.config.brand.name, customer.reference_email);
    },
  );

  h.post(
    '/api/me/two-step/confirmation',
    { schema: { tags, body: CodeBody, response: { 200: Type.Object({ recoveryCodes: Type.Array(Type.String()) }), ...errors } } },
    async (req) => ({ recoveryCodes: await confirmEnrolment(ctx, req.holder!.customerId, req.body.totpCode) }),
  );

  h.post('/api/me/two-step/disable', { schema: { tags, body: CodeBody, response: { 204: Type.Null(), ...S.errors(401, 403, 422, 429) } } }, async (req, reply) => {
    await disableTwoStep(ctx, req.holder!.customerId, req.body.totpCode);
    return reply.code(204).send(null);
  });
}
