// The frame of every page: language, title, the stylesheet (no inline style or script: the
// Content-Security-Policy allows only 'self'), a skip link and the main landmark.
import { DEFAULT_BRAND, type Brand } from '../brand.ts';
import { html, type Html } from './html.ts';
import { tr } from './i18n.ts';

export interface PageFrame {
  lang: 'it' | 'en';
  title: string;
  /** Navigation shown to a logged-in holder; null on public pages. */
  nav?: Html | null;
  body: Html;
  scripts?: readonly string[];
  /** The session's CSRF token, for scripts that call the JSON API. */
  csrfToken?: string | null;
  /** The switch to the other language: its text, its address, and the page to come back to. */
  langSwitch?: { label: string; href: string; lang: 'it' | 'en'; next: string } | null;
  /** The provider's name, logo and legal footer (CASELLA_CONFIG `brand`, `seller`). */
  brand?: Brand;
}

/** The provider's legal data and where to get help, at the foot of every page. */
function footer(brand: Brand, lang: 'it' | 'en'): Html {
  const legal = brand.legal;
  const office = legal?.office ? tr(lang, 'footerOffice', { office: legal.office }) : null;
  const help = brand.supportEmail
    ? html`<p>${tr(lang, 'footerSupport')}: <a href="mailto:${brand.supportEmail}">${brand.supportEmail}</a></p>`
    : '';
  const lines = [legal?.companyName ?? brand.name, legal?.ids, office].filter((l): l is string => Boolean(l));
  return html`<footer class="site-footer"><div class="wrap"><p>${lines.map((l, i) => html`${i ? html`<span aria-hidden="true"> · </span>` : ''}<span class="legal-part">${l}</span>`)}</p>${help}</div></footer>`;
}

/**
 * Before login, a link that sets this browser's preference. After login the choice is the holder's
 * (their e-mails follow it), so it is stored only by a form post carrying the CSRF token: a link
 * sent from another site must not change it.
 */
function languageSwitch(sw: NonNullable<PageFrame['langSwitch']>, csrfToken: string | null | undefined): Html {
  if (!csrfToken) return html`<a class="lang" href="${sw.href}" lang="${sw.lang}" hreflang="${sw.lang}">${sw.label}</a>`;
  return html`<form method="post" action="/lang/${sw.lang}" class="inline lang-form"><input type="hidden" name="_csrf" value="${csrfToken}"><input type="hidden" name="next" value="${sw.next}"><button type="submit" class="linklike lang" lang="${sw.lang}">${sw.label}</button></form>`;
}

export function page(f: PageFrame): string {
  const skip = tr(f.lang, 'skip');
  const sw = f.langSwitch;
  const brand = f.brand ?? DEFAULT_BRAND;
  const logo = brand.logo ? html`<img class="brand-logo" src="${brand.logo.path}" alt="" height="32">` : '';
  return html`<!doctype html>
<html lang="${f.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${f.title} — ${brand.name}</title>
${f.csrfToken ? html`<meta name="csrf-token" content="${f.csrfToken}">` : ''}
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/casella.css">
${(f.scripts ?? []).map((s) => html`<script src="${s}" defer></script>`)}
</head>
<body>
<a class="skip" href="#main">${skip}</a>
<header class="top"><div class="wrap top-row"><span class="brand">${logo}<span class="brand-name">${brand.name}</span> <span class="brand-sub">PEC</span></span>${sw ? languageSwitch(sw, f.csrfToken) : ''}</div>${f.nav ?? ''}</header>
<main id="main" class="wrap" tabindex="-1">
${f.body}
</main>
${footer(brand, f.lang)}
</body>
</html>`.value;
}
