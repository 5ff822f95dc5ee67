-- Issue 19. Device cookies carry a per-holder generation, bumped when a password of the holder is
-- changed or reset: every device cookie issued before stops giving its own login allowance.
ALTER TABLE customers ADD COLUMN device_generation integer NOT NULL DEFAULT 0;

-- The daily job purges what is over (issue 19): these indexes let each bounded batch find its rows
-- without reading the whole table.
CREATE INDEX sessions_last_seen_idx ON sessions (last_seen_at);
CREATE INDEX login_throttle_window_idx ON login_throttle (window_start);
CREATE INDEX password_resets_expires_idx ON password_resets (expires_at);
CREATE INDEX reference_email_changes_expires_idx ON reference_email_changes (expires_at);
