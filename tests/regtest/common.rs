//! Shared helpers: a `payaimld` process on a temp data dir, and JSON over HTTP to it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub const BIN: &str = env!("CARGO_BIN_EXE_payaimld");

/// The child's stdout, line by line, read on a thread (the receiver ends when stdout closes).
pub fn stdout_lines(child: &mut Child) -> std::sync::mpsc::Receiver<String> {
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// A running `payaimld` (sandbox or serve). Dropping it stops it with SIGTERM (bitcoind and the
/// nodes stop with it), then SIGKILL if it hangs.
pub struct Daemon {
    child: Option<Child>,
    pub api: String,
    pub admin: Option<String>,
    stderr_log: PathBuf,
}

impl Daemon {
    /// `payaimld --data-dir DIR --listen 127.0.0.1:0 <args…>`, waiting for the `api:` line (and the
    /// `admin key:` line when `expect_admin`).
    pub fn start(data_dir: &Path, args: &[&str], expect_admin: bool) -> Daemon {
        Daemon::start_on(data_dir, "127.0.0.1:0", args, expect_admin)
    }

    /// [`Daemon::start`] listening on `listen` (a fixed port survives restarts).
    pub fn start_on(data_dir: &Path, listen: &str, args: &[&str], expect_admin: bool) -> Daemon {
        std::fs::create_dir_all(data_dir).expect("data dir");
        let stderr_log = data_dir.join(format!("payaimld-{}.log", std::process::id()));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&stderr_log)
            .expect("log file");
        // Beside the data dir, not in it: the keyring suite checks that no key is in a file there.
        let key_file = admin_key_file(data_dir);
        let mut child = Command::new(BIN);
        child
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--admin-key-file")
            .arg(&key_file)
            .args(["--listen", listen, "--log-level", "info"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        // Its own process group, which its bitcoind joins: `power_cut` kills them all at once.
        std::os::unix::process::CommandExt::process_group(&mut child, 0);
        let mut child = child.spawn().expect("spawn payaimld");
        let rx = stdout_lines(&mut child);
        let mut daemon = Daemon {
            child: Some(child),
            api: String::new(),
            admin: None,
            stderr_log,
        };
        let deadline = Instant::now() + Duration::from_secs(180);
        while daemon.api.is_empty() || (expect_admin && daemon.admin.is_none()) {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(url) = line.strip_prefix("api: ") {
                        daemon.api = url.trim().to_string();
                    } else if let Some(path) = line.strip_prefix("admin key file: ") {
                        let key = std::fs::read_to_string(path.trim()).expect("admin key file");
                        daemon.admin = Some(key.trim().to_string());
                    } else if line.starts_with("admin key: pk_") {
                        panic!("the admin key was printed to a pipe: {line}");
                    }
                }
                Err(e) => {
                    // How it ended says where to look: an exit code, a signal, or still running.
                    std::thread::sleep(Duration::from_millis(500));
                    let status = daemon.child.as_mut().map(|c| c.try_wait());
                    panic!(
                        "payaimld did not become ready ({e}; process: {status:?}); log:\n{}",
                        daemon.log_tail()
                    )
                }
            }
        }
        daemon
    }

    /// A sandbox on `data_dir`.
    pub fn sandbox(data_dir: &Path) -> Daemon {
        Daemon::start(data_dir, &["sandbox"], true)
    }

    pub fn admin(&self) -> &str {
        self.admin.as_deref().expect("admin key")
    }

    /// The daemon's log file (stderr of every start on this data dir by this test process).
    pub fn log_path(&self) -> &Path {
        &self.stderr_log
    }

    /// The last lines of the daemon's log, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.stderr_log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// Kills the daemon and everything it started (its bitcoind) at once with SIGKILL, as a
    /// power cut does to a shop's computer, and waits for the daemon.
    pub fn power_cut(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
        }
    }

    /// Kills the daemon alone with SIGKILL, as a crash would, and waits.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops with SIGTERM and waits; returns whether it exited successfully.
    pub fn stop(&mut self) -> bool {
        let Some(mut child) = self.child.take() else {
            return true;
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return status.success();
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.api)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Where the harness asks `payaimld` to write the admin key for `data_dir`.
pub fn admin_key_file(data_dir: &Path) -> PathBuf {
    data_dir.with_extension("admin-key")
}

/// Runs `payaimld --data-dir DIR <args>` to completion.
pub fn cli(data_dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .output()
        .expect("run payaimld")
}

/// A valid set of 24 recovery words (the BIP39 test vector of all-zero entropy).
pub const TEST_WORDS: &str = "abandon abandon abandon abandon abandon abandon abandon abandon \
    abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon \
    abandon abandon abandon abandon art";

/// `payaimld --data-dir DIR <args…> init --restore` with `words` on standard input.
pub fn restore_wallet(data_dir: &Path, args: &[&str], words: &str) -> std::process::Output {
    let mut full = args.to_vec();
    full.extend(["init", "--restore"]);
    cli_with_input(data_dir, &full, words)
}

/// Runs `payaimld --data-dir DIR <args>` to completion with `input` on standard input.
pub fn cli_with_input(data_dir: &Path, args: &[&str], input: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run payaimld");
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input.as_bytes())
            .expect("write standard input");
    }
    child.wait_with_output().expect("payaimld")
}

