-- What a ledger transaction describes, as a key and its values, so the holder reads it in their own
-- language; `description` stays the Italian text of record. Rows are still never updated: older
-- rows simply have no key and show their text.
ALTER TABLE ledger_transactions ADD COLUMN description_params jsonb;
