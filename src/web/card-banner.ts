// R18: a failed card charge shows a banner on every holder page until the renewal is settled.
import type { Queryable } from '../db/database.ts';
import { date } from '../domain/calendar.ts';
import { longDate, type Locale } from '../i18n/format.ts';
import { readCardChargeProblems } from '../services/renewals/card-renewals.ts';
import { html, type Html } from './html.ts';
import { tr } from './i18n.ts';

export async function cardChargeBanner(db: Queryable, customerId: string, L: Locale, authenticateUrl: (topupId: string) => string): Promise<Html> {
  const problems = await readCardChargeProblems(db, customerId);
  if (!problems.length) return html``;
  return html`<div class="notice warning" role="alert">${problems.map((p) =>
    p.state === 'failed'
      ? html`<p>${tr(L, 'cardBannerFailed', { address: p.address, date: longDate(date(p.period_ends_on), L) })} <a href="/orders">${tr(L, 'cardBannerOrders')}</a></p>`
      : html`<p>${tr(L, 'cardBannerAuth', { address: p.address, date: longDate(date(p.period_ends_on), L) })} <a href="${authenticateUrl(p.topup_id)}">${tr(L, 'cardBannerConfirm')}</a></p>`,
  )}</div>`;
}
