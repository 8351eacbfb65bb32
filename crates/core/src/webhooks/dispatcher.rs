//! Sends the outbox. Wakes when an event is committed, when the API asks (a test, a redelivery,
//! an endpoint re-enabled) and when the earliest retry comes due; sends due deliveries
//! concurrently (at most [`MAX_IN_FLIGHT`], at most [`MAX_PER_ENDPOINT`] to one endpoint, so a
//! slow receiver does not hold up the others), and records every attempt before it decides the
//! next. A delivery in flight when the process dies is still `pending` in SQLite and is sent
//! again after the restart: delivery is at least once, and receivers dedupe on the event id.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use tokio::sync::{broadcast, Notify};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::deliveries::{self, Due, Next, Outcome};
use super::{WebhookFormat, Webhooks};
use crate::error::{Error, Result};
use crate::events::{EventKind, EventRecord};
use crate::store::Store;
use crate::util::now_ms;

/// The most deliveries in flight at once.
const MAX_IN_FLIGHT: usize = 32;
/// The most deliveries in flight to one endpoint.
const MAX_PER_ENDPOINT: usize = 8;
/// Each request's limit, connection included.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How much of a receiver's answer is kept for the delivery log.
const EXCERPT_BYTES: usize = 256;
/// How soon to look again when a delivery is due but was not started by this pass.
const DUE_RECHECK: Duration = Duration::from_secs(1);
/// Poll at least this often even with nothing due (a safety net, not the mechanism).
const IDLE_POLL: Duration = Duration::from_secs(60);
/// Finished deliveries are kept this long in the delivery log (the event log keeps everything).
const KEEP_FINISHED: Duration = Duration::from_secs(30 * 86_400);
/// How often old finished deliveries are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

pub(crate) struct Dispatcher {
    pub store: Store,
    pub webhooks: Webhooks,
    pub schedule: Vec<Duration>,
    pub events: broadcast::Receiver<EventRecord>,
    pub wake: Arc<Notify>,
    pub stop: CancellationToken,
}

