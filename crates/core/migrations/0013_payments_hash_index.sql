-- Payments by hash, failed ones included (payments_live_hash leaves them out): the node's store
-- is pruned of payments settled here, looked up by hash in batches.
CREATE INDEX payments_hash ON payments (payment_hash);
