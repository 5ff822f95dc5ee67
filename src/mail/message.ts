// An e-mail as structured blocks, rendered once to plain text and once to HTML (R13), so escaping
// lives in one place and both versions always say the same thing.
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

export function renderEmail(content: EmailContent, lang: string): RenderedEmail {
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
      if ('p' in b) return `<p>${escapeHtml(b.p)}</p>`;
      if ('warning' in b) return `<p style="border-left:4px solid #b3261e;padding:8px 12px;background:#fdecea"><strong>${escapeHtml(b.warning)}</strong></p>`;
      if ('link' in b) return `<p><a href="${escapeHtml(b.href)}">${escapeHtml(b.link)}</a></p>`;
      return `<table role="presentation" cellpadding="4">${b.rows
        .map(([l, v]) => `<tr><th align="left" scope="row">${escapeHtml(l)}</th><td>${escapeHtml(v)}</td></tr>`)
        .join('')}</table>`;
    })
    .join('\n');
  const html = `<!doctype html><html lang="${escapeHtml(lang)}"><head><meta charset="utf-8"><title>${escapeHtml(content.subject)}</title></head><body style="font-family:sans-serif;color:#1b1b1b;line-height:1.5">${body}</body></html>`;
  return { subject: content.subject, text: text + '\n', html };
}
