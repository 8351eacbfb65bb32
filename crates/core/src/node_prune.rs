//! Keeps the node's own payment store to what is still live.
//!
//! ldk-node keeps every payment it ever made or received (an invoice counts from the moment it is
//! made) in memory, and reads them all at start (`ldk-node` `data_store.rs`, `builder.rs`
//! `read_payments`): a shop's history would grow the app's memory and start-up time forever.
//! This app's database holds every payment's final state, so once it does, the node's record
//! serves nothing and is removed with `Node::remove_payment`:
//!
//! - **a payment sent:** once it succeeded or failed here, with no attempt pending (a pending one
//!   is read back from the node's record after a restart, see `payments::resume`). Paying the
//!   same invoice again is refused by this app's own record (`payments_live_hash`).
//! - **an invoice unpaid past its expiry:** at once. A payment that still arrives (LDK accepts a
//!   payer's HTLC until its own clock, the latest block's time, passes the expiry) is claimed
//!   without the record (ldk-node claims a payment it has no record of) and turns the invoice
//!   paid, as before. A just-in-time invoice's LSP fee limit lived in that record, so a late
//!   payment through the LSP's new channel is refused instead: it is late anyway.
//! - **an invoice paid:** [`PAID_MARGIN`] after its expiry. Until LDK's clock passes the expiry,
//!   the node's record is what refuses a second payment of the same invoice; a day covers block
//!   times that lag behind the clock.
//!
//! It looks every [`EVERY`], first right after the node starts. Each removal is one write of the
//! node's store, done off the async workers, and a stop is heard between batches. A record the
//! app knows nothing of (made straight on the node) is left alone.

use std::sync::Arc;
use std::time::Duration;

use ldk_node::lightning::ln::channelmanager::PaymentId;
use ldk_node::payment::{PaymentDirection, PaymentKind, PaymentStatus};
use ldk_node::Node;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::invoices::db as invoices;
use crate::payments::db as payments;
use crate::store::Store;
use crate::util::now_ms;

/// How often the node's store is looked through.
const EVERY: Duration = Duration::from_secs(60);
/// How long after its expiry a paid invoice's record is kept.
const PAID_MARGIN: Duration = Duration::from_secs(24 * 3600);
/// Records looked up in the database, and removed, at a time.
const BATCH: usize = 500;

/// Prunes the node's store until `stop`.
pub(crate) async fn run(node: Arc<Node>, store: Store, stop: CancellationToken) {
    loop {
        match prune(&node, &store, &stop).await {
            Ok(0) => {}
            Ok(removed) => {
                tracing::info!(removed, "finished payments left the node's own store")
            }
            Err(e) => tracing::warn!(error = %e, "pruning the node's payment store failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = stop.cancelled() => return,
        }
    }
}

/// One pass: returns how many records were removed.
async fn prune(node: &Arc<Node>, store: &Store, stop: &CancellationToken) -> Result<usize> {
    let listing = node.clone();
    let (received, sent) = tokio::task::spawn_blocking(move || candidates(&listing))
        .await
        .map_err(|e| Error::Node(format!("listing the node's payments: {e}")))?;
    let margin_ms = i64::try_from(PAID_MARGIN.as_millis()).unwrap_or(i64::MAX);
    let mut removed = 0;
    for (candidates, sent) in [(received, false), (sent, true)] {
        for batch in candidates.chunks(BATCH) {
            if stop.is_cancelled() {
                return Ok(removed);
            }
            let hashes: Vec<String> = batch.iter().map(|(_, hash)| hash.clone()).collect();
            let done = if sent {
                payments::settled_of(store, &hashes).await?
            } else {
                invoices::finished_for_node(store, &hashes, now_ms(), margin_ms).await?
            };
            let done: std::collections::HashSet<String> = done.into_iter().collect();
            let ids: Vec<PaymentId> = batch
                .iter()
                .filter(|(_, hash)| done.contains(hash))
                .map(|(id, _)| *id)
                .collect();
            let removing = node.clone();
            removed += tokio::task::spawn_blocking(move || {
                ids.iter()
                    // Looked at again: a payment sent again since the list was taken (after a
                    // failure, under the same id) is pending once more and keeps its record.
                    .filter(|id| {
                        removing.payment(id).is_some_and(|p| {
                            p.direction == PaymentDirection::Inbound
                                || p.status != PaymentStatus::Pending
                        })
                    })
                    .filter(|id| removing.remove_payment(id).is_ok())
                    .count()
            })
            .await
            .map_err(|e| Error::Node(format!("removing finished payments: {e}")))?;
        }
    }
    Ok(removed)
}

/// The node's records that may be finished, with their payment hash: every received one (an
/// unpaid invoice's record says pending for ever) and every sent one that is no longer pending.
type Candidates = Vec<(PaymentId, String)>;

fn candidates(node: &Node) -> (Candidates, Candidates) {
    let (mut received, mut sent) = (Vec::new(), Vec::new());
    // The filter sees every record without copying it; nothing is returned.
    node.list_payments_with_filter(|p| {
        let hash = match &p.kind {
            PaymentKind::Bolt11 { hash, .. } | PaymentKind::Bolt11Jit { hash, .. } => Some(*hash),
            PaymentKind::Bolt12Offer { hash, .. } | PaymentKind::Bolt12Refund { hash, .. } => *hash,
            PaymentKind::Spontaneous { hash, .. } => Some(*hash),
            PaymentKind::Onchain { .. } => None,
        };
        if let Some(hash) = hash {
            let entry = (p.id, hash.to_string());
            match p.direction {
                PaymentDirection::Inbound => received.push(entry),
                PaymentDirection::Outbound if p.status != PaymentStatus::Pending => {
                    sent.push(entry)
                }
                PaymentDirection::Outbound => {}
            }
        }
        false
    });
    (received, sent)
}
