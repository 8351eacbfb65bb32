//! `/v1/greenfield`: what the dashboard's pairing page needs to answer a shop plugin that asked
//! for a key at `/api-keys/authorize` (BTCPay's pairing flow): the store id and the permissions
//! this shop grants, and the approval that makes the key. The page posts the key back to the
//! shop itself, as BTCPay's page does; refused or closed, nothing is made.

use std::collections::BTreeSet;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use payaiml_core::greenfield::GfPermission;
use payaiml_core::keys::Permission;
use serde::{Deserialize, Serialize};

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::ApiJson;
use crate::pairing::PendingState;
use crate::state::ApiState;

/// A permission this shop grants to a paired shop plugin.
#[derive(Serialize, utoipa::ToSchema)]
pub struct GrantablePermission {
    /// BTCPay's name, e.g. `btcpay.store.canviewinvoices`.
    pub name: String,
    /// What it lets the plugin do, for the merchant.
    pub description: String,
}

/// The shop as BTCPay's plugins see it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct GreenfieldInfo {
    /// The store id plugins are given (stable, kept by backups).
    pub store_id: String,
    /// The permissions this shop can grant; any other a plugin asks for is not granted.
    pub permissions: Vec<GrantablePermission>,
}

/// The store id and the grantable permissions. Needs `keys:manage`.
#[utoipa::path(get, path = "/v1/greenfield", tag = "greenfield",
    responses((status = 200, body = GreenfieldInfo), (status = "4XX", body = ErrorBody)))]
pub async fn greenfield_info(
    State(state): State<ApiState>,
    auth: Auth,
) -> ApiResult<Json<GreenfieldInfo>> {
    auth.require(Permission::KeysManage)?;
    Ok(Json(GreenfieldInfo {
        store_id: state.app.greenfield().store_id().await?,
        permissions: GfPermission::ALL
            .into_iter()
            .map(|p| GrantablePermission {
                name: p.as_str().into(),
                description: p.describe().into(),
            })
            .collect(),
    }))
}

/// The merchant's approval of a pairing request.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GreenfieldPairingRequest {
    /// The `applicationName` the plugin gave (1 to 60 characters), the key's name.
    #[schema(min_length = 1, max_length = 60, pattern = r"\S")]
    pub application_name: String,
    /// The BTCPay permissions to grant: of those `GET /v1/greenfield` lists (the pairing page
    /// leaves out, and shows as not granted, any other the plugin asked for).
    #[schema(min_items = 1, max_items = 5, inline, value_type = Vec<GrantableName>)]
    pub permissions: Vec<String>,
    /// Whether the plugin asked for store-scoped permissions (`selectiveStores`): they are then
    /// written `policy:storeId`, as BTCPay's plugins expect.
    #[serde(default)]
    pub selective_stores: bool,
    /// The waiting request this approves, when the pairing page was opened for one (the desktop
    /// app's window): the key then goes to the browser tab that waits for it, which posts it to
    /// the shop.
    #[schema(pattern = "^[A-Za-z0-9]{32}$")]
    pub request: Option<String>,
}

/// A BTCPay permission this shop grants.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub enum GrantableName {
    /// Read invoices.
    #[schema(rename = "btcpay.store.canviewinvoices")]
    ViewInvoices,
    /// Create invoices.
    #[schema(rename = "btcpay.store.cancreateinvoice")]
    CreateInvoice,
    /// Mark invoices.
    #[schema(rename = "btcpay.store.canmodifyinvoices")]
    ModifyInvoices,
    /// Read the store.
    #[schema(rename = "btcpay.store.canviewstoresettings")]
    ViewStoreSettings,
    /// The store's webhooks.
    #[schema(rename = "btcpay.store.webhooks.canmodifywebhooks")]
    ModifyWebhooks,
}

/// A key made for a paired shop plugin: post `api_key` and `permissions` back to its redirect.
#[derive(Serialize, utoipa::ToSchema)]
pub struct GreenfieldPairing {
    /// The key to post back as `apiKey` (also in the dashboard's key list, revocable).
    pub api_key: String,
    /// The key's id.
    pub key_id: String,
    /// The permissions granted, as BTCPay writes them (`permissions[]`).
    pub permissions: Vec<String>,
    /// The store id.
    pub store_id: String,
}

