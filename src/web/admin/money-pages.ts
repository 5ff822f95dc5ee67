// R17, R15 and R19 in the console, for billing staff: one payment's page (its refunds; refund it,
// record a withdrawal the holder sent in writing, record its bank transfer received), the bank
// transfers waiting to be matched, and one invoice's page (send a rejected invoice again, its buyer
// data corrected; record SdI's outcome). Support staff read these pages; the forms are billing's.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clock } from '../../clock.ts';
import { formatBankReference } from '../../domain/bank-transfer.ts';
import type { BillingProfile } from '../../domain/billing-profile.ts';
import { money, type Locale } from '../../i18n/format.ts';
import type { PaymentGateway } from '../../payments/gateway.ts';
import { DomainError, invalid } from '../../services/errors.ts';
import { invoiceEvents, readInvoice, recordOutcomeByOperator, resendInvoice, SDI_OUTCOMES, type InvoiceRow } from '../../services/billing/invoices.ts';
import { listRefunds, refundPayment, withdrawFromTopup } from '../../services/billing/refunds.ts';
import { readCustomer } from '../../services/rows.ts';
import { pendingBankTransfers, readTopup, recordBankTransfer } from '../../services/billing/topups.ts';
import { parseEuros } from '../forms.ts';
import { html, type Html } from '../html.ts';
import { text } from '../kit.ts';
import type { ConsoleKit, Failure, FieldSpec, FormSpec, Staff } from './kit.ts';
import { say, type ConsoleKey } from './texts.ts';

const TOPUP_DONE = ['refunded', 'refundPending', 'withdrawn', 'transferRecorded'] as const;
const INVOICE_DONE = ['resent', 'outcome'] as const;

