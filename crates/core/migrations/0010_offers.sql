-- Offers (BOLT12): reusable payment codes, printed once and paid many times. The node keeps no
-- state for them (an offer is checked against the node's keys when it is paid), so this table is
-- the shop's record of what it printed. `offer_hash` is LDK's offer id (hex), which each payment
-- names. Each payment to an offer becomes a paid invoice row with `offer_id`, the payer's note
-- and the quantity asked; its `payment_request` is the offer.
CREATE TABLE offers (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    offer        TEXT NOT NULL,
    offer_hash   TEXT NOT NULL UNIQUE,
    description  TEXT NOT NULL,
    amount_msat  INTEGER,                  -- NULL: the payer chooses the amount
    max_quantity INTEGER,                  -- NULL: one item per payment
    created_at   INTEGER NOT NULL,
    key_id       TEXT
);
ALTER TABLE invoices ADD COLUMN offer_id TEXT;
ALTER TABLE invoices ADD COLUMN payer_note TEXT;
ALTER TABLE invoices ADD COLUMN quantity INTEGER;
CREATE INDEX invoices_offer ON invoices (offer_id, seq) WHERE offer_id IS NOT NULL;
