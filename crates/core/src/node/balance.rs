//! What the merchant holds and what state the node is in: balance, channels, health.

use ldk_node::payment::{ConfirmationStatus, PaymentDirection, PaymentKind};
use serde::Serialize;

use super::{NodeHandle, NodeState, NodeStatus};
use crate::error::Result;

/// Where a channel stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChannelState {
    /// Its funding transaction is not confirmed enough yet.
    Pending,
    /// Confirmed, but the peer is not connected: it cannot carry payments now.
    Ready,
    /// Carries payments.
    Usable,
}

/// The node's health as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    /// Running and synced with the chain.
    Ok,
    /// Being built or started.
    Starting,
    /// Not running, or not synced recently.
    Degraded,
}

/// Lightning balance, in sats.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LightningBalance {
    /// What can be sent now (sum of usable channels' outbound capacity).
    pub spendable: u64,
    /// What can be received now (sum of usable channels' inbound capacity).
    pub receivable: u64,
    /// The largest single payment that can be received now. LDK lets only part of a channel be in
    /// flight at once, so this can be well below `receivable`.
    pub max_single_receive: u64,
    /// What the merchant owns in channels: their balances before the on-chain fee a close would
    /// cost. Unlike LDK's "claimable on close" figure it moves by exactly the amounts paid and
    /// received (that figure also moves when the commitment transaction gains an output).
    pub total: u64,
}

/// On-chain balance, in sats.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OnchainBalance {
    /// Confirmed funds.
    pub confirmed: u64,
    /// Incoming funds not yet confirmed.
    pub unconfirmed: u64,
    /// Funds that can be spent now (less the reserve kept for anchor-channel fee bumps).
    pub spendable: u64,
}

/// Money of closed channels on its way back to the on-chain wallet, in sats.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClosingBalance {
    /// All of it.
    pub total: u64,
    /// Each part, with when it becomes spendable.
    pub entries: Vec<ClosingEntry>,
}

/// Where a closed channel's money is on its way back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClosingState {
    /// The closing transaction is not confirmed yet.
    AwaitingCloseConfirmation,
    /// The closing transaction is confirmed; the money is locked until `spendable_at_height`
    /// (after a force-close, our own output waits out the channel's delay).
    Timelocked,
    /// A payment in flight when the channel closed, to be claimed by whoever can first.
    Contested,
    /// Spendable, waiting for the sweep transaction that moves it into the on-chain wallet
    /// (once that is broadcast, the wallet counts it).
    Sweeping,
}

/// One part of [`ClosingBalance`].
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClosingEntry {
    /// Hex id of the closed channel, when known.
    pub channel_id: Option<String>,
    /// The peer, when known.
    pub counterparty_node_id: Option<String>,
    /// Amount in sats.
    pub amount: u64,
    /// Where it is.
    pub state: ClosingState,
    /// The block height from which it can be spent, when known.
    pub spendable_at_height: Option<u32>,
    /// Blocks until then (0 once reached), when known.
    pub blocks_left: Option<u32>,
}

/// The balance object of `GET /v1/lightning/balance`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Balance {
    /// Lightning, in open channels.
    pub lightning: LightningBalance,
    /// Closed channels' money on its way back on-chain (after a force-close this takes the
    /// channel's delay, often a day or two of blocks).
    pub closing: ClosingBalance,
    /// On-chain.
    pub onchain: OnchainBalance,
    /// Lightning total plus closing plus on-chain confirmed and unconfirmed.
    pub total: u64,
}

/// A channel as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Channel {
    /// Hex channel id.
    pub channel_id: String,
    /// Our own id for it (also accepted when closing).
    pub user_channel_id: String,
    /// The peer.
    pub counterparty_node_id: String,
    /// Channel size in sats.
    pub capacity: u64,
    /// What we can send, in sats.
    pub outbound: u64,
    /// What we can receive, in sats.
    pub inbound: u64,
    /// What we own in it, in sats, before the on-chain fee a close would cost (the same measure
    /// as the Lightning `total` of the balance).
    pub balance: u64,
    /// `pending`, `ready` or `usable`.
    pub state: ChannelState,
    /// Whether we opened it.
    pub is_outbound: bool,
    /// Funding confirmations so far.
    pub confirmations: Option<u32>,
}

