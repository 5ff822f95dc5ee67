// The holder API of API.md: each handler translates one request into one service call.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { App } from '../app.ts';
import { clock } from '../clock.ts';
import type { PaymentGateway } from '../payments/gateway.ts';
import { login, logout } from '../services/access/sessions.ts';
import { readBalance, readCustomer, readMailbox, readMailboxes, type OrderRow } from '../services/rows.ts';
import type { Cents } from '../domain/money.ts';
import { customerView, mailboxView, orderView, quoteView, topupView, transactionView } from '../services/views.ts';
import { cancelOrder, placeExtraSpaceOrder, placeRenewalOrder, quoteExtraSpaceFor, readOrder, readOrders } from '../services/billing/orders.ts';
import { readStatement } from '../services/billing/credit.ts';
import { bankAccountOf, readTopup } from '../services/billing/topups.ts';
import { startTopup } from '../payments/checkout.ts';
import { setRenewalSwitches } from '../services/mailboxes/mailbox-settings.ts';
import { setCardRenewal } from '../services/billing/payment-methods.ts';
import { changeMailboxPassword } from '../services/access/password-change.ts';
import { notFound } from '../services/errors.ts';
import { csrfOk, requireHolder, sessionOf } from './auth.ts';
import { ApiError } from './errors.ts';
import { idempotent, requestKeyOf } from './idempotency.ts';
import { listRefunds, refundView, withdrawFromTopup } from '../services/billing/refunds.ts';
import { readDisputedAndDebt } from '../services/billing/disputes.ts';
import { DEVICE_COOKIE, SESSION_COOKIE, setLoginCookies } from './cookies.ts';
import { fromAnotherSite } from './same-origin.ts';
import * as S from './schemas.ts';

const holderOf = (req: FastifyRequest) => req.holder!;
const scopeOf = (req: FastifyRequest) => `holder:${req.holder!.customerId}`;

