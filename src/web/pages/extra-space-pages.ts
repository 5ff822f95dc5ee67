// Buying Spazio Extra Inbox: the price and its rule before confirming, and the top-up when credit is short.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clock } from '../../clock.ts';
import { readMailbox } from '../../services/rows.ts';
import { mailboxView, orderView, quoteView, type QuoteView } from '../../services/views.ts';
import { placeExtraSpaceOrder, quoteExtraSpaceFor, readOrders } from '../../services/billing/orders.ts';
import { purchaseRepeated } from '../../domain/repeat-purchase.ts';
import { DomainError } from '../../services/errors.ts';
import { money, type Locale } from '../../i18n/format.ts';
import { cents, maxCents } from '../../domain/money.ts';
import { shownPrice } from '../../domain/price-display.ts';
import { parseQuantity } from '../forms.ts';
import { html, raw, type Html } from '../html.ts';
import { DICTIONARY, tr } from '../i18n.ts';
import { formOf, queryOf, text, type Holder, type WebKit } from '../kit.ts';
import { goTo, isFormToken, newFormToken, onceField, refusalError, submitOnce, ONCE_FIELD } from '../once.ts';
import type { ErrorBody } from '../../http/errors.ts';

/** A refusal shown on the page; `limit`: the message is the mailbox's limit, written once it is read. */
interface Problem {
  status: number;
  message: string;
  limit?: true;
}

