//! `/v1/health` (no key needed).

use axum::extract::State;
use axum::Json;
use payaiml_core::node::Health;

use crate::state::ApiState;

/// Liveness and node state: whether the node runs and is synced, and why not.
#[utoipa::path(get, path = "/v1/health", tag = "health", security(()),
    responses((status = 200, body = Health)))]
pub async fn health(State(state): State<ApiState>) -> Json<Health> {
    Json(state.app.node().health())
}
