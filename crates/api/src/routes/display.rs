//! `/v1/display`: the customer display. The point of sale puts its current sale (or a tip
//! question) on it; the display reads it with its own key, which reads nothing else, and waits
//! for the next change with a long poll; displays in a browser tab or on another device pair by
//! a short code the dashboard shows.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use payaiml_core::catalog::Order;
use payaiml_core::display::{PairedDisplay, Pairing, Screen, ScreenUpdate, TipAnswer, TipAsk};
use payaiml_core::invoices::{Invoice, InvoiceStatus};
use payaiml_core::keys::Permission;
use payaiml_core::rates::FiatAmount;
use payaiml_core::util::now_ms;
use payaiml_core::{Error, ErrorCode};
use serde::{Deserialize, Serialize};

use super::invoices::{qr_text, readable_by};
use super::ApiQuery;
use crate::auth::{rate_limited, refused, Auth, ClientIp, DisplayAuth};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::ApiJson;
use crate::qr;
use crate::state::ApiState;

/// The longest a read with `after` waits for a change (well under common proxy timeouts).
const LONGEST_WAIT: Duration = Duration::from_secs(25);

/// What the customer display shows.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DisplayBody {
    /// Rises with every change (the sale, the tip question or its answer, the sale's payment
    /// or expiry): pass it as `after` to wait for the next.
    pub version: u64,
    /// The sale being paid, or null (the display's welcome).
    pub sale: Option<DisplaySale>,
    /// The tip question, while the point of sale asks one.
    pub tip_ask: Option<TipAsk>,
    /// Its answer, once one is given on either screen.
    pub tip_answer: Option<TipAnswer>,
}

/// The sale as the customer sees it: what is due and how to pay, nothing more.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DisplaySale {
    /// The invoice's id.
    pub id: String,
    /// `pending`, `paid` or `expired`.
    pub status: InvoiceStatus,
    /// What is due, in sats (null: the payer chooses).
    pub amount: Option<u64>,
    /// What was received, in sats, once paid.
    pub amount_received: Option<u64>,
    /// The price in the merchant's currency and its rate, if priced in one.
    pub fiat: Option<FiatAmount>,
    /// The cart's lines, taxes, tip and total, for a sale from the catalog.
    pub order: Option<Order>,
    /// The description.
    pub description: String,
    /// When it expires.
    pub expires_at: String,
    /// Whether it may also be paid on-chain (the QR is then a unified BIP21 URI).
    pub onchain: bool,
    /// The QR code to scan (SVG), while it waits for payment.
    pub qr_svg: Option<String>,
}

impl DisplaySale {
    fn of(invoice: Invoice) -> ApiResult<Self> {
        let qr_svg = match invoice.status {
            InvoiceStatus::Pending => Some(qr::svg(&qr_text(&invoice), 320)?),
            _ => None,
        };
        Ok(DisplaySale {
            onchain: invoice.onchain.is_some(),
            id: invoice.id,
            status: invoice.status,
            amount: invoice.amount,
            amount_received: invoice.amount_received,
            fiat: invoice.fiat,
            order: invoice.order,
            description: invoice.description,
            expires_at: invoice.expires_at,
            qr_svg,
        })
    }
}

async fn body(state: &ApiState, screen: Screen) -> ApiResult<DisplayBody> {
    let sale = state.app.display().sale(&screen).await?;
    Ok(DisplayBody {
        version: screen.version,
        sale: sale.map(DisplaySale::of).transpose()?,
        tip_ask: screen.tip_ask,
        tip_answer: screen.tip_answer,
    })
}

/// Query of the display's read.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DisplayQuery {
    /// The `version` last read: the answer waits (up to 25 s) until the screen changes from it,
    /// then answers the new screen (or the same one, after 25 s).
    #[param(minimum = 0)]
    pub after: Option<i64>,
}

/// What the customer display shows now: the sale (amount, price in the merchant's currency,
/// cart, QR) or the tip question. With `after`, waits for the next change. Takes a display's
/// key (`display:read`), or one that runs a point of sale or reads invoices.
#[utoipa::path(get, path = "/v1/display", tag = "display", params(DisplayQuery),
    responses((status = 200, body = DisplayBody), (status = "4XX", body = ErrorBody)))]
pub async fn get_display(
    State(state): State<ApiState>,
    auth: DisplayAuth,
    ApiQuery(q): ApiQuery<DisplayQuery>,
) -> ApiResult<Json<DisplayBody>> {
    let after = match q.after {
        Some(after) => Some(u64::try_from(after).map_err(|_| {
            ApiError::new(
                ErrorCode::InvalidQuery,
                "after is a version read before: 0 or more",
            )
            .with_field("after")
        })?),
        None => None,
    };
    let mut changes = state.app.display().watch();
    if let Some(after) = after {
        if changes.borrow_and_update().version == after {
            let closing = state.app.closing();
            tokio::select! {
                _ = changes.changed() => {}
                _ = tokio::time::sleep(LONGEST_WAIT) => {}
                _ = closing.cancelled() => {}
            }
            // The key may have been revoked while it waited: no screen for it then.
            let key = state.app.keys().get(&auth.key.id).await?;
            key.check_live(now_ms()).map_err(refused)?;
        }
    }
    let screen = state.app.display().screen();
    Ok(Json(body(&state, screen).await?))
}

/// Put a sale (an invoice id) or a tip question on the customer display, or neither (its
/// welcome). Replaces the whole screen. Needs `lightning:receive` or `lightning:write`; a key
/// with only `lightning:receive` shows only invoices it made.
#[utoipa::path(put, path = "/v1/display", tag = "display", request_body = ScreenUpdate,
    responses((status = 200, body = DisplayBody), (status = "4XX", body = ErrorBody)))]
