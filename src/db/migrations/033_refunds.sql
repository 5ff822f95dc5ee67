-- R17: money back. Refunds (operator, withdrawal, closing) go back through the gateway that took
-- the payment, each with a credit note (TD04); charge-backs freeze, release or remove credit.

-- A refund is recorded `pending` (its net already taken from the wallet into refunds_pending) before
-- the gateway is called, outside any transaction; it is completed (credit note, VAT reversed, e-mail)
-- or failed (net given back) in one more transaction. A recovery loop finishes pending ones after a crash.
CREATE TABLE refunds (
  id               text PRIMARY KEY,
  customer_id      text NOT NULL REFERENCES customers (id),
  topup_id         text NOT NULL REFERENCES topups (id),
  kind             text NOT NULL CHECK (kind IN ('refund', 'withdrawal', 'closing')),
  status           text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
  amount_cents     bigint NOT NULL CHECK (amount_cents > 0),
  vat_cents        bigint NOT NULL CHECK (vat_cents >= 0),
  charge_cents     bigint NOT NULL CHECK (charge_cents = amount_cents + vat_cents),
  reason           text NOT NULL,
  gateway          text NOT NULL,
  -- The Idempotency-Key of the request that asked for it (scope, key, request hash): a retry finds it.
  request_scope    text,
  request_key      text,
  request_hash     text,
  gateway_refund_id text,
  failure_code     text,
  credit_note_id   text,
  attempts         integer NOT NULL DEFAULT 0,
  -- Machine time (as the SdI worker's retries): when the recovery loop may try it again.
  next_attempt_at  timestamptz NOT NULL,
  created_at       timestamptz NOT NULL,
  completed_at     timestamptz
);
CREATE INDEX refunds_topup_idx ON refunds (topup_id);
CREATE INDEX refunds_customer_idx ON refunds (customer_id, created_at DESC);
CREATE INDEX refunds_pending_idx ON refunds (next_attempt_at) WHERE status = 'pending';
CREATE UNIQUE INDEX refunds_request_key ON refunds (request_scope, request_key) WHERE request_key IS NOT NULL;
-- R17: a withdrawal takes back a top-up's unspent part once.
CREATE UNIQUE INDEX refunds_one_withdrawal_per_topup ON refunds (topup_id) WHERE kind = 'withdrawal' AND status <> 'failed';

-- Credit notes (TD04) live beside invoices, numbered by the same yearly counter; they cite the
-- invoice they correct. A top-up has one invoice and any number of credit notes.
ALTER TABLE invoices DROP CONSTRAINT invoices_topup_id_key;
CREATE UNIQUE INDEX invoices_one_per_topup ON invoices (topup_id) WHERE document_type <> 'TD04';
ALTER TABLE invoices ADD COLUMN related_invoice_id text REFERENCES invoices (id);
ALTER TABLE invoices ADD COLUMN related_number text;
ALTER TABLE invoices ADD COLUMN related_issued_on date;
ALTER TABLE invoices ADD COLUMN refund_id text REFERENCES refunds (id);
CREATE UNIQUE INDEX invoices_one_per_refund ON invoices (refund_id) WHERE refund_id IS NOT NULL;

-- Charge-backs: one dispute per payment, as the gateway reports it.
CREATE TABLE disputes (
  topup_id     text PRIMARY KEY REFERENCES topups (id),
  customer_id  text NOT NULL REFERENCES customers (id),
  status       text NOT NULL CHECK (status IN ('opened', 'won', 'lost')),
  -- Credit moved from the wallet to disputed:<customer> when it opened (at most the balance then).
  frozen_cents bigint NOT NULL CHECK (frozen_cents >= 0),
  -- When lost: the spent part that became a debt, and the credit note that annulled the invoice.
  debt_cents   bigint NOT NULL DEFAULT 0 CHECK (debt_cents >= 0),
  credit_note_id text,
  opened_at    timestamptz NOT NULL,
  closed_at    timestamptz
);
CREATE INDEX disputes_customer_idx ON disputes (customer_id);

-- Ledger rows for disputes and debts; and rows that move no spendable credit (a refund completed,
-- a dispute lost) are still rows of the holder's journal.
ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_kind_check;
ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_kind_check
  CHECK (kind IN ('topup', 'purchase', 'renewal', 'adjustment', 'refund', 'dispute', 'debt'));
ALTER TABLE ledger_transactions ADD COLUMN refund_id text REFERENCES refunds (id);
-- A refund reserves once, then completes or is released once.
CREATE UNIQUE INDEX ledger_refund_steps ON ledger_transactions (refund_id, (wallet_amount_cents < 0)) WHERE refund_id IS NOT NULL;

-- The test gateway's own record of the refunds it made, keyed by the idempotency key Casella sends
-- (the refund id): the stand-in for a provider's books, so a retry never refunds twice.
CREATE TABLE test_gateway_refunds (
  idempotency_key text PRIMARY KEY,
  topup_id        text NOT NULL,
  charge_cents    bigint NOT NULL CHECK (charge_cents > 0),
  created_at      timestamptz NOT NULL
);
