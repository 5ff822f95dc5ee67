// An e-mail as structured blocks, rendered once to plain text and once to HTML (R13), so escaping
// lives in one place and both versions always say the same thing.
import type { Locale } from '../i18n/format.ts';
import { say } from './texts.ts';
export type Block =
  | { p: string }
  | { rows: readonly (readonly [label: string, value: string])[] }
  | { link: string; href: string }
  | { warning: string };

export interface EmailContent {
  subject: string;
  blocks: readonly Block[];
}

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** Who the e-mail comes from, as the pages show it: name, logo (absolute URL), legal footer, help. */
export interface EmailBrand {
  name: string;
  logoUrl: string | null;
  legal: { companyName: string | null; ids: string | null; office: string | null } | null;
  supportEmail: string | null;
}

export const PLAIN_BRAND: EmailBrand = { name: 'Casella', logoUrl: null, legal: null, supportEmail: null };

// The pages' look (src/web/assets/casella.css) in the inline styles e-mail clients keep: the dark
// header with the provider's name, a white card on a grey ground, the accent-coloured button.
const C = { ink: '#1b1f24', muted: '#4a5561', bg: '#f6f7f9', line: '#d5dae0', accent: '#0b5cad', head: '#0f2a47', warnBg: '#fdecec', warnInk: '#9b1c1c' };
const FONT = 'system-ui,-apple-system,\'Segoe UI\',Roboto,\'Helvetica Neue\',Arial,sans-serif';

function footerLines(brand: EmailBrand, lang: string): string[] {
  const l = brand.legal;
  const L: Locale = lang === 'en' ? 'en' : 'it';
  const office = l?.office ? say(L, 'office', { office: l.office }) : null;
  const help = brand.supportEmail ? say(L, 'support', { email: brand.supportEmail }) : null;
  return [l?.companyName ?? brand.name, l?.ids ?? null, office, help].filter((x): x is string => Boolean(x));
}

export function renderEmail(content: EmailContent, lang: string, brand: EmailBrand = PLAIN_BRAND): RenderedEmail {
  const footer = footerLines(brand, lang);
  const text = content.blocks
    .map((b) => {
      if ('p' in b) return b.p;
      if ('warning' in b) return `!! ${b.warning}`;
      if ('link' in b) return `${b.link}: ${b.href}`;
      const width = Math.max(...b.rows.map(([l]) => l.length));
      return b.rows.map(([l, v]) => `${(l + ':').padEnd(width + 2)}${v}`).join('\n');
    })
    .join('\n\n');
  const body = content.blocks
    .map((b) => {
      if ('p' in b) return `<p style="margin:0 0 16px">${escapeHtml(b.p)}</p>`;
      if ('warning' in b) {
        return `<p style="margin:0 0 16px;border-left:4px solid ${C.warnInk};padding:10px 14px;background:${C.warnBg};color:${C.warnInk}"><strong>${escapeHtml(b.warning)}</strong></p>`;
      }
      if ('link' in b) {
        return `<p style="margin:0 0 16px"><a href="${escapeHtml(b.href)}" style="display:inline-block;background:${C.accent};color:#ffffff;text-decoration:none;font-weight:600;padding:10px 18px;border-radius:6px">${escapeHtml(b.link)}</a></p>`;
      }
      return `<table role="presentation" cellpadding="0" cellspacing="0" style="border-collapse:collapse;margin:0 0 16px;width:100%">${b.rows
        .map(
          ([l, v]) =>
            `<tr><th align="left" scope="row" style="padding:6px 12px 6px 0;border-bottom:1px solid ${C.line};color:${C.muted};font-weight:600;vertical-align:top">${escapeHtml(l)}</th><td style="padding:6px 0;border-bottom:1px solid ${C.line}">${escapeHtml(v)}</td></tr>`,
        )
        .join('')}</table>`;
    })
    .join('\n');
  const logo = brand.logoUrl
    ? `<img src="${escapeHtml(brand.logoUrl)}" alt="" height="32" style="height:32px;vertical-align:middle;margin-right:10px;background:#ffffff;border-radius:4px;padding:2px">`
    : '';
  const html = `<!doctype html><html lang="${escapeHtml(lang)}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(content.subject)}</title></head>
<body style="margin:0;padding:0;background:${C.bg};color:${C.ink};font-family:${FONT};line-height:1.5">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:${C.bg}"><tr><td align="center" style="padding:0 8px 24px">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:600px">
<tr><td style="background:${C.head};color:#ffffff;padding:14px 20px;font-size:18px;font-weight:700">${logo}${escapeHtml(brand.name)} <span style="font-weight:400;opacity:0.85">PEC</span></td></tr>
<tr><td style="background:#ffffff;border:1px solid ${C.line};border-top:0;padding:20px">
<h1 style="font-size:20px;line-height:1.3;margin:0 0 16px">${escapeHtml(content.subject)}</h1>
${body}
</td></tr>
<tr><td style="padding:14px 4px;color:${C.muted};font-size:13px">${footer.map(escapeHtml).join('<br>')}</td></tr>
</table></td></tr></table>
</body></html>`;
  return { subject: content.subject, text: `${text}\n\n-- \n${footer.join('\n')}\n`, html };
}
