//! The webhook outbox: one row per (event, endpoint), written in the event's own transaction, and
//! one row per attempt. The dispatcher reads due rows from here, so a restart resumes exactly
//! where the last run stopped: nothing is kept only in memory.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::EndpointStatus;
use crate::error::{Error, ErrorCode, Result};
use crate::events::EventKind;
use crate::store::{Sequenced, Store};
use crate::util::{new_id, now_ms, rfc3339};

/// Where a delivery stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
#[sqlx(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Will be tried at `next_attempt_at` (or once its endpoint is enabled again).
    Pending,
    /// A 2xx answer was received.
    Succeeded,
    /// The retry schedule was used up (or a test's one attempt failed).
    Failed,
}

/// One attempt to deliver.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Attempt {
    /// When it was made.
    pub attempted_at: String,
    /// The HTTP status the receiver answered, if it answered.
    pub status_code: Option<u16>,
    /// Time until the answer (or the error), in milliseconds.
    pub latency_ms: i64,
    /// The first bytes of the answer's body.
    pub response: Option<String>,
    /// What went wrong without an answer: timeout, connection refused, …
    pub error: Option<String>,
}

/// One event owed to one endpoint.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    /// `whd_…`
    pub id: String,
    /// The endpoint.
    pub webhook_id: String,
    /// The event's id (`evt_…`), also sent as `PayAiML-Event-Id`.
    pub event_id: String,
    /// The event's type.
    pub event: EventKind,
    /// `pending` (will be tried at `next_attempt_at`, or once its endpoint is enabled again),
    /// `succeeded`, or `failed` (the retry schedule was used up).
    pub status: DeliveryStatus,
    /// How many attempts were made.
    pub attempt_count: i64,
    /// When the next attempt is due, if one is planned.
    pub next_attempt_at: Option<String>,
    /// The last HTTP status received.
    pub last_status_code: Option<u16>,
    /// The last error without an answer.
    pub last_error: Option<String>,
    /// When the event was queued for this endpoint.
    pub created_at: String,
    /// When a 2xx answer was received.
    pub delivered_at: Option<String>,
    /// Every attempt, oldest first.
    pub attempts: Vec<Attempt>,
    /// The exact JSON body that is signed and sent.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

/// A due delivery, as the dispatcher needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Due {
    pub id: String,
    pub webhook_id: String,
    pub url: String,
    pub event_id: String,
    pub event_type: EventKind,
    pub body: String,
    #[sqlx(rename = "schedule_step")]
    pub step: i64,
    /// The endpoint's format: ours, or BTCPay's (signed with `BTCPay-Sig`).
    pub format: super::WebhookFormat,
    /// Whether a failed attempt is retried on the schedule (BTCPay's `automaticRedelivery`).
    pub auto_redeliver: bool,
}

/// Queues a signed `webhook.test` event for one endpoint (not in the event log: it is about the
/// endpoint, not the shop). Returns the delivery's id.
pub(crate) async fn queue_test(store: &Store, webhook_id: &str) -> Result<String> {
    let now = now_ms();
    let event_id = new_id("evt");
    let body = serde_json::json!({
        "id": event_id,
        "seq": null,
        "event": EventKind::WebhookTest,
        "timestamp": rfc3339(now),
        "webhook_id": webhook_id,
        "message": "A test event from PayAiML Merchant. Verify its signature as you would a payment's.",
    })
    .to_string();
    let id = new_id("whd");
    let done = sqlx::query(
        "INSERT INTO webhook_deliveries
             (id, webhook_id, event_id, event_type, body, state, next_attempt_at, created_at)
         SELECT ?, id, ?, ?, ?, ?, ?, ? FROM webhooks WHERE id = ?",
    )
    .bind(&id)
    .bind(&event_id)
    .bind(EventKind::WebhookTest)
    .bind(&body)
    .bind(DeliveryStatus::Pending)
    .bind(now)
    .bind(now)
    .bind(webhook_id)
    .execute(store.pool())
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound {
            kind: "webhook",
            id: webhook_id.to_string(),
        });
    }
    Ok(id)
}

