//! Whether this node is ready to take real payments, check by check, each with its reason and
//! what to do when it is not: the chain source, the network graph (gossip), the LSP, and the
//! capacity to receive (with ldk-node's on-chain reserve rule for inbound channels).

use std::time::Duration;

use serde::Serialize;

use super::{NodeHandle, NodeState};
use crate::config::Config;
use crate::util::group_thousands;

/// ldk-node 0.7.1's `AnchorChannelsConfig::per_channel_reserve_sats` default: the on-chain sats
/// it wants per anchor channel before it accepts one opened to it (except from trusted peers,
/// such as the merchant's own LSP: see docs/liquidity.md).
pub const ANCHOR_RESERVE_SATS: u64 = 25_000;
/// How long the LSP's address may take to accept a connection.
const LSP_PROBE: Duration = Duration::from_secs(3);
/// How old the last chain sync may be before the chain check says so.
const SYNC_STALE_SECS: u64 = 600;

/// One thing the node needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckId {
    /// The chain source answers and the wallets are synced to its tip.
    Chain,
    /// The node knows the Lightning network's channels (to route payments out).
    Gossip,
    /// The Lightning service provider that opens channels to this node.
    Lsp,
    /// Room to receive payments.
    Inbound,
}

/// Where a check stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// Fine.
    Ok,
    /// On its way (the node is starting, a first sync runs); nothing to do but wait.
    Waiting,
    /// Needs the merchant: `action` says what to do.
    Attention,
    /// Does not apply to this setup.
    Skipped,
}

/// One check.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Check {
    /// Which.
    pub id: CheckId,
    /// Where it stands.
    pub status: CheckStatus,
    /// What was found, in a sentence.
    pub summary: String,
    /// What to do, when something is to be done.
    pub action: Option<String>,
}

impl Check {
    fn new(id: CheckId, status: CheckStatus, summary: impl Into<String>) -> Self {
        Check {
            id,
            status,
            summary: summary.into(),
            action: None,
        }
    }

    fn act(mut self, action: impl Into<String>) -> Self {
        self.action = Some(action.into());
        self
    }
}

/// The node's readiness for payments.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Readiness {
    /// Every check is `ok` or `skipped`.
    pub ready: bool,
    /// The checks, in the order to look at them.
    pub checks: Vec<Check>,
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn ago(secs: u64) -> String {
    match secs {
        0..=89 => format!("{secs} s ago"),
        90..=5399 => format!("{} min ago", secs / 60),
        _ => format!("{} h ago", secs / 3600),
    }
}

