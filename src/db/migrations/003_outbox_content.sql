-- R13: an e-mail is written as its content (subject and blocks, already in the holder's language)
-- and rendered to plain text and HTML when it is delivered or shown. Rendering used to happen in the
-- transaction that caused the e-mail, which made the outbox insert the largest cost of the daily job
-- (docs/PERFORMANCE.md). What the holder reads is fixed when the row is written either way.
-- Rows written before this migration keep their rendered bodies.
ALTER TABLE outbox ADD COLUMN content json;
ALTER TABLE outbox ADD COLUMN locale text CHECK (locale IN ('it', 'en'));
ALTER TABLE outbox ALTER COLUMN text_body DROP NOT NULL;
ALTER TABLE outbox ALTER COLUMN html_body DROP NOT NULL;
ALTER TABLE outbox ADD CONSTRAINT outbox_content_or_bodies
  CHECK ((content IS NOT NULL AND locale IS NOT NULL) OR (text_body IS NOT NULL AND html_body IS NOT NULL));
