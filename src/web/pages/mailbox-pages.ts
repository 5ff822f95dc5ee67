// The dashboard, the list of mailboxes and the mailbox card with its renewal controls.
import { holderCards, readCardRenewals } from '../../services/renewals/card-renewals.ts';
import { cardRenewalSection } from './payment-method-pages.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clock } from '../../clock.ts';
import { holderMailbox, mailboxFacts, readBalance, readMailbox, readMailboxes } from '../../services/rows.ts';
import { mailboxView, orderView, type MailboxView } from '../../services/views.ts';
import { cents } from '../../domain/money.ts';
import { badge, creditWarning, expiredBanner, expiryText, holderOutlook, spaceWarning, standingOf } from '../warnings.ts';
import { placeRenewalOrder, readOrders } from '../../services/billing/orders.ts';
import { setRenewalSwitches } from '../../services/mailboxes/mailbox-settings.ts';
import { longDate, money } from '../../i18n/format.ts';
import { manualRenewalWindow } from '../../domain/mailbox.ts';
import { html, raw, wrappableAddress, type Html } from '../html.ts';
import { tr } from '../i18n.ts';
import { eurosText, formOf, gb, type Holder, type WebKit } from '../kit.ts';
import { goTo, onceField, refusalError, submitOnce } from '../once.ts';

