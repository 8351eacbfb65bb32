//! Timing, load and resource figures: latency percentiles, a closed-loop load of N clients,
//! process CPU time and resident memory from `/proc`.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use serde_json::{json, Value};

pub type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Latency percentiles in milliseconds.
#[derive(Clone, Copy)]
pub struct Stats {
    pub p50: f64,
    pub p99: f64,
    pub mean: f64,
}

pub fn stats(mut ms: Vec<f64>) -> Stats {
    if ms.is_empty() {
        return Stats {
            p50: f64::NAN,
            p99: f64::NAN,
            mean: f64::NAN,
        };
    }
    ms.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
    Stats {
        p50: at(0.5),
        p99: at(0.99),
        mean: ms.iter().sum::<f64>() / ms.len() as f64,
    }
}

/// What a load run measured.
pub struct Measured {
    pub clients: usize,
    pub n: usize,
    pub wall_s: f64,
    pub latency: Stats,
    /// CPU time of the process(es) measured, per operation, in milliseconds.
    pub cpu_ms_per_op: f64,
}

impl Measured {
    pub fn per_s(&self) -> f64 {
        self.n as f64 / self.wall_s
    }

    pub fn json(&self) -> Value {
        json!({
            "clients": self.clients,
            "n": self.n,
            "per_s": round(self.per_s(), 1),
            "p50_ms": round(self.latency.p50, 3),
            "p99_ms": round(self.latency.p99, 3),
            "mean_ms": round(self.latency.mean, 3),
            "cpu_ms_per_op": round(self.cpu_ms_per_op, 3),
        })
    }
}

pub fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

/// Runs `n` operations from `clients` concurrent clients, each starting its next operation as
/// soon as its last one ended (a closed loop). `op(i)` is the i-th operation. CPU time is that of
/// the process `cpu_of` (this one when `None`).
pub async fn load<F, Fut>(
    clients: usize,
    n: usize,
    cpu_of: Option<u32>,
    op: F,
) -> BenchResult<Measured>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = BenchResult<()>> + Send + 'static,
{
    let op = Arc::new(op);
    let next = Arc::new(AtomicUsize::new(0));
    let cpu_before = cpu_ms(cpu_of)?;
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (op, next) = (op.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut ms = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, Box<dyn std::error::Error + Send + Sync>>(ms);
                }
                let t = Instant::now();
                op(i).await?;
                ms.push(t.elapsed().as_secs_f64() * 1e3);
            }
        }));
    }
    let mut all = Vec::with_capacity(n);
    for task in tasks {
        all.extend(task.await??);
    }
    let wall_s = started.elapsed().as_secs_f64();
    let cpu_after = cpu_ms(cpu_of)?;
    Ok(Measured {
        clients,
        n,
        wall_s,
        latency: stats(all),
        cpu_ms_per_op: (cpu_after - cpu_before) / n as f64,
    })
}

/// User + system CPU time of a process (this one when `None`) so far, in milliseconds.
pub fn cpu_ms(pid: Option<u32>) -> BenchResult<f64> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".to_string(),
    };
    let stat = std::fs::read_to_string(path)?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .ok_or("bad /proc stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    let ticks: f64 = fields
        .get(11..13)
        .ok_or("short /proc stat")?
        .iter()
        .map(|f| f.parse::<f64>().unwrap_or(0.0))
        .sum();
    Ok(ticks * 1000.0 / clock_ticks())
}

/// The kernel's clock ticks per second for `/proc` CPU times (`getconf CLK_TCK`).
fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// Resident memory of a process (this one when `None`), in MB.
pub fn rss_mb(pid: Option<u32>) -> BenchResult<f64> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/status"),
        None => "/proc/self/status".to_string(),
    };
    let status = std::fs::read_to_string(path)?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or("no VmRSS")?;
    Ok(kb / 1024.0)
}

/// `a / b`, or `None` when `b` is zero (CPU time below the clock's tick in a short run).
pub fn ratio(a: f64, b: f64) -> Option<f64> {
    (b > 0.0).then(|| a / b)
}

pub fn show(r: Option<f64>) -> String {
    r.map_or("n/a".into(), |r| format!("{r:.2}x"))
}

/// One line of a side-by-side table: raw ldk-node, through the API, and their ratio.
pub fn side_by_side(what: &str, raw: &Measured, api: &Measured) -> Value {
    println!(
        "{what:<34} {:>2} clients  raw {:>8.1}/s p50 {:>7.3} p99 {:>7.3} ms cpu {:>6.3} ms | API {:>8.1}/s p50 {:>7.3} p99 {:>7.3} ms cpu {:>6.3} ms | API/raw: rate {} p50 {} cpu {}",
        raw.clients,
        raw.per_s(),
        raw.latency.p50,
        raw.latency.p99,
        raw.cpu_ms_per_op,
        api.per_s(),
        api.latency.p50,
        api.latency.p99,
        api.cpu_ms_per_op,
        show(ratio(api.per_s(), raw.per_s())),
        show(ratio(api.latency.p50, raw.latency.p50)),
        show(ratio(api.cpu_ms_per_op, raw.cpu_ms_per_op)),
    );
    json!({
        "raw": raw.json(),
        "api": api.json(),
        "ratio": {
            "per_s": ratio(api.per_s(), raw.per_s()).map(|r| round(r, 3)),
            "p50": ratio(api.latency.p50, raw.latency.p50).map(|r| round(r, 3)),
            "p99": ratio(api.latency.p99, raw.latency.p99).map(|r| round(r, 3)),
            "cpu": ratio(api.cpu_ms_per_op, raw.cpu_ms_per_op).map(|r| round(r, 3)),
        },
    })
}