impl NodeHandle {
    /// Checks what the node needs to take payments, under `config` (its chain source, gossip
    /// source and LSP). Probes the LSP's address (a TCP connection, at most 3 s); nothing else
    /// leaves the machine beyond what the node does anyway.
    pub async fn readiness(&self, config: &Config) -> Readiness {
        let status = self.status();
        let chain_source = status.chain_source.clone();
        let mut checks = Vec::new();
        let node = match (status.state, self.get()) {
            (NodeState::Running, Ok(node)) => Some(node),
            (NodeState::Failed, _) => {
                checks.push(
                    Check::new(
                        CheckId::Chain,
                        CheckStatus::Attention,
                        format!(
                            "the node does not run: {}",
                            status.error.unwrap_or_else(|| "its start failed".into())
                        ),
                    )
                    .act(format!(
                        "check that the chain source ({chain_source}) is reachable from this \
                         computer, or choose another (--esplora-url or --bitcoind-rpc); the node \
                         retries by itself"
                    )),
                );
                None
            }
            _ => {
                checks.push(Check::new(
                    CheckId::Chain,
                    CheckStatus::Waiting,
                    "the node is starting",
                ));
                None
            }
        };
        if let Some(node) = &node {
            let s = node.status();
            let now = now_secs();
            // A source behind the node explains everything else about the chain (a last sync
            // that looks recent came before it fell behind): asked first.
            let behind = behind_check(config, s.current_best_block.height).await;
            checks.push(match (behind, s.latest_onchain_wallet_sync_timestamp) {
                (Some(check), _) => check,
                (None, None) => Check::new(
                    CheckId::Chain,
                    CheckStatus::Waiting,
                    format!("the first sync with {chain_source} is running"),
                ),
                (None, Some(t)) if now.saturating_sub(t) > SYNC_STALE_SECS => Check::new(
                    CheckId::Chain,
                    CheckStatus::Attention,
                    format!(
                        "the last sync with {chain_source} was {}",
                        ago(now.saturating_sub(t))
                    ),
                )
                .act("check that the chain source is reachable; the node keeps retrying"),
                (None, Some(t)) => Check::new(
                    CheckId::Chain,
                    CheckStatus::Ok,
                    format!(
                        "synced to block {} with {chain_source} ({})",
                        s.current_best_block.height,
                        ago(now.saturating_sub(t))
                    ),
                ),
            });
            let graph = node.network_graph();
            let known = graph.list_channels().len();
            let rgs = config.effective_rgs_url();
            checks.push(match (rgs, s.latest_rgs_snapshot_timestamp) {
                (Some(_), Some(t)) => Check::new(
                    CheckId::Gossip,
                    CheckStatus::Ok,
                    format!(
                        "{} channels known, from a gossip snapshot of {}",
                        group_thousands(known as u64),
                        ago(now.saturating_sub(t))
                    ),
                ),
                (Some(url), None) => Check::new(
                    CheckId::Gossip,
                    CheckStatus::Waiting,
                    format!("fetching the network's channels from {url}"),
                ),
                (None, _) if known > 0 => Check::new(
                    CheckId::Gossip,
                    CheckStatus::Ok,
                    format!(
                        "{} channels known, from peers",
                        group_thousands(known as u64)
                    ),
                ),
                (None, _) => Check::new(
                    CheckId::Gossip,
                    CheckStatus::Waiting,
                    "no channels of the network known yet: the node learns them from its peers \
                     once it has a channel (needed to send payments, not to receive them)",
                ),
            });
        }
        let lsp = match &config.lsp {
            Some(lsp) => Some(probe_lsp(&lsp.node_id, &lsp.address).await),
            None => None,
        };
        if let Some(node) = &node {
            checks.push(match &lsp {
                Some(check) => check.clone(),
                None => Check::new(CheckId::Lsp, CheckStatus::Skipped, "no LSP is set"),
            });
            let channels = node.list_channels();
            let max_single = super::balance::max_single_receive_msat(&channels) / 1000;
            let spendable_onchain = node.list_balances().spendable_onchain_balance_sats;
            let reserve_note = format!(
                "Channels opened to you by anyone but your LSP are refused unless {} sats per \
                 channel sit on-chain (you have {} spendable).",
                group_thousands(ANCHOR_RESERVE_SATS),
                group_thousands(spendable_onchain)
            );
            let lsp_id = config.lsp.as_ref().map(|l| l.node_id.as_str());
            let limited = channels
                .iter()
                .filter(|c| c.is_usable)
                .map(|c| InboundChannel {
                    opened_by_peer: !c.is_outbound
                        && lsp_id != Some(c.counterparty_node_id.to_string().as_str()),
                    inbound_msat: c.inbound_capacity_msat,
                    per_payment_msat: c.inbound_htlc_maximum_msat,
                    size_sats: c.channel_value_sats,
                })
                .collect::<Vec<_>>();
            checks.push(if max_single > 0 {
                Check::new(
                    CheckId::Inbound,
                    CheckStatus::Ok,
                    format!(
                        "can receive up to {} sats in one payment{}",
                        group_thousands(max_single),
                        per_payment_note(&limited).unwrap_or_default()
                    ),
                )
            } else if config.lsp.is_some() {
                Check::new(
                    CheckId::Inbound,
                    CheckStatus::Ok,
                    format!(
                        "no channel yet: the first payment opens one through your LSP, which \
                         keeps a fee you see before charging. {reserve_note}"
                    ),
                )
            } else {
                Check::new(
                    CheckId::Inbound,
                    CheckStatus::Attention,
                    format!("this node cannot receive a payment yet: it has no channel with room to receive. {reserve_note}"),
                )
                .act(
                    "set a Lightning service provider (--lsp NODE_ID@HOST:PORT) so that the \
                     first payment opens a channel, or ask a node to open a channel to yours",
                )
            });
        } else if let Some(check) = lsp {
            checks.push(check);
        }
        let ready = checks
            .iter()
            .all(|c| matches!(c.status, CheckStatus::Ok | CheckStatus::Skipped));
        Readiness { ready, checks }
    }
}

/// When the chain source's best block is below the one this node has processed (a bitcoind
/// that lost blocks in a crash or a power cut comes back behind its tip), the node cannot sync
/// with it until it has them again: a check that says so, instead of only "the last sync was
/// long ago". `None` when the source is not behind, or cannot be asked.
async fn behind_check(config: &Config, seen: u32) -> Option<Check> {
    let source = config.effective_chain_source().ok()?;
    // Asked with the LSP probe's bound: an unreachable source is the sync's to report.
    let lookup = super::chain_lookup::ChainLookup::new(&source);
    let tip = tokio::time::timeout(LSP_PROBE, lookup.tip_height())
        .await
        .ok()?
        .ok()?;
    (tip < u64::from(seen)).then(|| {
        Check::new(
            CheckId::Chain,
            CheckStatus::Attention,
            format!(
                "the chain source ({}) is at block {}, behind block {} that this node has already \
                 processed: it has lost blocks (a bitcoind cut off by a crash or a power cut can \
                 come back behind its tip). The node cannot sync until the source has them again; \
                 payments wait, nothing is lost",
                source.describe(),
                group_thousands(tip),
                group_thousands(u64::from(seen)),
            ),
        )
        .act(
            "let bitcoind catch up: connected to the network it fetches the blocks from its peers \
             by itself; if it stays behind, restart it with -reindex (it rebuilds its index from \
             its block files)",
        )
    })
}

