// R15, the operator's and accountant's side: invoices by period, one invoice with its SdI history,
// a rejected invoice corrected and sent again, a month's files as a zip, the month's VAT register.
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { App } from '../app.ts';
import { INPUT_DATE_RULE, INPUT_MONTH_RULE, parseInputDate } from '../domain/calendar.ts';
import { invoiceEvents, listInvoicesIssued, readInvoice, recordOutcomeByOperator, resendInvoice } from '../services/billing/invoices.ts';
import { saveBillingProfile } from '../services/billing/billing-profiles.ts';
import { readCustomer } from '../services/rows.ts';
import { adminInvoiceView, billingProfileView } from '../services/views.ts';
import { invalid, notFound, requireReason } from '../services/errors.ts';
import { monthRange, monthZip, vatRegisterCsv } from '../invoicing/register.ts';
import { operatorActor, requireOperator } from './auth.ts';
import { sendInvoiceXml } from './invoice-routes.ts';
import * as S from './schemas.ts';

export async function invoiceAdminRoutes(server: FastifyInstance, opts: { app: App }) {
  const { app } = opts;
  const ctx = app.ctx;
  server.addHook('onRequest', requireOperator(app));
  const r = server.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['operator'];
  const security = [{ bearer: [] }];
  const monthOf = (month: string) => {
    const range = monthRange(month);
    if (!range) throw invalid({ month: INPUT_MONTH_RULE });
    return range;
  };

  r.get(
    '/api/admin/invoices',
    { config: { role: 'support' }, schema: { tags, security, querystring: S.InvoicePeriodQuery, response: { 200: Type.Object({ invoices: Type.Array(S.AdminInvoice) }), ...S.errors(401, 422) } } },
    async (req) => {
      const { from, to, status } = req.query;
      const fields: Record<string, string> = {};
      if (!parseInputDate(from)) fields.from = INPUT_DATE_RULE;
      if (!parseInputDate(to)) fields.to = INPUT_DATE_RULE;
      if (Object.keys(fields).length) throw invalid(fields);
      return { invoices: (await listInvoicesIssued(ctx.db, from, to, status ?? null)).map(adminInvoiceView) };
    },
  );

  r.get(
    '/api/admin/invoices/export',
    { config: { role: 'support' }, schema: { tags, security, querystring: S.MonthQuery, produces: ['application/zip'], response: { 200: S.FileResponse, ...S.errors(401, 422) } } },
    async (req, reply) => {
      const range = monthOf(req.query.month);
      return reply
        .type('application/zip')
        .header('content-disposition', `attachment; filename="fatture-${req.query.month}.zip"`)
        .send(Readable.from(monthZip(ctx.db, range)));
    },
  );

  r.get(
    '/api/admin/invoices/register',
    { config: { role: 'support' }, schema: { tags, security, querystring: S.MonthQuery, produces: ['text/csv'], response: { 200: S.FileResponse, ...S.errors(401, 422) } } },
    async (req, reply) => {
      const range = monthOf(req.query.month);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="registro-iva-vendite-${req.query.month}.csv"`)
        .send(Readable.from(vatRegisterCsv(ctx.db, range)));
    },
  );

  r.get(
    '/api/admin/invoices/:id',
    { config: { role: 'support' },
      schema: {
        tags,
        security,
        params: S.IdParams,
        response: { 200: Type.Object({ invoice: S.AdminInvoice, buyer: S.BillingProfile, events: Type.Array(S.InvoiceEvent) }), ...S.errors(401, 404) },
      },
    },
    async (req) => {
      const row = await readInvoice(ctx.db, null, req.params.id);
      const events = await invoiceEvents(ctx.db, row.id);
      return {
        invoice: adminInvoiceView(row),
        buyer: { ...row.buyer, updatedAt: null },
        events: events.map((e) => ({ at: e.at.toISOString(), fileName: e.file_name, status: e.status, message: e.message })),
      };
    },
  );

  r.get('/api/admin/invoices/:id/xml', { config: { role: 'support' }, schema: { tags, security, params: S.IdParams, produces: ['application/xml'], response: { 200: S.FileResponse, ...S.errors(401, 404) } } }, async (req, reply) =>
    sendInvoiceXml(reply, await readInvoice(ctx.db, null, req.params.id)),
  );

  r.post(
    '/api/admin/invoices/:id/resend',
    { config: { role: 'billing' }, schema: { tags, security, params: S.IdParams, body: S.ResendInvoiceBody, response: { 200: Type.Object({ invoice: S.AdminInvoice }), ...S.errors(401, 404, 409, 422) } } },
    async (req) => {
      const reason = requireReason(req.body.reason);
      const row = await resendInvoice(ctx, operatorActor(req), req.params.id, (req.body.buyer as Record<string, unknown> | undefined) ?? null, reason);
      return { invoice: adminInvoiceView(row) };
    },
  );

  r.post(
    '/api/admin/invoices/:id/outcome',
    { config: { role: 'billing' }, schema: { tags, security, params: S.IdParams, body: S.InvoiceOutcomeBody, response: { 200: Type.Object({ invoice: S.AdminInvoice }), ...S.errors(401, 404, 409, 422) } } },
    async (req) => {
      const reason = requireReason(req.body.reason);
      const row = await recordOutcomeByOperator(ctx, operatorActor(req), req.params.id, { status: req.body.status, message: req.body.message ?? null }, reason);
      return { invoice: adminInvoiceView(row) };
    },
  );

  r.put(
    '/api/admin/customers/:id/billing-profile',
    { config: { role: 'billing' }, schema: { tags, security, params: S.IdParams, body: S.BillingProfileBody, response: { 200: Type.Object({ billingProfile: S.BillingProfile }), ...S.errors(401, 404, 422) } } },
    async (req) => {
      if (!(await readCustomer(ctx.db, req.params.id))) throw notFound('customer');
      const stored = await saveBillingProfile(ctx, operatorActor(req), req.params.id, req.body);
      return { billingProfile: billingProfileView(stored) };
    },
  );
}