/// The health object of `GET /v1/health`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`, `starting` or `degraded` (the node is not running or not synced).
    pub status: HealthStatus,
    /// The Bitcoin network.
    pub network: String,
    /// The node's public key, once known.
    pub node_id: Option<String>,
    /// Whether the node has synced with the chain source recently.
    pub synced: bool,
    /// The best block height the node knows.
    pub block_height: Option<u32>,
    /// Node lifecycle and the last start error.
    pub node: NodeStatus,
    /// Whether this instance is the regtest sandbox.
    pub sandbox: bool,
    /// The server's version.
    pub version: &'static str,
    /// How current the backup of the node's channel state is; `null` when no backup target is
    /// set.
    pub backup: Option<crate::backup::BackupStatus>,
    /// A recovery from channel state found behind its channels' real state (an old backup),
    /// while one is under way; `null` otherwise. See docs/backup.md.
    pub recovery: Option<super::behind::Recovery>,
    /// Nostr Wallet Connect's relays (`ok`, `degraded`, `down`) while a connection is live;
    /// `null` when there is none.
    pub nwc: Option<crate::nwc::NwcStatus>,
}

fn owned_sats(balance: &ldk_node::LightningBalance) -> u64 {
    use ldk_node::LightningBalance as B;
    match balance {
        B::ClaimableOnChannelClose {
            amount_satoshis,
            transaction_fee_satoshis,
            ..
        } => amount_satoshis + transaction_fee_satoshis,
        B::ClaimableAwaitingConfirmations {
            amount_satoshis, ..
        }
        | B::ContentiousClaimable {
            amount_satoshis, ..
        }
        | B::MaybeTimeoutClaimableHTLC {
            amount_satoshis, ..
        }
        | B::MaybePreimageClaimableHTLC {
            amount_satoshis, ..
        }
        | B::CounterpartyRevokedOutputClaimable {
            amount_satoshis, ..
        } => *amount_satoshis,
    }
}

pub(crate) fn balance_channel(
    balance: &ldk_node::LightningBalance,
) -> ldk_node::lightning::ln::types::ChannelId {
    use ldk_node::LightningBalance as B;
    match balance {
        B::ClaimableOnChannelClose { channel_id, .. }
        | B::ClaimableAwaitingConfirmations { channel_id, .. }
        | B::ContentiousClaimable { channel_id, .. }
        | B::MaybeTimeoutClaimableHTLC { channel_id, .. }
        | B::MaybePreimageClaimableHTLC { channel_id, .. }
        | B::CounterpartyRevokedOutputClaimable { channel_id, .. } => *channel_id,
    }
}

