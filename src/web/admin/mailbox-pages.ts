// R19 in the console: a new holder with their first mailbox (admin), and one mailbox's page — its
// facts and, by role, its lifecycle (suspend, reactivate, terminate now, extend the expiry at no
// charge, change the type from the next renewal) and a password-reset link. Each action a form with
// `Motivo`, checked by the same services as the API.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MAILBOX_TYPES, type Catalogue } from '../../domain/catalogue.ts';
import { money, type Locale } from '../../i18n/format.ts';
import { DomainError, invalid } from '../../services/errors.ts';
import { provisionHolder } from '../../services/mailboxes/provision.ts';
import { readCustomer, readMailbox } from '../../services/rows.ts';
import { changeMailboxState, changeNextType, extendExpiry } from '../../services/staff/mailbox-lifecycle.ts';
import { sendPasswordResetLink } from '../../services/staff/support-actions.ts';
import { RESET_LINK_MS } from '../../services/access/password-reset.ts';
import { mailboxView } from '../../services/views.ts';
import { html, wrappableAddress, type Html } from '../html.ts';
import { text } from '../kit.ts';
import type { ConsoleKit, Failure, FieldSpec, FormSpec, Staff } from './kit.ts';
import { say, type ConsoleKey } from './texts.ts';

/** Each type named with its yearly price and space: the allowed values, said. */
export const typeOptions = (L: Locale, c: Catalogue) =>
  MAILBOX_TYPES.map((t) => ({ value: t, label: say(L, 'typeOption', { type: t, price: money(c.mailboxTypes[t].renewalPriceCents, L), gb: c.mailboxTypes[t].baseInboxGb }) }));

/** A new mailbox's inputs; `prefix` names them as the service names their errors (`mailboxes.0.`). */
export function mailboxFields(L: Locale, prefix: string, c: Catalogue): FieldSpec[] {
  return [
    { name: `${prefix}address`, label: say(L, 'pecAddress'), kind: 'email', maxlength: 254, autocomplete: 'off', hint: say(L, 'pecAddressHint') },
    { name: `${prefix}password`, label: say(L, 'mailboxPassword'), kind: 'password', maxlength: 200, autocomplete: 'new-password', hint: say(L, 'mailboxPasswordRule') },
    { name: `${prefix}type`, label: say(L, 'colType'), kind: 'select', value: 'standard', options: typeOptions(L, c) },
    { name: `${prefix}expiresOn`, label: say(L, 'expiresOn'), kind: 'date', hint: say(L, 'expiresOnHint') },
  ];
}

const MAILBOX_DONE = ['suspend', 'reactivate', 'terminate', 'extend', 'type', 'resetLink'] as const;

