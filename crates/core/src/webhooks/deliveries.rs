//! The webhook outbox: one row per (event, endpoint), written in the event's own transaction, and
//! one row per attempt. The dispatcher reads due rows from here, so a restart resumes exactly
//! where the last run stopped: nothing is kept only in memory.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::{Row, SqliteConnection};

use crate::error::{Error, Result};
use crate::events::EventRecord;
use crate::store::Store;
use crate::util::{new_id, now_ms, rfc3339};

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
    pub event: String,
    /// `pending` (will be tried at `next_attempt_at`, or once its endpoint is enabled again),
    /// `succeeded`, or `failed` (the retry schedule was used up).
    pub status: String,
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
#[derive(Debug, Clone)]
pub(crate) struct Due {
    pub id: String,
    pub webhook_id: String,
    pub url: String,
    pub event_id: String,
    pub event_type: String,
    pub body: String,
    pub step: i64,
}

/// Queues `record` for every endpoint whose filter takes it, enabled or not, inside the event's
/// transaction: a disabled endpoint's deliveries wait for it to be enabled again. Returns how many
/// deliveries were queued.
pub(crate) async fn fan_out(tx: &mut SqliteConnection, record: &EventRecord) -> Result<u64> {
    let body = serde_json::to_string(record)
        .map_err(|e| Error::Node(format!("cannot serialise event: {e}")))?;
    let done = sqlx::query(
        "INSERT INTO webhook_deliveries
             (id, webhook_id, event_id, event_type, body, state, next_attempt_at, created_at)
         SELECT 'whd_' || lower(hex(randomblob(10))), id, ?1, ?2, ?3, 'pending', ?4, ?4
         FROM webhooks
         WHERE events = '*' OR instr(',' || events || ',', ',' || ?2 || ',') > 0
         ORDER BY seq",
    )
    .bind(&record.id)
    .bind(&record.event)
    .bind(&body)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    Ok(done.rows_affected())
}

/// Queues a signed `webhook.test` event for one endpoint (not in the event log: it is about the
/// endpoint, not the shop). Returns the delivery's id.
pub(crate) async fn queue_test(store: &Store, webhook_id: &str) -> Result<String> {
    let now = now_ms();
    let event_id = new_id("evt");
    let body = serde_json::json!({
        "id": event_id,
        "seq": null,
        "event": "webhook.test",
        "timestamp": rfc3339(now),
        "webhook_id": webhook_id,
        "message": "A test event from PayAiML Merchant. Verify its signature as you would a payment's.",
    })
    .to_string();
    let id = new_id("whd");
    let done = sqlx::query(
        "INSERT INTO webhook_deliveries
             (id, webhook_id, event_id, event_type, body, state, next_attempt_at, created_at)
         SELECT ?, id, ?, 'webhook.test', ?, 'pending', ?, ? FROM webhooks WHERE id = ?",
    )
    .bind(&id)
    .bind(&event_id)
    .bind(&body)
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
    let row = sqlx::query(
        "SELECT w.status FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
         WHERE d.id = ?",
    )
    .bind(id)
    .fetch_optional(store.pool())
    .await?
    .ok_or_else(|| not_found(id))?;
    let status: String = row.try_get("status")?;
    if status != "enabled" {
        return Err(Error::unprocessable(
            "webhook_disabled",
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

const COLUMNS: &str = "seq, id, webhook_id, event_id, event_type, body, state, attempts, \
     next_attempt_at, last_status, last_error, created_at, delivered_at";

/// One delivery with its attempts.
pub async fn get(store: &Store, id: &str) -> Result<Delivery> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM webhook_deliveries WHERE id = ?"
    ))
    .bind(id)
    .fetch_optional(store.pool())
    .await?
    .ok_or_else(|| not_found(id))?;
    let mut delivery = from_row(&row)?;
    delivery.attempts = attempts(store, &delivery.id).await?;
    Ok(delivery)
}

/// An endpoint's deliveries, newest first: those with `seq < before` (all if `None`), at most
/// `limit`. Returns them with each one's `seq`, the cursor for the next page.
pub async fn list(
    store: &Store,
    webhook_id: &str,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<(i64, Delivery)>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM webhook_deliveries WHERE webhook_id = ? AND seq < ?
         ORDER BY seq DESC LIMIT ?"
    ))
    .bind(webhook_id)
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    let Some(oldest) = rows
        .last()
        .map(|r| r.try_get::<i64, _>("seq"))
        .transpose()?
    else {
        return Ok(Vec::new());
    };
    // Every attempt of the page in one query, not one per delivery.
    let attempt_rows = sqlx::query(
        "SELECT a.delivery_id, a.attempted_at, a.status, a.latency_ms, a.response, a.error
         FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
         WHERE d.webhook_id = ? AND d.seq < ? AND d.seq >= ? ORDER BY a.seq",
    )
    .bind(webhook_id)
    .bind(before.unwrap_or(i64::MAX))
    .bind(oldest)
    .fetch_all(store.pool())
    .await?;
    let mut by_delivery: HashMap<String, Vec<Attempt>> = HashMap::new();
    for row in &attempt_rows {
        by_delivery
            .entry(row.try_get("delivery_id")?)
            .or_default()
            .push(attempt_from_row(row)?);
    }
    rows.iter()
        .map(|row| {
            let mut delivery = from_row(row)?;
            delivery.attempts = by_delivery.remove(&delivery.id).unwrap_or_default();
            Ok((row.try_get("seq")?, delivery))
        })
        .collect()
}

