//! `/v1/sandbox/*`: the regtest customer and miner. Mounted only when the server runs the sandbox;
//! needs `node:manage`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use payaiml_core::invoices::InvoiceStatus;
use payaiml_core::keys::Permission;
use payaiml_core::payments::PaymentStatus;
use payaiml_core::sandbox::{CustomerInvoice, CustomerPayment, Sandbox};
use serde::{Deserialize, Serialize};

use super::ListBody;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::ApiJson;
use crate::state::ApiState;
use payaiml_core::ErrorCode;

fn sandbox(state: &ApiState) -> ApiResult<&std::sync::Arc<Sandbox>> {
    state
        .sandbox
        .as_ref()
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "this server does not run the sandbox"))
}

/// The customer pays an invoice, an offer, or a unified URI on-chain.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SandboxPay {
    /// The BOLT11 invoice to pay (usually one of the merchant's), a BOLT12 offer (`lno1…`), or a
    /// BIP21 URI (`bitcoin:…`, an invoice's `onchain.uri`), which the customer pays on-chain
    /// from the sandbox's bitcoind wallet, confirmed by one mined block (to pay such an invoice
    /// over Lightning, give its `payment_request`).
    #[schema(min_length = 1)]
    pub payment_request: String,
    /// Sats, for an any-amount invoice or offer (for a priced offer or a URI: pays this much
    /// instead).
    #[schema(minimum = 1, maximum = 5_000_000)]
    pub amount: Option<u64>,
    /// For an offer: the note the customer's wallet sends with the payment.
    #[schema(max_length = 512)]
    pub payer_note: Option<String>,
    /// For an offer that sells more than one: how many (default 1).
    #[schema(minimum = 1, maximum = 1000)]
    pub quantity: Option<u64>,
}

/// The sandbox customer pays an invoice or an offer; waits until it settles and the merchant
/// has recorded it.
#[utoipa::path(post, path = "/v1/sandbox/pay", tag = "sandbox", request_body = SandboxPay,
    responses((status = 200, body = CustomerPayment), (status = "4XX", body = ErrorBody)))]
pub async fn pay(
    State(state): State<ApiState>,
    auth: Auth,
    body: ApiJson<SandboxPay>,
) -> ApiResult<Json<CustomerPayment>> {
    auth.require(Permission::NodeManage)?;
    let sb = sandbox(&state)?;
    let SandboxPay {
        payment_request,
        amount,
        payer_note,
        quantity,
    } = body.value;
    // A payment to an offer has no invoice until the merchant's node records it.
    let to_offer = payaiml_core::sandbox::as_offer(&payment_request).is_some();
    let merchant = state.app.node().get().ok();
    let paid = sb
        .pay_with(&payment_request, amount, payer_note, quantity, merchant)
        .await?;
    // Answer once the merchant has recorded it too, so the caller's next read shows `paid` (an
    // on-chain payment waits for the merchant's wallet to see its block: longer).
    let tries = if paid.txid.is_some() { 1200 } else { 200 };
    if paid.status == PaymentStatus::Succeeded {
        for _ in 0..tries {
            match state.app.invoices().get(&paid.payment_hash).await {
                Ok(inv) if inv.status != InvoiceStatus::Paid => {}
                Err(_) if to_offer => {}
                _ => break,
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await
        }
    }
    Ok(Json(paid))
}

/// A customer invoice request.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SandboxInvoice {
    /// Sats.
    #[schema(minimum = 1, maximum = 5_000_000)]
    pub amount: u64,
    /// Description.
    #[serde(default)]
    pub description: String,
}

/// An invoice from the sandbox customer, for the merchant to pay.
#[utoipa::path(post, path = "/v1/sandbox/invoice", tag = "sandbox", request_body = SandboxInvoice,
    responses((status = 201, body = CustomerInvoice), (status = "4XX", body = ErrorBody)))]
pub async fn invoice(
    State(state): State<ApiState>,
    auth: Auth,
    body: ApiJson<SandboxInvoice>,
) -> ApiResult<(StatusCode, Json<CustomerInvoice>)> {
    auth.require(Permission::NodeManage)?;
    let inv = sandbox(&state)?
        .invoice(body.value.amount, &body.value.description)
        .await?;
    Ok((StatusCode::CREATED, Json(inv)))
}

/// Blocks to mine.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SandboxMine {
    /// 1 to 1000.
    #[schema(minimum = 1, maximum = 1000)]
    pub blocks: u64,
}

/// The chain height after mining.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Mined {
    /// Blocks mined.
    pub blocks: u64,
    /// New height.
    pub height: u64,
}

/// The customer node's id and peer address (to open more channels to it).
#[utoipa::path(get, path = "/v1/sandbox/customer", tag = "sandbox",
    responses((status = 200, body = payaiml_core::sandbox::CustomerNode), (status = "4XX", body = ErrorBody)))]
pub async fn customer(
    State(state): State<ApiState>,
    auth: Auth,
) -> ApiResult<Json<payaiml_core::sandbox::CustomerNode>> {
    auth.require(Permission::NodeManage)?;
    Ok(Json(sandbox(&state)?.customer()))
}

/// The customer node's own record of its Lightning payments (to check the merchant's against).
#[utoipa::path(get, path = "/v1/sandbox/customer/payments", tag = "sandbox",
    responses((status = 200, body = ListBody<payaiml_core::sandbox::CustomerPaymentRecord>), (status = "4XX", body = ErrorBody)))]
pub async fn customer_payments(
    State(state): State<ApiState>,
    auth: Auth,
) -> ApiResult<Json<ListBody<payaiml_core::sandbox::CustomerPaymentRecord>>> {
    auth.require(Permission::NodeManage)?;
    Ok(Json(ListBody {
        data: sandbox(&state)?.customer_payments(),
    }))
}

/// Mine regtest blocks.
#[utoipa::path(post, path = "/v1/sandbox/mine", tag = "sandbox", request_body = SandboxMine,
    responses((status = 200, body = Mined), (status = "4XX", body = ErrorBody)))]
pub async fn mine(
    State(state): State<ApiState>,
    auth: Auth,
    body: ApiJson<SandboxMine>,
) -> ApiResult<Json<Mined>> {
    auth.require(Permission::NodeManage)?;
    let merchant = state.app.node().get().ok();
    let height = sandbox(&state)?.mine(merchant, body.value.blocks).await?;
    Ok(Json(Mined {
        blocks: body.value.blocks,
        height,
    }))
}