export function mailboxPages(server: FastifyInstance, kit: WebKit): void {
  const { ctx, cat, price, day, typeLabel, csrfField, holderPage, notice, notFoundPage, holderRoute, idOf } = kit;
  const warningContext = (h: Holder) => ({ L: h.L, cat, csrfField: csrfField(h), price: (net: number) => price(net, h), buyer: h.buyer });
  // The renewal's extra-space line names its GB, and says so when it will not be renewed.
  const renewalExtraRow = (m: MailboxView, h: Holder): Html => {
    const L = h.L;
    const a = m.addons.find((x) => x.status === 'active');
    if (m.renewal!.addonsPriceCents > 0 && a) {
      return html`<div><dt>${tr(L, 'renewalExtra', { gb: a.quantityGb })}</dt><dd>${price(m.renewal!.addonsPriceCents, h)}</dd></div>`;
    }
    if (a && !m.extraSpaceAutoRenew) return html`<div><dt>${tr(L, 'renewalExtra', { gb: a.quantityGb })}</dt><dd>${tr(L, 'renewalExtraOff')}</dd></div>`;
    return html`<div><dt>${tr(L, 'renewalAddons')}</dt><dd>${price(m.renewal!.addonsPriceCents, h)}</dd></div>`;
  };
  server.get(
    '/',
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) => {
      const L = h.L;
      const [rows, balance, orders] = await Promise.all([
        readMailboxes(ctx.db, h.auth.customerId),
        readBalance(ctx.db, h.auth.customerId),
        readOrders(ctx, h.auth.customerId),
      ]);
      const boxes = rows.map((r) => mailboxView(r, cat));
      const nowMs = clock.nowMs();
      const waiting = cents(
        orders.map((o) => orderView(o, balance, nowMs, cat)).filter((o) => o.status === 'awaiting_topup').reduce((sum, o) => sum + o.amountCents, 0),
      );
      const w = warningContext(h);
      // R18 (issue 22 item 5): what the saved cards will pay counts, from its charge day, for "il credito non basta".
      const cardRows = (await readCardRenewals(ctx.db, [h.auth.customerId])).get(h.auth.customerId);
      const cards = holderCards(cardRows, rows.map((r) => r.id), clock.today(), cat.cardRenewalDaysBefore);
      const outlook = holderOutlook(rows.map(holderMailbox), cents(balance), waiting, cat, cards);
      const body = html`<h1>${tr(L, 'dashboardTitle')}</h1>
${notice(L, req)}
<p>${tr(L, 'welcome', { name: h.customer.name })}</p>
${creditWarning(outlook, balance, waiting, w, (c) => eurosText(c, L))}
${boxes.map((b, i) => expiredBanner(b, mailboxFacts(rows[i]!), w))}
${boxes.map((b) => spaceWarning(b, w))}
<section class="card" aria-labelledby="balance-h">
<h2 id="balance-h">${tr(L, 'balance')}</h2>
<p class="big"><span id="balance">${money(balance, L)}</span> <span class="vat-note">${tr(L, 'vatExcludedNote')}</span></p>
<p><a class="button" href="/credit">${tr(L, 'topupLink')}</a></p>
</section>
<section class="card" aria-labelledby="boxes-h">
<h2 id="boxes-h">${tr(L, 'yourMailboxes')}</h2>
${boxes.length === 0
  ? html`<p>${tr(L, 'noMailboxes')}</p>`
  : html`<ul class="plain boxes">${boxes.map((b) => {
      const s = standingOf(b, cat);
      return html`<li><a class="addr" href="/mailboxes/${encodeURIComponent(b.id)}">${wrappableAddress(b.address)}</a> ${badge(s, L)}${s.kind === 'terminated' || s.kind === 'expired' ? '' : html` <span class="expiry">${expiryText(s, b.expiresOn, L)}</span>`}</li>`;
    })}</ul>`}
<p><a href="/mailboxes">${tr(L, 'mailboxListLink')}</a></p>
</section>`;
      return holderPage(req, reply, h, { title: tr(L, 'dashboardTitle'), current: '/', body });
    }),
  );

  const magnifier = raw(
    '<svg aria-hidden="true" focusable="false" width="20" height="20" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round"><circle cx="10.5" cy="10.5" r="6.5"/><line x1="15.5" y1="15.5" x2="21" y2="21"/></svg>',
  );

  server.get(
    '/mailboxes',
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) => {
      const L = h.L;
      const boxes = (await readMailboxes(ctx.db, h.auth.customerId)).map((r) => mailboxView(r, cat));
      const body = html`<h1>${tr(L, 'mailboxesTitle')}</h1>
${boxes.length === 0
  ? html`<p>${tr(L, 'noMailboxes')}</p>`
  : html`<div class="table-wrap"><table class="stack">
<thead><tr><th scope="col">${tr(L, 'colAddress')}</th><th scope="col">${tr(L, 'colStatus')}</th><th scope="col">${tr(L, 'colExpiry')}</th><th scope="col">${tr(L, 'colType')}</th><th scope="col">${tr(L, 'colDetails')}</th></tr></thead>
<tbody>${boxes.map(
      (b) => {
        const s = standingOf(b, cat);
        return html`<tr><td class="addr" data-label="${tr(L, 'colAddress')}">${wrappableAddress(b.address)}</td><td data-label="${tr(L, 'colStatus')}">${badge(s, L)}</td>
<td data-label="${tr(L, 'colExpiry')}"><span>${day(b.expiresOn, L)}${s.kind === 'expiring' ? html`<br><span class="small">${expiryText(s, b.expiresOn, L)}</span>` : ''}</span></td><td data-label="${tr(L, 'colType')}">${typeLabel(b.type, L)}</td>
<td class="cell-action"><a class="icon-link" href="/mailboxes/${encodeURIComponent(b.id)}" aria-label="${tr(L, 'details', { address: b.address })}">${magnifier}</a></td></tr>`;
      },
    )}</tbody></table></div>`}`;
      return holderPage(req, reply, h, { title: tr(L, 'mailboxesTitle'), current: '/mailboxes', body });
    }),
  );

  const mailboxCard = async (req: FastifyRequest, reply: FastifyReply, h: Holder, status = 200, error: string | null = null) => {
    const L = h.L;
    const row = await readMailbox(ctx.db, idOf(req), h.auth.customerId);
    if (!row) return notFoundPage(req, reply, h);
    const m = mailboxView(row, cat);
    const facts = mailboxFacts(row);
    const standing = standingOf(m, cat);
    const w = warningContext(h);
    const window = manualRenewalWindow(facts, clock.today(), cat);
    const usedPct = m.space.totalBytes > 0 ? Math.min(100, Math.round((m.space.usedBytes / m.space.totalBytes) * 100)) : 0;
    const id = encodeURIComponent(m.id);
    const body = html`<h1 class="addr">${wrappableAddress(m.address)}</h1>
${notice(L, req)}
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
${expiredBanner(m, facts, w)}
${standing.kind === 'terminated' ? html`<p class="warning">${tr(L, 'terminatedNote')}</p>` : ''}
${spaceWarning(m, w)}
<section class="card">
<dl class="facts">
<div><dt>${tr(L, 'status')}</dt><dd>${badge(standing, L)}</dd></div>
<div><dt>${tr(L, 'expiresOn')}</dt><dd>${day(m.expiresOn, L)}${standing.kind === 'expiring' ? html` <span class="small">(${expiryText(standing, m.expiresOn, L)})</span>` : ''}</dd></div>
<div><dt>${tr(L, 'type')}</dt><dd>${typeLabel(m.type, L)}</dd></div>
<div><dt id="space-label">${tr(L, 'inboxSpace')}</dt><dd><span id="space-text">${tr(L, 'spaceUsed', { used: gb(m.space.usedBytes, L), total: m.space.totalGb })}</span>
<progress class="space" max="${m.space.totalBytes}" value="${Math.min(m.space.usedBytes, m.space.totalBytes)}" aria-labelledby="space-label" aria-describedby="space-text">${usedPct}%</progress></dd></div>
</dl>
</section>
<section class="card" aria-labelledby="addons-h">
<h2 id="addons-h">${tr(L, 'addons')}</h2>
${m.addons.length === 0
  ? html`<p>${tr(L, 'noAddons')}</p>`
  : html`<ul class="plain">${m.addons.map(
      (a) => html`<li><strong>${tr(L, 'extraSpace')}</strong>: ${tr(L, a.status === 'active' ? 'addonLineActive' : 'addonLineDeactivated', {
        gb: a.quantityGb,
        until: day(a.activeUntil, L),
      })}. ${a.renewalPriceCents === null ? tr(L, 'addonNoRenewal') : tr(L, 'addonRenewal', { price: price(a.renewalPriceCents, h) })}</li>`,
    )}</ul>`}
${m.status === 'active' ? html`<p><a class="button" href="/mailboxes/${id}/extra-space">${tr(L, 'buyAddon')}</a></p>` : ''}
</section>
<section class="card" aria-labelledby="renewal-h">
<h2 id="renewal-h">${tr(L, standing.kind === 'expired' ? 'renewalExpiredTitle' : 'renewal')}</h2>
${m.renewal
  ? html`<p>${standing.kind === 'expired'
      // R8: an expired mailbox's renewal date is past; what matters is until when it can be renewed.
      ? tr(L, 'renewalExpiredDue', { until: longDate(standing.renewableUntil, L), from: day(m.renewal.dueOn, L) })
      : tr(L, 'renewalDue', { date: day(m.renewal.dueOn, L) })}</p>
<dl class="facts">
<div><dt>${tr(L, 'renewalMailbox')}</dt><dd>${price(m.renewal.mailboxPriceCents, h)}</dd></div>
${renewalExtraRow(m, h)}
<div><dt>${tr(L, 'renewalTotal')}</dt><dd><strong>${price(m.renewal.totalCents, h)}</strong></dd></div>
</dl>`
  : html`<p>${tr(L, 'noRenewal')}</p>`}
${window.allowed && m.status === 'active'
  ? html`<h3>${tr(L, 'manualRenewal')}</h3><form method="post" action="/mailboxes/${id}/renewal">${csrfField(h)}${onceField()}<button type="submit">${tr(L, 'renewNow')}</button></form>`
  : !window.allowed && window.reason === 'too_early' && window.opensOn
    ? html`<p class="muted">${tr(L, 'renewalClosed', { date: longDate(window.opensOn, L) })}</p>`
    : ''}
</section>
${m.status !== 'terminated'
  ? html`<section class="card" aria-labelledby="auto-h">
<h2 id="auto-h">${tr(L, 'autoRenewTitle')}</h2>
<form method="post" action="/mailboxes/${id}/settings">${csrfField(h)}
<p class="muted" id="auto-hint">${tr(L, 'autoRenewHint')}</p>
<div class="check"><input type="checkbox" id="autoRenew" name="autoRenew" value="1"${m.autoRenew ? raw(' checked') : ''} aria-describedby="auto-hint"><label for="autoRenew">${tr(L, 'autoRenew')}</label></div>
<div class="check"><input type="checkbox" id="extraSpaceAutoRenew" name="extraSpaceAutoRenew" value="1"${m.extraSpaceAutoRenew ? raw(' checked') : ''}><label for="extraSpaceAutoRenew">${tr(L, 'extraAutoRenew')}</label></div>
<button type="submit">${tr(L, 'saveSettings')}</button>
</form></section>`
  : ''}
${await cardRenewalSection(kit, h, m)}`;
    return holderPage(req, reply, h, { status, title: m.address, current: '/mailboxes', body });
  };

  server.get('/mailboxes/:id', { schema: { hide: true } }, holderRoute(async (req, reply, h) => mailboxCard(req, reply, h)));

  server.post(
    '/mailboxes/:id/settings',
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) => {
      const f = formOf(req);
      await setRenewalSwitches(ctx, { kind: 'holder', id: h.auth.customerId }, h.auth.customerId, idOf(req), {
        autoRenew: f.autoRenew !== undefined,
        extraSpaceAutoRenew: f.extraSpaceAutoRenew !== undefined,
      });
      return reply.redirect(`/mailboxes/${encodeURIComponent(idOf(req))}?msg=settingsSaved`, 303);
    }),
  );

  server.post(
    '/mailboxes/:id/renewal',
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) =>
      submitOnce(
        kit,
        req,
        reply,
        h,
        async () => {
          const placed = await placeRenewalOrder(ctx, h.auth.customerId, idOf(req));
          if (placed.order.status === 'completed') return goTo(`/mailboxes/${encodeURIComponent(idOf(req))}?msg=renewalDone`);
          return goTo('/orders?msg=orderWaiting');
        },
        async (rq, rp, hh, error) => {
          if (error.code === 'not_renewable' || error.code === 'mailbox_not_active') return mailboxCard(rq, rp, hh, 409, tr(hh.L, 'notRenewable'));
          throw refusalError(error);
        },
      ),
    ),
  );

}
