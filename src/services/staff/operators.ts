// Operators authenticate with bearer tokens; only a SHA-256 of each token is stored (the tokens
// are 256 random bits, so a fast hash is enough).
import { createHash, randomBytes } from 'node:crypto';
import type { Database } from '../../db/database.ts';
import { newId } from '../../ids.ts';
import { clock } from '../../clock.ts';
import type { StaffRole } from '../../domain/staff-role.ts';

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('base64url');

/** A machine's token with its role (R19: `casella operator create --role`; admin by default). */
export async function createOperator(db: Database, name: string, role: StaffRole = 'admin'): Promise<{ id: string; token: string }> {
  const token = `cop_${randomBytes(32).toString('base64url')}`;
  const id = newId('op');
  await db.query('INSERT INTO operators (id, name, token_hash, created_at, role) VALUES ($1, $2, $3, $4, $5)', [id, name, hashToken(token), clock.now(), role]);
  return { id, token };
}

/** CASELLA_OPERATOR_TOKEN: creates the operator for this token, or finds it again after a restart. */
export async function ensureOperatorToken(db: Database, token: string, name = 'env'): Promise<string> {
  const [row] = await db.query<{ id: string }>(
    `INSERT INTO operators (id, name, token_hash, created_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (token_hash) DO UPDATE SET role = 'admin' RETURNING id`,
    [newId('op'), name, hashToken(token), clock.now()],
  );
  return row!.id;
}

export async function operatorByToken(db: Database, token: string): Promise<{ id: string; name: string; role: StaffRole } | null> {
  const [row] = await db.query<{ id: string; name: string; role: StaffRole }>('SELECT id, name, role FROM operators WHERE token_hash = $1', [hashToken(token)]);
  return row ?? null;
}
