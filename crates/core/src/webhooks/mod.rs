//! Webhooks: the merchant's URLs that receive signed events, reached through [`Webhooks`]
//! (`app.webhooks()`). Here: the endpoints (rows in SQLite; each one's signing secret in the
//! secret store, shown once when the endpoint is created), their deliveries ([`deliveries`]: the
//! outbox rows the event log queues in the event's own transaction, and their attempts), and the
//! [`dispatcher`] task that sends them, signed and retried.

pub mod deliveries;
pub(crate) mod dispatcher;

pub use deliveries::{Delivery, DeliveryStatus};
pub use dispatcher::parse_schedule;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::btcpay::BtcpayEvent;
use crate::error::{Error, ErrorCode, Result};
use crate::events::EventKind;
use crate::secrets::SecretStore;
use crate::store::Store;
use crate::util::{new_id, now_ms, rfc3339};

/// Whether an endpoint is sent to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
#[sqlx(rename_all = "lowercase")]
pub enum EndpointStatus {
    /// Events are sent.
    Enabled,
    /// Events are queued and go out, in order, once it is enabled again.
    Disabled,
}

/// Whose conventions an endpoint's deliveries follow.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
#[sqlx(rename_all = "lowercase")]
pub enum WebhookFormat {
    /// Ours: the event as the log has it, `PayAiML-Signature` and Standard Webhooks headers.
    Payaiml,
    /// BTCPay Server's (registered through the Greenfield-compatible API): its event names and
    /// bodies, signed with `BTCPay-Sig`.
    Btcpay,
}

/// How long a test waits for its attempt: the request timeout plus a margin.
const TEST_WAIT: Duration = Duration::from_secs(12);

/// The longest URL accepted.
const MAX_URL_LEN: usize = 2048;
/// The longest description accepted.
const MAX_DESCRIPTION_LEN: usize = 200;

/// A webhook endpoint as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Webhook {
    /// `wh_…`
    pub id: String,
    /// Where events are POSTed.
    pub url: String,
    /// The event types sent here; `["*"]` means all.
    pub events: Vec<String>,
    /// The merchant's note about this endpoint.
    pub description: Option<String>,
    /// `enabled` or `disabled` (the receiver answered `410 Gone`, or the merchant disabled it).
    /// Events keep being queued for a disabled endpoint and go out, in order, once it is enabled.
    pub status: EndpointStatus,
    /// Why it was disabled.
    pub disabled_reason: Option<String>,
    /// When it was created.
    pub created_at: String,
    /// When it was disabled.
    pub disabled_at: Option<String>,
    /// How its deliveries are going: an endpoint can be `enabled` while every delivery fails.
    pub health: EndpointHealth,
    /// `payaiml` (ours), or `btcpay` for an endpoint a shop plugin registered through the
    /// Greenfield-compatible API: its `events` are then BTCPay's names, its deliveries BTCPay's
    /// bodies signed with `BTCPay-Sig`.
    pub format: WebhookFormat,
    /// Whether failed deliveries are retried on the schedule (always, but for a BTCPay-format
    /// endpoint registered with `automaticRedelivery: false`).
    pub auto_redeliver: bool,
}

/// How an endpoint's deliveries are going, from its attempts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EndpointHealth {
    /// Whether its latest attempt failed (no answer, or not 2xx): events are not reaching it.
    pub failing: bool,
    /// Attempts that failed since the last one that succeeded (or since it was created).
    pub failed_in_a_row: u64,
    /// What the latest failed attempt got ("HTTP 500", "could not connect: …"), when failing.
    pub last_error: Option<String>,
    /// When it was last attempted.
    pub last_attempt_at: Option<String>,
    /// When an attempt last succeeded.
    pub last_success_at: Option<String>,
}

/// A just-created endpoint with its signing secret, which is never shown again by the API.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedWebhook {
    /// The endpoint.
    #[serde(flatten)]
    pub webhook: Webhook,
    /// The signing secret (`whsec_…`).
    pub secret: String,
}