export function moneyPages(server: FastifyInstance, kit: ConsoleKit, gateway: PaymentGateway): void {
  const { ctx, staff, sendPage, actionForm, actionsSection, failureSummary, doneNotice, action, can, actor, when, day, eurosTyped } = kit;
  const idOf = (req: FastifyRequest) => (req.params as { id: string }).id;
  const billing = { config: { role: 'billing' as const }, schema: { hide: true } };
  const notFoundPage = (req: FastifyRequest, reply: FastifyReply, s: Staff, key: ConsoleKey) =>
    sendPage(reply, 404, s, req, say(s.L, 'notFoundTitle'), html`<h1>${say(s.L, 'notFoundTitle')}</h1><p>${say(s.L, key)}</p>`);
  const amountField = (L: Locale, key: ConsoleKey, hint: string, errorsFrom: string[], value = ''): FieldSpec => ({ name: 'amount', label: say(L, key), inputmode: 'decimal', hint, errorsFrom, maxlength: 20, value });
  const euros = (cents: number, L: Locale) => money(cents, L).replace(/\s?€\s?/, '').trim();
  const todayIso = () => clock.today().toString();

  // ---- One payment (support reads; refunds and transfers are billing's) ----
  const topupForms = (s: Staff, t: Awaited<ReturnType<typeof readTopup>>, withdrawn: boolean): FormSpec[] => {
    const L = s.L;
    if (!can(s, 'billing')) return [];
    const base = `/admin/topups/${t.id}`;
    const forms: FormSpec[] = [];
    const left = Number(t.amount_cents) - Number(t.refunded_cents ?? 0);
    // Only what the payment still has can go back; a withdrawal is once per top-up.
    if (t.status === 'succeeded' && t.method !== 'bank_transfer' && left > 0) {
      forms.push({
        id: 'refund', action: `${base}/refunds`, title: say(L, 'refundTitle'), intro: say(L, 'refundIntro'), button: say(L, 'refundButton'),
        fields: [amountField(L, 'refundAmount', say(L, 'refundHint', { left: money(left, L) }), ['amountCents'])],
      });
      if (!withdrawn) forms.push({ id: 'withdrawal', action: `${base}/withdrawal`, title: say(L, 'withdrawalTitle'), intro: say(L, 'withdrawalIntro'), button: say(L, 'withdrawalButton'), fields: [] });
    }
    if (t.status === 'pending' && t.bank_reference) {
      forms.push({
        id: 'transfer', action: `${base}/bank-transfer`, title: say(L, 'transferTitle'), intro: say(L, 'transferIntroOne', { reference: formatBankReference(t.bank_reference) }), button: say(L, 'transferButton'),
        fields: [
          amountField(L, 'transferAmount', say(L, 'transferAmountHint', { amount: money(t.charge_cents, L) }), ['chargeCents'], euros(t.charge_cents, L)),
          { name: 'receivedOn', label: say(L, 'receivedOn'), kind: 'date', value: todayIso() },
        ],
      });
    }
    return forms;
  };

  const topupPage = async (req: FastifyRequest, reply: FastifyReply, status = 200, failure: Failure | null = null) => {
    const s = staff(req);
    const L = s.L;
    let t;
    try {
      t = await readTopup(ctx, null, idOf(req));
    } catch {
      return notFoundPage(req, reply, s, 'paymentNotFound');
    }
    const holder = (await readCustomer(ctx.db, t.customer_id))!;
    const refunds = (await listRefunds(ctx.db, t.customer_id)).filter((r) => r.topup_id === t.id);
    const forms = topupForms(s, t, refunds.some((r) => r.kind === 'withdrawal' && r.status !== 'failed'));
    const fact = (key: ConsoleKey, value: Html | string | null | undefined) => (value ? html`<div><dt>${say(L, key)}</dt><dd>${value}</dd></div>` : '');
    const rows = refunds.map((r) => html`<tr><td data-label="${say(L, 'colWhen')}">${when(r.created_at, L)}</td><td data-label="${say(L, 'colKind')}">${say(L, `refund_${r.kind}` as ConsoleKey)}</td><td data-label="${say(L, 'colToCard')}" class="num">${money(r.charge_cents, L)}</td><td data-label="${say(L, 'colStatus')}">${say(L, `refundStatus_${r.status}` as ConsoleKey)}</td><td data-label="${say(L, 'colReason')}">${r.reason}</td></tr>`);
    const title = say(L, 'paymentTitle', { date: when(t.created_at, L) });
    return sendPage(reply, status, s, req, title, html`<p class="crumb"><a href="/admin/customers/${holder.id}">${say(L, 'backToHolder', { name: holder.name })}</a></p>
<h1>${title}</h1>${doneNotice(L, req, TOPUP_DONE)}${failureSummary(L, failure, forms)}
<section class="card" aria-labelledby="h-facts"><h2 id="h-facts">${say(L, 'paymentFacts')}</h2><dl class="facts">
${fact('colStatus', say(L, `topup_${t.status}` as ConsoleKey))}${fact('method', say(L, `method_${t.method}` as ConsoleKey))}
${fact('netAmount', money(t.amount_cents, L))}${fact('vat', money(t.vat_cents, L))}${fact('charged', money(t.charge_cents, L))}
${fact('refunded', Number(t.refunded_cents ?? 0) > 0 ? money(Number(t.refunded_cents), L) : null)}
${fact('bankReference', t.bank_reference ? formatBankReference(t.bank_reference) : null)}${fact('bankExpires', t.status === 'pending' && t.bank_expires_on ? day(t.bank_expires_on, L) : null)}
${fact('paidOn', t.paid_at ? when(t.paid_at, L) : null)}${fact('invoice', t.invoice_id ? html`<a href="/admin/invoices/${t.invoice_id}">${say(L, 'openInvoice')}</a>` : null)}</dl></section>
<section class="card" aria-labelledby="h-refunds"><h2 id="h-refunds">${say(L, 'refundsTitle')}</h2>${rows.length ? html`<div class="table-wrap"><table class="stack"><thead><tr><th scope="col">${say(L, 'colWhen')}</th><th scope="col">${say(L, 'colKind')}</th><th scope="col">${say(L, 'colToCard')}</th><th scope="col">${say(L, 'colStatus')}</th><th scope="col">${say(L, 'colReason')}</th></tr></thead><tbody>${rows}</tbody></table></div>` : html`<p>${say(L, 'none')}</p>`}</section>
${actionsSection(s, forms, failure)}`);
  };
  server.get('/admin/topups/:id', { config: { role: 'support' }, schema: { hide: true } }, (req, reply) => topupPage(req, reply));

  const topupAction = (formId: string, titleKey: ConsoleKey, run: (s: Staff, id: string, f: Record<string, unknown>, reason: string) => Promise<(typeof TOPUP_DONE)[number]>) =>
    action({
      form: (s) => ({ id: formId, title: say(s.L, titleKey) }),
      run: async (s, f, reason, req) => `/admin/topups/${idOf(req)}?done=${await run(s, idOf(req), f, reason)}`,
      redraw: (req, reply, status, failure) => topupPage(req, reply, status, failure),
    });
  /** Net euros typed → cents, or a field error in the page's words. */
  const centsOf = (f: Record<string, unknown>, L: Locale): number => {
    const amount = eurosTyped(text(f, 'amount'), L, parseEuros);
    if (amount === null || amount <= 0) throw invalid({ amount: say(L, 'amountUnreadable') });
    return amount;
  };
  server.post('/admin/topups/:id/refunds', billing, topupAction('refund', 'refundTitle', async (s, id, f, reason) => {
    const refund = await refundPayment(ctx, gateway, actor(s), id, centsOf(f, s.L), reason, null);
    return refund.status === 'succeeded' ? 'refunded' : 'refundPending';
  }));
  server.post('/admin/topups/:id/withdrawal', billing, topupAction('withdrawal', 'withdrawalTitle', async (s, id, _f, reason) => {
    const refund = await withdrawFromTopup(ctx, gateway, null, id, null, { actor: actor(s), reason });
    return refund.status === 'succeeded' ? 'withdrawn' : 'refundPending';
  }));
  server.post('/admin/topups/:id/bank-transfer', billing, topupAction('transfer', 'transferTitle', async (s, id, f, reason) => {
    const t = await readTopup(ctx, null, id);
    if (!t.bank_reference) throw new DomainError('topup_not_pending', 'This top-up is not paid by bank transfer');
    await recordBankTransfer(ctx, actor(s), { reference: t.bank_reference, chargeCents: centsOf(f, s.L), receivedOn: text(f, 'receivedOn').slice(0, 10), reason });
    return 'transferRecorded';
  }));

  // ---- Bank transfers waiting (billing) ----
  const transferForm = (L: Locale): FormSpec => ({
    id: 'transfer', action: '/admin/bank-transfers', title: say(L, 'transferTitle'), intro: say(L, 'transferIntro'), button: say(L, 'transferButton'), primary: true,
    fields: [
      { name: 'reference', label: say(L, 'bankReference'), maxlength: 40, autocomplete: 'off', hint: say(L, 'bankReferenceHint') },
      amountField(L, 'transferAmount', say(L, 'transferAmountHintAny'), ['chargeCents']),
      { name: 'receivedOn', label: say(L, 'receivedOn'), kind: 'date', value: todayIso() },
    ],
  });
  const transfersPage = async (req: FastifyRequest, reply: FastifyReply, status = 200, failure: Failure | null = null) => {
    const s = staff(req);
    const L = s.L;
    const waiting = await pendingBankTransfers(ctx);
    const form = transferForm(L);
    const rows = waiting.map((t) => html`<tr><td data-label="${say(L, 'bankReference')}"><a href="/admin/topups/${t.id}">${formatBankReference(t.bank_reference!)}</a></td><td data-label="${say(L, 'colHolder')}"><a href="/admin/customers/${t.customer_id}">${t.customer_name}</a></td><td data-label="${say(L, 'colAmount')}" class="num">${money(t.charge_cents, L)}</td><td data-label="${say(L, 'bankExpires')}">${day(t.bank_expires_on!, L)}</td></tr>`);
    return sendPage(reply, status, s, req, say(L, 'transfersTitle'), html`<h1>${say(L, 'transfersTitle')}</h1>${failureSummary(L, failure, [form])}
${actionForm(s, form, failure)}
<section class="card" aria-labelledby="h-waiting"><h2 id="h-waiting">${say(L, 'transfersWaiting')}</h2>${rows.length ? html`<div class="table-wrap"><table class="stack"><thead><tr><th scope="col">${say(L, 'bankReference')}</th><th scope="col">${say(L, 'colHolder')}</th><th scope="col">${say(L, 'colAmount')}</th><th scope="col">${say(L, 'bankExpires')}</th></tr></thead><tbody>${rows}</tbody></table></div>` : html`<p>${say(L, 'none')}</p>`}</section>`);
  };
  server.get('/admin/bank-transfers', billing, (req, reply) => transfersPage(req, reply));
  server.post('/admin/bank-transfers', billing, action({
    form: (s) => ({ id: 'transfer', title: say(s.L, 'transferTitle') }),
    run: async (s, f, reason) => {
      const chargeCents = eurosTyped(text(f, 'amount'), s.L, parseEuros);
      const fields: Record<string, string> = {};
      if (!text(f, 'reference').trim()) fields.reference = say(s.L, 'required');
      if (chargeCents === null || chargeCents <= 0) fields.amount = say(s.L, 'amountUnreadable');
      if (Object.keys(fields).length) throw invalid(fields);
      try {
        const t = await recordBankTransfer(ctx, actor(s), { reference: text(f, 'reference').slice(0, 40), chargeCents: chargeCents!, receivedOn: text(f, 'receivedOn').slice(0, 10), reason });
        return `/admin/topups/${t.id}?done=transferRecorded`;
      } catch (err) {
        // No top-up has that causale: the field is wrong, not the page.
        if (err instanceof DomainError && err.code === 'not_found') throw invalid({ reference: say(s.L, 'referenceUnknown') });
        throw err;
      }
    },
    redraw: (req, reply, status, failure) => transfersPage(req, reply, status, failure),
  }));

  // ---- One invoice (support reads; corrections and outcomes are billing's) ----
  const BUYER_FIELDS: { name: string; key: ConsoleKey; kinds: ('person' | 'business')[] }[] = [
    { name: 'givenName', key: 'buyerGivenName', kinds: ['person'] },
    { name: 'familyName', key: 'buyerFamilyName', kinds: ['person'] },
    { name: 'companyName', key: 'buyerCompanyName', kinds: ['business'] },
    { name: 'taxCode', key: 'taxCode', kinds: ['person', 'business'] },
    { name: 'vatNumber', key: 'vatNumber', kinds: ['business'] },
    { name: 'address.street', key: 'buyerStreet', kinds: ['person', 'business'] },
    { name: 'address.streetNumber', key: 'buyerStreetNumber', kinds: ['person', 'business'] },
    { name: 'address.postalCode', key: 'buyerPostalCode', kinds: ['person', 'business'] },
    { name: 'address.city', key: 'buyerCity', kinds: ['person', 'business'] },
    { name: 'address.province', key: 'buyerProvince', kinds: ['person', 'business'] },
    { name: 'address.country', key: 'buyerCountry', kinds: ['person', 'business'] },
    { name: 'sdiCode', key: 'buyerSdiCode', kinds: ['person', 'business'] },
    { name: 'sdiPec', key: 'buyerSdiPec', kinds: ['person', 'business'] },
  ];
  const buyerValue = (b: BillingProfile, name: string): string => {
    const [head, tail] = name.split('.') as [string, string | undefined];
    const v = tail ? (b.address as unknown as Record<string, unknown>)[tail] : (b as unknown as Record<string, unknown>)[head];
    return typeof v === 'string' ? v : '';
  };
  const invoiceForms = (s: Staff, inv: InvoiceRow): FormSpec[] => {
    const L = s.L;
    if (!can(s, 'billing')) return [];
    const forms: FormSpec[] = [];
    if (inv.sdi_status === 'rejected') {
      forms.push({
        id: 'resend', action: `/admin/invoices/${inv.id}/resend`, title: say(L, 'resendTitle'), intro: say(L, 'resendIntro'), button: say(L, 'resendButton'),
        fields: [],
        groups: [{ legend: say(L, 'buyerData'), fields: BUYER_FIELDS.filter((f) => f.kinds.includes(inv.buyer.kind)).map((f) => ({ name: `buyer.${f.name}`, label: say(L, f.key), value: buyerValue(inv.buyer, f.name), maxlength: 256, autocomplete: 'off' })) }],
      });
    }
    if (inv.sdi_status === 'sent') {
      forms.push({
        id: 'outcome', action: `/admin/invoices/${inv.id}/outcome`, title: say(L, 'outcomeTitle'), intro: say(L, 'outcomeIntro'), button: say(L, 'outcomeButton'),
        fields: [
          { name: 'status', label: say(L, 'outcomeStatus'), kind: 'select', value: 'delivered', options: SDI_OUTCOMES.map((o) => ({ value: o, label: say(L, `sdi_${o}` as ConsoleKey) })) },
          { name: 'message', label: say(L, 'outcomeMessage'), kind: 'textarea', maxlength: 1000, hint: say(L, 'outcomeMessageHint') },
        ],
      });
    }
    return forms;
  };

  const invoicePage = async (req: FastifyRequest, reply: FastifyReply, status = 200, failure: Failure | null = null) => {
    const s = staff(req);
    const L = s.L;
    let inv: InvoiceRow;
    try {
      inv = await readInvoice(ctx.db, null, idOf(req));
    } catch {
      return notFoundPage(req, reply, s, 'invoiceNotFound');
    }
    const [holder, events] = await Promise.all([readCustomer(ctx.db, inv.customer_id), invoiceEvents(ctx.db, inv.id)]);
    const forms = invoiceForms(s, inv);
    const fact = (key: ConsoleKey, value: Html | string | null | undefined) => (value ? html`<div><dt>${say(L, key)}</dt><dd>${value}</dd></div>` : '');
    const b = inv.buyer;
    const buyerName = b.kind === 'business' ? b.companyName : `${b.givenName ?? ''} ${b.familyName ?? ''}`.trim();
    const title = say(L, inv.document_type === 'TD04' ? 'creditNoteTitle' : 'invoiceTitle', { number: inv.number });
    const rows = events.map((e) => html`<tr><td data-label="${say(L, 'colWhen')}">${when(e.at, L)}</td><td data-label="${say(L, 'fileName')}" class="addr">${e.file_name}</td><td data-label="${say(L, 'colSdi')}">${say(L, `sdi_${e.status}` as ConsoleKey)}</td><td data-label="${say(L, 'outcomeMessage')}">${e.message ?? ''}</td></tr>`);
    return sendPage(reply, status, s, req, title, html`<p class="crumb"><a href="/admin/customers/${inv.customer_id}">${say(L, 'backToHolder', { name: holder?.name ?? '' })}</a></p>
<h1>${title}</h1>${doneNotice(L, req, INVOICE_DONE)}${failureSummary(L, failure, forms)}
<section class="card" aria-labelledby="h-facts"><h2 id="h-facts">${say(L, 'invoiceFacts')}</h2><dl class="facts">
${fact('colWhen', day(inv.issued_on, L))}${fact('netAmount', money(inv.net_cents, L))}${fact('vat', money(inv.vat_cents, L))}${fact('total', money(inv.total_cents, L))}
${fact('colSdi', say(L, `sdi_${inv.sdi_status}` as ConsoleKey))}${fact('sdiMessage', inv.sdi_message)}${fact('fileName', html`<span class="addr">${inv.file_name}</span>`)}
${fact('payment', html`<a href="/admin/topups/${inv.topup_id}">${say(L, 'openPayment')}</a>`)}</dl>
<h3>${say(L, 'buyerData')}</h3><dl class="facts">${fact('name', buyerName)}${fact('taxCode', b.taxCode)}${fact('vatNumber', b.vatNumber)}${fact('billingAddress', [b.address.street, b.address.streetNumber, b.address.postalCode, b.address.city, b.address.province, b.address.country].filter(Boolean).join(' '))}${fact('sdi', [b.sdiCode, b.sdiPec].filter(Boolean).join(' / '))}</dl></section>
<section class="card" aria-labelledby="h-events"><h2 id="h-events">${say(L, 'sdiHistory')}</h2>${rows.length ? html`<div class="table-wrap"><table class="stack"><thead><tr><th scope="col">${say(L, 'colWhen')}</th><th scope="col">${say(L, 'fileName')}</th><th scope="col">${say(L, 'colSdi')}</th><th scope="col">${say(L, 'outcomeMessage')}</th></tr></thead><tbody>${rows}</tbody></table></div>` : html`<p>${say(L, 'none')}</p>`}</section>
${actionsSection(s, forms, failure)}`);
  };
  server.get('/admin/invoices/:id', { config: { role: 'support' }, schema: { hide: true } }, (req, reply) => invoicePage(req, reply));

  const invoiceAction = (formId: string, titleKey: ConsoleKey, done: (typeof INVOICE_DONE)[number], run: (s: Staff, id: string, f: Record<string, unknown>, reason: string) => Promise<unknown>) =>
    action({
      form: (s) => ({ id: formId, title: say(s.L, titleKey) }),
      run: async (s, f, reason, req) => {
        await run(s, idOf(req), f, reason);
        return `/admin/invoices/${idOf(req)}?done=${done}`;
      },
      redraw: (req, reply, status, failure) => invoicePage(req, reply, status, failure),
    });
  server.post('/admin/invoices/:id/resend', billing, invoiceAction('resend', 'resendTitle', 'resent', async (s, id, f, reason) => {
    const inv = await readInvoice(ctx.db, null, id);
    // The buyer as issued, with what staff corrected; unchanged, it goes out as it was.
    const buyer = JSON.parse(JSON.stringify(inv.buyer)) as Record<string, unknown> & { address: Record<string, unknown> };
    for (const field of BUYER_FIELDS.filter((x) => x.kinds.includes(inv.buyer.kind))) {
      const typed = text(f, `buyer.${field.name}`).trim().slice(0, 256);
      const [head, tail] = field.name.split('.') as [string, string | undefined];
      if (tail) buyer.address[tail] = typed || null;
      else buyer[head] = typed || null;
    }
    const changed = BUYER_FIELDS.some((x) => x.kinds.includes(inv.buyer.kind) && buyerValue(inv.buyer, x.name) !== text(f, `buyer.${x.name}`).trim().slice(0, 256));
    await resendInvoice(ctx, actor(s), id, changed ? buyer : null, reason);
  }));
  server.post('/admin/invoices/:id/outcome', billing, invoiceAction('outcome', 'outcomeTitle', 'outcome', (s, id, f, reason) =>
    recordOutcomeByOperator(ctx, actor(s), id, { status: text(f, 'status') as never, message: text(f, 'message').trim().slice(0, 1001) || null }, reason)));
}
