//! Outgoing payments that a kill may have cut loose inside LDK, handed back to the node.
//!
//! ldk-node writes a payment to its store as soon as LDK's ChannelManager has accepted it, but the
//! manager itself is written later, in the background (rust-lightning #4286, ldk-node #451). A
//! kill in between restarts a manager that never heard of the payment, while the store still says
//! `Pending`: no event will ever settle it. Nothing of such a payment was committed (an HTLC is
//! written to a ChannelMonitor before it goes out, and LDK rebuilds payments from the monitors of
//! the channels it force-closes for being ahead of the manager), so sending it again is safe.
//!
//! There is no call that asks the manager whether it knows a payment, so each payment still
//! pending [`GRACE`] after the start is handed back to it under its own payment id (ldk-node's
//! record is removed first, or ldk-node would refuse it itself):
//! - the manager still has it: LDK refuses it as a duplicate; it is in flight and its event comes;
//! - the manager lost it: it goes out now;
//! - its HTLC waits in a force-closed channel's on-chain claims: it is left alone, the chain
//!   settles it and LDK reports how;
//! - a force-closed channel whose commitment is not confirmed yet holds outgoing HTLCs below the
//!   dust limit (no output of their own, so balances do not name their payment): nothing is
//!   handed back until it confirms, since the payment may be one of them;
//! - refused for another reason (no route, expired): LDK looks for a route *before* it checks
//!   for duplicates, so this cannot tell "lost" from "in flight". Nothing is handed back while
//!   any channel is unusable (a peer away may hold the payment's HTLC: the payment waits, as long
//!   as it takes); with every channel usable, a payment in flight settles in seconds, so one
//!   still refused after [`GIVE_UP_AFTER`] of tries every [`RETRY_EVERY`] counts as failed, with
//!   LDK's reason. If LDK still reports success later, it becomes succeeded (see
//!   `payments::mark_succeeded`).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use ldk_node::bitcoin::hashes::Hash;
use ldk_node::lightning::ln::channelmanager::PaymentId;
use ldk_node::lightning::routing::router::RouteParametersConfig;
use ldk_node::lightning_invoice::Bolt11Invoice;
use ldk_node::payment::{PaymentKind, PaymentStatus};
use ldk_node::{LightningBalance, Node, NodeError};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::{db, send};
use crate::error::Result;
use crate::events::EventRecord;
use crate::store::Store;

/// How long a payment left pending may take to settle by itself before it is handed back.
pub(crate) const GRACE: Duration = Duration::from_secs(15);
/// How often a payment the node refused is handed back again.
pub(crate) const RETRY_EVERY: Duration = Duration::from_secs(5);
/// How long refusals are retried before the payment counts as failed.
pub(crate) const GIVE_UP_AFTER: Duration = Duration::from_secs(120);

/// What handing a payment back to the node found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resumed {
    /// The manager has it: its outcome will be reported as for any payment.
    InFlight,
    /// Its HTLC is in a force-closed channel: the chain settles it.
    OnChain,
    /// The manager had lost it, and it was sent again.
    Resent,
    /// Already settled in the node's record: `Ok(fee)` or `Err(())` for failed.
    Settled(Result<Option<u64>, ()>),
    /// Refused for a reason that does not tell (said for people).
    Refused(String),
    /// Settled meanwhile by another path (its event came).
    NoLongerPending,
    /// Not handed back yet: a channel is not usable (its peer is away, or it is still opening).
    Waiting,
}

/// A payment to hand back: its invoice, the amount for an any-amount invoice, its fee cap.
pub(crate) struct Handback {
    pub invoice: Bolt11Invoice,
    pub amount_msat: u64,
    pub route: Option<RouteParametersConfig>,
}

