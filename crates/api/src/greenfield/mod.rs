//! The BTCPay Greenfield-compatible front door under `/api/v1/`: the subset BTCPay's shop
//! plugins call (WooCommerce, PrestaShop, Magento, Odoo and the Greenfield client libraries),
//! answering in BTCPay's shapes, status codes (200 for every success, as its clients require)
//! and error format, over the same core as `/v1`. Also the pairing page's entry
//! (`/api-keys/authorize`) and the hosted checkout ([`checkout`]). docs/api.md lists every
//! route and mapping; anything else under `/api/v1/` answers `404 not-supported`.

pub mod checkout;
pub mod error;

use std::collections::BTreeSet;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use payaiml_core::greenfield::{
    GfCreateInvoice, GfInvoice, GfInvoiceQuery, GfPaymentMethod, GfPermission, GfStatus, GfStore,
    GfWebhook, COMPATIBLE_VERSION,
};
use payaiml_core::keys::ApiKey;
use payaiml_core::webhooks::BtcpayEndpoint;
use payaiml_core::ErrorCode;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::pairing;
use crate::state::ApiState;
pub use error::{GfError, GfResult};

/// The Greenfield routes, the pairing entry and the checkout pages.
pub fn routes() -> Router<ApiState> {
    let routes: [(&str, axum::routing::MethodRouter<ApiState>); 11] = [
        ("/server/info", get(server_info)),
        ("/api-keys/current", get(current_key)),
        ("/stores", get(stores)),
        ("/stores/{store}", get(store)),
        (
            "/stores/{store}/payment-methods",
            get(store_payment_methods),
        ),
        (
            "/stores/{store}/invoices",
            get(list_invoices).post(create_invoice),
        ),
        ("/stores/{store}/invoices/{invoice}", get(get_invoice)),
        (
            "/stores/{store}/invoices/{invoice}/payment-methods",
            get(invoice_payment_methods),
        ),
        (
            "/stores/{store}/invoices/{invoice}/status",
            axum::routing::post(mark_invoice),
        ),
        (
            "/stores/{store}/webhooks",
            get(list_webhooks).post(create_webhook),
        ),
        (
            "/stores/{store}/webhooks/{webhook}",
            get(get_webhook).put(update_webhook).delete(delete_webhook),
        ),
    ];
    // BTCPay answers a path with a trailing slash as without (some clients add one: the
    // Python btcpay-python-sdk lists and creates invoices at `…/invoices/`).
    let mut api = Router::new();
    for (path, handler) in routes {
        api = api
            .route(path, handler.clone())
            .route(&format!("{path}/"), handler);
    }
    let api = api
        .fallback(not_supported)
        .method_not_allowed_fallback(not_supported);
    Router::new()
        .nest("/api/v1", api)
        .route("/api-keys/authorize", get(authorize))
        .route("/api-keys/authorize/{request}", get(pairing_state))
        .route(
            "/api-keys/authorize.js",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
                    pairing::WAITING_SCRIPT,
                )
            }),
        )
        .merge(checkout::routes())
}

async fn not_supported(method: Method, uri: Uri) -> GfError {
    GfError::not_supported(method.as_str(), uri.path())
}

/// The key of a Greenfield request and the BTCPay permissions it holds.
pub struct GfAuth {
    /// The key.
    pub key: ApiKey,
    /// Its BTCPay permissions, each with what it includes.
    pub permissions: BTreeSet<GfPermission>,
}

impl GfAuth {
    fn require(&self, permission: GfPermission) -> GfResult<()> {
        if self.permissions.contains(&permission) {
            Ok(())
        } else {
            Err(GfError::missing_permission(permission.as_str()))
        }
    }
}

impl FromRequestParts<ApiState> for GfAuth {
    type Rejection = GfError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        let key = crate::auth::authenticate(parts, state).await?;
        if key.display_only() {
            return Err(ApiError::new(
                ErrorCode::MissingPermission,
                "this is a customer display's key: it reaches /v1/display and nothing else",
            )
            .into());
        }
        let permissions = state.app.greenfield().permissions_of(&key).await?;
        Ok(GfAuth { key, permissions })
    }
}

/// The shop's Greenfield view for a request about `store` that needs `permission`: 403 without
/// it, 404 for another store id.
async fn store_view<'a>(
    state: &'a ApiState,
    auth: &GfAuth,
    permission: GfPermission,
    store: &str,
) -> GfResult<payaiml_core::greenfield::Greenfield<'a>> {
    auth.require(permission)?;
    let gf = state.app.greenfield();
    gf.check_store(store).await?;
    Ok(gf)
}

