//! The desktop app (`payaiml-desktop`) as a merchant runs it: its window open on a display of its
//! own (a private Xvfb), the merchant's node alone on the sandbox's bitcoind. Measured: start to
//! ready, and idle memory once the window has loaded.
//!
//! WebKitGTK runs the page and its network in processes of their own, children of the app, so
//! the figure is the whole process tree's. Both sums are given: RSS, which counts a library page
//! once in every process that maps it (the number a task manager adds up), and PSS, which shares
//! each such page among those processes (what the app really adds to the machine).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use payaiml_core::config::ChainSource;

use crate::daemon::{bitcoind_rpc, built, terminate};
use crate::measure::{round, BenchResult};

/// Runs the phase; when the app or a display cannot be had, says why in the figures instead of
/// failing the whole bench (a machine without the desktop's libraries still measures the rest).
pub async fn run(chain: &ChainSource, dir: &Path) -> BenchResult<Value> {
    let binary = match built("payaiml-desktop", "PAYAIML_BENCH_DESKTOP") {
        Ok(b) => b,
        Err(why) => return Ok(skipped(why)),
    };
    let display = match Display::start() {
        Ok(d) => d,
        Err(why) => return Ok(skipped(why)),
    };
    let (host, port, user, password) = bitcoind_rpc(chain)?;
    let data_dir = dir.join("desktop");
    let log_path = dir.join("desktop.log");
    let free_port = || -> BenchResult<u16> {
        Ok(std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port())
    };
    let listen = format!("127.0.0.1:{}", free_port()?);
    let ln_listen = format!("127.0.0.1:{}", free_port()?);
    let log = std::fs::File::create(&log_path)?;
    let started = Instant::now();
    let child = Command::new(&binary)
        .env("DISPLAY", &display.name)
        .env("PAYAIML_NETWORK", "regtest")
        .env("PAYAIML_DATA_DIR", &data_dir)
        .env("PAYAIML_LISTEN", &listen)
        .env("PAYAIML_LN_LISTEN", &ln_listen)
        .env("PAYAIML_SECRETS", "file")
        .env("PAYAIML_ADMIN_KEY_FILE", dir.join("desktop.admin-key"))
        .env("PAYAIML_NOTIFY", "0")
        .env("PAYAIML_BITCOIND_RPC", format!("{host}:{port}"))
        .env("PAYAIML_BITCOIND_RPC_USER", user)
        .env("PAYAIML_BITCOIND_RPC_PASSWORD", password)
        .env("PAYAIML_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()?;
    let mut app = App { child };
    let pid = app.child.id();
    let http = reqwest::Client::builder().no_proxy().build()?;
    // Ready: the API answers and the node runs.
    loop {
        if let Some(status) = app.child.try_wait()? {
            return Err(format!(
                "payaiml-desktop exited while starting: {status}; log in {}",
                log_path.display()
            )
            .into());
        }
        let ok = http
            .get(format!("http://{listen}/v1/health"))
            .send()
            .await
            .ok()
            .map(|r| r.json::<Value>());
        if let Some(body) = ok {
            if body.await.is_ok_and(|b| b["status"] == "ok") {
                break;
            }
        }
        if started.elapsed() > Duration::from_secs(120) {
            return Err(format!(
                "payaiml-desktop not ready within 120 s; log in {}",
                log_path.display()
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ready = started.elapsed();
    // Idle: the window's page has loaded once its web process exists and the tree's memory has
    // stopped moving (three samples a second apart within 1 MB).
    let settle_deadline = Instant::now() + Duration::from_secs(90);
    let mut last: Vec<f64> = Vec::new();
    let tree = loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let tree = process_tree(pid);
        let has_page = tree.iter().any(|p| p.name.starts_with("WebKitWebProces"));
        let pss: f64 = tree.iter().map(|p| p.pss_mb).sum();
        last.push(pss);
        let steady = last.len() >= 3
            && last[last.len() - 3..]
                .iter()
                .all(|x| (x - pss).abs() <= 1.0);
        if has_page && steady {
            break tree;
        }
        if Instant::now() > settle_deadline {
            if !has_page {
                return Err(format!(
                    "payaiml-desktop opened no web page within 90 s; log in {}",
                    log_path.display()
                )
                .into());
            }
            break tree;
        }
    };
    let rss: f64 = tree.iter().map(|p| p.rss_mb).sum();
    let pss: f64 = tree.iter().map(|p| p.pss_mb).sum();
    let parts: Vec<String> = tree
        .iter()
        .map(|p| format!("{} {:.0}", p.name, p.rss_mb))
        .collect();
    println!(
        "desktop: payaiml-desktop start to ready {:.2} s; idle, window open: RSS {rss:.0} MB over {} processes ({}), PSS {pss:.0} MB",
        ready.as_secs_f64(),
        tree.len(),
        parts.join(", ")
    );
    let processes: Vec<Value> = tree
        .iter()
        .map(
            |p| json!({"name": p.name, "rss_mb": round(p.rss_mb, 1), "pss_mb": round(p.pss_mb, 1)}),
        )
        .collect();
    app.stop()?;
    drop(display);
    Ok(json!({
        "start_to_ready_s": round(ready.as_secs_f64(), 3),
        "idle_rss_mb": round(rss, 1),
        "idle_pss_mb": round(pss, 1),
        "processes": processes,
    }))
}

fn skipped(why: String) -> Value {
    println!("desktop: not measured: {why}");
    json!({ "skipped": why })
}

struct App {
    child: Child,
}

impl App {
    /// SIGTERM, as a logout would, then waits: the app closes its window and stops the node.
    fn stop(&mut self) -> BenchResult<()> {
        terminate(&mut self.child, "payaiml-desktop")
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if self.stop().is_err() {
            let _ = self.child.kill();
        }
    }
}

/// A private X display (Xvfb on the first free number from :100), stopped when dropped.
struct Display {
    child: Child,
    name: String,
}

impl Display {
    fn start() -> Result<Display, String> {
        let n = (100..200)
            .find(|n| {
                !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                    && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
            })
            .ok_or("no free X display number between :100 and :199")?;
        let name = format!(":{n}");
        let child = Command::new("Xvfb")
            .args([
                name.as_str(),
                "-screen",
                "0",
                "1280x860x24",
                "-nolisten",
                "tcp",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run Xvfb ({e}); `make setup` installs it"))?;
        let mut display = Display { child, name };
        let socket = format!("/tmp/.X11-unix/X{n}");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !Path::new(&socket).exists() {
            if let Ok(Some(status)) = display.child.try_wait() {
                return Err(format!("Xvfb exited at once ({status})"));
            }
            if Instant::now() > deadline {
                let _ = display.child.kill();
                return Err("Xvfb made no display within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(display)
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Process {
    name: String,
    rss_mb: f64,
    pss_mb: f64,
}

/// `root` and every process below it, each with its resident and proportional memory.
fn process_tree(root: u32) -> Vec<Process> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        // The parent is the second field after the command name, which is in parentheses.
        let ppid = std::fs::read_to_string(entry.path().join("stat"))
            .ok()
            .and_then(|s| {
                s.rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse().ok())
            });
        if let Some(ppid) = ppid {
            parents.push((pid, ppid));
        }
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            parents
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    tree.into_iter()
        .filter_map(|pid| {
            let dir = PathBuf::from(format!("/proc/{pid}"));
            let name = std::fs::read_to_string(dir.join("comm")).ok()?;
            let kb = |file: &str, key: &str| -> Option<f64> {
                std::fs::read_to_string(dir.join(file))
                    .ok()?
                    .lines()
                    .find_map(|l| l.strip_prefix(key))?
                    .split_whitespace()
                    .next()?
                    .parse()
                    .ok()
            };
            Some(Process {
                name: name.trim().to_string(),
                rss_mb: kb("status", "VmRSS:")? / 1024.0,
                pss_mb: kb("smaps_rollup", "Pss:").unwrap_or(0.0) / 1024.0,
            })
        })
        .collect()
}
