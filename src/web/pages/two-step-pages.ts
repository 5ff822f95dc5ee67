// "Verifica in due passaggi" (issue 15 item 5), a section of the profile at /profilo/due-passaggi:
// turn it on with a QR code and a first code (the ten recovery codes are shown once, then), see it on,
// turn it off with a code.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { dateInRome } from '../../domain/calendar.ts';
import { longDate } from '../../i18n/format.ts';
import { DomainError } from '../../services/errors.ts';
import { cancelEnrolment, confirmEnrolment, disableTwoStep, enrolment, twoStepStatus } from '../../services/access/two-step.ts';
import { html, type Html } from '../html.ts';
import { tr } from '../i18n.ts';
import { formOf, text, type Holder, type WebKit } from '../kit.ts';

export const TWO_STEP_PATH = '/profilo/due-passaggi';

export function twoStepPages(server: FastifyInstance, kit: WebKit): void {
  const { app, ctx, csrfField, holderPage, notice, holderRoute } = kit;

  const codeField = (h: Holder, error: string | null, hintId: string): Html => {
    const described = error ? html` aria-invalid="true" aria-describedby="code-error ${hintId}"` : html` aria-describedby="${hintId}"`;
    return html`<div class="field${error ? ' has-error' : ''}"><label for="totpCode">${tr(h.L, 'codeLabel')}</label>
<input id="totpCode" name="totpCode" type="text" inputmode="numeric" autocomplete="one-time-code" required${described}>
${error ? html`<p class="error" id="code-error">${error}</p>` : ''}</div>`;
  };
  const back = (h: Holder) => html`<p><a href="/profilo">${tr(h.L, 'backToProfile')}</a></p>`;
  const show = (req: FastifyRequest, reply: FastifyReply, h: Holder, body: Html, status = 200) =>
    holderPage(req, reply, h, { status, title: tr(h.L, 'twoStepTitle'), current: TWO_STEP_PATH, body });

  const statusPage = async (req: FastifyRequest, reply: FastifyReply, h: Holder, status = 200, error: string | null = null) => {
    const L = h.L;
    const s = await twoStepStatus(ctx.db, h.auth.customerId);
    const body = s.enabled
      ? html`<h1>${tr(L, 'twoStepTitle')}</h1>
${notice(L, req)}
<section class="card" aria-labelledby="on-h">
<h2 id="on-h"><span class="badge badge-ok">${tr(L, 'badgeActive')}</span></h2>
<p>${tr(L, 'twoStepOn', { date: longDate(dateInRome(s.enabledAt!.getTime()), L), left: s.recoveryCodesLeft })}</p>
<form method="post" action="${TWO_STEP_PATH}/disattiva" novalidate>${csrfField(h)}
<p class="muted" id="disable-hint">${tr(L, 'twoStepDisableIntro')}</p>
${codeField(h, error, 'disable-hint')}
<button type="submit">${tr(L, 'twoStepDisable')}</button>
</form>
</section>
${back(h)}`
      : html`<h1>${tr(L, 'twoStepTitle')}</h1>
${notice(L, req)}
<section class="card">
<p>${tr(L, 'twoStepOff')}</p>
<form method="post" action="${TWO_STEP_PATH}/avvio">${csrfField(h)}<button type="submit" class="primary">${tr(L, 'twoStepStart')}</button></form>
</section>
${back(h)}`;
    return show(req, reply, h, body, status);
  };

  const enrolPage = async (req: FastifyRequest, reply: FastifyReply, h: Holder, status = 200, error: string | null = null) => {
    const L = h.L;
    if ((await twoStepStatus(ctx.db, h.auth.customerId)).enabled) return reply.redirect(TWO_STEP_PATH, 303);
    const e = await enrolment(ctx, h.auth.customerId, app.config.brand.name, h.customer.reference_email);
    const body = html`<h1>${tr(L, 'twoStepStart')}</h1>
<section class="card" aria-labelledby="scan-h">
<h2 id="scan-h">${tr(L, 'twoStepScan')}</h2>
<p><img class="qr" src="${e.qrDataUrl}" width="220" height="220" alt="${tr(L, 'twoStepQrAlt')}"></p>
<p>${tr(L, 'twoStepSecret')}: <code class="secret">${e.secret.match(/.{1,4}/g)!.join(' ')}</code></p>
<form method="post" action="${TWO_STEP_PATH}/conferma" novalidate>${csrfField(h)}
<p class="muted" id="confirm-hint">${tr(L, 'twoStepConfirmIntro')}</p>
${codeField(h, error, 'confirm-hint')}
<button type="submit" class="primary">${tr(L, 'twoStepConfirm')}</button>
</form>
<form method="post" action="${TWO_STEP_PATH}/annulla" class="inline">${csrfField(h)}<button type="submit">${tr(L, 'twoStepCancel')}</button></form>
</section>`;
    return show(req, reply, h, body, status);
  };

  server.get(TWO_STEP_PATH, { schema: { hide: true } }, holderRoute(async (req, reply, h) => statusPage(req, reply, h)));
  server.post(`${TWO_STEP_PATH}/avvio`, { schema: { hide: true } }, holderRoute(async (_req, reply) => reply.redirect(`${TWO_STEP_PATH}/attivazione`, 303)));
  server.get(`${TWO_STEP_PATH}/attivazione`, { schema: { hide: true } }, holderRoute(async (req, reply, h) => enrolPage(req, reply, h)));
  server.post(
    `${TWO_STEP_PATH}/annulla`,
    { schema: { hide: true } },
    holderRoute(async (_req, reply, h) => {
      await cancelEnrolment(ctx, h.auth.customerId);
      return reply.redirect(TWO_STEP_PATH, 303);
    }),
  );

  server.post(
    `${TWO_STEP_PATH}/conferma`,
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) => {
      const L = h.L;
      let codes: string[];
      try {
        codes = await confirmEnrolment(ctx, h.auth.customerId, text(formOf(req), 'totpCode').slice(0, 64));
      } catch (err) {
        if (err instanceof DomainError && err.fields?.totpCode) return enrolPage(req, reply, h, 422, tr(L, 'codeWrong'));
        if (err instanceof DomainError && err.code === 'validation_failed') return reply.redirect(TWO_STEP_PATH, 303);
        throw err;
      }
      // Shown once, on this answer (never cached: every page is no-store), never stored in clear.
      const body = html`<h1>${tr(L, 'twoStepCodesTitle')}</h1>
<p class="notice" role="status">${tr(L, 'twoStepCodesIntro')}</p>
<section class="card" aria-labelledby="codes-h">
<h2 id="codes-h">${tr(L, 'twoStepCodesTitle')}</h2>
<ol class="codes">${codes.map((c) => html`<li><code>${c}</code></li>`)}</ol>
</section>
${back(h)}`;
      return show(req, reply, h, body);
    }),
  );

  server.post(
    `${TWO_STEP_PATH}/disattiva`,
    { schema: { hide: true } },
    holderRoute(async (req, reply, h) => {
      try {
        await disableTwoStep(ctx, h.auth.customerId, text(formOf(req), 'totpCode').slice(0, 64));
      } catch (err) {
        if (err instanceof DomainError && err.fields?.totpCode) return statusPage(req, reply, h, 422, tr(h.L, 'codeWrong'));
        if (err instanceof DomainError && err.code === 'validation_failed') return reply.redirect(TWO_STEP_PATH, 303);
        if (err instanceof DomainError && err.code === 'rate_limited') {
          // Issue 19: codes are counted per holder; past the allowance none is checked until the window ends.
          const s = err.retryAfterSeconds ?? 60;
          reply.header('retry-after', String(s));
          return statusPage(req, reply, h, 429, tr(h.L, 'codeRateLimited', { minutes: Math.max(1, Math.ceil(s / 60)) }));
        }
        throw err;
      }
      return reply.redirect(`${TWO_STEP_PATH}?msg=twoStepDisabled`, 303);
    }),
  );
}
