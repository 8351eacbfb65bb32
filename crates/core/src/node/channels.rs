//! Opening and closing channels: the merchant's way to get (and give back) Lightning liquidity.
//! Inputs are checked here so a typo gets a message that names the field, not an LDK error code.

use std::str::FromStr;

use ldk_node::bitcoin::secp256k1::PublicKey;
use ldk_node::lightning::ln::msgs::SocketAddress;
use ldk_node::UserChannelId;
use serde::{Deserialize, Serialize};

use super::NodeHandle;
use crate::error::{Error, ErrorCode, Result};

/// The smallest channel accepted: below this, on-chain fees eat a large share of it.
pub const MIN_CHANNEL_SATS: u64 = 20_000;

/// A request to open a channel.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenChannel {
    /// The peer's node id: a compressed public key, 66 hex characters starting `02` or `03`.
    #[schema(pattern = "^0[23][0-9a-fA-F]{64}$")]
    pub node_id: String,
    /// Where the peer listens, `host:port`.
    #[schema(min_length = 3)]
    pub address: String,
    /// Channel size in sats (at least 20,000), paid from the on-chain wallet.
    #[schema(minimum = 20_000)]
    pub amount: u64,
    /// Sats given to the peer at opening (default 0).
    #[serde(default)]
    pub push_amount: u64,
}

/// A channel being opened.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OpenedChannel {
    /// The id to close it by until LDK assigns the channel id (also accepted by close).
    pub user_channel_id: String,
    /// The peer.
    pub counterparty_node_id: String,
    /// Channel size in sats.
    pub amount: u64,
}

impl NodeHandle {
    /// Connects to the peer and opens a channel funded from the on-chain wallet. The channel is
    /// usable once its funding transaction confirms (`channel.opened` event).
    pub async fn open_channel(&self, request: OpenChannel) -> Result<OpenedChannel> {
        let node_id = PublicKey::from_str(request.node_id.trim()).map_err(|_| {
            Error::invalid(
                "node_id",
                "node_id must be a node's public key: 66 hex characters",
            )
        })?;
        let address = SocketAddress::from_str(request.address.trim()).map_err(|_| {
            Error::invalid(
                "address",
                "address must be host:port, e.g. 203.0.113.5:9735",
            )
        })?;
        if request.amount < MIN_CHANNEL_SATS {
            return Err(Error::unprocessable(
                ErrorCode::InvalidAmount,
                Some("amount"),
                format!("a channel must be at least {MIN_CHANNEL_SATS} sats"),
            ));
        }
        if request.push_amount >= request.amount {
            return Err(Error::unprocessable(
                ErrorCode::InvalidAmount,
                Some("push_amount"),
                "push_amount must be less than the channel amount",
            ));
        }
        let node = self.get()?;
        let spendable = node.list_balances().spendable_onchain_balance_sats;
        if request.amount > spendable {
            return Err(Error::InsufficientBalance(format!(
                "the on-chain wallet can spend {spendable} sats; a {} sat channel needs that much plus fees",
                request.amount
            )));
        }
        if node_id == node.node_id() {
            return Err(Error::unprocessable(
                ErrorCode::SelfChannel,
                Some("node_id"),
                "that is this node's own id",
            ));
        }
        let push_msat = (request.push_amount > 0).then_some(request.push_amount * 1000);
        let amount = request.amount;
        let opener = node.clone();
        let id = tokio::task::spawn_blocking(move || {
            opener.open_channel(node_id, address, amount, push_msat, None)
        })
        .await
        .map_err(|e| Error::Node(format!("channel open task failed: {e}")))?
        .map_err(|e| {
            Error::unprocessable(ErrorCode::ChannelOpenFailed, None, crate::node::explain(&e))
        })?;
        tracing::info!(peer = %node_id, amount, "opening a channel");
        Ok(OpenedChannel {
            user_channel_id: id.0.to_string(),
            counterparty_node_id: node_id.to_string(),
            amount,
        })
    }

    /// Closes a channel, found by its channel id or user channel id: cooperatively, or by
    /// broadcasting our latest state when `force` (the funds then wait for a timelock).
    pub async fn close_channel(&self, id: &str, force: bool) -> Result<()> {
        let node = self.get()?;
        let channel = node
            .list_channels()
            .into_iter()
            .find(|c| c.channel_id.to_string() == id || c.user_channel_id.0.to_string() == id)
            .ok_or_else(|| Error::NotFound {
                kind: "channel",
                id: id.to_string(),
            })?;
        let (user_id, peer): (UserChannelId, PublicKey) =
            (channel.user_channel_id, channel.counterparty_node_id);
        let closer = node.clone();
        tokio::task::spawn_blocking(move || {
            if force {
                closer.force_close_channel(&user_id, peer, Some("closed by the merchant".into()))
            } else {
                closer.close_channel(&user_id, peer)
            }
        })
        .await
        .map_err(|e| Error::Node(format!("channel close task failed: {e}")))?
        .map_err(|e| {
            Error::unprocessable(
                ErrorCode::ChannelCloseFailed,
                None,
                crate::node::explain(&e),
            )
        })
    }
}
