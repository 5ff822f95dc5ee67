// Who is calling: a holder by session cookie (with CSRF on every state-changing request), or an
// operator by bearer token. Checked in onRequest, before the body is read, so an anonymous caller
// learns nothing about validation (R12).
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../app.ts';
import { findSession } from '../services/access/sessions.ts';
import { operatorByToken } from '../services/staff/operators.ts';
import { findStaffSession } from '../services/staff/accounts.ts';
import { roleCovers, type StaffRole } from '../domain/staff-role.ts';
import { countAttempt, waitSeconds, type ThrottleKey } from '../services/access/throttle.ts';
import { DomainError } from '../services/errors.ts';
import { clock } from '../clock.ts';
import type { Actor } from '../services/audit.ts';
import { ApiError } from './errors.ts';
import { SESSION_COOKIE, STAFF_COOKIE } from './cookies.ts';

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
    operator: OperatorAuth | null;
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

export interface OperatorAuth {
  /** A machine's bearer token, or a staff member's console session. */
  kind: 'token' | 'staff';
  id: string;
  name: string;
  role: StaffRole;
  /** Staff sessions only: the CSRF token every state-changing request must carry. */
  csrfToken: string | null;
}

/** What each admin route needs, declared once on the route (`config.role`); `public` for the login itself. */
export type RouteRole = StaffRole | 'public';
declare module 'fastify' {
  interface FastifyContextConfig {
    role?: RouteRole;
  }
}

export async function operatorOf(app: App, req: FastifyRequest): Promise<OperatorAuth | null> {
  const m = /^Bearer ([A-Za-z0-9._~+/=-]{1,200})$/.exec(req.headers.authorization ?? '');
  const op = m ? await operatorByToken(app.db, m[1]!) : null;
  return op ? { kind: 'token', id: op.id, name: op.name, role: op.role, csrfToken: null } : null;
}

/** The staff member of the console cookie, or null. */
export async function staffOf(app: App, req: FastifyRequest): Promise<OperatorAuth | null> {
  const token = req.cookies[STAFF_COOKIE];
  if (!token) return null;
  const s = await findStaffSession(app.db, token);
  return s ? { kind: 'staff', id: s.member.id, name: s.member.name, role: s.member.role, csrfToken: s.csrfToken } : null;
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

async function tokenOperator(app: App, req: FastifyRequest): Promise<OperatorAuth> {
  const key = operatorThrottleKey(req);
  const blockedSeconds = await waitSeconds(app.db, [key], clock.wallMs());
  if (blockedSeconds > 0) throw tooManyTokens(blockedSeconds);
  const operator = await operatorOf(app, req);
  if (!operator) {
    const waitAfterThis = await countAttempt(app.db, [key], clock.wallMs());
    if (waitAfterThis > 0) throw tooManyTokens(waitAfterThis);
    throw new ApiError('unauthenticated', 'An operator bearer token is required');
  }
  return operator;
}

/**
 * onRequest hook for the operator API: a machine's bearer token, or a staff member's session cookie
 * with the CSRF header on every state-changing request; never a holder's cookie. Then the role the
 * route declares (R19): a call above the caller's role is 403 forbidden. All before the body is read.
 */
export function requireOperator(app: App) {
  return async (req: FastifyRequest) => {
    const needs = req.routeOptions.config.role;
    if (needs === 'public') return;
    let operator: OperatorAuth | null;
    if (req.headers.authorization !== undefined) operator = await tokenOperator(app, req);
    else {
      operator = await staffOf(app, req);
      if (!operator) throw new ApiError('unauthenticated', 'Log in to the console, or send an operator bearer token');
      const sent = req.headers['x-csrf-token'];
      if (STATE_CHANGING.has(req.method) && !(typeof sent === 'string' && sameSecret(sent, operator.csrfToken!))) {
        throw new ApiError('csrf_failed', 'Missing or wrong x-csrf-token header');
      }
    }
    // A route without a declared role is refused at start (server.ts), so `needs` is always set here.
    if (!needs || !roleCovers(operator.role, needs)) throw new ApiError('forbidden', `This needs the ${needs} role; you have ${operator.role}`);
    req.operator = operator;
  };
}

export const operatorActor = (req: FastifyRequest): Actor => ({ kind: req.operator!.kind, id: req.operator!.id });
