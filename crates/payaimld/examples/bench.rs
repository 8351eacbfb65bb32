//! Measures what the API adds on top of ldk-node, on the real regtest sandbox: invoice creation and
//! outgoing payments, each done N times straight on the node ("raw ldk-node") and N times through
//! the HTTP API (auth, validation, SQLite, event log). Prints p50/p99/mean and the ratio.
//!
//! Then event latency: N_EVENTS payments from the sandbox's customer, each timed from the moment
//! the merchant's app committed the node's `PaymentReceived` (the in-process event broadcast,
//! which fires right after the SQLite transaction that records it) to the webhook receiver's
//! handler and to a WebSocket client, with 1 and with 16 webhook endpoints.
//!
//! `make bench` (release build; secrets in a temp file store; nothing asserted).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path as AxumPath, State};

use payaiml_core::ldk_node::lightning::ln::channelmanager::PaymentId;
use payaiml_core::ldk_node::lightning_invoice::{Bolt11InvoiceDescription, Description};
use payaiml_core::ldk_node::payment::PaymentStatus;
use payaiml_core::ldk_node::Node;
use payaiml_core::sandbox;
use payaiml_core::{Config, Network, SecretsBackend};

const N: usize = 200;
/// Payments per event-latency run.
const N_EVENTS: usize = 500;

struct Stats {
    p50: f64,
    p99: f64,
    mean: f64,
}

fn stats(mut ms: Vec<f64>) -> Stats {
    ms.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
    Stats {
        p50: at(0.5),
        p99: at(0.99),
        mean: ms.iter().sum::<f64>() / ms.len() as f64,
    }
}

