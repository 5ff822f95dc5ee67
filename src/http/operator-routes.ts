// The operator API of API.md (Bearer token). Every change goes through a service that audits it.
import { savedCardGatewayFor } from '../payments/registry.ts';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { App } from '../app.ts';
import { createCustomer, createMailbox, provisionHolder, updateMailboxAsOperator } from '../services/mailboxes/provision.ts';
import { adjustCredit } from '../services/billing/credit.ts';
import { readBalance, readCustomer, readMailboxes } from '../services/rows.ts';
import { billingProfileView, customerView, mailboxView, topupView, transactionView } from '../services/views.ts';
import { bankAccountOf, recordBankTransfer } from '../services/billing/topups.ts';
import { readBillingProfile } from '../services/billing/billing-profiles.ts';
import { notFound, requireReason } from '../services/errors.ts';
import { changeNextType } from '../services/staff/mailbox-lifecycle.ts';
import { forecastRenewals, runDailyJob } from '../services/daily.ts';
import { INPUT_DATE_RULE, parseInputDate } from '../domain/calendar.ts';
import { audit } from '../services/audit.ts';
import { verifyLedger } from '../ledger/verify.ts';
import { clock } from '../clock.ts';
import { operatorActor, requireOperator } from './auth.ts';
import { ApiError } from './errors.ts';
import { idempotent, requestKeyOf } from './idempotency.ts';
import type { PaymentGateway } from '../payments/gateway.ts';
import { closeAccountRefund, listRefunds, refundPayment, refundView, withdrawFromTopup } from '../services/billing/refunds.ts';
import * as S from './schemas.ts';
import { observeDailyJob } from '../metrics.ts';

export interface OperatorRouteOptions {
  app: App;
  gateway: PaymentGateway;
}

