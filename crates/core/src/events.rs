//! The durable event log: every state change that shop software may care about becomes one row
//! with a monotonic `seq`, written in the same transaction as the change itself. Webhooks and the
//! WebSocket stream read from here; a replayed node event finds its `dedupe_key` taken and adds
//! nothing. Appending also queues the event for every webhook endpoint that wants it, in the same
//! transaction (the outbox), so an event can never be logged but owed to nobody.

use serde::{Deserialize, Serialize};
use sqlx::SqliteConnection;
use tokio::sync::broadcast;

use crate::error::{Error, Result};
use crate::store::Store;
use crate::util::{new_id, now_ms, rfc3339};

/// What happened. Stored in the log's `type` column and sent as `event` by its dotted name.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema,
)]
pub enum EventKind {
    /// An invoice (or a payment to this node without one) was paid.
    #[serde(rename = "payment.received")]
    #[sqlx(rename = "payment.received")]
    PaymentReceived,
    /// An outgoing payment succeeded.
    #[serde(rename = "payment.sent")]
    #[sqlx(rename = "payment.sent")]
    PaymentSent,
    /// An outgoing payment failed.
    #[serde(rename = "payment.failed")]
    #[sqlx(rename = "payment.failed")]
    PaymentFailed,
    /// A refund of a paid invoice reached the customer (after its `payment.sent`).
    #[serde(rename = "payment.refunded")]
    #[sqlx(rename = "payment.refunded")]
    PaymentRefunded,
    /// An invoice's time ran out unpaid.
    #[serde(rename = "invoice.expired")]
    #[sqlx(rename = "invoice.expired")]
    InvoiceExpired,
    /// A channel became usable.
    #[serde(rename = "channel.opened")]
    #[sqlx(rename = "channel.opened")]
    ChannelOpened,
    /// A channel closed.
    #[serde(rename = "channel.closed")]
    #[sqlx(rename = "channel.closed")]
    ChannelClosed,
    /// A test sent to one webhook endpoint by hand; never in the log, only delivered.
    #[serde(rename = "webhook.test")]
    #[sqlx(rename = "webhook.test")]
    WebhookTest,
    /// An invoice made through the Greenfield-compatible API; never in the log, only delivered
    /// to BTCPay-format endpoints (as `InvoiceCreated`).
    #[serde(rename = "invoice.created")]
    #[sqlx(rename = "invoice.created")]
    InvoiceCreated,
    /// An invoice marked settled or invalid by hand through the Greenfield-compatible API; never
    /// in the log, only delivered to BTCPay-format endpoints (`InvoiceSettled`, `InvoiceInvalid`).
    #[serde(rename = "invoice.marked")]
    #[sqlx(rename = "invoice.marked")]
    InvoiceMarked,
    /// A till sale was paid in cash or by card (`POST /v1/sales`).
    #[serde(rename = "sale.completed")]
    #[sqlx(rename = "sale.completed")]
    SaleCompleted,
    /// Money of a cash or card sale was handed back.
    #[serde(rename = "sale.refunded")]
    #[sqlx(rename = "sale.refunded")]
    SaleRefunded,
}

impl EventKind {
    /// The kinds the log records (and webhook endpoints may subscribe to).
    pub const LOGGED: [EventKind; 9] = [
        EventKind::PaymentReceived,
        EventKind::PaymentSent,
        EventKind::PaymentFailed,
        EventKind::PaymentRefunded,
        EventKind::InvoiceExpired,
        EventKind::ChannelOpened,
        EventKind::ChannelClosed,
        EventKind::SaleCompleted,
        EventKind::SaleRefunded,
    ];

    /// The dotted name, e.g. `payment.received`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::PaymentReceived => "payment.received",
            EventKind::PaymentSent => "payment.sent",
            EventKind::PaymentFailed => "payment.failed",
            EventKind::PaymentRefunded => "payment.refunded",
            EventKind::InvoiceExpired => "invoice.expired",
            EventKind::ChannelOpened => "channel.opened",
            EventKind::ChannelClosed => "channel.closed",
            EventKind::WebhookTest => "webhook.test",
            EventKind::InvoiceCreated => "invoice.created",
            EventKind::InvoiceMarked => "invoice.marked",
            EventKind::SaleCompleted => "sale.completed",
            EventKind::SaleRefunded => "sale.refunded",
        }
    }

    /// The logged kind with this dotted name.
    pub fn logged(name: &str) -> Option<EventKind> {
        EventKind::LOGGED.into_iter().find(|k| k.as_str() == name)
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One logged event as clients see it: `{id, seq, event, timestamp, ...payload}`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventRecord {
    /// `evt_…`
    pub id: String,
    /// Position in the log, strictly increasing.
    pub seq: i64,
    /// The event type, e.g. `payment.received`.
    pub event: EventKind,
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
    event: EventKind,
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
        event,
        timestamp: rfc3339(now),
        payload: as_map(payload),
    };
    fan_out(tx, &record).await?;
    Ok(Some(record))
}

