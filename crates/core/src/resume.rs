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
use ldk_node::payment::PaymentStatus;
use ldk_node::{LightningBalance, Node, NodeError};

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
    if htlc_on_chain(node, &channels, &hash) {
        return Resumed::OnChain;
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

/// Whether an outgoing HTLC of `hash` waits in a closed channel's on-chain claims.
fn htlc_on_chain(node: &Node, channels: &[ldk_node::ChannelDetails], hash: &[u8; 32]) -> bool {
    let open: std::collections::HashSet<_> = channels.iter().map(|c| c.channel_id).collect();
    node.list_balances()
        .lightning_balances
        .iter()
        .any(|b| match b {
            LightningBalance::MaybeTimeoutClaimableHTLC {
                channel_id,
                payment_hash,
                outbound_payment: true,
                ..
            } => !open.contains(channel_id) && &payment_hash.0 == hash,
            _ => false,
        })
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
