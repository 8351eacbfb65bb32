//! PayAiML Merchant local API: one axum router over the core [`App`], with the settings and the
//! start-up both front doors share (the headless daemon and the desktop shell).
#![deny(missing_docs)]

pub mod auth;
pub mod cli;
pub mod error;
pub mod greenfield;
pub mod host;
pub mod json;
pub mod limiter;
pub mod nwc;
mod openapi;
pub mod pairing;
pub mod qr;
pub mod routes;
pub mod running;
pub mod safety;
pub mod state;
#[cfg(test)]
mod stream_tests;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue};
use axum::routing::get;
use axum::Router;
use payaiml_core::sandbox::Sandbox;
use payaiml_core::App;
use tower_http::services::{ServeDir, ServeFile};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::{ApiError, ApiResult};
pub use running::{start, Running, StartError, StartOptions};
pub use state::ApiState;

use routes::{
    cashier, catalog, display, events, health, invoices, keys, node, offers, payments, rates,
    reports, sandbox, settings, stream, wallet, webhooks,
};

/// The routes and their OpenAPI document, built from the same handler annotations so they cannot
/// drift apart. Sandbox routes exist only when the app runs the sandbox.
fn api(with_sandbox: bool) -> OpenApiRouter<ApiState> {
    let router = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(health::health))
        .routes(routes!(keys::create_key, keys::list_keys))
        .routes(routes!(keys::revoke_key))
        .routes(routes!(keys::reveal_key))
        .routes(routes!(
            routes::nwc::create_connection,
            routes::nwc::list_connections
        ))
        .routes(routes!(
            routes::nwc::get_connection,
            routes::nwc::revoke_connection
        ))
        .routes(routes!(routes::nwc::reveal_connection))
        .routes(routes!(routes::greenfield::greenfield_info))
        .routes(routes!(routes::greenfield::approve_pairing))
        .routes(routes!(routes::greenfield::refuse_pairing))
        .routes(routes!(invoices::create_invoice, invoices::list_invoices))
        .routes(routes!(invoices::get_invoice))
        .routes(routes!(invoices::invoice_qr_svg))
        .routes(routes!(invoices::invoice_qr_png))
        .routes(routes!(invoices::invoice_receipt))
        .routes(routes!(payments::refund_invoice))
        .routes(routes!(offers::create_offer, offers::list_offers))
        .routes(routes!(offers::get_offer))
        .routes(routes!(offers::offer_qr_svg))
        .routes(routes!(offers::offer_sticker))
        .routes(routes!(payments::create_payment, payments::list_payments))
        .routes(routes!(payments::get_payment))
        .routes(routes!(payments::decode_invoice))
        .routes(routes!(wallet::balance))
        .routes(routes!(events::list_events))
        .routes(routes!(stream::events_ws))
        .routes(routes!(webhooks::create_webhook, webhooks::list_webhooks))
        .routes(routes!(webhooks::get_webhook, webhooks::delete_webhook))
        .routes(routes!(webhooks::reveal_webhook_secret))
        .routes(routes!(webhooks::enable_webhook))
        .routes(routes!(webhooks::disable_webhook))
        .routes(routes!(webhooks::test_webhook))
        .routes(routes!(webhooks::list_deliveries))
        .routes(routes!(webhooks::get_delivery))
        .routes(routes!(webhooks::redeliver))
        .routes(routes!(node::node_info))
        .routes(routes!(node::readiness))
        .routes(routes!(node::new_address))
        .routes(routes!(node::open_channel))
        .routes(routes!(node::close_channel))
        .routes(routes!(settings::get_settings, settings::change_settings))
        .routes(routes!(settings::recovery_words))
        .routes(routes!(rates::rates))
        .routes(routes!(reports::day))
        .routes(routes!(reports::days))
        .routes(routes!(reports::transactions_csv))
        .routes(routes!(reports::journal))
        .routes(routes!(catalog::list_items, catalog::create_item))
        .routes(routes!(catalog::reorder_items))
        .routes(routes!(
            catalog::get_item,
            catalog::change_item,
            catalog::delete_item
        ))
        .routes(routes!(catalog::list_taxes, catalog::create_tax))
        .routes(routes!(catalog::change_tax))
        .routes(routes!(catalog::price_cart))
        .routes(routes!(catalog::export_catalog))
        .routes(routes!(catalog::import_catalog))
        .routes(routes!(cashier::cashier_status))
        .routes(routes!(cashier::set_cashier_pin))
        .routes(routes!(cashier::lock_cashier))
        .routes(routes!(cashier::unlock_cashier))
        .routes(routes!(routes::till::sign_in))
        .routes(routes!(routes::till::sign_out))
        .routes(routes!(routes::till::list_staff, routes::till::add_staff))
        .routes(routes!(
            routes::till::change_staff,
            routes::till::remove_staff
        ))
        .routes(routes!(routes::till::list_shifts, routes::till::open_shift))
        .routes(routes!(routes::till::current_shift))
        .routes(routes!(routes::till::get_shift))
        .routes(routes!(routes::till::close_shift))
        .routes(routes!(routes::till::shift_report_page))
        .routes(routes!(routes::till::print_shift))
        .routes(routes!(routes::till::day_z))
        .routes(routes!(routes::till::day_z_page))
        .routes(routes!(routes::till::print_day_z))
        .routes(routes!(routes::till::create_sale, routes::till::list_sales))
        .routes(routes!(routes::till::get_sale))
        .routes(routes!(routes::till::refund_sale))
        .routes(routes!(routes::till::print_sale))
        .routes(routes!(routes::till::sale_receipt))
        .routes(routes!(routes::till::print_invoice))
        .routes(routes!(
            routes::till::list_printers,
            routes::till::add_printer
        ))
        .routes(routes!(routes::till::scan_printers))
        .routes(routes!(
            routes::till::change_printer,
            routes::till::remove_printer
        ))
        .routes(routes!(routes::till::test_printer))
        .routes(routes!(routes::till::list_print_jobs))
        .routes(routes!(routes::till::retry_print_job))
        .routes(routes!(routes::till::cancel_print_job))
        .routes(routes!(display::get_display, display::set_display))
        .routes(routes!(display::answer_display_tip))
        .routes(routes!(display::create_display_pairing))
        .routes(routes!(display::pair_display));
    if with_sandbox {
        router
            .routes(routes!(sandbox::pay))
            .routes(routes!(sandbox::invoice))
            .routes(routes!(sandbox::mine))
            .routes(routes!(sandbox::customer))
            .routes(routes!(sandbox::customer_payments))
    } else {
        router
    }
}

