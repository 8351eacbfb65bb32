//! `payaimld serve` as its own process, the merchant's node alone on the sandbox's bitcoind: cold
//! start, restart, resident memory and the size of its databases, as a shop would run it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use payaiml_core::config::ChainSource;

use crate::measure::BenchResult;

pub struct Daemon {
    child: Child,
    pub api: String,
    pub key: String,
    data_dir: PathBuf,
    args: Vec<String>,
    binary: PathBuf,
    /// The client every request to it goes through.
    pub http: reqwest::Client,
}

/// The binary `name` next to this example's own (`target/<profile>/<name>`), or the path in
/// the variable `env`.
pub fn built(name: &str, env: &str) -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(env) {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let path = exe
        .parent()
        .and_then(Path::parent)
        .ok_or("no target dir")?
        .join(name);
    if path.exists() {
        Ok(path)
    } else {
        Err(format!(
            "{} is missing: build the workspace first (`cargo build --workspace --bins`, release for `make bench`)",
            path.display()
        ))
    }
}

/// The sandbox's bitcoind RPC: host, port, user, password.
pub fn bitcoind_rpc(chain: &ChainSource) -> BenchResult<(&str, u16, &str, &str)> {
    match chain {
        ChainSource::BitcoindRpc {
            host,
            port,
            user,
            password,
        } => Ok((host, *port, user, password)),
        _ => Err("the sandbox runs on bitcoind".into()),
    }
}

impl Daemon {
    /// Starts `payaimld serve` on `data_dir` and waits until `/v1/health` says `ok`; returns it
    /// with the time that took.
    pub async fn start(chain: &ChainSource, data_dir: &Path) -> BenchResult<(Daemon, Duration)> {
        let (host, port, user, password) = bitcoind_rpc(chain)?;
        let listen = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let key_file = data_dir.with_extension("admin-key");
        let args = vec![
            "--data-dir".into(),
            data_dir.display().to_string(),
            "--network".into(),
            "regtest".into(),
            "--secrets".into(),
            "file".into(),
            "--listen".into(),
            listen.to_string(),
            "--admin-key-file".into(),
            key_file.display().to_string(),
            "--bitcoind-rpc".into(),
            format!("{host}:{port}"),
            "--bitcoind-rpc-user".into(),
            user.to_string(),
            "--bitcoind-rpc-password".into(),
            password.to_string(),
            "--log-level".into(),
            "warn".into(),
            "serve".into(),
        ];
        let binary = built("payaimld", "PAYAIML_BENCH_DAEMON")?;
        let mut daemon = Daemon {
            child: spawn(&binary, &args, data_dir)?,
            api: format!("http://{listen}"),
            key: String::new(),
            data_dir: data_dir.to_path_buf(),
            args,
            binary,
            http: reqwest::Client::builder().no_proxy().build()?,
        };
        let took = daemon.wait_ready().await?;
        daemon.key = std::fs::read_to_string(&key_file)?.trim().to_string();
        Ok((daemon, took))
    }

    /// `GET path` with the admin key, as JSON.
    pub async fn get_json(&self, path: &str) -> BenchResult<serde_json::Value> {
        Ok(self
            .http
            .get(format!("{}{path}", self.api))
            .bearer_auth(&self.key)
            .send()
            .await?
            .json()
            .await?)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops it as a service manager would (SIGTERM, then wait) and starts it again on the same
    /// data dir; returns the time from the new start to ready.
    pub async fn restart(&mut self) -> BenchResult<Duration> {
        self.stop()?;
        self.child = spawn(&self.binary, &self.args, &self.data_dir)?;
        self.wait_ready().await
    }

    pub fn stop(&mut self) -> BenchResult<()> {
        terminate(&mut self.child, "payaimld")
    }

    async fn wait_ready(&mut self) -> BenchResult<Duration> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Err(format!(
                    "payaimld exited while starting: {status}; log in {}",
                    log_path(&self.data_dir).display()
                )
                .into());
            }
            if let Ok(res) = self
                .http
                .get(format!("{}/v1/health", self.api))
                .send()
                .await
            {
                if let Ok(body) = res.json::<serde_json::Value>().await {
                    if body["status"] == "ok" {
                        return Ok(started.elapsed());
                    }
                }
            }
            if started.elapsed() > Duration::from_secs(120) {
                return Err("payaimld not ready within 120 s".into());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Sizes in MB of the app's database (`payaiml.sqlite*`) and of the node's own store
    /// (`ldk/`), each with its journal files.
    pub fn database_sizes(&self) -> (f64, f64) {
        let size = |paths: Vec<PathBuf>| -> f64 {
            paths
                .iter()
                .filter_map(|p| p.metadata().ok())
                .map(|m| m.len())
                .sum::<u64>() as f64
                / 1e6
        };
        let app: Vec<PathBuf> = walk(&self.data_dir)
            .into_iter()
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("payaiml.sqlite"))
            })
            .collect();
        (size(app), size(walk(&self.data_dir.join("ldk"))))
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// Stops `child` as a service manager or a logout would: SIGTERM, then waits up to 60 s (and
/// kills it after). `what` names it in the error.
pub fn terminate(child: &mut Child, what: &str) -> BenchResult<()> {
    if child.try_wait()?.is_some() {
        return Ok(());
    }
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait()?.is_none() {
        if Instant::now() > deadline {
            child.kill()?;
            return Err(format!("{what} did not stop within 60 s of SIGTERM").into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

fn log_path(data_dir: &Path) -> PathBuf {
    data_dir.with_extension("log")
}

fn spawn(binary: &Path, args: &[String], data_dir: &Path) -> BenchResult<Child> {
    let log = std::fs::File::create(log_path(data_dir))?;
    Ok(Command::new(binary)
        .args(args)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()?)
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