/// Puts a delivery back in the queue, due now, with a fresh backoff schedule.
pub(crate) async fn requeue(store: &Store, id: &str) -> Result<()> {
    let status: EndpointStatus = sqlx::query_scalar(
        "SELECT w.status FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
         WHERE d.id = ?",
    )
    .bind(id)
    .fetch_optional(store.pool())
    .await?
    .ok_or_else(|| not_found(id))?;
    if status != EndpointStatus::Enabled {
        return Err(Error::unprocessable(
            ErrorCode::WebhookDisabled,
            None,
            "this delivery's endpoint is disabled; enable it (POST /v1/webhooks/{id}/enable) first",
        ));
    }
    sqlx::query(
        "UPDATE webhook_deliveries SET state = 'pending', schedule_step = 0, next_attempt_at = ?
         WHERE id = ?",
    )
    .bind(now_ms())
    .bind(id)
    .execute(store.pool())
    .await?;
    Ok(())
}

fn not_found(id: &str) -> Error {
    Error::NotFound {
        kind: "delivery",
        id: id.to_string(),
    }
}

/// The columns of a delivery, in [`DeliveryRow`]'s order.
const COLUMNS: &str = "seq, id, webhook_id, event_id, event_type, body, state, attempts, \
     next_attempt_at, last_status, last_error, created_at, delivered_at";

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    seq: i64,
    id: String,
    webhook_id: String,
    event_id: String,
    event_type: EventKind,
    body: String,
    state: DeliveryStatus,
    attempts: i64,
    next_attempt_at: Option<i64>,
    last_status: Option<i64>,
    last_error: Option<String>,
    created_at: i64,
    delivered_at: Option<i64>,
}

impl Sequenced for DeliveryRow {
    fn seq(&self) -> i64 {
        self.seq
    }
}

impl DeliveryRow {
    fn into_delivery(self, attempts: Vec<Attempt>) -> Delivery {
        Delivery {
            id: self.id,
            webhook_id: self.webhook_id,
            event_id: self.event_id,
            event: self.event_type,
            next_attempt_at: if self.state == DeliveryStatus::Pending {
                self.next_attempt_at.map(rfc3339)
            } else {
                None
            },
            status: self.state,
            attempt_count: self.attempts,
            last_status_code: self.last_status.and_then(|s| u16::try_from(s).ok()),
            last_error: self.last_error,
            created_at: rfc3339(self.created_at),
            delivered_at: self.delivered_at.map(rfc3339),
            attempts,
            payload: serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null),
        }
    }
}

/// The columns of an attempt, in [`AttemptRow`]'s order.
const ATTEMPT_COLUMNS: &str =
    "a.delivery_id, a.attempted_at, a.status, a.latency_ms, a.response, a.error";

#[derive(sqlx::FromRow)]
struct AttemptRow {
    delivery_id: String,
    attempted_at: i64,
    status: Option<i64>,
    latency_ms: i64,
    response: Option<String>,
    error: Option<String>,
}

impl From<AttemptRow> for Attempt {
    fn from(r: AttemptRow) -> Self {
        Attempt {
            attempted_at: rfc3339(r.attempted_at),
            status_code: r.status.and_then(|s| u16::try_from(s).ok()),
            latency_ms: r.latency_ms,
            response: r.response,
            error: r.error,
        }
    }
}

/// One delivery with its attempts.
pub(crate) async fn get(store: &Store, id: &str) -> Result<Delivery> {
    let row: DeliveryRow = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM webhook_deliveries WHERE id = ?"
    ))
    .bind(id)
    .fetch_optional(store.pool())
    .await?
    .ok_or_else(|| not_found(id))?;
    let attempts: Vec<AttemptRow> = sqlx::query_as(&format!(
        "SELECT {ATTEMPT_COLUMNS} FROM webhook_attempts a WHERE a.delivery_id = ? ORDER BY a.seq"
    ))
    .bind(&row.id)
    .fetch_all(store.pool())
    .await?;
    Ok(row.into_delivery(attempts.into_iter().map(Attempt::from).collect()))
}

