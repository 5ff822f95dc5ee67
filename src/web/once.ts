// The forms that move money (purchase, renewal, top-up, paying or cancelling an order) carry a
// one-time token, used as the Idempotency-Key of the call behind them through the API's own
// `answerOnce` (src/http/idempotency.ts): a form posted twice, by a double click, a reload or Back
// and confirm again, gets the first outcome and changes nothing; the page shows it as HTML.
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../app.ts';
import { DomainError, type ErrorCode } from '../services/errors.ts';
import { ApiError, type ErrorBody } from '../http/errors.ts';
import { answerOnce, type Answer } from '../http/idempotency.ts';
import { html, type Html } from './html.ts';
import { tr } from './i18n.ts';
import { formOf, text, type Holder, type WebKit } from './kit.ts';

export const ONCE_FIELD = '_once';
const TOKEN = /^[A-Za-z0-9_-]{16,64}$/;

export const newFormToken = (): string => randomBytes(18).toString('base64url');
export const isFormToken = (v: unknown): v is string => typeof v === 'string' && TOKEN.test(v);
export const onceField = (token: string = newFormToken()): Html => html`<input type="hidden" name="${ONCE_FIELD}" value="${token}">`;

/** What a money form's work answers: where to go next. Refusals (DomainError) are answers too. */
export const goTo = (location: string): Answer => ({ status: 303, body: { redirect: location } });

/** Holder forms have a scope of their own: a form token can never meet an API client's key. */
const scopeOf = (h: Holder) => `holder-web:${h.auth.customerId}`;

type AnsweredBody = { redirect?: string } & Partial<ErrorBody>;
type Outcome =
  | { kind: 'answered'; status: number; body: AnsweredBody }
  | { kind: 'in_progress' }
  | { kind: 'reused' };

async function runOnce(app: App, req: FastifyRequest, h: Holder, token: string, work: () => Promise<Answer>): Promise<Outcome> {
  // The same form posted again has the same path and fields; the token alone keys it. Passwords are
  // left out of the stored hash: a fast hash of them would let whoever reads the table guess them.
  const fields = Object.entries(formOf(req)).filter(([name]) => !/password/i.test(name));
  const requestHash = createHash('sha256').update(`${req.method} ${req.url} ${JSON.stringify(Object.fromEntries(fields))}`).digest('base64url');
  try {
    const { answer } = await answerOnce(app, scopeOf(h), token, requestHash, work);
    return { kind: 'answered', status: answer.status, body: (answer.body ?? {}) as AnsweredBody };
  } catch (err) {
    if (err instanceof ApiError && err.code === 'request_in_progress') return { kind: 'in_progress' };
    if (err instanceof DomainError && err.code === 'idempotency_conflict') return { kind: 'reused' };
    throw err;
  }
}

/** A refusal the page has no message for goes to the usual error handling (not_found → the 404 page). */
export const refusalError = (e: ErrorBody['error']): DomainError => new DomainError(e.code as ErrorCode, e.message, e.fields);

export type Refusal = (req: FastifyRequest, reply: FastifyReply, h: Holder, error: ErrorBody['error']) => Promise<unknown>;

/**
 * Runs a money form's work once per form token and shows its outcome: the redirect it chose, or its
 * refusal through `refused`. A form without a token (a page from before tokens, or not ours) does nothing.
 */
export async function submitOnce(kit: WebKit, req: FastifyRequest, reply: FastifyReply, h: Holder, work: () => Promise<Answer>, refused: Refusal) {
  const token = text(formOf(req), ONCE_FIELD);
  if (!isFormToken(token)) return formProblem(kit, req, reply, h, 422, 'formExpired');
  const o = await runOnce(kit.app, req, h, token, work);
  if (o.kind === 'in_progress') return formProblem(kit, req, reply, h, 409, 'formInProgress');
  if (o.kind === 'reused') return formProblem(kit, req, reply, h, 422, 'formReused');
  if (o.body.redirect) return reply.redirect(o.body.redirect, 303);
  if (o.body.error) return refused(req, reply, h, o.body.error);
  throw new Error(`a money form answered neither a redirect nor a refusal (${o.status})`);
}

function formProblem(kit: WebKit, req: FastifyRequest, reply: FastifyReply, h: Holder, status: number, key: 'formExpired' | 'formInProgress' | 'formReused') {
  const L = h.L;
  return kit.holderPage(req, reply, h, {
    status,
    title: tr(L, 'formUsedTitle'),
    current: '',
    body: html`<h1>${tr(L, 'formUsedTitle')}</h1>
<p role="alert">${tr(L, key)}</p>
<p><a href="/orders">${tr(L, 'navOrders')}</a> · <a href="/credit">${tr(L, 'navCredit')}</a> · <a href="/">${tr(L, 'backHome')}</a></p>`,
  });
}