/// The outbox: queues `record` for every webhook endpoint that wants it, inside the transaction
/// that logs it: as it is for our own endpoints, as the BTCPay events it stands for for
/// BTCPay-format ones ([`crate::btcpay`]). Returns how many deliveries were queued. (The
/// webhooks domain sends them; the log only promises that none is owed to nobody.)
async fn fan_out(tx: &mut SqliteConnection, record: &EventRecord) -> Result<u64> {
    let body = serde_json::to_string(record)
        .map_err(|e| Error::Node(format!("cannot serialise event: {e}")))?;
    let done = sqlx::query(
        "INSERT INTO webhook_deliveries
             (id, webhook_id, event_id, event_type, body, state, next_attempt_at, created_at)
         SELECT 'whd_' || lower(hex(randomblob(10))), id, ?1, ?2, ?3, 'pending', ?4, ?4
         FROM webhooks
         WHERE format = 'payaiml'
           AND (events = '*' OR instr(',' || events || ',', ',' || ?2 || ',') > 0)
         ORDER BY seq",
    )
    .bind(&record.id)
    .bind(record.event)
    .bind(&body)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    let btcpay =
        crate::btcpay::fan_out_logged(tx, record.event.as_str(), &record.id, &record.payload)
            .await?;
    // The printers' tickets of a till sale, owed from the same moment as its webhooks.
    crate::print_queue::on_event(tx, record.event.as_str(), &record.payload).await?;
    Ok(done.rows_affected() + btcpay)
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

/// The event log as the front doors read it: pages of it, its newest end, and the live feed.
pub struct Events<'a> {
    store: &'a Store,
    live: &'a broadcast::Sender<EventRecord>,
}

impl<'a> Events<'a> {
    pub(crate) fn new(store: &'a Store, live: &'a broadcast::Sender<EventRecord>) -> Self {
        Events { store, live }
    }

    /// The newest event's `seq`, 0 for an empty log.
    pub async fn latest(&self) -> Result<i64> {
        latest(self.store).await
    }

    /// Events with `seq > after`, oldest first, at most `limit`.
    pub async fn list(&self, after: i64, limit: i64) -> Result<Vec<EventRecord>> {
        list(self.store, after, limit).await
    }

    /// The newest `n` events, oldest first (for "recent activity").
    pub async fn tail(&self, n: i64) -> Result<Vec<EventRecord>> {
        tail(self.store, n).await
    }

    /// Events as they are committed, from now on (a slow reader misses some and is told so:
    /// it then reads them from the log).
    pub fn subscribe(&self) -> broadcast::Receiver<EventRecord> {
        self.live.subscribe()
    }
}

/// The columns of a logged event, in [`EventRow`]'s order.
const COLUMNS: &str = "seq, id, type, payload, created_at";

#[derive(sqlx::FromRow)]
struct EventRow {
    seq: i64,
    id: String,
    #[sqlx(rename = "type")]
    kind: EventKind,
    payload: String,
    created_at: i64,
}

impl From<EventRow> for EventRecord {
    fn from(row: EventRow) -> Self {
        EventRecord {
            id: row.id,
            seq: row.seq,
            event: row.kind,
            timestamp: rfc3339(row.created_at),
            payload: as_map(serde_json::from_str(&row.payload).unwrap_or(serde_json::Value::Null)),
        }
    }
}

pub(crate) async fn latest(store: &Store) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events")
            .fetch_one(store.pool())
            .await?,
    )
}

pub(crate) async fn list(store: &Store, after: i64, limit: i64) -> Result<Vec<EventRecord>> {
    let rows: Vec<EventRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?"
    ))
    .bind(after)
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    Ok(rows.into_iter().map(EventRecord::from).collect())
}

pub(crate) async fn tail(store: &Store, n: i64) -> Result<Vec<EventRecord>> {
    let mut rows: Vec<EventRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM events ORDER BY seq DESC LIMIT ?"
    ))
    .bind(n)
    .fetch_all(store.pool())
    .await?;
    rows.reverse();
    Ok(rows.into_iter().map(EventRecord::from).collect())
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
            EventKind::PaymentReceived,
            "a",
            serde_json::json!({"amount": 1}),
        )
        .await?;
        let replay = append(
            &mut tx,
            EventKind::PaymentReceived,
            "a",
            serde_json::json!({"amount": 1}),
        )
        .await?;
        let second = append(
            &mut tx,
            EventKind::PaymentSent,
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
