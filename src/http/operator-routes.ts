// The operator API of API.md (Bearer token). Every change goes through a service that audits it.
import { savedCardGatewayFor } from '../payments/registry.ts';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { App } from '../app.ts';
import { createCustomer, createMailbox, updateMailboxAsOperator } from '../services/provision.ts';
import { adjustCredit } from '../services/credit.ts';
import { readBalance, readCustomer, readMailboxes } from '../services/rows.ts';
import { customerView, mailboxView, transactionView } from '../services/views.ts';
import { notFound } from '../services/errors.ts';
import { forecastRenewals, runDailyJob } from '../services/daily.ts';
import { parseDate } from '../domain/calendar.ts';
import { audit } from '../services/audit.ts';
import { verifyLedger } from '../ledger/verify.ts';
import { clock } from '../clock.ts';
import { operatorActor, requireOperator } from './auth.ts';
import { ApiError } from './errors.ts';
import { idempotent } from './idempotency.ts';
import * as S from './schemas.ts';

export interface OperatorRouteOptions {
  app: App;
}

export async function operatorRoutes(server: FastifyInstance, opts: OperatorRouteOptions) {
  const { app } = opts;
  const ctx = app.ctx;
  server.addHook('onRequest', requireOperator(app));
  const r = server.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['operator'];
  const scopeOf = (id: string) => `operator:${id}`;
  const security = [{ bearer: [] }];

  r.post(
    '/api/admin/customers',
    { schema: { tags, security, body: S.NewCustomerBody, response: { 201: Type.Object({ customer: S.Customer }), ...S.errors(401, 422) } } },
    async (req, reply) =>
      idempotent(app, req, reply, scopeOf(req.operator!.id), async () => {
        const c = await createCustomer(ctx, operatorActor(req), req.body);
        return { status: 201, body: { customer: customerView(c) } };
      }),
  );

  r.get(
    '/api/admin/customers/:id',
    {
      schema: {
        tags,
        security,
        params: S.IdParams,
        response: {
          200: Type.Object({ customer: S.Customer, credit: Type.Object({ balanceCents: Type.Integer() }), mailboxes: Type.Array(S.Mailbox) }),
          ...S.errors(401, 404),
        },
      },
    },
    async (req) => {
      const c = await readCustomer(ctx.db, req.params.id);
      if (!c) throw notFound('customer');
      const [balanceCents, mailboxes] = await Promise.all([readBalance(ctx.db, c.id), readMailboxes(ctx.db, c.id)]);
      return { customer: customerView(c), credit: { balanceCents }, mailboxes: mailboxes.map((m) => mailboxView(m, ctx.catalogue)) };
    },
  );

  r.post(
    '/api/admin/mailboxes',
    { schema: { tags, security, body: S.NewMailboxBody, response: { 201: Type.Object({ mailbox: S.Mailbox }), ...S.errors(401, 422) } } },
    async (req, reply) =>
      idempotent(app, req, reply, scopeOf(req.operator!.id), async () => {
        const m = await createMailbox(ctx, operatorActor(req), req.body);
        return { status: 201, body: { mailbox: mailboxView(m, ctx.catalogue) } };
      }),
  );

  r.patch(
    '/api/admin/mailboxes/:id',
    { schema: { tags, security, params: S.IdParams, body: S.MailboxUpdateBody, response: { 200: Type.Object({ mailbox: S.Mailbox }), ...S.errors(401, 404, 422) } } },
    async (req) => {
      const m = await updateMailboxAsOperator(ctx, operatorActor(req), req.params.id, req.body);
      return { mailbox: mailboxView(m, ctx.catalogue) };
    },
  );

  r.post(
    '/api/admin/customers/:id/credit-adjustments',
    {
      schema: { tags, security, params: S.IdParams, body: S.AdjustmentBody, response: { 201: Type.Object({ transaction: S.CreditTransaction }), ...S.errors(401, 404, 422) } },
    },
    async (req, reply) =>
      idempotent(app, req, reply, scopeOf(req.operator!.id), async () => {
        const t = await adjustCredit(ctx, operatorActor(req), req.params.id, req.body.amountCents, req.body.reason);
        return { status: 201, body: { transaction: transactionView(t) } };
      }),
  );

  r.post(
    '/api/admin/jobs/daily',
    { schema: { tags, security, body: Type.Optional(S.EmptyBody), response: { 200: Type.Object({ summary: S.DailySummary }), ...S.errors(401) } } },
    async (req) => {
      const summary = await runDailyJob(ctx, { savedCards: savedCardGatewayFor(app.config, app.db) }); // R18
      const today = clock.today().toString();
      await app.db.transaction((tx) =>
        audit(tx, operatorActor(req), { action: 'job.daily', entityKind: 'job', entityId: `daily:${today}`, after: summary }, clock.now()),
      );
      return { summary };
    },
  );

  // What `casella forecast --on` prints, for when the CLI cannot open the embedded database because
  // this server holds it.
  r.get(
    '/api/admin/forecast',
    { schema: { tags, security, querystring: S.ForecastQuery, response: { 200: S.RenewalForecast, ...S.errors(401, 422) } } },
    async (req) => {
      const on = parseDate(req.query.on);
      if (!on) throw new ApiError('validation_failed', 'on is not a calendar date', { on: 'is not a calendar date (YYYY-MM-DD)' });
      return forecastRenewals(ctx, on);
    },
  );

  r.get(
    '/api/admin/ledger/verify',
    {
      schema: {
        tags,
        security,
        response: {
          200: Type.Object({ ok: Type.Boolean(), customersChecked: Type.Integer(), transactionsChecked: Type.Integer(), problems: Type.Array(Type.Object({ kind: Type.String() }, { additionalProperties: true })) }),
          ...S.errors(401),
        },
      },
    },
    async () => verifyLedger(ctx.db),
  );
}
