//! `/v1/lightning/invoices`: create, read, list, QR.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use payaiml_core::invoices::{CreateInvoice, Invoice};
use payaiml_core::keys::Permission;

use super::{idempotent, limit, ApiQuery, InvoiceListQuery, PageBody};
use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::json::ApiJson;
use crate::qr;
use crate::state::ApiState;

/// Create an invoice. Needs `lightning:receive` or `lightning:write`. Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/lightning/invoices", tag = "invoices",
    request_body = CreateInvoice,
    params(("Idempotency-Key" = Option<String>, Header, description = "replays the first response for the same request; 1 to 255 visible ASCII characters", pattern = "^[!-~]{1,255}$", max_length = 255)),
    responses((status = 201, body = Invoice), (status = "4XX", body = ErrorBody)))]
pub async fn create_invoice(
    State(state): State<ApiState>,
    auth: Auth,
    headers: HeaderMap,
    body: ApiJson<CreateInvoice>,
) -> Response {
    if let Err(e) = auth.require(Permission::LightningReceive) {
        return e.into_response();
    }
    let app = state.app.clone();
    let key_id = auth.key.id.clone();
    idempotent(
        &state,
        &auth,
        &headers,
        "POST /v1/lightning/invoices",
        &body.canonical,
        async move { Ok(app.invoices().create(body.value, Some(&key_id)).await?) },
    )
    .await
}

/// List invoices, newest first. Needs `lightning:read`.
#[utoipa::path(get, path = "/v1/lightning/invoices", tag = "invoices", params(InvoiceListQuery),
    responses((status = 200, body = PageBody<Invoice>), (status = "4XX", body = ErrorBody)))]
pub async fn list_invoices(
    State(state): State<ApiState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<InvoiceListQuery>,
) -> ApiResult<Json<PageBody<Invoice>>> {
    auth.require(Permission::LightningRead)?;
    let status = q.status.as_deref().map(str::parse).transpose()?;
    let page = state
        .app
        .invoices()
        .list(status, limit(q.limit)?, q.cursor.as_deref())
        .await?;
    Ok(Json(page.into()))
}

/// Get one invoice by id or payment hash. Needs `lightning:read`.
#[utoipa::path(get, path = "/v1/lightning/invoices/{id}", tag = "invoices",
    params(("id" = String, Path, description = "invoice id (inv_…) or payment hash")),
    responses((status = 200, body = Invoice), (status = "4XX", body = ErrorBody)))]
pub async fn get_invoice(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Invoice>> {
    auth.require(Permission::LightningRead)?;
    Ok(Json(state.app.invoices().get(&id).await?))
}

/// The invoice as an SVG QR code of `lightning:<payment_request>`. Needs `lightning:read`.
#[utoipa::path(get, path = "/v1/lightning/invoices/{id}/qr.svg", tag = "invoices",
    params(("id" = String, Path, description = "invoice id or payment hash")),
    responses((status = 200, content_type = "image/svg+xml", body = String), (status = "4XX", body = ErrorBody)))]
pub async fn invoice_qr_svg(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    auth.require(Permission::LightningRead)?;
    let invoice = state.app.invoices().get(&id).await?;
    let svg = qr::svg(&qr::invoice_uri(&invoice.payment_request), 320)?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}

/// The invoice as a PNG QR code. Needs `lightning:read`.
#[utoipa::path(get, path = "/v1/lightning/invoices/{id}/qr.png", tag = "invoices",
    params(("id" = String, Path, description = "invoice id or payment hash")),
    responses((status = 200, content_type = "image/png", body = Vec<u8>), (status = "4XX", body = ErrorBody)))]
pub async fn invoice_qr_png(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    auth.require(Permission::LightningRead)?;
    let invoice = state.app.invoices().get(&id).await?;
    let png = qr::png(&qr::invoice_uri(&invoice.payment_request), 8)?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
}