/// The OpenAPI document of the API (with the sandbox routes when `with_sandbox`), and the
/// first-run setup routes a host serves (the dashboard's types are generated from it).
pub fn openapi_document(with_sandbox: bool) -> utoipa::openapi::OpenApi {
    let mut doc = api(with_sandbox).into_openapi();
    doc.merge(host::openapi());
    openapi::finish(&mut doc);
    doc
}

/// How the router is set up beyond the app itself.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The built dashboard (`ui/dist`), served at `/` for browsers.
    pub ui_dir: Option<PathBuf>,
    /// Origins allowed to call the API from a browser engine (the desktop app's own webview
    /// origins). Empty: no CORS headers at all.
    pub allowed_origins: Vec<String>,
    /// The host of several wallets this app runs under, if any: its setup routes (status, switch)
    /// are served beside the API.
    pub host: Option<Arc<host::HostShared>>,
    /// What shows a shop plugin's pairing request in the app's own window, when the dashboard
    /// is not served at `/` (the desktop app).
    pub pairing_window: pairing::PairingWindow,
}

/// The whole API for `app` (with the sandbox routes when `sandbox` is given), served on `bound`: routes, OpenAPI at `/v1/openapi.json`, the Host
/// check, the 64 KiB body cap and the error shape for every failure.
pub fn router(
    app: Arc<App>,
    sandbox: Option<Arc<Sandbox>>,
    bound: SocketAddr,
    options: Options,
) -> Router {
    let with_sandbox = sandbox.is_some();
    let mut state = ApiState::new(app, sandbox, bound, options.allowed_origins);
    state.dashboard_served = options.ui_dir.is_some();
    state.pairing_window = options.pairing_window.clone();
    let (mut routes, mut doc) = api(with_sandbox).split_for_parts();
    // The served document lists what this server answers: the setup routes only under a host.
    if options.host.is_some() {
        doc.merge(host::openapi());
    }
    openapi::finish(&mut doc);
    let doc = Arc::new(doc.to_json().unwrap_or_else(|_| "{}".into()));
    if let Some(dir) = options.ui_dir {
        // The dashboard is never framed by another site (its pages hold the admin key and the
        // pairing page's Approve button); the checkout page, which shops do frame, is apart.
        let dashboard = Router::new()
            .route_service("/", ServeFile::new(dir.join("index.html")))
            .layer(axum::middleware::map_response(
                |mut response: axum::response::Response| async move {
                    let headers = response.headers_mut();
                    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
                    headers.insert(
                        header::CONTENT_SECURITY_POLICY,
                        HeaderValue::from_static("frame-ancestors 'none'"),
                    );
                    response
                },
            ));
        routes = routes
            .merge(dashboard)
            .nest_service("/assets", ServeDir::new(dir.join("assets")));
    }
    if let Some(host) = &options.host {
        routes = routes.merge(host::routes(host.clone()));
    }
    // The BTCPay Greenfield-compatible API, its pairing entry and the hosted checkout: not in
    // our OpenAPI document (they follow BTCPay's, which the tests check them against).
    routes = routes.merge(greenfield::routes());
    let routes = routes
        .route(
            "/v1/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move {
                    (
                        [(
                            header::CONTENT_TYPE,
                            HeaderValue::from_static("application/json"),
                        )],
                        doc.to_string(),
                    )
                }
            }),
        )
        .fallback(safety::not_found)
        .method_not_allowed_fallback(safety::method_not_allowed)
        .layer(DefaultBodyLimit::max(json::BODY_LIMIT));
    let guard = safety::Guard {
        allowed_hosts: state.allowed_hosts.clone(),
        allowed_origins: state.allowed_origins.clone(),
    };
    guard.wrap(routes.with_state(state))
}

/// Serves `router` on `listener` until `shutdown` resolves, with client addresses available to
/// the failed-auth limiter.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
