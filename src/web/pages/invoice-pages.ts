// R15 on the holder's pages: "Fatture" (every invoice, with its FatturaPA file and courtesy PDF) and
// "Dati di fatturazione" (the billing data the card payment asks for on the way, then carries on).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { readBillingProfile, saveBillingProfile } from '../../services/billing/billing-profiles.ts';
import { listInvoices, readInvoice } from '../../services/billing/invoices.ts';
import { DomainError } from '../../services/errors.ts';
import { money } from '../../i18n/format.ts';
import { courtesyBrandOf, sendInvoicePdf, sendInvoiceXml } from '../../http/invoice-routes.ts';
import { safeNext } from '../forms.ts';
import { html } from '../html.ts';
import { tr, type Key } from '../i18n.ts';
import { formOf, queryOf, text, type Holder, type WebKit } from '../kit.ts';
import { goTo, onceField, refusalError, submitOnce } from '../once.ts';
import { clock } from '../../clock.ts';
import { readBalance } from '../../services/rows.ts';
import { orderView } from '../../services/views.ts';
import { readOrder } from '../../services/billing/orders.ts';

export const BILLING_PATH = '/profilo/fatturazione';
/** Where a card payment sends a holder without billing data, to come back to `next` once they are saved. */
export const billingFirst = (next: string): string => `${BILLING_PATH}?next=${encodeURIComponent(safeNext(next))}`;

type Values = Record<string, string>;
type Field = { name: string; label: Key; autocomplete?: string; hint?: Key; width?: string };

// Issue 19: the person's fields and the company's are two fieldsets; the radio shows one (CSS
// :has(), no script needed), and the server keeps only the chosen kind's, whatever the other holds.
const PERSON_NAME_FIELDS: Field[] = [
  { name: 'givenName', label: 'givenName', autocomplete: 'given-name' },
  { name: 'familyName', label: 'familyName', autocomplete: 'family-name' },
];
const TAX_CODE_FIELD: Field = { name: 'taxCode', label: 'taxCode', hint: 'taxCodeHint' };
const PERSON_FIELDS: Field[] = [...PERSON_NAME_FIELDS, TAX_CODE_FIELD];
const BUSINESS_FIELDS: Field[] = [
  { name: 'companyName', label: 'companyName', autocomplete: 'organization' },
  { name: 'vatNumber', label: 'vatNumber', hint: 'vatNumberHint' },
];
const ADDRESS_FIELDS: Field[] = [
  { name: 'address.street', label: 'street', autocomplete: 'address-line1' },
  { name: 'address.streetNumber', label: 'streetNumber' },
  { name: 'address.postalCode', label: 'postalCode', autocomplete: 'postal-code' },
  { name: 'address.city', label: 'city', autocomplete: 'address-level2' },
  { name: 'address.province', label: 'province', autocomplete: 'address-level1' },
  { name: 'address.country', label: 'country', autocomplete: 'country' },
];
const SDI_FIELDS: Field[] = [
  { name: 'sdiCode', label: 'sdiCode', hint: 'sdiCodeHint' },
  { name: 'sdiPec', label: 'sdiPec', hint: 'sdiPecHint', autocomplete: 'email' },
];
const ALL_FIELDS = [...PERSON_FIELDS, ...BUSINESS_FIELDS, ...ADDRESS_FIELDS, ...SDI_FIELDS];

const idFor = (name: string) => `bp-${name.replace('.', '-')}`;

/** The domain's reason (English, for the API) as the page's own words. */
function reasonKey(field: string, why: string): Key {
  if (why === 'is required' || why.startsWith('is required')) return 'fieldWhy_required';
  const key = `bad_${field.replace('address.', '')}`;
  if (['bad_taxCode', 'bad_vatNumber', 'bad_postalCode', 'bad_province', 'bad_country', 'bad_sdiCode', 'bad_sdiPec', 'bad_kind'].includes(key)) {
    return key as Key;
  }
  if (/characters|at most/.test(why)) return 'bad_text';
  return 'bad_other';
}

/** The form's fields as the API's BillingProfile body. */
function profileInput(v: Values): Record<string, unknown> {
  const value = (k: string) => (v[k]?.trim() ? v[k]!.trim() : null);
  const business = v.kind === 'business';
  const person = v.kind === 'person';
  return {
    kind: v.kind || null,
    givenName: business ? null : value('givenName'),
    familyName: business ? null : value('familyName'),
    companyName: person ? null : value('companyName'),
    taxCode: value('taxCode'),
    vatNumber: person ? null : value('vatNumber'),
    address: Object.fromEntries(ADDRESS_FIELDS.map((f) => [f.name.slice('address.'.length), value(f.name)])),
    sdiCode: value('sdiCode'),
    sdiPec: value('sdiPec'),
  };
}

