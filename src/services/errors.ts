// Domain errors carry the codes of API.md; the HTTP layer maps each code to its status in one place.
export type ErrorCode =
  | 'invalid_credentials'
  | 'unauthenticated'
  | 'csrf_failed'
  | 'forbidden'
  | 'not_found'
  | 'validation_failed'
  | 'mailbox_not_active'
  | 'not_renewable'
  | 'order_not_pending'
  | 'limit_exceeded'
  | 'idempotency_conflict'
  | 'rate_limited'
  /** Two-step verification is on and no valid code was given (POST /api/session needs totpCode). */
  | 'totp_required'
  /** The price the caller confirmed is no longer the price (Casella's addition). */
  | 'quote_changed'
  /** R15: no billing data yet, so no card payment. */
  | 'billing_profile_required'
  /** R17: a bank transfer recorded for a top-up already paid or expired, or with another amount. */
  | 'topup_not_pending'
  | 'amount_mismatch'
  /** R19: a staff action without a reason. */
  /** R17: more than the payment has left or than the balance, a disputed payment, or a mailbox not terminated (closing). */
  | 'refund_not_allowed'
  /** R17: past 14 days, a business buyer, or nothing unspent. */
  | 'withdrawal_not_allowed'
  | 'reason_required'
  /** Only a rejected invoice can be corrected and sent again (Casella's addition). */
  | 'invoice_not_rejected'
  /** An SdI outcome can be recorded only for an invoice sent and waiting for one (Casella's addition). */
  | 'invoice_not_sent'
  /** R19: a staff action that changes something needs a reason for the audit trail. */
  | 'reason_required'
  /** R19, AgID: a terminated PEC address asked for by another codice fiscale or partita IVA. */
  | 'address_reserved'
  /** R19: a login with a suspended mailbox's credentials. */
  | 'mailbox_suspended';

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fields?: Record<string, string>,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export const notFound = (what: string): DomainError => new DomainError('not_found', `${what} not found`);
export const invalid = (fields: Record<string, string>, message = 'Some fields are not valid'): DomainError =>
  new DomainError('validation_failed', message, fields);

export const REASON_LENGTH_MAX = 500;

/** R19: the reason every staff action that changes something carries into the audit trail. */
export function requireReason(reason: unknown): string {
  const text = typeof reason === 'string' ? reason.trim() : '';
  if (!text) throw new DomainError('reason_required', 'Say why: a reason is required for the audit trail', { reason: 'is required' });
  if (text.length > REASON_LENGTH_MAX) throw invalid({ reason: `must be at most ${REASON_LENGTH_MAX} characters` });
  return text;
}
