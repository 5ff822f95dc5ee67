// The holder's orders: cancel or pay the ones waiting for a top-up.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorBody } from '../../http/errors.ts';
import { clock } from '../../clock.ts';
import { readBalance, readMailboxes } from '../../services/rows.ts';
import { orderView } from '../../services/views.ts';
import { cancelOrder, readOrder, readOrders } from '../../services/billing/orders.ts';
import { money } from '../../i18n/format.ts';
import { html, wrappableAddress } from '../html.ts';
import { tr, type Key } from '../i18n.ts';
import type { WebKit } from '../kit.ts';
import { goTo, onceField, refusalError, submitOnce } from '../once.ts';

export function orderPages(server: FastifyInstance, kit: WebKit): void {
  const { ctx, cat, instantDay, csrfField, holderPage, notice, holderRoute, idOf } = kit;
  server.get(
    '/orders',
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) => {
      const L = h.L;
      const [orders, balance, rows] = await Promise.all([
        readOrders(ctx, h.auth.customerId),
        readBalance(ctx.db, h.auth.customerId),
        readMailboxes(ctx.db, h.auth.customerId),
      ]);
      const address = new Map(rows.map((r) => [r.id, r.address]));
      const views = orders.map((o) => orderView(o, balance, clock.nowMs(), cat));
      const body = html`<h1>${tr(L, 'ordersTitle')}</h1>
${notice(L, req)}
${views.length === 0
  ? html`<p>${tr(L, 'noOrders')}</p>`
  : html`<div class="table-wrap"><table class="stack">
<thead><tr><th scope="col">${tr(L, 'colDate')}</th><th scope="col">${tr(L, 'colOrder')}</th><th scope="col">${tr(L, 'colMailbox')}</th><th scope="col" class="num">${tr(L, 'colAmount')}</th><th scope="col">${tr(L, 'colStatus')}</th><th scope="col">${tr(L, 'colActions')}</th></tr></thead>
<tbody>${views.map((o) => {
      const oid = encodeURIComponent(o.id);
      return html`<tr><td data-label="${tr(L, 'colDate')}">${instantDay(o.createdAt, L)}</td>
<td data-label="${tr(L, 'colOrder')}">${o.kind === 'renewal' ? tr(L, 'orderRenewal') : tr(L, 'orderExtra', { gb: o.quantityGb })}</td>
<td class="addr" data-label="${tr(L, 'colMailbox')}">${wrappableAddress(address.get(o.mailboxId) ?? '')}</td>
<td class="num" data-label="${tr(L, 'colAmount')}">${money(o.amountCents, L)}</td>
<td data-label="${tr(L, 'colStatus')}">${tr(L, `order_${o.status}` as Key)}</td>
<td class="cell-action">${o.status === 'awaiting_topup'
        ? html`<form method="post" action="/orders/${oid}/pay" class="inline">${csrfField(h)}${onceField()}<button type="submit" class="primary">${tr(L, 'topupAndComplete')}</button></form>
<form method="post" action="/orders/${oid}/cancel" class="inline">${csrfField(h)}${onceField()}<button type="submit">${tr(L, 'cancelOrder')}</button></form>`
        : ''}</td></tr>`;
    })}</tbody></table></div>`}`;
      return holderPage(req, reply, h, { title: tr(L, 'ordersTitle'), current: '/orders', body });
    }),
  );

  const notPendingOrThrow = async (_req: FastifyRequest, reply: FastifyReply, _h: unknown, error: ErrorBody['error']) => {
    if (error.code === 'order_not_pending') return reply.redirect('/orders?msg=orderNotPending', 303);
    throw refusalError(error);
  };

  server.post(
    '/orders/:id/cancel',
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) =>
      submitOnce(
        kit,
        req,
        reply,
        h,
        async () => {
          await cancelOrder(ctx, h.auth.customerId, idOf(req));
          return goTo('/orders?msg=orderCancelled');
        },
        notPendingOrThrow,
      ),
    ),
  );

  server.post(
    '/orders/:id/pay',
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) =>
      submitOnce(
        kit,
        req,
        reply,
        h,
        async () => {
          const order = await readOrder(ctx, h.auth.customerId, idOf(req));
          const view = orderView(order, await readBalance(ctx.db, h.auth.customerId), clock.nowMs(), cat);
          if (view.status !== 'awaiting_topup') return goTo('/orders?msg=orderNotPending');
          return goTo(await kit.topupForOrder(h, view));
        },
        notPendingOrThrow,
      ),
    ),
  );

}
