// The holder's profile (`Profilo`): a list of sections, each with its own form and its own POST
// route. The first is `Cambia password` (issue 13): the password of the mailbox the session logged
// in with, which holds for the mail server too; then two-step verification, and the sections about
// the holder themselves (profile-account.ts: sessions, name, reference e-mail, language).
import { paymentMethodsLink } from './payment-method-pages.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { passwordWeakness, type PasswordWeakness } from '../../domain/password-strength.ts';
import { DEVICE_COOKIE } from '../../http/cookies.ts';
import { changeMailboxPassword, sessionMailboxAddress } from '../../services/access/password-change.ts';
import { twoStepStatus } from '../../services/access/two-step.ts';
import { readBillingProfile } from '../../services/billing/billing-profiles.ts';
import { dateInRome } from '../../domain/calendar.ts';
import { longDate } from '../../i18n/format.ts';
import { html, type Html } from '../html.ts';
import { tr, type Key } from '../i18n.ts';
import { formOf, text, type Holder, type WebKit } from '../kit.ts';
import { goTo, onceField, refusalError, submitOnce } from '../once.ts';
import { accountRoutes, accountSections } from './profile-account.ts';

const PASSWORD_CHARS_MAX = 1024;

/** What a section shows after its own form was refused: a message per field. */
type FieldErrors = Record<string, string>;

