-- The BTCPay Greenfield-compatible front door (docs/greenfield.md). It works on the same
-- invoices, keys and webhook outbox as the /v1 API; these are the few facts it adds.

-- A webhook endpoint registered through /api/v1/stores/{id}/webhooks gets BTCPay's event names,
-- bodies and `BTCPay-Sig` signature instead of ours; its `events` column then holds BTCPay
-- event names ('*' for all). Same outbox, retries and delivery log.
ALTER TABLE webhooks ADD COLUMN format TEXT NOT NULL DEFAULT 'payaiml'
    CHECK (format IN ('payaiml', 'btcpay'));
-- BTCPay's `automaticRedelivery`: when off, a failed delivery is not retried on the schedule.
ALTER TABLE webhooks ADD COLUMN auto_redeliver INTEGER NOT NULL DEFAULT 1;

-- What a Greenfield client asked when it created an invoice (the price as it gave it, its
-- checkout options), and a status the shop set by hand (`POST …/invoices/{id}/status`). An
-- invoice made elsewhere (the POS, /v1) has no row and reads with defaults.
CREATE TABLE greenfield_invoices (
    invoice_id TEXT PRIMARY KEY NOT NULL,
    amount     TEXT,                              -- decimal string as asked; NULL: any amount
    currency   TEXT NOT NULL,                     -- SATS, BTC or an ISO 4217 code
    checkout   TEXT NOT NULL DEFAULT '{}',        -- JSON: the checkout options as accepted
    marked     TEXT CHECK (marked IN ('settled', 'invalid')),
    marked_at  INTEGER
);

-- The BTCPay permissions a key was given when a shop plugin paired through
-- /api-keys/authorize (space-separated, as BTCPay writes them). A key without a row gets the
-- Greenfield permissions its own /v1 permissions imply.
CREATE TABLE greenfield_keys (
    key_id      TEXT PRIMARY KEY NOT NULL,
    permissions TEXT NOT NULL,
    application TEXT
);