/// What a client sends to create an endpoint.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// An absolute `http` or `https` URL with a host, at most 2048 bytes.
    #[schema(
        format = "uri",
        max_length = 2048,
        pattern = "^[Hh][Tt][Tt][Pp][Ss]?://"
    )]
    pub url: String,
    /// Event types to send (see [`EventKind::LOGGED`]); omitted, empty or `["*"]` = all.
    #[serde(default)]
    #[schema(schema_with = event_filter_schema)]
    pub events: Vec<String>,
    /// A note for the merchant (at most 200 characters).
    #[serde(default)]
    #[schema(max_length = 200)]
    pub description: Option<String>,
}

/// `events` in the OpenAPI document: an array of the known event types or `*`.
fn event_filter_schema() -> utoipa::openapi::Array {
    let mut names: Vec<&str> = EventKind::LOGGED.iter().map(|k| k.as_str()).collect();
    names.push("*");
    utoipa::openapi::ArrayBuilder::new()
        .items(
            utoipa::openapi::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::String)
                .enum_values(Some(names)),
        )
        .build()
}

/// The endpoints and their deliveries. Cheap to clone.
#[derive(Clone)]
pub struct Webhooks {
    store: Store,
    secrets: SecretStore,
    /// Signing secrets already read from the secret store (a keyring read is a D-Bus round trip).
    cache: Arc<Mutex<HashMap<String, String>>>,
    /// Wakes the dispatcher (a test event, a redelivery, an endpoint re-enabled), so the merchant
    /// sees the result at once, not at the next poll.
    wake: Arc<Notify>,
}

/// The columns of an endpoint, in [`WebhookRow`]'s order.
const COLUMNS: &str =
    "w.id, w.url, w.events, w.description, w.status, w.disabled_reason, w.created_at, w.disabled_at,
     w.format, w.auto_redeliver,
     h.last_attempt_at, h.last_success_at,
     (SELECT COUNT(*) FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
       WHERE d.webhook_id = w.id AND a.attempted_at > COALESCE(h.last_success_at, -1)
         AND NOT (COALESCE(a.status, 0) BETWEEN 200 AND 299)) AS failed_in_a_row,
     (SELECT COALESCE(a.error, 'HTTP ' || a.status) FROM webhook_attempts a
       JOIN webhook_deliveries d ON d.id = a.delivery_id
       WHERE d.webhook_id = w.id AND NOT (COALESCE(a.status, 0) BETWEEN 200 AND 299)
       ORDER BY a.attempted_at DESC, a.seq DESC LIMIT 1) AS last_error";

/// An endpoint's latest attempt and latest success, for [`COLUMNS`] (`FROM webhooks w` then
/// this join).
const HEALTH_JOIN: &str = "LEFT JOIN (SELECT d.webhook_id,
        MAX(a.attempted_at) AS last_attempt_at,
        MAX(CASE WHEN a.status BETWEEN 200 AND 299 THEN a.attempted_at END) AS last_success_at
     FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
     GROUP BY d.webhook_id) h ON h.webhook_id = w.id";

#[derive(sqlx::FromRow)]
struct WebhookRow {
    id: String,
    url: String,
    events: String,
    description: Option<String>,
    status: EndpointStatus,
    disabled_reason: Option<String>,
    created_at: i64,
    disabled_at: Option<i64>,
    format: WebhookFormat,
    auto_redeliver: bool,
    last_attempt_at: Option<i64>,
    last_success_at: Option<i64>,
    failed_in_a_row: i64,
    last_error: Option<String>,
}

