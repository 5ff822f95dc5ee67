// Buying Spazio Extra Inbox: the price and its rule before confirming, and the top-up when credit is short.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clock } from '../../clock.ts';
import { readMailbox } from '../../services/rows.ts';
import { mailboxView, orderView, quoteView, type QuoteView } from '../../services/views.ts';
import { placeExtraSpaceOrder, quoteExtraSpaceFor } from '../../services/orders.ts';
import { DomainError } from '../../services/errors.ts';
import { money, type Locale } from '../../i18n/format.ts';
import { addVat, cents, maxCents } from '../../domain/money.ts';
import { parseQuantity } from '../forms.ts';
import { html, raw, type Html } from '../html.ts';
import { DICTIONARY, tr } from '../i18n.ts';
import { formOf, queryOf, text, type Holder, type WebKit } from '../kit.ts';

export function extraSpacePages(server: FastifyInstance, kit: WebKit): void {
  const { ctx, cat, withVat, day, csrfField, holderPage, notFoundPage, holderRoute, idOf, payForOrder } = kit;
  const quoteError = (err: unknown, L: Locale): { status: number; message: string } | null => {
    if (!(err instanceof DomainError)) return null;
    if (err.code === 'validation_failed') return { status: 422, message: tr(L, 'quantityInvalid') };
    if (err.code === 'limit_exceeded') return { status: 422, message: tr(L, 'limitExceeded', { max: cat.extraSpace.maxGbPerMailbox }) };
    if (err.code === 'mailbox_not_active') return { status: 409, message: tr(L, 'notActive') };
    return null;
  };

  const quoteSection = (h: Holder, mailboxId: string, q: QuoteView | null): Html => {
    const L = h.L;
    const d = DICTIONARY[L];
    const rule = q ? tr(L, q.rule === 'full_year' ? 'ruleFullYear' : q.rule === 'free_until_expiry' ? 'ruleFree' : 'ruleRemaining') : '';
    const details = q
      ? tr(L, 'ruleDetails', { from: day(q.activeFrom, L), until: day(q.activeUntil, L), renewal: day(q.renewalOn, L), renewalAmount: money(q.renewalAmountCents, L) })
      : '';
    const topup = q && q.shortfallCents > 0 ? maxCents(cents(q.shortfallCents), cat.topupMinCents) : 0;
    const short = q && q.shortfallCents > 0;
    return html`<section id="quote" class="card quote" aria-labelledby="quote-h"${q ? '' : raw(' hidden')}
 data-lang="${L}" data-vat-bp="${cat.vatRateBasisPoints}" data-topup-min="${cat.topupMinCents}"
 data-t-full_year="${d.ruleFullYear}" data-t-free_until_expiry="${d.ruleFree}" data-t-remaining_months="${d.ruleRemaining}"
 data-t-details="${d.ruleDetails}" data-t-withvat="${d.withVat}" data-t-free="${d.free}" data-t-shortfall="${d.shortfall}"
 data-t-confirm="${d.confirm}" data-t-topup="${d.topupAndComplete}" data-t-invalid="${d.quantityInvalid}"
 data-t-limit="${tr(L, 'limitExceeded', { max: cat.extraSpace.maxGbPerMailbox })}" data-t-inactive="${d.notActive}">
<h2 id="quote-h">${tr(L, 'quoteTitle')}</h2>
<div aria-live="polite" id="quote-live">
<p class="rule"><strong>${tr(L, 'ruleLabel')}:</strong> <span id="q-rule">${rule}</span>.</p>
<p id="q-details">${details}</p>
<dl class="facts">
<div><dt>${tr(L, 'price')}</dt><dd id="q-price">${q ? (q.amountCents === 0 ? `${tr(L, 'free')} (${money(0, L)})` : withVat(q.amountCents, L)) : ''}</dd></div>
<div><dt>${tr(L, 'balance')}</dt><dd id="q-balance">${q ? money(q.balanceCents, L) : ''}</dd></div>
</dl>
<p id="q-shortfall" class="warning"${short ? '' : raw(' hidden')}>${short && q
      ? tr(L, 'shortfall', {
          balance: money(q.balanceCents, L),
          shortfall: money(q.shortfallCents, L),
          topup: money(topup, L),
          topupGross: money(addVat(cents(topup), cat.vatRateBasisPoints).grossCents, L),
        })
      : ''}</p>
</div>
<form method="post" action="/mailboxes/${encodeURIComponent(mailboxId)}/extra-space" id="confirm-form">${csrfField(h)}
<input type="hidden" name="quantityGb" id="q-quantity" value="${q ? q.quantityGb : ''}">
<input type="hidden" name="withTopup" id="q-withtopup" value="1"${short ? '' : raw(' disabled')}>
<button type="submit" class="primary" id="q-submit">${short ? d.topupAndComplete : d.confirm}</button>
</form>
</section>`;
  };

  const extraSpacePage = async (
    req: FastifyRequest,
    reply: FastifyReply,
    h: Holder,
    quantityText: string | null,
    forced: { status: number; message: string } | null = null,
  ) => {
    const L = h.L;
    const row = await readMailbox(ctx.db, idOf(req), h.auth.customerId);
    if (!row) return notFoundPage(req, reply, h);
    const m = mailboxView(row, cat);
    let quote: QuoteView | null = null;
    let problem = forced;
    if (!problem && quantityText !== null) {
      const q = parseQuantity(quantityText);
      if (q === null) problem = { status: 422, message: tr(L, 'quantityInvalid') };
      else {
        try {
          const r = await quoteExtraSpaceFor(ctx, h.auth.customerId, m.id, q);
          quote = quoteView(r.quote, r.balanceCents);
        } catch (err) {
          problem = quoteError(err, L);
          if (!problem) throw err;
        }
      }
    }
    const invalid = problem ? html` aria-invalid="true" aria-describedby="quantity-error quantity-hint"` : html` aria-describedby="quantity-hint"`;
    const id = encodeURIComponent(m.id);
    const body = html`<p class="crumb"><a href="/mailboxes/${id}">${m.address}</a></p>
<h1>${tr(L, 'buyTitle')}</h1>
<p>${tr(L, 'buyFor', { address: m.address, date: day(m.expiresOn, L) })}</p>
<section class="card" aria-labelledby="extra-h">
<h2 id="extra-h">${tr(L, 'extraSpace')}</h2>
<form method="get" action="/mailboxes/${id}/extra-space" id="quote-form" data-mailbox="${m.id}" novalidate>
<div class="field${problem ? ' has-error' : ''}"><label for="quantityGb">${tr(L, 'quantity')}</label>
<input id="quantityGb" name="quantityGb" type="number" inputmode="numeric" min="1" max="${cat.extraSpace.maxGbPerMailbox}" step="1" required value="${quantityText ?? ''}"${invalid}>
<p class="muted small" id="quantity-hint">${tr(L, 'quantityHint', { unit: withVat(cat.extraSpace.pricePerGbYearCents, L) })}</p>
<p class="error" id="quantity-error"${problem ? '' : raw(' hidden')}>${problem?.message ?? ''}</p>
</div>
<button type="submit">${tr(L, 'showPrice')}</button>
</form>
</section>
${quoteSection(h, m.id, quote)}`;
    return holderPage(req, reply, h, {
      status: problem?.status ?? 200,
      title: tr(L, 'buyTitle'),
      current: '/mailboxes',
      body,
      scripts: ['/assets/casella.js'],
    });
  };

  server.get(
    '/mailboxes/:id/extra-space',
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) => {
      const q = queryOf(req).quantityGb;
      return extraSpacePage(req, reply, h, typeof q === 'string' ? q : null);
    }),
  );

  server.post(
    '/mailboxes/:id/extra-space',
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) => {
      const f = formOf(req);
      const qText = text(f, 'quantityGb');
      const quantity = parseQuantity(qText);
      if (quantity === null) return extraSpacePage(req, reply, h, qText, { status: 422, message: tr(h.L, 'quantityInvalid') });
      const mailboxId = idOf(req);
      let placed;
      try {
        placed = await placeExtraSpaceOrder(ctx, h.auth.customerId, mailboxId, quantity);
      } catch (err) {
        const problem = quoteError(err, h.L);
        if (!problem) throw err;
        return extraSpacePage(req, reply, h, qText, problem);
      }
      if (placed.order.status === 'completed') return reply.redirect(`/mailboxes/${encodeURIComponent(mailboxId)}?msg=purchaseDone`, 303);
      if (text(f, 'withTopup') === '1') return payForOrder(reply, h, orderView(placed.order, placed.balanceCents, clock.nowMs(), cat));
      return reply.redirect('/orders?msg=orderWaiting', 303);
    }),
  );

}
