// Issue 15, the `Profilo` sections about the holder themselves: their name, the reference e-mail
// (changed through a link sent to the new address), the language of pages and e-mails, and the open
// sessions with "Esci da tutti gli altri dispositivi". Each section has its own form and POST route;
// profile-pages.ts puts them on the page and shows a refused form's errors in its section.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DEVICE_COOKIE, LANG_COOKIE, langCookieOptions } from '../../http/cookies.ts';
import { sessionMailboxAddress } from '../../services/access/password-change.ts';
import { dateInRome } from '../../domain/calendar.ts';
import { isLocale, longDate, type Locale } from '../../i18n/format.ts';
import { endOtherSessions, openSessions } from '../../services/access/holder-sessions.ts';
import { NAME_CHARS_MAX, nameProblem, updateProfile } from '../../services/access/profile.ts';
import { pendingReferenceEmail, requestReferenceEmailChange } from '../../services/access/reference-email.ts';
import { DomainError } from '../../services/errors.ts';
import { html, raw, wrappableAddress, type Html } from '../html.ts';
import { tr } from '../i18n.ts';
import { formOf, text, type Holder, type WebKit } from '../kit.ts';

type FieldErrors = Record<string, string>;
const PASSWORD_CHARS_MAX = 1024;
export type ProfileSection = (h: Holder, errors: FieldErrors) => Promise<Html>;
export type ProfilePage = (req: FastifyRequest, reply: FastifyReply, h: Holder, status?: number, errors?: FieldErrors) => Promise<unknown>;

const timeInRome = (d: Date, L: Locale): string =>
  new Intl.DateTimeFormat(L === 'it' ? 'it-IT' : 'en-GB', { timeZone: 'Europe/Rome', hour: '2-digit', minute: '2-digit', hour12: false }).format(d);
/** An instant as the pages write it: the date in words and the time in Rome. */
export const dateAndTime = (d: Date, L: Locale): string => tr(L, 'dateAtTime', { date: longDate(dateInRome(d.getTime()), L), time: timeInRome(d, L) });

/** A text field with its label, an optional hint, and its error next to it. */
function textField(o: { id: string; name: string; type: 'text' | 'email' | 'password'; label: string; value: string; autocomplete: string; maxlength: number; hint?: string; error?: string | undefined }): Html {
  const describedBy = [o.error ? `${o.id}-error` : '', o.hint ? `${o.id}-hint` : ''].filter(Boolean).join(' ');
  return html`<div class="field${o.error ? ' has-error' : ''}"><label for="${o.id}">${o.label}</label>
<input id="${o.id}" name="${o.name}" type="${o.type}" autocomplete="${o.autocomplete}" required maxlength="${o.maxlength}" value="${o.value}"${o.error ? html` aria-invalid="true"` : ''}${describedBy ? html` aria-describedby="${describedBy}"` : ''}>
${o.hint ? html`<p class="muted small" id="${o.id}-hint">${o.hint}</p>` : ''}
${o.error ? html`<p class="error" id="${o.id}-error">${o.error}</p>` : ''}
</div>`;
}

export function accountSections(kit: WebKit): ProfileSection[] {
  const { ctx, csrfField } = kit;

  const nameSection: ProfileSection = async (h, errors) => {
    const L = h.L;
    return html`<section class="card" id="name" aria-labelledby="name-h">
<h2 id="name-h">${tr(L, 'nameTitle')}</h2>
<form method="post" action="/profilo/nome" novalidate>${csrfField(h)}
${textField({ id: 'holder-name', name: 'name', type: 'text', label: tr(L, 'nameLabel'), value: errors.nameValue ?? h.customer.name, autocomplete: 'name', maxlength: NAME_CHARS_MAX, error: errors.name })}
<button type="submit">${tr(L, 'nameButton')}</button>
</form>
</section>`;
  };

  const emailSection: ProfileSection = async (h, errors) => {
    const L = h.L;
    const pending = await pendingReferenceEmail(ctx.db, h.customer.id);
    return html`<section class="card" id="reference-email" aria-labelledby="reference-email-h">
<h2 id="reference-email-h">${tr(L, 'emailTitle')}</h2>
<p>${raw(tr(L, 'emailIntro', { email: `<strong class="addr">${wrappableAddress(h.customer.reference_email).value}</strong>` }))}</p>
${pending ? html`<p class="warning" role="status">${tr(L, 'emailPending', { email: pending.email, date: longDate(dateInRome(pending.expiresAt.getTime()), L), time: timeInRome(pending.expiresAt, L) })}</p>` : ''}
<form method="post" action="/profilo/email" novalidate>${csrfField(h)}
${textField({ id: 'new-email', name: 'email', type: 'email', label: tr(L, 'emailLabel'), value: errors.emailValue ?? '', autocomplete: 'email', maxlength: 254, hint: tr(L, 'emailHint'), error: errors.email })}
${textField({ id: 'email-current-password', name: 'currentPassword', type: 'password', label: tr(L, 'emailPasswordLabel'), value: '', autocomplete: 'current-password', maxlength: PASSWORD_CHARS_MAX, hint: tr(L, 'emailPasswordHint', { address: await sessionMailboxAddress(ctx, h.auth.customerId, h.auth.mailboxId) }), error: errors.emailPassword })}
<button type="submit">${tr(L, 'emailButton')}</button>
</form>
</section>`;
  };

  const languageSection: ProfileSection = async (h) => {
    const L = h.L;
    const choice = (value: Locale, label: string) =>
      html`<div class="check"><input type="radio" id="locale-${value}" name="locale" value="${value}"${h.customer.locale === value ? raw(' checked') : ''}><label for="locale-${value}" lang="${value}">${label}</label></div>`;
    return html`<section class="card" id="language" aria-labelledby="language-h">
<h2 id="language-h">${tr(L, 'languageTitle')}</h2>
<form method="post" action="/profilo/lingua">${csrfField(h)}
<fieldset class="choices"><legend>${tr(L, 'languageLegend')}</legend>
${choice('it', 'Italiano')}${choice('en', 'English')}
</fieldset>
<button type="submit">${tr(L, 'languageButton')}</button>
</form>
</section>`;
  };

  const sessionsSection: ProfileSection = async (h) => {
    const L = h.L;
    const list = await openSessions(ctx, h.customer.id, h.auth.sessionToken);
    const others = list.filter((s) => !s.current).length;
    return html`<section class="card" id="sessions" aria-labelledby="sessions-h">
<h2 id="sessions-h">${tr(L, 'sessionsTitle')}</h2>
<p class="muted">${tr(L, 'sessionsIntro')}</p>
<div class="table-wrap"><table class="stack">
<thead><tr><th scope="col">${tr(L, 'colThisOne')}</th><th scope="col">${tr(L, 'colLoggedInWith')}</th><th scope="col">${tr(L, 'colStarted')}</th><th scope="col">${tr(L, 'colLastSeen')}</th></tr></thead>
<tbody>${list.map(
      (s) => html`<tr${s.current ? raw(' class="current"') : ''}><td data-label="${tr(L, 'colThisOne')}">${s.current ? html`<strong>${tr(L, 'thisDevice')}</strong>` : tr(L, 'otherDevice')}</td>
<td class="addr" data-label="${tr(L, 'colLoggedInWith')}">${wrappableAddress(s.address)}</td><td data-label="${tr(L, 'colStarted')}">${dateAndTime(s.createdAt, L)}</td><td data-label="${tr(L, 'colLastSeen')}">${dateAndTime(s.lastSeenAt, L)}</td></tr>`,
    )}</tbody></table></div>
${others
  ? html`<form method="post" action="/profilo/sessioni/altre">${csrfField(h)}<button type="submit">${tr(L, 'endOthers')}</button></form>`
  : html`<p>${tr(L, 'sessionsNoOthers')}</p>`}
</section>`;
  };

  return [sessionsSection, nameSection, emailSection, languageSection];
}