export function mailboxPages(server: FastifyInstance, kit: ConsoleKit, o: { holderPath: (id: string) => string }): void {
  const { ctx, staff, sendPage, actionForm, actionsSection, failureSummary, doneNotice, action, can, actor, day } = kit;
  const idOf = (req: FastifyRequest) => (req.params as { id: string }).id;

  // ---- A new holder with their first mailbox (admin) ----
  const newHolderForm = (L: Locale): FormSpec => ({
    id: 'new-holder',
    action: '/admin/customers',
    title: say(L, 'newHolderTitle'),
    intro: say(L, 'newHolderIntro'),
    button: say(L, 'newHolderButton'),
    primary: true,
    fields: [
      { name: 'name', label: say(L, 'holderName'), maxlength: 200, autocomplete: 'off' },
      { name: 'taxCode', label: say(L, 'taxCode'), maxlength: 32, autocomplete: 'off', hint: say(L, 'taxCodeHint') },
      { name: 'referenceEmail', label: say(L, 'referenceEmail'), kind: 'email', maxlength: 254, autocomplete: 'off', hint: say(L, 'referenceEmailHint') },
      { name: 'locale', label: say(L, 'locale'), kind: 'select', value: 'it', options: [{ value: 'it', label: 'Italiano' }, { value: 'en', label: 'English' }] },
    ],
    groups: [{ legend: say(L, 'firstMailbox'), fields: mailboxFields(L, 'mailboxes.0.', ctx.catalogue) }],
  });
  const newHolderPage = async (req: FastifyRequest, reply: FastifyReply, status = 200, failure: Failure | null = null) => {
    const s = staff(req);
    const form = newHolderForm(s.L);
    return sendPage(reply, status, s, req, say(s.L, 'newHolderTitle'), html`<h1>${say(s.L, 'newHolderTitle')}</h1>${failureSummary(s.L, failure, [form])}${actionForm(s, { ...form, title: say(s.L, 'newHolderFormTitle') }, failure)}`);
  };
  server.get('/admin/customers/new', { config: { role: 'admin' }, schema: { hide: true } }, (req, reply) => newHolderPage(req, reply));
  server.post('/admin/customers', { config: { role: 'admin' }, schema: { hide: true } }, action({
    form: (s) => ({ id: 'new-holder', title: say(s.L, 'newHolderTitle') }),
    run: async (s, f, reason) => {
      const made = await provisionHolder(ctx, actor(s), {
        name: text(f, 'name').slice(0, 200),
        taxCode: text(f, 'taxCode').slice(0, 32) || null,
        referenceEmail: text(f, 'referenceEmail').slice(0, 254),
        locale: text(f, 'locale') as never,
        reason,
        mailboxes: [
          {
            address: text(f, 'mailboxes.0.address').slice(0, 254),
            password: text(f, 'mailboxes.0.password').slice(0, 200),
            type: text(f, 'mailboxes.0.type') as never,
            expiresOn: text(f, 'mailboxes.0.expiresOn').slice(0, 10),
          },
        ],
      });
      return `${o.holderPath(made.customer.id)}?done=provisioned`;
    },
    redraw: (req, reply, status, failure) => newHolderPage(req, reply, status, failure),
  }));

  // ---- One mailbox (support reads; the lifecycle is admin's) ----
  const mailboxForms = (s: Staff, m: { id: string; status: string; type: string; next_type: string | null; expires_on: string }): FormSpec[] => {
    const L = s.L;
    const base = `/admin/mailboxes/${m.id}`;
    const forms: FormSpec[] = [];
    if (m.status !== 'terminated') {
      forms.push({ id: 'reset-link', action: `${base}/password-reset-link`, title: say(L, 'resetLinkTitle'), intro: say(L, 'resetLinkIntro', { minutes: RESET_LINK_MS / 60_000 }), button: say(L, 'resetLinkButton'), fields: [] });
    }
    if (!can(s, 'admin')) return forms;
    if (m.status === 'active') forms.push({ id: 'suspend', action: `${base}/suspend`, title: say(L, 'suspendTitle'), intro: say(L, 'suspendIntro'), button: say(L, 'suspendButton'), fields: [] });
    if (m.status === 'suspended') forms.push({ id: 'reactivate', action: `${base}/reactivate`, title: say(L, 'reactivateTitle'), intro: say(L, 'reactivateIntro'), button: say(L, 'reactivateButton'), fields: [] });
    if (m.status !== 'terminated') {
      forms.push({
        id: 'extend', action: `${base}/extend`, title: say(L, 'extendTitle'), intro: say(L, 'extendIntro', { date: day(m.expires_on, L) }), button: say(L, 'extendButton'),
        fields: [{ name: 'expiresOn', label: say(L, 'newExpiry'), kind: 'date', hint: say(L, 'newExpiryHint') }],
      });
      forms.push({
        id: 'type', action: `${base}/type`, title: say(L, 'typeTitle'), intro: say(L, 'typeIntro'), button: say(L, 'typeButton'),
        fields: [{ name: 'type', label: say(L, 'typeFromRenewal'), kind: 'select', value: m.next_type ?? m.type, options: typeOptions(L, ctx.catalogue) }],
      });
      forms.push({
        id: 'terminate', action: `${base}/terminate`, title: say(L, 'terminateTitle'), intro: say(L, 'terminateIntro'), button: say(L, 'terminateButton'), danger: true,
        fields: [{ name: 'confirm', label: say(L, 'terminateConfirm'), kind: 'checkbox' }],
      });
    }
    return forms;
  };

  const mailboxPage = async (req: FastifyRequest, reply: FastifyReply, status = 200, failure: Failure | null = null) => {
    const s = staff(req);
    const L = s.L;
    const m = await readMailbox(ctx.db, idOf(req), null);
    const holder = m ? await readCustomer(ctx.db, m.customer_id) : null;
    if (!m || !holder) return sendPage(reply, 404, s, req, say(L, 'notFoundTitle'), html`<h1>${say(L, 'notFoundTitle')}</h1><p>${say(L, 'mailboxNotFound')}</p>`);
    const v = mailboxView(m, ctx.catalogue);
    const forms = mailboxForms(s, m);
    const fact = (key: ConsoleKey, value: Html | string) => html`<div><dt>${say(L, key)}</dt><dd>${value}</dd></div>`;
    const gb = (bytes: number) => (bytes / 1024 ** 3).toLocaleString(L === 'it' ? 'it-IT' : 'en-GB', { maximumFractionDigits: 2 });
    return sendPage(reply, status, s, req, m.address, html`<p class="crumb"><a href="${o.holderPath(holder.id)}">${say(L, 'backToHolder', { name: holder.name })}</a></p>
<h1>${wrappableAddress(m.address)}</h1>${doneNotice(L, req, MAILBOX_DONE)}${failureSummary(L, failure, forms)}
<section class="card" aria-labelledby="h-facts"><h2 id="h-facts">${say(L, 'mailboxFacts')}</h2><dl class="facts">
${fact('colStatus', say(L, `status_${m.status}` as ConsoleKey))}${fact('colType', m.next_type ? say(L, 'typeThenNext', { type: m.type, next: m.next_type }) : m.type)}
${fact('colExpiry', day(m.expires_on, L))}${fact('colSpace', say(L, 'spaceUsed', { used: gb(v.space.usedBytes), total: v.space.totalGb }))}
${fact('autoRenew', m.card_renewal_last4 ? say(L, 'cardRenewalOn', { last4: m.card_renewal_last4 }) : say(L, 'cardRenewalOff'))}</dl></section>
${actionsSection(s, forms, failure, html`<p>${say(L, 'noActions')}</p>`)}`);
  };
  server.get('/admin/mailboxes/:id', { config: { role: 'support' }, schema: { hide: true } }, (req, reply) => mailboxPage(req, reply));

  const mailboxAction = (formId: string, titleKey: ConsoleKey, done: (typeof MAILBOX_DONE)[number], run: (s: Staff, id: string, f: Record<string, unknown>, reason: string) => Promise<unknown>) =>
    action({
      form: (s) => ({ id: formId, title: say(s.L, titleKey) }),
      run: async (s, f, reason, req) => {
        await run(s, idOf(req), f, reason);
        return `/admin/mailboxes/${idOf(req)}?done=${done}`;
      },
      redraw: (req, reply, status, failure) => mailboxPage(req, reply, status, failure),
    });
  const admin = { config: { role: 'admin' as const }, schema: { hide: true } };
  server.post('/admin/mailboxes/:id/suspend', admin, mailboxAction('suspend', 'suspendTitle', 'suspend', (s, id, _f, reason) => changeMailboxState(ctx, actor(s), id, 'suspend', reason)));
  server.post('/admin/mailboxes/:id/reactivate', admin, mailboxAction('reactivate', 'reactivateTitle', 'reactivate', (s, id, _f, reason) => changeMailboxState(ctx, actor(s), id, 'reactivate', reason)));
  server.post('/admin/mailboxes/:id/terminate', admin, mailboxAction('terminate', 'terminateTitle', 'terminate', async (s, id, f, reason) => {
    // Terminating cannot be undone: the box is ticked on purpose.
    if (text(f, 'confirm') !== '1') throw invalid({ confirm: say(s.L, 'terminateNotConfirmed') });
    await changeMailboxState(ctx, actor(s), id, 'terminate', reason);
  }));
  server.post('/admin/mailboxes/:id/extend', admin, mailboxAction('extend', 'extendTitle', 'extend', (s, id, f, reason) => extendExpiry(ctx, actor(s), id, text(f, 'expiresOn').slice(0, 10), reason)));
  server.post('/admin/mailboxes/:id/type', admin, mailboxAction('type', 'typeTitle', 'type', (s, id, f, reason) => changeNextType(ctx, actor(s), id, text(f, 'type').slice(0, 20), reason)));
  server.post('/admin/mailboxes/:id/password-reset-link', { config: { role: 'support' }, schema: { hide: true } }, mailboxAction('reset-link', 'resetLinkTitle', 'resetLink', async (s, id, _f, reason) => {
    const m = await readMailbox(ctx.db, id, null);
    if (!m) throw new DomainError('not_found', 'mailbox not found');
    await sendPasswordResetLink(ctx, actor(s), m.customer_id, id, reason);
  }));
}
