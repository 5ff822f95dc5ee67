// R15, the holder's side: billing data ("Dati di fatturazione") and invoices, with their FatturaPA
// file and courtesy copy. Another holder's invoice answers 404 (R12).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { App } from '../app.ts';
import { readBillingProfile, saveBillingProfile } from '../services/billing/billing-profiles.ts';
import { invoiceDocument, listInvoices, readInvoice, type InvoiceRow } from '../services/billing/invoices.ts';
import { billingProfileView, invoiceView } from '../services/views.ts';
import { readCustomer } from '../services/rows.ts';
import { fatturaPaXml } from '../invoicing/fatturapa.ts';
import { courtesyCopyPdf, type CourtesyBrand } from '../invoicing/courtesy-pdf.ts';
import type { Locale } from '../i18n/format.ts';
import { requireHolder } from './auth.ts';
import * as S from './schemas.ts';

/** The FatturaPA file as a download, under its SdI file name. */
export function sendInvoiceXml(reply: FastifyReply, row: InvoiceRow) {
  return reply
    .type('application/xml; charset=utf-8')
    .header('content-disposition', `attachment; filename="${row.file_name}"`)
    .send(fatturaPaXml(invoiceDocument(row), row.transmission_seq));
}

export const courtesyFileName = (row: InvoiceRow): string => `fattura-${row.number.replace('/', '-')}.pdf`;

/** The provider's brand as the courtesy copy shows it: logo, name, support address and site. */
export const courtesyBrandOf = (app: App): CourtesyBrand => ({
  name: app.config.brand.name,
  logo: app.config.brand.logo,
  supportEmail: app.config.brand.supportEmail,
  website: app.config.publicUrl,
});

export async function sendInvoicePdf(reply: FastifyReply, row: InvoiceRow, locale: Locale, brand: CourtesyBrand | null = null) {
  const pdf = await courtesyCopyPdf(invoiceDocument(row), row.file_name, locale, brand);
  return reply.type('application/pdf').header('content-disposition', `attachment; filename="${courtesyFileName(row)}"`).send(pdf);
}

export async function invoiceRoutes(server: FastifyInstance, opts: { app: App }) {
  const { app } = opts;
  const ctx = app.ctx;
  server.addHook('onRequest', requireHolder(app));
  const h = server.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['holder'];
  const customerOf = (req: FastifyRequest) => req.holder!.customerId;

  const profileResponse = Type.Object({ billingProfile: Type.Union([S.BillingProfile, Type.Null()]) });
  h.get('/api/me/billing-profile', { schema: { tags, response: { 200: profileResponse, ...S.errors(401, 403) } } }, async (req) => {
    const stored = await readBillingProfile(ctx.db, customerOf(req));
    return { billingProfile: stored ? billingProfileView(stored) : null };
  });
  h.put(
    '/api/me/billing-profile',
    { schema: { tags, body: S.BillingProfileBody, response: { 200: Type.Object({ billingProfile: S.BillingProfile }), ...S.errors(401, 403, 422) } } },
    async (req) => ({ billingProfile: billingProfileView(await saveBillingProfile(ctx, { kind: 'holder', id: customerOf(req) }, customerOf(req), req.body)) }),
  );

  h.get('/api/invoices', { schema: { tags, response: { 200: Type.Object({ invoices: Type.Array(S.Invoice) }), ...S.errors(401, 403) } } }, async (req) => ({
    invoices: (await listInvoices(ctx.db, customerOf(req))).map(invoiceView),
  }));
  const one = { tags, params: S.IdParams };
  h.get('/api/invoices/:id', { schema: { ...one, response: { 200: Type.Object({ invoice: S.Invoice }), ...S.errors(401, 403, 404) } } }, async (req) => ({
    invoice: invoiceView(await readInvoice(ctx.db, customerOf(req), req.params.id)),
  }));
  h.get('/api/invoices/:id/xml', { schema: { ...one, produces: ['application/xml'], response: { 200: S.FileResponse, ...S.errors(401, 403, 404) } } }, async (req, reply) =>
    sendInvoiceXml(reply, await readInvoice(ctx.db, customerOf(req), req.params.id)),
  );
  h.get('/api/invoices/:id/pdf', { schema: { ...one, produces: ['application/pdf'], response: { 200: S.FileResponse, ...S.errors(401, 403, 404) } } }, async (req, reply) => {
    const row = await readInvoice(ctx.db, customerOf(req), req.params.id);
    const customer = await readCustomer(ctx.db, customerOf(req));
    return sendInvoicePdf(reply, row, customer?.locale ?? 'it', courtesyBrandOf(app));
  });
}
