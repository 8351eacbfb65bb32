//! `/v1/lightning/balance`.

use axum::extract::State;
use axum::Json;
use payaiml_core::keys::Permission;
use payaiml_core::node::Balance;

use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::state::ApiState;

/// Lightning and on-chain balances in sats. Needs `lightning:read`.
#[utoipa::path(get, path = "/v1/lightning/balance", tag = "balance",
    responses((status = 200, body = Balance), (status = "4XX", body = ErrorBody)))]
pub async fn balance(State(state): State<ApiState>, auth: Auth) -> ApiResult<Json<Balance>> {
    auth.require(Permission::LightningRead)?;
    Ok(Json(state.app.node().balance()?))
}
