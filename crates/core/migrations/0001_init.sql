-- PayAiML Merchant schema v1. Times are unix milliseconds (UTC); amounts are millisatoshis.

-- Per-install settings: the instance id that namespaces secret-store entries, and whether the
-- node seed has been created (so that a lost secret is an error, never a silent new wallet).
CREATE TABLE settings (
    name  TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

-- API keys. Only a SHA-256 of the full key is kept here; the key itself lives in the secret store.
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    permissions  TEXT NOT NULL,            -- comma-separated permission names
    budget_sat   INTEGER,                  -- max sats sent per UTC day, NULL = unlimited
    expires_at   INTEGER,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);

CREATE TABLE invoices (
    seq                  INTEGER PRIMARY KEY AUTOINCREMENT,   -- list order and cursor
    id                   TEXT NOT NULL UNIQUE,
    payment_hash         TEXT NOT NULL UNIQUE,
    amount_msat          INTEGER,                           -- NULL: any-amount invoice
    amount_received_msat INTEGER,
    description          TEXT NOT NULL,
    payment_request      TEXT NOT NULL,
    expiry               INTEGER NOT NULL,                  -- seconds
    expires_at           INTEGER NOT NULL,
    created_at           INTEGER NOT NULL,
    paid_at              INTEGER,
    status               TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'expired')),
    external_id          TEXT,
    metadata             TEXT NOT NULL DEFAULT '{}',
    key_id               TEXT
);
CREATE INDEX invoices_status ON invoices (status, seq);

CREATE TABLE payments (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT NOT NULL UNIQUE,
    payment_hash   TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    amount_msat    INTEGER NOT NULL,
    fee_msat       INTEGER,
    preimage       TEXT,
    invoice        TEXT NOT NULL,
    description    TEXT,
    destination    TEXT,
    failure_reason TEXT,
    created_at     INTEGER NOT NULL,
    completed_at   INTEGER,
    key_id         TEXT
);
-- An invoice may be paid again only after every earlier attempt failed.
CREATE UNIQUE INDEX payments_live_hash ON payments (payment_hash) WHERE status != 'failed';
CREATE INDEX payments_key_day ON payments (key_id, created_at);

-- The durable event log: one row per event, written in the same transaction as the state change.
-- `dedupe_key` makes replays of the same node event (after a crash) a no-op.
CREATE TABLE events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    type       TEXT NOT NULL,
    payload    TEXT NOT NULL,
    dedupe_key TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

-- Idempotency-Key records: the first response to a (key, Idempotency-Key) pair is replayed.
CREATE TABLE idempotency (
    key_id       TEXT NOT NULL,
    idem_key     TEXT NOT NULL,
    route        TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER,                 -- NULL while the first request is still running
    response     TEXT,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (key_id, idem_key)
);
