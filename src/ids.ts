import { randomBytes } from 'node:crypto';

/** Opaque ids (API.md): a readable prefix and 96 random bits. */
export const newId = (prefix: string): string => `${prefix}_${randomBytes(12).toString('base64url')}`;