impl From<WebhookRow> for Webhook {
    fn from(row: WebhookRow) -> Self {
        Webhook {
            id: row.id,
            url: row.url,
            events: row.events.split(',').map(str::to_string).collect(),
            description: row.description,
            status: row.status,
            disabled_reason: row.disabled_reason,
            created_at: rfc3339(row.created_at),
            disabled_at: row.disabled_at.map(rfc3339),
            format: row.format,
            auto_redeliver: row.auto_redeliver,
            health: {
                // The latest attempt failed when none ever succeeded, or a later one did not.
                let failing = row.last_attempt_at.is_some()
                    && row
                        .last_success_at
                        .is_none_or(|ok| row.last_attempt_at > Some(ok));
                EndpointHealth {
                    failing,
                    failed_in_a_row: row.failed_in_a_row.max(0) as u64,
                    last_error: row.last_error.filter(|_| failing),
                    last_attempt_at: row.last_attempt_at.map(rfc3339),
                    last_success_at: row.last_success_at.map(rfc3339),
                }
            },
        }
    }
}

pub(crate) fn secret_name(id: &str) -> String {
    format!("webhook/{id}")
}

impl Webhooks {
    pub(crate) fn new(store: Store, secrets: SecretStore) -> Self {
        Webhooks {
            store,
            secrets,
            cache: Arc::default(),
            wake: Arc::new(Notify::new()),
        }
    }

