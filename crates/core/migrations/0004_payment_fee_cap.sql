-- The most routing fee a payment may cost (millisatoshis), fixed when it is sent. A pending
-- payment counts against its key's daily budget with this cap, a settled one with its real fee.
ALTER TABLE payments ADD COLUMN max_fee_msat INTEGER;
