//! The Greenfield phase: invoice creation through the BTCPay-compatible API
//! (`POST /api/v1/stores/{id}/invoices`, the body a shop plugin sends, Lightning only) beside
//! our own `POST /v1/lightning/invoices` and the node's own `receive()`, in the same run, from 1
//! and 16 clients. The figure that matters is Greenfield/ours (goal: at most 1.2).

use std::sync::Arc;

use serde_json::{json, Value};

use payaiml_core::ldk_node::Node;

use crate::measure::{load, ratio, round, show, side_by_side, BenchResult};
use crate::{api_create, raw_create, MANY};

/// `POST /api/v1/stores/{store}/invoices` once, as a shop plugin sends it.
async fn greenfield_create(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    store: &str,
    i: usize,
) -> BenchResult<()> {
    let res = http
        .post(format!("{base}/api/v1/stores/{store}/invoices"))
        .header("Authorization", format!("token {key}"))
        .header("Content-Type", "application/json")
        .body(
            json!({
                "amount": "1000", "currency": "SATS",
                "metadata": {"orderId": format!("bench-{i}"), "itemDesc": "bench"},
                "checkout": {"paymentMethods": ["BTC-LN"], "expirationMinutes": 60,
                             "redirectURL": "https://shop.example/thanks"}
            })
            .to_string(),
        )
        .send()
        .await?;
    if res.status().as_u16() != 200 {
        return Err(format!("greenfield create: {} {}", res.status(), res.text().await?).into());
    }
    res.bytes().await?;
    Ok(())
}

pub(crate) async fn run(
    node: &Arc<Node>,
    http: &reqwest::Client,
    base: &str,
    key: &str,
    sizes: (usize, usize),
) -> BenchResult<Value> {
    let stores: Value = http
        .get(format!("{base}/api/v1/stores"))
        .header("Authorization", format!("token {key}"))
        .send()
        .await?
        .json()
        .await?;
    let store = stores[0]["id"].as_str().ok_or("no store")?.to_string();
    let mut out = serde_json::Map::new();
    for (clients, n) in [(1, sizes.0), (MANY, sizes.1)] {
        let raw = load(clients, n, None, {
            let node = node.clone();
            move |_| {
                let node = node.clone();
                async move { raw_create(node).await }
            }
        })
        .await?;
        let ours = load(clients, n, None, {
            let (http, base, key) = (http.clone(), base.to_string(), key.to_string());
            move |_| {
                let (http, base, key) = (http.clone(), base.clone(), key.clone());
                async move { api_create(&http, &base, &key).await.map(|_| ()) }
            }
        })
        .await?;
        let greenfield = load(clients, n, None, {
            let (http, base, key, store) = (
                http.clone(),
                base.to_string(),
                key.to_string(),
                store.clone(),
            );
            move |i| {
                let (http, base, key, store) =
                    (http.clone(), base.clone(), key.clone(), store.clone());
                async move { greenfield_create(&http, &base, &key, &store, i).await }
            }
        })
        .await?;
        let vs_raw = side_by_side("Greenfield invoice create", &raw, &greenfield);
        let per_s = ratio(greenfield.per_s(), ours.per_s());
        let p50 = ratio(greenfield.latency.p50, ours.latency.p50);
        let cpu = ratio(greenfield.cpu_ms_per_op, ours.cpu_ms_per_op);
        println!(
            "Greenfield vs /v1 invoice create   {clients:>2} clients  /v1 {:>8.1}/s p50 {:>7.3} ms | Greenfield {:>8.1}/s p50 {:>7.3} ms | Greenfield//v1: rate {} p50 {} cpu {}",
            ours.per_s(), ours.latency.p50, greenfield.per_s(), greenfield.latency.p50,
            show(per_s), show(p50), show(cpu),
        );
        out.insert(
            clients.to_string(),
            json!({
                "raw_vs_greenfield": vs_raw,
                "ours": ours.json(),
                "greenfield_vs_ours": {
                    "per_s": per_s.map(|r| round(r, 3)),
                    "p50": p50.map(|r| round(r, 3)),
                    "p99": ratio(greenfield.latency.p99, ours.latency.p99).map(|r| round(r, 3)),
                    "cpu": cpu.map(|r| round(r, 3)),
                },
            }),
        );
    }
    Ok(Value::Object(out))
}
