-- R19: the provider's staff, with their own logins and roles; tokens for machines get a role too;
-- one append-only audit trail; indexes that let staff find a holder by anything they are told.

-- Bearer tokens stay for machines, each with a role (API.md: CASELLA_OPERATOR_TOKEN is `admin`).
ALTER TABLE operators ADD COLUMN role text NOT NULL DEFAULT 'admin' CHECK (role IN ('support', 'billing', 'admin'));

CREATE TABLE staff (
  id            text PRIMARY KEY,
  email         text NOT NULL,
  name          text NOT NULL,
  role          text NOT NULL CHECK (role IN ('support', 'billing', 'admin')),
  -- Null until the person has set a password and enrolled TOTP through the one-time link.
  password_hash text,
  totp_secret   text,
  enrolled_at   timestamptz,
  disabled_at   timestamptz,
  created_at    timestamptz NOT NULL,
  CHECK ((enrolled_at IS NULL) OR (password_hash IS NOT NULL AND totp_secret IS NOT NULL))
);
CREATE UNIQUE INDEX staff_email_key ON staff (lower(email));

-- The one-time link of `casella staff create`: valid 24 h, used once. Only a hash of the token is kept.
CREATE TABLE staff_setup_links (
  token_hash  text PRIMARY KEY,
  staff_id    text NOT NULL REFERENCES staff (id),
  -- The TOTP secret offered on the page, so reloading it shows the QR the phone already scanned.
  totp_secret text NOT NULL,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);

CREATE TABLE staff_sessions (
  token_hash   text PRIMARY KEY,
  staff_id     text NOT NULL REFERENCES staff (id),
  csrf_token   text NOT NULL,
  created_at   timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  expires_at   timestamptz NOT NULL
);
CREATE INDEX staff_sessions_staff_idx ON staff_sessions (staff_id);

-- A TOTP code is accepted once: a code seen over a shoulder cannot open a second session.
CREATE TABLE staff_totp_used (
  staff_id text NOT NULL REFERENCES staff (id),
  step     bigint NOT NULL,
  PRIMARY KEY (staff_id, step)
);

-- The audit trail: who (staff, token, holder or the system), when, what, why, before, after, and
-- whose holder it concerns, so one holder's trail is one index range.
ALTER TABLE audit_log DROP CONSTRAINT IF EXISTS audit_log_actor_kind_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_actor_kind_check
  CHECK (actor_kind IN ('operator', 'token', 'staff', 'holder', 'system'));
ALTER TABLE audit_log ADD COLUMN actor_name text;
ALTER TABLE audit_log ADD COLUMN customer_id text;
ALTER TABLE audit_log ADD COLUMN mailbox_id text;
UPDATE audit_log SET customer_id = entity_id WHERE entity_kind = 'customer';
UPDATE audit_log a SET customer_id = m.customer_id, mailbox_id = m.id FROM mailboxes m WHERE a.entity_kind = 'mailbox' AND m.id = a.entity_id;
CREATE INDEX audit_log_customer_idx ON audit_log (customer_id, at) WHERE customer_id IS NOT NULL;
CREATE INDEX audit_log_actor_idx ON audit_log (actor_kind, actor_id, at);
CREATE INDEX audit_log_at_idx ON audit_log (at);

-- R19: "no one can edit" it — enforced by the database, not only by the code.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- Search (R19): names with accents and case ignored, any part, through trigram indexes; addresses by
-- their beginning; fiscal codes, VAT numbers and reference e-mails exactly.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;
-- unaccent() is only STABLE (its dictionary could change); this wrapper names the dictionary so an
-- index can use it, which is the documented way to index unaccented text.
CREATE FUNCTION casella_fold(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, $1)) $$;
CREATE INDEX customers_name_trgm_idx ON customers USING gin (casella_fold(name) gin_trgm_ops);
CREATE INDEX customers_tax_code_idx ON customers (upper(tax_code)) WHERE tax_code IS NOT NULL;
CREATE INDEX customers_reference_email_idx ON customers (lower(reference_email));
CREATE INDEX mailboxes_address_prefix_idx ON mailboxes (lower(address) text_pattern_ops);
CREATE INDEX billing_profiles_vat_idx ON billing_profiles (upper(profile->>'vatNumber')) WHERE profile->>'vatNumber' IS NOT NULL;
CREATE INDEX billing_profiles_tax_code_idx ON billing_profiles (upper(profile->>'taxCode')) WHERE profile->>'taxCode' IS NOT NULL;
CREATE INDEX billing_profiles_company_trgm_idx ON billing_profiles USING gin (casella_fold(profile->>'companyName') gin_trgm_ops);

-- Each completed run of the daily job, for the staff's overview (when it last ran, what it did).
CREATE TABLE daily_job_runs (
  id          bigserial PRIMARY KEY,
  day         date NOT NULL,
  started_at  timestamptz NOT NULL,
  finished_at timestamptz NOT NULL,
  summary     jsonb NOT NULL
);
