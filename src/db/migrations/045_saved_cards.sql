-- R18: cards saved through the gateway for automatic renewal. Only the gateway's own reference and
-- what the holder needs to recognise the card (brand, last 4 digits, expiry) are kept: never a card
-- number or CVC (R12).
CREATE TABLE payment_methods (
  id                text PRIMARY KEY,
  customer_id       text NOT NULL REFERENCES customers (id),
  gateway           text NOT NULL,
  -- The gateway's handle of the card (Stripe: pm_…), and of the holder at the gateway (Stripe: cus_…).
  gateway_reference text NOT NULL,
  gateway_customer  text,
  brand             text NOT NULL,
  last4             text NOT NULL CHECK (last4 ~ '^[0-9]{4}$'),
  exp_month         integer NOT NULL CHECK (exp_month BETWEEN 1 AND 12),
  exp_year          integer NOT NULL CHECK (exp_year BETWEEN 2000 AND 2200),
  created_at        timestamptz NOT NULL,
  -- A removed card stays for the top-ups that name it, and is never charged again.
  removed_at        timestamptz
);
CREATE UNIQUE INDEX payment_methods_gateway_reference_key ON payment_methods (gateway, gateway_reference);
CREATE INDEX payment_methods_customer_idx ON payment_methods (customer_id) WHERE removed_at IS NULL;

-- A card being saved: the holder is sent to the gateway's page with this id; the gateway's signed
-- notification completes it once (the payment method is created at most once per setup).
CREATE TABLE card_setups (
  id                text PRIMARY KEY,
  customer_id       text NOT NULL REFERENCES customers (id),
  gateway           text NOT NULL,
  status            text NOT NULL CHECK (status IN ('pending', 'completed')),
  setup_url         text,
  gateway_session_id text,
  payment_method_id text REFERENCES payment_methods (id),
  created_at        timestamptz NOT NULL,
  completed_at      timestamptz
);

-- R18: the per-mailbox choice, off (null) by default; only the holder's explicit choice sets it.
ALTER TABLE mailboxes ADD COLUMN card_renewal_payment_method_id text REFERENCES payment_methods (id);
CREATE INDEX mailboxes_card_renewal_idx ON mailboxes (card_renewal_payment_method_id) WHERE card_renewal_payment_method_id IS NOT NULL;

-- A top-up paid off-session with a saved card (API.md Topup.method "saved_card").
ALTER TABLE topups ADD COLUMN payment_method_id text REFERENCES payment_methods (id);

-- The test gateway's own record of off-session charges (it stands in for the provider's side):
-- the same idempotency key always gets the same answer, as Stripe's Idempotency-Key does, and an
-- `authentication_required` charge succeeds once the holder authorises it on the gateway's page.
CREATE TABLE test_gateway_charges (
  idempotency_key text PRIMARY KEY,
  topup_id        text NOT NULL,
  card_reference  text NOT NULL,
  amount_cents    bigint NOT NULL,
  outcome         text NOT NULL CHECK (outcome IN ('succeeded', 'failed', 'requires_action')),
  failure_code    text,
  reference       text NOT NULL,
  created_at      timestamptz NOT NULL,
  authorised_at   timestamptz
);
CREATE INDEX test_gateway_charges_topup_idx ON test_gateway_charges (topup_id);
