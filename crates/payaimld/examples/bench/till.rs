//! The till: from *Paid* (the merchant's app committed the node's `PaymentReceived`, its
//! in-process event broadcast) to the receipt's last byte at a loopback ESC/POS printer, over
//! Lightning sales made from a cart and paid by the sandbox's customer; and how long the
//! Z-report of a day (and of its shift) takes over 10,000 sales, beside the existing day report
//! (`GET /v1/reports/day`) of the same day as the reference.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use payaiml_core::sandbox;

use crate::measure::{load, round, stats, BenchResult};

/// The exchange-rate providers' loopback stand-in (tests/stand-ins/rates.mjs, in each real
/// provider's format; 60,000 EUR/BTC): nothing in a bench may reach the real services. Killed
/// when dropped.
pub struct RatesStandIn {
    child: std::process::Child,
    base: String,
}

impl RatesStandIn {
    pub fn start() -> BenchResult<RatesStandIn> {
        use std::io::BufRead;
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/stand-ins/rates.mjs");
        let mut child = std::process::Command::new("node")
            .arg(script)
            .stdout(std::process::Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("the stand-in's stdout")?;
        let mut line = String::new();
        std::io::BufReader::new(stdout).read_line(&mut line)?;
        let base = line
            .trim()
            .strip_prefix("rates stand-in: ")
            .ok_or("the stand-in's address")?
            .to_string();
        Ok(RatesStandIn { child, base })
    }

    /// The four providers' URLs on the stand-in.
    pub fn urls(
        &self,
    ) -> BenchResult<std::collections::BTreeMap<payaiml_core::rates::Provider, String>> {
        let mut urls = std::collections::BTreeMap::new();
        for name in ["coinbase", "kraken", "bitstamp", "coingecko"] {
            urls.insert(name.parse()?, format!("{}/{name}", self.base));
        }
        Ok(urls)
    }
}

impl Drop for RatesStandIn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback printer: when each connection's last byte came, by order of arrival.
async fn printer() -> BenchResult<(u16, Arc<Mutex<Vec<Instant>>>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let done: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let d = done.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let d = d.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut first = true;
                let mut got = 0usize;
                loop {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            got += n;
                            if first && buf[..n].starts_with(&[0x10, 0x04, 0x04]) {
                                let _ = stream.write_all(&[0x12]).await;
                                got -= 3;
                            }
                            first = false;
                        }
                    }
                }
                if got > 0 {
                    if let Ok(mut v) = d.lock() {
                        v.push(Instant::now());
                    }
                }
            });
        }
    });
    Ok((port, done))
}

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    key: &str,
    body: Option<Value>,
) -> BenchResult<Value> {
    let mut req = http.request(method, url).bearer_auth(key);
    if let Some(b) = body {
        req = req
            .header("Content-Type", "application/json")
            .body(b.to_string());
    }
    let res = req.send().await?;
    let status = res.status().as_u16();
    let text = res.text().await?;
    if status >= 300 {
        return Err(format!("{status}: {text}").into());
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub async fn run(
    app: &Arc<payaiml_core::App>,
    sb: &Arc<sandbox::Sandbox>,
    http: &reqwest::Client,
    base: &str,
    key: &str,
    (sales, bulk): (usize, usize),
) -> BenchResult<Value> {
    use reqwest::Method;
    call(
        http,
        Method::PATCH,
        format!("{base}/v1/settings"),
        key,
        Some(json!({"currency": "EUR"})),
    )
    .await?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while call(http, Method::GET, format!("{base}/v1/rates"), key, None).await?["rate"].is_null() {
        if Instant::now() > deadline {
            return Err("no EUR rate from the stand-in within 30 s".into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let item = call(
        http,
        Method::POST,
        format!("{base}/v1/catalog/items"),
        key,
        Some(json!({"name": "Flat white", "price": "3.50", "currency": "EUR"})),
    )
    .await?;
    let item = item["id"].as_str().ok_or("item id")?.to_string();
    let (port, printed) = printer().await?;
    let printer = call(
        http,
        Method::POST,
        format!("{base}/v1/printers"),
        key,
        Some(json!({"name": "Counter", "connection": {"type": "network", "host": "127.0.0.1", "port": port},
                    "paper": "80mm", "role": "receipt", "auto_print": true, "cash_drawer": true})),
    )
    .await?;
    let printer = printer["id"].as_str().ok_or("printer id")?.to_string();
    let shift = call(
        http,
        Method::POST,
        format!("{base}/v1/shifts"),
        key,
        Some(json!({"float": "100.00"})),
    )
    .await?;
    let shift = shift["id"].as_str().ok_or("shift id")?.to_string();
    // The drawer kick of the shift's opening.
    let deadline = Instant::now() + Duration::from_secs(10);
    while printed.lock().map_err(|_| "poisoned")?.is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Paid → the receipt's last byte.
    let paid_at: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let mut events = app.events().subscribe();
    let p = paid_at.clone();
    let watch = tokio::spawn(async move {
        while let Ok(record) = events.recv().await {
            let at = Instant::now();
            if let Some(id) = record.payload.get("invoice_id").and_then(|h| h.as_str()) {
                if let Ok(mut m) = p.lock() {
                    m.insert(id.to_string(), at);
                }
            }
        }
    });
    let mut latencies = Vec::with_capacity(sales);
    for i in 0..sales {
        let before = printed.lock().map_err(|_| "poisoned")?.len();
        let invoice = call(
            http,
            Method::POST,
            format!("{base}/v1/lightning/invoices"),
            key,
            Some(json!({"cart": {"currency": "EUR", "lines": [{"item_id": item}]}})),
        )
        .await?;
        let id = invoice["id"].as_str().ok_or("invoice id")?.to_string();
        sb.pay(invoice["payment_request"].as_str().ok_or("bolt11")?, None)
            .await?;
        let deadline = Instant::now() + Duration::from_secs(30);
        let done = loop {
            if let Some(at) = printed.lock().map_err(|_| "poisoned")?.get(before).copied() {
                break at;
            }
            if Instant::now() > deadline {
                return Err(format!("sale {i}: no receipt within 30 s").into());
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        };
        let paid = paid_at
            .lock()
            .map_err(|_| "poisoned")?
            .get(&id)
            .copied()
            .ok_or("no payment.received seen")?;
        latencies.push(done.saturating_duration_since(paid).as_secs_f64() * 1000.0);
    }
    watch.abort();
    let print = stats(latencies);
    println!(
        "till: Paid → receipt's last byte at a loopback printer (n={sales}): p50 {:.1} ms, p99 {:.1} ms",
        print.p50, print.p99
    );

    // 10,000 sales in one day and one shift (cash and card, 16 at a time), then the reports.
    call(
        http,
        Method::PATCH,
        format!("{base}/v1/printers/{printer}"),
        key,
        Some(json!({"auto_print": false, "cash_drawer": false})),
    )
    .await?;
    let made = load(16, bulk, None, {
        let (http, base, key, item) = (http.clone(), base.to_string(), key.to_string(), item.clone());
        move |i| {
            let (http, base, key, item) = (http.clone(), base.clone(), key.clone(), item.clone());
            async move {
                let tender = if i % 3 == 0 { "card" } else { "cash" };
                call(
                    &http,
                    Method::POST,
                    format!("{base}/v1/sales"),
                    &key,
                    Some(json!({"cart": {"currency": "EUR", "lines": [{"item_id": item, "quantity": 1 + i % 3}],
                                         "tip": {"percent": "10"}}, "tender": tender})),
                )
                .await?;
                Ok(())
            }
        }
    })
    .await?;
    let time = |path: String| {
        let (http, key) = (http.clone(), key.to_string());
        async move {
            let mut ms = Vec::new();
            let mut last = Value::Null;
            for _ in 0..5 {
                let t = Instant::now();
                last = call(&http, Method::GET, path.clone(), &key, None).await?;
                ms.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>((stats(ms), last))
        }
    };
    let (day_z, z) = time(format!("{base}/v1/reports/z")).await?;
    let (shift_z, _) = time(format!("{base}/v1/shifts/{shift}")).await?;
    let (day, _) = time(format!("{base}/v1/reports/day")).await?;
    let counted = z["sales_total"]["count"].as_u64().unwrap_or(0);
    println!(
        "till: {counted} sales in the day ({bulk} cash and card made at {:.0}/s): day Z-report p50 {:.1} ms, shift Z-report p50 {:.1} ms; the day report p50 {:.1} ms (Z/day {:.2})",
        made.per_s(),
        day_z.p50,
        shift_z.p50,
        day.p50,
        day_z.p50 / day.p50
    );
    Ok(json!({
        "paid_to_receipt_ms": {"n": sales, "p50": round(print.p50, 2), "p99": round(print.p99, 2)},
        "z_report": {
            "sales": counted,
            "cash_card_sales_per_second": round(made.per_s(), 1),
            "day_p50_ms": round(day_z.p50, 1),
            "shift_p50_ms": round(shift_z.p50, 1),
            "day_report_p50_ms": round(day.p50, 1),
            "ratio_to_day_report": round(day_z.p50 / day.p50, 2)
        }
    }))
}
