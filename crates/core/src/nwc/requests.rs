//! The service's durable work: every request seen (answered once, whatever the relays replay)
//! and the outbox of signed events owed to relays (kept until one takes them).
//!
//! A request is recorded before it is worked on, and its answer is written to the outbox in the
//! same transaction that marks it answered; so a crash in between leaves a request recorded but
//! unanswered, which the service answers at its next start (the methods that change something
//! are idempotent: an invoice per request, a payment per invoice).

use crate::error::Result;
use crate::store::Store;
use crate::util::now_ms;

/// Requests and answers older than this are forgotten (a relay replays only recent events).
const KEEP_MS: i64 = 7 * 24 * 3600 * 1000;
/// An event still owed after this long is given up: an app waits about a minute for an
/// answer, and a notification an hour late tells it nothing its `lookup_invoice` would not.
const OWED_FOR_MS: i64 = 3600 * 1000;
/// The longest wait between two tries of one event.
const MAX_RETRY_MS: i64 = 60_000;
/// The setting that keeps the last event-log `seq` turned into notifications.
const NOTIFIED_SETTING: &str = "nwc.notified_seq";

/// An event owed to the relays.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Owed {
    /// Its place in the outbox.
    pub seq: i64,
    /// The connection it is for.
    pub key_id: String,
    /// The signed Nostr event, as JSON.
    pub event: String,
    /// How many times sending it failed.
    pub attempts: i64,
    /// When it was queued (unix ms).
    pub created_at: i64,
}

/// A request recorded but not answered (the app stopped while answering it).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Unanswered {
    /// The request's event id.
    pub event_id: String,
    /// The connection.
    pub key_id: String,
    /// The request event as received (JSON).
    pub request: String,
    /// When it was recorded (unix ms).
    pub received_at: i64,
}

/// The request log and the outbox.
pub struct Requests<'a> {
    store: &'a Store,
}

impl<'a> Requests<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Requests { store }
    }

    /// Records a request; false when its event id was seen before (a relay delivered it again,
    /// or a second relay did): it must not be worked on again.
    pub async fn begin(
        &self,
        event_id: &str,
        key_id: &str,
        method: &str,
        request: &str,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT OR IGNORE INTO nwc_requests (event_id, key_id, method, request, received_at)
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(event_id)
        .bind(key_id)
        .bind(method)
        .bind(request)
        .bind(now_ms())
        .execute(self.store.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks a request answered and queues its answer events, in one transaction. Returns
    /// their places in the outbox.
    pub async fn answer(
        &self,
        event_id: &str,
        key_id: &str,
        events: &[String],
    ) -> Result<Vec<i64>> {
        let mut tx = self.store.begin_write().await?;
        let now = now_ms();
        sqlx::query("UPDATE nwc_requests SET answered_at = ? WHERE event_id = ?")
            .bind(now)
            .bind(event_id)
            .execute(&mut *tx)
            .await?;
        let mut seqs = Vec::with_capacity(events.len());
        for event in events {
            seqs.push(queue(&mut tx, key_id, event, now).await?);
        }
        tx.commit().await?;
        Ok(seqs)
    }

    /// Requests recorded but never answered, oldest first.
    pub async fn unanswered(&self) -> Result<Vec<Unanswered>> {
        Ok(sqlx::query_as(
            "SELECT event_id, key_id, request, received_at FROM nwc_requests
             WHERE answered_at IS NULL ORDER BY received_at",
        )
        .fetch_all(self.store.pool())
        .await?)
    }

    /// The last event-log `seq` already turned into notifications (0 at first: then the
    /// service starts from the log's end, not its beginning).
    pub async fn notified(&self) -> Result<Option<i64>> {
        Ok(self
            .store
            .setting(NOTIFIED_SETTING)
            .await?
            .and_then(|s| s.parse().ok()))
    }

    /// Queues the notifications for the event-log entry `seq` and moves the cursor past it, in
    /// one transaction: each logged payment is told once.
    pub async fn notify(&self, seq: i64, events: &[(String, String)]) -> Result<()> {
        let mut tx = self.store.begin_write().await?;
        let now = now_ms();
        for (key_id, event) in events {
            queue(&mut tx, key_id, event, now).await?;
        }
        sqlx::query(
            "INSERT INTO settings (name, value) VALUES (?, ?)
             ON CONFLICT(name) DO UPDATE SET value = excluded.value",
        )
        .bind(NOTIFIED_SETTING)
        .bind(seq.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Events owed and due for a try now, oldest first (ones owed for longer than an hour are
    /// given up).
    pub async fn owed(&self, limit: i64) -> Result<Vec<Owed>> {
        let now = now_ms();
        Ok(sqlx::query_as(
            "SELECT seq, key_id, event, attempts, created_at FROM nwc_outbox
             WHERE sent_at IS NULL AND next_attempt_at <= ? AND created_at > ?
             ORDER BY seq LIMIT ?",
        )
        .bind(now)
        .bind(now - OWED_FOR_MS)
        .bind(limit)
        .fetch_all(self.store.pool())
        .await?)
    }

    /// How many events are owed.
    pub async fn owed_count(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM nwc_outbox WHERE sent_at IS NULL AND created_at > ?",
        )
        .bind(now_ms() - OWED_FOR_MS)
        .fetch_one(self.store.pool())
        .await?;
        Ok(n.max(0) as u64)
    }

    /// A relay took the event.
    pub async fn sent(&self, seq: i64) -> Result<()> {
        sqlx::query("UPDATE nwc_outbox SET sent_at = ?, last_error = NULL WHERE seq = ?")
            .bind(now_ms())
            .bind(seq)
            .execute(self.store.pool())
            .await?;
        Ok(())
    }

    /// No relay took it this time; it stays owed, tried again after 1 s, 2 s, 4 s… up to a
    /// minute.
    pub async fn failed(&self, seq: i64, attempts: i64, error: &str) -> Result<()> {
        let wait = 1000i64
            .checked_shl(attempts.clamp(0, 16) as u32)
            .unwrap_or(MAX_RETRY_MS)
            .min(MAX_RETRY_MS);
        sqlx::query(
            "UPDATE nwc_outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?
             WHERE seq = ?",
        )
        .bind(error)
        .bind(now_ms() + wait)
        .bind(seq)
        .execute(self.store.pool())
        .await?;
        Ok(())
    }

    /// Drops what is owed to a connection that was revoked (nobody may read it any more).
    pub async fn drop_owed_to(&self, key_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM nwc_outbox WHERE key_id = ? AND sent_at IS NULL")
            .bind(key_id)
            .execute(self.store.pool())
            .await?;
        Ok(())
    }

    /// Forgets requests and sent events older than a week.
    pub async fn prune(&self) -> Result<()> {
        let before = now_ms() - KEEP_MS;
        sqlx::query("DELETE FROM nwc_requests WHERE received_at < ? AND answered_at IS NOT NULL")
            .bind(before)
            .execute(self.store.pool())
            .await?;
        sqlx::query(
            "DELETE FROM nwc_outbox WHERE (created_at < ? AND sent_at IS NOT NULL) OR created_at < ?",
        )
        .bind(before)
        .bind(now_ms() - OWED_FOR_MS)
        .execute(self.store.pool())
        .await?;
        Ok(())
    }
}

async fn queue(
    tx: &mut sqlx::SqliteConnection,
    key_id: &str,
    event: &str,
    now: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO nwc_outbox (key_id, event, created_at) VALUES (?, ?, ?) RETURNING seq",
    )
    .bind(key_id)
    .bind(event)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?)
}
