-- R17: a holder's frozen (disputed) and owed (debt) amounts are read on every top-up's crediting
-- transaction (a debt is paid first), on purchases and on the holder's pages. Without an index each
-- read scanned every posting of every holder, under the invoice counter's lock for a payment, so
-- payments slowed as the ledger grew (100,000 card renewals: 115 charges/s at 10,000, 33/s past
-- 10,000 more). Only these two kinds of account are indexed: the postings a renewal or a payment
-- writes to wallets and revenue add no entry. The predicate is repeated word for word by the query
-- (readDisputedAndDebt), which is how PostgreSQL knows the partial index answers it.
CREATE INDEX ledger_postings_dispute_debt_idx ON ledger_postings (account)
  WHERE account LIKE 'disputed:%' OR account LIKE 'debt:%';