export async function operatorRoutes(server: FastifyInstance, opts: OperatorRouteOptions) {
  const { app, gateway } = opts;
  const ctx = app.ctx;
  server.addHook('onRequest', requireOperator(app));
  const r = server.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['operator'];
  const scopeOf = (id: string) => `operator:${id}`;
  const security = [{ bearer: [] }];

  r.post(
    '/api/admin/customers',
    {
      config: { role: 'admin' },
      schema: { tags, security, body: S.NewCustomerBody, response: { 201: Type.Object({ customer: S.Customer, mailboxes: Type.Optional(Type.Array(S.Mailbox)) }), ...S.errors(401, 409, 422) } },
    },
    async (req, reply) =>
      idempotent(app, req, reply, scopeOf(req.operator!.id), async () => {
        const { mailboxes, ...customer } = req.body;
        if (mailboxes === undefined) return { status: 201, body: { customer: customerView(await createCustomer(ctx, operatorActor(req), customer)) } };
        // R19: the holder with its mailboxes, all or nothing.
        const made = await provisionHolder(ctx, operatorActor(req), { ...customer, mailboxes });
        return { status: 201, body: { customer: customerView(made.customer), mailboxes: made.mailboxes.map((m) => mailboxView(m, ctx.catalogue)) } };
      }),
  );

  r.get(
    '/api/admin/customers/:id',
    { config: { role: 'support' },
      schema: {
        tags,
        security,
        params: S.IdParams,
        response: {
          200: Type.Object({ customer: S.Customer, credit: Type.Object({ balanceCents: Type.Integer() }), mailboxes: Type.Array(S.Mailbox), billingProfile: Type.Union([S.BillingProfile, Type.Null()]) }),
          ...S.errors(401, 404),
        },
      },
    },
    async (req) => {
      const c = await readCustomer(ctx.db, req.params.id);
      if (!c) throw notFound('customer');
      const [balanceCents, mailboxes, billing] = await Promise.all([readBalance(ctx.db, c.id), readMailboxes(ctx.db, c.id), readBillingProfile(ctx.db, c.id)]);
      return {
        customer: customerView(c),
        credit: { balanceCents },
        mailboxes: mailboxes.map((m) => mailboxView(m, ctx.catalogue)),
        billingProfile: billing ? billingProfileView(billing) : null,
      };
    },
  );

  r.post(
    '/api/admin/mailboxes',
    { config: { role: 'admin' }, schema: { tags, security, body: S.NewMailboxBody, response: { 201: Type.Object({ mailbox: S.Mailbox }), ...S.errors(401, 422) } } },
    async (req, reply) =>
      idempotent(app, req, reply, scopeOf(req.operator!.id), async () => {
        const m = await createMailbox(ctx, operatorActor(req), req.body);
        return { status: 201, body: { mailbox: mailboxView(m, ctx.catalogue) } };
      }),
  );

  r.patch(
    '/api/admin/mailboxes/:id',
    { config: { role: 'admin' }, schema: { tags, security, params: S.IdParams, body: S.MailboxUpdateBody, response: { 200: Type.Object({ mailbox: S.Mailbox }), ...S.errors(401, 404, 422) } } },
    async (req) => {
      const { type, reason, ...change } = req.body;
      // R19: a type change applies from the next renewal, and like every staff change it says why.
      const why = type === undefined ? null : requireReason(reason);
      let m = await updateMailboxAsOperator(ctx, operatorActor(req), req.params.id, change);
      if (type !== undefined) m = await changeNextType(ctx, operatorActor(req), req.params.id, type, why!);
      return { mailbox: mailboxView(m, ctx.catalogue) };
    },
  );

  r.post(
    '/api/admin/customers/:id/credit-adjustments',
    { config: { role: 'billing' },
      schema: { tags, security, params: S.IdParams, body: S.AdjustmentBody, response: { 201: Type.Object({ transaction: S.CreditTransaction }), ...S.errors(401, 404, 422) } },
    },
    async (req, reply) =>
      idempotent(app, req, reply, scopeOf(req.operator!.id), async () => {
        const t = await adjustCredit(ctx, operatorActor(req), req.params.id, req.body.amountCents, requireReason(req.body.reason));
        return { status: 201, body: { transaction: transactionView(t) } };
      }),
  );

  // R17: a bank transfer received; credits and invoices the top-up exactly as a card payment does.
  r.post(
    '/api/admin/bank-transfers',
    { config: { role: 'billing' }, schema: { tags, security, body: S.BankTransferBody, response: { 201: Type.Object({ topup: S.Topup }), ...S.errors(401, 404, 409, 422) } } },
    async (req, reply) =>
      idempotent(app, req, reply, scopeOf(req.operator!.id), async () => {
        const t = await recordBankTransfer(ctx, operatorActor(req), req.body);
        return { status: 201, body: { topup: topupView(t, null, bankAccountOf(ctx)) } };
      }),
  );

  // R17: refunds through the gateway that took the payment, each with its credit note.
  const refundCreated = { 201: Type.Object({ refund: S.Refund }), ...S.errors(401, 404, 409, 422) };
  r.post('/api/admin/topups/:id/refunds', { config: { role: 'billing' }, schema: { tags, security, params: S.IdParams, body: S.RefundBody, response: refundCreated } }, async (req, reply) => {
    const refund = await refundPayment(ctx, gateway, operatorActor(req), req.params.id, req.body.amountCents, req.body.reason, requestKeyOf(req, scopeOf(req.operator!.id)));
    return reply.code(201).send({ refund: refundView(refund) });
  });
  // R17: a withdrawal the holder made by writing to the provider (Codice del Consumo art. 54), recorded by staff.
  r.post(
    '/api/admin/topups/:id/withdrawal',
    { config: { role: 'billing' }, schema: { tags, security, params: S.IdParams, body: S.ClosingRefundBody, response: { 201: Type.Object({ refund: S.Refund }), ...S.errors(401, 404, 409, 422) } } },
    async (req, reply) => {
      const refund = await withdrawFromTopup(ctx, gateway, null, req.params.id, requestKeyOf(req, scopeOf(req.operator!.id)), { actor: operatorActor(req), reason: req.body.reason });
      return reply.code(201).send({ refund: refundView(refund) });
    },
  );
  r.post(
    '/api/admin/customers/:id/closing-refund',
    { config: { role: 'billing' }, schema: { tags, security, params: S.IdParams, body: S.ClosingRefundBody, response: { 201: Type.Object({ refunds: Type.Array(S.Refund) }), ...S.errors(401, 404, 409, 422) } } },
    async (req, reply) => {
      const refunds = await closeAccountRefund(ctx, gateway, operatorActor(req), req.params.id, req.body.reason);
      return reply.code(201).send({ refunds: refunds.map(refundView) });
    },
  );
  r.get(
    '/api/admin/customers/:id/refunds',
    { config: { role: 'support' }, schema: { tags, security, params: S.IdParams, response: { 200: Type.Object({ refunds: Type.Array(S.Refund) }), ...S.errors(401, 404) } } },
    async (req) => {
      if (!(await readCustomer(ctx.db, req.params.id))) throw notFound('customer');
      return { refunds: (await listRefunds(ctx.db, req.params.id)).map(refundView) };
    },
  );

  r.post(
    '/api/admin/jobs/daily',
    { config: { role: 'admin' }, schema: { tags, security, body: Type.Optional(S.EmptyBody), response: { 200: Type.Object({ summary: S.DailySummary }), ...S.errors(401) } } },
    async (req) => {
      const startedMs = clock.wallMs();
      let summary: Awaited<ReturnType<typeof runDailyJob>>;
      try {
        summary = await runDailyJob(ctx, { savedCards: savedCardGatewayFor(app.config, app.db) }); // R18
      } catch (err) {
        observeDailyJob((clock.wallMs() - startedMs) / 1000, null);
        throw err;
      }
      observeDailyJob((clock.wallMs() - startedMs) / 1000, summary);
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
    { config: { role: 'support' }, schema: { tags, security, querystring: S.ForecastQuery, response: { 200: S.RenewalForecast, ...S.errors(401, 422) } } },
    async (req) => {
      const on = parseInputDate(req.query.on);
      if (!on) throw new ApiError('validation_failed', 'Some fields are not valid', { on: INPUT_DATE_RULE });
      return forecastRenewals(ctx, on);
    },
  );

  r.get(
    '/api/admin/ledger/verify',
    { config: { role: 'support' },
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
