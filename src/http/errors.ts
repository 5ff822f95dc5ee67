// The one place that turns errors into the status codes and body of API.md "Conventions".
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, type ErrorCode } from '../services/errors.ts';
import { securityHeaders, securityHeaderValues } from './security-headers.ts';
import { DATE_PATTERN, MONTH_PATTERN } from './schemas.ts';

export type ApiErrorCode =
  | ErrorCode
  | 'invalid_signature'
  | 'request_in_progress'
  | 'clock_backwards'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'internal_error'
  // R20: the server is stopping (a restart): try again shortly, with Retry-After.
  | 'service_unavailable'
  // Requests that are not HTTP Casella can read: answered before any route is found.
  | 'bad_request'
  | 'headers_too_large'
  | 'request_timeout';

export const STATUS: Record<ApiErrorCode, number> = {
  invalid_credentials: 401,
  unauthenticated: 401,
  csrf_failed: 403,
  forbidden: 403,
  not_found: 404,
  validation_failed: 422,
  mailbox_not_active: 409,
  not_renewable: 409,
  order_not_pending: 409,
  limit_exceeded: 422,
  idempotency_conflict: 422,
  rate_limited: 429,
  totp_required: 401,
  reason_required: 422,
  address_reserved: 409,
  mailbox_suspended: 403,
  invalid_signature: 400,
  request_in_progress: 409,
  clock_backwards: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  internal_error: 500,
  service_unavailable: 503,
  quote_changed: 409,
  billing_profile_required: 409,
  topup_not_pending: 409,
  amount_mismatch: 409,
  refund_not_allowed: 409,
  withdrawal_not_allowed: 409,
  invoice_not_rejected: 409,
  invoice_not_sent: 409,
  bad_request: 400,
  headers_too_large: 431,
  request_timeout: 408,
};

export interface ErrorBody {
  error: { code: ApiErrorCode; message: string; fields?: Record<string, string> };
}

export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly fields?: Record<string, string>,
  ) {
    super(message);
  }
}

export function errorBody(code: ApiErrorCode, message: string, fields?: Record<string, string>): ErrorBody {
  return { error: fields ? { code, message, fields } : { code, message } };
}

/** JSON Schema's type names, as a sentence says them. */
const TYPE_WORDS: Record<string, string> = {
  string: 'text',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  null: 'null',
};

/** The patterns of schemas.ts, each with what a person is told when a value does not match it. */
const PATTERN_SENTENCES: Record<string, string> = {
  [DATE_PATTERN]: 'must be a date YYYY-MM-DD',
  [MONTH_PATTERN]: 'must be a month YYYY-MM',
};