/// Hands one payment back to `node` (blocking: call it from a blocking task). `probed` says
/// whether an earlier call already did: then a `Failed` record is that call's own refusal, not
/// an outcome.
pub(crate) fn hand_back(node: &Node, payment: &Handback, probed: bool) -> Resumed {
    let hash = payment.invoice.payment_hash().to_byte_array();
    let id = PaymentId(hash);
    let record = node.payment(&id).map(|p| (p.status, p.fee_paid_msat));
    match record {
        Some((PaymentStatus::Succeeded, fee)) => return Resumed::Settled(Ok(fee)),
        Some((PaymentStatus::Failed, _)) if !probed => return Resumed::Settled(Err(())),
        _ => {}
    }
    let channels = node.list_channels();
    match closed_channel_htlcs(node, &channels, &hash) {
        ClosedHtlcs::Ours => return Resumed::OnChain,
        // A closed channel's commitment is not confirmed yet and carries outgoing payment HTLCs
        // too small to have an output of their own (below the dust limit): balances do not name
        // their payment, so this one may be among them. The manager has such a payment (LDK
        // rebuilds it from the monitor) and the confirmation settles it; handing it back now
        // would only drop ldk-node's record of it.
        ClosedHtlcs::Unnamed => return Resumed::Waiting,
        ClosedHtlcs::None => {}
    }
    // With a peer away, the payment's HTLC may sit in that channel: the node could refuse it for
    // want of a route while it still has it. Hand it back only when every channel is usable.
    if channels.iter().any(|c| !c.is_usable) {
        return Resumed::Waiting;
    }
    if record.is_some() && node.remove_payment(&id).is_err() {
        return Resumed::Refused("the node's payment record could not be updated".into());
    }
    let bolt11 = node.bolt11_payment();
    let sent = match payment.invoice.amount_milli_satoshis() {
        Some(_) => bolt11.send(&payment.invoice, payment.route),
        None => bolt11.send_using_amount(&payment.invoice, payment.amount_msat, payment.route),
    };
    match sent {
        Ok(_) => Resumed::Resent,
        Err(NodeError::DuplicatePayment) => Resumed::InFlight,
        Err(e) => Resumed::Refused(crate::node::explain(&e)),
    }
}

/// What closed channels still hold of outgoing payments.
enum ClosedHtlcs {
    /// An HTLC of this payment waits in a closed channel's on-chain claims.
    Ours,
    /// A closed channel's unconfirmed commitment holds outgoing payment HTLCs without an output
    /// of their own, whose payments the balances do not name.
    Unnamed,
    None,
}

/// Whether an outgoing HTLC of `hash` waits in a closed channel's on-chain claims, or may.
fn closed_channel_htlcs(
    node: &Node,
    channels: &[ldk_node::ChannelDetails],
    hash: &[u8; 32],
) -> ClosedHtlcs {
    let open: std::collections::HashSet<_> = channels.iter().map(|c| c.channel_id).collect();
    let mut found = ClosedHtlcs::None;
    for balance in node.list_balances().lightning_balances {
        match balance {
            LightningBalance::MaybeTimeoutClaimableHTLC {
                channel_id,
                payment_hash,
                outbound_payment: true,
                ..
            } if !open.contains(&channel_id) && &payment_hash.0 == hash => {
                return ClosedHtlcs::Ours
            }
            LightningBalance::ClaimableOnChannelClose {
                channel_id,
                outbound_payment_htlc_rounded_msat,
                ..
            } if !open.contains(&channel_id) && outbound_payment_htlc_rounded_msat > 0 => {
                found = ClosedHtlcs::Unnamed;
            }
            _ => {}
        }
    }
    found
}

