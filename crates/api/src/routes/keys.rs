//! `/v1/keys`: create, list, revoke and reveal API keys. Needs `keys:manage`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use payaiml_core::keys::{
    key_id, parse_permissions, ApiKey, CreatedKey, KeyAction, NewKey, Permission,
};
use serde::{Deserialize, Serialize};

use super::ListBody;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::ApiJson;
use crate::state::ApiState;

/// A request to create a key.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyRequest {
    /// A name to recognise it by: 1 to 100 characters, not only spaces.
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub name: String,
    /// Permissions, e.g. `["lightning:read", "lightning:write"]`; at least one.
    #[schema(value_type = Vec<Permission>, min_items = 1)]
    pub permissions: Vec<String>,
    /// RFC 3339 time, in the future, after which the key stops working.
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    /// Max sats the key may send per UTC day (at least 1).
    #[schema(minimum = 1)]
    pub budget: Option<i64>,
}

/// Create a key, with no more permissions, budget or lifetime than the caller's own key. The
/// secret is in this response only (and in the OS keyring, for reveal).
#[utoipa::path(post, path = "/v1/keys", tag = "keys", request_body = CreateKeyRequest,
    responses((status = 201, body = CreatedKey), (status = "4XX", body = ErrorBody)))]
pub async fn create_key(
    State(state): State<ApiState>,
    auth: Auth,
    body: ApiJson<CreateKeyRequest>,
) -> ApiResult<(StatusCode, Json<CreatedKey>)> {
    auth.require(Permission::KeysManage)?;
    let req = body.value;
    let permissions = parse_permissions(req.permissions.iter().map(String::as_str))?;
    let expires_at_ms = match req.expires_at.as_deref() {
        None => None,
        Some(text) => Some(
            chrono::DateTime::parse_from_rfc3339(text)
                .map_err(|_| {
                    ApiError::bad_field(
                        "expires_at",
                        "expires_at must be an RFC 3339 time like 2030-01-31T12:00:00Z",
                    )
                })?
                .timestamp_millis(),
        ),
    };
    let budget = match req.budget {
        None => None,
        Some(b) if b > 0 => Some(b as u64),
        Some(_) => {
            return Err(ApiError::bad_field(
                "budget",
                "budget must be a positive number of sats",
            ))
        }
    };
    auth.key.may_manage(&permissions, budget, expires_at_ms)?;
    let created = state
        .app
        .keys()
        .create(NewKey {
            name: req.name,
            permissions,
            budget,
            expires_at_ms,
        })
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// List keys (never their secrets).
#[utoipa::path(get, path = "/v1/keys", tag = "keys",
    responses((status = 200, body = ListBody<ApiKey>), (status = "4XX", body = ErrorBody)))]
pub async fn list_keys(
    State(state): State<ApiState>,
    auth: Auth,
) -> ApiResult<Json<ListBody<ApiKey>>> {
    auth.require(Permission::KeysManage)?;
    Ok(Json(ListBody {
        data: state.app.keys().list().await?,
    }))
}

/// Revoke a key within the caller's own scope; it fails from the next request on. The
/// dashboard's admin key is revoked by no other key, and the cashier's and the displays' keys by
/// the admin key alone (`403 key_protected`), whatever the caller holds.
#[utoipa::path(delete, path = "/v1/keys/{id}", tag = "keys",
    params(("id" = String, Path, description = "key id")),
    responses((status = 200, body = ApiKey), (status = "4XX", body = ErrorBody)))]
pub async fn revoke_key(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<ApiKey>> {
    auth.require(Permission::KeysManage)?;
    let target = state.app.keys().get(key_id(&id)).await?;
    auth.key.may_manage_key(&target, KeyAction::Revoke)?;
    let revoked = state.app.keys().revoke(&id).await?;
    if state.app.nwc().is_connection(&target.id).await? {
        // A wallet connection's key: the relay service reads its connections again now.
        state.app.nwc().changed().notify_one();
    }
    if target.allows(Permission::DisplayRead) {
        // A display waiting for the next screen reads again now, and is refused.
        state.app.display().refresh();
    }
    Ok(Json(revoked))
}

/// A key's secret.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RevealedKey {
    /// The key id.
    pub id: String,
    /// The full key.
    pub secret: String,
}

/// Reveal a live key's secret again, from the secret store: only a key within the caller's own
/// scope, and never one of the app's own keys (the dashboard's admin key, the cashier's, a
/// display's) nor a wallet connection's (`403 key_protected`), whatever the caller holds.
#[utoipa::path(post, path = "/v1/keys/{id}/reveal", tag = "keys",
    params(("id" = String, Path, description = "key id")),
    responses((status = 200, body = RevealedKey), (status = "4XX", body = ErrorBody)))]
pub async fn reveal_key(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<RevealedKey>> {
    auth.require(Permission::KeysManage)?;
    let target = state.app.keys().get(key_id(&id)).await?;
    auth.key.may_manage_key(&target, KeyAction::Reveal)?;
    if state.app.nwc().is_connection(&target.id).await? {
        // Its app holds the connection's Nostr secret, not this key: revealing the key would
        // hand out a bearer key nobody was meant to have.
        return Err(payaiml_core::Error::forbidden_key(
            "this is a wallet connection's key: its app uses the connection's URI, not a key; show the URI again under Wallet connections (POST /v1/nwc/connections/{id}/reveal)",
        )
        .into());
    }
    let secret = state.app.keys().reveal(&target.id).await?;
    Ok(Json(RevealedKey {
        id: target.id,
        secret,
    }))
}
