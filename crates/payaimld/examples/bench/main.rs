//! Measures the app against raw ldk-node on the real regtest sandbox, side by side in one run:
//!
//! - invoice creation and invoice lookup, straight on the node (`receive()`, `payment()`) and
//!   through the HTTP API, from 1 and from 16 concurrent clients: throughput, p50, p99 and CPU
//!   time per request (of this whole process, which holds the node, the API and its clients);
//! - invoice creation through the BTCPay Greenfield-compatible API beside ours (Greenfield/ours);
//! - the HTTP floor: `GET /v1/health` (no key, no database), what any request costs here;
//! - payments sent and settled, one at a time and 16 in flight on one channel;
//! - the backup: invoice creation and payments with every write mirrored to a VSS server (LDK's
//!   vss-server on PostgreSQL, on loopback), against the same without a backup;
//! - event latency to webhooks and a WebSocket client;
//! - the till: *Paid* to the receipt's last byte at a loopback ESC/POS printer, and the Z-report
//!   of a day of 10,000 sales beside the day report;
//! - `payaimld serve` (the merchant's node alone, its own process): cold start to ready, restart,
//!   idle memory, and a history phase (`PAYAIML_BENCH_HISTORY` invoices, 100,000 by default);
//! - the desktop app on a private Xvfb: start to ready and idle memory with its window open.
//!
//! Prints a table and writes every figure to `PAYAIML_BENCH_OUT` (`test-output/bench/bench.json`).
//! `make bench` runs it in release mode; `make bench-scale` with 1,000,000 invoices;
//! `PAYAIML_BENCH_QUICK=1` (in `make test`) runs every phase with a few operations, only to prove
//! it still works; `PAYAIML_BENCH_ONLY=backup` (`make bench-backup`) runs the backup phase alone,
//! `PAYAIML_BENCH_ONLY=greenfield` (`make bench-greenfield`) invoice creation and the Greenfield
//! phase alone, `PAYAIML_BENCH_ONLY=till` (`make bench-till`) the till phase.
//! Nothing is asserted: the figures are the record.

mod backup;
mod daemon;
mod desktop;
mod events;
mod greenfield;
mod history;
mod measure;
mod nwc;
mod till;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use payaiml_core::ldk_node::lightning::ln::channelmanager::PaymentId;
use payaiml_core::ldk_node::lightning_invoice::{Bolt11InvoiceDescription, Description};
use payaiml_core::ldk_node::payment::PaymentStatus;
use payaiml_core::ldk_node::Node;
use payaiml_core::sandbox;
use payaiml_core::{Config, Network, SecretsBackend};

use measure::{load, side_by_side, BenchResult};

/// How many operations each phase does.
struct Sizes {
    /// Invoice creations and payments at 1 client.
    one: usize,
    /// Invoice creations at 16 clients.
    many: usize,
    /// Lookups at each concurrency.
    gets: usize,
    /// Payments at 16 in flight.
    payments_many: usize,
    /// Payments per event-latency run.
    events: usize,
    /// Invoices of the history phase, and reads at each of its points.
    history: usize,
    history_reads: usize,
    /// Seconds each history invoice lives (most of a real history is finished).
    history_expiry: u32,
    /// Till sales timed from *Paid* to the receipt, and cash and card sales before the Z-report.
    till_sales: usize,
    till_bulk: usize,
}

fn sizes() -> Sizes {
    let quick = std::env::var("PAYAIML_BENCH_QUICK").is_ok_and(|v| v == "1");
    let history = std::env::var("PAYAIML_BENCH_HISTORY")
        .ok()
        .and_then(|v| v.parse().ok());
    if quick {
        Sizes {
            one: 10,
            many: 64,
            gets: 64,
            payments_many: 32,
            events: 10,
            history: history.unwrap_or(300),
            history_reads: 32,
            history_expiry: 5,
            till_sales: 5,
            till_bulk: 300,
        }
    } else {
        Sizes {
            one: 200,
            many: 1600,
            gets: 4000,
            payments_many: 320,
            events: 200,
            history: history.unwrap_or(100_000),
            history_reads: 2000,
            history_expiry: 60,
            till_sales: 50,
            till_bulk: 10_000,
        }
    }
}

const MANY: usize = 16;

