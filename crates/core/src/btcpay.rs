//! BTCPay Server's webhook vocabulary, for the endpoints a shop plugin registers through the
//! Greenfield-compatible API ([`crate::greenfield`]): BTCPay's event names, the JSON bodies
//! its plugins read, and the queueing of those bodies into the same outbox as our own
//! webhooks, inside the transaction of the change they report.
//!
//! This module is a leaf (it names no other domain), because the event log calls it while it
//! appends: an event logged is then owed to BTCPay-format endpoints too, whatever happens next.
//!
//! How our events become BTCPay's (docs/api.md, "BTCPay Greenfield compatibility"):
//! - `payment.received` for an invoice → `InvoiceReceivedPayment`, `InvoicePaymentSettled`,
//!   `InvoiceProcessing` and `InvoiceSettled` at once (a Lightning or confirmed on-chain payment
//!   is final when we see it, as BTCPay passes a Lightning invoice through `Processing` in one
//!   step). Paid after its expiry (`afterExpiration: true`) or already marked by hand, only the
//!   first two: BTCPay keeps such an invoice `Expired` (`PaidLate`), or as marked.
//! - `invoice.expired` → `InvoiceExpired` (unless marked by hand).
//! - An invoice made through the Greenfield API → `InvoiceCreated`; marked by hand →
//!   `InvoiceSettled` or `InvoiceInvalid` with `manuallyMarked: true`.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sqlx::SqliteConnection;

use crate::error::Result;
use crate::util::{new_id, now_ms};

/// The setting that holds the shop's Greenfield store id (made once, kept by backups).
pub const STORE_ID_SETTING: &str = "greenfield.store_id";

/// A BTCPay webhook event type.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
pub enum BtcpayEvent {
    /// An invoice was made (through the Greenfield API).
    InvoiceCreated,
    /// A payment to the invoice was seen.
    InvoiceReceivedPayment,
    /// Paid, waiting for confirmations (never sent: see the module's documentation).
    InvoiceProcessing,
    /// Its time ran out unpaid.
    InvoiceExpired,
    /// Paid in full (or marked settled by hand).
    InvoiceSettled,
    /// Marked invalid by hand.
    InvoiceInvalid,
    /// A payment to the invoice is final.
    InvoicePaymentSettled,
}

impl BtcpayEvent {
    /// Every event type, in BTCPay's documentation order.
    pub const ALL: [BtcpayEvent; 7] = [
        BtcpayEvent::InvoiceCreated,
        BtcpayEvent::InvoiceReceivedPayment,
        BtcpayEvent::InvoiceProcessing,
        BtcpayEvent::InvoiceExpired,
        BtcpayEvent::InvoiceSettled,
        BtcpayEvent::InvoiceInvalid,
        BtcpayEvent::InvoicePaymentSettled,
    ];

    /// The name BTCPay gives it.
    pub fn as_str(self) -> &'static str {
        match self {
            BtcpayEvent::InvoiceCreated => "InvoiceCreated",
            BtcpayEvent::InvoiceReceivedPayment => "InvoiceReceivedPayment",
            BtcpayEvent::InvoiceProcessing => "InvoiceProcessing",
            BtcpayEvent::InvoiceExpired => "InvoiceExpired",
            BtcpayEvent::InvoiceSettled => "InvoiceSettled",
            BtcpayEvent::InvoiceInvalid => "InvoiceInvalid",
            BtcpayEvent::InvoicePaymentSettled => "InvoicePaymentSettled",
        }
    }

    /// The event type named `name` (exactly, as BTCPay spells it).
    pub fn parse(name: &str) -> Option<BtcpayEvent> {
        BtcpayEvent::ALL.into_iter().find(|e| e.as_str() == name)
    }
}

/// An amount in millisatoshis as BTCPay writes BTC amounts: a decimal string in BTC, exact
/// (up to 11 decimals for millisatoshis), without trailing zeros ("0.00012", "1").
pub fn btc_string(msat: u64) -> String {
    const MSAT_PER_BTC: u64 = 100_000_000_000;
    let whole = msat / MSAT_PER_BTC;
    let fraction = format!("{:011}", msat % MSAT_PER_BTC);
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        whole.to_string()
    } else {
        format!("{whole}.{fraction}")
    }
}