/// An endpoint's deliveries, newest first: those with `seq < before` (all if `None`), at most
/// `limit`. Returns them with each one's `seq`, the cursor for the next page.
pub(crate) async fn list(
    store: &Store,
    webhook_id: &str,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<(i64, Delivery)>> {
    let rows: Vec<DeliveryRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM webhook_deliveries WHERE webhook_id = ? AND seq < ?
         ORDER BY seq DESC LIMIT ?"
    ))
    .bind(webhook_id)
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    let Some(oldest) = rows.last().map(Sequenced::seq) else {
        return Ok(Vec::new());
    };
    // Every attempt of the page in one query, not one per delivery.
    let attempt_rows: Vec<AttemptRow> = sqlx::query_as(&format!(
        "SELECT {ATTEMPT_COLUMNS}
         FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
         WHERE d.webhook_id = ? AND d.seq < ? AND d.seq >= ? ORDER BY a.seq"
    ))
    .bind(webhook_id)
    .bind(before.unwrap_or(i64::MAX))
    .bind(oldest)
    .fetch_all(store.pool())
    .await?;
    let mut by_delivery: HashMap<String, Vec<Attempt>> = HashMap::new();
    for row in attempt_rows {
        by_delivery
            .entry(row.delivery_id.clone())
            .or_default()
            .push(row.into());
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let attempts = by_delivery.remove(&row.id).unwrap_or_default();
            (row.seq, row.into_delivery(attempts))
        })
        .collect())
}

/// Pending deliveries of enabled endpoints that are due at `now`, oldest event first.
pub(crate) async fn due(store: &Store, now: i64, limit: i64) -> Result<Vec<Due>> {
    Ok(sqlx::query_as(
        "SELECT d.id, d.webhook_id, w.url, d.event_id, d.event_type, d.body, d.schedule_step,
                w.format, w.auto_redeliver
         FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
         WHERE d.state = 'pending' AND d.next_attempt_at <= ? AND w.status = 'enabled'
         ORDER BY d.next_attempt_at, d.seq LIMIT ?",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(store.pool())
    .await?)
}

/// When the earliest pending delivery of an enabled endpoint is due.
pub(crate) async fn next_due(store: &Store) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT MIN(d.next_attempt_at) FROM webhook_deliveries d
         JOIN webhooks w ON w.id = d.webhook_id
         WHERE d.state = 'pending' AND w.status = 'enabled'",
    )
    .fetch_one(store.pool())
    .await?)
}

/// Deletes finished (succeeded or given-up) deliveries created before `before`, with their
/// attempts. Pending ones are kept whatever their age. Returns how many were deleted.
pub(crate) async fn prune(store: &Store, before: i64) -> Result<u64> {
    let done =
        sqlx::query("DELETE FROM webhook_deliveries WHERE state != 'pending' AND created_at < ?")
            .bind(before)
            .execute(store.pool())
            .await?;
    Ok(done.rows_affected())
}

/// What one attempt found.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub attempted_at: i64,
    pub status: Option<u16>,
    pub latency_ms: i64,
    pub response: Option<String>,
    pub error: Option<String>,
}

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// 2xx: done.
    Delivered,
    /// Try again at this time (unix ms).
    RetryAt(i64),
    /// The schedule is used up.
    GiveUp,
    /// `410 Gone`: the endpoint asked to be disabled. The delivery stays pending and goes out
    /// again, first, when the endpoint is enabled.
    Disable,
}

