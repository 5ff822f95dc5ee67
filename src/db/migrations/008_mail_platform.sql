-- R14: the mail server (Dovecot) reads Casella's database through a contract of its own: the views
-- of schema `dovecot`, granted to the role `casella_mail` and to nothing else. It writes back one
-- thing, each mailbox's used bytes (quota_clone), into dovecot.quota_usage; a trigger carries the
-- figure into mailboxes.used_bytes, which the rest of Casella reads. docs/MAIL-PLATFORM.md documents
-- every column.

-- The base inbox of each mailbox type in bytes. The catalogue (CASELLA_CONFIG) is the source; Casella
-- writes it here at start so the mail server reads the same figure the customer area shows.
CREATE TABLE mailbox_type_space (
  type       text PRIMARY KEY CHECK (type IN ('standard', 'pro')),
  base_bytes bigint NOT NULL CHECK (base_bytes > 0)
);
INSERT INTO mailbox_type_space (type, base_bytes) VALUES ('standard', 1073741824), ('pro', 1073741824);

CREATE SCHEMA dovecot;

-- Password lookups. A terminated mailbox has no row (no login anywhere). Hashes made before Argon2id
-- have no row either: Dovecot falls through to Casella's checkpassword program for them (DECISIONS.md).
-- The lookup is one probe of mailboxes_address_key, the unique index on lower(address).
CREATE VIEW dovecot.passdb AS
SELECT lower(m.address)               AS username,
       '{ARGON2ID}' || m.password_hash AS password,
       m.status = 'active'            AS can_send,
       m.status                       AS status
  FROM mailboxes m
 WHERE m.status <> 'terminated' AND m.password_hash LIKE '$argon2id$%';

-- User lookups: where mail may be delivered and how much it may hold. A terminated mailbox has no row,
-- so LMTP refuses deliveries to it as to an unknown user; its mail stays on disk (R8).
CREATE VIEW dovecot.userdb AS
SELECT lower(m.address) AS username,
       s.base_bytes + CASE WHEN a.status = 'active' THEN a.quantity_gb::bigint * 1073741824 ELSE 0 END AS quota_bytes,
       m.status = 'active' AS can_send,
       m.status            AS status
  FROM mailboxes m
  JOIN mailbox_type_space s ON s.type = m.type
  LEFT JOIN addons a ON a.mailbox_id = m.id
 WHERE m.status <> 'terminated';

-- What the mail server reports: its quota_clone plugin upserts one row per mailbox (dict over pgsql).
CREATE TABLE dovecot.quota_usage (
  username text PRIMARY KEY,
  bytes    bigint NOT NULL DEFAULT 0,
  messages bigint NOT NULL DEFAULT 0
);

-- Carries a report into the mailbox, as the owner of the table (the mail role cannot write mailboxes).
CREATE FUNCTION dovecot.quota_usage_reported() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  UPDATE public.mailboxes SET used_bytes = greatest(NEW.bytes, 0)
   WHERE lower(address) = NEW.username AND used_bytes IS DISTINCT FROM greatest(NEW.bytes, 0);
  RETURN NULL;
END $$;
CREATE TRIGGER quota_usage_reported AFTER INSERT OR UPDATE OF bytes ON dovecot.quota_usage
  FOR EACH ROW EXECUTE FUNCTION dovecot.quota_usage_reported();

-- R11's pass looks only at mailboxes whose usage, space or state changed since it last ran: every such
-- change leaves the mailbox's id here, whoever made it (the mail server, an operator, a purchase, the
-- daily job), so none can be missed.
CREATE TABLE usage_changes (mailbox_id text PRIMARY KEY);

CREATE FUNCTION note_mailbox_usage_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO usage_changes (mailbox_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
CREATE FUNCTION note_addon_space_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO usage_changes (mailbox_id) VALUES (NEW.mailbox_id) ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
CREATE TRIGGER mailboxes_usage_inserted AFTER INSERT ON mailboxes
  FOR EACH ROW WHEN (NEW.used_bytes > 0) EXECUTE FUNCTION note_mailbox_usage_change();
-- Only active mailboxes warn: a mailbox leaving that state needs no look, one coming back does.
CREATE TRIGGER mailboxes_usage_changed AFTER UPDATE OF used_bytes, status ON mailboxes
  FOR EACH ROW WHEN (OLD.used_bytes IS DISTINCT FROM NEW.used_bytes
                     OR (OLD.status IS DISTINCT FROM NEW.status AND NEW.status = 'active'))
  EXECUTE FUNCTION note_mailbox_usage_change();
CREATE TRIGGER addons_space_inserted AFTER INSERT ON addons
  FOR EACH ROW EXECUTE FUNCTION note_addon_space_change();
CREATE TRIGGER addons_space_changed AFTER UPDATE OF status, quantity_gb ON addons
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.quantity_gb IS DISTINCT FROM NEW.quantity_gb)
  EXECUTE FUNCTION note_addon_space_change();

-- What the full pass looked at before this migration, so nothing is missed at the switch.
INSERT INTO usage_changes (mailbox_id)
SELECT m.id FROM mailboxes m
 WHERE m.used_bytes > 0 OR EXISTS (SELECT 1 FROM usage_warnings u WHERE u.mailbox_id = m.id);

-- The read-only role. Roles belong to the server, not to one database: create it once, quietly when a
-- parallel migration of another database made it first. Casella's own user needs CREATEROLE for this
-- (or an administrator creates the role beforehand: CREATE ROLE casella_mail NOLOGIN).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'casella_mail') THEN
    BEGIN
      CREATE ROLE casella_mail NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
  END IF;
END $$;
GRANT USAGE ON SCHEMA dovecot TO casella_mail;
GRANT SELECT ON dovecot.passdb, dovecot.userdb TO casella_mail;
GRANT SELECT, INSERT, UPDATE ON dovecot.quota_usage TO casella_mail;
