-- R12, R14: the mail server asks Casella before each login (Dovecot's auth policy), so guesses over
-- IMAP and SMTP count against the same per-address and per-client limits as the customer area's.
-- Each Dovecot configuration written by `casella dovecot-config` proves itself with its own key,
-- one per database role it connects as; only the key's SHA-256 is kept. Running the command again
-- for the role gives it a new key.
CREATE TABLE mail_policy_keys (
  role text PRIMARY KEY,
  key_hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL
);