#[tokio::main(flavor = "multi_thread")]
async fn main() -> BenchResult<()> {
    let sizes = sizes();
    let dir = tempfile::tempdir()?;
    if std::env::var("PAYAIML_BENCH_ONLY").as_deref() == Ok("backup") {
        let figures = json!({ "backup": backup::run(dir.path(), sizes.one).await? });
        return write_figures(&figures);
    }
    let mut config = Config::new(Network::Regtest);
    config.data_dir = dir.path().join("sandbox");
    config.secrets = SecretsBackend::File;
    // Rates for the till phase's prices in EUR, from loopback.
    let rates = till::RatesStandIn::start()?;
    config.rates.urls = rates.urls()?;
    let started = Instant::now();
    let served = Served::start(config).await?;
    println!("sandbox ready in {:.1} s", started.elapsed().as_secs_f64());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let (app, sb, base, key, http) = (
        served.app.clone(),
        served.sb.clone(),
        served.base.clone(),
        served.key.clone(),
        served.http.clone(),
    );
    let node = app.node().get()?;
    let mut out = serde_json::Map::new();

    // Invoice creation.
    let made: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let mut create = serde_json::Map::new();
    for (clients, n) in [(1, sizes.one), (MANY, sizes.many)] {
        let raw = load(clients, n, None, {
            let node = node.clone();
            move |_| {
                let node = node.clone();
                async move { raw_create(node).await }
            }
        })
        .await?;
        let api = load(clients, n, None, {
            let (http, base, key, made) = (http.clone(), base.clone(), key.clone(), made.clone());
            move |_| {
                let (http, base, key, made) =
                    (http.clone(), base.clone(), key.clone(), made.clone());
                async move {
                    let pair = api_create(&http, &base, &key).await?;
                    made.lock().map_err(|_| "poisoned")?.push(pair);
                    Ok(())
                }
            }
        })
        .await?;
        create.insert(
            clients.to_string(),
            side_by_side("invoice create", &raw, &api),
        );
    }
    out.insert("invoice_create".into(), Value::Object(create));
    if std::env::var("PAYAIML_BENCH_ONLY").as_deref() == Ok("till") {
        let figures = json!({ "till": till::run(&app, &sb, &http, &base, &key, (sizes.till_sales, sizes.till_bulk)).await? });
        served.stop().await;
        return write_figures(&figures);
    }
    if std::env::var("PAYAIML_BENCH_ONLY").as_deref() == Ok("nwc") {
        let figures = json!({ "nwc_make_invoice": nwc::run(&app, &http, &base, &key, dir.path(), (sizes.one, sizes.many)).await? });
        served.stop().await;
        return write_figures(&figures);
    }
    if std::env::var("PAYAIML_BENCH_ONLY").as_deref() == Ok("greenfield") {
        let figures = json!({ "greenfield": greenfield::run(&node, &http, &base, &key, (sizes.one, sizes.many)).await? });
        served.stop().await;
        return write_figures(&figures);
    }

    // The BTCPay Greenfield-compatible create beside ours and the node's.
    out.insert(
        "greenfield_invoice_create".into(),
        greenfield::run(&node, &http, &base, &key, (sizes.one, sizes.many)).await?,
    );

    // make_invoice through a relay on loopback (Nostr Wallet Connect) beside the REST create.
    out.insert(
        "nwc_make_invoice".into(),
        nwc::run(
            &app,
            &http,
            &base,
            &key,
            dir.path(),
            (sizes.one, sizes.many),
        )
        .await?,
    );

    // Invoice lookup: the node's own record vs GET /v1/lightning/invoices/{id}.
    let made: Arc<Vec<(String, String)>> = Arc::new(made.lock().map_err(|_| "poisoned")?.clone());
    let mut get = serde_json::Map::new();
    for clients in [1, MANY] {
        let raw = load(clients, sizes.gets, None, {
            let (node, made) = (node.clone(), made.clone());
            move |i| {
                let (node, made) = (node.clone(), made.clone());
                async move {
                    let hash = &made[(i * 7919) % made.len()].1;
                    let id =
                        PaymentId(<[u8; 32]>::try_from(hex::decode(hash)?).map_err(|_| "hash")?);
                    node.payment(&id).ok_or("not in the node's record")?;
                    Ok(())
                }
            }
        })
        .await?;
        let api = load(clients, sizes.gets, None, {
            let (http, base, key, made) = (http.clone(), base.clone(), key.clone(), made.clone());
            move |i| {
                let (http, base, key, made) =
                    (http.clone(), base.clone(), key.clone(), made.clone());
                async move {
                    let id = &made[(i * 7919) % made.len()].0;
                    let res = http
                        .get(format!("{base}/v1/lightning/invoices/{id}"))
                        .bearer_auth(&key)
                        .send()
                        .await?;
                    if res.status().as_u16() != 200 {
                        return Err(format!("get: {}", res.status()).into());
                    }
                    res.bytes().await?;
                    Ok(())
                }
            }
        })
        .await?;
        get.insert(clients.to_string(), side_by_side("invoice get", &raw, &api));
    }
    out.insert("invoice_get".into(), Value::Object(get));

    // The HTTP floor: `GET /v1/health` reads no key and no database, so it is what any request
    // costs on this machine, client included, before the app does anything.
    let mut floor = serde_json::Map::new();
    for clients in [1, MANY] {
        let health = load(clients, sizes.gets, None, {
            let (http, base) = (http.clone(), base.clone());
            move |_| {
                let (http, base) = (http.clone(), base.clone());
                async move {
                    let res = http.get(format!("{base}/v1/health")).send().await?;
                    if res.status().as_u16() != 200 {
                        return Err(format!("health: {}", res.status()).into());
                    }
                    res.bytes().await?;
                    Ok(())
                }
            }
        })
        .await?;
        println!(
            "HTTP floor (GET /v1/health)        {clients:>2} clients  {:>8.1}/s p50 {:>7.3} p99 {:>7.3} ms cpu {:>6.3} ms",
            health.per_s(),
            health.latency.p50,
            health.latency.p99,
            health.cpu_ms_per_op
        );
        floor.insert(clients.to_string(), health.json());
    }
    out.insert("http_floor".into(), Value::Object(floor));

    // Payments to the customer, sent and settled: one at a time, then 16 in flight on the one
    // channel the merchant opened. The customer's invoices are made before the clock starts.
    let mut pay = serde_json::Map::new();
    for (clients, n) in [(1, sizes.one), (MANY, sizes.payments_many)] {
        let mut raw_invoices = Vec::with_capacity(n);
        let mut api_invoices = Vec::with_capacity(n);
        for _ in 0..n {
            raw_invoices.push(sb.invoice(100, "bench").await?.payment_request);
            api_invoices.push(sb.invoice(100, "bench").await?.payment_request);
        }
        let raw_invoices = Arc::new(raw_invoices);
        let api_invoices = Arc::new(api_invoices);
        let raw = load(clients, n, None, {
            let node = node.clone();
            move |i| {
                let (node, invoices) = (node.clone(), raw_invoices.clone());
                async move {
                    let invoice = payaiml_core::parse_invoice(&invoices[i])?;
                    let sender = node.clone();
                    let id = tokio::task::spawn_blocking(move || {
                        sender.bolt11_payment().send(&invoice, None)
                    })
                    .await??;
                    wait_settled(&node, id).await
                }
            }
        })
        .await?;
        let api = load(clients, n, None, {
            let (http, base, key) = (http.clone(), base.clone(), key.clone());
            move |i| {
                let (http, base, key, invoices) = (
                    http.clone(),
                    base.clone(),
                    key.clone(),
                    api_invoices.clone(),
                );
                async move { api_pay(&http, &base, &key, &invoices[i]).await }
            }
        })
        .await?;
        pay.insert(
            clients.to_string(),
            side_by_side("payment sent and settled", &raw, &api),
        );
    }
    out.insert("payment".into(), Value::Object(pay));

    // The same on two new sandboxes, one with every write of its node mirrored to a VSS server.
    out.insert("backup".into(), backup::run(dir.path(), sizes.one).await?);

    let mut latency = Vec::new();
    for endpoints in [1, MANY] {
        latency.push(events::event_latency(&app, &sb, &base, &key, endpoints, sizes.events).await?);
    }
    out.insert("event_latency".into(), Value::Array(latency));
    out.insert(
        "till".into(),
        till::run(
            &app,
            &sb,
            &http,
            &base,
            &key,
            (sizes.till_sales, sizes.till_bulk),
        )
        .await?,
    );
    let sandbox_rss = measure::rss_mb(None)?;

    // payaimld serve on its own, and its history.
    let chain = app
        .config()
        .chain_source
        .clone()
        .ok_or("the sandbox has no chain source")?;
    let history = history::run(
        &chain,
        dir.path(),
        sizes.history,
        sizes.history_reads,
        sizes.history_expiry,
    )
    .await?;
    out.insert("history".into(), history);
    out.insert("desktop".into(), desktop::run(&chain, dir.path()).await?);

    out.insert(
        "machine".into(),
        json!({
            "cores": cores,
            "bench_process_rss_mb": measure::round(sandbox_rss, 1),
            "profile": if cfg!(debug_assertions) { "debug" } else { "release" },
        }),
    );
    write_figures(&Value::Object(out))?;
    served.stop().await;
    Ok(())
}

