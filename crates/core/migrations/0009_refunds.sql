-- A refund is a payment sent back to a customer for a paid invoice: `refund_of` names that
-- invoice. What was refunded (succeeded refunds, msat) is kept on the invoice, raised in the
-- same transaction that records a refund's success.
ALTER TABLE payments ADD COLUMN refund_of TEXT;
CREATE INDEX payments_refund_of ON payments (refund_of) WHERE refund_of IS NOT NULL;
ALTER TABLE invoices ADD COLUMN refunded_msat INTEGER NOT NULL DEFAULT 0;
