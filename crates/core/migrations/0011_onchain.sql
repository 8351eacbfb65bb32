-- An invoice may also be paid on-chain (a unified BIP21 QR): `onchain_address` is a fresh address
-- of the node's wallet for it alone; confirmed outputs to it add up in `onchain_received_sat`,
-- and once they reach the amount the invoice is paid, naming the transaction that completed it.
-- `onchain_seen` lists the incoming transactions already read, so each counts once.
ALTER TABLE invoices ADD COLUMN onchain_address TEXT;
ALTER TABLE invoices ADD COLUMN onchain_received_sat INTEGER NOT NULL DEFAULT 0;
ALTER TABLE invoices ADD COLUMN onchain_txid TEXT;
CREATE INDEX invoices_onchain ON invoices (onchain_address) WHERE onchain_address IS NOT NULL;
CREATE TABLE onchain_seen (
    txid    TEXT PRIMARY KEY NOT NULL,
    seen_at INTEGER NOT NULL
);
