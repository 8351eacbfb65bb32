//! `/v1/health` (no key needed).

use axum::extract::State;
use axum::Json;
use payaiml_core::node::Health;

use crate::state::ApiState;

/// Liveness and node state: whether the node runs and is synced, and why not; and, while a
/// wallet connection is live, whether its relays are reachable.
#[utoipa::path(get, path = "/v1/health", tag = "health", security(()),
    responses((status = 200, body = Health)))]
pub async fn health(State(state): State<ApiState>) -> Json<Health> {
    let mut health = state.app.node().health();
    health.nwc = state.app.nwc().status();
    Json(health)
}
