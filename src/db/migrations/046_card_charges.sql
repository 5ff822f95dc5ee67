-- R18: one card charge per (mailbox, period), whatever is retried, replayed or killed. The row is
-- claimed (inserted) before the gateway is called; the gateway call runs outside any transaction
-- with an idempotency key derived from (mailbox, period, attempt); its answer is recorded in one
-- transaction. A row left `claimed` by a dead process is taken over when its lease ends and driven
-- again with the same key, so the gateway answers as the first time.
CREATE TABLE card_charges (
  mailbox_id        text NOT NULL REFERENCES mailboxes (id),
  -- The expiry date E the charge prepares the renewal of.
  period_ends_on    date NOT NULL,
  customer_id       text NOT NULL REFERENCES customers (id),
  payment_method_id text NOT NULL REFERENCES payment_methods (id),
  attempt           integer NOT NULL DEFAULT 1 CHECK (attempt BETWEEN 1 AND 10),
  topup_id          text NOT NULL REFERENCES topups (id),
  state             text NOT NULL CHECK (state IN ('claimed', 'succeeded', 'failed', 'requires_action')),
  failure_code      text,
  next_retry_on     date,
  -- Machine time: who drives a claimed charge, and until when (R20: taken over within a minute).
  lease_owner       text,
  lease_until       timestamptz,
  created_at        timestamptz NOT NULL,
  updated_at        timestamptz NOT NULL,
  PRIMARY KEY (mailbox_id, period_ends_on)
);
CREATE INDEX card_charges_claimed_idx ON card_charges (lease_until) WHERE state = 'claimed';
CREATE INDEX card_charges_retry_idx ON card_charges (next_retry_on) WHERE state = 'failed' AND next_retry_on IS NOT NULL;
CREATE UNIQUE INDEX card_charges_topup_key ON card_charges (topup_id);
-- A claim adds up the holder's charges not yet credited; every holder page shows those that failed.
CREATE INDEX card_charges_customer_open_idx ON card_charges (customer_id) WHERE state IN ('claimed', 'requires_action', 'failed');
-- Every attempt's top-up, so a retried charge's earlier attempts stay linked to the mailbox.
CREATE TABLE card_charge_attempts (
  topup_id       text PRIMARY KEY REFERENCES topups (id),
  mailbox_id     text NOT NULL,
  period_ends_on date NOT NULL,
  attempt        integer NOT NULL,
  UNIQUE (mailbox_id, period_ends_on, attempt)
);

-- R18: a card that will have expired by its next charge is announced once.
CREATE TABLE card_expiry_notices (
  payment_method_id text PRIMARY KEY REFERENCES payment_methods (id),
  sent_at           timestamptz NOT NULL
);