export function profilePages(server: FastifyInstance, kit: WebKit): void {
  const { ctx, csrfField, holderPage, notice, holderRoute } = kit;

  /** One form field with its label, an optional hint, and its error next to it. */
  const field = (o: { id: string; name: string; label: string; autocomplete: string; hint?: string; error?: string | undefined }): Html => {
    const describedBy = [o.error ? `${o.id}-error` : '', o.hint ? `${o.id}-hint` : ''].filter(Boolean).join(' ');
    return html`<div class="field${o.error ? ' has-error' : ''}"><label for="${o.id}">${o.label}</label>
<input id="${o.id}" name="${o.name}" type="password" autocomplete="${o.autocomplete}" required maxlength="${PASSWORD_CHARS_MAX}"${o.error ? html` aria-invalid="true"` : ''}${describedBy ? html` aria-describedby="${describedBy}"` : ''}>
${o.hint ? html`<p class="muted small" id="${o.id}-hint">${o.hint}</p>` : ''}
${o.error ? html`<p class="error" id="${o.id}-error">${o.error}</p>` : ''}
</div>`;
  };

  const passwordSection = async (h: Holder, errors: FieldErrors): Promise<Html> => {
    const L = h.L;
    const address = await sessionMailboxAddress(ctx, h.auth.customerId, h.auth.mailboxId);
    return html`<section class="card" id="password" aria-labelledby="password-h">
<h2 id="password-h">${tr(L, 'passwordTitle')}</h2>
<p>${tr(L, 'passwordIntro', { address })}</p>
<form method="post" action="/profilo/password" novalidate>${csrfField(h)}${onceField()}
<input type="hidden" name="username" value="${address}" autocomplete="username">
${field({ id: 'current-password', name: 'currentPassword', label: tr(L, 'currentPassword'), autocomplete: 'current-password', error: errors.currentPassword })}
${field({ id: 'new-password', name: 'newPassword', label: tr(L, 'newPassword'), autocomplete: 'new-password', hint: tr(L, 'newPasswordHint'), error: errors.newPassword })}
<button type="submit" class="primary">${tr(L, 'passwordButton')}</button>
</form>
</section>`;
  };

  /** Two-step verification has its own page; here, whether it is on, and the way there. */
  const twoStepSection = async (h: Holder): Promise<Html> => {
    const L = h.L;
    const s = await twoStepStatus(ctx.db, h.auth.customerId);
    return html`<section class="card" id="two-step" aria-labelledby="two-step-h">
<h2 id="two-step-h">${tr(L, 'twoStepTitle')}</h2>
<p>${s.enabled ? tr(L, 'twoStepOn', { date: longDate(dateInRome(s.enabledAt!.getTime()), L), left: s.recoveryCodesLeft }) : tr(L, 'twoStepOff')}</p>
<p><a href="/profilo/due-passaggi">${s.enabled ? tr(L, 'twoStepManage') : tr(L, 'twoStepStart')}</a></p>
</section>`;
  };

  /** The billing data (R15) have their own form; here, who the invoices go to, and the way there. */
  const billingSection = async (h: Holder): Promise<Html> => {
    const L = h.L;
    const stored = await readBillingProfile(ctx.db, h.auth.customerId);
    const p = stored?.profile;
    const who = p ? (p.companyName ?? [p.givenName, p.familyName].filter(Boolean).join(' ')) : null;
    return html`<section class="card" id="billing" aria-labelledby="billing-h">
<h2 id="billing-h">${tr(L, 'billingTitle')}</h2>
<p>${who ? tr(L, 'billingProfileOf', { who, id: p!.vatNumber ?? p!.taxCode ?? '' }) : tr(L, 'billingProfileNone')}</p>
<p><a href="/profilo/fatturazione">${tr(L, who ? 'billingProfileEdit' : 'billingProfileAdd')}</a></p>
</section>`;
  };

  /** The page's sections in order; a section refused shows its errors, the others show as they are. */
  const sections: ((h: Holder, errors: FieldErrors) => Promise<Html>)[] = [passwordSection, twoStepSection, ...accountSections(kit), billingSection];

  const profilePage = async (req: FastifyRequest, reply: FastifyReply, h: Holder, status = 200, errors: FieldErrors = {}) => {
    const L = h.L;
    const parts = await Promise.all(sections.map((s) => s(h, errors)));
    const body = html`<h1>${tr(L, 'profileTitle')}</h1>
${notice(L, req)}
${Object.keys(errors).length ? html`<p class="error" role="alert">${tr(L, 'errorSummary')}</p>` : ''}
${parts}
${paymentMethodsLink(h)}`;
    return holderPage(req, reply, h, { status, title: tr(L, 'profileTitle'), current: '/profilo', body });
  };

  server.get('/profilo', { schema: { hide: true } }, holderRoute(async (req, reply, h) => profilePage(req, reply, h)));
  accountRoutes(server, kit, profilePage);

  server.post(
    '/profilo/password',
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) => {
      const L = h.L;
      const f = formOf(req);
      const currentPassword = text(f, 'currentPassword').slice(0, PASSWORD_CHARS_MAX);
      const newPassword = text(f, 'newPassword').slice(0, PASSWORD_CHARS_MAX);
      const weakMessage = (w: PasswordWeakness) => tr(L, `weak_${w}` as Key);
      // Checked here first, for the message in the holder's language; the service checks it again.
      const errors: FieldErrors = {};
      if (!currentPassword) errors.currentPassword = tr(L, 'passwordCurrentMissing');
      const address = await sessionMailboxAddress(ctx, h.auth.customerId, h.auth.mailboxId);
      const weakness = passwordWeakness(newPassword, address, currentPassword);
      if (weakness) errors.newPassword = weakMessage(weakness);
      if (Object.keys(errors).length) return profilePage(req, reply, h, 422, errors);
      return submitOnce(
        kit,
        req,
        reply,
        h,
        async () => {
          await changeMailboxPassword(
            ctx,
            { customerId: h.auth.customerId, mailboxId: h.auth.mailboxId, sessionToken: h.auth.sessionToken, clientKey: req.ip, deviceCookie: req.cookies[DEVICE_COOKIE] },
            currentPassword,
            newPassword,
          );
          return goTo('/profilo?msg=passwordChanged');
        },
        async (rq, rp, hh, error) => {
          if (error.code === 'invalid_credentials') return profilePage(rq, rp, hh, 401, { currentPassword: tr(L, 'passwordCurrentWrong') });
          if (error.code === 'rate_limited') return profilePage(rq, rp, hh, 429, { currentPassword: tr(L, 'passwordRateLimited') });
          if (error.code === 'validation_failed') return profilePage(rq, rp, hh, 422, { newPassword: error.fields?.newPassword ?? error.message });
          throw refusalError(error);
        },
      );
    }),
  );
}
