// The frame of every page: language, title, the stylesheet (no inline style or script: the
// Content-Security-Policy allows only 'self'), a skip link and the main landmark.
import { html, type Html } from './html.ts';

export interface PageFrame {
  lang: 'it' | 'en';
  title: string;
  /** Navigation shown to a logged-in holder; null on public pages. */
  nav?: Html | null;
  body: Html;
  scripts?: readonly string[];
  /** The session's CSRF token, for scripts that call the JSON API. */
  csrfToken?: string | null;
  /** The link to the other language: its text and address. */
  langSwitch?: { label: string; href: string; lang: 'it' | 'en' } | null;
}

export function page(f: PageFrame): string {
  const skip = f.lang === 'en' ? 'Skip to content' : 'Vai al contenuto';
  const sw = f.langSwitch;
  return html`<!doctype html>
<html lang="${f.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${f.title} — Casella</title>
${f.csrfToken ? html`<meta name="csrf-token" content="${f.csrfToken}">` : ''}
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/casella.css">
${(f.scripts ?? []).map((s) => html`<script src="${s}" defer></script>`)}
</head>
<body>
<a class="skip" href="#main">${skip}</a>
<header class="top"><div class="wrap top-row"><span class="brand">Casella <span class="brand-sub">PEC</span></span>${sw ? html`<a class="lang" href="${sw.href}" lang="${sw.lang}" hreflang="${sw.lang}">${sw.label}</a>` : ''}</div>${f.nav ?? ''}</header>
<main id="main" class="wrap" tabindex="-1">
${f.body}
</main>
</body>
</html>`.value;
}
