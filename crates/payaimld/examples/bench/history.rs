//! The history phase: `payaimld serve` (the merchant's node alone) measured nearly empty, then
//! again after `n` more invoices made through its API on the real node: reads (get by id, the
//! first page, a page deep in history, lists by status), restart to ready, resident memory, and
//! the size of both databases. Invoices expire after a minute, as most of a real shop's history
//! is finished (paid or expired); nothing here pays them (the node has no channel).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use payaiml_core::config::ChainSource;

use crate::daemon::Daemon;
use crate::measure::{load, round, rss_mb, BenchResult, Measured};

/// Clients for the reads and for filling the history.
const CLIENTS: usize = 16;

pub async fn run(
    chain: &ChainSource,
    dir: &std::path::Path,
    n: usize,
    reads: usize,
    expiry: u32,
) -> BenchResult<Value> {
    let (mut daemon, cold) = Daemon::start(chain, &dir.join("serve")).await?;
    println!(
        "history: payaimld serve cold start to ready {:.2} s",
        cold.as_secs_f64()
    );
    let ids: Arc<Mutex<Vec<String>>> = Arc::default();
    // Nearly empty: a first page's worth.
    fill(&daemon, &ids, 200, 3600).await?;
    let empty = measure(&daemon, &ids, reads, 200).await?;
    let (empty_restart, empty_rss, empty_sizes) = at_rest(&mut daemon, "empty").await?;

    let filled = fill(&daemon, &ids, n, expiry).await?;
    println!(
        "history: {n} invoices made at {:.0}/s ({CLIENTS} clients, p99 {:.1} ms, {:.2} ms daemon CPU each)",
        filled.per_s(),
        filled.latency.p99,
        filled.cpu_ms_per_op
    );
    // A real history is at rest: wait until the invoices have expired and their invoice.expired
    // events are written, and until the node's own store let the finished ones go (the pruner
    // looks every minute), then read.
    let settled_in = wait_expired(&daemon, expiry).await?;
    let (records_most, records_left, pruned_in) = wait_pruned(&daemon, 200, n).await?;
    println!(
        "history: every invoice expired and logged {:.0} s after the last was made; the node's store held {records_most} payments, {records_left} after {:.0} s more",
        settled_in.as_secs_f64(),
        pruned_in.as_secs_f64()
    );
    let full = measure(&daemon, &ids, reads, n + 200).await?;
    let (full_restart, full_rss, full_sizes) = at_rest(&mut daemon, &format!("{n} more")).await?;
    let mut reads_json = serde_json::Map::new();
    println!("history reads ({CLIENTS} clients)           empty p50/p99 ms   with {n} p50/p99 ms   p99 ratio");
    for ((what, a), (_, b)) in empty.iter().zip(full.iter()) {
        println!(
            "  {what:<36} {:>7.2} / {:>7.2}   {:>7.2} / {:>7.2}   {:.2}x",
            a.latency.p50,
            a.latency.p99,
            b.latency.p50,
            b.latency.p99,
            b.latency.p99 / a.latency.p99
        );
        reads_json.insert(
            what.to_string(),
            json!({"empty": a.json(), "full": b.json(), "p99_ratio": round(b.latency.p99 / a.latency.p99, 3)}),
        );
    }
    daemon.stop()?;
    Ok(json!({
        "invoices": n,
        "cold_start_s": round(cold.as_secs_f64(), 3),
        "fill": filled.json(),
        "reads": Value::Object(reads_json),
        "empty": {"restart_s": round(empty_restart.as_secs_f64(), 3), "rss_mb": round(empty_rss, 1), "app_db_mb": round(empty_sizes.0, 2), "node_db_mb": round(empty_sizes.1, 2)},
        "full": {"restart_s": round(full_restart.as_secs_f64(), 3), "rss_mb": round(full_rss, 1), "app_db_mb": round(full_sizes.0, 2), "node_db_mb": round(full_sizes.1, 2)},
        "restart_ratio": round(full_restart.as_secs_f64() / empty_restart.as_secs_f64(), 3),
        "settled_s": round(settled_in.as_secs_f64(), 1),
        "node_records": {"most": records_most, "left": records_left, "after_s": round(pruned_in.as_secs_f64(), 1)},
    }))
}

/// Restarts the daemon and lets it idle: the time to ready, its RSS (MB) then, and the sizes of
/// its databases (MB: app, node), printed under `label`.
async fn at_rest(daemon: &mut Daemon, label: &str) -> BenchResult<(Duration, f64, (f64, f64))> {
    let restart = daemon.restart().await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss = rss_mb(Some(daemon.pid()))?;
    let sizes = daemon.database_sizes();
    println!(
        "history: {label}: restart to ready {:.2} s, idle RSS {rss:.0} MB, databases {:.1} MB (app) + {:.1} MB (node)",
        restart.as_secs_f64(),
        sizes.0,
        sizes.1
    );
    Ok((restart, rss, sizes))
}

