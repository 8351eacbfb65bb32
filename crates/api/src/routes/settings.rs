//! `/v1/settings`: what the Settings page shows and changes. Needs `node:manage`.

use axum::extract::State;
use axum::Json;
use payaiml_core::keys::Permission;
use payaiml_core::settings::{SettingsChange, SettingsView as Settings};

use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::json::ApiJson;
use crate::state::ApiState;

/// The app's settings.
#[utoipa::path(get, path = "/v1/settings", tag = "node",
    responses((status = 200, body = Settings), (status = "4XX", body = ErrorBody)))]
pub async fn get_settings(State(state): State<ApiState>, auth: Auth) -> ApiResult<Json<Settings>> {
    auth.require(Permission::NodeManage)?;
    Ok(Json(state.app.settings().get()))
}

/// Change settings (today: `notifications`); the choice is kept across restarts.
#[utoipa::path(patch, path = "/v1/settings", tag = "node", request_body = SettingsChange,
    responses((status = 200, body = Settings), (status = "4XX", body = ErrorBody)))]
pub async fn change_settings(
    State(state): State<ApiState>,
    auth: Auth,
    body: ApiJson<SettingsChange>,
) -> ApiResult<Json<Settings>> {
    auth.require(Permission::NodeManage)?;
    Ok(Json(state.app.settings().change(body.value).await?))
}
