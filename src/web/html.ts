// HTML by tagged template: every interpolated value is escaped unless it is already Html, so a page
// cannot forget to escape (the pages have no template engine to get this wrong for them).
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

type Value = Html | string | number | boolean | null | undefined | readonly Value[];

function render(v: Value): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += render(v) + strings[i + 1]!;
  });
  return new Html(out);
}

export const raw = (s: string): Html => new Html(s);

/**
 * An e-mail address that wraps where it reads well on a narrow screen: before the @ and before each
 * dot, never inside a name (CSS overflow-wrap only breaks a part longer than the line).
 */
export const wrappableAddress = (address: string): Html => raw(address.split(/(?=[@.])/).map(escapeHtml).join('<wbr>'));
