//! `/v1/lightning/offers`: static QR codes (BOLT12 offers) — make, list, read, QR, sticker.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use payaiml_core::keys::Permission;
use payaiml_core::offers::{CreateOffer, Offer};

use super::invoices::{readable_by, ReceiptQuery};
use super::{idempotent, limit, ApiQuery, PageBody};
use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::json::ApiJson;
use crate::qr;
use crate::state::ApiState;

/// Make an offer: a payment code that never expires and can be paid any number of times (a
/// sticker on the counter, a tip jar). Each payment to it becomes a paid invoice with
/// `offer_id`, the payer's note and the quantity, and a `payment.received` event. Needs
/// `lightning:receive` or `lightning:write`. Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/lightning/offers", tag = "invoices",
    request_body = CreateOffer,
    params(("Idempotency-Key" = Option<String>, Header, description = "replays the first response for the same request; 1 to 255 visible ASCII characters", pattern = "^[!-~]{1,255}$", max_length = 255)),
    responses((status = 201, body = Offer), (status = "4XX", body = ErrorBody)))]
pub async fn create_offer(
    State(state): State<ApiState>,
    auth: Auth,
    headers: HeaderMap,
    body: ApiJson<CreateOffer>,
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
        "POST /v1/lightning/offers",
        &body.canonical,
        async move { Ok(app.offers().create(body.value, Some(&key_id)).await?) },
    )
    .await
}

/// Query of the offer list.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OfferListQuery {
    /// 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page (opaque; today a positive whole number).
    #[param(pattern = "^([1-9][0-9]{0,17})?$")]
    pub cursor: Option<String>,
}

/// List offers, newest first, each with its payments counted and summed. Needs
/// `lightning:read`; a key with only `lightning:receive` lists the offers it made.
#[utoipa::path(get, path = "/v1/lightning/offers", tag = "invoices", params(OfferListQuery),
    responses((status = 200, body = PageBody<Offer>), (status = "4XX", body = ErrorBody)))]
pub async fn list_offers(
    State(state): State<ApiState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<OfferListQuery>,
) -> ApiResult<Json<PageBody<Offer>>> {
    let only = readable_by(&auth)?;
    let page = state
        .app
        .offers()
        .list(only, limit(q.limit)?, q.cursor.as_deref())
        .await?;
    Ok(Json(page.into()))
}

/// Reads one offer as `auth` may.
async fn readable(state: &ApiState, auth: &Auth, id: &str) -> ApiResult<Offer> {
    let only = readable_by(auth)?;
    Ok(state.app.offers().get(id, only).await?)
}

/// Get one offer. Needs `lightning:read`; a key with only `lightning:receive` reads the offers
/// it made (another's is 404). Its payments are the invoices with its `offer_id`.
#[utoipa::path(get, path = "/v1/lightning/offers/{id}", tag = "invoices",
    params(("id" = String, Path, description = "offer id (ofr_…)")),
    responses((status = 200, body = Offer), (status = "4XX", body = ErrorBody)))]
pub async fn get_offer(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Offer>> {
    Ok(Json(readable(&state, &auth, &id).await?))
}

/// The offer as an SVG QR code of `lightning:<offer>`. Needs what reading it needs.
#[utoipa::path(get, path = "/v1/lightning/offers/{id}/qr.svg", tag = "invoices",
    params(("id" = String, Path, description = "offer id (ofr_…)")),
    responses((status = 200, content_type = "image/svg+xml", body = String), (status = "4XX", body = ErrorBody)))]
pub async fn offer_qr_svg(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let offer = readable(&state, &auth, &id).await?;
    let svg = qr::svg(&qr::invoice_uri(&offer.offer), 320)?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}

/// The offer's sticker as a printable HTML page (self-contained, like a receipt): the shop's
/// name, what the offer is for, its price or "any amount", and its QR code, for an 80 mm roll
/// or A4. Needs what reading it needs.
#[utoipa::path(get, path = "/v1/lightning/offers/{id}/sticker", tag = "invoices",
    params(("id" = String, Path, description = "offer id (ofr_…)"), ReceiptQuery),
    responses((status = 200, content_type = "text/html", body = String), (status = "4XX", body = ErrorBody)))]
pub async fn offer_sticker(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ReceiptQuery>,
) -> ApiResult<Response> {
    let paper = q.paper()?;
    let offer = readable(&state, &auth, &id).await?;
    let svg = qr::svg(&qr::invoice_uri(&offer.offer), 320)?;
    let page = state.app.receipts().sticker(&offer, &svg, paper).await?;
    Ok(super::invoices::printable(
        page,
        (q.download == Some(true)).then(|| format!("sticker-{}.html", offer.id)),
    ))
}
