-- R16 VAT by buyer, R17 bank transfers, R15 the payment's own date on the invoice.

-- What a top-up charges depends on its buyer (R16): the treatment it was priced with, kept so its
-- invoice states what was charged even if the billing data change before the payment.
ALTER TABLE topups ADD COLUMN IF NOT EXISTS vat_treatment text NOT NULL DEFAULT 'standard'
  CHECK (vat_treatment IN ('standard', 'reverse_charge', 'not_subject'));
-- How it is paid; a bank transfer waits for an operator to record the money received.
ALTER TABLE topups ADD COLUMN IF NOT EXISTS method text NOT NULL DEFAULT 'card'
  CHECK (method IN ('card', 'saved_card', 'bank_transfer'));
-- When the money was paid (the card's payment, the transfer's receipt), set when it succeeds.
ALTER TABLE topups ADD COLUMN IF NOT EXISTS paid_at timestamptz;
-- A transfer's causale reference (CAS + 8 characters) and the last day it waits.
ALTER TABLE topups ADD COLUMN bank_reference text;
ALTER TABLE topups ADD COLUMN bank_expires_on date;
CREATE UNIQUE INDEX topups_bank_reference_key ON topups (bank_reference) WHERE bank_reference IS NOT NULL;
CREATE INDEX topups_bank_waiting_idx ON topups (bank_expires_on) WHERE bank_reference IS NOT NULL AND status = 'pending';
ALTER TABLE topups DROP CONSTRAINT IF EXISTS topups_status_check;
ALTER TABLE topups ADD CONSTRAINT topups_status_check CHECK (status IN ('pending', 'succeeded', 'failed', 'expired'));

-- The invoice's VAT treatment and Natura (N2.1 for art. 7-ter services to businesses abroad), and
-- the day and way the money was paid (DatiPagamento).
ALTER TABLE invoices ADD COLUMN IF NOT EXISTS vat_treatment text NOT NULL DEFAULT 'standard'
  CHECK (vat_treatment IN ('standard', 'reverse_charge', 'not_subject'));
ALTER TABLE invoices ADD COLUMN IF NOT EXISTS natura text NULL;
ALTER TABLE invoices ADD CONSTRAINT invoices_natura_of_treatment
  CHECK ((vat_treatment = 'standard' AND natura IS NULL) OR (vat_treatment <> 'standard' AND natura IS NOT NULL AND vat_cents = 0));
ALTER TABLE invoices ADD COLUMN payment_date date;
ALTER TABLE invoices ADD COLUMN payment_method text NOT NULL DEFAULT 'card'
  CHECK (payment_method IN ('card', 'saved_card', 'bank_transfer'));

-- R15 "numbers follow dates": the year's counter row is locked before the invoice's instant is read,
-- so it is created at 0 (no number used) when the year's first payment locks it.
ALTER TABLE invoice_counters DROP CONSTRAINT IF EXISTS invoice_counters_last_number_check;
ALTER TABLE invoice_counters ADD CONSTRAINT invoice_counters_last_number_check CHECK (last_number >= 0);
