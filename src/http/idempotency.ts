// Idempotency-Key (API.md "Conventions"): the same key with the same body within 24 hours answers
// the first response and has no second effect; with another body, 422 idempotency_conflict.
// The key, the effect and the stored response are one transaction: the request's services join it
// (Database.enclosingTransaction), so a crash leaves either all three or none, and a retry after a
// restart replays the committed outcome or runs afresh. A concurrent duplicate waits on the key's
// unique row until the first commits (then replays it) or rolls back (then runs itself).
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../app.ts';
import { clock } from '../clock.ts';
import { DomainError } from '../services/errors.ts';
import type { Tx } from '../db/database.ts';
import { ApiError, errorBody, refusalOf, STATUS } from './errors.ts';

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
  const { answer, replayed } = await answerOnce(app, scope, key, requestHash, run);
  if (replayed) reply.header('idempotent-replayed', 'true');
  return reply.code(answer.status).send(answer.body);
}

/**
 * The request's Idempotency-Key and hash, for effects that cannot share one transaction with the
 * stored answer (R17 refunds call the gateway between two transactions): the service keeps the key
 * on what it creates and a retry finds it there.
 */
export function requestKeyOf(req: FastifyRequest, scope: string): { scope: string; key: string; hash: string } | null {
  const raw = req.headers['idempotency-key'];
  if (raw === undefined) return null;
  const key = Array.isArray(raw) ? raw[0] ?? '' : raw;
  if (key.length < 1 || key.length > KEY_LENGTH_MAX) {
    throw new ApiError('validation_failed', 'Idempotency-Key must be 1 to 255 characters', { 'Idempotency-Key': 'length' });
  }
  const hash = createHash('sha256').update(`${req.method} ${req.routeOptions.url} ${req.url} ${canonical(req.body)}`).digest('base64url');
  return { scope, key, hash };
}

/**
 * The answer of the request named by (scope, key): the stored one when the key was answered before
 * (`replayed`), else what `run` answers now, stored with its effect in one transaction. Throws
 * idempotency_conflict when the key was used for a request of another hash.
 */
export async function answerOnce(app: App, scope: string, key: string, requestHash: string, run: () => Promise<Answer>): Promise<{ answer: Answer; replayed: boolean }> {
  return app.db.enclosingTransaction(async (tx) => {
    if (!(await claimKey(tx, scope, key, requestHash))) return { answer: await storedAnswer(tx, scope, key, requestHash), replayed: true };
    const fresh = await runOrRefuse(tx, run);
    await tx.query('UPDATE idempotency_keys SET status_code = $3, response = $4 WHERE scope = $1 AND key = $2', [
      scope,
      key,
      fresh.status,
      JSON.stringify(fresh.body),
    ]);
    return { answer: fresh, replayed: false };
  });
}

/** Inserts the key, or takes over one older than the window; false when a live one is there. */
async function claimKey(tx: Tx, scope: string, key: string, requestHash: string): Promise<boolean> {
  const nowMs = clock.wallMs();
  const claimed = await tx.query(
    `INSERT INTO idempotency_keys (scope, key, request_hash, created_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (scope, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, status_code = NULL, response = NULL,
       created_at = EXCLUDED.created_at
     WHERE idempotency_keys.created_at < $5
     RETURNING 1`,
    [scope, key, requestHash, new Date(nowMs), new Date(nowMs - IDEMPOTENCY_WINDOW_MS)],
  );
  return claimed.length > 0;
}

async function storedAnswer(tx: Tx, scope: string, key: string, requestHash: string): Promise<Answer> {
  const [row] = await tx.query<{ request_hash: string; status_code: number | null; response: unknown }>(
    'SELECT request_hash, status_code, response FROM idempotency_keys WHERE scope = $1 AND key = $2',
    [scope, key],
  );
  if (!row || row.request_hash !== requestHash) {
    throw new DomainError('idempotency_conflict', 'This Idempotency-Key was used with another request');
  }
  // Only a key claimed before keys shared their effect's transaction can lack its response.
  if (row.status_code === null) throw new ApiError('request_in_progress', 'A request with this Idempotency-Key is still in progress');
  return { status: row.status_code, body: row.response };
}

/** The request's answer; a refusal is an answer too (the same request gets the same refusal), with its effects undone. */
async function runOrRefuse(tx: Tx, run: () => Promise<Answer>): Promise<Answer> {
  await tx.exec('SAVEPOINT idempotent_effect');
  try {
    return await run();
  } catch (err) {
    const refusal = refusalOf(err);
    if (!refusal) throw err;
    await tx.exec('ROLLBACK TO SAVEPOINT idempotent_effect');
    return { status: STATUS[refusal.code], body: errorBody(refusal.code, refusal.message, refusal.fields) };
  }
}
