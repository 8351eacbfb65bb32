//! The hosted checkout's routes, open to anyone with the invoice's id (the id is unguessable,
//! as BTCPay's are): the page at `/i/{id}` (and BTCPay's other addresses of it), its QR, its
//! status (answered as soon as the invoice changes, for the page's live *Paid*), its script, and
//! BTCPay's modal script for shop plugins that open the checkout over their page.

use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use payaiml_core::greenfield::checkout::{CheckoutState, MODAL_SCRIPT, SCRIPT};

use super::error::GfResult;
use crate::state::ApiState;

/// How long a status check waits for a change before answering the same state.
const LONG_POLL: Duration = Duration::from_secs(20);

/// What the page may load: only this server's own script, QR and status; a shop's page may
/// frame it (the modal checkout).
const PAGE_POLICY: &str = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; \
     script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'";

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/i/{id}", get(page))
        .route("/i/{id}/{method}", get(page_for_method))
        .route("/invoice", get(page_by_query))
        .route("/i/{id}/status", get(status))
        .route("/i/{id}/qr.svg", get(qr))
        .route("/checkout/checkout.js", get(|| async { script(SCRIPT) }))
        .route("/modal/btcpay.js", get(|| async { script(MODAL_SCRIPT) }))
}

#[derive(serde::Deserialize)]
struct View {
    view: Option<String>,
    id: Option<String>,
}

fn script(text: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        text,
    )
        .into_response()
}

async fn render(state: &ApiState, id: &str, modal: bool) -> Response {
    match state.app.greenfield().checkout_page(id, modal).await {
        Ok(html) => {
            let mut response = Html(html).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(PAGE_POLICY),
            );
            headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(payaiml_core::Error::NotFound { .. }) => (
            StatusCode::NOT_FOUND,
            Html("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Invoice not found</title></head><body><main><h1>Invoice not found</h1><p>This payment link is not known here. Go back to the shop and start the payment again.</p></main></body></html>"),
        )
            .into_response(),
        Err(e) => super::GfError::from(e).into_response(),
    }
}

async fn page(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    Query(view): Query<View>,
) -> Response {
    render(&state, &id, view.view.as_deref() == Some("modal")).await
}

/// `/i/{id}/{paymentMethodId}`: BTCPay's address of one method's tab; the page shows both.
async fn page_for_method(
    State(state): State<ApiState>,
    Path((id, _method)): Path<(String, String)>,
    Query(view): Query<View>,
) -> Response {
    render(&state, &id, view.view.as_deref() == Some("modal")).await
}

/// `/invoice?id=…&view=modal`: the address BTCPay's modal script opens.
async fn page_by_query(State(state): State<ApiState>, Query(view): Query<View>) -> Response {
    let id = view.id.clone().unwrap_or_default();
    render(&state, &id, view.view.as_deref() == Some("modal")).await
}

#[derive(serde::Deserialize)]
struct Since {
    since: Option<String>,
}

fn token(state: &CheckoutState) -> String {
    let status = serde_json::to_value(state.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    if state.paid {
        format!("{status}:paid")
    } else {
        status
    }
}

/// The invoice's state; with `since` (the state the page shows), waits up to 20 s for it to
/// change, waking on every event the log commits.
async fn status(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    Query(since): Query<Since>,
) -> GfResult<Response> {
    let mut events = state.app.events().subscribe();
    let deadline = tokio::time::Instant::now() + LONG_POLL;
    loop {
        let now = state.app.greenfield().checkout_state(&id).await?;
        let unchanged = since.since.as_deref() == Some(token(&now).as_str());
        if !unchanged || tokio::time::Instant::now() >= deadline {
            let mut response = Json(now).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            return Ok(response);
        }
        // An event, a mark by hand (seen at the next second), or the deadline.
        let _ = tokio::time::timeout(Duration::from_secs(1), events.recv()).await;
    }
}

async fn qr(State(state): State<ApiState>, Path(id): Path<String>) -> GfResult<Response> {
    let invoice = state.app.greenfield().ours(&id).await?;
    let text = match &invoice.onchain {
        Some(onchain) => onchain.uri.clone(),
        None => crate::qr::invoice_uri(&invoice.payment_request),
    };
    let svg = crate::qr::svg(&text, 320).map_err(super::GfError::from)?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        svg,
    )
        .into_response())
}
