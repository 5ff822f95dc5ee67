-- R20: work claimed by one process (an e-mail, an invoice) carries the claim's token, so that the
-- process can keep its lease alive while it works (src/db/lease.ts) and a process that lost its
-- claim (it ran out while the database was unreachable) writes nothing over the new owner's.
ALTER TABLE outbox ADD COLUMN claim_token text;
ALTER TABLE invoices ADD COLUMN claim_token text;

-- R20: the daily job runs once a day whichever process runs it; a process that starts after it was
-- done today does not run it again, and one that finds it not done (its runner was killed) does.
CREATE TABLE job_runs (
  job text NOT NULL,
  day date NOT NULL,
  finished_at timestamptz NOT NULL,
  PRIMARY KEY (job, day)
);
