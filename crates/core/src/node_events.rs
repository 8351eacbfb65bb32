//! The node-event task: turns each LDK event into one SQLite transaction (row change + event-log
//! row) and only after the commit acknowledges it with `event_handled()`. LDK replays events that
//! were not acknowledged (after a crash), and every handler is idempotent, so a replay changes
//! nothing and logs nothing twice.

use std::sync::Arc;
use std::time::Duration;

use ldk_node::{Event, Node};
use serde_json::json;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::error::Result;
use crate::events::{self, EventKind, EventRecord};
use crate::invoices::db as invoices;
use crate::offers::{db as offers, OfferPayment};
use crate::payments::send;
use crate::rates::{RateService, Recorded};
use crate::store::Store;
use crate::util::now_ms;

/// Records the node's events until `stop`. Each committed event is also sent on `tx`.
pub(crate) async fn record_node_events(
    node: Arc<Node>,
    store: Store,
    rates: Arc<RateService>,
    tx: broadcast::Sender<EventRecord>,
    stop: CancellationToken,
) {
    loop {
        let event = tokio::select! {
            event = node.next_event_async() => event,
            _ = stop.cancelled() => return,
        };
        // A database failure must not acknowledge the event: retry until it is recorded (or we
        // are stopped, in which case LDK hands it to us again on the next start).
        let mut delay = Duration::from_millis(100);
        let detail = Received::of(&node, &event, &rates);
        let records = loop {
            match handle(&store, &event, &detail).await {
                Ok(records) => break records,
                Err(e) => {
                    tracing::error!(error = %e, ?event, "recording a node event failed; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = stop.cancelled() => return,
                    }
                    delay = (delay * 2).min(Duration::from_secs(10));
                }
            }
        };
        // A synchronous store write: off the async workers (see `Invoices::create`).
        let acking = node.clone();
        let acked = tokio::task::spawn_blocking(move || acking.event_handled())
            .await
            .unwrap_or(Err(ldk_node::NodeError::PersistenceFailed));
        if let Err(e) = acked {
            // The event will be replayed after a restart; recording it is idempotent.
            tracing::error!(error = %e, "acknowledging a node event failed");
        }
        for record in records {
            let _ = tx.send(record);
        }
    }
}

/// What the node's record and the app know of a received payment beyond its event.
#[derive(Debug, Default)]
pub(crate) struct Received {
    /// What an LSP kept of it for opening a channel.
    lsp_fee_msat: Option<u64>,
    /// The offer it paid, with the payer's note and quantity (a payment to a static QR).
    offer: Option<OfferPayment>,
    /// The merchant's rate now, to value a payment that had no invoice to carry one.
    rate: Option<Recorded>,
}

impl Received {
    fn of(node: &Node, event: &Event, rates: &RateService) -> Received {
        let Event::PaymentReceived {
            payment_id: Some(id),
            ..
        } = event
        else {
            return Received::default();
        };
        let Some(kind) = node.payment(id).map(|p| p.kind) else {
            return Received::default();
        };
        let lsp_fee_msat = match &kind {
            ldk_node::payment::PaymentKind::Bolt11Jit {
                counterparty_skimmed_fee_msat,
                ..
            } => *counterparty_skimmed_fee_msat,
            _ => None,
        };
        let offer = OfferPayment::of(&kind);
        Received {
            lsp_fee_msat,
            rate: offer.as_ref().and_then(|_| rates.merchant_rate()),
            offer,
        }
    }
}