async fn attempts(store: &Store, delivery_id: &str) -> Result<Vec<Attempt>> {
    let rows = sqlx::query(
        "SELECT attempted_at, status, latency_ms, response, error FROM webhook_attempts
         WHERE delivery_id = ? ORDER BY seq",
    )
    .bind(delivery_id)
    .fetch_all(store.pool())
    .await?;
    rows.iter().map(attempt_from_row).collect()
}

fn attempt_from_row(r: &sqlx::sqlite::SqliteRow) -> Result<Attempt> {
    let status: Option<i64> = r.try_get("status")?;
    Ok(Attempt {
        attempted_at: rfc3339(r.try_get("attempted_at")?),
        status_code: status.and_then(|s| u16::try_from(s).ok()),
        latency_ms: r.try_get("latency_ms")?,
        response: r.try_get("response")?,
        error: r.try_get("error")?,
    })
}

fn from_row(row: &sqlx::sqlite::SqliteRow) -> Result<Delivery> {
    let body: String = row.try_get("body")?;
    let next: Option<i64> = row.try_get("next_attempt_at")?;
    let delivered: Option<i64> = row.try_get("delivered_at")?;
    let last_status: Option<i64> = row.try_get("last_status")?;
    let state: String = row.try_get("state")?;
    Ok(Delivery {
        id: row.try_get("id")?,
        webhook_id: row.try_get("webhook_id")?,
        event_id: row.try_get("event_id")?,
        event: row.try_get("event_type")?,
        next_attempt_at: if state == "pending" {
            next.map(rfc3339)
        } else {
            None
        },
        status: state,
        attempt_count: row.try_get("attempts")?,
        last_status_code: last_status.and_then(|s| u16::try_from(s).ok()),
        last_error: row.try_get("last_error")?,
        created_at: rfc3339(row.try_get("created_at")?),
        delivered_at: delivered.map(rfc3339),
        attempts: Vec::new(),
        payload: serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
    })
}

/// Pending deliveries of enabled endpoints that are due at `now`, oldest event first.
pub(crate) async fn due(store: &Store, now: i64, limit: i64) -> Result<Vec<Due>> {
    let rows = sqlx::query(
        "SELECT d.id, d.webhook_id, w.url, d.event_id, d.event_type, d.body, d.schedule_step
         FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
         WHERE d.state = 'pending' AND d.next_attempt_at <= ? AND w.status = 'enabled'
         ORDER BY d.next_attempt_at, d.seq LIMIT ?",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Due {
                id: r.try_get("id")?,
                webhook_id: r.try_get("webhook_id")?,
                url: r.try_get("url")?,
                event_id: r.try_get("event_id")?,
                event_type: r.try_get("event_type")?,
                body: r.try_get("body")?,
                step: r.try_get("schedule_step")?,
            })
        })
        .collect()
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
    let (state, next_at, delivered_at, step) = match next {
        Next::Delivered => ("succeeded", None, Some(now_ms()), 1),
        Next::RetryAt(at) => ("pending", Some(at), None, 1),
        // A test event is about that one attempt only.
        Next::Disable if due.event_type == "webhook.test" => ("failed", None, None, 1),
        // Due at once, but not taken while the endpoint is disabled; enabling sends it first.
        Next::Disable => ("pending", Some(outcome.attempted_at), None, 0),
        Next::GiveUp => ("failed", None, None, 1),
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
        let paid = crate::events::append(&mut tx, "payment.received", "k1", serde_json::json!({}))
            .await?
            .expect("appended");
        crate::events::append(&mut tx, "invoice.expired", "k2", serde_json::json!({})).await?;
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
                let r =
                    crate::events::append(&mut tx, "payment.received", key, serde_json::json!({}))
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
        assert_eq!(hooks.get(&hook.id).await?.status, "disabled");
        let gone_delivery = get(&store, &first[0].id).await?;
        assert_eq!(
            (gone_delivery.status.as_str(), gone_delivery.attempt_count),
            ("pending", 1)
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
