// Idempotency-Key (API.md "Conventions"): the same key with the same body within 24 hours answers
// the first response and has no second effect; with another body, 422 idempotency_conflict.
// The key is claimed with a unique insert before the work starts, so two concurrent retries cannot
// both run it; the second one is told the first is still in progress.
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../app.ts';
import { clock } from '../clock.ts';
import { DomainError } from '../services/errors.ts';
import { ApiError, errorBody, STATUS } from './errors.ts';

export const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000;
const KEY_LENGTH_MAX = 255;

/** Key order must not matter: {"a":1,"b":2} and {"b":2,"a":1} are the same request. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

export interface Answer {
  status: number;
  body: unknown;
}

export async function idempotent(app: App, req: FastifyRequest, reply: FastifyReply, scope: string, run: () => Promise<Answer>) {
  const raw = req.headers['idempotency-key'];
  if (raw === undefined) {
    const a = await run();
    return reply.code(a.status).send(a.body);
  }
  const key = Array.isArray(raw) ? raw[0] ?? '' : raw;
  if (key.length < 1 || key.length > KEY_LENGTH_MAX) {
    throw new ApiError('validation_failed', 'Idempotency-Key must be 1 to 255 characters', { 'Idempotency-Key': 'length' });
  }
  const requestHash = createHash('sha256').update(`${req.method} ${req.routeOptions.url} ${req.url} ${canonical(req.body)}`).digest('base64url');
  const nowMs = clock.wallMs();
  const claimed = await app.db.query(
    `INSERT INTO idempotency_keys (scope, key, request_hash, created_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (scope, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, status_code = NULL, response = NULL,
       created_at = EXCLUDED.created_at
     WHERE idempotency_keys.created_at < $5
     RETURNING 1`,
    [scope, key, requestHash, new Date(nowMs), new Date(nowMs - IDEMPOTENCY_WINDOW_MS)],
  );
  if (!claimed.length) {
    const [row] = await app.db.query<{ request_hash: string; status_code: number | null; response: unknown }>(
      'SELECT request_hash, status_code, response FROM idempotency_keys WHERE scope = $1 AND key = $2',
      [scope, key],
    );
    if (!row || row.request_hash !== requestHash) {
      throw new DomainError('idempotency_conflict', 'This Idempotency-Key was used with another request');
    }
    if (row.status_code === null) throw new ApiError('request_in_progress', 'A request with this Idempotency-Key is still in progress');
    return reply.code(row.status_code).header('idempotent-replayed', 'true').send(row.response);
  }
  let answer: Answer;
  try {
    answer = await run();
  } catch (err) {
    if (err instanceof DomainError) {
      // A refusal is an answer too: the same request gets the same refusal.
      answer = { status: STATUS[err.code], body: errorBody(err.code, err.message, err.fields) };
    } else {
      await app.db.query('DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2', [scope, key]);
      throw err;
    }
  }
  await app.db.query('UPDATE idempotency_keys SET status_code = $3, response = $4 WHERE scope = $1 AND key = $2', [
    scope,
    key,
    answer.status,
    JSON.stringify(answer.body),
  ]);
  return reply.code(answer.status).send(answer.body);
}
