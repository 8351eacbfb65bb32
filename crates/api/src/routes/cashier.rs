//! `/v1/cashier`: the lock that limits the dashboard to the point of sale. The owner (the
//! dashboard's admin key) sets a PIN and locks; the dashboard then works with the cashier's
//! key; unlocking takes the PIN and answers the admin key.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use payaiml_core::cashier::{CashierKey, PinBody};
use payaiml_core::till::CounterStatus;
use payaiml_core::ErrorCode;

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::ApiJson;
use crate::state::ApiState;

pub(crate) async fn owner_only(state: &ApiState, auth: &Auth, what: &str) -> ApiResult<()> {
    if state.app.keys().is_admin(&auth.key.id).await? {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::AdminOnly,
            format!("only the owner (the dashboard's admin key) can {what}"),
        ))
    }
}

/// The lock: locked or not, whether a PIN is set, whether the asking key is the cashier's, and
/// the wait after too many wrong PINs; who is signed in at the till and the open shift. Any
/// valid key may ask.
#[utoipa::path(get, path = "/v1/cashier", tag = "cashier",
    responses((status = 200, body = CounterStatus), (status = "4XX", body = ErrorBody)))]
pub async fn cashier_status(
    State(state): State<ApiState>,
    auth: Auth,
) -> ApiResult<Json<CounterStatus>> {
    Ok(Json(state.app.till().status(&auth.key.id).await?))
}

/// Set or change the owner's PIN (4 to 12 digits; kept as an Argon2id hash). Owner only, and
/// not while locked.
#[utoipa::path(post, path = "/v1/cashier/pin", tag = "cashier", request_body = PinBody,
    responses((status = 204), (status = "4XX", body = ErrorBody)))]
pub async fn set_cashier_pin(
    State(state): State<ApiState>,
    auth: Auth,
    body: ApiJson<PinBody>,
) -> ApiResult<StatusCode> {
    owner_only(&state, &auth, "set the cashier PIN").await?;
    state.app.cashier().set_pin(&body.value.pin).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lock the app to the point of sale; answers the cashier's key, which the dashboard uses until
/// it is unlocked (it makes invoices and reads its own, and nothing else). Owner only; needs a
/// PIN set. The lock is kept across restarts.
#[utoipa::path(post, path = "/v1/cashier/lock", tag = "cashier",
    responses((status = 200, body = CashierKey), (status = "4XX", body = ErrorBody)))]
pub async fn lock_cashier(
    State(state): State<ApiState>,
    auth: Auth,
) -> ApiResult<Json<CashierKey>> {
    owner_only(&state, &auth, "lock the app").await?;
    Ok(Json(state.app.cashier().lock().await?))
}

/// Unlock with the owner's PIN; answers the admin key. After 5 wrong PINs in a row each try
/// waits, 30 s doubling up to 15 minutes (`429 rate_limited`, even across restarts).
#[utoipa::path(post, path = "/v1/cashier/unlock", tag = "cashier", request_body = PinBody,
    responses((status = 200, body = CashierKey), (status = "4XX", body = ErrorBody)))]
pub async fn unlock_cashier(
    State(state): State<ApiState>,
    _auth: Auth,
    body: ApiJson<PinBody>,
) -> ApiResult<Json<CashierKey>> {
    Ok(Json(state.app.cashier().unlock(&body.value.pin).await?))
}