export function extraSpacePages(server: FastifyInstance, kit: WebKit): void {
  const { ctx, cat, price, priceKey, day, csrfField, holderPage, notFoundPage, holderRoute, idOf } = kit;
  // R4's most per mailbox, and how many GB more this mailbox can still take.
  const limitMessage = (L: Locale, currentGb: number): string => {
    const max = cat.extraSpace.maxGbPerMailbox;
    const more = Math.max(0, max - currentGb);
    if (more === 0) return tr(L, 'limitReached', { max });
    return currentGb === 0 ? tr(L, 'limitExceededNone', { max }) : tr(L, 'limitExceeded', { max, current: currentGb, more });
  };
  // The limit's message names the mailbox's GB: extraSpacePage writes it once it has read the mailbox.
  const refusalOf = (code: string, L: Locale): Problem | null => {
    if (code === 'validation_failed') return { status: 422, message: tr(L, 'quantityInvalid') };
    if (code === 'limit_exceeded') return { status: 422, message: '', limit: true };
    if (code === 'mailbox_not_active') return { status: 409, message: tr(L, 'notActive') };
    if (code === 'quote_changed') return { status: 409, message: tr(L, 'quoteChanged') };
    return null;
  };
  const quoteError = (err: unknown, L: Locale) => (err instanceof DomainError ? refusalOf(err.code, L) : null);

  // The confirm form's token comes from the page's URL when the quote form put one there: Back to
  // this page then shows the same form, and confirming it again only shows the first outcome.
  const quoteSection = (h: Holder, mailboxId: string, currentGb: number, q: QuoteView | null, token: string): Html => {
    const L = h.L;
    const d = DICTIONARY[L];
    const rule = q ? tr(L, q.rule === 'full_year' ? 'ruleFullYear' : q.rule === 'free_until_expiry' ? 'ruleFree' : 'ruleRemaining') : '';
    // The renewal line says what it covers: the GB bought now, and those the mailbox already has.
    const details = q
      ? tr(L, q.renewalGb > q.quantityGb ? 'ruleDetailsAdded' : 'ruleDetails', {
          from: day(q.activeFrom, L),
          until: day(q.activeUntil, L),
          renewal: day(q.renewalOn, L),
          renewalAmount: price(q.renewalAmountCents, h),
          renewalGb: q.renewalGb,
          currentGb: q.renewalGb - q.quantityGb,
          quantityGb: q.quantityGb,
        })
      : '';
    const topup = q && q.shortfallCents > 0 ? maxCents(cents(q.shortfallCents), cat.topupMinCents) : 0;
    const short = q && q.shortfallCents > 0;
    return html`<section id="quote" class="card quote" aria-labelledby="quote-h"${q ? '' : raw(' hidden')}
 data-lang="${L}" data-vat-bp="${h.buyer.vatRateBasisPoints}" data-topup-min="${cat.topupMinCents}"
 data-t-full_year="${d.ruleFullYear}" data-t-free_until_expiry="${d.ruleFree}" data-t-remaining_months="${d.ruleRemaining}"
 data-t-details="${d.ruleDetails}" data-t-details-added="${d.ruleDetailsAdded}" data-t-price="${d[priceKey(h.buyer)]}" data-t-free="${d.free}" data-t-shortfall="${d.shortfall}"
 data-t-confirm="${d.confirm}" data-t-topup="${d.topupAndComplete}" data-t-invalid="${d.quantityInvalid}"
 data-t-limit="${limitMessage(L, currentGb)}" data-t-inactive="${d.notActive}">
<h2 id="quote-h">${tr(L, 'quoteTitle')}</h2>
<div aria-live="polite" id="quote-live">
<p class="rule"><strong>${tr(L, 'ruleLabel')}:</strong> <span id="q-rule">${rule}</span>.</p>
<p id="q-details">${details}</p>
<dl class="facts">
<div><dt>${tr(L, 'price')}</dt><dd id="q-price">${q ? (q.amountCents === 0 ? `${tr(L, 'free')} (${money(0, L)})` : price(q.amountCents, h)) : ''}</dd></div>
<div><dt>${tr(L, 'balance')}</dt><dd><span id="q-balance">${q ? money(q.balanceCents, L) : ''}</span> <span class="vat-note">${tr(L, 'vatExcludedNote')}</span></dd></div>
</dl>
<p id="q-shortfall" class="warning"${short ? '' : raw(' hidden')}>${short && q
      ? tr(L, 'shortfall', {
          balance: money(q.balanceCents, L),
          shortfall: money(q.shortfallCents, L),
          topup: money(topup, L),
          topupGross: money(shownPrice(cents(topup), h.buyer).grossCents, L),
        })
      : ''}</p>
</div>
<form method="post" action="/mailboxes/${encodeURIComponent(mailboxId)}/extra-space" id="confirm-form">${csrfField(h)}${onceField(token)}
<input type="hidden" name="quantityGb" id="q-quantity" value="${q ? q.quantityGb : ''}">
<input type="hidden" name="expectedAmountCents" id="q-amount" value="${q ? q.amountCents : ''}">
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
    forced: Problem | null = null,
    formToken: unknown = null,
  ) => {
    const L = h.L;
    const row = await readMailbox(ctx.db, idOf(req), h.auth.customerId);
    if (!row) return notFoundPage(req, reply, h);
    const m = mailboxView(row, cat);
    let quote: QuoteView | null = null;
    // A refused confirmation (`forced`) still shows today's quote, so a changed price is seen at once.
    let problem: Problem | null = forced;
    if (quantityText !== null) {
      const q = parseQuantity(quantityText);
      if (q === null) problem ??= { status: 422, message: tr(L, 'quantityInvalid') };
      else {
        try {
          const r = await quoteExtraSpaceFor(ctx, h.auth.customerId, m.id, q);
          quote = quoteView(r.quote, r.balanceCents);
        } catch (err) {
          const refusal = quoteError(err, L);
          if (!refusal) throw err;
          problem ??= refusal;
        }
      }
    }
    if (problem?.limit) problem = { status: problem.status, message: limitMessage(L, m.space.extraGb) };
    const invalid = problem ? html` aria-invalid="true" aria-describedby="quantity-error quantity-hint"` : html` aria-describedby="quantity-hint"`;
    const id = encodeURIComponent(m.id);
    // A text field, not type="number": a number field silently rewrites what it cannot read (Chromium
    // sends "2,5" as 25 and "+3" as 3), and the holder would buy what they did not type.
    const body = html`<p class="crumb"><a href="/mailboxes/${id}">${m.address}</a></p>
<h1>${tr(L, 'buyTitle')}</h1>
<p>${tr(L, 'buyFor', { address: m.address, date: day(m.expiresOn, L) })}</p>
<section class="card" aria-labelledby="extra-h">
<h2 id="extra-h">${tr(L, 'extraSpace')}</h2>
<form method="get" action="/mailboxes/${id}/extra-space" id="quote-form" data-mailbox="${m.id}" novalidate>
<input type="hidden" name="${ONCE_FIELD}" value="${newFormToken()}">
<div class="field${problem ? ' has-error' : ''}"><label for="quantityGb">${tr(L, 'quantity')}</label>
<input id="quantityGb" name="quantityGb" type="text" inputmode="numeric" autocomplete="off" required value="${quantityText ?? ''}"${invalid}>
<p class="muted small" id="quantity-hint">${tr(L, 'quantityHint', { unit: price(cat.extraSpace.pricePerGbYearCents, h) })}</p>
<p class="error" id="quantity-error"${problem ? '' : raw(' hidden')}>${problem?.message ?? ''}</p>
</div>
<button type="submit">${tr(L, 'showPrice')}</button>
</form>
</section>
${quoteSection(h, m.id, m.space.extraGb, quote, isFormToken(formToken) ? formToken : newFormToken())}`;
    return holderPage(req, reply, h, {
      status: problem?.status ?? 200,
      title: tr(L, 'buyTitle'),
      current: '/mailboxes',
      body,
      scripts: ['/assets/casella.js'],
    });
  };

  const lastSamePurchase = async (h: Holder, mailboxId: string, quantityGb: number) => {
    const past = (await readOrders(ctx, h.auth.customerId)).map((o) => ({
      mailboxId: o.mailbox_id,
      kind: o.kind,
      quantityGb: o.quantity_gb,
      status: o.status,
      createdAtMs: new Date(o.created_at).getTime(),
    }));
    return purchaseRepeated(past, mailboxId, quantityGb, clock.nowMs());
  };

  // "Hai appena acquistato …: confermi?": the confirm form again, with a fresh token and the answer yes.
  server.get(
    '/mailboxes/:id/extra-space/again',
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) => {
      const L = h.L;
      const row = await readMailbox(ctx.db, idOf(req), h.auth.customerId);
      const quantity = parseQuantity(text(queryOf(req), 'quantityGb'));
      if (!row) return notFoundPage(req, reply, h);
      const id = encodeURIComponent(row.id);
      const last = quantity === null ? null : await lastSamePurchase(h, row.id, quantity);
      if (quantity === null || !last) return reply.redirect(`/mailboxes/${id}/extra-space${quantity === null ? '' : `?quantityGb=${quantity}`}`, 303);
      let q: QuoteView;
      try {
        const r = await quoteExtraSpaceFor(ctx, h.auth.customerId, row.id, quantity);
        q = quoteView(r.quote, r.balanceCents);
      } catch (err) {
        if (!quoteError(err, L)) throw err;
        return reply.redirect(`/mailboxes/${id}/extra-space?quantityGb=${quantity}`, 303);
      }
      const short = q.shortfallCents > 0;
      const body = html`<p class="crumb"><a href="/mailboxes/${id}">${row.address}</a></p>
<h1>${tr(L, 'repeatTitle')}</h1>
<section class="card">
<p class="warning" role="status">${tr(L, 'repeatQuestion', { gb: quantity, address: row.address, time: kit.timeOfDay(new Date(last.createdAtMs), L) })}</p>
<p>${tr(L, 'repeatPrice', { price: q.amountCents === 0 ? `${tr(L, 'free')} (${money(0, L)})` : price(q.amountCents, h) })}</p>
<form method="post" action="/mailboxes/${id}/extra-space">${csrfField(h)}${onceField()}
<input type="hidden" name="quantityGb" value="${quantity}">
<input type="hidden" name="expectedAmountCents" value="${q.amountCents}">
<input type="hidden" name="repeatConfirmed" value="1">
${short ? html`<input type="hidden" name="withTopup" value="1">` : ''}
<p><button type="submit" class="primary">${tr(L, short ? 'topupAndComplete' : 'repeatConfirm')}</button></p>
<p><a href="/mailboxes/${id}">${tr(L, 'repeatCancel')}</a></p>
</form>
</section>`;
      return holderPage(req, reply, h, { title: tr(L, 'repeatTitle'), current: '/mailboxes', body });
    }),
  );

  server.get(
    '/mailboxes/:id/extra-space',
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) => {
      const query = queryOf(req);
      const q = query.quantityGb;
      return extraSpacePage(req, reply, h, typeof q === 'string' ? q : null, null, query[ONCE_FIELD]);
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
      // The price the page showed; the purchase is refused if it is no longer the price.
      const shown = /^\d{1,12}$/.test(text(f, 'expectedAmountCents')) ? Number(text(f, 'expectedAmountCents')) : undefined;
      const mailboxId = idOf(req);
      const refused = async (rq: FastifyRequest, rp: FastifyReply, hh: Holder, error: ErrorBody['error']) => {
        const problem = refusalOf(error.code, hh.L);
        if (!problem) throw refusalError(error);
        return extraSpacePage(rq, rp, hh, qText, problem);
      };
      const again = `/mailboxes/${encodeURIComponent(mailboxId)}/extra-space/again?quantityGb=${quantity}`;
      return submitOnce(
        kit,
        req,
        reply,
        h,
        async () => {
          // The same GB on the same mailbox minutes after the last purchase: asked before charging again.
          if (text(f, 'repeatConfirmed') !== '1' && (await lastSamePurchase(h, mailboxId, quantity))) return goTo(again);
          const placed = await placeExtraSpaceOrder(ctx, h.auth.customerId, mailboxId, quantity, shown);
          if (placed.order.status === 'completed') return goTo(`/mailboxes/${encodeURIComponent(mailboxId)}?msg=purchaseDone`);
          if (text(f, 'withTopup') === '1') return goTo(await kit.topupForOrder(h, orderView(placed.order, placed.balanceCents, clock.nowMs(), cat)));
          return goTo('/orders?msg=orderWaiting');
        },
        refused,
      );
    }),
  );

}
