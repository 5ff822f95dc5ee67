-- Two-step verification (TOTP, RFC 6238), optional per holder. A row with confirmed_at NULL is an
-- enrolment waiting for its first code. last_step is the last time step accepted: a code is never
-- accepted twice (RFC 6238 section 5.2).
CREATE TABLE totp_credentials (
  customer_id  text PRIMARY KEY REFERENCES customers (id),
  secret       text NOT NULL,
  confirmed_at timestamptz,
  last_step    bigint NOT NULL DEFAULT 0,
  created_at   timestamptz NOT NULL
);

-- Ten single-use recovery codes, shown once at enrolment; only their SHA-256 is kept (each code has
-- 80 random bits, so a plain hash is as good as a slow one).
CREATE TABLE totp_recovery_codes (
  customer_id text NOT NULL REFERENCES customers (id),
  code_hash   text NOT NULL,
  used_at     timestamptz,
  PRIMARY KEY (customer_id, code_hash)
);

-- A login whose password was right and whose code is still awaited (the login form's second step):
-- the browser keeps only the token, whose hash is the key; it lasts five minutes and a few tries.
CREATE TABLE login_challenges (
  id_hash     text PRIMARY KEY,
  customer_id text NOT NULL REFERENCES customers (id),
  address     text NOT NULL,
  attempts    integer NOT NULL DEFAULT 0,
  expires_at  timestamptz NOT NULL
);
CREATE INDEX login_challenges_expires_idx ON login_challenges (expires_at);
