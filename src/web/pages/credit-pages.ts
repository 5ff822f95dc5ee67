// The credit page with every movement, top-ups, and the outcome of a card payment.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clock } from '../../clock.ts';
import { startTopup } from '../../payments/checkout.ts';
import { readBalance } from '../../services/rows.ts';
import { orderView } from '../../services/views.ts';
import { readOrder } from '../../services/billing/orders.ts';
import { readStatement } from '../../services/billing/credit.ts';
import { readTopup } from '../../services/billing/topups.ts';
import { confirmCardCharge, readChargeAwaitingConfirmation, type ConfirmationAnswer } from '../../services/renewals/card-charge-confirmation.ts';
import { DomainError } from '../../services/errors.ts';
import { savedCardGatewayFor } from '../../payments/registry.ts';
import { listRefunds, withdrawalOffers, withdrawFromTopup } from '../../services/billing/refunds.ts';
import { date } from '../../domain/calendar.ts';
import { longDate, money } from '../../i18n/format.ts';
import { describeTransaction } from '../../i18n/ledger-text.ts';
import { parseEuros } from '../forms.ts';
import { html, raw, type Html } from '../html.ts';
import { bankAccountOf } from '../../services/billing/topups.ts';
import { bankCausale } from '../../domain/bank-transfer.ts';

type TopupMethod = 'card' | 'bank_transfer';
import { tr, type Key } from '../i18n.ts';
import { formOf, queryOf, text, type Holder, type WebKit } from '../kit.ts';
import { billingFirst } from './invoice-pages.ts';
import { paymentMethodsLink } from './payment-method-pages.ts';
import { goTo, onceField, refusalError, submitOnce } from '../once.ts';

