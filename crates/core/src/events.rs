//! The durable event log: every state change that shop software may care about becomes one row
//! with a monotonic `seq`, written in the same transaction as the change itself. Webhooks and the
//! WebSocket stream read from here; a replayed node event finds its `dedupe_key` taken and adds
//! nothing. Appending also queues the event for every webhook endpoint that wants it, in the same
//! transaction (the outbox), so an event can never be logged but owed to nobody.

use serde::Serialize;
use sqlx::{Row, SqliteConnection};

use crate::error::Result;
use crate::store::Store;
use crate::util::{new_id, now_ms, rfc3339};
use crate::webhooks::deliveries;

/// One logged event as clients see it: `{id, seq, event, timestamp, ...payload}`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventRecord {
    /// `evt_…`
    pub id: String,
    /// Position in the log, strictly increasing.
    pub seq: i64,
    /// The event type, e.g. `payment.received`.
    pub event: String,
    /// When it was recorded.
    pub timestamp: String,
    /// The type-specific fields, flattened into the object.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub payload: serde_json::Map<String, serde_json::Value>,
}

/// Appends an event inside the caller's transaction. Returns `None` if an event with the same
/// `dedupe_key` exists already (a replay).
pub(crate) async fn append(
    tx: &mut SqliteConnection,
    event: &str,
    dedupe_key: &str,
    payload: serde_json::Value,
) -> Result<Option<EventRecord>> {
    // Look before inserting: `INSERT … ON CONFLICT DO NOTHING` would still use up an
    // AUTOINCREMENT value, leaving a hole in `seq` that clients would read as a missed event.
    // Two writers racing on one key cannot both insert: the UNIQUE constraint fails the second,
    // whose caller retries and then finds the row.
    let replay: Option<i64> = sqlx::query_scalar("SELECT seq FROM events WHERE dedupe_key = ?")
        .bind(dedupe_key)
        .fetch_optional(&mut *tx)
        .await?;
    if replay.is_some() {
        return Ok(None);
    }
    let id = new_id("evt");
    let now = now_ms();
    let text = payload.to_string();
    let seq: i64 = sqlx::query_scalar(
        "INSERT INTO events (id, type, payload, dedupe_key, created_at) VALUES (?, ?, ?, ?, ?)
         RETURNING seq",
    )
    .bind(&id)
    .bind(event)
    .bind(&text)
    .bind(dedupe_key)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let record = EventRecord {
        id,
        seq,
        event: event.to_string(),
        timestamp: rfc3339(now),
        payload: as_map(payload),
    };
    deliveries::fan_out(tx, &record).await?;
    Ok(Some(record))
}

fn as_map(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    match value {
        serde_json::Value::Object(map) => map,
        other => {
            let mut map = serde_json::Map::new();
            map.insert("data".into(), other);
            map
        }
    }
}

/// The newest event's `seq`, 0 for an empty log.
pub async fn latest(store: &Store) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events")
            .fetch_one(store.pool())
            .await?,
    )
}

/// Events with `seq > after`, oldest first, at most `limit`.
pub async fn list(store: &Store, after: i64, limit: i64) -> Result<Vec<EventRecord>> {
    let rows = sqlx::query(
        "SELECT seq, id, type, payload, created_at FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    from_rows(&rows)
}

/// The newest `n` events, oldest first (for "recent activity").
pub async fn tail(store: &Store, n: i64) -> Result<Vec<EventRecord>> {
    let mut rows = sqlx::query(
        "SELECT seq, id, type, payload, created_at FROM events ORDER BY seq DESC LIMIT ?",
    )
    .bind(n)
    .fetch_all(store.pool())
    .await?;
    rows.reverse();
    from_rows(&rows)
}

fn from_rows(rows: &[sqlx::sqlite::SqliteRow]) -> Result<Vec<EventRecord>> {
    rows.iter()
        .map(|row| {
            let payload: String = row.try_get("payload")?;
            Ok(EventRecord {
                id: row.try_get("id")?,
                seq: row.try_get("seq")?,
                event: row.try_get("type")?,
                timestamp: rfc3339(row.try_get("created_at")?),
                payload: as_map(serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null)),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::temp_store;

    #[tokio::test]
    async fn append_is_idempotent_and_ordered() -> Result<()> {
        let (_dir, store) = temp_store().await;
        let mut tx = store.pool().begin().await?;
        let first = append(
            &mut tx,
            "payment.received",
            "a",
            serde_json::json!({"amount": 1}),
        )
        .await?;
        let replay = append(
            &mut tx,
            "payment.received",
            "a",
            serde_json::json!({"amount": 1}),
        )
        .await?;
        let second = append(
            &mut tx,
            "payment.sent",
            "b",
            serde_json::json!({"amount": 2}),
        )
        .await?;
        tx.commit().await?;
        assert!(replay.is_none());
        let (first, second) = (first.expect("first"), second.expect("second"));
        assert_eq!(second.seq, first.seq + 1, "a replay leaves no hole in seq");
        let all = list(&store, 0, 10).await?;
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].payload.get("amount"), Some(&serde_json::json!(1)));
        assert_eq!(list(&store, first.seq, 10).await?.len(), 1);
        let newest = tail(&store, 1).await?;
        assert_eq!(
            newest.iter().map(|e| e.seq).collect::<Vec<_>>(),
            [second.seq]
        );
        Ok(())
    }
}
