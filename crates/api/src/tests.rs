//! Router-level tests on an app whose node is not running (a signet config with an unreachable
//! chain source, never started): the safety layers, auth and the error shape, without a chain.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use payaiml_core::{App, ChainSource, Config, Network, SecretsBackend};
use tower::ServiceExt;

use crate::{router, Options};

const BOUND: &str = "127.0.0.1:3737";

pub(crate) async fn app() -> (tempfile::TempDir, Arc<App>, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = Config::new(Network::Signet);
    config.data_dir = dir.path().to_path_buf();
    config.secrets = SecretsBackend::File;
    config.chain_source = Some(ChainSource::Esplora {
        url: "http://127.0.0.1:1".into(),
    });
    // A real network's wallet is made on purpose first, as `payaimld init` does.
    let words = payaiml_core::seed::new_words();
    App::init(&config, &words, payaiml_core::seed::Origin::New)
        .await
        .expect("init");
    let app = App::open(config).await.expect("open");
    let (admin, created) = app.keys().admin_key().await.expect("admin key");
    assert!(created);
    (dir, app, admin)
}

fn options(origins: &[&str]) -> Options {
    Options {
        ui_dir: None,
        allowed_origins: origins.iter().map(|o| o.to_string()).collect(),
        host: None,
        pairing_window: Default::default(),
    }
}

async fn send(
    app: &Arc<App>,
    opts: Options,
    req: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, serde_json::Value) {
    let bound: SocketAddr = BOUND.parse().expect("addr");
    let res = router(app.clone(), None, bound, opts)
        .oneshot(req)
        .await
        .expect("response");
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .expect("body");
    (
        status,
        headers,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

fn req(method: &str, path: &str, key: Option<&str>, body: &str) -> axum::http::request::Builder {
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, BOUND);
    if let Some(k) = key {
        b = b.header(header::AUTHORIZATION, format!("Bearer {k}"));
    }
    let _ = body;
    b
}

#[tokio::test]
async fn host_check_refuses_rebinding() {
    let (_dir, app, _) = app().await;
    let r = Request::builder()
        .uri("/v1/health")
        .header(header::HOST, "evil.example:3737")
        .body(Body::empty())
        .expect("req");
    let (status, _, body) = send(&app, options(&[]), r).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "host_not_allowed");
    for host in ["localhost:3737", "127.0.0.1", "[::1]:3737"] {
        let r = Request::builder()
            .uri("/v1/health")
            .header(header::HOST, host)
            .body(Body::empty())
            .expect("req");
        assert_eq!(
            send(&app, options(&[]), r).await.0,
            StatusCode::OK,
            "{host}"
        );
    }
}

#[tokio::test]
async fn cors_only_for_the_desktop_origin() {
    let (_dir, app, admin) = app().await;
    let desktop = "tauri://localhost";
    let preflight = |origin: &str| {
        req("OPTIONS", "/v1/lightning/balance", None, "")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
            .body(Body::empty())
            .expect("req")
    };
    let (status, headers, _) = send(&app, options(&[desktop]), preflight(desktop)).await;
    assert_eq!(status, StatusCode::OK, "tower-http answers a preflight 200");
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], desktop);
    // The webview calls every operation the API has (Settings with PATCH, the point of sale
    // with PUT …): each method the document uses must be allowed.
    let methods = headers[header::ACCESS_CONTROL_ALLOW_METHODS]
        .to_str()
        .unwrap_or_default()
        .to_string();
    let doc = serde_json::to_value(crate::openapi_document(true)).expect("document");
    let used: std::collections::BTreeSet<String> = doc["paths"]
        .as_object()
        .into_iter()
        .flat_map(|paths| paths.values())
        .filter_map(|item| item.as_object())
        .flat_map(|item| item.keys().map(|m| m.to_ascii_uppercase()))
        .filter(|m| m != "PARAMETERS")
        .collect();
    assert!(
        used.contains("PUT"),
        "the display is set with PUT: {used:?}"
    );
    for method in &used {
        assert!(
            methods.contains(method.as_str()),
            "{method} not in {methods}"
        );
    }
    let (status, headers, _) =
        send(&app, options(&[desktop]), preflight("https://shop.example")).await;
    assert!(status.is_client_error());
    assert!(!headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
    let (_, headers, _) = send(&app, options(&[]), preflight(desktop)).await;
    assert!(
        !headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN),
        "payaimld sends no CORS at all"
    );
    let get = req("GET", "/v1/keys", Some(&admin), "")
        .header(header::ORIGIN, "https://shop.example")
        .body(Body::empty())
        .expect("req");
    let (status, headers, _) = send(&app, options(&[desktop]), get).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
}