interface AjvComplaint {
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

const quoted = (v: unknown): string => (typeof v === 'string' ? `"${v}"` : JSON.stringify(v));

/**
 * One human sentence for what Ajv found wrong with one field (issue 19: "must be equal to constant"
 * told an operator nothing). A union of constants names its values; a wrong type says what is
 * expected in words; limits say their number.
 */
function sentenceFor(complaints: AjvComplaint[]): string {
  const allowed = complaints.filter((c) => c.keyword === 'const').map((c) => c.params.allowedValue);
  const enumValues = complaints.flatMap((c) => (c.keyword === 'enum' && Array.isArray(c.params.allowedValues) ? c.params.allowedValues : []));
  const types = [...new Set(complaints.filter((c) => c.keyword === 'type').flatMap((c) => String(c.params.type).split(',')))];
  const values = [...allowed, ...enumValues];
  if (values.length) {
    const orNull = types.includes('null') ? ', or null' : '';
    return `must be one of ${values.map(quoted).join(', ')}${orNull}`;
  }
  // A value of another type fails the type check of every branch: say each type once.
  const typeComplaint = complaints.find((c) => c.keyword === 'type');
  const other = complaints.find((c) => c.keyword !== 'type' && c.keyword !== 'anyOf' && c.keyword !== 'oneOf');
  if (other) {
    const limit = other.params.limit;
    switch (other.keyword) {
      case 'minLength':
        return limit === 1 ? 'must not be empty' : `must be at least ${limit} characters`;
      case 'maxLength':
        return `must be at most ${limit} characters`;
      case 'minimum':
        return `must be ${limit} or more`;
      case 'maximum':
        return `must be ${limit} or less`;
      case 'exclusiveMinimum':
        return `must be more than ${limit}`;
      case 'exclusiveMaximum':
        return `must be less than ${limit}`;
      case 'minItems':
        return `must have at least ${limit} items`;
      case 'maxItems':
        return `must have at most ${limit} items`;
      case 'minProperties':
        return 'must not be empty';
      case 'pattern':
        return PATTERN_SENTENCES[String(other.params.pattern)] ?? 'is not in the expected format';
      case 'format':
        return `must be ${String(other.params.format)}`;
      case 'multipleOf':
        return `must be a multiple of ${other.params.multipleOf}`;
      default:
        if (!typeComplaint) return 'is not valid';
    }
  }
  if (typeComplaint) return `must be ${types.map((t) => TYPE_WORDS[t] ?? t).join(' or ')}`;
  return 'is not valid';
}

/**
 * Ajv's complaints as `{"field": "why"}`, keyed by the JSON path of the offending field, each a
 * sentence a person can act on, for every route (API.md: 422 with "fields").
 */
export function validationFields(err: Pick<FastifyError, 'validation' | 'validationContext'>): Record<string, string> {
  const fields: Record<string, string> = {};
  const byPath = new Map<string, AjvComplaint[]>();
  /** Objects whose own fields were named: the other branches of a union ("or null") add nothing. */
  const objectsNamed = new Set<string>();
  for (const v of err.validation ?? []) {
    const params = v.params as Record<string, unknown>;
    const path = v.instancePath.replace(/^\//, '').replace(/\//g, '.');
    if (v.keyword === 'additionalProperties') {
      fields[[path, String(params.additionalProperty)].filter(Boolean).join('.')] = 'is not a known field';
      objectsNamed.add(path);
    } else if (v.keyword === 'required') {
      fields[[path, String(params.missingProperty)].filter(Boolean).join('.')] = 'is required';
      objectsNamed.add(path);
    } else {
      const key = path || (err.validationContext ?? 'body');
      byPath.set(key, [...(byPath.get(key) ?? []), { keyword: v.keyword, params, message: v.message }]);
    }
  }
  // A field inside an object named too ("cardRenewal.paymentMethodId: must be text") makes the
  // object's own "must be null" the other branch of its union: noise.
  const named = [...Object.keys(fields), ...byPath.keys()];
  for (const path of named) for (let i = path.lastIndexOf('.'); i > 0; i = path.lastIndexOf('.', i - 1)) objectsNamed.add(path.slice(0, i));
  for (const [key, complaints] of byPath) {
    const onlyUnionBranches = complaints.every((c) => c.keyword === 'type' || c.keyword === 'anyOf' || c.keyword === 'oneOf');
    if (onlyUnionBranches && objectsNamed.has(key === (err.validationContext ?? 'body') ? '' : key)) continue;
    fields[key] ??= sentenceFor(complaints);
  }
  return fields;
}

export function sendError(reply: FastifyReply, code: ApiErrorCode, message: string, fields?: Record<string, string>, retryAfterSeconds?: number) {
  if (retryAfterSeconds !== undefined) reply.header('retry-after', String(retryAfterSeconds));
  return reply.code(STATUS[code]).type('application/json; charset=utf-8').send(errorBody(code, message, fields));
}

/**
 * The unique constraints that two requests racing on the same input can hit, and the field API.md
 * names for each: the service checks first, but only the constraint decides between concurrent ones.
 */
const UNIQUE_CONSTRAINT_FIELDS: Record<string, Record<string, string>> = {
  mailboxes_address_key: { address: 'is already taken' },
};

/** An error that is a refusal of the request (API.md's 4xx), as a DomainError; undefined if it is not one. */
export function refusalOf(err: unknown): DomainError | undefined {
  if (err instanceof DomainError) return err;
  const { code, constraint } = err as { code?: unknown; constraint?: unknown };
  // PostgreSQL's unique_violation, as both engines report it, with the constraint's name.
  const fields = code === '23505' && typeof constraint === 'string' ? UNIQUE_CONSTRAINT_FIELDS[constraint] : undefined;
  return fields ? new DomainError('validation_failed', 'Some fields are not valid', fields) : undefined;
}

/** What Fastify refuses before a handler runs, in a sentence a client can act on. */
const FRAMEWORK_SENTENCES: Record<string, string> = {
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'The body is not as long as its Content-Length header says',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'The body is empty but its Content-Type says JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'The body is not valid JSON',
};

export function handleError(err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply) {
  const refusal = refusalOf(err);
  if (refusal) return sendError(reply, refusal.code, refusal.message, refusal.fields, refusal.retryAfterSeconds);
  if (err instanceof ApiError) return sendError(reply, err.code, err.message, err.fields);
  const fe = err as FastifyError;
  // A malformed id in a path names nothing: as if it did not exist (R12).
  if (fe.validation && fe.validationContext === 'params') return sendError(reply, 'not_found', 'Not found');
  if (fe.validation) return sendError(reply, 'validation_failed', 'Some fields are not valid', validationFields(fe));
  const status = fe.statusCode ?? 500;
  if (status === 413) return sendError(reply, 'payload_too_large', 'The request body is too large');
  if (status === 415) return sendError(reply, 'unsupported_media_type', 'Send JSON (application/json)');
  if (status === 404) return sendError(reply, 'not_found', 'Not found');
  // Malformed JSON, an empty body where one is needed, a bad header: bad input, never a 500. Fastify's
  // own wording (which may echo the request) is replaced by a sentence of ours (issue 19).
  if (status >= 400 && status < 500) {
    const message = fe.code?.startsWith('FST_') ? (FRAMEWORK_SENTENCES[fe.code] ?? 'The request is not valid') : fe.message || 'The request is not valid';
    return sendError(reply, 'validation_failed', message, {});
  }
  req.log.error({ err }, 'unhandled error');
  return sendError(reply, 'internal_error', 'Something went wrong on our side');
}

/**
 * Errors Fastify meets before it has a route (a path whose percent-encoding does not decode): they
 * would get Fastify's own body and none of the security headers. A path that cannot be read names
 * nothing, as a malformed id does.
 */
export function frameworkErrorHandler(publicUrl: string) {
  const addSecurityHeaders = securityHeaders(publicUrl);
  return async (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    await addSecurityHeaders(req, reply);
    // A path segment longer than the router keeps (100 characters) is no id Casella ever gave: not
    // found, like any other id that does not exist (issue 19), whichever route it was meant for.
    if (err.code === 'FST_ERR_BAD_URL' || err.code === 'FST_ERR_MAX_PARAM_LENGTH') return sendError(reply, 'not_found', 'Not found');
    return handleError(err, req, reply);
  };
}

/**
 * Requests Node's HTTP parser refuses (headers too large, bytes that are not HTTP) never reach
 * Fastify: the answer is written to the socket, in API.md's shape and with the security headers.
 */
export function clientErrorHandler(publicUrl: string) {
  const securityHeaderLines = Object.entries(securityHeaderValues(publicUrl)).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const [code, message]: [ApiErrorCode, string] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? ['headers_too_large', 'The request headers are too large']
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? ['request_timeout', 'The request took too long to arrive']
          : ['bad_request', 'The request is not valid HTTP'];
    const body = JSON.stringify(errorBody(code, message));
    const status = STATUS[code];
    if (socket.writable) {
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${securityHeaderLines}content-type: application/json; charset=utf-8\r\n` +
          `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy(err);
  };
}
