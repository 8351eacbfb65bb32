//! `/v1/settings`: what the Settings page shows and changes. Needs `node:manage`.

use axum::extract::State;
use axum::http::header;
use axum::Json;
use payaiml_core::keys::Permission;
use payaiml_core::settings::{SettingsChange, SettingsView as Settings};

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::ApiJson;
use crate::state::ApiState;
use payaiml_core::ErrorCode;

/// The app's settings.
#[utoipa::path(get, path = "/v1/settings", tag = "node",
    responses((status = 200, body = Settings), (status = "4XX", body = ErrorBody)))]
pub async fn get_settings(State(state): State<ApiState>, auth: Auth) -> ApiResult<Json<Settings>> {
    auth.require(Permission::NodeManage)?;
    Ok(Json(state.app.settings().get().await?))
}

/// Change settings: `notifications` at once; the LSP (`lsp`, `null` for none) and its fee cap
/// from the node's next start (`restart_required` says one is waiting). Kept across restarts,
/// and they win over the start-up flags.
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

/// The confirmation the recovery words are shown only after.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowWords {
    /// Must be `true`: the merchant confirmed they want the words on screen.
    #[schema(schema_with = must_be_true)]
    pub confirm: bool,
}

/// `confirm` in the OpenAPI document: the one value accepted, so a client generated from it
/// cannot send anything else.
fn must_be_true() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::Boolean)
        .enum_values(Some([true]))
        .description(Some(
            "Must be true: the merchant confirmed they want the words on screen.",
        ))
        .build()
}

/// The wallet's recovery words.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct RecoveryWords {
    /// The words, in order.
    pub words: Vec<String>,
}

/// Show the wallet's recovery words again. Only the dashboard's admin key, never a narrower one
/// (not even another key with every permission), and only with `{"confirm": true}`; the answer is
/// never cached or logged.
#[utoipa::path(post, path = "/v1/settings/recovery-words", tag = "node", request_body = ShowWords,
    responses((status = 200, body = RecoveryWords), (status = "4XX", body = ErrorBody)))]
pub async fn recovery_words(
    State(state): State<ApiState>,
    auth: Auth,
    body: ApiJson<ShowWords>,
) -> ApiResult<([(header::HeaderName, &'static str); 1], Json<RecoveryWords>)> {
    if !state.app.keys().is_admin(&auth.key.id).await? {
        return Err(ApiError::new(
            ErrorCode::AdminOnly,
            "the recovery words are shown only to the dashboard's admin key",
        ));
    }
    if !body.value.confirm {
        return Err(ApiError::bad_field(
            "confirm",
            "confirm must be true: the words give whoever sees them the wallet's on-chain funds",
        ));
    }
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        Json(RecoveryWords {
            words: state.app.recovery_words(),
        }),
    ))
}
