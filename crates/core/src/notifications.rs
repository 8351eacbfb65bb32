//! Desktop notifications for received payments ("Payment received: 1,000 sats — Coffee").
//!
//! A separate task fed by the committed-event broadcast, so the node event task never waits on
//! the desktop: a slow or missing notification server only delays (or, past the broadcast's
//! buffer, skips) notifications, and each failure is logged, never fatal.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::events::{EventKind, EventRecord};

/// How long one notification may take to hand over before it is given up.
const SHOW_TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) async fn run(
    mut events: broadcast::Receiver<EventRecord>,
    enabled: Arc<AtomicBool>,
    stop: CancellationToken,
) {
    loop {
        let record = tokio::select! {
            received = events.recv() => match received {
                Ok(record) => record,
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(skipped = n, "desktop notifications fell behind; some were skipped");
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = stop.cancelled() => return,
        };
        if !enabled.load(Ordering::Relaxed) {
            continue;
        }
        let Some((summary, body)) = describe(&record) else {
            continue;
        };
        let shown = tokio::time::timeout(
            SHOW_TIMEOUT,
            tokio::task::spawn_blocking(move || show(&summary, &body)),
        )
        .await;
        match shown {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => tracing::warn!(error = %e, "showing a desktop notification failed"),
            Ok(Err(e)) => tracing::warn!(error = %e, "the desktop notification task failed"),
            Err(_) => tracing::warn!("the desktop notification server did not answer within 5 s"),
        }
    }
}

/// The notification's title and text for an event, if it gets one.
pub(crate) fn describe(record: &EventRecord) -> Option<(String, String)> {
    if record.event != EventKind::PaymentReceived {
        return None;
    }
    let amount = record.payload.get("amount")?.as_u64()?;
    let description = record
        .payload
        .get("description")
        .and_then(|d| d.as_str())
        .filter(|d| !d.is_empty())
        .unwrap_or("Lightning payment");
    let unit = if amount == 1 { "sat" } else { "sats" };
    Some((
        format!(
            "Payment received: {} {unit}",
            crate::util::group_thousands(amount)
        ),
        description.to_string(),
    ))
}

fn show(summary: &str, body: &str) -> Result<(), notify_rust::error::Error> {
    notify_rust::Notification::new()
        .appname("PayAiML Merchant")
        .summary(summary)
        .body(body)
        .timeout(notify_rust::Timeout::Milliseconds(8000))
        .show()
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(event: EventKind, payload: serde_json::Value) -> EventRecord {
        EventRecord {
            id: "evt_1".into(),
            seq: 1,
            event,
            timestamp: "2026-01-01T00:00:00Z".into(),
            payload: payload.as_object().cloned().unwrap_or_default(),
        }
    }

    #[test]
    fn texts() {
        let paid = record(
            EventKind::PaymentReceived,
            serde_json::json!({"amount": 1234567, "description": "Coffee"}),
        );
        assert_eq!(
            describe(&paid),
            Some(("Payment received: 1,234,567 sats".into(), "Coffee".into()))
        );
        let one = record(
            EventKind::PaymentReceived,
            serde_json::json!({"amount": 1, "description": null}),
        );
        assert_eq!(
            describe(&one),
            Some(("Payment received: 1 sat".into(), "Lightning payment".into()))
        );
        assert_eq!(
            describe(&record(
                EventKind::PaymentSent,
                serde_json::json!({"amount": 5})
            )),
            None
        );
    }
}
