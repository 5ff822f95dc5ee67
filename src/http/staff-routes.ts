// R19: the staff's API beside the operator API — console sessions, staff accounts, search, the
// holder's whole record, the audit trail and the overview. Each route declares its role once.
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { App } from '../app.ts';
import { clock } from '../clock.ts';
import { addDays, parseDate, startOfDayInRome } from '../domain/calendar.ts';
import { isStaffRole } from '../domain/staff-role.ts';
import { createStaff, endStaffSession, listStaff, newSetupLink, staffLogin, updateStaff, type StaffMember } from '../services/staff/accounts.ts';
import { searchHolders } from '../services/staff/search.ts';
import { accessOf, emailsOf, requireCustomer, statementPage, topupsOf } from '../services/staff/holder-record.ts';
import { readOverview } from '../services/staff/overview.ts';
import { readAudit, type AuditFilter } from '../services/audit.ts';
import { readOrders } from '../services/billing/orders.ts';
import { listInvoices } from '../services/billing/invoices.ts';
import { readBalance } from '../services/rows.ts';
import { invalid, requireReason } from '../services/errors.ts';
import { adminInvoiceView, customerView, mailboxView, orderView, topupView, transactionView } from '../services/views.ts';
import { changeMailboxState, extendExpiry } from '../services/staff/mailbox-lifecycle.ts';
import { changeReferenceEmailByStaff, resetTwoStep, sendPasswordResetLink } from '../services/staff/support-actions.ts';
import { auditCsv } from '../services/staff/audit-export.ts';
import { operatorActor, requireOperator } from './auth.ts';
import { ApiError } from './errors.ts';
import { STAFF_COOKIE, staffCookieOptions } from './cookies.ts';
import { fromAnotherSite } from './same-origin.ts';
import * as S from './schemas.ts';
import * as T from './staff-schemas.ts';

const staffView = (m: StaffMember) => ({ id: m.id, email: m.email, name: m.name, role: m.role });
const memberView = (m: StaffMember) => ({ ...staffView(m), enrolled: m.enrolled, disabled: m.disabled, createdAt: m.createdAt.toISOString() });

/** Audit filters' calendar dates (Europe/Rome) as instants: from the start of `from` to the end of `to`. */
function auditRange(from: string | undefined, to: string | undefined): Pick<AuditFilter, 'from' | 'to'> {
  const range: Pick<AuditFilter, 'from' | 'to'> = {};
  const fields: Record<string, string> = {};
  for (const [name, text] of [['from', from], ['to', to]] as const) {
    if (text === undefined) continue;
    const d = parseDate(text);
    if (!d || d.year < 2000 || d.year > 2999) fields[name] = 'must be a date between 2000-01-01 and 2999-12-31';
    else if (name === 'from') range.from = new Date(startOfDayInRome(d));
    else range.to = new Date(startOfDayInRome(addDays(d, 1)));
  }
  if (Object.keys(fields).length) throw invalid(fields);
  return range;
}