/// A closed channel's balance as a [`ClosingEntry`]; `None` for what is not ours to claim (an
/// HTLC we can take only with a preimage we do not have).
fn closing_entry(balance: &ldk_node::LightningBalance, height: u32) -> Option<ClosingEntry> {
    use ldk_node::LightningBalance as B;
    let (counterparty, amount, state, at) = match balance {
        B::ClaimableOnChannelClose {
            counterparty_node_id,
            amount_satoshis,
            ..
        } => (
            counterparty_node_id,
            *amount_satoshis,
            ClosingState::AwaitingCloseConfirmation,
            None,
        ),
        // A cooperative close pays straight to the on-chain wallet, which counts it already.
        B::ClaimableAwaitingConfirmations {
            source: ldk_node::lightning::chain::channelmonitor::BalanceSource::CoopClose,
            ..
        } => return None,
        B::ClaimableAwaitingConfirmations {
            counterparty_node_id,
            amount_satoshis,
            confirmation_height,
            ..
        } => (
            counterparty_node_id,
            *amount_satoshis,
            ClosingState::Timelocked,
            Some(*confirmation_height),
        ),
        B::ContentiousClaimable {
            counterparty_node_id,
            amount_satoshis,
            timeout_height,
            ..
        } => (
            counterparty_node_id,
            *amount_satoshis,
            ClosingState::Contested,
            Some(*timeout_height),
        ),
        B::MaybeTimeoutClaimableHTLC {
            counterparty_node_id,
            amount_satoshis,
            claimable_height,
            outbound_payment: false,
            ..
        } => (
            counterparty_node_id,
            *amount_satoshis,
            ClosingState::Contested,
            Some(*claimable_height),
        ),
        B::CounterpartyRevokedOutputClaimable {
            counterparty_node_id,
            amount_satoshis,
            ..
        } => (
            counterparty_node_id,
            *amount_satoshis,
            ClosingState::Contested,
            None,
        ),
        B::MaybeTimeoutClaimableHTLC { .. } | B::MaybePreimageClaimableHTLC { .. } => return None,
    };
    Some(ClosingEntry {
        channel_id: Some(balance_channel(balance).to_string()),
        counterparty_node_id: Some(counterparty.to_string()),
        amount,
        state,
        spendable_at_height: at,
        blocks_left: at.map(|h| h.saturating_sub(height)),
    })
}

/// A sweep of a closed channel's output, until it is broadcast. Once broadcast it pays the
/// on-chain wallet, which counts it (unconfirmed, then confirmed): listing it here too would
/// count it twice.
fn sweep_entry(balance: &ldk_node::PendingSweepBalance) -> Option<ClosingEntry> {
    match balance {
        ldk_node::PendingSweepBalance::PendingBroadcast {
            channel_id,
            amount_satoshis,
        } => Some(ClosingEntry {
            channel_id: channel_id.map(|c| c.to_string()),
            counterparty_node_id: None,
            amount: *amount_satoshis,
            state: ClosingState::Sweeping,
            spendable_at_height: None,
            blocks_left: None,
        }),
        _ => None,
    }
}

/// The largest single payment the usable `channels` can receive now, in msat: the best channel's
/// inbound capacity, capped by what LDK lets be in flight on it at once.
pub(crate) fn max_single_receive_msat(channels: &[ldk_node::ChannelDetails]) -> u64 {
    channels
        .iter()
        .filter(|c| c.is_usable)
        .map(|c| {
            c.inbound_htlc_maximum_msat
                .unwrap_or(c.inbound_capacity_msat)
                .min(c.inbound_capacity_msat)
        })
        .max()
        .unwrap_or(0)
}

/// How old the last chain sync may be for the node to count as synced.
const SYNC_FRESH_SECS: u64 = 180;

