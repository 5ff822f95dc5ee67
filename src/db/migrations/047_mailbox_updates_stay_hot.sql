-- 041's history index on (lower(address), updated_at) put updated_at in an index, and PostgreSQL
-- cannot update a row in place (a HOT update) when an indexed column changes: every renewal, status
-- change and type change then wrote a new entry into each of the mailboxes' indexes. It cost the daily
-- job's mailbox update twice its time (3.1 s to 6.9 s for 100,000 mailboxes). The lookup it served
-- (an address's mailboxes, live first, then newest) reads the few rows of one address: the prefix
-- index of 040, on lower(address) with text_pattern_ops, answers equality as well, and the sort is of
-- a handful of rows.
DROP INDEX mailboxes_address_history_idx;