/// Approve a shop plugin's pairing request: makes its key (the /v1 permissions its BTCPay ones
/// need, within the caller's own) and answers what to post back. Needs `keys:manage`.
#[utoipa::path(post, path = "/v1/greenfield/pairings", tag = "greenfield",
    request_body = GreenfieldPairingRequest,
    responses((status = 201, body = GreenfieldPairing), (status = "4XX", body = ErrorBody)))]
pub async fn approve_pairing(
    State(state): State<ApiState>,
    auth: Auth,
    body: ApiJson<GreenfieldPairingRequest>,
) -> ApiResult<(StatusCode, Json<GreenfieldPairing>)> {
    auth.require(Permission::KeysManage)?;
    let request = body.value;
    let name = request.application_name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(ApiError::bad_field(
            "application_name",
            "application_name must be 1 to 60 characters",
        ));
    }
    let gf = state.app.greenfield();
    let store_id = gf.store_id().await?;
    if request.permissions.is_empty() || request.permissions.len() > GfPermission::ALL.len() {
        return Err(ApiError::bad_field(
            "permissions",
            format!(
                "give 1 to {} permissions, those GET /v1/greenfield lists",
                GfPermission::ALL.len()
            ),
        ));
    }
    let mut granted = BTreeSet::new();
    for asked in &request.permissions {
        match GfPermission::parse(asked.trim()) {
            Some((p, None)) => {
                granted.insert(p);
            }
            _ => {
                return Err(ApiError::bad_field(
                    "permissions",
                    format!("'{asked}' is not a permission this shop grants: use those GET /v1/greenfield lists"),
                ))
            }
        }
    }
    if let Some(request) = &request.request {
        if !state.pairings.waiting(request) {
            return Err(gone_request());
        }
    }
    auth.key.may_manage(
        &payaiml_core::greenfield::permissions::v1_permissions(&granted),
        None,
        None,
    )?;
    let created = gf.pair(name, &granted).await?;
    let permissions: Vec<String> = granted
        .iter()
        .map(|p| {
            if request.selective_stores {
                format!("{}:{store_id}", p.as_str())
            } else {
                p.as_str().to_string()
            }
        })
        .collect();
    if let Some(request) = &request.request {
        let answer = PendingState::Approved {
            api_key: created.secret.clone(),
            permissions: permissions.clone(),
        };
        if !state.pairings.answer(request, answer) {
            // Answered meanwhile (refused in another window): the key must not stay.
            let _ = state.app.keys().revoke(&created.key.id).await;
            return Err(gone_request());
        }
    }
    Ok((
        StatusCode::CREATED,
        Json(GreenfieldPairing {
            api_key: created.secret,
            key_id: created.key.id,
            permissions,
            store_id,
        }),
    ))
}

fn gone_request() -> ApiError {
    ApiError::new(
        payaiml_core::ErrorCode::NotFound,
        "this pairing request no longer waits (answered, or older than 15 minutes): start again from the shop's settings",
    )
}

/// A waiting pairing request's refusal.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RefusedPairing {
    /// The request.
    pub request: String,
    /// Always `refused`: nothing was made, and the waiting tab says so.
    pub state: String,
}

/// Refuse a waiting pairing request (the desktop app's window): nothing is made, and the
/// browser tab that waits says so. Needs `keys:manage`.
#[utoipa::path(post, path = "/v1/greenfield/pairings/{request}/refuse", tag = "greenfield",
    params(("request" = String, Path, description = "the waiting request's id", pattern = "^[A-Za-z0-9]{32}$")),
    responses((status = 200, body = RefusedPairing), (status = "4XX", body = ErrorBody)))]
pub async fn refuse_pairing(
    State(state): State<ApiState>,
    auth: Auth,
    axum::extract::Path(request): axum::extract::Path<String>,
) -> ApiResult<Json<RefusedPairing>> {
    auth.require(Permission::KeysManage)?;
    if !state.pairings.answer(&request, PendingState::Refused) {
        return Err(gone_request());
    }
    Ok(Json(RefusedPairing {
        request,
        state: "refused".into(),
    }))
}