#[tokio::test]
async fn node_endpoints_answer_503_while_the_node_is_down() {
    let (_dir, app, admin) = app().await;
    let r = req("POST", "/v1/lightning/invoices", Some(&admin), "")
        .body(Body::from(r#"{"amount": 1000, "description": "x"}"#))
        .expect("req");
    let (status, _, body) = send(&app, options(&[]), r).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["error"]["code"], "node_not_ready");
    let r = req("GET", "/v1/lightning/balance", Some(&admin), "")
        .body(Body::empty())
        .expect("req");
    assert_eq!(
        send(&app, options(&[]), r).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    // Validation comes first: bad input is still 4xx, not 503.
    let r = req("POST", "/v1/lightning/invoices", Some(&admin), "")
        .body(Body::from(r#"{"amount": -1}"#))
        .expect("req");
    assert_eq!(
        send(&app, options(&[]), r).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let r = req("GET", "/v1/health", None, "")
        .body(Body::empty())
        .expect("req");
    let (status, _, body) = send(&app, options(&[]), r).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "starting");
}

#[tokio::test]
async fn openapi_lists_the_public_paths() {
    let (_dir, app, _) = app().await;
    let r = req("GET", "/v1/openapi.json", None, "")
        .body(Body::empty())
        .expect("req");
    let (status, _, doc) = send(&app, options(&[]), r).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/v1/keys",
        "/v1/lightning/invoices",
        "/v1/lightning/invoices/{id}",
        "/v1/lightning/payments",
        "/v1/lightning/balance",
        "/v1/events",
        "/v1/events/ws",
        "/v1/webhooks",
        "/v1/webhooks/{id}/deliveries",
        "/v1/webhooks/deliveries/{id}/redeliver",
        "/v1/webhooks/{id}/test",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} documented");
    }
    assert!(
        doc["paths"].get("/v1/sandbox/pay").is_none(),
        "sandbox routes only in the sandbox"
    );
    for schema in ["Invoice", "Webhook", "CreatedWebhook", "Delivery"] {
        assert!(
            doc["components"]["schemas"].get(schema).is_some(),
            "{schema}"
        );
    }
}

/// A failure on our side answers 500 with a reference to the log, never the database, path or
/// keyring text behind it.
#[tokio::test]
async fn server_errors_do_not_leak_their_details() {
    let (dir, app, admin) = app().await;
    let id = admin.split('_').nth(1).expect("key id").to_string();
    // The secrets file is damaged under the running app.
    std::fs::write(dir.path().join("secrets.json"), b"{ not json").expect("write");
    let r = req("POST", &format!("/v1/keys/{id}/reveal"), Some(&admin), "")
        .body(Body::empty())
        .expect("req");
    let (status, _, body) = send(&app, options(&[]), r).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_eq!(body["error"]["code"], "secret_store_error");
    let message = body["error"]["message"].as_str().unwrap_or("");
    assert!(message.contains("reference err_"), "{message}");
    let root = dir.path().to_string_lossy().to_string();
    for leak in [root.as_str(), "secrets.json", "damaged", "database"] {
        assert!(!message.contains(leak), "{leak} in {message}");
    }
}

#[tokio::test]
async fn a_catalog_import_is_csv_or_items_as_the_document_says() {
    let (_dir, app, admin) = app().await;
    let doc = serde_json::to_value(crate::openapi_document(true)).expect("document");
    let schema = &doc["components"]["schemas"]["CatalogImport"];
    assert_eq!(
        (&schema["minProperties"], &schema["maxProperties"]),
        (&serde_json::json!(1), &serde_json::json!(1)),
        "{schema}"
    );
    assert_eq!(schema["properties"]["csv"]["type"], "string", "{schema}");
    assert_eq!(schema["additionalProperties"], false, "{schema}");
    let row = r#"{"name": "Tea", "price": "2.50", "currency": "EUR"}"#;
    for (body, field) in [
        (r#"{}"#.to_string(), "csv"),
        (r#"{"csv": null, "items": null}"#.to_string(), "csv"),
        (format!(r#"{{"csv": null, "items": [{row}]}}"#), "csv"),
        (
            format!(r#"{{"items": [{row}], "csv": "name,price"}}"#),
            "csv",
        ),
    ] {
        let r = req("POST", "/v1/catalog/import", Some(&admin), "")
            .body(Body::from(body.clone()))
            .expect("req");
        let (status, _, answer) = send(&app, options(&[]), r).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
    }
    let r = req("POST", "/v1/catalog/import", Some(&admin), "")
        .body(Body::from(format!(r#"{{"items": [{row}]}}"#)))
        .expect("req");
    let (status, _, answer) = send(&app, options(&[]), r).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(answer["imported"], 1);
}

#[tokio::test]
async fn a_pairing_url_is_held_to_the_documents_length() {
    let (_dir, app, admin) = app().await;
    let base = "http://192.168.1.20:3737/";
    for (url, status) in [
        (base.to_string(), StatusCode::CREATED),
        // The fragment counts too: the document's maxLength is the whole url's.
        (
            format!("{base}#{}", "a".repeat(300)),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("{base}{}", "é".repeat(300 - base.len())),
            StatusCode::CREATED,
        ),
    ] {
        let r = req("POST", "/v1/display/pairings", Some(&admin), "")
            .body(Body::from(serde_json::json!({ "url": url }).to_string()))
            .expect("req");
        let (got, _, answer) = send(&app, options(&[]), r).await;
        assert_eq!(got, status, "{url}: {answer}");
        if status == StatusCode::BAD_REQUEST {
            assert_eq!(answer["error"]["field"], "url", "{answer}");
        }
    }
}