/// The secret printed as the last line by `keys create`.
pub fn create_key(data_dir: &Path, args: &[&str]) -> String {
    let mut full = vec!["keys", "create"];
    full.extend_from_slice(args);
    let out = cli(data_dir, &full);
    assert!(
        out.status.success(),
        "keys create failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    stdout
        .lines()
        .last()
        .expect("secret line")
        .trim()
        .to_string()
}

/// A blocking HTTP client; every test call is bounded by its timeout.
pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(90))
        .no_proxy()
        .build()
        .expect("client")
}

/// A JSON response.
#[derive(Debug)]
pub struct Res {
    pub status: u16,
    pub body: Value,
}

impl Res {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

pub fn call(method: &str, url: &str, key: Option<&str>, body: Option<&Value>) -> Res {
    let mut req = client().request(method.parse().expect("method"), url);
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    if let Some(body) = body {
        req = req
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let res = req.send().expect("request");
    let status = res.status().as_u16();
    let text = res.text().unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(json!({ "raw": text }));
    Res { status, body }
}

pub fn get(d: &Daemon, path: &str, key: &str) -> Res {
    call("GET", &d.url(path), Some(key), None)
}

pub fn post(d: &Daemon, path: &str, key: &str, body: Value) -> Res {
    call("POST", &d.url(path), Some(key), Some(&body))
}

/// Polls `f` until it returns Some, for up to `secs`.
pub fn wait_for<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Creates an invoice on the merchant and has the sandbox's customer pay it; returns the invoice.
pub fn pay_merchant(d: &Daemon, key: &str, amount: u64, description: &str) -> Value {
    let invoice = post(
        d,
        "/v1/lightning/invoices",
        key,
        json!({"amount": amount, "description": description}),
    );
    assert_eq!(invoice.status, 201, "{:?}", invoice.body);
    let paid = post(
        d,
        "/v1/sandbox/pay",
        key,
        json!({"payment_request": invoice.body["payment_request"]}),
    );
    assert_eq!(paid.status, 200, "{:?}", paid.body);
    assert_eq!(paid.body["status"], "succeeded", "{:?}", paid.body);
    invoice.body
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("payaiml-test-")
        .tempdir()
        .expect("tempdir")
}

/// The Python of the project's venv (`$PAYAIML_CACHE/venv`, made by scripts/setup.sh), which has
/// the Python packages the suites use.
pub fn venv_python() -> String {
    let cache = std::env::var("PAYAIML_CACHE").unwrap_or_else(|_| {
        format!(
            "{}/.cache/payaiml",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    let python = format!("{cache}/venv/bin/python3");
    assert!(
        std::path::Path::new(&python).exists(),
        "{python} is missing: run scripts/setup.sh (make test does)"
    );
    python
}

/// A regtest bitcoind of the test's own, for a node that is not the sandbox.
pub struct OwnBitcoind {
    child: std::process::Child,
    pub rpc_port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for OwnBitcoind {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

pub fn own_bitcoind() -> OwnBitcoind {
    let dir = tempdir();
    let rpc_port = free_port();
    let cache = std::env::var("PAYAIML_CACHE").unwrap_or_else(|_| {
        format!(
            "{}/.cache/payaiml",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    let child = std::process::Command::new(format!("{cache}/bitcoind/bin/bitcoind"))
        .arg("-regtest")
        .arg(format!("-datadir={}", dir.path().display()))
        .arg(format!("-rpcport={rpc_port}"))
        .args([
            "-rpcbind=127.0.0.1",
            "-rpcallowip=127.0.0.1",
            "-rpcuser=shop",
            "-rpcpassword=till",
        ])
        .args([
            "-listen=0",
            "-dnsseed=0",
            "-fixedseeds=0",
            "-fallbackfee=0.0002",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("bitcoind");
    let url = format!("http://127.0.0.1:{rpc_port}/");
    wait_for(30, "bitcoind's RPC", || {
        client()
            .post(&url)
            .basic_auth("shop", Some("till"))
            .body(r#"{"jsonrpc":"1.0","id":1,"method":"getblockcount","params":[]}"#)
            .send()
            .ok()
            .filter(|r| r.status().is_success())
    });
    OwnBitcoind {
        child,
        rpc_port,
        _dir: dir,
    }
}

impl OwnBitcoind {
    /// One JSON-RPC call (`wallet`: to that wallet's endpoint); the result, or a panic with the
    /// error.
    pub fn rpc(&self, wallet: Option<&str>, method: &str, params: Value) -> Value {
        let url = match wallet {
            Some(w) => format!("http://127.0.0.1:{}/wallet/{w}", self.rpc_port),
            None => format!("http://127.0.0.1:{}/", self.rpc_port),
        };
        let body =
            serde_json::json!({"jsonrpc": "1.0", "id": 1, "method": method, "params": params});
        let res: Value = client()
            .post(url)
            .basic_auth("shop", Some("till"))
            .json(&body)
            .send()
            .and_then(|r| r.json())
            .expect("bitcoind rpc");
        assert!(res["error"].is_null(), "{method}: {res}");
        res["result"].clone()
    }

    /// The args that point `payaimld serve` at it.
    pub fn serve_args(&self) -> Vec<String> {
        [
            "--bitcoind-rpc".to_string(),
            format!("127.0.0.1:{}", self.rpc_port),
            "--bitcoind-rpc-user".into(),
            "shop".into(),
            "--bitcoind-rpc-password".into(),
            "till".into(),
        ]
        .to_vec()
    }
}

/// The sandbox's customer pays `invoice` (as the API returned it); returns the invoice once
/// the merchant records it paid.
pub fn customer_pays(d: &Daemon, key: &str, invoice: &Value) -> Value {
    let id = invoice["id"].as_str().expect("invoice id").to_string();
    let paid = post(
        d,
        "/v1/sandbox/pay",
        key,
        serde_json::json!({"payment_request": invoice["payment_request"]}),
    );
    assert_eq!(paid.body["status"], "succeeded", "{paid:?}");
    wait_for(30, "the invoice paid", || {
        let i = get(d, &format!("/v1/lightning/invoices/{id}"), key).body;
        (i["status"] == "paid").then_some(i)
    })
}

/// The `payment.received` event of the invoice `invoice_id`, from the event log.
pub fn received_event(d: &Daemon, key: &str, invoice_id: &str) -> Value {
    let events = get(d, "/v1/events?after=0", key).body;
    events["data"]
        .as_array()
        .and_then(|all| {
            all.iter()
                .find(|e| e["event"] == "payment.received" && e["invoice_id"] == invoice_id)
        })
        .cloned()
        .unwrap_or_else(|| panic!("no payment.received for {invoice_id} in {events}"))
}

/// A BOLT11 invoice of `amount` sats from the sandbox's customer, for the merchant to pay.
pub fn customer_invoice(d: &Daemon, key: &str, amount: u64, description: &str) -> String {
    let res = post(
        d,
        "/v1/sandbox/invoice",
        key,
        json!({"amount": amount, "description": description}),
    );
    assert_eq!(res.status, 201, "{res:?}");
    res.body["payment_request"]
        .as_str()
        .expect("payment_request")
        .to_string()
}

/// A new key that may only make invoices (a point of sale's), made with `admin`.
pub fn receive_key(d: &Daemon, admin: &str) -> String {
    let res = post(
        d,
        "/v1/keys",
        admin,
        json!({"name": "Counter", "permissions": ["lightning:receive"]}),
    );
    assert_eq!(res.status, 201, "{res:?}");
    res.body["secret"].as_str().expect("secret").to_string()
}

/// The transactions CSV, as `key` downloads it.
pub fn transactions_csv(d: &Daemon, key: &str) -> String {
    client()
        .get(d.url("/v1/reports/transactions.csv"))
        .bearer_auth(key)
        .send()
        .expect("csv")
        .text()
        .expect("csv text")
}

/// The row of `csv` that names `id` (an invoice or a payment).
pub fn csv_row<'a>(csv: &'a str, id: &str) -> &'a str {
    csv.lines()
        .find(|l| l.contains(id))
        .unwrap_or_else(|| panic!("a row for {id} in\n{csv}"))
}
