//! `/v1/node`: the node's identity, channels (open, close) and on-chain deposit address. Needs
//! `node:manage`.

use axum::extract::{Path, State};
use axum::Json;
use payaiml_core::keys::Permission;
use payaiml_core::node::{Channel, OpenChannel, OpenedChannel};
use serde::{Deserialize, Serialize};

use super::ApiQuery;
use crate::json::ApiJson;

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
    /// Payments the node's own store holds in memory: live ones, and finished ones until this
    /// app's database holds their final state (an invoice paid: a day after its expiry).
    pub payment_records: usize,
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
        channels: state.app.node().channels()?,
        peers: node
            .list_peers()
            .iter()
            .filter(|p| p.is_connected)
            .map(|p| p.node_id.to_string())
            .collect(),
        payment_records: state.app.node().payment_records()?,
    }))
}

/// Whether the node is ready to take payments, check by check (chain source, network graph,
/// LSP, room to receive), each with what was found and what to do. Probes the LSP's address.
#[utoipa::path(get, path = "/v1/node/readiness", tag = "node",
    responses((status = 200, body = payaiml_core::node::Readiness), (status = "4XX", body = ErrorBody)))]
pub async fn readiness(
    State(state): State<ApiState>,
    auth: Auth,
) -> ApiResult<Json<payaiml_core::node::Readiness>> {
    auth.require(Permission::LightningRead)?;
    Ok(Json(state.app.node().readiness(state.app.config()).await))
}

/// An on-chain deposit address.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DepositAddress {
    /// A fresh address of the node's wallet.
    pub address: String,
    /// The BIP21 URI, `bitcoin:<address>`.
    pub uri: String,
    /// An SVG QR code of the URI, for showing to whoever sends the funds.
    pub qr_svg: String,
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
    let address = address.to_string();
    // Uppercase makes a denser QR (alphanumeric mode); BIP21 allows either case.
    let uri = format!("bitcoin:{address}");
    let qr_svg = crate::qr::svg(&uri.to_uppercase(), 256)?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(DepositAddress {
            address,
            uri,
            qr_svg,
        }),
    ))
}

/// Open a channel to a peer, funded from the on-chain wallet. It becomes usable when the funding
/// transaction confirms (a `channel.opened` event).
#[utoipa::path(post, path = "/v1/node/channels", tag = "node", request_body = OpenChannel,
    responses((status = 201, body = OpenedChannel), (status = "4XX", body = ErrorBody)))]
pub async fn open_channel(
    State(state): State<ApiState>,
    auth: Auth,
    body: ApiJson<OpenChannel>,
) -> ApiResult<(axum::http::StatusCode, Json<OpenedChannel>)> {
    auth.require(Permission::NodeManage)?;
    let opened = state.app.node().open_channel(body.value).await?;
    Ok((axum::http::StatusCode::CREATED, Json(opened)))
}

/// How to close.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CloseQuery {
    /// Broadcast our latest state instead of negotiating (for an unresponsive peer; the funds
    /// then wait for a timelock).
    pub force: Option<bool>,
}

/// Close a channel (by channel id or user channel id). A `channel.closed` event follows.
#[utoipa::path(delete, path = "/v1/node/channels/{id}", tag = "node",
    params(("id" = String, Path, description = "channel id or user channel id"), CloseQuery),
    responses((status = 202), (status = "4XX", body = ErrorBody)))]
pub async fn close_channel(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<CloseQuery>,
) -> ApiResult<axum::http::StatusCode> {
    auth.require(Permission::NodeManage)?;
    state
        .app
        .node()
        .close_channel(&id, q.force.unwrap_or(false))
        .await?;
    Ok(axum::http::StatusCode::ACCEPTED)
}
