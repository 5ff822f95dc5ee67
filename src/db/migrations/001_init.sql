-- Casella's schema. Money is bigint cents, calendar dates are `date`, instants are timestamptz.
-- Exactly-once is structural: each "at most once" of SPEC.md is a primary key or unique index here.

CREATE TABLE customers (
  id              text PRIMARY KEY,
  name            text NOT NULL,
  tax_code        text,
  reference_email text NOT NULL,
  locale          text NOT NULL DEFAULT 'it' CHECK (locale IN ('it', 'en')),
  created_at      timestamptz NOT NULL
);

-- The cached balance of each holder's wallet account; the ledger is the truth and
-- `casella ledger verify` checks that both agree. R5: never below zero, whatever runs concurrently.
CREATE TABLE wallets (
  customer_id   text PRIMARY KEY REFERENCES customers (id),
  balance_cents bigint NOT NULL DEFAULT 0 CHECK (balance_cents >= 0),
  updated_at    timestamptz NOT NULL
);

CREATE TABLE mailboxes (
  id                     text PRIMARY KEY,
  customer_id            text NOT NULL REFERENCES customers (id),
  address                text NOT NULL,
  password_hash          text NOT NULL,
  type                   text NOT NULL CHECK (type IN ('standard', 'pro')),
  status                 text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'expired', 'terminated')),
  expires_on             date NOT NULL,
  auto_renew             boolean NOT NULL DEFAULT true,
  extra_space_auto_renew boolean NOT NULL DEFAULT true,
  used_bytes             bigint NOT NULL DEFAULT 0 CHECK (used_bytes >= 0),
  created_at             timestamptz NOT NULL,
  updated_at             timestamptz NOT NULL
);
CREATE UNIQUE INDEX mailboxes_address_key ON mailboxes (lower(address));
CREATE INDEX mailboxes_customer_idx ON mailboxes (customer_id);
CREATE INDEX mailboxes_active_expiry_idx ON mailboxes (expires_on) WHERE status = 'active';
CREATE INDEX mailboxes_expired_expiry_idx ON mailboxes (expires_on) WHERE status = 'expired';

-- R4: extra space is one add-on per mailbox; buying more adds to its quantity.
CREATE TABLE addons (
  mailbox_id   text PRIMARY KEY REFERENCES mailboxes (id),
  kind         text NOT NULL DEFAULT 'extra_inbox_space' CHECK (kind = 'extra_inbox_space'),
  quantity_gb  integer NOT NULL CHECK (quantity_gb >= 1),
  status       text NOT NULL CHECK (status IN ('active', 'deactivated')),
  active_until date NOT NULL,
  updated_at   timestamptz NOT NULL
);

CREATE TABLE orders (
  id                text PRIMARY KEY,
  customer_id       text NOT NULL REFERENCES customers (id),
  mailbox_id        text NOT NULL REFERENCES mailboxes (id),
  kind              text NOT NULL CHECK (kind IN ('extra_inbox_space', 'renewal')),
  quantity_gb       integer NOT NULL CHECK (quantity_gb >= 0),
  rule              text CHECK (rule IN ('full_year', 'free_until_expiry', 'remaining_months')),
  amount_cents      bigint NOT NULL CHECK (amount_cents >= 0),
  status            text NOT NULL CHECK (status IN ('completed', 'awaiting_topup', 'cancelled', 'expired')),
  -- The expiry date E the order was priced against (extra space) or renews (renewal).
  period_ends_on    date NOT NULL,
  active_until      date NOT NULL,
  created_at        timestamptz NOT NULL,
  -- R5: an order awaiting a top-up expires after 24 hours.
  expires_at        timestamptz NOT NULL,
  completed_at      timestamptz,
  closed_at         timestamptz,
  CHECK ((status = 'completed') = (completed_at IS NOT NULL))
);
CREATE INDEX orders_customer_idx ON orders (customer_id, created_at DESC);
CREATE INDEX orders_waiting_idx ON orders (customer_id, created_at) WHERE status = 'awaiting_topup';
CREATE INDEX orders_waiting_expiry_idx ON orders (expires_at) WHERE status = 'awaiting_topup';

CREATE TABLE topups (
  id                text PRIMARY KEY,
  customer_id       text NOT NULL REFERENCES customers (id),
  amount_cents      bigint NOT NULL CHECK (amount_cents > 0),
  vat_cents         bigint NOT NULL CHECK (vat_cents >= 0),
  charge_cents      bigint NOT NULL CHECK (charge_cents = amount_cents + vat_cents),
  status            text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
  failure_code      text,
  gateway           text NOT NULL,
  gateway_reference text,
  order_id          text REFERENCES orders (id),
  settled_order_ids text[] NOT NULL DEFAULT '{}',
  created_at        timestamptz NOT NULL,
  decided_at        timestamptz
);
CREATE INDEX topups_customer_idx ON topups (customer_id, created_at DESC);

-- A gateway's notification is applied at most once, whatever is replayed.
CREATE TABLE payment_events (
  gateway     text NOT NULL,
  event_id    text NOT NULL,
  topup_id    text NOT NULL REFERENCES topups (id),
  outcome     text NOT NULL,
  received_at timestamptz NOT NULL,
  PRIMARY KEY (gateway, event_id)
);

