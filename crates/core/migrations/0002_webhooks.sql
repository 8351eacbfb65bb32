-- Webhooks: endpoints, their outbox of deliveries, and every attempt. Times are unix milliseconds.

CREATE TABLE webhooks (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    url             TEXT NOT NULL,
    events          TEXT NOT NULL,                 -- comma-separated event types, '*' for all
    description     TEXT,
    status          TEXT NOT NULL CHECK (status IN ('enabled', 'disabled')),
    disabled_reason TEXT,
    created_at      INTEGER NOT NULL,
    disabled_at     INTEGER
);

-- The outbox. A row is written in the same transaction as its event (see events.rs), so an event
-- that is in the log is also owed to every endpoint that wanted it, whatever happens next.
CREATE TABLE webhook_deliveries (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    webhook_id      TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id        TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    body            TEXT NOT NULL,                 -- the exact JSON sent, signed at each attempt
    state           TEXT NOT NULL CHECK (state IN ('pending', 'succeeded', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,     -- every attempt ever made
    schedule_step   INTEGER NOT NULL DEFAULT 0,     -- failed attempts since (re)queued: the backoff index
    next_attempt_at INTEGER,                       -- NULL once no further attempt is planned
    last_status     INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_by_hook ON webhook_deliveries (webhook_id, seq);

CREATE TABLE webhook_attempts (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id  TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempted_at INTEGER NOT NULL,
    status       INTEGER,                           -- HTTP status, NULL if no answer
    latency_ms   INTEGER NOT NULL,
    response     TEXT,                              -- the first bytes of the answer's body
    error        TEXT                               -- timeout, connection refused, …
);
CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (delivery_id, seq);