export function invoicePages(server: FastifyInstance, kit: WebKit): void {
  const { ctx, cat, day, csrfField, holderPage, holderRoute, idOf } = kit;
  /** The waiting order a billing form carries on to paying, as the form sent it (ids are opaque: checked by their shape here, by the holder's orders on use). */
  const orderIdOf = (v: string): string | null => (/^[A-Za-z0-9_-]{1,100}$/.test(v) ? v : null);

  const field = (L: Holder['L'], f: Field, values: Values, errors: Record<string, string>) => {
    const id = idFor(f.name);
    const error = errors[f.name];
    const describedBy = [f.hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
    return html`<div class="field${error ? ' has-error' : ''}"><label for="${id}">${tr(L, f.label)}</label>
<input id="${id}" name="${f.name}" type="text" value="${values[f.name] ?? ''}"${f.autocomplete ? html` autocomplete="${f.autocomplete}"` : ''}${error ? html` aria-invalid="true"` : ''}${describedBy ? html` aria-describedby="${describedBy}"` : ''}>
${f.hint ? html`<p class="muted small" id="${id}-hint">${tr(L, f.hint)}</p>` : ''}
${error ? html`<p class="error" id="${id}-error">${error}</p>` : ''}</div>`;
  };

  const billingPage = (
    req: FastifyRequest,
    reply: FastifyReply,
    h: Holder,
    o: { status?: number; values: Values; errors: Record<string, string>; next: string | null; orderId?: string | null; saved?: boolean },
  ) => {
    const L = h.L;
    const errorCount = Object.keys(o.errors).length;
    const kindChecked = (k: string) => (o.values.kind === k ? html` checked` : html``);
    const kindError = o.errors.kind;
    const body = html`<h1>${tr(L, 'billingTitle')}</h1>
${o.saved ? html`<p class="notice" role="status">${tr(L, 'billingSaved')}</p>` : ''}
${o.orderId && !errorCount ? html`<p class="notice" role="status">${tr(L, 'billingBeforeOrder')}</p>` : o.next && !errorCount ? html`<p class="notice" role="status">${tr(L, 'billingBeforeTopup')}</p>` : ''}
${errorCount
  ? html`<div class="error-summary" role="alert"><p>${tr(L, 'billingErrors', { count: errorCount })}</p><ul>${Object.keys(o.errors).map(
      (name) => html`<li><a href="#${name === 'kind' ? 'bp-kind-person' : idFor(name)}">${o.errors[name]!}</a></li>`,
    )}</ul></div>`
  : ''}
<p>${tr(L, 'billingIntro')}</p>
<form method="post" action="${BILLING_PATH}" novalidate class="card">${csrfField(h)}
${o.next ? html`<input type="hidden" name="next" value="${o.next}">` : ''}
${o.orderId ? html`<input type="hidden" name="order" value="${o.orderId}">${onceField()}` : ''}
<fieldset class="choices"${kindError ? html` aria-describedby="bp-kind-error"` : ''}><legend>${tr(L, 'billingKind')}</legend>
<div class="check"><input type="radio" id="bp-kind-person" name="kind" value="person"${kindChecked('person')}><label for="bp-kind-person">${tr(L, 'billingPerson')}</label></div>
<div class="check"><input type="radio" id="bp-kind-business" name="kind" value="business"${kindChecked('business')}><label for="bp-kind-business">${tr(L, 'billingBusiness')}</label></div>
${kindError ? html`<p class="error" id="bp-kind-error">${kindError}</p>` : ''}
</fieldset>
<fieldset class="kind-fields kind-person"><legend>${tr(L, 'billingPersonFields')}</legend>
${PERSON_NAME_FIELDS.map((f) => field(L, f, o.values, o.errors))}
</fieldset>
<fieldset class="kind-fields kind-business"><legend>${tr(L, 'billingBusinessFields')}</legend>
${BUSINESS_FIELDS.map((f) => field(L, f, o.values, o.errors))}
</fieldset>
${field(L, TAX_CODE_FIELD, o.values, o.errors)}
${ADDRESS_FIELDS.map((f) => field(L, f, o.values, o.errors))}
${SDI_FIELDS.map((f) => field(L, f, o.values, o.errors))}
<button type="submit" class="primary">${tr(L, 'billingSave')}</button>
</form>`;
    return holderPage(req, reply, h, { status: o.status ?? 200, title: tr(L, 'billingTitle'), current: BILLING_PATH, body });
  };

  server.get(
    BILLING_PATH,
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) => {
      const stored = await readBillingProfile(ctx.db, h.auth.customerId);
      const p = stored?.profile;
      const values: Values = p
        ? {
            kind: p.kind,
            givenName: p.givenName ?? '',
            familyName: p.familyName ?? '',
            // A professional stored with a name and no company name (through the API) edits it as one name.
            companyName: p.companyName ?? (p.kind === 'business' ? [p.givenName, p.familyName].filter(Boolean).join(' ') : ''),
            taxCode: p.taxCode ?? '',
            vatNumber: p.vatNumber ?? '',
            ...Object.fromEntries(Object.entries(p.address).map(([k, v]) => [`address.${k}`, v ?? ''])),
            sdiCode: p.sdiCode,
            sdiPec: p.sdiPec ?? '',
          }
        : { kind: 'person', 'address.country': 'IT', sdiCode: '0000000' };
      const q = queryOf(req);
      const next = text(q, 'next') ? safeNext(text(q, 'next')) : null;
      return billingPage(req, reply, h, { values, errors: {}, next, orderId: orderIdOf(text(q, 'order')), saved: text(q, 'saved') === '1' });
    }),
  );

  server.post(
    BILLING_PATH,
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) => {
      const form = formOf(req);
      const values: Values = Object.fromEntries(['kind', ...ALL_FIELDS.map((f) => f.name)].map((k) => [k, text(form, k).slice(0, 300)]));
      const next = text(form, 'next') ? safeNext(text(form, 'next')) : null;
      const orderId = orderIdOf(text(form, 'order'));
      try {
        await saveBillingProfile(ctx, { kind: 'holder', id: h.auth.customerId }, h.auth.customerId, profileInput(values));
      } catch (err) {
        if (!(err instanceof DomainError) || err.code !== 'validation_failed') throw err;
        const errors = Object.fromEntries(Object.entries(err.fields ?? {}).map(([name, why]) => [name, tr(h.L, reasonKey(name, why))]));
        return billingPage(req, reply, h, { status: 422, values, errors, next, orderId });
      }
      // "Ricarica e completa l'ordine" without billing data: once they are saved, straight on to the
      // card payment of the top-up that completes the order (one form, not a detour through Ordini).
      if (orderId) {
        return submitOnce(
          kit,
          req,
          reply,
          h,
          async () => {
            const order = orderView(await readOrder(ctx, h.auth.customerId, orderId), await readBalance(ctx.db, h.auth.customerId), clock.nowMs(), cat);
            if (order.status !== 'awaiting_topup') return goTo('/orders?msg=orderNotPending');
            return goTo(await kit.topupForOrder(h, order));
          },
          async (_rq, rp, _hh, error) => {
            if (error.code === 'not_found' || error.code === 'order_not_pending') return rp.redirect('/orders?msg=orderNotPending', 303);
            throw refusalError(error);
          },
        );
      }
      // R15: carry on where the holder was when the payment asked for the data.
      return reply.redirect(next ?? `${BILLING_PATH}?saved=1`, 303);
    }),
  );

  server.get(
    '/fatture',
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) => {
      const L = h.L;
      const invoices = await listInvoices(ctx.db, h.auth.customerId);
      const body = html`<h1>${tr(L, 'invoicesTitle')}</h1>
<p>${tr(L, 'invoicesIntro')}</p>
<p><a href="${BILLING_PATH}">${tr(L, 'billingLink')}</a></p>
${invoices.length === 0
  ? html`<p>${tr(L, 'noInvoices')}</p>`
  : html`<div class="table-wrap"><table class="stack">
<thead><tr><th scope="col">${tr(L, 'colNumber')}</th><th scope="col">${tr(L, 'colDate')}</th><th scope="col" class="num">${tr(L, 'colTaxable')}</th><th scope="col" class="num">${tr(L, 'colVat')}</th><th scope="col" class="num">${tr(L, 'colTotal')}</th><th scope="col">${tr(L, 'colSdi')}</th><th scope="col">${tr(L, 'colFiles')}</th></tr></thead>
<tbody>${invoices.map((i) => {
      const rowId = `inv-${i.id}`;
      const link = (kind: 'xml' | 'pdf', key: Key) =>
        html`<a href="/fatture/${encodeURIComponent(i.id)}/${kind}" aria-describedby="${rowId}" download>${tr(L, key)}</a>`;
      return html`<tr><td id="${rowId}" data-label="${tr(L, 'colNumber')}"><strong>${i.number}</strong></td><td data-label="${tr(L, 'colDate')}">${day(i.issued_on, L)}</td>
<td class="num" data-label="${tr(L, 'colTaxable')}">${money(i.net_cents, L)}</td><td class="num" data-label="${tr(L, 'colVat')}">${money(i.vat_cents, L)}</td><td class="num" data-label="${tr(L, 'colTotal')}">${money(i.total_cents, L)}</td>
<td data-label="${tr(L, 'colSdi')}">${tr(L, `sdi_${i.sdi_status}` as Key)}</td><td class="cell-action">${link('xml', 'downloadXml')} ${link('pdf', 'downloadPdf')}</td></tr>`;
    })}</tbody></table></div>`}`;
      return holderPage(req, reply, h, { title: tr(L, 'invoicesTitle'), current: '/fatture', body });
    }),
  );

  server.get(
    '/fatture/:id/xml',
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) => sendInvoiceXml(reply, await readInvoice(ctx.db, h.auth.customerId, idOf(req)))),
  );
  server.get(
    '/fatture/:id/pdf',
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) => sendInvoicePdf(reply, await readInvoice(ctx.db, h.auth.customerId, idOf(req)), h.L, courtesyBrandOf(kit.app))),
  );
}