/// Records one node event (`received`: what else is known of a received payment). Returns the
/// event-log rows it appended (none for a replay).
pub(crate) async fn handle(
    store: &Store,
    event: &Event,
    received: &Received,
) -> Result<Vec<EventRecord>> {
    let mut out = Vec::new();
    // The event-log append looks before it inserts: hold the write lock from the start.
    let mut tx = store.begin_write().await?;
    let at = now_ms();
    match event {
        Event::PaymentReceived {
            payment_hash,
            amount_msat,
            ..
        } => {
            let hash = payment_hash.to_string();
            let lsp_fee_msat = received.lsp_fee_msat;
            // A replay finds the invoice paid already (`None`) and the event's dedupe key taken,
            // so it appends nothing; a payment to an invoice we do not know is still logged.
            // A payment to one of our offers has no invoice yet: it becomes one, paid.
            let invoice = match invoices::mark_paid(&mut tx, &hash, *amount_msat, lsp_fee_msat, at)
                .await?
            {
                Some(invoice) => Some(invoice),
                None => match &received.offer {
                    Some(paid) => {
                        let rate = received.rate.as_ref();
                        offers::record_payment(&mut tx, paid, &hash, *amount_msat, rate, at).await?
                    }
                    None => None,
                },
            };
            let payload = crate::invoices::received_payload(
                invoice.as_ref(),
                &hash,
                *amount_msat,
                lsp_fee_msat,
                received
                    .offer
                    .as_ref()
                    .and_then(|o| o.payer_note.as_deref()),
                received.offer.as_ref().and_then(|o| o.quantity),
                None,
            );
            let key = format!("payment.received:{hash}");
            out.extend(events::append(&mut tx, EventKind::PaymentReceived, &key, payload).await?);
        }
        Event::PaymentSuccessful {
            payment_hash,
            payment_preimage,
            fee_paid_msat,
            ..
        } => {
            let preimage = payment_preimage.map(|p| p.to_string());
            let hash = payment_hash.to_string();
            out.extend(send::settle_in(&mut tx, &hash, Ok(*fee_paid_msat), preimage).await?);
        }
        Event::PaymentFailed {
            payment_hash: Some(payment_hash),
            reason,
            ..
        } => {
            let reason = reason
                .map(|r| format!("{r:?}"))
                .unwrap_or_else(|| "unknown".into());
            let hash = payment_hash.to_string();
            out.extend(send::settle_in(&mut tx, &hash, Err(&reason), None).await?);
        }
        Event::ChannelReady {
            channel_id,
            counterparty_node_id,
            funding_txo,
            ..
        } => {
            let payload = json!({
                "channel_id": channel_id.to_string(),
                "counterparty_node_id": counterparty_node_id.map(|n| n.to_string()),
                "funding_txo": funding_txo.map(|o| o.to_string()),
            });
            let key = format!("channel.opened:{channel_id}");
            out.extend(events::append(&mut tx, EventKind::ChannelOpened, &key, payload).await?);
        }
        Event::ChannelClosed {
            channel_id,
            counterparty_node_id,
            reason,
            ..
        } => {
            let payload = json!({
                "channel_id": channel_id.to_string(),
                "counterparty_node_id": counterparty_node_id.map(|n| n.to_string()),
                "reason": reason.as_ref().map(|r| r.to_string()),
            });
            let key = format!("channel.closed:{channel_id}");
            out.extend(events::append(&mut tx, EventKind::ChannelClosed, &key, payload).await?);
        }
        other => tracing::debug!(event = ?other, "node event not recorded"),
    }
    tx.commit().await?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invoices::InvoiceStatus;
    use crate::store::test_support::temp_store;
    use ldk_node::lightning_types::payment::PaymentHash;

    /// LDK hands the same event again after a crash before `event_handled()`: the second time
    /// changes nothing and logs nothing.
    #[tokio::test]
    async fn replayed_payment_received_is_recorded_once() -> Result<()> {
        let (_dir, store) = temp_store().await;
        let hash = PaymentHash([7u8; 32]);
        sqlx::query(
            "INSERT INTO invoices (id, payment_hash, amount_msat, description, payment_request, expiry,
                 expires_at, created_at, status) VALUES ('inv_t', ?, 5000, 'tea', 'lnbcrt', 60, ?, 0, 'pending')",
        )
        .bind(hash.to_string())
        .bind(now_ms() + 60_000)
        .execute(store.pool())
        .await?;
        let event = Event::PaymentReceived {
            payment_id: None,
            payment_hash: hash,
            amount_msat: 5000,
            custom_records: Vec::new(),
        };
        let first = handle(&store, &event, &Received::default()).await?;
        let replay = handle(&store, &event, &Received::default()).await?;
        assert_eq!(first.len(), 1);
        assert_eq!(
            first[0].payload.get("invoice_id"),
            Some(&serde_json::json!("inv_t"))
        );
        assert_eq!(first[0].payload.get("amount"), Some(&serde_json::json!(5)));
        assert!(replay.is_empty());
        assert_eq!(crate::events::list(&store, 0, 10).await?.len(), 1);
        assert_eq!(
            invoices::get(&store, "inv_t").await?.status,
            InvoiceStatus::Paid
        );

        // A payment for an invoice we do not know is still logged, once.
        let stray = Event::PaymentReceived {
            payment_id: None,
            payment_hash: PaymentHash([8u8; 32]),
            amount_msat: 1000,
            custom_records: Vec::new(),
        };
        assert_eq!(handle(&store, &stray, &Received::default()).await?.len(), 1);
        assert!(handle(&store, &stray, &Received::default())
            .await?
            .is_empty());
        Ok(())
    }

    /// A payment to one of our offers becomes a paid invoice carrying the payer's note and
    /// quantity, once, however often LDK replays its event; each payment is its own record.
    #[tokio::test]
    async fn offer_payments_become_paid_invoices_once() -> Result<()> {
        let (_dir, store) = temp_store().await;
        crate::offers::db::insert(
            &store,
            crate::offers::db::NewOffer {
                id: "ofr_t",
                offer: "lno1test",
                offer_hash: "aa",
                description: "Coffee",
                amount_msat: Some(3_000_000),
                max_quantity: Some(5),
                created_at: 1,
                key_id: Some("key_pos"),
            },
        )
        .await?;
        let pay = |byte: u8, note: &str| {
            let event = Event::PaymentReceived {
                payment_id: None,
                payment_hash: PaymentHash([byte; 32]),
                amount_msat: 6_000_000,
                custom_records: Vec::new(),
            };
            let received = Received {
                offer: Some(OfferPayment {
                    offer_hash: "aa".into(),
                    payer_note: Some(note.into()),
                    quantity: Some(2),
                }),
                ..Received::default()
            };
            (event, received)
        };
        let (first, first_detail) = pay(1, "table 4");
        let logged = handle(&store, &first, &first_detail).await?;
        assert_eq!(logged.len(), 1);
        assert_eq!(
            logged[0].payload["payer_note"],
            serde_json::json!("table 4")
        );
        assert_eq!(logged[0].payload["offer_id"], serde_json::json!("ofr_t"));
        assert!(handle(&store, &first, &first_detail).await?.is_empty());
        let (second, second_detail) = pay(2, "thanks!");
        assert_eq!(handle(&store, &second, &second_detail).await?.len(), 1);

        let made = invoices::list(&store, &Default::default(), Some("key_pos"), 10, None)
            .await?
            .data;
        assert_eq!(made.len(), 2);
        assert!(made.iter().all(|i| i.status == InvoiceStatus::Paid
            && i.offer_id.as_deref() == Some("ofr_t")
            && i.amount_msat == Some(6_000_000)
            && i.quantity == Some(2)
            && i.payment_request == "lno1test"));
        assert_eq!(made[0].payer_note.as_deref(), Some("thanks!"));
        let offer = crate::offers::db::get(&store, "ofr_t", None).await?;
        assert_eq!((offer.payments, offer.amount_received), (2, 12_000));
        Ok(())
    }
}
