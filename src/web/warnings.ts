// The warnings of the holder's pages, worded from src/domain/outlook.ts: a status badge that says
// its state in words (colour only repeats it), when the mailbox expires, the expired banner with its
// renewal button, the space warning with R11's consequence, and the credit the renewals need.
import { clock } from '../clock.ts';
import { date } from '../domain/calendar.ts';
import type { Catalogue } from '../domain/catalogue.ts';
import { manualRenewalAmount } from '../domain/renewal.ts';
import { creditOutlook, mailboxStanding, spaceLevel, type CreditOutlook, type Standing } from '../domain/outlook.ts';
import type { HolderCards } from '../domain/card-renewal.ts';
import type { MailboxFacts } from '../domain/mailbox.ts';
import type { HolderMailbox } from '../domain/holder-renewals.ts';
import { longDate, money, type Locale } from '../i18n/format.ts';
import type { Cents } from '../domain/money.ts';
import { shownPrice, type BuyerVat } from '../domain/price-display.ts';
import type { MailboxView } from '../services/views.ts';
import { html, type Html } from './html.ts';
import { tr } from './i18n.ts';
import { onceField } from './once.ts';

export const standingOf = (m: Pick<MailboxView, 'status' | 'expiresOn'>, c: Catalogue): Standing =>
  mailboxStanding({ status: m.status, expiresOn: date(m.expiresOn) }, clock.today(), c);

/** The badge: the state in words; the class only adds colour and an outline. */
export function badge(s: Standing, L: Locale): Html {
  switch (s.kind) {
    case 'active':
      return html`<span class="badge badge-ok">${tr(L, 'badgeActive')}</span>`;
    case 'expiring':
      return html`<span class="badge badge-warn">${tr(L, 'badgeExpiring')}</span>`;
    case 'expired':
      return html`<span class="badge badge-bad">${tr(L, 'badgeExpiredUntil', { date: longDate(s.renewableUntil, L) })}</span>`;
    case 'terminated':
      return html`<span class="badge badge-off">${tr(L, 'badgeTerminated')}</span>`;
    case 'suspended':
      return html`<span class="badge badge-bad">${tr(L, 'badgeSuspended')}</span>`;
  }
}

/** "scade tra N giorni" within the renewal window, else the date in words. */
export function expiryText(s: Standing, expiresOn: string, L: Locale): string {
  if (s.kind !== 'expiring') return tr(L, 'expiresOnDate', { date: longDate(date(expiresOn), L) });
  if (s.daysLeft === 0) return tr(L, 'expiresToday');
  if (s.daysLeft === 1) return tr(L, 'expiresTomorrow');
  return tr(L, 'expiresInDays', { days: s.daysLeft });
}

interface WarningContext {
  L: Locale;
  cat: Catalogue;
  csrfField: Html;
  /** A net price as this holder reads it (kit.price). */
  price: (net: number) => string;
  buyer: BuyerVat;
}

/** R8 on the page: an expired mailbox says until when it can be renewed, with the button. */
export function expiredBanner(m: MailboxView, facts: MailboxFacts, w: WarningContext): Html {
  const s = standingOf(m, w.cat);
  const L = w.L;
  if (s.kind !== 'expired') return html``;
  const until = longDate(s.renewableUntil, L);
  const price = manualRenewalAmount(facts, w.cat).totalCents;
  return html`<div class="banner banner-bad" role="region" aria-label="${tr(L, 'renewBy', { date: until })}">
<p><strong>${tr(L, 'renewBy', { date: until })}</strong></p>
<p>${tr(L, 'expiredBanner', { address: m.address, date: longDate(date(m.expiresOn), L), until })} ${tr(L, 'renewalPrice', { price: w.price(price) })}</p>
<form method="post" action="/mailboxes/${encodeURIComponent(m.id)}/renewal">${w.csrfField}${onceField()}<button type="submit" class="primary">${tr(L, 'renewNow')}</button></form>
</div>`;
}

/** R11 on the page: nearly full, or full with what happens to new mail, and the way to more space. */
export function spaceWarning(m: MailboxView, w: WarningContext): Html {
  const level = spaceLevel(m.space.usedBytes, m.space.totalBytes, w.cat);
  if (level.kind === 'ok' || m.status === 'terminated') return html``;
  const L = w.L;
  const text =
    level.kind === 'full' ? tr(L, 'spaceFull', { address: m.address }) : tr(L, 'spaceNearlyFull', { address: m.address, percent: level.percent });
  const buy = m.status === 'active' ? html` <a href="/mailboxes/${encodeURIComponent(m.id)}/extra-space">${tr(L, 'buySpace')}</a>` : '';
  return html`<p class="warning${level.kind === 'full' ? ' warning-bad' : ''}"><strong>${tr(L, 'warningLabel')}</strong> ${text}${buy}</p>`;
}

export function holderOutlook(facts: readonly HolderMailbox[], balance: Cents, waitingOrders: Cents, c: Catalogue, cards?: HolderCards): CreditOutlook {
  return creditOutlook(facts, balance, waitingOrders, clock.today(), c, undefined, cards);
}

/** The dashboard's credit warning, with a one-click top-up of exactly what is missing (plus waiting orders, R5). */
export function creditWarning(o: CreditOutlook, balance: Cents, waitingOrders: Cents, w: WarningContext, amountText: (c: Cents) => string): Html {
  if (o.shortfallCents <= 0) return html``;
  const L = w.L;
  const needsMore = o.topupCents !== o.shortfallCents;
  return html`<section class="banner banner-warn" aria-labelledby="credit-short-h">
<h2 id="credit-short-h">${tr(L, 'creditShort', { amount: money(o.shortfallCents, L) })}</h2>
<p>${tr(L, 'creditShortDetail', { due: money(o.dueCents, L), balance: money(balance, L) })}</p>
${o.cardCents > 0 ? html`<p>${tr(L, 'creditShortCards', { card: money(o.cardCents, L) })}</p>` : ''}
${waitingOrders > 0 ? html`<p>${tr(L, 'creditShortOrders', { orders: money(waitingOrders, L), topup: money(o.topupCents, L) })}</p>` : ''}
${needsMore && waitingOrders <= 0 ? html`<p>${tr(L, 'creditShortMin', { min: money(w.cat.topupMinCents, L) })}</p>` : ''}
<form method="post" action="/credit/topups">${w.csrfField}${onceField()}<input type="hidden" name="amount" value="${amountText(o.topupCents)}">
<button type="submit" class="primary">${tr(L, 'topupExactly', { amount: money(o.topupCents, L) })}</button></form>
<p class="small">${tr(L, 'cardCharge', { gross: money(shownPrice(o.topupCents, w.buyer).grossCents, L) })}</p>
</section>`;
}