/// A JSON body read the way BTCPay reads it: any content type, unknown fields ignored; a body
/// that does not fit answers 422 naming the field.
fn body<T: DeserializeOwned>(bytes: &Bytes) -> GfResult<T> {
    let text = if bytes.iter().all(u8::is_ascii_whitespace) {
        &b"{}"[..]
    } else {
        &bytes[..]
    };
    let mut reader = serde_json::Deserializer::from_slice(text);
    serde_path_to_error::deserialize(&mut reader).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." {
            "body".to_string()
        } else {
            path
        };
        GfError::validation(&path, e.inner().to_string())
    })
}

/// The address shop customers and plugins reach this server at: `--public-url` when set, else
/// the scheme and host of the request (`X-Forwarded-Proto` from a TLS proxy counted).
fn base_url(state: &ApiState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.app.config().public_url {
        return url.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| *p == "https" || *p == "http")
        .unwrap_or("http");
    format!("{proto}://{host}")
}

fn absolute(mut invoice: GfInvoice, base: &str) -> GfInvoice {
    invoice.checkout_link = format!("{base}{}", invoice.checkout_link);
    invoice
}

async fn server_info(State(state): State<ApiState>, _auth: GfAuth) -> GfResult<Json<Value>> {
    let health = state.app.node().health();
    Ok(Json(json!({
        "version": COMPATIBLE_VERSION,
        "supportedPaymentMethods": ["BTC-CHAIN", "BTC-LN"],
        "fullySynched": health.synced,
        "syncStatus": [{
            "paymentMethodId": "BTC-CHAIN",
            "chainHeight": health.block_height,
            "syncHeight": health.block_height,
            "nodeInformation": null,
            "available": health.synced,
        }],
    })))
}

/// The permissions as BTCPay writes them: `policy:storeId` (this shop is one store).
fn scoped(granted: &BTreeSet<GfPermission>, store: &str) -> Vec<String> {
    granted
        .iter()
        .map(|p| format!("{}:{store}", p.as_str()))
        .collect()
}

async fn current_key(
    State(state): State<ApiState>,
    auth: GfAuth,
    headers: HeaderMap,
) -> GfResult<Json<Value>> {
    let gf = state.app.greenfield();
    let store = gf.store_id().await?;
    let granted = gf.granted(&auth.key).await?;
    // The key as presented: BTCPay answers with the key itself.
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.trim().split_once(' ').map(|(_, k)| k.trim().to_string()))
        .unwrap_or_default();
    Ok(Json(json!({
        "apiKey": presented,
        "label": auth.key.name,
        "permissions": scoped(&granted, &store),
    })))
}

async fn stores(State(state): State<ApiState>, auth: GfAuth) -> GfResult<Json<Vec<GfStore>>> {
    auth.require(GfPermission::ViewStoreSettings)?;
    Ok(Json(vec![state.app.greenfield().shop().await?]))
}

async fn store(
    State(state): State<ApiState>,
    auth: GfAuth,
    Path(store): Path<String>,
) -> GfResult<Json<GfStore>> {
    let gf = store_view(&state, &auth, GfPermission::ViewStoreSettings, &store).await?;
    Ok(Json(gf.shop().await?))
}

async fn store_payment_methods(
    State(state): State<ApiState>,
    auth: GfAuth,
    Path(store): Path<String>,
) -> GfResult<Json<Value>> {
    store_view(&state, &auth, GfPermission::ViewStoreSettings, &store).await?;
    Ok(Json(json!([
        { "enabled": true, "paymentMethodId": "BTC-CHAIN" },
        { "enabled": true, "paymentMethodId": "BTC-LN" },
    ])))
}

async fn create_invoice(
    State(state): State<ApiState>,
    auth: GfAuth,
    headers: HeaderMap,
    Path(store): Path<String>,
    bytes: Bytes,
) -> GfResult<Json<GfInvoice>> {
    store_view(&state, &auth, GfPermission::CreateInvoice, &store).await?;
    let request: GfCreateInvoice = body(&bytes)?;
    let base = base_url(&state, &headers);
    // Made in a task of its own, so a client that hangs up mid-request does not leave an
    // invoice without its Greenfield record.
    let app = state.app.clone();
    let key = auth.key.clone();
    let made = tokio::spawn(async move { app.greenfield().create_invoice(request, &key).await })
        .await
        .map_err(|e| GfError::from(ApiError::internal(format!("invoice task failed: {e}"))))??;
    Ok(Json(absolute(made, &base)))
}

