//! `/v1/node`: the node's identity, channels and on-chain deposit address. Needs `node:manage`.

use axum::extract::State;
use axum::Json;
use payaiml_core::keys::Permission;
use payaiml_core::wallet::Channel;
use serde::Serialize;

use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::state::ApiState;

/// The node as the dashboard shows it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct NodeInfo {
    /// Public key.
    pub node_id: String,
    /// Network.
    pub network: String,
    /// Addresses it accepts peers on.
    pub listening_addresses: Vec<String>,
    /// Best block height.
    pub block_height: u32,
    /// Channels.
    pub channels: Vec<Channel>,
    /// Connected peers.
    pub peers: Vec<String>,
}

/// Node identity, channels and peers.
#[utoipa::path(get, path = "/v1/node", tag = "node",
    responses((status = 200, body = NodeInfo), (status = "4XX", body = ErrorBody)))]
pub async fn node_info(State(state): State<ApiState>, auth: Auth) -> ApiResult<Json<NodeInfo>> {
    auth.require(Permission::NodeManage)?;
    let node = state.app.node().get()?;
    Ok(Json(NodeInfo {
        node_id: node.node_id().to_string(),
        network: state.app.config().network.to_string(),
        listening_addresses: node
            .listening_addresses()
            .unwrap_or_default()
            .iter()
            .map(ToString::to_string)
            .collect(),
        block_height: node.status().current_best_block.height,
        channels: state.app.channels()?,
        peers: node
            .list_peers()
            .iter()
            .filter(|p| p.is_connected)
            .map(|p| p.node_id.to_string())
            .collect(),
    }))
}

/// An on-chain deposit address.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DepositAddress {
    /// A fresh address of the node's wallet.
    pub address: String,
}

/// A fresh on-chain address to fund the node.
#[utoipa::path(post, path = "/v1/node/address", tag = "node",
    responses((status = 201, body = DepositAddress), (status = "4XX", body = ErrorBody)))]
pub async fn new_address(
    State(state): State<ApiState>,
    auth: Auth,
) -> ApiResult<(axum::http::StatusCode, Json<DepositAddress>)> {
    auth.require(Permission::NodeManage)?;
    let node = state.app.node().get()?;
    let address = node
        .onchain_payment()
        .new_address()
        .map_err(|e| payaiml_core::Error::Node(format!("cannot make an address: {e}")))?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(DepositAddress {
            address: address.to_string(),
        }),
    ))
}