-- The double-entry ledger (R6). Rows are only ever inserted; a correction is a new transaction.
CREATE TABLE ledger_transactions (
  id                  text PRIMARY KEY,
  seq                 bigserial NOT NULL UNIQUE,
  customer_id         text NOT NULL REFERENCES customers (id),
  kind                text NOT NULL CHECK (kind IN ('topup', 'purchase', 'renewal', 'adjustment', 'refund')),
  -- The signed movement of the holder's wallet, and the balance right after it (for statements).
  wallet_amount_cents bigint NOT NULL,
  balance_after_cents bigint NOT NULL CHECK (balance_after_cents >= 0),
  description         text NOT NULL,
  order_id            text REFERENCES orders (id),
  mailbox_id          text REFERENCES mailboxes (id),
  topup_id            text REFERENCES topups (id),
  created_at          timestamptz NOT NULL
);
CREATE INDEX ledger_transactions_customer_idx ON ledger_transactions (customer_id, seq DESC);
-- Credit is added once per top-up; an order is charged once.
CREATE UNIQUE INDEX ledger_one_credit_per_topup ON ledger_transactions (topup_id) WHERE topup_id IS NOT NULL;
CREATE UNIQUE INDEX ledger_one_charge_per_order ON ledger_transactions (order_id)
  WHERE order_id IS NOT NULL AND kind IN ('purchase', 'renewal');

CREATE TABLE ledger_postings (
  transaction_id text NOT NULL REFERENCES ledger_transactions (id),
  account        text NOT NULL,
  amount_cents   bigint NOT NULL CHECK (amount_cents <> 0),
  PRIMARY KEY (transaction_id, account)
);
CREATE INDEX ledger_postings_account_idx ON ledger_postings (account);

CREATE FUNCTION ledger_is_insert_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the ledger is insert-only: % on % refused', TG_OP, TG_TABLE_NAME;
END $$;
CREATE TRIGGER ledger_transactions_insert_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ledger_transactions
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_is_insert_only();
CREATE TRIGGER ledger_postings_insert_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ledger_postings
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_is_insert_only();

-- R7.3: each (service, period) is renewed or closed at most once. period_ends_on is the E renewed.
CREATE TABLE renewals (
  mailbox_id            text NOT NULL REFERENCES mailboxes (id),
  service               text NOT NULL CHECK (service IN ('mailbox', 'extra_inbox_space')),
  period_ends_on        date NOT NULL,
  outcome               text NOT NULL CHECK (outcome IN ('renewed', 'expired', 'deactivated')),
  amount_cents          bigint NOT NULL CHECK (amount_cents >= 0),
  ledger_transaction_id text REFERENCES ledger_transactions (id),
  order_id              text REFERENCES orders (id),
  created_at            timestamptz NOT NULL,
  PRIMARY KEY (mailbox_id, service, period_ends_on)
);

-- R10: at most one alert per (mailbox, E, milestone), ever.
CREATE TABLE alerts_sent (
  mailbox_id     text NOT NULL REFERENCES mailboxes (id),
  expires_on     date NOT NULL,
  milestone_days integer NOT NULL,
  sent_at        timestamptz NOT NULL,
  PRIMARY KEY (mailbox_id, expires_on, milestone_days)
);

-- R11: thresholds currently warned about; a row is removed when the threshold re-arms.
CREATE TABLE usage_warnings (
  mailbox_id        text NOT NULL REFERENCES mailboxes (id),
  threshold_percent integer NOT NULL,
  total_bytes       bigint NOT NULL,
  warned_at         timestamptz NOT NULL,
  PRIMARY KEY (mailbox_id, threshold_percent)
);

-- R13: e-mails are written here in the transaction that causes them, then delivered.
CREATE TABLE outbox (
  id              text PRIMARY KEY,
  seq             bigserial NOT NULL UNIQUE,
  customer_id     text REFERENCES customers (id),
  kind            text NOT NULL,
  to_address      text NOT NULL,
  subject         text NOT NULL,
  text_body       text NOT NULL,
  html_body       text NOT NULL,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  last_error      text,
  created_at      timestamptz NOT NULL,
  sent_at         timestamptz
);
CREATE INDEX outbox_pending_idx ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_customer_idx ON outbox (customer_id, seq DESC);

CREATE TABLE idempotency_keys (
  scope        text NOT NULL,
  key          text NOT NULL,
  request_hash text NOT NULL,
  status_code  integer,
  response     jsonb,
  created_at   timestamptz NOT NULL,
  PRIMARY KEY (scope, key)
);

CREATE TABLE sessions (
  id_hash      text PRIMARY KEY,
  customer_id  text NOT NULL REFERENCES customers (id),
  csrf_token   text NOT NULL,
  created_at   timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL
);
CREATE INDEX sessions_customer_idx ON sessions (customer_id);

-- R12: failed-login counters per address and per client, in the database so every process sees them.
CREATE TABLE login_throttle (
  key           text PRIMARY KEY,
  failures      integer NOT NULL,
  window_start  timestamptz NOT NULL,
  blocked_until timestamptz
);

CREATE TABLE operators (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  token_hash  text NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL
);

CREATE TABLE audit_log (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL,
  actor_kind  text NOT NULL CHECK (actor_kind IN ('operator', 'holder', 'system')),
  actor_id    text,
  action      text NOT NULL,
  entity_kind text NOT NULL,
  entity_id   text NOT NULL,
  reason      text,
  before      jsonb,
  after       jsonb
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity_kind, entity_id);

-- The test clock (API.md), kept so that a restarted server and the CLI see the same "now".
CREATE TABLE test_clock (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  now_ms    bigint NOT NULL
);

-- Secrets Casella makes for itself (the test gateway's signing key), shared by every process.
CREATE TABLE app_secrets (
  name  text PRIMARY KEY,
  value text NOT NULL
);