/// Hands `payment` back to `node` until the node has it, it is settled, or [`GIVE_UP_AFTER`]
/// has passed. It first waits [`GRACE`] for the payment to settle by itself: a payment the
/// manager still has settles within seconds once peers are back, and handing it back would drop
/// ldk-node's record of it (its outcome still comes as an event). `still_pending(probed)` is
/// asked before each step (another path may have settled it; `probed` says whether a hand-back
/// has run, whose refusal the node records as `Failed`). Returns the last finding.
pub(crate) async fn hand_back_until_known<F, Fut>(
    node: Arc<Node>,
    payment: Arc<Handback>,
    mut still_pending: F,
) -> Resumed
where
    F: FnMut(bool) -> Fut,
    Fut: Future<Output = bool>,
{
    let start = tokio::time::Instant::now();
    while start.elapsed() < GRACE {
        if !still_pending(false).await {
            return Resumed::NoLongerPending;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let mut deadline = start + GIVE_UP_AFTER;
    let mut probed = false;
    loop {
        if !still_pending(probed).await {
            return Resumed::NoLongerPending;
        }
        let (n, p) = (node.clone(), payment.clone());
        let found = tokio::task::spawn_blocking(move || hand_back(&n, &p, probed))
            .await
            .unwrap_or_else(|e| Resumed::Refused(format!("task failed: {e}")));
        match found {
            // Waiting for peers does not use up the time refusals are given.
            Resumed::Waiting => {
                deadline = tokio::time::Instant::now() + GIVE_UP_AFTER;
                tokio::time::sleep(RETRY_EVERY).await;
            }
            Resumed::Refused(_) if tokio::time::Instant::now() < deadline => {
                probed = true;
                tokio::time::sleep(RETRY_EVERY).await;
            }
            other => return other,
        }
    }
}

/// Settles payments that were pending when we last stopped with what the node's record says,
/// and hands the others back to the node in the background (see the module's doc): a kill can
/// leave LDK's record saying `Pending` for a payment its ChannelManager lost.
pub(crate) async fn reconcile(
    node: &Arc<Node>,
    store: &Store,
    live: &broadcast::Sender<EventRecord>,
    tasks: &TaskTracker,
    stop: &CancellationToken,
) -> Result<()> {
    for p in db::pending(store).await? {
        let Some(id) = payment_id(&p.payment_hash) else {
            continue;
        };
        let details = node.payment(&id);
        let outcome = match details.as_ref().map(|d| d.status) {
            Some(PaymentStatus::Succeeded) => Ok(details.and_then(|d| d.fee_paid_msat)),
            Some(PaymentStatus::Failed) => Err("failed while the app was stopped".to_string()),
            Some(PaymentStatus::Pending) | None => match super::parse_invoice(&p.invoice) {
                Ok(invoice) => {
                    tasks.spawn(resume_payment(
                        node.clone(),
                        store.clone(),
                        live.clone(),
                        p,
                        invoice,
                        stop.clone(),
                    ));
                    continue;
                }
                Err(_) => Err("its invoice could not be read back".to_string()),
            },
        };
        let records = send::settle(
            store,
            &p.payment_hash,
            outcome.as_ref().copied().map_err(String::as_str),
            preimage(node, id),
        )
        .await?;
        tracing::info!(payment = %p.id, "reconciled a payment left pending");
        for r in records {
            let _ = live.send(r);
        }
    }
    Ok(())
}

fn payment_id(hash: &str) -> Option<PaymentId> {
    <[u8; 32]>::try_from(hex::decode(hash).ok()?)
        .ok()
        .map(PaymentId)
}

fn preimage(node: &Node, id: PaymentId) -> Option<String> {
    match node.payment(&id)?.kind {
        PaymentKind::Bolt11 { preimage, .. } => preimage.map(|p| p.to_string()),
        _ => None,
    }
}

/// Hands a payment left pending back to the node until the node has it or it is settled, and
/// records the outcome when that is already known.
async fn resume_payment(
    node: Arc<Node>,
    store: Store,
    live: broadcast::Sender<EventRecord>,
    pending: db::PendingSend,
    invoice: Bolt11Invoice,
    stop: CancellationToken,
) {
    let hash = pending.payment_hash.clone();
    let payment = Arc::new(Handback {
        invoice,
        amount_msat: pending.amount_msat.max(0) as u64,
        route: Some(RouteParametersConfig {
            max_total_routing_fee_msat: pending.max_fee_msat.map(|m| m.max(0) as u64),
            ..RouteParametersConfig::default()
        }),
    });
    let id = pending.id.clone();
    let handing = hand_back_until_known(node.clone(), payment, |_| {
        let (store, id) = (store.clone(), id.clone());
        async move { db::is_pending(&store, &id).await.unwrap_or(false) }
    });
    // On shutdown it is left pending: the next start hands it back again.
    let found = tokio::select! {
        found = handing => found,
        _ = stop.cancelled() => return,
    };
    let outcome = match &found {
        Resumed::InFlight | Resumed::OnChain | Resumed::NoLongerPending | Resumed::Waiting => {
            return
        }
        Resumed::Resent => {
            tracing::warn!(payment = %pending.id, "the node had lost a payment cut off by a crash; it was sent again");
            return;
        }
        Resumed::Settled(Ok(fee)) => Ok(*fee),
        Resumed::Settled(Err(())) => Err("failed while the app was stopped".to_string()),
        Resumed::Refused(reason) => Err(format!("could not be resumed after a restart: {reason}")),
    };
    let preimage = payment_id(&hash).and_then(|id| preimage(&node, id));
    // A refusal cannot tell a payment the manager lost from one still in flight (see the
    // module's doc): its failure is not LDK's last word.
    let settled = match (&found, &outcome) {
        (Resumed::Refused(_), Err(reason)) => send::settle_unsure(&store, &hash, reason).await,
        _ => {
            send::settle(
                &store,
                &hash,
                outcome.as_ref().copied().map_err(String::as_str),
                preimage,
            )
            .await
        }
    };
    match settled {
        Ok(records) => {
            tracing::info!(payment = %pending.id, "reconciled a payment left pending");
            for r in records {
                let _ = live.send(r);
            }
        }
        Err(e) => tracing::error!(error = %e, payment = %pending.id, "recording a resumed payment"),
    }
}