export async function holderRoutes(server: FastifyInstance, opts: { app: App; gateway: PaymentGateway }) {
  const { app, gateway } = opts;
  const ctx = app.ctx;
  const r = server.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['holder'];
  /** An order as API.md shapes it: the shortfall against this balance, expiry by the clock. */
  const orderJson = (o: OrderRow, balance: Cents) => ({ order: orderView(o, balance, clock.nowMs(), ctx.catalogue) });
  const mailboxJson = async (customerId: string, mailboxId: string) => {
    const row = await readMailbox(ctx.db, mailboxId, customerId);
    if (!row) throw notFound('mailbox');
    return { mailbox: mailboxView(row, ctx.catalogue) };
  };

  // Logging in and out: the only holder routes without a session.
  r.post(
    '/api/session',
    { schema: { tags, body: S.LoginBody, response: { 200: Type.Object({ customer: S.Customer, csrfToken: Type.String() }), ...S.errors(401, 403, 422, 429) } } },
    async (req, reply) => {
      if (fromAnotherSite(req, ctx.publicUrl)) throw new ApiError('csrf_failed', 'Logging in from a page of another site is refused');
      const opened = await login(ctx, req.body.address, req.body.password, req.ip, req.cookies[DEVICE_COOKIE], req.body.totpCode);
      setLoginCookies(reply, opened, ctx.publicUrl);
      return { customer: customerView(opened.customer), csrfToken: opened.csrfToken };
    },
  );
  r.delete('/api/session', { schema: { tags, response: { 204: Type.Null(), ...S.errors(403) } } }, async (req, reply) => {
    const holder = await sessionOf(app, req);
    if (holder) {
      if (!csrfOk(req, holder)) throw new ApiError('csrf_failed', 'Missing or wrong x-csrf-token header');
      await logout(ctx, holder.sessionToken);
    }
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.code(204).send(null);
  });

  await server.register(async (s) => {
    s.addHook('onRequest', requireHolder(app));
    const h = s.withTypeProvider<TypeBoxTypeProvider>();
    const auth = S.errors(401, 403);

    const MeCredit = Type.Object({ balanceCents: Type.Integer(), currency: Type.Literal('EUR'), disputedCents: Type.Integer(), debtCents: Type.Integer() });
    h.get('/api/me', { schema: { tags, response: { 200: Type.Object({ customer: S.Customer, csrfToken: Type.String(), credit: MeCredit }), ...auth } } }, async (req) => {
      const { customerId, csrfToken } = holderOf(req);
      const customer = (await readCustomer(ctx.db, customerId))!;
      // R17: frozen credit and debt are shown apart from what can be spent.
      const [balanceCents, held] = await Promise.all([readBalance(ctx.db, customerId), readDisputedAndDebt(ctx.db, customerId)]);
      return { customer: customerView(customer), csrfToken, credit: { balanceCents, currency: 'EUR' as const, ...held } };
    });

    // The password of the mailbox the session logged in with; the other sessions of the holder end.
    // No Idempotency-Key: the request would be stored keyed by a fast hash of both passwords. A retry
    // after a success answers 401 (its current password is no longer the mailbox's): issue 19.
    h.put('/api/me/password', { schema: { tags, body: S.PasswordChangeBody, response: { 204: Type.Null(), ...S.errors(401, 403, 422, 429) } } }, async (req, reply) => {
      const { customerId, mailboxId, sessionToken } = holderOf(req);
      await changeMailboxPassword(
        ctx,
        { customerId, mailboxId, sessionToken, clientKey: req.ip, deviceCookie: req.cookies[DEVICE_COOKIE] },
        req.body.currentPassword,
        req.body.newPassword,
      );
      return reply.code(204).send(null);
    });

    h.get('/api/mailboxes', { schema: { tags, response: { 200: Type.Object({ mailboxes: Type.Array(S.Mailbox) }), ...auth } } }, async (req) => {
      const rows = await readMailboxes(ctx.db, holderOf(req).customerId);
      return { mailboxes: rows.map((m) => mailboxView(m, ctx.catalogue)) };
    });

    const mailboxResponse = { 200: Type.Object({ mailbox: S.Mailbox }), ...S.errors(401, 403, 404, 422) };
    h.get('/api/mailboxes/:id', { schema: { tags, params: S.IdParams, response: mailboxResponse } }, async (req) =>
      mailboxJson(holderOf(req).customerId, req.params.id),
    );
    h.patch('/api/mailboxes/:id', { schema: { tags, params: S.IdParams, body: S.MailboxSettingsBody, response: mailboxResponse } }, async (req) => {
      const { customerId } = holderOf(req);
      const actor = { kind: 'holder' as const, id: customerId };
      const { cardRenewal, ...switches } = req.body;
      let row = await setRenewalSwitches(ctx, actor, customerId, req.params.id, switches);
      // R18: card renewal is its own explicit choice (null switches it off).
      if (cardRenewal !== undefined) row = await setCardRenewal(ctx, actor, customerId, req.params.id, cardRenewal);
      return { mailbox: mailboxView(row, ctx.catalogue) };
    });

    h.post(
      '/api/mailboxes/:id/extra-space/quote',
      { schema: { tags, params: S.IdParams, body: S.QuantityBody, response: { 200: Type.Object({ quote: S.Quote }), ...S.errors(401, 403, 404, 409, 422) } } },
      async (req) => {
        const q = await quoteExtraSpaceFor(ctx, holderOf(req).customerId, req.params.id, req.body.quantityGb);
        return { quote: quoteView(q.quote, q.balanceCents) };
      },
    );

    const orderCreated = { 201: Type.Object({ order: S.Order }), ...S.errors(401, 403, 404, 409, 422) };
    h.post('/api/mailboxes/:id/extra-space/orders', { schema: { tags, params: S.IdParams, body: S.ExtraSpaceOrderBody, response: orderCreated } }, async (req, reply) =>
      idempotent(app, req, reply, scopeOf(req), async () => {
        const placed = await placeExtraSpaceOrder(ctx, holderOf(req).customerId, req.params.id, req.body.quantityGb, req.body.expectedAmountCents);
        return { status: 201, body: orderJson(placed.order, placed.balanceCents) };
      }),
    );
    h.post('/api/mailboxes/:id/renewal', { schema: { tags, params: S.IdParams, body: Type.Optional(S.EmptyBody), response: orderCreated } }, async (req, reply) =>
      idempotent(app, req, reply, scopeOf(req), async () => {
        const placed = await placeRenewalOrder(ctx, holderOf(req).customerId, req.params.id);
        return { status: 201, body: orderJson(placed.order, placed.balanceCents) };
      }),
    );

    h.get('/api/orders', { schema: { tags, response: { 200: Type.Object({ orders: Type.Array(S.Order) }), ...auth } } }, async (req) => {
      const { customerId } = holderOf(req);
      const [orders, balance] = await Promise.all([readOrders(ctx, customerId), readBalance(ctx.db, customerId)]);
      return { orders: orders.map((o) => orderView(o, balance, clock.nowMs(), ctx.catalogue)) };
    });
    const orderResponse = { 200: Type.Object({ order: S.Order }), ...S.errors(401, 403, 404, 409) };
    h.get('/api/orders/:id', { schema: { tags, params: S.IdParams, response: orderResponse } }, async (req) => {
      const { customerId } = holderOf(req);
      const order = await readOrder(ctx, customerId, req.params.id);
      return orderJson(order, await readBalance(ctx.db, customerId));
    });
    h.post('/api/orders/:id/cancel', { schema: { tags, params: S.IdParams, body: Type.Optional(S.EmptyBody), response: orderResponse } }, async (req, reply) =>
      idempotent(app, req, reply, scopeOf(req), async () => {
        const { customerId } = holderOf(req);
        const order = await cancelOrder(ctx, customerId, req.params.id);
        return { status: 200, body: orderJson(order, await readBalance(ctx.db, customerId)) };
      }),
    );

    h.get(
      '/api/credit',
      { schema: { tags, response: { 200: Type.Object({ balanceCents: Type.Integer(), currency: Type.Literal('EUR'), transactions: Type.Array(S.CreditTransaction) }), ...auth } } },
      async (req) => {
        const st = await readStatement(ctx, holderOf(req).customerId);
        return { balanceCents: st.balanceCents, currency: 'EUR' as const, transactions: st.transactions.map((t) => transactionView(t, st.locale)) };
      },
    );
    const topupResponse = (status: number) => ({ [status]: Type.Object({ topup: S.Topup }), ...S.errors(401, 403, 404, 409, 422) });
    h.post('/api/credit/topups', { schema: { tags, body: S.TopupBody, response: topupResponse(201) } }, async (req, reply) =>
      idempotent(app, req, reply, scopeOf(req), async () => {
        const t = await startTopup(ctx, gateway, holderOf(req).customerId, req.body.amountCents, req.body.orderId ?? null, req.body.method ?? 'card');
        return { status: 201, body: { topup: topupView(t, gateway.checkoutUrl(t), bankAccountOf(ctx)) } };
      }),
    );
    h.get('/api/credit/topups/:id', { schema: { tags, params: S.IdParams, response: topupResponse(200) } }, async (req) => {
      const t = await readTopup(ctx, holderOf(req).customerId, req.params.id);
      return { topup: topupView(t, gateway.checkoutUrl(t), bankAccountOf(ctx)) };
    });

    // R17: the consumer's withdrawal (Codice del Consumo art. 52) and the holder's refunds.
    h.post(
      '/api/credit/topups/:id/withdrawal',
      { schema: { tags, params: S.IdParams, body: Type.Optional(S.EmptyBody), response: { 201: Type.Object({ refund: S.Refund }), ...S.errors(401, 403, 404, 409, 422) } } },
      async (req, reply) => {
        const refund = await withdrawFromTopup(ctx, gateway, holderOf(req).customerId, req.params.id, requestKeyOf(req, scopeOf(req)));
        return reply.code(201).send({ refund: refundView(refund) });
      },
    );
    h.get('/api/refunds', { schema: { tags, response: { 200: Type.Object({ refunds: Type.Array(S.Refund) }), ...auth } } }, async (req) => ({
      refunds: (await listRefunds(ctx.db, holderOf(req).customerId)).map(refundView),
    }));
  });
}