/// A usable channel as the per-payment note sees it.
struct InboundChannel {
    /// Opened by the other node, which is not the merchant's LSP.
    opened_by_peer: bool,
    /// Room to receive on it.
    inbound_msat: u64,
    /// The largest payment it takes (LDK's `inbound_htlc_maximum_msat`).
    per_payment_msat: Option<u64>,
    /// Its size.
    size_sats: u64,
}

/// Why a channel another node opened takes less per payment than it has room for, when one
/// does. ldk-node 0.7.1 lets an inbound HTLC be at most LDK's default of 10 % of the channel in
/// flight, except on channels it opens itself and on LSPS2 channels from the merchant's LSP; the
/// limit is set when the channel opens and cannot change after (docs/liquidity.md).
fn per_payment_note(channels: &[InboundChannel]) -> Option<String> {
    let limited = channels
        .iter()
        .filter(|c| c.opened_by_peer)
        .filter_map(|c| {
            let max = c.per_payment_msat?;
            (max < c.inbound_msat).then_some((c, max))
        })
        .max_by_key(|(c, _)| c.inbound_msat)?;
    let (channel, max) = limited;
    Some(format!(
        ". A channel another node opened to you ({} sats, {} sats of room) takes at most {} sats \
         per payment: this node accepts at most 10 % of such a channel in flight at once (ldk-node \
         0.7.1 raises it to 100 % only for channels it opens and for your LSP's), and the limit \
         is fixed when the channel opens. A larger payment needs a channel through your LSP, or \
         a larger channel",
        group_thousands(channel.size_sats),
        group_thousands(channel.inbound_msat / 1000),
        group_thousands(max / 1000),
    ))
}

/// Whether the LSP's address accepts a connection (not a Lightning handshake: ldk-node makes
/// that itself when an invoice needs the LSP).
async fn probe_lsp(node_id: &str, address: &str) -> Check {
    let short = node_id.get(..16).unwrap_or(node_id);
    match tokio::time::timeout(LSP_PROBE, tokio::net::TcpStream::connect(address)).await {
        Ok(Ok(_)) => Check::new(
            CheckId::Lsp,
            CheckStatus::Ok,
            format!("the LSP {short}… answers at {address}"),
        ),
        Ok(Err(e)) => Check::new(
            CheckId::Lsp,
            CheckStatus::Attention,
            format!("the LSP at {address} cannot be reached: {e}"),
        )
        .act("check the LSP's address and this computer's connection; until it answers, an invoice that needs a new channel is refused (503 lsp_unavailable)"),
        Err(_) => Check::new(
            CheckId::Lsp,
            CheckStatus::Attention,
            format!("the LSP at {address} did not answer within {} s", LSP_PROBE.as_secs()),
        )
        .act("check the LSP's address and this computer's connection; until it answers, an invoice that needs a new channel is refused (503 lsp_unavailable)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(opened_by_peer: bool, inbound: u64, per_payment: Option<u64>) -> InboundChannel {
        InboundChannel {
            opened_by_peer,
            inbound_msat: inbound * 1000,
            per_payment_msat: per_payment.map(|p| p * 1000),
            size_sats: 1_000_000,
        }
    }

    /// A channel from another node limited to 10 % per payment is explained; channels this
    /// node opened or its LSP's, and channels whose whole room fits one payment, are not.
    #[test]
    fn the_per_payment_limit_of_a_peers_channel_is_explained() {
        let note = per_payment_note(&[
            channel(true, 990_000, Some(100_000)),
            channel(false, 500_000, Some(50_000)),
        ]);
        let note = note.unwrap_or_default();
        assert!(
            note.contains("at most 100,000 sats per payment") && note.contains("10 %"),
            "{note}"
        );
        assert_eq!(
            per_payment_note(&[channel(false, 500_000, Some(50_000))]),
            None
        );
        assert_eq!(
            per_payment_note(&[channel(true, 90_000, Some(100_000))]),
            None
        );
        assert_eq!(per_payment_note(&[]), None);
    }
}
