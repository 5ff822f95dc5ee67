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
  | 'invoice_not_sent';

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