impl Dispatcher {
    pub(crate) async fn run(mut self) {
        let client = match reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            // Webhooks go where the merchant said, never through a proxy that the environment
            // happens to name (HTTP_PROXY and friends): that proxy would see every payment.
            .no_proxy()
            .user_agent(concat!(
                "PayAiML-Merchant-Webhooks/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
        {
            Ok(client) => client,
            Err(e) => {
                tracing::error!(error = %e, "webhooks are not sent: the HTTP client did not build");
                return;
            }
        };
        let schedule = Arc::new(self.schedule.clone());
        let mut running: JoinSet<String> = JoinSet::new();
        let mut in_flight: HashSet<String> = HashSet::new();
        let mut per_endpoint: HashMap<String, usize> = HashMap::new();
        let mut pruned_at: Option<Instant> = None;
        loop {
            if pruned_at.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
                pruned_at = Some(Instant::now());
                let before = now_ms() - KEEP_FINISHED.as_millis() as i64;
                match deliveries::prune(&self.store, before).await {
                    Ok(0) => {}
                    Ok(n) => {
                        tracing::info!(deleted = n, "pruned webhook deliveries older than 30 days")
                    }
                    Err(e) => tracing::warn!(error = %e, "pruning old webhook deliveries failed"),
                }
            }
            if in_flight.len() < MAX_IN_FLIGHT {
                match deliveries::due(&self.store, now_ms(), 256).await {
                    Ok(due) => {
                        for item in due {
                            if in_flight.len() >= MAX_IN_FLIGHT {
                                break;
                            }
                            let busy = per_endpoint.get(&item.webhook_id).copied().unwrap_or(0);
                            // A BTCPay endpoint gets its deliveries one at a time, in order, as
                            // BTCPay sends them: shop plugins move an order through the states
                            // in the order the events come.
                            let cap = match item.format {
                                WebhookFormat::Payaiml => MAX_PER_ENDPOINT,
                                WebhookFormat::Btcpay => 1,
                            };
                            if in_flight.contains(&item.id) || busy >= cap {
                                continue;
                            }
                            in_flight.insert(item.id.clone());
                            *per_endpoint.entry(item.webhook_id.clone()).or_default() += 1;
                            let (client, webhooks, store, schedule) = (
                                client.clone(),
                                self.webhooks.clone(),
                                self.store.clone(),
                                schedule.clone(),
                            );
                            running.spawn(async move {
                                deliver(&client, &webhooks, &store, &schedule, &item).await;
                                format!("{}\n{}", item.id, item.webhook_id)
                            });
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "reading due webhook deliveries failed"),
                }
            }
            let wait = match deliveries::next_due(&self.store).await {
                Ok(Some(at)) if at > now_ms() => Duration::from_millis((at - now_ms()) as u64),
                // Due now but not started: in flight already or over a limit (a finishing
                // delivery wakes us), or it fell due between the two reads above (a retry due
                // 300 ms after its attempt, on a busy machine): nothing else would wake us for
                // that one, so look again soon rather than after the idle poll.
                Ok(Some(_)) => DUE_RECHECK,
                Ok(None) => IDLE_POLL,
                Err(e) => {
                    tracing::error!(error = %e, "reading the next webhook retry time failed");
                    Duration::from_secs(5)
                }
            }
            .min(IDLE_POLL);
            tokio::select! {
                Some(done) = running.join_next() => {
                    if let Ok(done) = done {
                        if let Some((id, hook)) = done.split_once('\n') {
                            in_flight.remove(id);
                            if let Some(n) = per_endpoint.get_mut(hook) {
                                *n = n.saturating_sub(1);
                            }
                        }
                    } else {
                        // A delivery task panicked: forget every slot, the rows are still pending.
                        in_flight.clear();
                        per_endpoint.clear();
                    }
                }
                received = self.events.recv() => {
                    if let Err(broadcast::error::RecvError::Closed) = received {
                        return;
                    }
                }
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = self.stop.cancelled() => {
                    // Whatever is in flight stays `pending` in SQLite and goes out after the
                    // restart; a receiver that got it already sees the same event id again.
                    running.abort_all();
                    return;
                }
            }
        }
    }
}

/// Makes one attempt and records it.
async fn deliver(
    client: &reqwest::Client,
    webhooks: &Webhooks,
    store: &Store,
    schedule: &[Duration],
    due: &Due,
) {
    let outcome = attempt(client, webhooks, due).await;
    let next = decide(&outcome, due, schedule);
    match next {
        Next::Delivered => {}
        Next::Disable => {
            tracing::warn!(webhook = %due.webhook_id, "the receiver answered 410 Gone: endpoint disabled")
        }
        _ => tracing::info!(
            webhook = %due.webhook_id, delivery = %due.id, status = ?outcome.status,
            error = ?outcome.error, ?next, "webhook delivery failed"
        ),
    }
    if let Err(e) = deliveries::record(store, due, &outcome, next).await {
        // Not recorded means still pending: it is sent again, which receivers tolerate.
        tracing::error!(error = %e, delivery = %due.id, "recording a webhook attempt failed");
    }
}

fn decide(outcome: &Outcome, due: &Due, schedule: &[Duration]) -> Next {
    match outcome.status {
        Some(s) if (200..300).contains(&s) => return Next::Delivered,
        Some(410) => return Next::Disable,
        _ => {}
    }
    // A test event is one attempt: the developer is watching for its result now. A BTCPay
    // endpoint registered with `automaticRedelivery: false` asked for one attempt too.
    if due.event_type == EventKind::WebhookTest || !due.auto_redeliver {
        return Next::GiveUp;
    }
    match usize::try_from(due.step).ok().and_then(|s| schedule.get(s)) {
        Some(base) => {
            let jitter = rand::thread_rng().gen_range(0.8..1.2);
            Next::RetryAt(outcome.attempted_at + (base.as_millis() as f64 * jitter) as i64)
        }
        None => Next::GiveUp,
    }
}

async fn attempt(client: &reqwest::Client, webhooks: &Webhooks, due: &Due) -> Outcome {
    let attempted_at = now_ms();
    let started = Instant::now();
    let result = send(client, webhooks, due).await;
    let latency_ms = started.elapsed().as_millis() as i64;
    match result {
        Ok((status, response)) => Outcome {
            attempted_at,
            status: Some(status),
            latency_ms,
            response,
            error: None,
        },
        Err(error) => Outcome {
            attempted_at,
            status: None,
            latency_ms,
            response: None,
            error: Some(error),
        },
    }
}

async fn send(
    client: &reqwest::Client,
    webhooks: &Webhooks,
    due: &Due,
) -> Result<(u16, Option<String>), String> {
    let secret = webhooks
        .secret(&due.webhook_id)
        .await
        .map_err(|e: Error| e.to_string())?;
    let request = match due.format {
        WebhookFormat::Payaiml => payaiml_request(client, due, &secret)?,
        // BTCPay's plugins check this one header; the delivery id is in the body.
        WebhookFormat::Btcpay => client.post(&due.url).header(
            payaiml_webhook::btcpay::SIGNATURE_HEADER,
            payaiml_webhook::btcpay::sign(&secret, due.body.as_bytes()),
        ),
    };
    let mut response = request
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("PayAiML-Delivery-Id", &due.id)
        .body(due.body.clone())
        .send()
        .await
        .map_err(describe)?;
    let status = response.status().as_u16();
    // Only the start of the answer is kept; a receiver streaming megabytes is cut off.
    let mut excerpt = Vec::new();
    while excerpt.len() < EXCERPT_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    excerpt.truncate(EXCERPT_BYTES);
    let text = String::from_utf8_lossy(&excerpt).trim().to_string();
    Ok((status, (!text.is_empty()).then_some(text)))
}

/// A request to one of our own endpoints, with our signature and the Standard Webhooks headers.
fn payaiml_request(
    client: &reqwest::Client,
    due: &Due,
    secret: &str,
) -> Result<reqwest::RequestBuilder, String> {
    let timestamp = u64::try_from(now_ms() / 1000).unwrap_or(0);
    let signature = payaiml_webhook::sign(secret, timestamp, due.body.as_bytes());
    let standard =
        payaiml_webhook::standard::sign(secret, &due.event_id, timestamp, due.body.as_bytes())
            .map_err(|e| format!("cannot sign: {e}"))?;
    Ok(client
        .post(&due.url)
        .header(payaiml_webhook::SIGNATURE_HEADER, signature)
        .header(payaiml_webhook::EVENT_ID_HEADER, &due.event_id)
        .header(payaiml_webhook::standard::ID_HEADER, &due.event_id)
        .header(
            payaiml_webhook::standard::TIMESTAMP_HEADER,
            timestamp.to_string(),
        )
        .header(payaiml_webhook::standard::SIGNATURE_HEADER, standard)
        .header("PayAiML-Event-Type", due.event_type.as_str()))
}

/// A person-readable cause: reqwest's own message names only the URL.
fn describe(e: reqwest::Error) -> String {
    if e.is_timeout() {
        return format!("no answer within {} s", TIMEOUT.as_secs());
    }
    let mut text = if e.is_connect() {
        "could not connect".to_string()
    } else {
        "request failed".to_string()
    };
    let mut source = std::error::Error::source(&e);
    let mut last = None;
    while let Some(s) = source {
        last = Some(s.to_string());
        source = s.source();
    }
    if let Some(cause) = last {
        text.push_str(": ");
        text.push_str(&cause);
    }
    text
}

/// The backoff schedule parsed from text such as `10s,1m,5m` (for `--webhook-retries`).
pub fn parse_schedule(text: &str) -> Result<Vec<Duration>> {
    text.split(',')
        .map(|part| crate::util::parse_duration(part.trim()))
        .collect::<Option<Vec<_>>>()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            Error::Config(format!(
                "webhook retry schedule '{text}' is not a comma-separated list of durations such as 10s,1m,5m,30m,2h"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn due(step: i64, event: EventKind) -> Due {
        Due {
            id: "whd_1".into(),
            webhook_id: "wh_1".into(),
            url: "http://127.0.0.1:1/".into(),
            event_id: "evt_1".into(),
            event_type: event,
            body: "{}".into(),
            step,
            format: WebhookFormat::Payaiml,
            auto_redeliver: true,
        }
    }

    fn answered(status: Option<u16>) -> Outcome {
        Outcome {
            attempted_at: 1_000_000,
            status,
            latency_ms: 1,
            response: None,
            error: status.is_none().then(|| "could not connect".into()),
        }
    }

    #[test]
    fn retry_decisions() {
        let schedule = crate::config::DEFAULT_WEBHOOK_RETRIES.to_vec();
        let e = EventKind::PaymentReceived;
        assert_eq!(
            decide(&answered(Some(204)), &due(0, e), &schedule),
            Next::Delivered
        );
        assert_eq!(
            decide(&answered(Some(410)), &due(3, e), &schedule),
            Next::Disable
        );
        for (step, base) in [(0, 10_000.0), (1, 60_000.0), (7, 86_400_000.0)] {
            for status in [Some(500), Some(302), None] {
                let Next::RetryAt(at) = decide(&answered(status), &due(step, e), &schedule) else {
                    panic!("step {step} should retry");
                };
                let wait = (at - 1_000_000) as f64;
                assert!(wait >= base * 0.8 && wait <= base * 1.2, "{wait} vs {base}");
            }
        }
        assert_eq!(
            decide(&answered(Some(500)), &due(8, e), &schedule),
            Next::GiveUp
        );
        assert_eq!(
            decide(
                &answered(Some(500)),
                &due(0, EventKind::WebhookTest),
                &schedule
            ),
            Next::GiveUp
        );
    }

    #[test]
    fn schedules_parse() {
        assert_eq!(
            parse_schedule("500ms, 2s,1m").ok(),
            Some(vec![
                Duration::from_millis(500),
                Duration::from_secs(2),
                Duration::from_secs(60)
            ])
        );
        assert!(parse_schedule("").is_err());
        assert!(parse_schedule("10s,soon").is_err());
    }
}
