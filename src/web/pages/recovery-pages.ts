// Issue 15, the pages without a session: `Password dimenticata?` (asking for a reset link by PEC
// address, then choosing the new password through the link), and the page a new reference e-mail's
// confirmation link opens. Opening a link shows a form; only posting it acts, so a mail scanner that
// fetches every link in a message uses nothing up.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { passwordWeakness } from '../../domain/password-strength.ts';
import { visitorLocale } from '../../http/cookies.ts';
import { fromAnotherSite } from '../../http/same-origin.ts';
import type { Locale } from '../../i18n/format.ts';
import { DomainError } from '../../services/errors.ts';
import { completePasswordReset, requestPasswordReset, ResetCodeRequired, resetLink, type ResetLink } from '../../services/access/password-reset.ts';
import { confirmReferenceEmail, referenceEmailLink } from '../../services/access/reference-email.ts';
import { html, type Html } from '../html.ts';
import { page } from '../layout.ts';
import { tr, type Key } from '../i18n.ts';
import { formOf, queryOf, text, type WebKit } from '../kit.ts';

const PASSWORD_CHARS_MAX = 1024;

export function recoveryPages(server: FastifyInstance, kit: WebKit): void {
  const { app, ctx, switchLink, send } = kit;
  const cookieLocale = (req: FastifyRequest): Locale => visitorLocale(req);
  const publicPage = (req: FastifyRequest, reply: FastifyReply, L: Locale, status: number, title: string, body: Html) =>
    send(reply, status, page({ lang: L, title, body, langSwitch: switchLink(L, req), brand: app.config.brand }));
  const tokenOf = (req: FastifyRequest): string => String((req.params as { token: string }).token ?? '').slice(0, 200);

  // `Password dimenticata?`: the same page, and the same answer, whether or not the address exists.
  const forgotPage = (req: FastifyRequest, reply: FastifyReply, status: number, o: { sent?: boolean; address?: string; error?: string | null } = {}) => {
    const L = cookieLocale(req);
    const described = o.error ? html` aria-invalid="true" aria-describedby="forgot-error"` : html``;
    const body = html`<section class="card narrow">
<h1>${tr(L, 'forgotTitle')}</h1>
<p class="muted">${tr(L, 'forgotIntro')}</p>
${o.sent ? html`<p class="notice" role="status">${tr(L, 'forgotSent')}</p>` : ''}
${o.error ? html`<p class="error" id="forgot-error" role="alert">${o.error}</p>` : ''}
<form method="post" action="/password-dimenticata" novalidate>
<div class="field"><label for="address">${tr(L, 'address')}</label>
<input id="address" name="address" type="email" autocomplete="username" required maxlength="320" value="${o.address ?? ''}"${described}></div>
<button type="submit" class="primary">${tr(L, 'forgotButton')}</button>
</form>
<p><a href="/login">${tr(L, 'backToLogin')}</a></p>
</section>`;
    return publicPage(req, reply, L, status, tr(L, 'forgotTitle'), body);
  };

  server.get('/password-dimenticata', { schema: { hide: true } }, async (req, reply) => forgotPage(req, reply, 200, { sent: text(queryOf(req), 'inviato') === '1' }));

  server.post('/password-dimenticata', { schema: { hide: true } }, async (req, reply) => {
    const L = cookieLocale(req);
    const address = text(formOf(req), 'address').slice(0, 320);
    if (fromAnotherSite(req, app.config.publicUrl)) return forgotPage(req, reply, 403, { error: tr(L, 'forgotCrossSite') });
    if (!address.trim()) return forgotPage(req, reply, 422, { error: tr(L, 'forgotMissing') });
    try {
      await requestPasswordReset(ctx, address, req.ip);
    } catch (err) {
      if (err instanceof DomainError && err.code === 'rate_limited') {
        const s = err.retryAfterSeconds ?? 60;
        reply.header('retry-after', String(s));
        return forgotPage(req, reply, 429, { address, error: tr(L, 'forgotRateLimited', { minutes: Math.max(1, Math.ceil(s / 60)) }) });
      }
      throw err;
    }
    return reply.redirect('/password-dimenticata?inviato=1', 303);
  });

  // The reset link's page: in the holder's language, asking for the code too when two-step verification is on.
  const goneResetPage = (req: FastifyRequest, reply: FastifyReply) => {
    const L = cookieLocale(req);
    const body = html`<section class="card narrow">
<h1>${tr(L, 'resetGoneTitle')}</h1>
<p>${tr(L, 'resetGone')}</p>
<p><a href="/password-dimenticata">${tr(L, 'resetAskAgain')}</a> · <a href="/login">${tr(L, 'backToLogin')}</a></p>
</section>`;
    return publicPage(req, reply, L, 404, tr(L, 'resetGoneTitle'), body);
  };

  const linkLocale = async (customerId: string): Promise<Locale> => {
    const [row] = await ctx.db.query<{ locale: Locale }>('SELECT locale FROM customers WHERE id = $1', [customerId]);
    return row?.locale ?? 'it';
  };

  const resetPage = async (req: FastifyRequest, reply: FastifyReply, link: ResetLink, status: number, errors: { newPassword?: string; totpCode?: string } = {}) => {
    const L = await linkLocale(link.customerId);
    const field = (id: string, name: string, label: string, type: string, autocomplete: string, hint: string | null, error: string | undefined, extra: Html) => {
      const describedBy = [error ? `${id}-error` : '', hint ? `${id}-hint` : ''].filter(Boolean).join(' ');
      return html`<div class="field${error ? ' has-error' : ''}"><label for="${id}">${label}</label>
<input id="${id}" name="${name}" type="${type}" autocomplete="${autocomplete}" required${extra}${error ? html` aria-invalid="true"` : ''}${describedBy ? html` aria-describedby="${describedBy}"` : ''}>
${hint ? html`<p class="muted small" id="${id}-hint">${hint}</p>` : ''}
${error ? html`<p class="error" id="${id}-error">${error}</p>` : ''}
</div>`;
    };
    const body = html`<section class="card narrow">
<h1>${tr(L, 'resetTitle')}</h1>
<p>${tr(L, 'resetIntro', { address: link.address })}</p>
${errors.newPassword || errors.totpCode ? html`<p class="error" role="alert">${tr(L, 'errorSummary')}</p>` : ''}
<form method="post" action="/reimposta-password/${tokenOf(req)}" novalidate>
<input type="hidden" name="username" value="${link.address}" autocomplete="username">
${field('new-password', 'newPassword', tr(L, 'newPassword'), 'password', 'new-password', tr(L, 'newPasswordHint'), errors.newPassword, html` maxlength="${PASSWORD_CHARS_MAX}"`)}
${link.twoStep ? field('totp-code', 'totpCode', tr(L, 'codeLabel'), 'text', 'one-time-code', tr(L, 'resetCodeHint'), errors.totpCode, html` inputmode="numeric" maxlength="64"`) : ''}
<button type="submit" class="primary">${tr(L, 'resetButton')}</button>
</form>
</section>`;
    return send(reply, status, page({ lang: L, title: tr(L, 'resetTitle'), body, langSwitch: null, brand: app.config.brand }));
  };

  server.get('/reimposta-password/:token', { schema: { hide: true } }, async (req, reply) => {
    const link = await resetLink(ctx, tokenOf(req));
    return link ? resetPage(req, reply, link, 200) : goneResetPage(req, reply);
  });

  server.post('/reimposta-password/:token', { schema: { hide: true } }, async (req, reply) => {
    const token = tokenOf(req);
    const link = await resetLink(ctx, token);
    if (!link) return goneResetPage(req, reply);
    const L = await linkLocale(link.customerId);
    if (fromAnotherSite(req, app.config.publicUrl)) return goneResetPage(req, reply);
    const f = formOf(req);
    const newPassword = text(f, 'newPassword').slice(0, PASSWORD_CHARS_MAX);
    const totpCode = text(f, 'totpCode').slice(0, 64);
    // Checked here first for the message in the holder's language; the service checks it again.
    const weakness = passwordWeakness(newPassword, link.address, '');
    if (weakness) return resetPage(req, reply, link, 422, { newPassword: tr(L, `weak_${weakness}` as Key) });
    if (link.twoStep && !totpCode.trim()) return resetPage(req, reply, link, 422, { totpCode: tr(L, 'resetCodeMissing') });
    try {
      await completePasswordReset(ctx, token, newPassword, link.twoStep ? totpCode : undefined);
    } catch (err) {
      if (err instanceof ResetCodeRequired) {
        const still = await resetLink(ctx, token);
        return still ? resetPage(req, reply, still, 401, { totpCode: tr(L, 'codeWrong') }) : goneResetPage(req, reply);
      }
      if (err instanceof DomainError && err.code === 'not_found') return goneResetPage(req, reply);
      if (err instanceof DomainError && err.code === 'rate_limited') {
        const s = err.retryAfterSeconds ?? 60;
        reply.header('retry-after', String(s));
        return resetPage(req, reply, link, 429, { totpCode: tr(L, 'codeRateLimited', { minutes: Math.max(1, Math.ceil(s / 60)) }) });
      }
      throw err;
    }
    return reply.redirect('/login?reimpostata=1', 303);
  });

  // The new reference e-mail's confirmation link: a page with one button, in the holder's language.
  const goneEmailPage = (req: FastifyRequest, reply: FastifyReply) => {
    const L = cookieLocale(req);
    const body = html`<section class="card narrow">
<h1>${tr(L, 'confirmEmailTitle')}</h1>
<p>${tr(L, 'confirmEmailGone')}</p>
<p><a href="/profilo">${tr(L, 'toProfile')}</a></p>
</section>`;
    return publicPage(req, reply, L, 404, tr(L, 'confirmEmailTitle'), body);
  };

  server.get('/email-di-riferimento/:token', { schema: { hide: true } }, async (req, reply) => {
    const link = await referenceEmailLink(ctx, tokenOf(req));
    if (!link) return goneEmailPage(req, reply);
    const L = link.locale;
    const body = html`<section class="card narrow">
<h1>${tr(L, 'confirmEmailTitle')}</h1>
<p>${tr(L, 'confirmEmailIntro', { email: link.email })}</p>
<form method="post" action="/email-di-riferimento/${tokenOf(req)}"><button type="submit" class="primary">${tr(L, 'confirmEmailButton')}</button></form>
</section>`;
    return send(reply, 200, page({ lang: L, title: tr(L, 'confirmEmailTitle'), body, langSwitch: null, brand: app.config.brand }));
  });

  server.post('/email-di-riferimento/:token', { schema: { hide: true } }, async (req, reply) => {
    if (fromAnotherSite(req, app.config.publicUrl)) return goneEmailPage(req, reply);
    let customer;
    try {
      customer = await confirmReferenceEmail(ctx, tokenOf(req));
    } catch (err) {
      if (err instanceof DomainError && err.code === 'not_found') return goneEmailPage(req, reply);
      throw err;
    }
    const L = customer.locale;
    const body = html`<section class="card narrow">
<h1>${tr(L, 'confirmEmailTitle')}</h1>
<p class="notice" role="status">${tr(L, 'emailConfirmed', { email: customer.reference_email })}</p>
<p><a href="/profilo">${tr(L, 'toProfile')}</a></p>
</section>`;
    return send(reply, 200, page({ lang: L, title: tr(L, 'confirmEmailTitle'), body, langSwitch: null, brand: app.config.brand }));
  });
}