/// One BTCPay event to queue, with its type's own fields (`afterExpiration`, `payment`, …).
pub(crate) struct Queued {
    pub kind: BtcpayEvent,
    pub fields: Map<String, Value>,
}

/// Queues BTCPay events about `invoice_id` for every BTCPay-format endpoint that wants them,
/// inside the caller's transaction. `cause` is our event type (the delivery log's `event`),
/// `event_id` the id receivers of our own format would see. Returns how many were queued.
pub(crate) async fn queue(
    tx: &mut SqliteConnection,
    cause: &str,
    event_id: &str,
    invoice_id: &str,
    events: &[Queued],
) -> Result<u64> {
    let hooks: Vec<(String, String)> =
        sqlx::query_as("SELECT id, events FROM webhooks WHERE format = 'btcpay' ORDER BY seq")
            .fetch_all(&mut *tx)
            .await?;
    if hooks.is_empty() || events.is_empty() {
        return Ok(0);
    }
    let store_id: String = sqlx::query_scalar("SELECT value FROM settings WHERE name = ?")
        .bind(STORE_ID_SETTING)
        .fetch_optional(&mut *tx)
        .await?
        .unwrap_or_default();
    let metadata: Option<String> = sqlx::query_scalar("SELECT metadata FROM invoices WHERE id = ?")
        .bind(invoice_id)
        .fetch_optional(&mut *tx)
        .await?;
    let metadata: Value = metadata
        .and_then(|m| serde_json::from_str(&m).ok())
        .unwrap_or_else(|| json!({}));
    let now = now_ms();
    let mut queued = 0;
    for (hook, filter) in &hooks {
        for event in events {
            if !wants(filter, event.kind) {
                continue;
            }
            let id = new_id("whd");
            let mut body = json!({
                "deliveryId": id,
                "webhookId": hook,
                "originalDeliveryId": id,
                "isRedelivery": false,
                "type": event.kind,
                "timestamp": now / 1000,
                "storeId": store_id,
                "invoiceId": invoice_id,
                "metadata": metadata,
            });
            if let Value::Object(map) = &mut body {
                map.extend(event.fields.clone());
            }
            sqlx::query(
                "INSERT INTO webhook_deliveries
                     (id, webhook_id, event_id, event_type, body, state, next_attempt_at, created_at)
                 VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)",
            )
            .bind(&id)
            .bind(hook)
            .bind(event_id)
            .bind(cause)
            .bind(body.to_string())
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            queued += 1;
        }
    }
    Ok(queued)
}

/// Whether an endpoint's filter (`*` or comma-separated BTCPay names) takes `kind`.
fn wants(filter: &str, kind: BtcpayEvent) -> bool {
    filter == "*" || filter.split(',').any(|f| f == kind.as_str())
}

/// The invoice facts a payment's events need.
#[derive(sqlx::FromRow)]
struct PaidInvoice {
    expires_at: i64,
    paid_at: Option<i64>,
    amount_msat: Option<i64>,
    amount_received_msat: Option<i64>,
    payment_request: String,
    onchain_address: Option<String>,
    marked: Option<String>,
}