/// BTCPay's list query: repeated `orderId` and `status`, `textSearch`, `startDate`, `endDate`
/// (unix seconds), `skip`, `take`.
fn list_query(raw: Option<&str>) -> GfResult<GfInvoiceQuery> {
    let mut query = GfInvoiceQuery {
        take: 100,
        ..GfInvoiceQuery::default()
    };
    let pairs = form_urlencoded::parse(raw.unwrap_or_default().as_bytes());
    let number = |name: &str, value: &str| -> GfResult<i64> {
        value
            .trim()
            .parse::<i64>()
            .map_err(|_| GfError::validation(name, format!("{name} must be a whole number")))
    };
    for (name, value) in pairs {
        match name.as_ref() {
            "orderId" | "orderId[]" => query.order_ids.push(value.into_owned()),
            "status" | "status[]" => match value.as_ref() {
                "paid" => query.statuses.push(GfStatus::Processing),
                "complete" | "confirmed" => query.statuses.push(GfStatus::Settled),
                other => {
                    // BTCPay ignores a status it does not know.
                    if let Some(s) = GfStatus::parse(other) {
                        query.statuses.push(s)
                    }
                }
            },
            "textSearch" => query.text = Some(value.chars().take(512).collect()),
            "startDate" => query.start = Some(number("startDate", &value)?),
            "endDate" => query.end = Some(number("endDate", &value)?),
            "skip" => query.skip = number("skip", &value)?.max(0),
            "take" => query.take = number("take", &value)?.clamp(1, 1000),
            _ => {}
        }
    }
    if let (Some(start), Some(end)) = (query.start, query.end) {
        if start > end {
            return Err(GfError::validation(
                "startDate",
                "startDate must not be after endDate",
            ));
        }
    }
    Ok(query)
}

async fn list_invoices(
    State(state): State<ApiState>,
    auth: GfAuth,
    headers: HeaderMap,
    Path(store): Path<String>,
    RawQuery(raw): RawQuery,
) -> GfResult<Json<Vec<GfInvoice>>> {
    let gf = store_view(&state, &auth, GfPermission::ViewInvoices, &store).await?;
    let query = list_query(raw.as_deref())?;
    let base = base_url(&state, &headers);
    let found = gf.invoices(&query).await?;
    Ok(Json(
        found.into_iter().map(|i| absolute(i, &base)).collect(),
    ))
}

async fn get_invoice(
    State(state): State<ApiState>,
    auth: GfAuth,
    headers: HeaderMap,
    Path((store, invoice)): Path<(String, String)>,
) -> GfResult<Json<GfInvoice>> {
    let gf = store_view(&state, &auth, GfPermission::ViewInvoices, &store).await?;
    let found = gf.invoice(&invoice).await?;
    Ok(Json(absolute(found, &base_url(&state, &headers))))
}

async fn invoice_payment_methods(
    State(state): State<ApiState>,
    auth: GfAuth,
    Path((store, invoice)): Path<(String, String)>,
) -> GfResult<Json<Vec<GfPaymentMethod>>> {
    let gf = store_view(&state, &auth, GfPermission::ViewInvoices, &store).await?;
    Ok(Json(gf.payment_methods(&invoice).await?))
}

#[derive(serde::Deserialize)]
struct MarkBody {
    status: Option<String>,
}

async fn mark_invoice(
    State(state): State<ApiState>,
    auth: GfAuth,
    headers: HeaderMap,
    Path((store, invoice)): Path<(String, String)>,
    bytes: Bytes,
) -> GfResult<Json<GfInvoice>> {
    let gf = store_view(&state, &auth, GfPermission::ModifyInvoices, &store).await?;
    let mark: MarkBody = body(&bytes)?;
    // BTCPay 1.x called a settled invoice "Complete".
    let to = match mark.status.as_deref().map(str::trim) {
        Some(s) if s.eq_ignore_ascii_case("complete") => Some(GfStatus::Settled),
        Some(s) => GfStatus::parse(s),
        None => None,
    }
    .ok_or_else(|| GfError::validation("status", "status must be \"Settled\" or \"Invalid\""))?;
    let marked = gf.mark(&invoice, to).await?;
    Ok(Json(absolute(marked, &base_url(&state, &headers))))
}

/// A webhook as BTCPay's clients send it.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct WebhookBody {
    url: Option<String>,
    enabled: Option<bool>,
    automatic_redelivery: Option<bool>,
    secret: Option<String>,
    authorized_events: Option<AuthorizedEvents>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthorizedEvents {
    everything: Option<bool>,
    specific_events: Option<Vec<String>>,
}

