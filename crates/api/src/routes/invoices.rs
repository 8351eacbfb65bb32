//! `/v1/lightning/invoices`: create, read, list, QR.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use payaiml_core::invoices::{CreateInvoice, Invoice, InvoiceSearch};
use payaiml_core::keys::Permission;
use payaiml_core::receipts::Paper;
use payaiml_core::reports::parse_bound;

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
        async move { Ok(app.till().create_invoice(body.value, &key_id).await?) },
    )
    .await
}

/// Whose invoices `auth` may read: every one with `lightning:read`; with only
/// `lightning:receive` (a point of sale, the cashier), those it made itself.
pub(crate) fn readable_by(auth: &Auth) -> ApiResult<Option<&str>> {
    if auth.key.allows(Permission::LightningRead) {
        return Ok(None);
    }
    match auth.require(Permission::LightningReceive) {
        Ok(()) => Ok(Some(auth.key.id.as_str())),
        // The permission that reads every invoice is the one to name.
        Err(_) => auth.require(Permission::LightningRead).map(|()| None),
    }
}

/// Reads one invoice as `auth` may.
async fn readable(state: &ApiState, auth: &Auth, id: &str) -> ApiResult<Invoice> {
    Ok(match readable_by(auth)? {
        None => state.app.invoices().get(id).await?,
        Some(key) => state.app.invoices().get_made_by(id, key).await?,
    })
}

/// List invoices, newest first, optionally only those matching a search: status, text (`q`),
/// amount range, dates. Needs `lightning:read`; a key with only `lightning:receive` lists the
/// invoices it made.
#[utoipa::path(get, path = "/v1/lightning/invoices", tag = "invoices", params(InvoiceListQuery),
    responses((status = 200, body = PageBody<Invoice>), (status = "4XX", body = ErrorBody)))]
pub async fn list_invoices(
    State(state): State<ApiState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<InvoiceListQuery>,
) -> ApiResult<Json<PageBody<Invoice>>> {
    let only = readable_by(&auth)?;
    let search = InvoiceSearch {
        status: q.status.as_deref().map(str::parse).transpose()?,
        // Spaces around the text do not count; none at all searches no text.
        text: q.q.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()),
        min_amount: q.min_amount,
        max_amount: q.max_amount,
        from_ms: q
            .from
            .as_deref()
            .map(|t| parse_bound(t, "from", false))
            .transpose()?,
        to_ms: q
            .to
            .as_deref()
            .map(|t| parse_bound(t, "to", true))
            .transpose()?,
    };
    let (limit, cursor) = (limit(q.limit)?, q.cursor.as_deref());
    let invoices = state.app.invoices();
    let page = match only {
        None => invoices.list(&search, limit, cursor).await?,
        Some(key) => invoices.list_made_by(key, &search, limit, cursor).await?,
    };
    Ok(Json(page.into()))
}

/// Get one invoice by id or payment hash. Needs `lightning:read`; a key with only
/// `lightning:receive` reads the invoices it made (another's is 404).
#[utoipa::path(get, path = "/v1/lightning/invoices/{id}", tag = "invoices",
    params(("id" = String, Path, description = "invoice id (inv_…) or payment hash")),
    responses((status = 200, body = Invoice), (status = "4XX", body = ErrorBody)))]
pub async fn get_invoice(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Invoice>> {
    Ok(Json(readable(&state, &auth, &id).await?))
}

/// What an invoice's QR code holds: its unified BIP21 URI when it may also be paid on-chain (a
/// wallet pays it either way), else `LIGHTNING:<PAYMENT_REQUEST>`.
pub(super) fn qr_text(invoice: &Invoice) -> String {
    match &invoice.onchain {
        Some(onchain) => onchain.uri.clone(),
        None => qr::invoice_uri(&invoice.payment_request),
    }
}

/// The invoice as an SVG QR code of `lightning:<payment_request>` (or of its BIP21 URI, for an
/// invoice that may also be paid on-chain). Needs `lightning:read` (or
/// `lightning:receive`, for the invoices that key made).
#[utoipa::path(get, path = "/v1/lightning/invoices/{id}/qr.svg", tag = "invoices",
    params(("id" = String, Path, description = "invoice id or payment hash")),
    responses((status = 200, content_type = "image/svg+xml", body = String), (status = "4XX", body = ErrorBody)))]
pub async fn invoice_qr_svg(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let invoice = readable(&state, &auth, &id).await?;
    let svg = qr::svg(&qr_text(&invoice), 320)?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}

/// The invoice as a PNG QR code. Needs what the SVG one needs.
#[utoipa::path(get, path = "/v1/lightning/invoices/{id}/qr.png", tag = "invoices",
    params(("id" = String, Path, description = "invoice id or payment hash")),
    responses((status = 200, content_type = "image/png", body = Vec<u8>), (status = "4XX", body = ErrorBody)))]
pub async fn invoice_qr_png(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let invoice = readable(&state, &auth, &id).await?;
    let png = qr::png(&qr_text(&invoice), 8)?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
}

/// Query of a receipt.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReceiptQuery {
    /// `80mm` (a thermal roll, the default) or `a4`.
    #[param(schema_with = papers)]
    pub paper: Option<String>,
    /// Answer as a file to save (`receipt-inv_….html`) rather than a page to show.
    pub download: Option<bool>,
}

impl ReceiptQuery {
    /// The paper asked for (default: the 80 mm roll).
    pub(crate) fn paper(&self) -> ApiResult<Paper> {
        Ok(self
            .paper
            .as_deref()
            .map(str::parse)
            .transpose()?
            .unwrap_or_default())
    }
}

/// A printable page as the answer (a receipt, a sticker): HTML in which nothing runs or loads
/// (its style is inline, and that is all), saved as `download` when one is named.
pub(crate) fn printable(page: String, download: Option<String>) -> Response {
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        page,
    )
        .into_response();
    if let Some(name) = download {
        let value = format!("attachment; filename=\"{}\"", name.replace('"', ""));
        if let Ok(value) = header::HeaderValue::from_str(&value) {
            response
                .headers_mut()
                .insert(header::CONTENT_DISPOSITION, value);
        }
    }
    response
}

fn papers() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(["80mm", "a4"]))
        .build()
}

/// The receipt of a paid invoice as a printable HTML page (self-contained: no script, no outside
/// resource): the shop's details from Settings, the lines, taxes and tip as charged, the total in
/// the sale's currency and in sats, the date, the invoice id and the payment hash, laid out for an
/// 80 mm roll or A4. An invoice not paid has none (`409 invoice_not_paid`). Needs
/// `lightning:read`, or `lightning:receive` for the invoices that key made (the counter prints
/// its own sales' receipts).
#[utoipa::path(get, path = "/v1/lightning/invoices/{id}/receipt", tag = "invoices",
    params(("id" = String, Path, description = "invoice id or payment hash"), ReceiptQuery),
    responses((status = 200, content_type = "text/html", body = String), (status = "4XX", body = ErrorBody)))]
pub async fn invoice_receipt(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ReceiptQuery>,
) -> ApiResult<Response> {
    let only = readable_by(&auth)?;
    let paper = q.paper()?;
    let page = state.app.receipts().html(&id, only, paper).await?;
    Ok(printable(
        page,
        (q.download == Some(true)).then(|| format!("receipt-{id}.html")),
    ))
}