export function accountRoutes(server: FastifyInstance, kit: WebKit, profilePage: ProfilePage): void {
  const { app, ctx, holderRoute } = kit;

  server.post(
    '/profilo/nome',
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) => {
      const name = text(formOf(req), 'name').slice(0, 1000);
      const problem = nameProblem(name);
      if (problem) return profilePage(req, reply, h, 422, { name: tr(h.L, name.trim() ? 'nameTooLong' : 'nameMissing'), nameValue: name.slice(0, NAME_CHARS_MAX) });
      await updateProfile(ctx, h.customer.id, { name });
      return reply.redirect('/profilo?msg=nameSaved#name', 303);
    }),
  );

  server.post(
    '/profilo/email',
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) => {
      const email = text(formOf(req), 'email').slice(0, 320);
      const currentPassword = text(formOf(req), 'currentPassword').slice(0, PASSWORD_CHARS_MAX);
      try {
        const who = { customerId: h.customer.id, mailboxId: h.auth.mailboxId, clientKey: req.ip, deviceCookie: req.cookies[DEVICE_COOKIE] };
        await requestReferenceEmailChange(ctx, who, email, currentPassword);
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        // Issue 19: the password is asked for; a wrong one is a guess, counted as a login's.
        if (err.fields?.currentPassword) return profilePage(req, reply, h, 422, { emailPassword: tr(h.L, 'emailPasswordMissing'), emailValue: email });
        if (err.code === 'invalid_credentials') return profilePage(req, reply, h, 401, { emailPassword: tr(h.L, 'passwordCurrentWrong'), emailValue: email });
        if (err.code === 'rate_limited' && err.message.startsWith('Too many failed logins')) {
          reply.header('retry-after', String(err.retryAfterSeconds ?? 60));
          return profilePage(req, reply, h, 429, { emailPassword: tr(h.L, 'passwordRateLimited'), emailValue: email });
        }
        const key = err.code === 'rate_limited' ? 'emailRateLimited' : err.fields?.email?.startsWith('is the reference') ? 'emailSame' : 'emailInvalid';
        if (err.code === 'rate_limited') reply.header('retry-after', String(err.retryAfterSeconds ?? 60));
        return profilePage(req, reply, h, err.code === 'rate_limited' ? 429 : 422, { email: tr(h.L, key), emailValue: email });
      }
      return reply.redirect('/profilo?msg=emailLinkSent#reference-email', 303);
    }),
  );

  // The holder's language, which their e-mails follow: stored, and this browser's cookie with it.
  server.post(
    '/profilo/lingua',
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) => {
      const locale = text(formOf(req), 'locale');
      if (!isLocale(locale)) return reply.redirect('/profilo#language', 303);
      await updateProfile(ctx, h.customer.id, { locale });
      reply.setCookie(LANG_COOKIE, locale, langCookieOptions(app.config.publicUrl));
      return reply.redirect('/profilo?msg=localeSaved#language', 303);
    }),
  );

  server.post(
    '/profilo/sessioni/altre',
    { schema: { hide: true } },
    holderRoute(async (_req, reply, h) => {
      await endOtherSessions(ctx, h.customer.id, h.auth.sessionToken);
      return reply.redirect('/profilo?msg=othersEnded#sessions', 303);
    }),
  );
}
