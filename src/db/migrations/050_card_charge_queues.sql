-- R18 at 100,000 card renewals in one run. The charge step reads its work in order, a batch at a
-- time: the mailboxes renewing by card whose charge day has come (by E, then id), and the charges
-- claimed and not yet driven (by E, then mailbox). Without an index in that order each batch
-- scanned and sorted every candidate again (240 ms a batch of 500 at 100,000). Both are partial:
-- only card-renewing mailboxes and claimed charges have entries, so the other mailboxes' renewals
-- and the finished charges add none.
CREATE INDEX mailboxes_card_renewal_due_idx ON mailboxes (expires_on, id)
  WHERE card_renewal_payment_method_id IS NOT NULL AND status = 'active';
DROP INDEX card_charges_claimed_idx;
CREATE INDEX card_charges_claimed_idx ON card_charges (period_ends_on, mailbox_id) WHERE state = 'claimed';
