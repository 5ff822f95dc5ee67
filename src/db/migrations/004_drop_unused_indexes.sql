-- Two indexes that no query uses, each written by every renewal of the daily job (three postings
-- and one e-mail per renewed mailbox; docs/PERFORMANCE.md). A holder's movements are read through
-- ledger_transactions (customer_id, seq); `ledger verify` reads every posting; the outbox is read by
-- delivery (pending, by next_attempt_at) and newest first (by seq). An index for per-account or
-- per-holder e-mail reports belongs with the report that needs it.
DROP INDEX ledger_postings_account_idx;
DROP INDEX outbox_customer_idx;
