-- R12, issue 13: a session remembers the mailbox whose password opened it, so the holder's password
-- change applies to that mailbox. Sessions from before cannot say which mailbox it was: they end, and
-- their holders log in once more (sessions last at most 30 idle minutes anyway).
DELETE FROM sessions;
ALTER TABLE sessions ADD COLUMN mailbox_id text NOT NULL REFERENCES mailboxes (id);
