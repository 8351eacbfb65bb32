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
            checks.push(match s.latest_onchain_wallet_sync_timestamp {
                None => Check::new(
                    CheckId::Chain,
                    CheckStatus::Waiting,
                    format!("the first sync with {chain_source} is running"),
                ),
                Some(t) if now.saturating_sub(t) > SYNC_STALE_SECS => Check::new(
                    CheckId::Chain,
                    CheckStatus::Attention,
                    format!(
                        "the last sync with {chain_source} was {}",
                        ago(now.saturating_sub(t))
                    ),
                )
                .act("check that the chain source is reachable; the node keeps retrying"),
                Some(t) => Check::new(
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
            checks.push(if max_single > 0 {
                Check::new(
                    CheckId::Inbound,
                    CheckStatus::Ok,
                    format!(
                        "can receive up to {} sats in one payment",
                        group_thousands(max_single)
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