/// Records an attempt and its consequence in one transaction. A delivery whose endpoint was
/// deleted while the attempt was in flight is gone with it: nothing is recorded then.
pub(crate) async fn record(store: &Store, due: &Due, outcome: &Outcome, next: Next) -> Result<()> {
    let mut tx = store.pool().begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO webhook_attempts (delivery_id, attempted_at, status, latency_ms, response, error)
         SELECT id, ?2, ?3, ?4, ?5, ?6 FROM webhook_deliveries WHERE id = ?1",
    )
    .bind(&due.id)
    .bind(outcome.attempted_at)
    .bind(outcome.status.map(i64::from))
    .bind(outcome.latency_ms)
    .bind(&outcome.response)
    .bind(&outcome.error)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Ok(());
    }
    use DeliveryStatus::{Failed, Pending, Succeeded};
    let (state, next_at, delivered_at, step) = match next {
        Next::Delivered => (Succeeded, None, Some(now_ms()), 1),
        Next::RetryAt(at) => (Pending, Some(at), None, 1),
        // A test event is about that one attempt only.
        Next::Disable if due.event_type == EventKind::WebhookTest => (Failed, None, None, 1),
        // Due at once, but not taken while the endpoint is disabled; enabling sends it first.
        Next::Disable => (Pending, Some(outcome.attempted_at), None, 0),
        Next::GiveUp => (Failed, None, None, 1),
    };
    sqlx::query(
        "UPDATE webhook_deliveries SET state = ?, attempts = attempts + 1,
             schedule_step = schedule_step + ?, next_attempt_at = ?, last_status = ?,
             last_error = ?, delivered_at = COALESCE(?, delivered_at)
         WHERE id = ?",
    )
    .bind(state)
    .bind(step)
    .bind(next_at)
    .bind(outcome.status.map(i64::from))
    .bind(&outcome.error)
    .bind(delivered_at)
    .bind(&due.id)
    .execute(&mut *tx)
    .await?;
    if next == Next::Disable {
        sqlx::query(
            "UPDATE webhooks SET status = 'disabled', disabled_at = ?,
                 disabled_reason = 'the receiver answered 410 Gone'
             WHERE id = ? AND status = 'enabled'",
        )
        .bind(outcome.attempted_at)
        .bind(&due.webhook_id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::temp_store;

    #[tokio::test]
    async fn fan_out_follows_filters_and_prune_keeps_pending() -> Result<()> {
        let (_dir, store) = temp_store().await;
        for (id, events, status) in [
            ("wh_all", "*", "enabled"),
            ("wh_paid", "payment.received", "enabled"),
            ("wh_sent", "payment.sent,invoice.expired", "enabled"),
            ("wh_off", "*", "disabled"),
        ] {
            sqlx::query(
                "INSERT INTO webhooks (id, url, events, status, created_at) VALUES (?, 'http://x/', ?, ?, 0)",
            )
            .bind(id)
            .bind(events)
            .bind(status)
            .execute(store.pool())
            .await?;
        }
        let mut tx = store.pool().begin().await?;
        let paid = crate::events::append(
            &mut tx,
            EventKind::PaymentReceived,
            "k1",
            serde_json::json!({}),
        )
        .await?
        .expect("appended");
        crate::events::append(
            &mut tx,
            EventKind::InvoiceExpired,
            "k2",
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        let owed = |hook: &'static str| {
            let store = store.clone();
            async move {
                sqlx::query_scalar::<_, String>(
                    "SELECT event_type FROM webhook_deliveries WHERE webhook_id = ? ORDER BY seq",
                )
                .bind(hook)
                .fetch_all(store.pool())
                .await
            }
        };
        assert_eq!(
            owed("wh_all").await?,
            ["payment.received", "invoice.expired"]
        );
        assert_eq!(owed("wh_paid").await?, ["payment.received"]);
        assert_eq!(owed("wh_sent").await?, ["invoice.expired"]);
        assert_eq!(
            owed("wh_off").await?,
            ["payment.received", "invoice.expired"],
            "a disabled endpoint's events wait for it"
        );
        // The body sent is the event exactly as the log and the stream show it.
        let body: String =
            sqlx::query_scalar("SELECT body FROM webhook_deliveries WHERE webhook_id = 'wh_paid'")
                .fetch_one(store.pool())
                .await?;
        assert_eq!(body, serde_json::to_string(&paid).expect("json"));

        sqlx::query(
            "UPDATE webhook_deliveries SET state = 'succeeded' WHERE webhook_id = 'wh_all'",
        )
        .execute(store.pool())
        .await?;
        assert_eq!(prune(&store, now_ms() + 1).await?, 2);
        assert!(
            due(&store, now_ms() + 1, 100)
                .await?
                .iter()
                .all(|d| d.webhook_id != "wh_off"),
            "nothing is sent to a disabled endpoint"
        );
        assert_eq!(
            owed("wh_paid").await?.len(),
            1,
            "pending deliveries are never pruned"
        );
        Ok(())
    }
}

#[cfg(test)]
mod gone_tests {
    use super::*;
    use crate::secrets::SecretStore;
    use crate::store::test_support::temp_store;
    use crate::webhooks::{NewWebhook, Webhooks};

    /// A receiver that answers `410 Gone` once (during a deploy, say) loses nothing: its endpoint
    /// is disabled, events keep being queued for it, and enabling it sends all of them in order,
    /// starting with the one that got the 410.
    #[tokio::test]
    async fn gone_endpoint_keeps_its_events_until_enabled() -> Result<()> {
        let (dir, store) = temp_store().await;
        let secrets =
            SecretStore::open(crate::config::SecretsBackend::File, dir.path(), "t").await?;
        let hooks = Webhooks::new(store.clone(), secrets);
        let hook = hooks
            .create(NewWebhook {
                url: "http://127.0.0.1:9/hook".into(),
                ..NewWebhook::default()
            })
            .await?
            .webhook;
        let append = |key: &'static str| {
            let store = store.clone();
            async move {
                let mut tx = store.pool().begin().await?;
                let r = crate::events::append(
                    &mut tx,
                    EventKind::PaymentReceived,
                    key,
                    serde_json::json!({}),
                )
                .await?;
                tx.commit().await?;
                Ok::<_, Error>(r.map(|r| r.seq))
            }
        };
        append("p1").await?;
        let first = due(&store, now_ms(), 10).await?;
        assert_eq!(first.len(), 1);
        let gone = Outcome {
            attempted_at: now_ms(),
            status: Some(410),
            latency_ms: 1,
            response: None,
            error: None,
        };
        record(&store, &first[0], &gone, Next::Disable).await?;
        assert_eq!(
            hooks.get(&hook.id).await?.status,
            super::super::EndpointStatus::Disabled
        );
        let gone_delivery = get(&store, &first[0].id).await?;
        assert_eq!(
            (gone_delivery.status, gone_delivery.attempt_count),
            (DeliveryStatus::Pending, 1)
        );
        append("p2").await?;
        append("p3").await?;
        assert!(
            due(&store, now_ms() + 1, 10).await?.is_empty(),
            "not sent while disabled"
        );
        assert_eq!(next_due(&store).await?, None);

        hooks.set_enabled(&hook.id, true, None).await?;
        let resumed = due(&store, now_ms() + 1, 10).await?;
        let events: Vec<String> = resumed.iter().map(|d| d.event_id.clone()).collect();
        let logged: Vec<String> = crate::events::list(&store, 0, 10)
            .await?
            .into_iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(events, logged, "all three, the 410 one first, in seq order");
        assert!(resumed.iter().all(|d| d.step == 0));

        // Deleting the endpoint while an attempt is in flight: the attempt is dropped quietly.
        hooks.delete(&hook.id).await?;
        let ok = Outcome {
            status: Some(200),
            ..gone
        };
        record(&store, &resumed[0], &ok, Next::Delivered).await?;
        Ok(())
    }
}