export function creditPages(server: FastifyInstance, kit: WebKit): void {
  const { ctx, cat, gateway, instantDay, day, pct, csrfField, holderPage, notice, holderRoute, idOf } = kit;
  const creditPage = async (req: FastifyRequest, reply: FastifyReply, h: Holder, status = 200, amountText = '', error: string | null = null, method: TopupMethod = 'card', refusal: string | null = null) => {
    const L = h.L;
    const [st, offers, refunds] = await Promise.all([
      readStatement(ctx, h.auth.customerId),
      withdrawalOffers(ctx, gateway, h.auth.customerId),
      listRefunds(ctx.db, h.auth.customerId),
    ]);
    // R16: the hint says what this buyer pays; R17: a transfer is offered when the provider takes them.
    const vat = await kit.vatTermsOf(h);
    const transfers = bankAccountOf(ctx) !== null;
    const radio = (value: TopupMethod, key: 'methodCard' | 'methodTransfer') =>
      html`<div><input type="radio" id="method-${value}" name="method" value="${value}"${method === value ? raw(' checked') : ''}> <label for="method-${value}">${tr(L, key)}</label></div>`;
    const range = { min: money(cat.topupMinCents, L), max: money(cat.topupMaxCents, L) };
    const invalid = error ? html` aria-invalid="true" aria-describedby="amount-error amount-hint"` : html` aria-describedby="amount-hint"`;
    const body = html`<h1>${tr(L, 'creditTitle')}</h1>
${notice(L, req)}
${refusal ? html`<p class="error" role="alert">${refusal}</p>` : ''}

<section class="card" aria-labelledby="balance-h">
<h2 id="balance-h">${tr(L, 'balance')}</h2>
<p class="big"><span id="balance">${money(st.balanceCents, L)}</span> <span class="vat-note">${tr(L, 'vatExcludedNote')}</span></p>
${paymentMethodsLink(h)}
</section>
<section class="card" aria-labelledby="topup-h">
<h2 id="topup-h">${tr(L, 'topupTitle')}</h2>
<form method="post" action="/credit/topups" novalidate>${csrfField(h)}${onceField()}
<div class="field${error ? ' has-error' : ''}"><label for="amount">${tr(L, 'topupAmount')}</label>
<input id="amount" name="amount" type="text" inputmode="decimal" autocomplete="off" required value="${amountText}"${invalid}>
<p class="muted small" id="amount-hint">${vat.treatment === 'standard' ? tr(L, 'topupHint', { ...range, vat: pct(vat.rateBasisPoints) }) : tr(L, 'topupHintNoVat', range)}</p>
${error ? html`<p class="error" id="amount-error">${error}</p>` : ''}
</div>
${transfers
  ? html`<fieldset aria-describedby="method-hint"><legend>${tr(L, 'topupMethod')}</legend>${radio('card', 'methodCard')}${radio('bank_transfer', 'methodTransfer')}
<p class="muted small" id="method-hint">${tr(L, 'methodTransferHint')}</p></fieldset>`
  : ''}
<button type="submit" class="primary">${tr(L, 'topupButton')}</button>
</form>
</section>
${offers.length
  ? html`<section class="card" aria-labelledby="withdraw-h">
<h2 id="withdraw-h">${tr(L, 'withdrawTitle')}</h2>
<p class="muted small">${tr(L, 'withdrawIntro')}</p>
<ul class="plain">${offers.map(
      (o) => html`<li><p>${tr(L, 'withdrawRow', { date: instantDay(o.topup.decided_at!, L), amount: money(o.amounts.netCents, L), until: longDate(date(o.until), L) })}</p>
<form method="post" action="/credit/topups/${encodeURIComponent(o.topup.id)}/withdrawal">${csrfField(h)}${onceField()}<button type="submit">${tr(L, 'withdrawButton')}</button></form></li>`,
    )}</ul>
</section>`
  : ''}
${refunds.length
  ? html`<section class="card" aria-labelledby="refunds-h">
<h2 id="refunds-h">${tr(L, 'refundsTitle')}</h2>
<ul class="plain">${refunds.slice(0, 20).map(
      (r) => html`<li>${tr(L, 'refundRow', { date: instantDay(r.created_at, L), charge: money(r.charge_cents, L), status: tr(L, `refundStatus_${r.status}` as Key) })}</li>`,
    )}</ul>
</section>`
  : ''}
<section class="card" aria-labelledby="mov-h">
<h2 id="mov-h">${tr(L, 'movements')}</h2>
${st.transactions.length === 0
  ? html`<p>${tr(L, 'noMovements')}</p>`
  : html`<div class="table-wrap"><table class="stack">
<thead><tr><th scope="col">${tr(L, 'colDate')}</th><th scope="col">${tr(L, 'colDescription')}</th><th scope="col" class="num">${tr(L, 'colAmount')}</th><th scope="col" class="num">${tr(L, 'colBalanceAfter')}</th></tr></thead>
<tbody>${st.transactions.map(
      (t) => html`<tr><td data-label="${tr(L, 'colDate')}">${instantDay(t.created_at, L)}</td><td data-label="${tr(L, 'colDescription')}">${describeTransaction(t, L)}</td>
<td class="num ${t.wallet_amount_cents < 0 ? 'neg' : 'pos'}" data-label="${tr(L, 'colAmount')}">${t.wallet_amount_cents > 0 ? '+' : ''}${money(t.wallet_amount_cents, L)}</td>
<td class="num" data-label="${tr(L, 'colBalanceAfter')}">${money(t.balance_after_cents, L)}</td></tr>`,
    )}</tbody></table></div>`}
</section>`;
    return holderPage(req, reply, h, { status, title: tr(L, 'creditTitle'), current: '/credit', body });
  };

  // ?amount= comes back from the billing data page (R15), which the first payment passes through.
  server.get('/credit', { schema: { hide: true } }, holderRoute(async (req, reply, h) => creditPage(req, reply, h, 200, text(queryOf(req), 'amount').slice(0, 40))));

  server.post(
    '/credit/topups',
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) => {
      const amountText = text(formOf(req), 'amount').slice(0, 40);
      const amount = parseEuros(amountText, h.L);
      // R17: `Carta` (the default) or `Bonifico`.
      const method: TopupMethod = text(formOf(req), 'method') === 'bank_transfer' && bankAccountOf(ctx) ? 'bank_transfer' : 'card';
      const invalidAmount = () => tr(h.L, 'topupInvalid', { min: money(cat.topupMinCents, h.L), max: money(cat.topupMaxCents, h.L) });
      if (amount === null || amount < cat.topupMinCents || amount > cat.topupMaxCents) return creditPage(req, reply, h, 422, amountText, invalidAmount(), method);
      // R15: the billing data first, then back here with the amount typed.
      if (!(await kit.hasBillingProfile(h))) return reply.redirect(billingFirst(`/credit?amount=${encodeURIComponent(amountText)}`), 303);
      return submitOnce(
        kit,
        req,
        reply,
        h,
        async () => {
          const topup = await startTopup(ctx, gateway, h.auth.customerId, amount, null, method);
          return goTo(method === 'bank_transfer' ? `/credit/topups/${encodeURIComponent(topup.id)}` : kit.checkoutLocation(topup));
        },
        async (rq, rp, hh, error) => {
          if (error.code === 'validation_failed') return creditPage(rq, rp, hh, 422, amountText, invalidAmount(), method);
          throw refusalError(error);
        },
      );
    }),
  );

  // R17: the holder's withdrawal from the credit page (Codice del Consumo art. 52).
  server.post(
    '/credit/topups/:id/withdrawal',
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) =>
      submitOnce(
        kit,
        req,
        reply,
        h,
        async () => {
          const r = await withdrawFromTopup(ctx, gateway, h.auth.customerId, idOf(req), null);
          return goTo(`/credit?msg=${r.status === 'succeeded' ? 'withdrawDone' : 'withdrawPending'}`);
        },
        async (rq, rp, hh, error) => {
          if (error.code === 'withdrawal_not_allowed' || error.code === 'not_found') return creditPage(rq, rp, hh, 409, '', null, 'card', error.message);
          throw refusalError(error);
        },
      ),
    ),
  );

  // R18: a card charge the bank wants authenticated is confirmed from its top-up's page.
  const savedCards = savedCardGatewayFor(kit.app.config, kit.app.db);
  const topupPage = async (req: FastifyRequest, reply: FastifyReply, h: Holder, status = 200, problem: string | null = null) => {
    const L = h.L;
    const t = await readTopup(ctx, h.auth.customerId, idOf(req));
    const waiting = t.status === 'pending' && t.method === 'saved_card' ? await readChargeAwaitingConfirmation(ctx.db, h.auth.customerId, t.id) : null;
    let outcome: Html;
    if (t.status === 'succeeded') {
      // R15: the invoice is issued with the credit; the result page leads to it.
      const invoice = t.invoice_id
        ? html`<p>${tr(L, 'topupInvoice')} <a href="/fatture/${encodeURIComponent(t.invoice_id)}/pdf" download>${tr(L, 'topupInvoicePdf')}</a></p>`
        : '';
      outcome = html`<p class="notice" role="status">${tr(L, 'topupSucceeded', { amount: money(t.amount_cents, L), charge: money(t.charge_cents, L) })}</p>${invoice}`;
    } else if (t.status === 'expired') {
      outcome = html`<p class="error" role="alert">${tr(L, 'topupExpired', { date: day(t.bank_expires_on!, L) })}</p>
<p><a href="/credit">${tr(L, 'tryAgain')}</a></p>`;
    } else if (t.method === 'bank_transfer' && t.bank_reference) {
      // R17: what the holder types at their bank; the causale carries the reference first.
      const account = bankAccountOf(ctx);
      outcome = html`<h2>${tr(L, 'transferTitle')}</h2>
<p>${tr(L, 'transferIntro')}</p>
<dl class="facts">
  <div><dt>${tr(L, 'transferIban')}</dt><dd><code>${account?.iban ?? ''}</code></dd></div>
  <div><dt>${tr(L, 'transferBeneficiary')}</dt><dd>${account?.beneficiary ?? ''}</dd></div>
  <div><dt>${tr(L, 'transferCausale')}</dt><dd><code>${bankCausale(t.bank_reference)}</code></dd></div>
  <div><dt>${tr(L, 'transferAmount')}</dt><dd><strong>${money(t.charge_cents, L)}</strong></dd></div>
  <div><dt>${tr(L, 'transferBy')}</dt><dd>${day(t.bank_expires_on!, L)}</dd></div>
</dl>
<p role="status">${tr(L, 'transferWaiting')}</p>`;
    } else if (t.status === 'failed') {
      const reasonKey = (t.failure_code === 'card_declined' || t.failure_code === 'insufficient_funds' || t.failure_code === 'expired_card' ? `reason_${t.failure_code}` : 'reason_other') as Key;
      outcome = html`<p class="error" role="alert">${tr(L, 'topupFailed', { reason: tr(L, reasonKey) })}</p>
<p><a href="${t.order_id ? '/orders' : '/credit'}">${tr(L, 'tryAgain')}</a></p>`;
    } else if (waiting) {
      // R18: the holder completes the charge on the gateway's page, on-session (`Conferma il pagamento`).
      outcome = html`<h2>${tr(L, 'chargeConfirmTitle')}</h2>
<p>${tr(L, 'chargeConfirmIntro', { charge: money(waiting.charge_cents, L), brand: waiting.brand, last4: waiting.last4, address: waiting.address, date: day(waiting.period_ends_on, L) })}</p>
${problem ? html`<p class="error" role="alert">${problem}</p>` : ''}
<form method="post" action="/credit/topups/${encodeURIComponent(t.id)}/conferma">${csrfField(h)}<button type="submit" class="primary">${tr(L, 'chargeConfirmButton')}</button></form>`;
    } else if (t.method === 'saved_card') {
      outcome = html`<p role="status">${tr(L, 'topupPending')}</p>`;
    } else {
      const url = gateway.checkoutUrl(t);
      outcome = html`<p role="status">${tr(L, 'topupPending')}</p>${url ? html`<p><a class="button" href="${url}">${tr(L, 'payNow')}</a></p>` : ''}`;
    }
    let orderPart: Html = html``;
    if (t.order_id) {
      const o = orderView(await readOrder(ctx, h.auth.customerId, t.order_id), await readBalance(ctx.db, h.auth.customerId), clock.nowMs(), cat);
      const back = html`<p><a href="/mailboxes/${encodeURIComponent(o.mailboxId)}">${tr(L, 'backToMailbox')}</a></p>`;
      orderPart =
        o.status === 'completed'
          ? html`<p class="notice" role="status"><strong>${tr(L, 'orderCompleted')}</strong></p>${back}`
          : t.status === 'pending'
            ? html``
            : html`<p>${tr(L, 'orderNotCompleted', { status: tr(L, `order_${o.status}` as Key) })}</p>${back}`;
    }
    const body = html`<h1>${tr(L, 'topupResultTitle')}</h1>
<section class="card">
${outcome}
${orderPart}
<p><a href="/credit">${tr(L, 'navCredit')}</a></p>
</section>`;
    return holderPage(req, reply, h, { status, title: tr(L, 'topupResultTitle'), current: '/credit', body });
  };

  server.get('/credit/topups/:id', { schema: { hide: true } }, holderRoute(async (req, reply, h) => topupPage(req, reply, h)));

  // R18: `Conferma il pagamento` leads to the gateway's page for this charge (one open at a time).
  server.post(
    '/credit/topups/:id/conferma',
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) => {
      const back = `/credit/topups/${encodeURIComponent(idOf(req))}`;
      let answer: ConfirmationAnswer;
      try {
        answer = await confirmCardCharge(ctx, savedCards, h.auth.customerId, idOf(req));
      } catch (err) {
        if (err instanceof DomainError) {
          if (err.code === 'topup_not_pending') return reply.redirect(back, 303);
          throw err;
        }
        // The gateway did not answer: nothing was opened; the holder may try again.
        req.log.error({ err, topupId: idOf(req) }, 'charge confirmation page not opened');
        return topupPage(req, reply, h, 502, tr(h.L, 'chargeConfirmUnavailable'));
      }
      return reply.redirect(answer.kind === 'open' ? answer.url : back, 303);
    }),
  );



}
