//! The sandbox's Lightning service provider, for a fresh merchant (`payaimld sandbox --fresh`): a
//! third node offering LSPS2 just-in-time channels, funded on-chain, with a channel from the
//! customer, so the customer's payment to a merchant with no channels reaches it through a channel
//! the provider opens on the spot (see docs/liquidity.md).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ldk_node::liquidity::LSPS2ServiceConfig;
use ldk_node::Node;

use super::{
    blocking, dial, start_peer, Sandbox, CHANNEL_SATS, FUNDING_SATS, PUSH_MSAT, READY_TIMEOUT,
};
use crate::config::ChainSource;
use crate::error::{Error, Result};

/// What the sandbox's provider charges for opening a channel: 1 % of the payment...
pub const OPENING_FEE_PPM: u32 = 10_000;
/// ...and at least 2,000 sat, as providers on mainnet charge at least the channel's on-chain
/// cost.
pub const MIN_OPENING_FEE_MSAT: u64 = 2_000_000;
/// The channel it opens is three times what it forwards (200 % over-provisioning), so the
/// merchant's next payments fit in it without another channel.
const OVER_PROVISIONING_PPM: u32 = 2_000_000;

/// Builds and starts the provider; returns it with its `127.0.0.1:port`.
pub(super) async fn start(chain: &ChainSource, dir: &Path) -> Result<(Arc<Node>, String)> {
    let service = LSPS2ServiceConfig {
        require_token: None,
        advertise_service: false,
        channel_opening_fee_ppm: OPENING_FEE_PPM,
        channel_over_provisioning_ppm: OVER_PROVISIONING_PPM,
        min_channel_opening_fee_msat: MIN_OPENING_FEE_MSAT,
        min_channel_lifetime: 100,
        max_client_to_self_delay: 1024,
        min_payment_size_msat: 0,
        max_payment_size_msat: 1_000_000_000,
        client_trusts_lsp: false,
    };
    start_peer(chain, dir, "LSP", move |builder| {
        builder.set_liquidity_provider_lsps2(service);
    })
    .await
}

impl Sandbox {
    /// Connects the customer to the provider and, on first start, funds both and opens the
    /// customer's channel to it; then waits until that channel is usable. The merchant gets
    /// nothing.
    pub(super) async fn connect_lsp(&self) -> Result<()> {
        let lsp = self
            .lsp
            .clone()
            .ok_or_else(|| Error::Sandbox("no LSP in this sandbox".into()))?;
        let address = lsp
            .listening_addresses()
            .and_then(|a| a.into_iter().next())
            .ok_or_else(|| Error::Sandbox("the LSP has no listening address".into()))?;
        let lsp_id = lsp.node_id();
        dial(&self.customer, lsp_id, address.clone(), "the LSP").await?;
        let has_channel = self
            .customer
            .list_channels()
            .iter()
            .any(|c| c.counterparty_node_id == lsp_id);
        if !has_channel {
            tracing::info!(
                "sandbox: funding the customer and the LSP, and opening a channel between them"
            );
            let nodes = [self.customer.clone(), lsp.clone()];
            for node in &nodes {
                let to = node
                    .onchain_payment()
                    .new_address()
                    .map_err(|e| Error::Sandbox(format!("new address: {e}")))?;
                self.bitcoind.send_to(&to.to_string(), FUNDING_SATS).await?;
            }
            self.bitcoind.mine(1).await?;
            self.sync_nodes_until(&nodes, |n| {
                n.list_balances().spendable_onchain_balance_sats >= CHANNEL_SATS
            })
            .await?;
            let customer = self.customer.clone();
            blocking(move || {
                customer
                    .open_channel(lsp_id, address, CHANNEL_SATS, Some(PUSH_MSAT), None)
                    .map(|_| ())
                    .map_err(|e| {
                        Error::Sandbox(format!("customer cannot open a channel to the LSP: {e}"))
                    })
            })
            .await?;
            let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
            while !self
                .customer
                .list_channels()
                .iter()
                .any(|c| c.counterparty_node_id == lsp_id && c.funding_txo.is_some())
            {
                if tokio::time::Instant::now() > deadline {
                    return Err(Error::Sandbox(
                        "the LSP channel's funding was not broadcast in time".into(),
                    ));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            self.bitcoind.mine(6).await?;
        }
        let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
        let mut next_block = tokio::time::Instant::now() + Duration::from_secs(2);
        loop {
            // A funding transaction can reach bitcoind after the blocks meant to confirm it:
            // keep mining while the channel waits, as a miner would.
            if tokio::time::Instant::now() >= next_block {
                self.bitcoind.mine(1).await?;
                next_block = tokio::time::Instant::now() + Duration::from_secs(2);
            }
            for node in [self.customer.clone(), lsp.clone()] {
                blocking(move || {
                    node.sync_wallets()
                        .map_err(|e| Error::Sandbox(format!("sync: {e}")))
                })
                .await?;
            }
            let usable = self
                .customer
                .list_channels()
                .iter()
                .any(|c| c.counterparty_node_id == lsp_id && c.is_usable);
            if usable {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                return Err(Error::Sandbox(
                    "the customer's channel to the LSP did not become usable in time".into(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Syncs `nodes` until `done` holds for each, or fails after [`READY_TIMEOUT`].
    async fn sync_nodes_until(
        &self,
        nodes: &[Arc<Node>],
        done: impl Fn(&Node) -> bool,
    ) -> Result<()> {
        let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
        loop {
            for node in nodes {
                let node = node.clone();
                blocking(move || {
                    node.sync_wallets()
                        .map_err(|e| Error::Sandbox(format!("sync: {e}")))
                })
                .await?;
            }
            if nodes.iter().all(|n| done(n)) {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                return Err(Error::Sandbox(
                    "the customer and the LSP did not see their funding in time".into(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
