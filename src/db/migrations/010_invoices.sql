-- R15: billing data, invoices, and their delivery to SdI.

-- "Dati di fatturazione": one per holder, editable; invoices keep their own snapshot.
CREATE TABLE billing_profiles (
  customer_id text PRIMARY KEY REFERENCES customers (id),
  profile     jsonb NOT NULL,
  updated_at  timestamptz NOT NULL
);

-- The VAT rate a top-up's VAT was computed at, so its invoice states the same rate even if the
-- configured rate changes between the start of the payment and its outcome.
ALTER TABLE topups ADD COLUMN vat_rate_basis_points integer;

-- Gapless numbering per calendar year: the year's row is locked by the transaction that issues an
-- invoice, so numbers are taken in commit order and a rolled-back payment gives its number back.
CREATE TABLE invoice_counters (
  year        integer PRIMARY KEY,
  last_number integer NOT NULL CHECK (last_number >= 1)
);

-- SdI file names need a progressive that is never reused; a resent invoice gets a new one.
CREATE SEQUENCE invoice_transmission_seq;

CREATE TABLE invoices (
  id                    text PRIMARY KEY,
  customer_id           text NOT NULL REFERENCES customers (id),
  topup_id              text NOT NULL UNIQUE REFERENCES topups (id),
  year                  integer NOT NULL,
  sequence              integer NOT NULL CHECK (sequence >= 1),
  number                text NOT NULL,
  issued_on             date NOT NULL,
  document_type         text NOT NULL,
  net_cents             bigint NOT NULL CHECK (net_cents > 0),
  vat_cents             bigint NOT NULL CHECK (vat_cents >= 0),
  total_cents           bigint NOT NULL CHECK (total_cents = net_cents + vat_cents),
  vat_rate_basis_points integer NOT NULL CHECK (vat_rate_basis_points >= 0),
  buyer                 jsonb NOT NULL,
  seller                jsonb NOT NULL,
  -- The current transmission to SdI: its progressive, file name, and where it stands.
  transmission_seq      bigint NOT NULL,
  file_name             text NOT NULL UNIQUE,
  sdi_status            text NOT NULL DEFAULT 'issued'
                        CHECK (sdi_status IN ('issued', 'sent', 'delivered', 'rejected', 'not_delivered')),
  sdi_message           text,
  attempts              integer NOT NULL DEFAULT 0,
  next_attempt_at       timestamptz NOT NULL,
  last_error            text,
  sent_at               timestamptz,
  outcome_at            timestamptz,
  created_at            timestamptz NOT NULL,
  UNIQUE (year, sequence)
);
CREATE INDEX invoices_customer_idx ON invoices (customer_id, year DESC, sequence DESC);
CREATE INDEX invoices_issued_idx ON invoices (issued_on, year, sequence);
CREATE INDEX invoices_to_send_idx ON invoices (next_attempt_at) WHERE sdi_status = 'issued';
CREATE INDEX invoices_rejected_idx ON invoices (issued_on) WHERE sdi_status = 'rejected';

-- Every state an invoice went through at SdI, for operators (a resend keeps the rejection on record).
CREATE TABLE invoice_events (
  invoice_id text NOT NULL REFERENCES invoices (id),
  seq        bigserial PRIMARY KEY,
  at         timestamptz NOT NULL,
  file_name  text NOT NULL,
  status     text NOT NULL,
  message    text
);
CREATE INDEX invoice_events_invoice_idx ON invoice_events (invoice_id, seq);

-- The SdI simulator (SDI_CHANNEL=simulator): files it received and the answer it will give, later.
CREATE TABLE sdi_simulator_files (
  file_name     text PRIMARY KEY,
  received_at   timestamptz NOT NULL,
  answer_due_at timestamptz NOT NULL,
  outcome       text NOT NULL CHECK (outcome IN ('RC', 'NS', 'MC')),
  message       text,
  answered_at   timestamptz
);
CREATE INDEX sdi_simulator_due_idx ON sdi_simulator_files (answer_due_at) WHERE answered_at IS NULL;