/// Waits until the invoices made `expiry` seconds ago have expired and the event log stopped
/// growing (the expiry task wrote their `invoice.expired`); returns how long that took.
async fn wait_expired(daemon: &Daemon, expiry: u32) -> BenchResult<Duration> {
    let started = std::time::Instant::now();
    tokio::time::sleep(Duration::from_secs(u64::from(expiry) + 1)).await;
    let mut last = None;
    let mut still = 0;
    while still < 3 {
        let tail = daemon.get_json("/v1/events?tail=1").await?;
        let seq = tail["data"][0]["seq"].as_i64();
        still = if seq == last { still + 1 } else { 0 };
        last = seq;
        if started.elapsed() > Duration::from_secs(600) {
            return Err("the event log was still growing after 10 minutes".into());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Ok(started.elapsed())
}

/// Waits until the node's store holds at most `live` payments (or gives up after a while);
/// returns the most it was seen holding, what it holds at the end, and the time that took.
async fn wait_pruned(
    daemon: &Daemon,
    live: usize,
    made: usize,
) -> BenchResult<(u64, u64, Duration)> {
    let started = std::time::Instant::now();
    // Expiry, a pruner pass a minute later, and its removals (one store write each).
    let limit = Duration::from_secs(180 + made as u64 / 200);
    let mut most = 0;
    loop {
        let node = daemon.get_json("/v1/node").await?;
        // A build that does not report it (and does not prune) is not waited for.
        let Some(records) = node["payment_records"].as_u64() else {
            return Ok((0, 0, started.elapsed()));
        };
        most = most.max(records);
        if records <= live as u64 || started.elapsed() > limit {
            return Ok((most, records, started.elapsed()));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Makes `count` invoices through the API from [`CLIENTS`] clients, keeping their ids.
async fn fill(
    daemon: &Daemon,
    ids: &Arc<Mutex<Vec<String>>>,
    count: usize,
    expiry: u32,
) -> BenchResult<Measured> {
    let http = daemon.http.clone();
    let (api, key, ids) = (daemon.api.clone(), daemon.key.clone(), ids.clone());
    load(CLIENTS, count, Some(daemon.pid()), move |i| {
        let (http, api, key, ids) = (http.clone(), api.clone(), key.clone(), ids.clone());
        async move {
            let body = json!({
                "amount": 1000 + i % 1000,
                "description": format!("history {i}"),
                "expiry": expiry,
            });
            let res = http
                .post(format!("{api}/v1/lightning/invoices"))
                .bearer_auth(&key)
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await?;
            if res.status().as_u16() != 201 {
                return Err(format!("create: {} {}", res.status(), res.text().await?).into());
            }
            let body: Value = res.json().await?;
            let id = body["id"].as_str().ok_or("no id")?.to_string();
            ids.lock().map_err(|_| "poisoned")?.push(id);
            Ok(())
        }
    })
    .await
}

/// The reads, each `reads` times from [`CLIENTS`] clients: get by id (spread over all invoices),
/// the first page, a page halfway back through `total` invoices, and lists by status.
async fn measure(
    daemon: &Daemon,
    ids: &Arc<Mutex<Vec<String>>>,
    reads: usize,
    total: usize,
) -> BenchResult<Vec<(&'static str, Measured)>> {
    let http = daemon.http.clone();
    let ids: Arc<Vec<String>> = Arc::new(ids.lock().map_err(|_| "poisoned")?.clone());
    // Invoice seq is the list cursor: halfway back through history.
    let deep = format!("limit=100&cursor={}", total / 2);
    let mut out = Vec::new();
    let paths: Vec<(&'static str, Option<String>)> = vec![
        ("get by id", None),
        ("list, first page", Some("limit=100".into())),
        ("list, a page halfway back", Some(deep)),
        (
            "list by status pending",
            Some("status=pending&limit=100".into()),
        ),
        (
            "list by status expired",
            Some("status=expired&limit=100".into()),
        ),
        ("list by status paid", Some("status=paid&limit=100".into())),
    ];
    for (what, query) in paths {
        let (http, api, key, ids) = (
            http.clone(),
            daemon.api.clone(),
            daemon.key.clone(),
            ids.clone(),
        );
        let m = load(CLIENTS, reads, Some(daemon.pid()), move |i| {
            let (http, api, key, ids, query) = (
                http.clone(),
                api.clone(),
                key.clone(),
                ids.clone(),
                query.clone(),
            );
            async move {
                let url = match query {
                    // A spread of ids across the whole history.
                    None => format!(
                        "{api}/v1/lightning/invoices/{}",
                        ids[(i * 7919) % ids.len()]
                    ),
                    Some(q) => format!("{api}/v1/lightning/invoices?{q}"),
                };
                let res = http.get(url).bearer_auth(&key).send().await?;
                if res.status().as_u16() != 200 {
                    return Err(format!("{what}: {}", res.status()).into());
                }
                res.bytes().await?;
                Ok(())
            }
        })
        .await?;
        out.push((what, m));
    }
    Ok(out)
}
