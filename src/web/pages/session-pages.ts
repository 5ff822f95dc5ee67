// Logging in and out, and the language switch.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sessionOf } from '../../http/auth.ts';
import { chosenLocale, DEVICE_COOKIE, LANG_COOKIE, SESSION_COOKIE, setLoginCookies, visitorLocale } from '../../http/cookies.ts';
import { fromAnotherSite } from '../../http/same-origin.ts';
import { login, loginSecondStep, logout, SecondStepRequired, setLocale } from '../../services/access/sessions.ts';
import { DomainError } from '../../services/errors.ts';
import { isLocale, type Locale } from '../../i18n/format.ts';
import { safeNext } from '../forms.ts';
import { html } from '../html.ts';
import { page } from '../layout.ts';
import { tr } from '../i18n.ts';
import { formOf, queryOf, text, type WebKit } from '../kit.ts';

const LANG_COOKIE_MAX_AGE_S = 365 * 24 * 3600;

export function sessionPages(server: FastifyInstance, kit: WebKit): void {
  const { app, ctx, switchLink, send, holderRoute } = kit;
  const loginLocale = (req: FastifyRequest): Locale => visitorLocale(req);
  /**
   * The language the login page was read in goes with the login: chosen with the switch, it becomes
   * the holder's (their pages and e-mails follow it, as the profile's choice does); only asked for by
   * the browser (Accept-Language), it does not overrule what the holder stored.
   */
  const carryLocale = async (reply: FastifyReply, req: FastifyRequest, opened: { customer: { id: string; locale: Locale } }) => {
    const chosen = chosenLocale(req);
    if (chosen && chosen !== opened.customer.locale) await setLocale(ctx, opened.customer.id, chosen);
    else if (!chosen) setLangCookie(reply, opened.customer.locale);
  };
  /** Where to go after logging in: the page the holder was on when their session expired. */
  const nextOf = (req: FastifyRequest): string => safeNext(req.method === 'GET' ? queryOf(req).next : formOf(req).next);
  const loginPage = (req: FastifyRequest, reply: FastifyReply, status: number, address = '', error: string | null = null) => {
    const L = loginLocale(req);
    const next = nextOf(req);
    const expired = req.method === 'GET' && text(queryOf(req), 'expired') === '1';
    const resetDone = req.method === 'GET' && text(queryOf(req), 'reimpostata') === '1';
    const described = error ? html` aria-invalid="true" aria-describedby="login-error"` : html``;
    const body = html`<section class="card narrow">
<h1>${tr(L, 'loginTitle')}</h1>
<p class="muted">${tr(L, 'loginIntro')}</p>
${expired && !error ? html`<p class="warning" role="status">${tr(L, 'sessionExpired')}</p>` : ''}
${resetDone && !error ? html`<p class="notice" role="status">${tr(L, 'resetDone')}</p>` : ''}
${error ? html`<p class="error" id="login-error" role="alert">${error}</p>` : ''}
<form method="post" action="/login" novalidate>
${next !== '/' ? html`<input type="hidden" name="next" value="${next}">` : ''}
<div class="field"><label for="address">${tr(L, 'address')}</label>
<input id="address" name="address" type="email" autocomplete="username" required value="${address}"${described}></div>
<div class="field"><label for="password">${tr(L, 'password')}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${described}></div>
<button type="submit" class="primary">${tr(L, 'loginButton')}</button>
</form>
<p><a href="/password-dimenticata">${tr(L, 'forgotLink')}</a></p>
</section>`;
    return send(reply, status, page({ lang: L, title: tr(L, 'loginTitle'), body, langSwitch: switchLink(L, req), brand: app.config.brand }));
  };

  /** The login's second step: the code, under the token that stands for the right password. */
  const codePage = (req: FastifyRequest, reply: FastifyReply, status: number, challenge: string, error: string | null) => {
    const L = loginLocale(req);
    const next = nextOf(req);
    const described = error ? html` aria-invalid="true" aria-describedby="code-error code-hint"` : html` aria-describedby="code-hint"`;
    const body = html`<section class="card narrow">
<h1>${tr(L, 'codeTitle')}</h1>
<p class="muted" id="code-hint">${tr(L, 'codeIntro')}</p>
${error ? html`<p class="error" id="code-error" role="alert">${error}</p>` : ''}
<form method="post" action="/login/code" novalidate>
<input type="hidden" name="challenge" value="${challenge}">
${next !== '/' ? html`<input type="hidden" name="next" value="${next}">` : ''}
<div class="field"><label for="totpCode">${tr(L, 'codeLabel')}</label>
<input id="totpCode" name="totpCode" type="text" inputmode="numeric" autocomplete="one-time-code" required autofocus${described}></div>
<button type="submit" class="primary">${tr(L, 'codeButton')}</button>
</form>
</section>`;
    return send(reply, status, page({ lang: L, title: tr(L, 'codeTitle'), body, langSwitch: null, brand: app.config.brand }));
  };

  server.post('/login/code', { schema: { hide: true } }, async (req, reply) => {
    const f = formOf(req);
    const challenge = text(f, 'challenge').slice(0, 100);
    const L = loginLocale(req);
    if (fromAnotherSite(req, app.config.publicUrl)) return loginPage(req, reply, 403, '', tr(L, 'loginCrossSite'));
    try {
      const opened = await loginSecondStep(ctx, challenge, text(f, 'totpCode').slice(0, 64), req.ip, req.cookies[DEVICE_COOKIE]);
      setLoginCookies(reply, opened, app.config.publicUrl);
      await carryLocale(reply, req, opened);
      return reply.redirect(nextOf(req), 303);
    } catch (err) {
      if (err instanceof SecondStepRequired) return codePage(req, reply, 401, challenge, tr(L, 'codeWrong'));
      if (err instanceof DomainError && err.code === 'invalid_credentials') return loginPage(req, reply, 401, '', tr(L, 'codeExpired'));
      if (err instanceof DomainError && err.code === 'rate_limited') {
        const s = err.retryAfterSeconds ?? 60;
        reply.header('retry-after', String(s));
        return codePage(req, reply, 429, challenge, tr(L, 'loginRateLimited', { minutes: Math.max(1, Math.ceil(s / 60)) }));
      }
      throw err;
    }
  });

  server.get('/login', { schema: { hide: true } }, async (req, reply) => {
    if (await sessionOf(app, req)) return reply.redirect(nextOf(req), 303);
    return loginPage(req, reply, 200);
  });

  server.post('/login', { schema: { hide: true } }, async (req, reply) => {
    const f = formOf(req);
    const address = text(f, 'address').slice(0, 320);
    const password = text(f, 'password').slice(0, 1024);
    const L = loginLocale(req);
    if (fromAnotherSite(req, app.config.publicUrl)) return loginPage(req, reply, 403, '', tr(L, 'loginCrossSite'));
    if (!address.trim() || !password) return loginPage(req, reply, 422, address, tr(L, 'loginMissing'));
    try {
      const opened = await login(ctx, address, password, req.ip, req.cookies[DEVICE_COOKIE]);
      setLoginCookies(reply, opened, app.config.publicUrl);
      await carryLocale(reply, req, opened);
      return reply.redirect(nextOf(req), 303);
    } catch (err) {
      if (err instanceof SecondStepRequired) return codePage(req, reply, 401, err.challengeToken, null);
      if (err instanceof DomainError && err.code === 'invalid_credentials') return loginPage(req, reply, 401, address, tr(L, 'loginInvalid'));
      if (err instanceof DomainError && err.code === 'mailbox_suspended') return loginPage(req, reply, 403, address, tr(L, 'loginSuspended'));
      if (err instanceof DomainError && err.code === 'rate_limited') {
        const s = err.retryAfterSeconds ?? 60;
        reply.header('retry-after', String(s));
        return loginPage(req, reply, 429, address, tr(L, 'loginRateLimited', { minutes: Math.max(1, Math.ceil(s / 60)) }));
      }
      throw err;
    }
  });

  server.post(
    '/logout',
    { schema: { hide: true } },
    holderRoute(async (_req, reply, h) => {
      await logout(ctx, h.auth.sessionToken);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.redirect('/login', 303);
    }),
  );

  const setLangCookie = (reply: FastifyReply, lang: Locale) =>
    reply.setCookie(LANG_COOKIE, lang, {
      path: '/',
      sameSite: 'lax',
      httpOnly: true,
      secure: app.config.publicUrl.startsWith('https:'),
      maxAge: LANG_COOKIE_MAX_AGE_S,
    });

  // A link anyone can send: it sets only this browser's preference (the pages before login).
  server.get('/lang/:lang', { schema: { hide: true } }, async (req, reply) => {
    const lang = (req.params as { lang: string }).lang;
    const next = safeNext(queryOf(req).next);
    if (!isLocale(lang)) return reply.redirect(next, 303);
    // Issue 19: the choice made before login becomes the holder's at login, so a link from another
    // site must not make it (it could set the language of someone's e-mails).
    if (!fromAnotherSite(req, app.config.publicUrl)) setLangCookie(reply, lang);
    return reply.redirect(next, 303);
  });

  // The holder's language, which their e-mails follow too: a form post with the CSRF token.
  const storeLocale = holderRoute(async (req, reply, h) => {
    const lang = (req.params as { lang: string }).lang as Locale;
    setLangCookie(reply, lang);
    await setLocale(ctx, h.auth.customerId, lang);
    return reply.redirect(safeNext(text(formOf(req), 'next')), 303);
  });
  server.post('/lang/:lang', { schema: { hide: true } }, async (req, reply) => {
    const lang = (req.params as { lang: string }).lang;
    const next = safeNext(text(formOf(req), 'next'));
    if (!isLocale(lang)) return reply.redirect(next, 303);
    if (await sessionOf(app, req)) return storeLocale(req, reply);
    setLangCookie(reply, lang);
    return reply.redirect(next, 303);
  });
}