impl WebhookBody {
    fn endpoint(self) -> GfResult<BtcpayEndpoint> {
        let events = match self.authorized_events {
            None => None,
            Some(a) if a.everything.unwrap_or(true) => None,
            Some(a) => {
                let mut out = Vec::new();
                for name in a.specific_events.unwrap_or_default() {
                    match payaiml_core::btcpay::BtcpayEvent::parse(&name) {
                        Some(e) => out.push(e),
                        None => {
                            return Err(GfError::validation(
                                "authorizedEvents.specificEvents",
                                format!("'{name}' is not an event this server sends: use InvoiceCreated, InvoiceReceivedPayment, InvoiceProcessing, InvoiceExpired, InvoiceSettled, InvoiceInvalid or InvoicePaymentSettled"),
                            ))
                        }
                    }
                }
                Some(out)
            }
        };
        Ok(BtcpayEndpoint {
            url: self.url.unwrap_or_default(),
            events,
            enabled: self.enabled.unwrap_or(true),
            auto_redeliver: self.automatic_redelivery.unwrap_or(true),
            secret: self.secret.filter(|s| !s.is_empty()),
        })
    }
}

async fn list_webhooks(
    State(state): State<ApiState>,
    auth: GfAuth,
    Path(store): Path<String>,
) -> GfResult<Json<Vec<GfWebhook>>> {
    let gf = store_view(&state, &auth, GfPermission::ModifyWebhooks, &store).await?;
    Ok(Json(gf.webhooks().await?))
}

async fn create_webhook(
    State(state): State<ApiState>,
    auth: GfAuth,
    Path(store): Path<String>,
    bytes: Bytes,
) -> GfResult<Json<GfWebhook>> {
    let gf = store_view(&state, &auth, GfPermission::ModifyWebhooks, &store).await?;
    let endpoint = body::<WebhookBody>(&bytes)?.endpoint()?;
    Ok(Json(gf.create_webhook(endpoint).await?))
}

async fn get_webhook(
    State(state): State<ApiState>,
    auth: GfAuth,
    Path((store, webhook)): Path<(String, String)>,
) -> GfResult<Json<GfWebhook>> {
    let gf = store_view(&state, &auth, GfPermission::ModifyWebhooks, &store).await?;
    Ok(Json(gf.webhook(&webhook).await?))
}

async fn update_webhook(
    State(state): State<ApiState>,
    auth: GfAuth,
    Path((store, webhook)): Path<(String, String)>,
    bytes: Bytes,
) -> GfResult<Json<GfWebhook>> {
    let gf = store_view(&state, &auth, GfPermission::ModifyWebhooks, &store).await?;
    let endpoint = body::<WebhookBody>(&bytes)?.endpoint()?;
    Ok(Json(gf.update_webhook(&webhook, endpoint).await?))
}

async fn delete_webhook(
    State(state): State<ApiState>,
    auth: GfAuth,
    Path((store, webhook)): Path<(String, String)>,
) -> GfResult<Response> {
    let gf = store_view(&state, &auth, GfPermission::ModifyWebhooks, &store).await?;
    gf.delete_webhook(&webhook).await?;
    // BTCPay answers 200 with an empty body; its PHP client accepts only 200.
    Ok(StatusCode::OK.into_response())
}

/// The pairing page's entry, BTCPay's address: the dashboard's pairing page when the dashboard
/// is served here (the merchant signs in there, sees what the shop asks, approves or refuses);
/// otherwise a page that waits while the app's own window shows the request ([`pairing`]).
async fn authorize(State(state): State<ApiState>, RawQuery(raw): RawQuery) -> Response {
    let query = raw.unwrap_or_default();
    if state.dashboard_served {
        return Redirect::to(&format!("/#/authorize?{query}")).into_response();
    }
    let id = state.pairings.open();
    let route = format!("/authorize?{query}&request={id}");
    let shown = match state.pairing_window.0.get() {
        Some(show) => {
            show(&route);
            true
        }
        None => false,
    };
    let mut response = axum::response::Html(pairing::waiting_page(&id, shown)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        axum::http::HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
        ),
    );
    headers.insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    response
}

/// Where a pairing request stands, for its waiting tab (an approval's key is handed out once).
async fn pairing_state(State(state): State<ApiState>, Path(request): Path<String>) -> Response {
    let mut response = Json(state.pairings.take(&request)).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_queries_read_like_btcpay() -> Result<(), String> {
        let q = list_query(Some(
            "orderId=1&orderId=2&status=Settled&status=complete&status=nope&take=5&skip=2",
        ))
        .map_err(|e| format!("{e:?}"))?;
        assert_eq!(q.order_ids, ["1", "2"]);
        assert_eq!(q.statuses, [GfStatus::Settled, GfStatus::Settled]);
        assert_eq!((q.take, q.skip), (5, 2));
        assert!(list_query(Some("startDate=5&endDate=4")).is_err());
        assert!(list_query(Some("startDate=yesterday")).is_err());
        Ok(())
    }
}
