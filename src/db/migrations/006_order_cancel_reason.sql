-- R5: a waiting order that no longer fits its mailbox when its top-up arrives is cancelled with
-- nothing charged; the reason (a CompletionRefusal of src/domain/order-plan.ts) is kept so the holder
-- and operators can see why.
ALTER TABLE orders ADD COLUMN cancel_reason text;
