// R19: what every console page and form shares — the frame (navigation with `Cerca`, the language
// switch), the staff member of the request, and one way to draw an action's form: its fields, its
// `Motivo`, the session's CSRF token and, after a refused post, the page's error summary with each
// wrong field named beside it (aria-invalid, aria-describedby) and the values typed kept.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../../app.ts';
import { dateInRome } from '../../domain/calendar.ts';
import { roleCovers, type StaffRole } from '../../domain/staff-role.ts';
import { longDate, money, isLocale, type Locale } from '../../i18n/format.ts';
import type { OperatorAuth } from '../../http/auth.ts';
import { LANG_COOKIE } from '../../http/cookies.ts';
import { DomainError, requireReason } from '../../services/errors.ts';
import type { Actor } from '../../services/audit.ts';
import { safeNext } from '../forms.ts';
import { html, raw, type Html } from '../html.ts';
import { page } from '../layout.ts';
import { HTML_TYPE, queryOf, text } from '../kit.ts';
import { codeSentence, say, translateWhy, type ConsoleKey } from './texts.ts';

export type Form = Record<string, unknown>;
export interface Staff {
  who: OperatorAuth;
  L: Locale;
}

/** One input of an action's form. `errorsFrom` names the service's fields that are this input's (amountCents for an amount in euros). */
export interface FieldSpec {
  name: string;
  label: string;
  kind?: 'text' | 'email' | 'password' | 'date' | 'select' | 'textarea' | 'checkbox';
  options?: { value: string; label: string }[];
  hint?: string;
  value?: string;
  autocomplete?: string;
  inputmode?: 'decimal' | 'numeric' | 'email';
  maxlength?: number;
  errorsFrom?: string[];
  /** The field's id; the form's id and the name by default. */
  id?: string;
}

export interface FormSpec {
  /** Unique on the page: the form's element id is `f-${id}`. */
  id: string;
  action: string;
  title: string;
  intro?: Html | string;
  fields: FieldSpec[];
  /** Fieldsets drawn after `fields`, each with its legend (a new holder's first mailbox). */
  groups?: { legend: string; fields: FieldSpec[] }[];
  button: string;
  primary?: boolean;
  /** An action that cannot be undone: its button says so by its colour too. */
  danger?: boolean;
  /** A hidden value the post carries (never shown, never an error's field). */
  hidden?: Record<string, string>;
}

/** A refused post: which form, the sentence saying why, each wrong field, and what was typed. */
export interface Failure {
  formId: string;
  formTitle: string;
  message: string | null;
  fields: Record<string, string>;
  values: Form;
}

export type ConsoleKit = ReturnType<typeof consoleKit>;

