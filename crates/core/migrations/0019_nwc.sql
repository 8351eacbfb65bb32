-- Nostr Wallet Connect (NIP-47): apps outside the shop's network reach the node through a relay
-- (see crates/core/src/nwc/). Each connection is one of the API keys (its permissions, budget,
-- expiry and revocation are the key's) with a Nostr identity of its own for the wallet service,
-- so that its info event lists exactly the methods this connection may use. Secret keys live in
-- the secret store, never here.
CREATE TABLE nwc_connections (
    key_id TEXT PRIMARY KEY REFERENCES api_keys(id),
    -- The wallet service's public key for this connection (hex): requests are addressed to it.
    wallet_pubkey TEXT NOT NULL UNIQUE,
    -- The app's public key (hex), from the secret in its connection URI: only its requests count.
    client_pubkey TEXT NOT NULL UNIQUE,
    -- The relay URLs, one per line.
    relays TEXT NOT NULL,
    -- `nip04` once the app sent a request encrypted the old way (its notifications then go out
    -- that way too); NULL while it uses NIP-44.
    legacy_encryption TEXT,
    created_at INTEGER NOT NULL
);

-- Every request seen, by its Nostr event id: a request delivered twice (by two relays, or again
-- after a reconnect) is answered once. `request` is the event as received, so one that was being
-- answered when the app stopped is answered at the next start.
CREATE TABLE nwc_requests (
    event_id TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    method TEXT NOT NULL,
    request TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    answered_at INTEGER
);
CREATE INDEX nwc_requests_unanswered ON nwc_requests (received_at) WHERE answered_at IS NULL;
CREATE INDEX nwc_requests_received ON nwc_requests (received_at);

-- Signed events owed to relays (answers and notifications), written in the same transaction as
-- what they answer or tell: sent again (waiting longer each time, up to a minute) until a relay
-- takes them, for as long as they are of use (see crates/core/src/nwc/requests.rs).
CREATE TABLE nwc_outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key_id TEXT NOT NULL,
    event TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    sent_at INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX nwc_outbox_unsent ON nwc_outbox (next_attempt_at) WHERE sent_at IS NULL;
