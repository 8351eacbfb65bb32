//! `/v1/webhooks`: endpoints, their delivery log, tests and redeliveries. Needs `keys:manage`
//! (a webhook URL receives every payment, so adding one is as sensitive as minting a key).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use payaiml_core::keys::Permission;
use payaiml_core::webhooks::Delivery;
use payaiml_core::webhooks::{CreatedWebhook, NewWebhook, Webhook};
use serde::Deserialize;

use super::{limit, ApiQuery, ListBody, PageBody};
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::ApiJson;
use crate::state::ApiState;

/// Create an endpoint. Its signing secret is in this response only (and in the OS keyring).
#[utoipa::path(post, path = "/v1/webhooks", tag = "webhooks", request_body = NewWebhook,
    responses((status = 201, body = CreatedWebhook), (status = "4XX", body = ErrorBody)))]
pub async fn create_webhook(
    State(state): State<ApiState>,
    auth: Auth,
    body: ApiJson<NewWebhook>,
) -> ApiResult<(StatusCode, Json<CreatedWebhook>)> {
    auth.require(Permission::KeysManage)?;
    let created = state.app.webhooks().create(body.value).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// List endpoints (never their secrets).
#[utoipa::path(get, path = "/v1/webhooks", tag = "webhooks",
    responses((status = 200, body = ListBody<Webhook>), (status = "4XX", body = ErrorBody)))]
pub async fn list_webhooks(
    State(state): State<ApiState>,
    auth: Auth,
) -> ApiResult<Json<ListBody<Webhook>>> {
    auth.require(Permission::KeysManage)?;
    Ok(Json(ListBody {
        data: state.app.webhooks().list().await?,
    }))
}

/// One endpoint.
#[utoipa::path(get, path = "/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "webhook id (wh_…)")),
    responses((status = 200, body = Webhook), (status = "4XX", body = ErrorBody)))]
pub async fn get_webhook(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Webhook>> {
    auth.require(Permission::KeysManage)?;
    Ok(Json(state.app.webhooks().get(&id).await?))
}

/// Delete an endpoint with its delivery log and its secret. Nothing more is sent to it.
#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "webhook id")),
    responses((status = 204), (status = "4XX", body = ErrorBody)))]
pub async fn delete_webhook(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    auth.require(Permission::KeysManage)?;
    state.app.webhooks().delete(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An endpoint's signing secret.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct RevealedSecret {
    /// The endpoint id.
    pub id: String,
    /// The signing secret (`whsec_…`).
    pub secret: String,
}

/// Reveal an endpoint's signing secret again, from the secret store.
#[utoipa::path(post, path = "/v1/webhooks/{id}/reveal", tag = "webhooks",
    params(("id" = String, Path, description = "webhook id")),
    responses((status = 200, body = RevealedSecret), (status = "4XX", body = ErrorBody)))]
pub async fn reveal_webhook_secret(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<RevealedSecret>> {
    auth.require(Permission::KeysManage)?;
    let secret = state.app.webhooks().reveal(&id).await?;
    Ok(Json(RevealedSecret { id, secret }))
}

/// Enable an endpoint (after a `410 Gone` disabled it, say); what it missed is sent at once.
#[utoipa::path(post, path = "/v1/webhooks/{id}/enable", tag = "webhooks",
    params(("id" = String, Path, description = "webhook id")),
    responses((status = 200, body = Webhook), (status = "4XX", body = ErrorBody)))]
pub async fn enable_webhook(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Webhook>> {
    auth.require(Permission::KeysManage)?;
    Ok(Json(
        state.app.webhooks().set_enabled(&id, true, None).await?,
    ))
}

/// Disable an endpoint; events keep being queued for it and go out when it is enabled again.
#[utoipa::path(post, path = "/v1/webhooks/{id}/disable", tag = "webhooks",
    params(("id" = String, Path, description = "webhook id")),
    responses((status = 200, body = Webhook), (status = "4XX", body = ErrorBody)))]
pub async fn disable_webhook(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Webhook>> {
    auth.require(Permission::KeysManage)?;
    Ok(Json(
        state.app.webhooks().set_enabled(&id, false, None).await?,
    ))
}

/// Send a signed `webhook.test` event now (one attempt, no retries) and return its delivery
/// with the receiver's answer.
#[utoipa::path(post, path = "/v1/webhooks/{id}/test", tag = "webhooks",
    params(("id" = String, Path, description = "webhook id")),
    responses((status = 200, body = Delivery), (status = "4XX", body = ErrorBody)))]
pub async fn test_webhook(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Delivery>> {
    auth.require(Permission::KeysManage)?;
    Ok(Json(state.app.webhooks().test(&id).await?))
}

/// Query of a delivery log.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page (opaque; today a positive whole number).
    #[param(pattern = "^[1-9][0-9]{0,17}$")]
    pub cursor: Option<String>,
}

/// An endpoint's deliveries, newest first, each with every attempt.
#[utoipa::path(get, path = "/v1/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = String, Path, description = "webhook id"), DeliveriesQuery),
    responses((status = 200, body = PageBody<Delivery>), (status = "4XX", body = ErrorBody)))]
pub async fn list_deliveries(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<DeliveriesQuery>,
) -> ApiResult<Json<PageBody<Delivery>>> {
    auth.require(Permission::KeysManage)?;
    state.app.webhooks().get(&id).await?;
    let limit = limit(q.limit)?;
    let before = match q.cursor.as_deref() {
        None => None,
        Some(c) => Some(c.parse::<i64>().map_err(|_| {
            ApiError::bad_field(
                "cursor",
                "cursor must be a next_cursor from an earlier page",
            )
        })?),
    };
    let rows = state.app.webhooks().deliveries(&id, before, limit).await?;
    let next_cursor = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|(seq, _)| seq.to_string()))
        .flatten();
    Ok(Json(PageBody {
        data: rows.into_iter().map(|(_, d)| d).collect(),
        next_cursor,
    }))
}

/// One delivery with every attempt.
#[utoipa::path(get, path = "/v1/webhooks/deliveries/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "delivery id (whd_…)")),
    responses((status = 200, body = Delivery), (status = "4XX", body = ErrorBody)))]
pub async fn get_delivery(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Delivery>> {
    auth.require(Permission::KeysManage)?;
    Ok(Json(state.app.webhooks().delivery(&id).await?))
}

/// Send a delivery again now, with a fresh retry schedule (also one that succeeded).
#[utoipa::path(post, path = "/v1/webhooks/deliveries/{id}/redeliver", tag = "webhooks",
    params(("id" = String, Path, description = "delivery id")),
    responses((status = 202, body = Delivery), (status = "4XX", body = ErrorBody)))]
pub async fn redeliver(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<Delivery>)> {
    auth.require(Permission::KeysManage)?;
    Ok((
        StatusCode::ACCEPTED,
        Json(state.app.webhooks().redeliver(&id).await?),
    ))
}
