//! The backup's cost: invoice creation and a payment sent and settled, through the API, on a new
//! sandbox whose node mirrors every write to a VSS server (LDK's vss-server on a private
//! PostgreSQL, both on loopback), against the same operations on a new sandbox without a backup,
//! in the same run (both fresh, so neither carries the other phases' history). One client: the
//! counter's case, and the goal (at most 1.5 times local-only).

use std::path::Path;
use std::sync::Arc;

use serde_json::{json, Value};

use payaiml_core::backup::TargetConfig;
use payaiml_core::{Config, Network, SecretsBackend};

#[path = "../../../../tests/regtest/vss_server.rs"]
mod vss_server;

use crate::measure::{load, ratio, round, BenchResult, Measured};

/// Runs the phase with `n` operations of each kind per sandbox.
pub async fn run(dir: &Path, n: usize) -> BenchResult<Value> {
    let vss = tokio::task::spawn_blocking(vss_server::VssServer::start).await?;
    let (local_create, local_pay, _) = measure(dir, "local-only", None, n).await?;
    let target = TargetConfig::Vss {
        url: vss.url(),
        token: None,
        jwt: false,
    };
    let (create, pay, health) = measure(dir, "backed-up", Some(target), n).await?;
    tokio::task::spawn_blocking(move || drop(vss)).await?;
    Ok(json!({
        "invoice_create": compare("invoice create, VSS backup", &local_create, &create),
        "payment": compare("payment, VSS backup", &local_pay, &pay),
        "backup_after": health["backup"],
    }))
}

/// A new sandbox in `dir/name` with `backup`: `n` invoices made, then `n` payments sent and
/// settled, one client; and its health after them.
async fn measure(
    dir: &Path,
    name: &str,
    backup: Option<TargetConfig>,
    n: usize,
) -> BenchResult<(Measured, Measured, Value)> {
    let mut config = Config::new(Network::Regtest);
    config.data_dir = dir.join(name);
    config.secrets = SecretsBackend::File;
    config.backup = backup;
    let served = crate::Served::start(config).await?;
    let (sb, base, key, http) = (
        served.sb.clone(),
        served.base.clone(),
        served.key.clone(),
        served.http.clone(),
    );

    let create = load(1, n, None, {
        let (http, base, key) = (http.clone(), base.clone(), key.clone());
        move |_| {
            let (http, base, key) = (http.clone(), base.clone(), key.clone());
            async move {
                crate::api_create(&http, &base, &key).await?;
                Ok(())
            }
        }
    })
    .await?;
    let mut invoices = Vec::with_capacity(n);
    for _ in 0..n {
        invoices.push(sb.invoice(100, "bench").await?.payment_request);
    }
    let invoices = Arc::new(invoices);
    let pay = load(1, n, None, {
        let (http, base, key) = (http.clone(), base.clone(), key.clone());
        move |i| {
            let (http, base, key, invoices) =
                (http.clone(), base.clone(), key.clone(), invoices.clone());
            async move { crate::api_pay(&http, &base, &key, &invoices[i]).await }
        }
    })
    .await?;
    let health: Value = http
        .get(format!("{base}/v1/health"))
        .send()
        .await?
        .json()
        .await?;
    served.stop().await;
    Ok((create, pay, health))
}

/// Prints and records the backed-up figures against the local-only ones.
fn compare(what: &str, local: &Measured, backed: &Measured) -> Value {
    let p50 = ratio(backed.latency.p50, local.latency.p50);
    let rate = ratio(local.per_s(), backed.per_s());
    println!(
        "{what:<34}  1 client   local {:>8.1}/s p50 {:>7.3} p99 {:>7.3} ms | VSS {:>8.1}/s p50 {:>7.3} p99 {:>7.3} ms | VSS/local: p50 {} time per op {}",
        local.per_s(),
        local.latency.p50,
        local.latency.p99,
        backed.per_s(),
        backed.latency.p50,
        backed.latency.p99,
        p50.map_or("-".into(), |r| format!("{r:.2}x")),
        rate.map_or("-".into(), |r| format!("{r:.2}x")),
    );
    json!({
        "local": local.json(),
        "vss": backed.json(),
        "ratio": {
            "p50": p50.map(|r| round(r, 3)),
            "time_per_op": rate.map(|r| round(r, 3)),
        },
    })
}