/// The BTCPay events one of our logged events stands for, queued for BTCPay-format endpoints
/// (the event log's outbox calls this in the event's own transaction).
pub(crate) async fn fan_out_logged(
    tx: &mut SqliteConnection,
    kind: &str,
    event_id: &str,
    payload: &Map<String, Value>,
) -> Result<u64> {
    let Some(invoice_id) = payload.get("invoice_id").and_then(Value::as_str) else {
        return Ok(0);
    };
    let any: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM webhooks WHERE format = 'btcpay' LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
    if any.is_none() {
        return Ok(0);
    }
    let invoice: Option<PaidInvoice> = sqlx::query_as(
        "SELECT i.expires_at, i.paid_at, i.amount_msat, i.amount_received_msat,
                i.payment_request, i.onchain_address, g.marked
         FROM invoices i LEFT JOIN greenfield_invoices g ON g.invoice_id = i.id
         WHERE i.id = ?",
    )
    .bind(invoice_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(invoice) = invoice else {
        return Ok(0);
    };
    let events = match kind {
        "payment.received" => payment_events(&invoice, payload),
        "invoice.expired" if invoice.marked.is_none() => vec![Queued {
            kind: BtcpayEvent::InvoiceExpired,
            fields: fields(json!({ "partiallyPaid": false, "manuallyMarked": false })),
        }],
        _ => return Ok(0),
    };
    queue(tx, kind, event_id, invoice_id, &events).await
}

/// `InvoiceReceivedPayment`, `InvoicePaymentSettled` and (unless marked) `InvoiceSettled`.
fn payment_events(invoice: &PaidInvoice, payload: &Map<String, Value>) -> Vec<Queued> {
    let txid = payload.get("txid").and_then(Value::as_str);
    let received = payload
        .get("amount_msat")
        .and_then(Value::as_u64)
        .or(invoice.amount_received_msat.map(|m| m.max(0) as u64))
        .unwrap_or(0);
    let paid_at = invoice.paid_at.unwrap_or_else(now_ms);
    let after_expiration = paid_at > invoice.expires_at;
    let over_paid = invoice
        .amount_msat
        .is_some_and(|asked| received > asked.max(0) as u64);
    let (method, destination, id) = match (txid, &invoice.onchain_address) {
        (Some(txid), Some(address)) => ("BTC-CHAIN", address.clone(), txid.to_string()),
        _ => (
            "BTC-LN",
            invoice.payment_request.clone(),
            payload
                .get("payment_hash")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        ),
    };
    let payment = json!({
        "id": id,
        "receivedDate": paid_at / 1000,
        "value": btc_string(received),
        "fee": "0",
        "status": "Settled",
        "destination": destination,
    });
    let with_payment = fields(json!({
        "afterExpiration": after_expiration,
        "paymentMethodId": method,
        "paymentMethod": method,
        "payment": payment,
        "overPaid": over_paid,
    }));
    let mut events = vec![
        Queued {
            kind: BtcpayEvent::InvoiceReceivedPayment,
            fields: with_payment.clone(),
        },
        Queued {
            kind: BtcpayEvent::InvoicePaymentSettled,
            fields: with_payment,
        },
    ];
    // Paid after its expiry, BTCPay keeps the invoice `Expired` (`PaidLate`) and sends no
    // settlement; marked by hand, the shop's mark stands.
    if invoice.marked.is_none() && !after_expiration {
        events.push(Queued {
            kind: BtcpayEvent::InvoiceProcessing,
            fields: fields(json!({ "overPaid": over_paid })),
        });
        events.push(Queued {
            kind: BtcpayEvent::InvoiceSettled,
            fields: fields(json!({ "manuallyMarked": false, "overPaid": over_paid })),
        });
    }
    events
}

/// A JSON object's fields (empty for anything else).
pub(crate) fn fields(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn btc_amounts_are_exact() {
        assert_eq!(btc_string(0), "0");
        assert_eq!(btc_string(1), "0.00000000001");
        assert_eq!(btc_string(12_000_000), "0.00012");
        assert_eq!(btc_string(100_000_000_000), "1");
        assert_eq!(btc_string(2_100_000_000_000_000_000), "21000000");
        assert_eq!(btc_string(150_000_000_000), "1.5");
    }

    #[test]
    fn names_round_trip_and_filters_match() {
        for e in BtcpayEvent::ALL {
            assert_eq!(BtcpayEvent::parse(e.as_str()), Some(e));
            assert_eq!(serde_json::to_value(e).ok(), Some(json!(e.as_str())));
        }
        assert!(wants("*", BtcpayEvent::InvoiceSettled));
        assert!(wants(
            "InvoiceExpired,InvoiceSettled",
            BtcpayEvent::InvoiceSettled
        ));
        assert!(!wants("InvoiceExpired", BtcpayEvent::InvoiceSettled));
    }
}
