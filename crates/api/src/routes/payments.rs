//! `/v1/lightning/payments`: pay an invoice, read, list; and decoding an invoice before paying.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use payaiml_core::keys::Permission;
use payaiml_core::payments::{PayInvoice, Payment};
use serde::{Deserialize, Serialize};

use super::{idempotent, limit, ApiQuery, PageBody, PaymentListQuery};
use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::json::ApiJson;
use crate::state::ApiState;

/// Pay a BOLT11 invoice. Needs `lightning:write`, within the key's daily budget. Waits up to 30 s
/// for the payment to settle; the answer's `status` says how it ended (or `pending`).
#[utoipa::path(post, path = "/v1/lightning/payments", tag = "payments",
    request_body = PayInvoice,
    params(("Idempotency-Key" = Option<String>, Header, description = "replays the first response for the same request; 1 to 255 visible ASCII characters", pattern = "^[!-~]{1,255}$", max_length = 255)),
    responses((status = 201, body = Payment), (status = "4XX", body = ErrorBody)))]
pub async fn create_payment(
    State(state): State<ApiState>,
    auth: Auth,
    headers: HeaderMap,
    body: ApiJson<PayInvoice>,
) -> Response {
    if let Err(e) = auth.require(Permission::LightningWrite) {
        return e.into_response();
    }
    let app = state.app.clone();
    let key = auth.key.clone();
    idempotent(
        &state,
        &auth,
        &headers,
        "POST /v1/lightning/payments",
        &body.canonical,
        async move { Ok(app.payments().pay(body.value, Some(&key)).await?) },
    )
    .await
}

/// Refund (part of) a paid invoice: pay the customer's BOLT11 invoice (`amount` for one without
/// an amount), linked to the paid one (`refund_of`). All refunds of an invoice, sent or being
/// sent, can never pass what it received (`422 refund_exceeds_received`, checked under the
/// payments' lock, so concurrent refunds cannot pass it together); an unpaid invoice has nothing
/// to refund (`409 invoice_not_paid`). A success adds a `payment.refunded` event and raises the
/// invoice's `amount_refunded`. Needs `lightning:write`, within the key's daily budget; the
/// cashier's key refunds only while the app is locked, only the sales made under the current
/// lock, and only when the owner allows it (settings `counter.cashier_refunds`) within the
/// daily `counter.cashier_refund_limit` (`403 cashier_refund_limit` past it). Honours
/// `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/lightning/invoices/{id}/refund", tag = "payments",
    request_body = PayInvoice,
    params(("id" = String, Path, description = "the paid invoice's id or payment hash"),
        ("Idempotency-Key" = Option<String>, Header, description = "replays the first response for the same request; 1 to 255 visible ASCII characters", pattern = "^[!-~]{1,255}$", max_length = 255)),
    responses((status = 201, body = Payment), (status = "4XX", body = ErrorBody)))]
pub async fn refund_invoice(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: ApiJson<PayInvoice>,
) -> Response {
    let counter_limit = match auth.require(Permission::LightningWrite) {
        Ok(()) => None,
        // The locked counter refunds the sales of its current lock when the owner allows it,
        // within the owner's daily limit.
        Err(refused) => match state
            .app
            .cashier()
            .refund_allowance(&auth.key.id, &id)
            .await
        {
            Ok(Some(limit)) => Some(limit),
            Ok(None) => return refused.into_response(),
            Err(e) => return crate::error::ApiError::from(e).into_response(),
        },
    };
    let app = state.app.clone();
    let key = auth.key.clone();
    let scope = format!("POST /v1/lightning/invoices/{id}/refund");
    idempotent(
        &state,
        &auth,
        &headers,
        &scope,
        &body.canonical,
        async move {
            let payment = app
                .payments()
                .refund(&id, body.value, Some(&key), counter_limit)
                .await?;
            // Who refunded a till sale, and in which shift, for the Z-report.
            if let Err(e) = app.till().stamp_refund(&payment.id, &key.id).await {
                tracing::warn!(error = %e, "could not record who made a refund");
            }
            Ok(payment)
        },
    )
    .await
}