fn report(what: &str, raw: Stats, api: Stats) {
    println!("{what} (n={N})");
    println!(
        "  raw ldk-node : p50 {:>8.3} ms  p99 {:>8.3} ms  mean {:>8.3} ms",
        raw.p50, raw.p99, raw.mean
    );
    println!(
        "  through API  : p50 {:>8.3} ms  p99 {:>8.3} ms  mean {:>8.3} ms",
        api.p50, api.p99, api.mean
    );
    println!(
        "  ratio API/raw: p50 {:.2}x  mean {:.2}x",
        api.p50 / raw.p50,
        api.mean / raw.mean
    );
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let mut config = Config::new(Network::Regtest);
    config.data_dir = dir.path().to_path_buf();
    config.secrets = SecretsBackend::File;
    let started = Instant::now();
    let (app, sb) = sandbox::launch(config, &sandbox::default_bitcoind(), false).await?;
    println!("sandbox ready in {:.1} s", started.elapsed().as_secs_f64());

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let bound = listener.local_addr()?;
    let router = payaiml_api::router(
        app.clone(),
        Some(sb.clone()),
        bound,
        payaiml_api::Options::default(),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(payaiml_api::serve(listener, router, async {
        let _ = stopped.await;
    }));
    let (key, _) = app.keys().admin_key().await?;
    let base = format!("http://{bound}");
    let http = reqwest::Client::builder().no_proxy().build()?;
    let node = app.node().get()?;

    // Invoice creation.
    let mut raw = Vec::with_capacity(N);
    let desc = Bolt11InvoiceDescription::Direct(Description::new("bench".into())?);
    for _ in 0..N {
        let t = Instant::now();
        node.bolt11_payment().receive(1_000_000, &desc, 3600)?;
        raw.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let mut api = Vec::with_capacity(N);
    for _ in 0..N {
        let t = Instant::now();
        let res = http
            .post(format!("{base}/v1/lightning/invoices"))
            .bearer_auth(&key)
            .body(r#"{"amount": 1000, "description": "bench"}"#)
            .send()
            .await?;
        assert_eq!(res.status().as_u16(), 201);
        res.bytes().await?;
        api.push(t.elapsed().as_secs_f64() * 1e3);
    }
    report("invoice creation", stats(raw), stats(api));

    // Outgoing payments to the customer, one after another.
    let mut raw = Vec::with_capacity(N);
    for _ in 0..N {
        let inv = sb.invoice(100, "bench").await?;
        let invoice = payaiml_core::parse_invoice(&inv.payment_request)?;
        let t = Instant::now();
        let id = node.bolt11_payment().send(&invoice, None)?;
        wait_settled(&node, id).await?;
        raw.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let mut api = Vec::with_capacity(N);
    for _ in 0..N {
        let inv = sb.invoice(100, "bench").await?;
        let body = serde_json::json!({ "invoice": inv.payment_request }).to_string();
        let t = Instant::now();
        let res = http
            .post(format!("{base}/v1/lightning/payments"))
            .bearer_auth(&key)
            .body(body)
            .send()
            .await?;
        let status = res.status().as_u16();
        let json: serde_json::Value = res.json().await?;
        assert_eq!(
            (status, json["status"].as_str()),
            (201, Some("succeeded")),
            "{json}"
        );
        api.push(t.elapsed().as_secs_f64() * 1e3);
    }
    report("payment sent and settled", stats(raw), stats(api));

    for endpoints in [1, 16] {
        event_latency(&app, &sb, &base, &key, endpoints).await?;
    }

    let _ = stop.send(());
    let _ = server.await;
    app.shutdown().await;
    sb.stop().await;
    Ok(())
}

async fn wait_settled(node: &Arc<Node>, id: PaymentId) -> Result<(), Box<dyn std::error::Error>> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match node.payment(&id).map(|p| p.status) {
            Some(PaymentStatus::Succeeded) => return Ok(()),
            Some(PaymentStatus::Failed) => return Err("raw payment failed".into()),
            _ if Instant::now() > deadline => return Err("raw payment timed out".into()),
            _ => tokio::time::sleep(Duration::from_micros(200)).await,
        }
    }
}

/// Arrival times by (endpoint, payment hash).
type Arrivals = Arc<Mutex<HashMap<(usize, String), Instant>>>;

async fn hook(
    State(arrivals): State<Arrivals>,
    AxumPath(n): AxumPath<usize>,
    body: axum::body::Bytes,
) -> &'static str {
    let at = Instant::now();
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(&body) {
        if let Some(hash) = json["payment_hash"].as_str() {
            if let Ok(mut a) = arrivals.lock() {
                a.insert((n, hash.to_string()), at);
            }
        }
    }
    "ok"
}

async fn event_latency(
    app: &Arc<payaiml_core::App>,
    sb: &Arc<sandbox::Sandbox>,
    base: &str,
    key: &str,
    endpoints: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    // The shop: one HTTP server with `endpoints` webhook URLs.
    let hooks: Arrivals = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let shop = listener.local_addr()?;
    let router = axum::Router::new()
        .route("/hook/{n}", axum::routing::post(hook))
        .with_state(hooks.clone());
    let shop_task = tokio::spawn(async move { axum::serve(listener, router).await });
    let mut ids = Vec::new();
    for n in 0..endpoints {
        let created = app
            .webhooks()
            .create(payaiml_core::webhooks::NewWebhook {
                url: format!("http://{shop}/hook/{n}"),
                events: vec!["payment.received".into()],
                description: None,
            })
            .await?;
        ids.push(created.webhook.id);
    }

    // The committed events, and a WebSocket client.
    let committed: Arrivals = Arc::default();
    let mut events = app.events().subscribe();
    let c = committed.clone();
    let commit_task = tokio::spawn(async move {
        while let Ok(record) = events.recv().await {
            let at = Instant::now();
            if let Some(hash) = record.payload.get("payment_hash").and_then(|h| h.as_str()) {
                if let Ok(mut m) = c.lock() {
                    m.insert((0, hash.to_string()), at);
                }
            }
        }
    });
    let ws_url = format!("{}/v1/events/ws", base.replacen("http://", "ws://", 1));
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(ws_url)?;
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {key}").parse()?);
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await?;
    let streamed: Arrivals = Arc::default();
    let w = streamed.clone();
    let ws_task = tokio::spawn(async move {
        use futures_util::StreamExt;
        while let Some(Ok(msg)) = ws.next().await {
            let at = Instant::now();
            if let tokio_tungstenite::tungstenite::Message::Text(text) = msg {
                if let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) {
                    if let Some(hash) = json["payment_hash"].as_str() {
                        if let Ok(mut m) = w.lock() {
                            m.insert((0, hash.to_string()), at);
                        }
                    }
                }
            }
        }
    });

    let (mut to_hook, mut to_last_hook, mut to_ws) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..N_EVENTS {
        let invoice = app
            .invoices()
            .create(
                payaiml_core::invoices::CreateInvoice {
                    amount: Some(100),
                    description: Some(format!("latency {i}")),
                    ..Default::default()
                },
                None,
            )
            .await?;
        sb.pay(&invoice.payment_request, None).await?;
        let hash = invoice.payment_hash;
        let deadline = Instant::now() + Duration::from_secs(30);
        let (commit, hook_times, ws_at) = loop {
            let commit = committed
                .lock()
                .ok()
                .and_then(|m| m.get(&(0, hash.clone())).copied());
            let hook_times: Vec<Instant> = (0..endpoints)
                .filter_map(|n| {
                    hooks
                        .lock()
                        .ok()
                        .and_then(|m| m.get(&(n, hash.clone())).copied())
                })
                .collect();
            let ws_at = streamed
                .lock()
                .ok()
                .and_then(|m| m.get(&(0, hash.clone())).copied());
            if let (Some(c), true, Some(w)) = (commit, hook_times.len() == endpoints, ws_at) {
                break (c, hook_times, w);
            }
            if Instant::now() > deadline {
                return Err(format!("payment {i}: event not seen everywhere within 30 s").into());
            }
            tokio::time::sleep(Duration::from_micros(200)).await;
        };
        let ms = |t: Instant| t.saturating_duration_since(commit).as_secs_f64() * 1e3;
        to_hook.extend(hook_times.iter().map(|t| ms(*t)));
        to_last_hook.push(hook_times.iter().map(|t| ms(*t)).fold(0.0, f64::max));
        to_ws.push(ms(ws_at));
    }
    println!("event latency from the committed PaymentReceived, {endpoints} webhook endpoint(s) (n={N_EVENTS} payments)");
    for (what, values) in [
        ("to each webhook receiver", to_hook),
        ("to the last of the receivers", to_last_hook),
        ("to a WebSocket client", to_ws),
    ] {
        let s = stats(values);
        println!(
            "  {what:<30}: p50 {:>8.3} ms  p99 {:>8.3} ms  mean {:>8.3} ms",
            s.p50, s.p99, s.mean
        );
    }
    for id in ids {
        app.webhooks().delete(&id).await?;
    }
    commit_task.abort();
    ws_task.abort();
    shop_task.abort();
    Ok(())
}
