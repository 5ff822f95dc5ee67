// Every string of the holder's pages, Italian first, English beside it. Placeholders are {name}.
// One file per page under ./i18n/ (common: what every page shares); this module joins them.
import type { Locale } from '../i18n/format.ts';
import { fill, fillIn } from '../i18n/dictionary.ts';

import * as common from './i18n/common.ts';
import * as login from './i18n/login.ts';
import * as mailboxes from './i18n/mailboxes.ts';
import * as credit from './i18n/credit.ts';
import * as extraSpace from './i18n/extra-space.ts';
import * as orders from './i18n/orders.ts';
import * as invoices from './i18n/invoices.ts';
import * as paymentMethods from './i18n/payment-methods.ts';
import * as profile from './i18n/profile.ts';
import * as recovery from './i18n/recovery.ts';
import * as twoStep from './i18n/two-step.ts';

const PAGES = [common, login, mailboxes, credit, extraSpace, orders, invoices, paymentMethods, profile, recovery, twoStep];
const it = { ...common.it, ...login.it, ...mailboxes.it, ...credit.it, ...extraSpace.it, ...orders.it, ...invoices.it, ...paymentMethods.it, ...profile.it, ...recovery.it, ...twoStep.it };

export type Dict = typeof it;

const en: Dict = { ...common.en, ...login.en, ...mailboxes.en, ...credit.en, ...extraSpace.en, ...orders.en, ...invoices.en, ...paymentMethods.en, ...profile.en, ...recovery.en, ...twoStep.en };

// A key in two pages' files would silently take the later text: refuse to start instead.
if (PAGES.reduce((n, p) => n + Object.keys(p.it).length, 0) !== Object.keys(it).length) throw new Error('a dictionary key is defined in two page files');

export const DICTIONARY: Record<Locale, Dict> = { it, en };

export type Key = keyof Dict;

/** The string for key in locale, with {placeholders} filled. */
export function tr(locale: Locale, key: Key, vars: Record<string, string | number> = {}): string {
  return fillIn(locale, DICTIONARY[locale][key], vars);
}

export { fill };
