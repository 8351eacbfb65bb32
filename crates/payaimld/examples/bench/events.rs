//! Event latency: payments from the sandbox's customer, each timed from the moment the merchant's
//! app committed the node's `PaymentReceived` (the in-process event broadcast, which fires right
//! after the SQLite transaction that records it) to the webhook receiver's handler and to a
//! WebSocket client, with 1 and with 16 webhook endpoints.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path as AxumPath, State};
use serde_json::{json, Value};

use payaiml_core::sandbox;

use crate::measure::{round, stats, BenchResult};

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

pub async fn event_latency(
    app: &Arc<payaiml_core::App>,
    sb: &Arc<sandbox::Sandbox>,
    base: &str,
    key: &str,
    endpoints: usize,
    payments: usize,
) -> BenchResult<Value> {
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
    for i in 0..payments {
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
    println!("event latency from the committed PaymentReceived, {endpoints} webhook endpoint(s) (n={payments} payments)");
    let mut out = serde_json::Map::new();
    for (what, key, values) in [
        ("to each webhook receiver", "webhook", to_hook),
        ("to the last of the receivers", "last_webhook", to_last_hook),
        ("to a WebSocket client", "websocket", to_ws),
    ] {
        let s = stats(values);
        println!(
            "  {what:<30}: p50 {:>8.3} ms  p99 {:>8.3} ms  mean {:>8.3} ms",
            s.p50, s.p99, s.mean
        );
        out.insert(
            key.into(),
            json!({"p50_ms": round(s.p50, 3), "p99_ms": round(s.p99, 3), "mean_ms": round(s.mean, 3)}),
        );
    }
    for id in ids {
        app.webhooks().delete(&id).await?;
    }
    commit_task.abort();
    ws_task.abort();
    shop_task.abort();
    Ok(json!({"endpoints": endpoints, "payments": payments, "latency": Value::Object(out)}))
}