    /// Wakes the dispatcher for deliveries queued outside the event log (BTCPay events).
    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }

    /// What wakes the dispatcher.
    pub(crate) fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Validates and creates an endpoint; its secret goes to the secret store first, so an
    /// endpoint never exists without one.
    pub async fn create(&self, new: NewWebhook) -> Result<CreatedWebhook> {
        let url = validate_url(&new.url)?;
        let events = validate_events(&new.events)?;
        let description = match new.description.map(|d| d.trim().to_string()) {
            Some(d) if d.chars().count() > MAX_DESCRIPTION_LEN => {
                return Err(Error::invalid(
                    "description",
                    format!("description is longer than {MAX_DESCRIPTION_LEN} characters"),
                ))
            }
            Some(d) if d.is_empty() => None,
            other => other,
        };
        let id = new_id("wh");
        // The Standard Webhooks form, which their libraries decode to the HMAC key.
        let secret = payaiml_webhook::standard::encode_secret(&rand::random::<[u8; 32]>());
        self.secrets.set(&secret_name(&id), &secret).await?;
        let inserted = sqlx::query(
            "INSERT INTO webhooks (id, url, events, description, status, created_at)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(&url)
        .bind(events.join(","))
        .bind(&description)
        .bind(EndpointStatus::Enabled)
        .bind(now_ms())
        .execute(self.store.pool())
        .await;
        self.created(id, secret, inserted).await
    }

    /// Creates a BTCPay-format endpoint (the Greenfield API's `POST …/webhooks`): with the
    /// secret the client chose, or a new one.
    pub async fn create_btcpay(&self, new: BtcpayEndpoint) -> Result<CreatedWebhook> {
        let url = validate_url(&new.url)?;
        let secret = match new.secret {
            Some(secret) => validate_btcpay_secret(secret)?,
            None => crate::util::random_alnum(32),
        };
        let id = new_id("wh");
        self.secrets.set(&secret_name(&id), &secret).await?;
        let status = if new.enabled {
            EndpointStatus::Enabled
        } else {
            EndpointStatus::Disabled
        };
        let inserted = sqlx::query(
            "INSERT INTO webhooks (id, url, events, description, status, disabled_reason,
                                   disabled_at, created_at, format, auto_redeliver)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'btcpay', ?)",
        )
        .bind(&id)
        .bind(&url)
        .bind(btcpay_filter(new.events.as_deref()))
        .bind("registered through the Greenfield-compatible API")
        .bind(status)
        .bind((!new.enabled).then_some("disabled by the client that registered it"))
        .bind((!new.enabled).then(now_ms))
        .bind(now_ms())
        .bind(new.auto_redeliver)
        .execute(self.store.pool())
        .await;
        self.created(id, secret, inserted).await
    }

    /// Changes a BTCPay-format endpoint (the Greenfield API's `PUT …/webhooks/{id}`): every
    /// field as given; the secret only when one is given.
    pub async fn update_btcpay(&self, id: &str, change: BtcpayEndpoint) -> Result<Webhook> {
        let current = self.get(id).await?;
        if current.format != WebhookFormat::Btcpay {
            return Err(not_found(id));
        }
        let url = validate_url(&change.url)?;
        if let Some(secret) = change.secret {
            let secret = validate_btcpay_secret(secret)?;
            self.secrets.set(&secret_name(id), &secret).await?;
            self.remember(id, &secret);
        }
        sqlx::query("UPDATE webhooks SET url = ?, events = ?, auto_redeliver = ? WHERE id = ?")
            .bind(&url)
            .bind(btcpay_filter(change.events.as_deref()))
            .bind(change.auto_redeliver)
            .bind(id)
            .execute(self.store.pool())
            .await?;
        let enabled = current.status == EndpointStatus::Enabled;
        if change.enabled != enabled {
            let reason = "disabled by the client that registered it";
            return self.set_enabled(id, change.enabled, Some(reason)).await;
        }
        self.get(id).await
    }

    /// The end of a create: the row's insert `inserted` failed, its secret (stored first, so an
    /// endpoint never exists without one) is removed; else the endpoint with its secret.
    async fn created(
        &self,
        id: String,
        secret: String,
        inserted: std::result::Result<sqlx::sqlite::SqliteQueryResult, sqlx::Error>,
    ) -> Result<CreatedWebhook> {
        if let Err(e) = inserted {
            let _ = self.secrets.delete(&secret_name(&id)).await;
            return Err(e.into());
        }
        self.remember(&id, &secret);
        Ok(CreatedWebhook {
            webhook: self.get(&id).await?,
            secret,
        })
    }

    /// All endpoints, oldest first.
    pub async fn list(&self) -> Result<Vec<Webhook>> {
        let rows: Vec<WebhookRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM webhooks w {HEALTH_JOIN} ORDER BY w.seq"
        ))
        .fetch_all(self.store.pool())
        .await?;
        Ok(rows.into_iter().map(Webhook::from).collect())
    }

    /// One endpoint.
    pub async fn get(&self, id: &str) -> Result<Webhook> {
        let row: WebhookRow = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM webhooks w {HEALTH_JOIN} WHERE w.id = ?"
        ))
        .bind(id)
        .fetch_optional(self.store.pool())
        .await?
        .ok_or_else(|| not_found(id))?;
        Ok(row.into())
    }

    /// Deletes an endpoint, its deliveries and its secret.
    pub async fn delete(&self, id: &str) -> Result<()> {
        let done = sqlx::query("DELETE FROM webhooks WHERE id = ?")
            .bind(id)
            .execute(self.store.pool())
            .await?;
        if done.rows_affected() == 0 {
            return Err(not_found(id));
        }
        if let Ok(mut cache) = self.cache.lock() {
            cache.remove(id);
        }
        // The endpoint is gone either way; a secret left behind signs nothing any more.
        if let Err(e) = self.secrets.delete(&secret_name(id)).await {
            tracing::warn!(error = %e, webhook = %id, "removing a deleted webhook's secret failed");
        }
        Ok(())
    }

    /// Turns an endpoint on or off. Events keep being queued while it is off; re-enabling sends
    /// every pending delivery now, in the order of the events (including the one that got a
    /// `410 Gone`, if that is what disabled it), and wakes the dispatcher for them.
    pub async fn set_enabled(
        &self,
        id: &str,
        enabled: bool,
        reason: Option<&str>,
    ) -> Result<Webhook> {
        let webhook = self.change_status(id, enabled, reason).await?;
        if enabled {
            self.wake.notify_one();
        }
        Ok(webhook)
    }

    async fn change_status(
        &self,
        id: &str,
        enabled: bool,
        reason: Option<&str>,
    ) -> Result<Webhook> {
        let done = if enabled {
            sqlx::query(
                "UPDATE webhooks SET status = 'enabled', disabled_reason = NULL, disabled_at = NULL
                 WHERE id = ?",
            )
            .bind(id)
            .execute(self.store.pool())
            .await?
        } else {
            sqlx::query(
                "UPDATE webhooks SET status = 'disabled', disabled_reason = ?, disabled_at = ?
                 WHERE id = ? AND status = 'enabled'",
            )
            .bind(reason.unwrap_or("disabled by the merchant"))
            .bind(now_ms())
            .bind(id)
            .execute(self.store.pool())
            .await?
        };
        let webhook = self.get(id).await?;
        if done.rows_affected() > 0 && enabled {
            // What queued up while it was off is sent now, not after its backoff, and with one
            // due time for all of it the dispatcher takes it in `seq` order.
            sqlx::query(
                "UPDATE webhook_deliveries SET next_attempt_at = ?, schedule_step = 0
                 WHERE webhook_id = ? AND state = 'pending'",
            )
            .bind(now_ms())
            .bind(id)
            .execute(self.store.pool())
            .await?;
        }
        Ok(webhook)
    }

    /// Sends a signed `webhook.test` event to an endpoint and returns the delivery once its one
    /// attempt is recorded (or, if the dispatcher is busy, as queued after 12 s).
    pub async fn test(&self, webhook_id: &str) -> Result<Delivery> {
        let endpoint = self.get(webhook_id).await?;
        if endpoint.status != EndpointStatus::Enabled {
            return Err(Error::unprocessable(
                ErrorCode::WebhookDisabled,
                None,
                "this endpoint is disabled; enable it (POST /v1/webhooks/{id}/enable) before testing it",
            ));
        }
        let id = deliveries::queue_test(&self.store, webhook_id).await?;
        self.wake.notify_one();
        let deadline = tokio::time::Instant::now() + TEST_WAIT;
        loop {
            let delivery = deliveries::get(&self.store, &id).await?;
            if delivery.attempt_count > 0 || tokio::time::Instant::now() >= deadline {
                return Ok(delivery);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Queues a delivery again, due now, with a fresh retry schedule (also one that succeeded:
    /// the receiver may have lost it).
    pub async fn redeliver(&self, delivery_id: &str) -> Result<Delivery> {
        deliveries::requeue(&self.store, delivery_id).await?;
        self.wake.notify_one();
        deliveries::get(&self.store, delivery_id).await
    }

    /// One delivery with its attempts.
    pub async fn delivery(&self, delivery_id: &str) -> Result<Delivery> {
        deliveries::get(&self.store, delivery_id).await
    }

    /// An endpoint's deliveries, newest first: those with `seq < before` (all if `None`), at
    /// most `limit`, each with its `seq` (the cursor for the next page).
    pub async fn deliveries(
        &self,
        webhook_id: &str,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<(i64, Delivery)>> {
        deliveries::list(&self.store, webhook_id, before, limit).await
    }

    /// The endpoint's signing secret, for the merchant to see again (from the secret store).
    pub async fn reveal(&self, id: &str) -> Result<String> {
        self.get(id).await?;
        self.secret(id).await
    }

    /// The endpoint's signing secret.
    pub(crate) async fn secret(&self, id: &str) -> Result<String> {
        if let Some(secret) = self.cache.lock().ok().and_then(|c| c.get(id).cloned()) {
            return Ok(secret);
        }
        let secret = self.secrets.get(&secret_name(id)).await?.ok_or_else(|| {
            Error::Secrets(format!(
                "the signing secret of webhook {id} ({}) is missing from the secret store; delete the endpoint and create it again",
                self.secrets.entry_name(&secret_name(id))
            ))
        })?;
        self.remember(id, &secret);
        Ok(secret)
    }

    fn remember(&self, id: &str, secret: &str) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(id.to_string(), secret.to_string());
        }
    }
}

/// A BTCPay-format endpoint as the Greenfield API gives it.
#[derive(Debug, Clone)]
pub struct BtcpayEndpoint {
    /// Where deliveries go.
    pub url: String,
    /// The event types it wants; `None`: every one (`authorizedEvents.everything`).
    pub events: Option<Vec<BtcpayEvent>>,
    /// Whether deliveries are sent.
    pub enabled: bool,
    /// Whether failed deliveries are retried on the schedule.
    pub auto_redeliver: bool,
    /// The signing secret the client chose; `None`: a new one (create) or unchanged (update).
    pub secret: Option<String>,
}

/// The stored filter of a BTCPay-format endpoint.
fn btcpay_filter(events: Option<&[BtcpayEvent]>) -> String {
    match events {
        None => "*".into(),
        Some(events) => {
            let mut names: Vec<&str> = events.iter().map(|e| e.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            names.join(",")
        }
    }
}

/// A secret a client chose: 1 to 256 visible characters.
fn validate_btcpay_secret(secret: String) -> Result<String> {
    if secret.is_empty() || secret.len() > 256 || !secret.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::invalid(
            "secret",
            "secret must be 1 to 256 visible ASCII characters (or leave it out to get one)",
        ));
    }
    Ok(secret)
}

fn not_found(id: &str) -> Error {
    Error::NotFound {
        kind: "webhook",
        id: id.to_string(),
    }
}

/// Accepts only absolute `http`/`https` URLs with a host, no longer than 2048 bytes.
pub fn validate_url(raw: &str) -> Result<String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(Error::invalid(
            "url",
            "url is required, e.g. https://shop.example/webhook/lightning",
        ));
    }
    if raw.len() > MAX_URL_LEN {
        return Err(Error::invalid(
            "url",
            format!("url is longer than {MAX_URL_LEN} bytes"),
        ));
    }
    let url = reqwest::Url::parse(raw).map_err(|e| {
        Error::invalid(
            "url",
            format!("url is not a valid absolute URL ({e}); give one like https://shop.example/webhook/lightning"),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::invalid(
            "url",
            format!(
                "url must start with http:// or https://, not {}:",
                url.scheme()
            ),
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid("url", "url has no host"));
    }
    Ok(url.to_string())
}

/// Normalises an event filter: empty or `*` means all; otherwise known types, without repeats.
pub fn validate_events(events: &[String]) -> Result<Vec<String>> {
    if events.is_empty() || events.iter().any(|e| e == "*") {
        return Ok(vec!["*".to_string()]);
    }
    let mut out: Vec<String> = Vec::new();
    for event in events {
        if EventKind::logged(event).is_none() {
            let known: Vec<&str> = EventKind::LOGGED.iter().map(|k| k.as_str()).collect();
            return Err(Error::invalid(
                "events",
                format!(
                    "unknown event type '{event}'; use any of {} or \"*\" for all",
                    known.join(", ")
                ),
            ));
        }
        if !out.contains(event) {
            out.push(event.clone());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            validate_url(" http://127.0.0.1:8080/hook ").ok().as_deref(),
            Some("http://127.0.0.1:8080/hook")
        );
        assert!(validate_url("https://shop.example/webhook/lightning").is_ok());
        for bad in [
            "",
            "shop.example/hook",
            "ftp://shop.example/x",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "http://",
        ] {
            let err = validate_url(bad)
                .err()
                .map(|e| (e.code().as_str(), e.field()));
            assert_eq!(err, Some(("invalid_field", Some("url"))), "{bad}");
        }
        assert!(validate_url(&format!("https://a.example/{}", "x".repeat(2100))).is_err());
    }

    #[test]
    fn event_filters() {
        let all = vec!["*".to_string()];
        assert_eq!(validate_events(&[]).ok(), Some(all.clone()));
        assert_eq!(
            validate_events(&["payment.received".into(), "*".into()]).ok(),
            Some(all)
        );
        assert_eq!(
            validate_events(&["payment.received".into(), "payment.received".into()]).ok(),
            Some(vec!["payment.received".to_string()])
        );
        let err = validate_events(&["payment.recieved".into()]).err();
        assert_eq!(err.map(|e| e.field()), Some(Some("events")));
    }
}