/// Writes the figures to `PAYAIML_BENCH_OUT` (`test-output/bench/bench.json`).
fn write_figures(figures: &Value) -> BenchResult<()> {
    let path = std::env::var("PAYAIML_BENCH_OUT")
        .unwrap_or_else(|_| "test-output/bench/bench.json".into());
    if let Some(parent) = std::path::Path::new(&path).parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&path, serde_json::to_string_pretty(figures)?)?;
    println!("figures written to {path}");
    Ok(())
}

/// A sandbox with the API served on a loopback port, and the admin key and a client to call it.
pub(crate) struct Served {
    pub app: Arc<payaiml_core::App>,
    pub sb: Arc<sandbox::Sandbox>,
    pub base: String,
    pub key: String,
    pub http: reqwest::Client,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Served {
    pub(crate) async fn start(config: Config) -> BenchResult<Served> {
        let (app, sb) = sandbox::launch(config, &sandbox::default_bitcoind(), false).await?;
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
        Ok(Served {
            app,
            sb,
            base: format!("http://{bound}"),
            key,
            http: reqwest::Client::builder().no_proxy().build()?,
            stop,
            server,
        })
    }

    /// Stops the API, the app and the sandbox.
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.server.await;
        self.app.shutdown().await;
        self.sb.stop().await;
    }
}

