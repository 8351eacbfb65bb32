//! `/v1/nwc/connections`: Nostr Wallet Connect connections (each one an API key). Needs
//! `keys:manage`, and gives no more than the caller's own key holds.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use payaiml_core::keys::{KeyAction, Permission};
use payaiml_core::nwc::{CreatedConnection, NewConnection, NwcConnection};
use serde::Serialize;

use super::ListBody;
use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::json::ApiJson;
use crate::state::ApiState;

/// A connection just made, with its URI as an SVG QR code for the app to scan.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MadeConnection {
    /// The connection and its URI (shown once; revealed again on request).
    #[serde(flatten)]
    pub created: CreatedConnection,
    /// The URI as an SVG QR code.
    pub qr_svg: String,
}

/// A connection's URI again.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RevealedConnection {
    /// The connection id (its key's id).
    pub id: String,
    /// `nostr+walletconnect://…`
    pub uri: String,
    /// The URI as an SVG QR code.
    pub qr_svg: String,
}

/// Make a connection: an API key with `access` (`receive`, `read`, or `pay` with a daily
/// `budget`), an optional expiry, and the relays the app and the wallet meet on. The answer
/// holds its `nostr+walletconnect://` URI and QR; whoever holds the URI can use the connection.
#[utoipa::path(post, path = "/v1/nwc/connections", tag = "nwc", request_body = NewConnection,
    responses((status = 201, body = MadeConnection), (status = "4XX", body = ErrorBody)))]
pub async fn create_connection(
    State(state): State<ApiState>,
    auth: Auth,
    body: ApiJson<NewConnection>,
) -> ApiResult<(StatusCode, Json<MadeConnection>)> {
    auth.require(Permission::KeysManage)?;
    let created = state.app.nwc().create(body.value, &auth.key).await?;
    let qr_svg = crate::qr::svg(&created.uri, 320)?;
    Ok((
        StatusCode::CREATED,
        Json(MadeConnection { created, qr_svg }),
    ))
}

/// List connections, newest first (revoked ones too: their key says when).
#[utoipa::path(get, path = "/v1/nwc/connections", tag = "nwc",
    responses((status = 200, body = ListBody<NwcConnection>), (status = "4XX", body = ErrorBody)))]
pub async fn list_connections(
    State(state): State<ApiState>,
    auth: Auth,
) -> ApiResult<Json<ListBody<NwcConnection>>> {
    auth.require(Permission::KeysManage)?;
    Ok(Json(ListBody {
        data: state.app.nwc().list().await?,
    }))
}

/// One connection.
#[utoipa::path(get, path = "/v1/nwc/connections/{id}", tag = "nwc",
    params(("id" = String, Path, description = "connection id (its key's id)")),
    responses((status = 200, body = NwcConnection), (status = "4XX", body = ErrorBody)))]
pub async fn get_connection(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<NwcConnection>> {
    auth.require(Permission::KeysManage)?;
    Ok(Json(state.app.nwc().get(&id).await?))
}

/// Revoke a connection: the wallet stops answering it at once, and its secrets are forgotten.
#[utoipa::path(delete, path = "/v1/nwc/connections/{id}", tag = "nwc",
    params(("id" = String, Path, description = "connection id")),
    responses((status = 200, body = NwcConnection), (status = "4XX", body = ErrorBody)))]
pub async fn revoke_connection(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<NwcConnection>> {
    auth.require(Permission::KeysManage)?;
    let target = state.app.nwc().get(&id).await?;
    auth.key.may_manage_key(&target.key, KeyAction::Revoke)?;
    Ok(Json(state.app.nwc().revoke(&id).await?))
}

/// Show a live connection's URI (and QR) again, from the secret store.
#[utoipa::path(post, path = "/v1/nwc/connections/{id}/reveal", tag = "nwc",
    params(("id" = String, Path, description = "connection id")),
    responses((status = 200, body = RevealedConnection), (status = "4XX", body = ErrorBody)))]
pub async fn reveal_connection(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<RevealedConnection>> {
    auth.require(Permission::KeysManage)?;
    let target = state.app.nwc().get(&id).await?;
    auth.key.may_manage_key(&target.key, KeyAction::Reveal)?;
    let uri = state.app.nwc().reveal(&target.key.id).await?;
    let qr_svg = crate::qr::svg(&uri, 320)?;
    Ok(Json(RevealedConnection {
        id: target.key.id,
        uri,
        qr_svg,
    }))
}