impl NodeHandle {
    /// Lightning and on-chain balances.
    pub fn balance(&self) -> Result<Balance> {
        let node = self.get()?;
        let details = node.list_balances();
        let channels = node.list_channels();
        let usable = channels.iter().filter(|c| c.is_usable);
        let spendable = usable
            .clone()
            .map(|c| c.outbound_capacity_msat)
            .sum::<u64>()
            / 1000;
        let receivable = usable.clone().map(|c| c.inbound_capacity_msat).sum::<u64>() / 1000;
        let max_single_receive = max_single_receive_msat(&channels) / 1000;
        let unconfirmed: u64 = node
            .list_payments_with_filter(|p| {
                p.direction == PaymentDirection::Inbound
                    && matches!(
                        p.kind,
                        PaymentKind::Onchain {
                            status: ConfirmationStatus::Unconfirmed,
                            ..
                        }
                    )
            })
            .iter()
            .filter_map(|p| p.amount_msat)
            .sum::<u64>()
            / 1000;
        let onchain_total = details.total_onchain_balance_sats;
        // LDK reports every channel monitor's balance, closed channels' too: those are money on
        // its way back on-chain, not Lightning money the merchant can spend.
        let open: std::collections::HashSet<_> = channels.iter().map(|c| c.channel_id).collect();
        let height = node.status().current_best_block.height;
        let (in_open, in_closed): (Vec<_>, Vec<_>) = details
            .lightning_balances
            .iter()
            .partition(|b| open.contains(&balance_channel(b)));
        let entries: Vec<ClosingEntry> = in_closed
            .iter()
            .filter_map(|b| closing_entry(b, height))
            .chain(
                details
                    .pending_balances_from_channel_closures
                    .iter()
                    .filter_map(sweep_entry),
            )
            .collect();
        let closing = ClosingBalance {
            total: entries.iter().map(|e| e.amount).sum(),
            entries,
        };
        let lightning = LightningBalance {
            spendable,
            receivable,
            max_single_receive,
            total: in_open.into_iter().map(owned_sats).sum(),
        };
        let onchain = OnchainBalance {
            confirmed: onchain_total.saturating_sub(unconfirmed),
            unconfirmed: unconfirmed.min(onchain_total),
            spendable: details.spendable_onchain_balance_sats,
        };
        Ok(Balance {
            total: lightning.total + closing.total + onchain_total,
            lightning,
            closing,
            onchain,
        })
    }

    /// How many payments the node's own store holds, all of them in memory: those still live, and
    /// finished ones until this app's database holds their final state (`crate::node_prune`).
    pub fn payment_records(&self) -> Result<usize> {
        let node = self.get()?;
        let mut count = 0;
        // The filter sees every record without copying it; nothing is returned.
        node.list_payments_with_filter(|_| {
            count += 1;
            false
        });
        Ok(count)
    }

    /// The node's channels.
    pub fn channels(&self) -> Result<Vec<Channel>> {
        let node = self.get()?;
        let mut owned = std::collections::HashMap::new();
        for b in node.list_balances().lightning_balances {
            *owned.entry(balance_channel(&b)).or_insert(0) += owned_sats(&b);
        }
        Ok(node
            .list_channels()
            .into_iter()
            .map(|c| Channel {
                channel_id: c.channel_id.to_string(),
                user_channel_id: c.user_channel_id.0.to_string(),
                counterparty_node_id: c.counterparty_node_id.to_string(),
                capacity: c.channel_value_sats,
                outbound: c.outbound_capacity_msat / 1000,
                inbound: c.inbound_capacity_msat / 1000,
                balance: owned.get(&c.channel_id).copied().unwrap_or(0),
                state: if c.is_usable {
                    ChannelState::Usable
                } else if c.is_channel_ready {
                    ChannelState::Ready
                } else {
                    ChannelState::Pending
                },
                is_outbound: c.is_outbound,
                confirmations: c.confirmations,
            })
            .collect())
    }

    /// Health, answerable whatever state the node is in.
    pub fn health(&self) -> Health {
        let node_status = self.status();
        let node = self.any();
        let running = node_status.state == NodeState::Running;
        let (synced, block_height) = match (&node, running) {
            (Some(node), true) => {
                let status = node.status();
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                let fresh = status
                    .latest_lightning_wallet_sync_timestamp
                    .is_some_and(|t| now.saturating_sub(t) <= SYNC_FRESH_SECS);
                (fresh, Some(status.current_best_block.height))
            }
            _ => (false, None),
        };
        let status = match node_status.state {
            NodeState::Running if synced => HealthStatus::Ok,
            NodeState::Starting => HealthStatus::Starting,
            _ => HealthStatus::Degraded,
        };
        Health {
            status,
            network: self.network.to_string(),
            node_id: node.map(|n| n.node_id().to_string()),
            synced,
            block_height,
            node: node_status,
            sandbox: self.sandbox,
            version: env!("CARGO_PKG_VERSION"),
            backup: self.backup_status(),
            recovery: self.recovery(),
            nwc: None,
        }
    }
}
