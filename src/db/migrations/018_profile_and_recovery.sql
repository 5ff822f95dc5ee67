-- Issue 15: password recovery and the change of the reference e-mail. Each link carries a random
-- token; only its SHA-256 is kept (256 random bits: a plain hash is as good as a slow one), so
-- whoever reads the table cannot use a link. A link is used once (used_at) and lasts until expires_at.

-- A reset link for one mailbox's password, sent to its holder's reference e-mail (30 minutes).
-- attempts counts wrong two-step codes given with the link: a few void it.
CREATE TABLE password_resets (
  id_hash     text PRIMARY KEY,
  mailbox_id  text NOT NULL REFERENCES mailboxes (id),
  customer_id text NOT NULL REFERENCES customers (id),
  created_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  attempts    integer NOT NULL DEFAULT 0
);
CREATE INDEX password_resets_mailbox_idx ON password_resets (mailbox_id);

-- A new reference e-mail waiting for the holder to open the link sent to it (24 hours).
CREATE TABLE reference_email_changes (
  id_hash     text PRIMARY KEY,
  customer_id text NOT NULL REFERENCES customers (id),
  new_email   text NOT NULL,
  created_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);
CREATE INDEX reference_email_changes_customer_idx ON reference_email_changes (customer_id);
