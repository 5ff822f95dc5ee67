// The holder's HTML forms as a browser without JavaScript posts them: read a page, take one form's
// fields (hidden ones included), post them form-encoded from the same origin.
import type { Client, Response } from './http.ts';

const unescape = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const attr = (tag: string, name: string): string | null => {
  const m = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return m ? unescape(m[1]!) : null;
};

/** The fields of the first form on the page with this action and method (enabled inputs only, as a browser sends them). */
export function formFields(page: string, action: string, method: 'post' | 'get' = 'post'): Record<string, string> {
  const forms = page.match(/<form\b[^>]*>[\s\S]*?<\/form>/g) ?? [];
  const form = forms.find((f) => {
    const tag = f.slice(0, f.indexOf('>') + 1);
    return attr(tag, 'action') === action && (attr(tag, 'method') ?? 'get').toLowerCase() === method;
  });
  if (!form) throw new Error(`no form posting to ${action} on the page:\n${page.slice(0, 3000)}`);
  const fields: Record<string, string> = {};
  for (const input of form.match(/<input\b[^>]*>/g) ?? []) {
    const name = attr(input, 'name');
    if (!name || /\sdisabled\b/.test(input)) continue;
    const type = attr(input, 'type') ?? 'text';
    if ((type === 'checkbox' || type === 'radio') && !/\schecked\b/.test(input)) continue;
    fields[name] = attr(input, 'value') ?? '';
  }
  return fields;
}

/** Posts `fields` to `action` as an HTML form does (form-encoded, same origin, no redirect followed). */
export function postForm(client: Client, action: string, fields: Record<string, string>): Promise<Response<string>> {
  return client.request<string>('POST', action, new URLSearchParams(fields).toString(), {
    'content-type': 'application/x-www-form-urlencoded',
    origin: client.baseUrl,
    'x-csrf-token': '',
  });
}

/** GETs a page and posts its form to `action` with `changes` applied; the page's fields too. */
export async function submitPageForm(client: Client, pagePath: string, action: string, changes: Record<string, string> = {}) {
  const page = await client.get<string>(pagePath);
  if (page.status !== 200) throw new Error(`${pagePath}: ${page.status}`);
  const fields = { ...formFields(page.body, action), ...changes };
  return { fields, res: await postForm(client, action, fields) };
}
