//! What the API asks of webhooks beyond the registry: test events, redeliveries, re-enabling.
//! Each wakes the dispatcher so the merchant sees the result at once, not at the next poll.

use std::time::Duration;

use super::deliveries::{self, Delivery};
use super::Webhook;
use crate::app::App;
use crate::error::Result;

/// How long a test waits for its attempt: the request timeout plus a margin.
const TEST_WAIT: Duration = Duration::from_secs(12);

impl App {
    /// Sends a signed `webhook.test` event to an endpoint and returns the delivery once its one
    /// attempt is recorded (or, if the dispatcher is busy, as queued after 12 s).
    pub async fn test_webhook(&self, webhook_id: &str) -> Result<Delivery> {
        let endpoint = self.webhooks.get(webhook_id).await?;
        if endpoint.status != "enabled" {
            return Err(crate::Error::unprocessable(
                "webhook_disabled",
                None,
                "this endpoint is disabled; enable it (POST /v1/webhooks/{id}/enable) before testing it",
            ));
        }
        let id = deliveries::queue_test(&self.store, webhook_id).await?;
        self.wake_dispatcher.notify_one();
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
        self.wake_dispatcher.notify_one();
        deliveries::get(&self.store, delivery_id).await
    }

    /// Enables or disables an endpoint; enabling sends what it missed right away.
    pub async fn set_webhook_enabled(&self, webhook_id: &str, enabled: bool) -> Result<Webhook> {
        let webhook = self.webhooks.set_enabled(webhook_id, enabled, None).await?;
        if enabled {
            self.wake_dispatcher.notify_one();
        }
        Ok(webhook)
    }
}