pub async fn set_display(
    State(state): State<ApiState>,
    auth: Auth,
    update: ApiJson<ScreenUpdate>,
) -> ApiResult<Json<DisplayBody>> {
    auth.require(Permission::LightningReceive)?;
    let made_by = readable_by(&auth)?;
    let screen = state
        .app
        .display()
        .show(update.value, &auth.key.id, made_by)
        .await?;
    Ok(Json(body(&state, screen).await?))
}

/// Answer the display's tip question: one of its percentages, an `amount` of the customer's
/// own, or neither (no tip). The first answer stands; an answer to a question no longer on
/// screen is `409 display_conflict`. Takes a display's key (`display:read`), or the key of the
/// point of sale that put the question up; any other key is `403 missing_permission`.
#[utoipa::path(post, path = "/v1/display/tip", tag = "display", request_body = TipAnswer,
    responses((status = 200, body = DisplayBody), (status = "4XX", body = ErrorBody)))]
pub async fn answer_display_tip(
    State(state): State<ApiState>,
    auth: DisplayAuth,
    answer: ApiJson<TipAnswer>,
) -> ApiResult<Json<DisplayBody>> {
    let screen = state.app.display().answer_tip(answer.value, &auth.key)?;
    Ok(Json(body(&state, screen).await?))
}

/// A request for a pairing code.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PairingRequest {
    /// The dashboard's address as the display will open it (e.g. `http://192.168.1.20:3737/`):
    /// the answer then holds the link to open there, and its QR code.
    #[serde(default)]
    #[schema(
        max_length = 300,
        pattern = "^https?://[^\\s\\x00-\\x1f\\x7f-\\x9f#]*(#.*)?$"
    )]
    pub url: Option<String>,
}

/// A pairing code to type (or scan) on the new display.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PairingBody {
    /// The code and when it stops working.
    #[serde(flatten)]
    pub pairing: Pairing,
    /// The link that pairs the display when opened, if `url` was given.
    pub link: Option<String>,
    /// That link as a QR code (SVG).
    pub qr_svg: Option<String>,
}

/// Open a pairing code for a customer display (in a browser tab, or on a tablet facing the
/// customer): good once, for 10 minutes. The display trades it at `POST /v1/display/pair` for
/// its own key, which reads the current sale and nothing else. Needs `lightning:receive` or
/// `lightning:write`.
#[utoipa::path(post, path = "/v1/display/pairings", tag = "display", request_body = PairingRequest,
    responses((status = 201, body = PairingBody), (status = "4XX", body = ErrorBody)))]
pub async fn create_display_pairing(
    State(state): State<ApiState>,
    auth: Auth,
    request: ApiJson<PairingRequest>,
) -> ApiResult<(StatusCode, Json<PairingBody>)> {
    auth.require(Permission::LightningReceive)?;
    let base = request.value.url.map(|u| checked_url(&u)).transpose()?;
    let pairing = state.app.display().start_pairing();
    let link = base.map(|b| format!("{b}#/display?pair={}", pairing.code));
    let qr_svg = link.as_deref().map(|l| qr::svg(l, 320)).transpose()?;
    Ok((
        StatusCode::CREATED,
        Json(PairingBody {
            pairing,
            link,
            qr_svg,
        }),
    ))
}

/// The address a display opens, without its fragment. The whole `url` counts against the 300
/// characters, as the document's `maxLength` says (a long fragment was let through).
fn checked_url(url: &str) -> ApiResult<String> {
    let base = url.split('#').next().unwrap_or_default();
    let ok = (base.starts_with("http://") || base.starts_with("https://"))
        && url.chars().count() <= 300
        && !base.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(base.to_string())
    } else {
        Err(ApiError::bad_field(
            "url",
            "url is the dashboard's http:// or https:// address, at most 300 characters",
        ))
    }
}

/// A display's pairing: the code the dashboard shows, and a name for the screen.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PairRequest {
    /// The code, e.g. `K7PM-4QXD` (the dash and the case do not matter).
    #[schema(max_length = 32)]
    pub code: String,
    /// A name for the screen, shown in the list of keys (at most 60 characters).
    #[serde(default)]
    #[schema(max_length = 60)]
    pub name: Option<String>,
}

/// Pair a customer display: trades a pairing code for the display's own key (`display:read`:
/// it reads the current sale and answers tip questions, nothing else; it is listed and revoked
/// with the other keys). Takes no key. Wrong codes count as failed sign-ins: too many from one
/// client is `429 rate_limited`, and from then on its codes are not looked at until the wait
/// is over (a right one too).
#[utoipa::path(post, path = "/v1/display/pair", tag = "display", request_body = PairRequest,
    security(()),
    responses((status = 201, body = PairedDisplay), (status = "4XX", body = ErrorBody)))]
pub async fn pair_display(
    State(state): State<ApiState>,
    ClientIp(ip): ClientIp,
    request: ApiJson<PairRequest>,
) -> ApiResult<(StatusCode, Json<PairedDisplay>)> {
    let PairRequest { code, name } = request.value;
    // Over the limit, the code is not even looked at: otherwise a guesser refused with 429
    // would still learn from a 201 that one of its guesses was right.
    if let Some(wait) = state.limiter.waiting(ip, code.as_bytes()) {
        return Err(rate_limited(wait));
    }
    match state.app.display().pair(&code, name.as_deref()).await {
        Ok(paired) => Ok((StatusCode::CREATED, Json(paired))),
        Err(e @ Error::Unprocessable { .. }) if e.code() == ErrorCode::InvalidPairingCode => {
            match state.limiter.fail(ip, code.as_bytes()) {
                Some(wait) => Err(rate_limited(wait)),
                None => Err(e.into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}