export async function staffRoutes(server: FastifyInstance, opts: { app: App }) {
  const { app } = opts;
  const ctx = app.ctx;
  server.addHook('onRequest', requireOperator(app));
  const r = server.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['staff'];
  const security: Record<string, string[]>[] = [{ bearer: [] }, { staffSession: [] }];

  r.post(
    '/api/admin/session',
    { config: { role: 'public' }, schema: { tags, body: T.StaffLoginBody, response: { 200: Type.Object({ staff: T.Staff, csrfToken: Type.String() }), ...S.errors(401, 403, 422, 429) } } },
    async (req, reply) => {
      if (fromAnotherSite(req, ctx.publicUrl)) throw new ApiError('csrf_failed', 'Logging in from a page of another site is refused');
      const opened = await staffLogin(app.db, req.body, req.ip);
      reply.setCookie(STAFF_COOKIE, opened.token, staffCookieOptions(ctx.publicUrl));
      return { staff: staffView(opened.member), csrfToken: opened.csrfToken };
    },
  );
  r.delete('/api/admin/session', { config: { role: 'support' }, schema: { tags, security, response: { 204: Type.Null(), ...S.errors(401, 403) } } }, async (req, reply) => {
    const token = req.cookies[STAFF_COOKIE];
    if (token) await endStaffSession(app.db, token);
    reply.clearCookie(STAFF_COOKIE, { path: '/' });
    return reply.code(204).send(null);
  });
  r.get(
    '/api/admin/me',
    { config: { role: 'support' }, schema: { tags, security, response: { 200: Type.Object({ kind: Type.String(), id: Type.String(), name: Type.String(), role: Type.String(), csrfToken: Type.Union([Type.String(), Type.Null()]) }), ...S.errors(401) } } },
    async (req) => ({ ...req.operator! }),
  );

  // Staff accounts: admins only.
  r.get('/api/admin/staff', { config: { role: 'admin' }, schema: { tags, security, response: { 200: Type.Object({ staff: Type.Array(T.StaffMember) }), ...S.errors(401, 403) } } }, async () => ({
    staff: (await listStaff(app.db)).map(memberView),
  }));
  r.post(
    '/api/admin/staff',
    { config: { role: 'admin' }, schema: { tags, security, body: T.NewStaffBody, response: { 201: Type.Object({ staff: T.StaffMember, setupUrl: Type.String() }), ...S.errors(401, 403, 422) } } },
    async (req, reply) => {
      const reason = req.body.reason === undefined ? null : requireReason(req.body.reason);
      const { member, setupToken } = await createStaff(app.db, operatorActor(req), { ...req.body, reason });
      return reply.code(201).send({ staff: memberView(member), setupUrl: `${ctx.publicUrl}/admin/setup/${setupToken}` });
    },
  );
  r.patch(
    '/api/admin/staff/:id',
    { config: { role: 'admin' }, schema: { tags, security, params: S.IdParams, body: T.StaffUpdateBody, response: { 200: Type.Object({ staff: T.StaffMember }), ...S.errors(401, 403, 404, 422) } } },
    async (req) => {
      const reason = requireReason(req.body.reason);
      if (req.body.role !== undefined && !isStaffRole(req.body.role)) throw invalid({ role: 'must be one of support, billing, admin' });
      const member = await updateStaff(app.db, operatorActor(req), req.params.id, { role: req.body.role as never, disabled: req.body.disabled }, reason);
      return { staff: memberView(member) };
    },
  );
  r.post(
    '/api/admin/staff/:id/setup-link',
    { config: { role: 'admin' }, schema: { tags, security, params: S.IdParams, body: T.ReasonBody, response: { 201: Type.Object({ setupUrl: Type.String() }), ...S.errors(401, 403, 404, 422) } } },
    async (req, reply) => {
      const token = await newSetupLink(app.db, operatorActor(req), req.params.id, requireReason(req.body.reason));
      return reply.code(201).send({ setupUrl: `${ctx.publicUrl}/admin/setup/${token}` });
    },
  );

  r.get('/api/admin/search', { config: { role: 'support' }, schema: { tags, security, querystring: T.SearchQuery, response: { 200: Type.Object({ results: Type.Array(T.SearchResult) }), ...S.errors(401, 403, 422) } } }, async (req) => ({
    results: await searchHolders(app.db, req.query.q),
  }));

  // The holder's record, a part per call.
  const one = { config: { role: 'support' as const } };
  r.get('/api/admin/customers/:id/statement', { ...one, schema: { tags, security, params: S.IdParams, querystring: T.StatementQuery, response: { 200: T.StatementPage, ...S.errors(401, 403, 404, 422) } } }, async (req) => {
    const page = await statementPage(app.db, req.params.id, req.query.before ? Number(req.query.before) : null, req.query.limit ? Number(req.query.limit) : 100);
    return { transactions: page.transactions.map((t) => transactionView(t)), nextBefore: page.nextBefore === null ? null : String(page.nextBefore) };
  });
  r.get('/api/admin/customers/:id/orders', { ...one, schema: { tags, security, params: S.IdParams, response: { 200: Type.Object({ orders: Type.Array(S.Order) }), ...S.errors(401, 403, 404) } } }, async (req) => {
    await requireCustomer(app.db, req.params.id);
    const [orders, balance] = await Promise.all([readOrders(ctx, req.params.id), readBalance(app.db, req.params.id)]);
    return { orders: orders.map((o) => orderView(o, balance, clock.nowMs(), ctx.catalogue)) };
  });
  r.get('/api/admin/customers/:id/topups', { ...one, schema: { tags, security, params: S.IdParams, response: { 200: Type.Object({ topups: Type.Array(S.Topup) }), ...S.errors(401, 403, 404) } } }, async (req) => ({
    topups: (await topupsOf(app.db, req.params.id)).map((t) => topupView(t, null)),
  }));
  r.get('/api/admin/customers/:id/invoices', { ...one, schema: { tags, security, params: S.IdParams, response: { 200: Type.Object({ invoices: Type.Array(S.AdminInvoice) }), ...S.errors(401, 403, 404) } } }, async (req) => {
    await requireCustomer(app.db, req.params.id);
    return { invoices: (await listInvoices(app.db, req.params.id)).map(adminInvoiceView) };
  });
  r.get('/api/admin/customers/:id/emails', { ...one, schema: { tags, security, params: S.IdParams, response: { 200: Type.Object({ emails: Type.Array(T.EmailSent) }), ...S.errors(401, 403, 404) } } }, async (req) => ({
    emails: await emailsOf(app.db, req.params.id),
  }));
  r.get('/api/admin/customers/:id/access', { ...one, schema: { tags, security, params: S.IdParams, response: { 200: T.Access, ...S.errors(401, 403, 404) } } }, async (req) => accessOf(app.db, req.params.id));
  r.get('/api/admin/customers/:id/audit', { ...one, schema: { tags, security, params: S.IdParams, response: { 200: Type.Object({ entries: Type.Array(T.AuditEntry) }), ...S.errors(401, 403, 404) } } }, async (req) => {
    await requireCustomer(app.db, req.params.id);
    return { entries: await readAudit(app.db, { customerId: req.params.id }) };
  });

  const auditFilter = (q: { customerId?: string; staffId?: string; tokenId?: string; from?: string; to?: string; before?: string }): AuditFilter => ({
    customerId: q.customerId,
    actor: q.staffId ? { kind: 'staff', id: q.staffId } : q.tokenId ? { kind: 'token', id: q.tokenId } : undefined,
    beforeId: q.before ? Number(q.before) : undefined,
    ...auditRange(q.from, q.to),
  });
  r.get('/api/admin/audit', { ...one, schema: { tags, security, querystring: T.AuditQuery, response: { 200: Type.Object({ entries: Type.Array(T.AuditEntry) }), ...S.errors(401, 403, 422) } } }, async (req) => ({
    entries: await readAudit(app.db, auditFilter(req.query)),
  }));
  r.get('/api/admin/audit/export', { ...one, schema: { tags, security, querystring: T.AuditQuery, produces: ['text/csv'], response: { 200: S.FileResponse, ...S.errors(401, 403, 422) } } }, async (req, reply) => {
    const filter = auditFilter(req.query);
    return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="registro-attivita.csv"').send(Readable.from(auditCsv(app.db, filter)));
  });

  // Support's actions for a holder (R19), each with its reason.
  const support = { config: { role: 'support' as const } };
  r.post(
    '/api/admin/customers/:id/password-reset-link',
    { ...support, schema: { tags, security, params: S.IdParams, body: T.PasswordResetLinkBody, response: { 202: Type.Null(), ...S.errors(401, 403, 404, 409, 422) } } },
    async (req, reply) => {
      const reason = requireReason(req.body.reason);
      await sendPasswordResetLink(ctx, operatorActor(req), req.params.id, req.body.mailboxId, reason);
      return reply.code(202).send(null);
    },
  );
  r.post(
    '/api/admin/customers/:id/two-step/reset',
    { ...support, schema: { tags, security, params: S.IdParams, body: T.ReasonBody, response: { 204: Type.Null(), ...S.errors(401, 403, 404, 422) } } },
    async (req, reply) => {
      await resetTwoStep(ctx, operatorActor(req), req.params.id, requireReason(req.body.reason));
      return reply.code(204).send(null);
    },
  );
  r.put(
    '/api/admin/customers/:id/reference-email',
    { ...support, schema: { tags, security, params: S.IdParams, body: T.ReferenceEmailBody, response: { 200: Type.Object({ customer: S.Customer }), ...S.errors(401, 403, 404, 422) } } },
    async (req) => {
      const reason = requireReason(req.body.reason);
      return { customer: customerView(await changeReferenceEmailByStaff(ctx, operatorActor(req), req.params.id, req.body.referenceEmail, reason)) };
    },
  );

  // Admin's mailbox lifecycle (R19, section 3), each with its reason.
  const admin = { config: { role: 'admin' as const } };
  for (const action of ['suspend', 'reactivate', 'terminate'] as const) {
    r.post(
      `/api/admin/mailboxes/:id/${action}`,
      { ...admin, schema: { tags, security, params: S.IdParams, body: T.ReasonBody, response: { 200: Type.Object({ mailbox: S.Mailbox }), ...S.errors(401, 403, 404, 409, 422) } } },
      async (req) => {
        const m = await changeMailboxState(ctx, operatorActor(req), req.params.id, action, requireReason(req.body.reason));
        return { mailbox: mailboxView(m, ctx.catalogue) };
      },
    );
  }
  r.post(
    '/api/admin/mailboxes/:id/extend',
    { ...admin, schema: { tags, security, params: S.IdParams, body: T.ExtendBody, response: { 200: Type.Object({ mailbox: S.Mailbox }), ...S.errors(401, 403, 404, 409, 422) } } },
    async (req) => {
      const reason = requireReason(req.body.reason);
      return { mailbox: mailboxView(await extendExpiry(ctx, operatorActor(req), req.params.id, req.body.expiresOn, reason), ctx.catalogue) };
    },
  );

  r.get('/api/admin/overview', { ...one, schema: { tags, security, response: { 200: T.Overview, ...S.errors(401, 403) } } }, async () => readOverview(app.db, ctx.catalogue, clock.today()));
}
