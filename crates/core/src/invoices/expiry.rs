//! Marks invoices `expired` when their time is up, each with an `invoice.expired` event in the
//! same transaction. Runs at start (catching up on whatever expired while the app was stopped),
//! then sleeps until the earliest pending invoice expires, and is woken early when an invoice is
//! created.
//!
//! A payment that still arrives for an invoice marked expired (a payer's HTLC accepted in the
//! same second) turns it `paid`: the money is the merchant's, so the later fact wins.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::{broadcast, Notify};
use tokio_util::sync::CancellationToken;

use super::db as invoices;
use super::InvoiceStatus;
use crate::error::Result;
use crate::events::{self, EventKind, EventRecord};
use crate::store::Store;
use crate::util::now_ms;

/// Re-check at least this often (clock changes, a missed wake-up).
const MAX_SLEEP: Duration = Duration::from_secs(60);

pub(crate) async fn run(
    store: Store,
    events: broadcast::Sender<EventRecord>,
    wake: Arc<Notify>,
    stop: CancellationToken,
) {
    loop {
        // Woken by each new invoice: look (one indexed read) before writing anything, so creating
        // invoices does not cost a write transaction here too.
        let next = invoices::next_expiry(&store).await;
        let mut failed = false;
        if matches!(next, Ok(Some(at)) if at <= now_ms()) {
            match expire_due(&store, now_ms()).await {
                Ok(records) => {
                    for record in records {
                        let _ = events.send(record);
                    }
                    continue;
                }
                Err(e) => {
                    tracing::error!(error = %e, "marking expired invoices failed");
                    failed = true;
                }
            }
        }
        let sleep = match next {
            _ if failed => Duration::from_secs(5),
            Ok(Some(at)) => Duration::from_millis(u64::try_from(at - now_ms()).unwrap_or(0)),
            Ok(None) => MAX_SLEEP,
            Err(e) => {
                tracing::error!(error = %e, "reading the next invoice expiry failed");
                Duration::from_secs(5)
            }
        }
        .min(MAX_SLEEP);
        tokio::select! {
            _ = tokio::time::sleep(sleep) => {}
            _ = wake.notified() => {}
            _ = stop.cancelled() => return,
        }
    }
}

/// Expires every pending invoice whose `expires_at` is at or before `now`, logging one
/// `invoice.expired` per invoice. Returns the events appended.
pub(crate) async fn expire_due(store: &Store, now: i64) -> Result<Vec<EventRecord>> {
    let mut tx = store.writer().begin().await?;
    let expired = invoices::mark_expired(&mut tx, now).await?;
    let mut out = Vec::with_capacity(expired.len());
    for invoice in expired {
        let payload = json!({
            "invoice_id": invoice.id,
            "amount": invoice.amount,
            "status": InvoiceStatus::Expired,
            "payment_hash": invoice.payment_hash,
            "description": invoice.description,
            "expires_at": invoice.expires_at,
            "external_id": invoice.external_id,
            "metadata": invoice.metadata,
        });
        let key = format!("invoice.expired:{}", invoice.id);
        out.extend(events::append(&mut tx, EventKind::InvoiceExpired, &key, payload).await?);
    }
    tx.commit().await?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::temp_store;

    #[tokio::test]
    async fn expires_once_and_only_when_due() -> Result<()> {
        let (_dir, store) = temp_store().await;
        let now = now_ms();
        for (id, hash, expires_at, status) in [
            ("inv_old", "aa", now - 5_000, "pending"),
            ("inv_new", "bb", now + 60_000, "pending"),
            ("inv_paid", "cc", now - 5_000, "paid"),
        ] {
            sqlx::query(
                "INSERT INTO invoices (id, payment_hash, amount_msat, description, payment_request,
                     expiry, expires_at, created_at, status) VALUES (?, ?, 5000, 'tea', 'lnbcrt', 60, ?, 0, ?)",
            )
            .bind(id)
            .bind(hash)
            .bind(expires_at)
            .bind(status)
            .execute(store.pool())
            .await?;
        }
        let first = expire_due(&store, now).await?;
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].event, EventKind::InvoiceExpired);
        assert_eq!(first[0].payload.get("invoice_id"), Some(&json!("inv_old")));
        assert_eq!(first[0].payload.get("amount"), Some(&json!(5)));
        assert!(expire_due(&store, now).await?.is_empty());
        assert_eq!(
            invoices::get(&store, "inv_old").await?.status,
            InvoiceStatus::Expired
        );
        assert_eq!(
            invoices::get(&store, "inv_paid").await?.status,
            InvoiceStatus::Paid
        );
        assert_eq!(invoices::next_expiry(&store).await?, Some(now + 60_000));
        Ok(())
    }
}
