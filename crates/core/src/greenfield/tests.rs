//! The outbox's BTCPay side ([`crate::btcpay`]) with the event log, on a real database.

use serde_json::{json, Value};

use crate::btcpay::STORE_ID_SETTING;
use crate::error::Result;
use crate::events::{append, EventKind};
use crate::store::test_support::temp_store;

async fn hook(store: &crate::store::Store, id: &str, format: &str, events: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO webhooks (id, url, events, status, created_at, format)
         VALUES (?, 'http://x/', ?, 'enabled', 0, ?)",
    )
    .bind(id)
    .bind(events)
    .bind(format)
    .execute(store.pool())
    .await?;
    Ok(())
}

async fn invoice(
    store: &crate::store::Store,
    id: &str,
    expires_at: i64,
    paid_at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO invoices (id, payment_hash, amount_msat, amount_received_msat, description,
             payment_request, expiry, expires_at, created_at, paid_at, status, metadata)
         VALUES (?, ?, 5000000, 5000000, 'x', 'lnbcrt1…', 60, ?, 0, ?, 'paid', '{\"orderId\":\"7\"}')",
    )
    .bind(id)
    .bind(format!("hash-{id}"))
    .bind(expires_at)
    .bind(paid_at)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// The deliveries of `hook`: (event_type, BTCPay type) in order.
async fn queued(store: &crate::store::Store, hook: &str) -> Result<Vec<(String, Value)>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT event_type, body FROM webhook_deliveries WHERE webhook_id = ? ORDER BY seq",
    )
    .bind(hook)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(t, b)| (t, serde_json::from_str(&b).unwrap_or(Value::Null)))
        .collect())
}

#[tokio::test]
async fn a_payment_becomes_btcpays_events_for_btcpay_endpoints_only() -> Result<()> {
    let (_dir, store) = temp_store().await;
    hook(&store, "wh_ours", "payaiml", "*").await?;
    hook(&store, "wh_all", "btcpay", "*").await?;
    hook(&store, "wh_settled", "btcpay", "InvoiceSettled").await?;
    sqlx::query("INSERT INTO settings (name, value) VALUES (?, 'STORE1')")
        .bind(STORE_ID_SETTING)
        .execute(store.pool())
        .await?;
    invoice(&store, "inv_on_time", 10_000, 5_000).await?;
    invoice(&store, "inv_late", 10_000, 20_000).await?;
    let mut tx = store.pool().begin().await?;
    for (key, id) in [("a", "inv_on_time"), ("b", "inv_late"), ("c", "")] {
        let payload = if id.is_empty() {
            json!({"invoice_id": null, "payment_hash": "h", "amount_msat": 1000})
        } else {
            json!({"invoice_id": id, "payment_hash": format!("hash-{id}"), "amount_msat": 5_000_000})
        };
        append(&mut tx, EventKind::PaymentReceived, key, payload).await?;
    }
    tx.commit().await?;

    let ours = queued(&store, "wh_ours").await?;
    assert_eq!(ours.len(), 3, "our endpoint gets our events, as they are");
    assert!(ours.iter().all(|(_, b)| b["event"] == "payment.received"));

    let all = queued(&store, "wh_all").await?;
    let types: Vec<(&str, &str)> = all
        .iter()
        .map(|(t, b)| (t.as_str(), b["type"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        types,
        [
            ("payment.received", "InvoiceReceivedPayment"),
            ("payment.received", "InvoicePaymentSettled"),
            ("payment.received", "InvoiceProcessing"),
            ("payment.received", "InvoiceSettled"),
            // Paid after its expiry: no settlement, as BTCPay keeps it Expired (PaidLate).
            ("payment.received", "InvoiceReceivedPayment"),
            ("payment.received", "InvoicePaymentSettled"),
        ]
    );
    let first = &all[0].1;
    assert_eq!(first["storeId"], "STORE1");
    assert_eq!(first["invoiceId"], "inv_on_time");
    assert_eq!(first["metadata"]["orderId"], "7");
    assert_eq!(first["afterExpiration"], false);
    assert_eq!(first["payment"]["value"], "0.00005");
    assert_eq!(first["deliveryId"], first["originalDeliveryId"]);
    assert_eq!(all[4].1["afterExpiration"], true);

    let settled = queued(&store, "wh_settled").await?;
    assert_eq!(settled.len(), 1, "a filter takes only its events");
    assert_eq!(settled[0].1["type"], "InvoiceSettled");
    Ok(())
}
