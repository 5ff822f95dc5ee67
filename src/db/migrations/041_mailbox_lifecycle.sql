-- R19: the mailbox lifecycle staff drive — suspended (abuse or a legal order), a type that changes
-- from the next renewal — and AgID's rule that a PEC address is never given to someone else.

ALTER TABLE mailboxes DROP CONSTRAINT IF EXISTS mailboxes_status_check;
ALTER TABLE mailboxes ADD CONSTRAINT mailboxes_status_check CHECK (status IN ('active', 'expired', 'suspended', 'terminated'));
-- The type the mailbox takes at its next renewal, priced at that type then (null: it keeps its own).
ALTER TABLE mailboxes ADD COLUMN next_type text CHECK (next_type IN ('standard', 'pro'));

-- A terminated address can be created again for a holder with the same codice fiscale or partita IVA
-- (AgID): the terminated row stays, with its history, beside the new one. So the address is unique
-- among mailboxes that are not terminated; every lookup by address excludes terminated rows, which is
-- what lets it still use this index (its predicate is the lookups' own).
DROP INDEX mailboxes_address_key;
CREATE UNIQUE INDEX mailboxes_address_key ON mailboxes (lower(address)) WHERE status <> 'terminated';
CREATE INDEX mailboxes_address_history_idx ON mailboxes (lower(address), updated_at DESC);

-- The mail server (R14, section 3): a suspended mailbox has no login anywhere (no passdb row) and
-- cannot send, but still receives: it keeps its userdb row, so deliveries are accepted (mail is never
-- lost because of a dispute with the holder).
CREATE OR REPLACE VIEW dovecot.passdb AS
SELECT lower(m.address)               AS username,
       '{ARGON2ID}' || m.password_hash AS password,
       m.status = 'active'            AS can_send,
       m.status                       AS status
  FROM mailboxes m
 WHERE m.status <> 'terminated' AND m.status <> 'suspended' AND m.password_hash LIKE '$argon2id$%';

-- Usage reported for an address goes to its live mailbox, not to a terminated one of the same address.
CREATE OR REPLACE FUNCTION dovecot.quota_usage_reported() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  UPDATE public.mailboxes SET used_bytes = greatest(NEW.bytes, 0)
   WHERE lower(address) = NEW.username AND status <> 'terminated' AND used_bytes IS DISTINCT FROM greatest(NEW.bytes, 0);
  RETURN NULL;
END $$;

-- A type taken at a renewal changes the base space: the usage pass looks at the mailbox again (R11).
CREATE TRIGGER mailboxes_type_changed AFTER UPDATE OF type ON mailboxes
  FOR EACH ROW WHEN (OLD.type IS DISTINCT FROM NEW.type) EXECUTE FUNCTION note_mailbox_usage_change();
