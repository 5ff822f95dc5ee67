// R18 on the holder's pages: "Metodi di pagamento" (saved cards, `Aggiungi carta`, per card
// `Rimuovi`, which says which mailboxes stop renewing by card), and the mailbox card's choice
// `Rinnova con la carta`.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { savedCardGatewayFor } from '../../payments/registry.ts';
import { listPaymentMethods, removePaymentMethod, setCardRenewal, startCardSetup, type PaymentMethodRow } from '../../services/billing/payment-methods.ts';
import { readMailboxes } from '../../services/rows.ts';
import type { MailboxView } from '../../services/views.ts';
import { html, raw, type Html } from '../html.ts';
import { tr } from '../i18n.ts';
import { formOf, text, type Holder, type WebKit } from '../kit.ts';
import { billingFirst } from './invoice-pages.ts';

export const PAYMENT_METHODS_PATH = '/metodi-di-pagamento';

/** The link to the page, for the credit page and the profile. */
export const paymentMethodsLink = (h: Holder): Html => html`<p><a href="${PAYMENT_METHODS_PATH}">${tr(h.L, 'paymentMethodsTitle')}</a></p>`;

/** The mailbox card's choice (R18: off unless the holder picks a card here). */
export async function cardRenewalSection(kit: WebKit, h: Holder, m: MailboxView): Promise<Html> {
  if (m.status === 'terminated') return html``;
  const L = h.L;
  const cards = await listPaymentMethods(kit.ctx.db, h.auth.customerId);
  const chosen = m.cardRenewal?.paymentMethodId ?? '';
  const option = (value: string, label: string) =>
    html`<div class="check"><input type="radio" id="card-${value || 'none'}" name="paymentMethodId" value="${value}"${chosen === value ? raw(' checked') : ''}><label for="card-${value || 'none'}">${label}</label></div>`;
  return html`<section class="card" aria-labelledby="card-renewal-h">
<h2 id="card-renewal-h">${tr(L, 'cardRenewalChoice')}</h2>
<p class="muted">${tr(L, 'cardRenewalHint', { days: kit.cat.cardRenewalDaysBefore })}</p>
${cards.length === 0 && !chosen
  ? html`<p>${tr(L, 'cardRenewalNoCards')} <a href="${PAYMENT_METHODS_PATH}">${tr(L, 'paymentMethodsTitle')}</a></p>`
  : html`<form method="post" action="/mailboxes/${m.id}/card-renewal">${kit.csrfField(h)}
<fieldset><legend>${tr(L, 'cardRenewalChoice')}</legend>
${option('', tr(L, 'cardRenewalNone'))}
${cards.map((c) => option(c.id, tr(L, 'cardRenewalCard', { brand: c.brand, last4: c.last4, month: String(c.exp_month).padStart(2, '0'), year: c.exp_year })))}
</fieldset>
<button type="submit">${tr(L, 'cardRenewalSave')}</button>
</form>`}
</section>`;
}

export function paymentMethodPages(server: FastifyInstance, kit: WebKit): void {
  const { ctx, csrfField, holderPage, holderRoute, idOf } = kit;
  const savedCards = savedCardGatewayFor(kit.app.config, kit.app.db);

  const cardsPage = async (req: FastifyRequest, reply: FastifyReply, h: Holder, message: string | null = null) => {
    const L = h.L;
    const [cards, mailboxes] = await Promise.all([listPaymentMethods(ctx.db, h.auth.customerId), readMailboxes(ctx.db, h.auth.customerId)]);
    const addressOf = new Map(mailboxes.map((m) => [m.id, m.address]));
    const row = (c: PaymentMethodRow) => html`<li class="card">
<p><strong>${c.brand}</strong> •••• ${c.last4} — ${String(c.exp_month).padStart(2, '0')}/${c.exp_year}</p>
<p class="muted">${c.mailbox_ids.length ? tr(L, 'cardRenews', { addresses: c.mailbox_ids.map((id) => addressOf.get(id) ?? id).join(', ') }) : tr(L, 'cardRenewsNothing')}</p>
<form method="post" action="${PAYMENT_METHODS_PATH}/${c.id}/rimuovi">${csrfField(h)}<button type="submit" aria-label="${tr(L, 'removeCardLabel', { last4: c.last4 })}">${tr(L, 'removeCard')}</button></form>
</li>`;
    const body = html`<h1>${tr(L, 'paymentMethodsTitle')}</h1>
${message ? html`<p class="notice" role="status">${message}</p>` : ''}
<p class="muted">${tr(L, 'paymentMethodsIntro')}</p>
${cards.length ? html`<ul class="plain">${cards.map(row)}</ul>` : html`<p>${tr(L, 'paymentMethodsNone')}</p>`}
<form method="post" action="${PAYMENT_METHODS_PATH}">${csrfField(h)}<button type="submit" class="primary">${tr(L, 'addCard')}</button></form>`;
    return holderPage(req, reply, h, { title: tr(L, 'paymentMethodsTitle'), current: PAYMENT_METHODS_PATH, body });
  };

  server.get(PAYMENT_METHODS_PATH, { schema: { hide: true } }, holderRoute(async (req, reply, h) => cardsPage(req, reply, h)));

  server.post(
    PAYMENT_METHODS_PATH,
    { schema: { hide: true } },
    holderRoute(async (_req, reply, h) => {
      // R15: a saved card pays invoiced top-ups, so the billing data come first.
      if (!(await kit.hasBillingProfile(h))) return reply.redirect(billingFirst(PAYMENT_METHODS_PATH), 303);
      const setup = await startCardSetup(ctx, savedCards, h.auth.customerId);
      return reply.redirect(setup.setup_url!, 303);
    }),
  );

  server.post(
    `${PAYMENT_METHODS_PATH}/:id/rimuovi`,
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) => {
      const mailboxes = await readMailboxes(ctx.db, h.auth.customerId);
      const { mailboxesSwitchedOff } = await removePaymentMethod(ctx, { kind: 'holder', id: h.auth.customerId }, h.auth.customerId, idOf(req));
      const addresses = mailboxesSwitchedOff.map((id) => mailboxes.find((m) => m.id === id)?.address ?? id);
      // R18: removing a card says which mailboxes no longer renew by card.
      const said =
        addresses.length === 1 ? tr(h.L, 'cardRemovedSwitchedOffOne', { address: addresses[0]! })
        : addresses.length ? tr(h.L, 'cardRemovedSwitchedOff', { addresses: addresses.join(', ') })
        : tr(h.L, 'cardRemoved');
      return cardsPage(req, reply, h, said);
    }),
  );

  server.post(
    '/mailboxes/:id/card-renewal',
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) => {
      const chosen = text(formOf(req), 'paymentMethodId').slice(0, 100);
      await setCardRenewal(ctx, { kind: 'holder', id: h.auth.customerId }, h.auth.customerId, idOf(req), chosen ? { paymentMethodId: chosen } : null);
      return reply.redirect(`/mailboxes/${encodeURIComponent(idOf(req))}?msg=settingsSaved`, 303);
    }),
  );
}