/// One invoice of 1,000 sats straight on the node (`receive()`, off the async workers).
pub(crate) async fn raw_create(node: Arc<Node>) -> BenchResult<()> {
    tokio::task::spawn_blocking(move || {
        let desc = Bolt11InvoiceDescription::Direct(Description::new("bench".into())?);
        node.bolt11_payment().receive(1_000_000, &desc, 3600)?;
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
    })
    .await??;
    Ok(())
}

/// `POST /v1/lightning/invoices` once; the invoice's id and payment hash.
pub(crate) async fn api_create(
    http: &reqwest::Client,
    base: &str,
    key: &str,
) -> BenchResult<(String, String)> {
    let res = http
        .post(format!("{base}/v1/lightning/invoices"))
        .bearer_auth(key)
        .body(r#"{"amount": 1000, "description": "bench"}"#)
        .send()
        .await?;
    if res.status().as_u16() != 201 {
        return Err(format!("create: {}", res.status()).into());
    }
    let body: Value = res.json().await?;
    Ok((
        body["id"].as_str().unwrap_or_default().to_string(),
        body["payment_hash"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    ))
}

/// `POST /v1/lightning/payments` of `invoice`, which must succeed.
pub(crate) async fn api_pay(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    invoice: &str,
) -> BenchResult<()> {
    let res = http
        .post(format!("{base}/v1/lightning/payments"))
        .bearer_auth(key)
        .header("content-type", "application/json")
        .body(json!({ "invoice": invoice }).to_string())
        .send()
        .await?;
    let status = res.status().as_u16();
    let body: Value = res.json().await?;
    if (status, body["status"].as_str()) != (201, Some("succeeded")) {
        return Err(format!("payment: {status} {body}").into());
    }
    Ok(())
}

async fn wait_settled(node: &Arc<Node>, id: PaymentId) -> BenchResult<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match node.payment(&id).map(|p| p.status) {
            Some(PaymentStatus::Succeeded) => return Ok(()),
            Some(PaymentStatus::Failed) => return Err("raw payment failed".into()),
            _ if Instant::now() > deadline => return Err("raw payment timed out".into()),
            _ => tokio::time::sleep(Duration::from_micros(200)).await,
        }
    }
}
