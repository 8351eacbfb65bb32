//! Measures what the API adds on top of ldk-node, on the real regtest sandbox: invoice creation and
//! outgoing payments, each done N times straight on the node ("raw ldk-node") and N times through
//! the HTTP API (auth, validation, SQLite, event log). Prints p50/p99/mean and the ratio.
//!
//! `make bench` (release build; secrets in a temp file store; nothing asserted).

use std::sync::Arc;
use std::time::{Duration, Instant};

use payaiml_core::ldk_node::lightning::ln::channelmanager::PaymentId;
use payaiml_core::ldk_node::lightning_invoice::{Bolt11InvoiceDescription, Description};
use payaiml_core::ldk_node::payment::PaymentStatus;
use payaiml_core::ldk_node::Node;
use payaiml_core::sandbox;
use payaiml_core::{Config, Network, SecretsBackend};

const N: usize = 200;

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
    let app = sandbox::launch(config, &sandbox::default_bitcoind()).await?;
    println!("sandbox ready in {:.1} s", started.elapsed().as_secs_f64());

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let bound = listener.local_addr()?;
    let router = payaiml_api::router(app.clone(), bound, payaiml_api::Options::default());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(payaiml_api::serve(listener, router, async {
        let _ = stopped.await;
    }));
    let (key, _) = app.admin_key().await?;
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
    let sb = app.sandbox().ok_or("no sandbox")?.clone();
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

    let _ = stop.send(());
    let _ = server.await;
    app.shutdown().await;
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