/// List payments sent, newest first. Needs `lightning:read`.
#[utoipa::path(get, path = "/v1/lightning/payments", tag = "payments", params(PaymentListQuery),
    responses((status = 200, body = PageBody<Payment>), (status = "4XX", body = ErrorBody)))]
pub async fn list_payments(
    State(state): State<ApiState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<PaymentListQuery>,
) -> ApiResult<Json<PageBody<Payment>>> {
    auth.require(Permission::LightningRead)?;
    let status = q.status.as_deref().map(str::parse).transpose()?;
    let page = state
        .app
        .payments()
        .list(status, limit(q.limit)?, q.cursor.as_deref())
        .await?;
    Ok(Json(page.into()))
}

/// Get one payment by id or payment hash. Needs `lightning:read`.
#[utoipa::path(get, path = "/v1/lightning/payments/{id}", tag = "payments",
    params(("id" = String, Path, description = "payment id (pay_…) or payment hash")),
    responses((status = 200, body = Payment), (status = "4XX", body = ErrorBody)))]
pub async fn get_payment(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Payment>> {
    auth.require(Permission::LightningRead)?;
    Ok(Json(state.app.payments().get(&id).await?))
}

/// An invoice to decode.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecodeRequest {
    /// The BOLT11 string.
    #[schema(min_length = 1)]
    pub invoice: String,
}

/// What a BOLT11 invoice says, shown before paying it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DecodedInvoice {
    /// Amount in sats, if fixed.
    pub amount: Option<u64>,
    /// Amount in millisatoshis, if fixed.
    pub amount_msat: Option<u64>,
    /// Description, if given directly.
    pub description: Option<String>,
    /// The payee's node id.
    pub destination: String,
    /// Hex payment hash.
    pub payment_hash: String,
    /// The invoice's network.
    pub network: String,
    /// When it was created.
    pub created_at: String,
    /// When it expires.
    pub expires_at: String,
    /// Whether it has expired.
    pub expired: bool,
}

/// The latest time shown (the end of year 9999): `expires_at` of an invoice that claims to live
/// longer reads as that.
const MAX_TIME_MS: i64 = 253_402_300_799_000;

/// Decode a BOLT11 invoice without paying it. Needs `lightning:read` or `lightning:receive` (a
/// counter checks a customer's invoice before a refund); it reads only the text it is given.
#[utoipa::path(post, path = "/v1/lightning/decode", tag = "payments", request_body = DecodeRequest,
    responses((status = 200, body = DecodedInvoice), (status = "4XX", body = ErrorBody)))]
pub async fn decode_invoice(
    auth: Auth,
    body: ApiJson<DecodeRequest>,
) -> ApiResult<Json<DecodedInvoice>> {
    if !auth.key.allows(Permission::LightningReceive) {
        auth.require(Permission::LightningRead)?;
    }
    let invoice = payaiml_core::parse_invoice(&body.value.invoice)?;
    let created = invoice.duration_since_epoch();
    // An invoice may say it expires in 2^64 seconds: saturate instead of overflowing.
    let expires = created
        .checked_add(invoice.expiry_time())
        .unwrap_or(std::time::Duration::MAX);
    let ms = |d: std::time::Duration| d.as_millis().min(MAX_TIME_MS as u128) as i64;
    Ok(Json(DecodedInvoice {
        amount: invoice.amount_milli_satoshis().map(|m| m.div_ceil(1000)),
        amount_msat: invoice.amount_milli_satoshis(),
        description: payaiml_core::invoice_description(&invoice),
        destination: invoice.recover_payee_pub_key().to_string(),
        payment_hash: invoice.payment_hash().to_string(),
        network: invoice.network().to_string(),
        created_at: payaiml_core::util::rfc3339(ms(created)),
        expires_at: payaiml_core::util::rfc3339(ms(expires)),
        expired: invoice.is_expired(),
    }))
}