export function consoleKit(app: App, staffOfReq: WeakMap<FastifyRequest, OperatorAuth>) {
  const ctx = app.ctx;
  const localeOf = (req: FastifyRequest): Locale => (isLocale(req.cookies[LANG_COOKIE]) ? (req.cookies[LANG_COOKIE] as Locale) : 'it');
  const staff = (req: FastifyRequest): Staff => ({ who: staffOfReq.get(req)!, L: localeOf(req) });
  const can = (s: Staff, role: StaffRole) => roleCovers(s.who.role, role);
  const actor = (s: Staff): Actor => ({ kind: s.who.kind, id: s.who.id });
  const when = (d: Date | string, L: Locale) => longDate(dateInRome(new Date(d).getTime()), L);
  const day = (iso: string, L: Locale) => longDate(dateInRome(Date.parse(`${iso}T12:00:00Z`)), L);

  function nav(s: Staff | null, L: Locale, req: FastifyRequest): Html {
    if (!s) return html``;
    const q = text(queryOf(req), 'q');
    const here = req.url.split('?')[0];
    const link = (href: string, key: ConsoleKey) => html`<li><a href="${href}"${here === href ? raw(' aria-current="page"') : ''}>${say(L, key)}</a></li>`;
    return html`<nav class="wrap" aria-label="${say(L, 'consoleName')}"><ul class="nav">
${link('/admin', 'navOverview')}${can(s, 'admin') ? link('/admin/customers/new', 'navNewHolder') : ''}${can(s, 'billing') ? link('/admin/bank-transfers', 'navBankTransfers') : ''}${can(s, 'admin') ? link('/admin/staff', 'navStaff') : ''}
<li class="nav-end"><form method="post" action="/admin/logout" class="inline"><input type="hidden" name="_csrf" value="${s.who.csrfToken ?? ''}"><button type="submit" class="linklike">${say(L, 'logout')} (${s.who.name})</button></form></li>
</ul>
<form method="get" action="/admin/search" class="search-form" role="search"><label for="q">${say(L, 'searchLabel')}</label><div class="search-row"><input type="search" id="q" name="q" value="${q}" maxlength="200" aria-describedby="q-hint" required><button type="submit">${say(L, 'searchButton')}</button></div><p id="q-hint" class="small search-hint">${say(L, 'searchHint')}</p></form>
</nav>`;
  }

  function sendPage(reply: FastifyReply, status: number, s: Staff | null, req: FastifyRequest, title: string, body: Html) {
    const L = s?.L ?? localeOf(req);
    const other: Locale = L === 'it' ? 'en' : 'it';
    const next = safeNext(req.method === 'GET' ? req.url : '/admin');
    return reply
      .code(status)
      .type(HTML_TYPE)
      .send(
        page({
          lang: L,
          title: `${title} — ${say(L, 'consoleName')}`,
          nav: nav(s, L, req),
          body,
          langSwitch: { label: other === 'en' ? 'English' : 'Italiano', lang: other, href: `/lang/${other}?next=${encodeURIComponent(next)}`, next },
          brand: app.config.brand,
        }),
      );
  }

  const csrf = (s: Staff) => html`<input type="hidden" name="_csrf" value="${s.who.csrfToken ?? ''}">`;
  /** The field every action has: why, for the audit trail. */
  const reasonSpec = (L: Locale): FieldSpec => ({ name: 'reason', label: say(L, 'reason'), hint: say(L, 'reasonHint'), maxlength: 500 });

  /** What a refused action says: the code's sentence, the service's detail in the page's words, each field's problem. */
  function failureOf(L: Locale, err: unknown, form: { id: string; title: string }, values: Form): Failure {
    if (!(err instanceof DomainError)) throw err;
    const fields = Object.fromEntries(Object.entries(err.fields ?? {}).map(([k, v]) => [k, translateWhy(L, v)]));
    const generic = err.code === 'validation_failed' || err.code === 'reason_required';
    const message = generic && Object.keys(fields).length ? null : err.code === 'not_found' ? `${codeSentence(L, err.code)}.` : `${codeSentence(L, err.code)}: ${translateWhy(L, err.message)}`;
    return { formId: form.id, formTitle: form.title, message, fields, values };
  }

  const fieldId = (f: FormSpec, spec: FieldSpec) => spec.id ?? `${f.id}-${spec.name.replace(/\./g, '-')}`;
  const allFields = (f: FormSpec) => [...f.fields, ...(f.groups ?? []).flatMap((g) => g.fields)];
  const errorOf = (spec: FieldSpec, failure: Failure | null): string | null => {
    if (!failure) return null;
    for (const k of [spec.name, ...(spec.errorsFrom ?? [])]) if (failure.fields[k]) return failure.fields[k]!;
    return null;
  };

  function input(f: FormSpec, spec: FieldSpec, failure: Failure | null): Html {
    const id = fieldId(f, spec);
    const error = errorOf(spec, failure);
    const typed = failure && spec.kind !== 'password' && typeof failure.values[spec.name] === 'string' ? (failure.values[spec.name] as string) : null;
    const value = typed ?? spec.value ?? '';
    const describedBy = [spec.hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
    const aria = html`${error ? raw(' aria-invalid="true"') : ''}${describedBy ? html` aria-describedby="${describedBy}"` : ''}`;
    const hint = spec.hint ? html`<p id="${id}-hint" class="small muted">${spec.hint}</p>` : '';
    const problem = error ? html`<p id="${id}-error" class="error">${error}</p>` : '';
    if (spec.kind === 'checkbox') {
      const checked = failure ? failure.values[spec.name] === '1' : spec.value === '1';
      return html`<div class="field${error ? ' has-error' : ''}"><div class="check"><input type="checkbox" id="${id}" name="${spec.name}" value="1"${checked ? raw(' checked') : ''}${aria}><label for="${id}">${spec.label}</label></div>${problem}${hint}</div>`;
    }
    let control: Html;
    if (spec.kind === 'select') {
      control = html`<select id="${id}" name="${spec.name}"${aria}>${(spec.options ?? []).map((o) => html`<option value="${o.value}"${o.value === value ? raw(' selected') : ''}>${o.label}</option>`)}</select>`;
    } else if (spec.kind === 'textarea') {
      control = html`<textarea id="${id}" name="${spec.name}" rows="3"${spec.maxlength ? html` maxlength="${spec.maxlength}"` : ''}${aria}>${value}</textarea>`;
    } else {
      control = html`<input type="${spec.kind ?? 'text'}" id="${id}" name="${spec.name}" value="${value}"${spec.maxlength ? html` maxlength="${spec.maxlength}"` : ''}${spec.autocomplete ? html` autocomplete="${spec.autocomplete}"` : ''}${spec.inputmode ? html` inputmode="${spec.inputmode}"` : ''}${aria}>`;
    }
    return html`<div class="field${error ? ' has-error' : ''}"><label for="${id}">${spec.label}</label>${control}${problem}${hint}</div>`;
  }

  /**
   * An action's form with its `Motivo`. novalidate: the server checks every field as the API does and
   * answers on the form, so staff read the same words whatever the browser.
   */
  function actionForm(s: Staff, f: FormSpec, failure: Failure | null): Html {
    const mine = failure?.formId === f.id ? failure : null;
    const titleId = `f-${f.id}-title`;
    const groups = (f.groups ?? []).map((g) => html`<fieldset><legend>${g.legend}</legend>${g.fields.map((spec) => input(f, spec, mine))}</fieldset>`);
    return html`<form method="post" action="${f.action}" class="card action" id="f-${f.id}" aria-labelledby="${titleId}" novalidate><h3 id="${titleId}">${f.title}</h3>${f.intro ? html`<p>${f.intro}</p>` : ''}
${mine?.message ? html`<p class="error">${mine.message}</p>` : ''}${csrf(s)}${Object.entries(f.hidden ?? {}).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
${f.fields.map((spec) => input(f, spec, mine))}${groups}${input(f, reasonSpec(s.L), mine)}
<button type="submit"${f.primary ? raw(' class="primary"') : f.danger ? raw(' class="danger"') : ''}>${f.button}</button></form>`;
  }

  /** At the top of a page re-drawn after a refused post: what went wrong, each problem a link to its field. */
  function failureSummary(L: Locale, failure: Failure | null, forms: FormSpec[]): Html {
    if (!failure) return html``;
    const f = forms.find((x) => x.id === failure.formId);
    const items: Html[] = [];
    if (f) {
      for (const spec of [...allFields(f), reasonSpec(L)]) {
        const error = errorOf(spec, failure);
        if (error) items.push(html`<li><a href="#${fieldId(f, spec)}">${spec.label}: ${error}</a></li>`);
      }
    }
    // A field the form has no input for (a service's own name) is still said.
    const named = new Set(f ? [...allFields(f), reasonSpec(L)].flatMap((spec) => [spec.name, ...(spec.errorsFrom ?? [])]) : []);
    for (const [k, v] of Object.entries(failure.fields)) if (!named.has(k)) items.push(html`<li>${k}: ${v}</li>`);
    return html`<div class="error-summary" role="alert" id="failure"><p><strong>${say(L, 'actionRefused', { action: failure.formTitle })}</strong>${failure.message ? html` ${failure.message}` : ''}</p>${items.length ? html`<ul>${items}</ul>` : ''}${f ? html`<p><a href="#f-${f.id}">${say(L, 'toTheForm')}</a></p>` : ''}</div>`;
  }

  /** A notice after a done action (`?done=key`), from the keys the page knows. */
  function doneNotice(L: Locale, req: FastifyRequest, keys: readonly string[], vars: Record<string, string> = {}): Html {
    const done = text(queryOf(req), 'done');
    return keys.includes(done) ? html`<p class="notice" role="status">${say(L, `done_${done}` as ConsoleKey, vars)}</p>` : html``;
  }

  /**
   * An action's POST handler: the reason first (no action runs without it), then `run`; done → 303 to
   * `run`'s answer; refused → the page again, 422 (404 for something that does not exist, 409 for a
   * state that does not allow it), with the form's errors.
   */
  const action =
    (o: {
      form: (s: Staff, req: FastifyRequest) => { id: string; title: string };
      run: (s: Staff, f: Form, reason: string, req: FastifyRequest) => Promise<string>;
      redraw: (req: FastifyRequest, reply: FastifyReply, status: number, failure: Failure) => Promise<unknown>;
    }) =>
    async (req: FastifyRequest, reply: FastifyReply) => {
      const s = staff(req);
      const f = (req.body && typeof req.body === 'object' ? req.body : {}) as Form;
      try {
        const reason = requireReason(text(f, 'reason'));
        return reply.redirect(await o.run(s, f, reason, req), 303);
      } catch (err) {
        const failure = failureOf(s.L, err, o.form(s, req), f); // anything but a DomainError is a bug: thrown on
        const code = (err as DomainError).code;
        return o.redraw(req, reply, code === 'not_found' ? 404 : code === 'validation_failed' || code === 'reason_required' ? 422 : 409, failure);
      }
    };

  /** Euros as staff type them (the page's language), signed when `signed`; null when it cannot be read. */
  const eurosTyped = (raw: string, L: Locale, parse: (s: string, L: Locale) => number | null, signed = false): number | null => {
    const t = raw.trim();
    const negative = signed && t.startsWith('-');
    const amount = parse(negative ? t.slice(1) : t, L);
    return amount === null ? null : negative ? -amount : amount;
  };

  /** The actions of a page, side by side where the screen is wide. */
  const actionsSection = (s: Staff, forms: FormSpec[], failure: Failure | null, empty: Html | null = null): Html =>
    forms.length || empty
      ? html`<section aria-labelledby="h-actions"><h2 id="h-actions">${say(s.L, 'actions')}</h2>${forms.length ? html`<div class="actions-grid">${forms.map((f) => actionForm(s, f, failure))}</div>` : empty}</section>`
      : html``;

  return { actionsSection, ctx, localeOf, staff, can, actor, when, day, sendPage, csrf, actionForm, failureSummary, failureOf, doneNotice, action, eurosTyped, money };
}
