// Who is calling: a holder by session cookie (with CSRF on every state-changing request), or an
// operator by bearer token. Checked in onRequest, before the body is read, so an anonymous caller
// learns nothing about validation (R12).
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../app.ts';
import { findSession } from '../services/sessions.ts';
import { operatorByToken } from '../services/operators.ts';
import { countAttempt, waitSeconds, type ThrottleKey } from '../services/throttle.ts';
import { DomainError } from '../services/errors.ts';
import { clock } from '../clock.ts';
import type { Actor } from '../services/audit.ts';
import { ApiError } from './errors.ts';
import { SESSION_COOKIE } from './cookies.ts';

export interface HolderAuth {
  customerId: string;
  /** The mailbox whose password opened the session. */
  mailboxId: string;
  csrfToken: string;
  sessionToken: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    holder: HolderAuth | null;
    operator: { id: string; name: string } | null;
  }
}

export const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const sameSecret = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** The holder of the session cookie, or null; does not check CSRF. */
export async function sessionOf(app: App, req: FastifyRequest): Promise<HolderAuth | null> {
  const token = req.cookies[SESSION_COOKIE];
  if (!token) return null;
  const s = await findSession(app.ctx, token);
  return s ? { ...s, sessionToken: token } : null;
}

export function csrfOk(req: FastifyRequest, holder: HolderAuth, formToken?: unknown): boolean {
  const sent = typeof formToken === 'string' ? formToken : req.headers['x-csrf-token'];
  return typeof sent === 'string' && sameSecret(sent, holder.csrfToken);
}

/** onRequest hook for the holder API. */
export function requireHolder(app: App) {
  return async (req: FastifyRequest, _reply: FastifyReply) => {
    const holder = await sessionOf(app, req);
    if (!holder) throw new ApiError('unauthenticated', 'Log in first');
    if (STATE_CHANGING.has(req.method) && !csrfOk(req, holder)) {
      throw new ApiError('csrf_failed', 'Missing or wrong x-csrf-token header');
    }
    req.holder = holder;
  };
}

export async function operatorOf(app: App, req: FastifyRequest): Promise<{ id: string; name: string } | null> {
  const m = /^Bearer ([A-Za-z0-9._~+/=-]{1,200})$/.exec(req.headers.authorization ?? '');
  return m ? operatorByToken(app.db, m[1]!) : null;
}

/**
 * R12, API.md: wrong bearer tokens are throttled per client. Only failures are counted (a busy
 * operator's parallel requests must not count against it); a client over the limit is refused even
 * with a right token, or guessing would go on. The few guesses in flight when the limit is reached
 * still get their answer, which against 32 characters and more is no help.
 */
const OPERATOR_THROTTLE_FAILURES_MAX = 20;
const operatorThrottleKey = (req: FastifyRequest): ThrottleKey => ({ key: `operator:${req.ip}`, attemptsMax: OPERATOR_THROTTLE_FAILURES_MAX });
const tooManyTokens = (seconds: number) => new DomainError('rate_limited', 'Too many wrong operator tokens: try again later', undefined, seconds);

/** onRequest hook for the operator API: a bearer token, never a holder's cookie. */
export function requireOperator(app: App) {
  return async (req: FastifyRequest) => {
    if (req.headers.authorization === undefined) throw new ApiError('unauthenticated', 'An operator bearer token is required');
    const key = operatorThrottleKey(req);
    const blockedSeconds = await waitSeconds(app.db, [key], clock.wallMs());
    if (blockedSeconds > 0) throw tooManyTokens(blockedSeconds);
    const operator = await operatorOf(app, req);
    if (!operator) {
      const waitAfterThis = await countAttempt(app.db, [key], clock.wallMs());
      if (waitAfterThis > 0) throw tooManyTokens(waitAfterThis);
      throw new ApiError('unauthenticated', 'An operator bearer token is required');
    }
    req.operator = operator;
  };
}

export const operatorActor = (req: FastifyRequest): Actor => ({ kind: 'operator', id: req.operator!.id });
