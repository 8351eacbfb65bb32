//! Networks other than regtest, a chain source behind the node, and secret-store choices, without
//! any traffic off the machine.

use std::time::Duration;

use serde_json::json;

use crate::common::*;

/// A port on 127.0.0.1 with nothing listening.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

#[test]
fn unreachable_chain_source_is_reported_not_hung() {
    let dir = tempdir();
    let esplora = format!("http://127.0.0.1:{}/api", closed_port());
    let made = restore_wallet(dir.path(), &["--network", "signet"], TEST_WORDS);
    assert!(made.status.success(), "{made:?}");
    let mut d = Daemon::start(
        dir.path(),
        &["--network", "signet", "serve", "--esplora-url", &esplora],
        true,
    );
    let health = wait_for(60, "health to report the failed start", || {
        let h = call("GET", &d.url("/v1/health"), None, None);
        (h.body["node"]["state"] == "failed").then_some(h)
    });
    assert_eq!(health.status, 200);
    assert_eq!(health.body["status"], "degraded");
    assert_eq!(health.body["network"], "signet");
    assert_eq!(health.body["synced"], false);
    let error = health.body["node"]["error"].as_str().expect("error");
    assert!(
        error.contains("chain source"),
        "the reason names the chain source: {error}"
    );
    assert!(health.body["node"]["chain_source"]
        .as_str()
        .is_some_and(|s| s.contains(&esplora)));
    assert!(health.body["node"]["retry_at"].is_string());

    let res = post(
        &d,
        "/v1/lightning/invoices",
        d.admin(),
        json!({"amount": 1000, "description": "x"}),
    );
    assert_eq!((res.status, res.code()), (503, "node_not_ready"), "{res:?}");
    assert!(res.body["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("chain source")));
    assert_eq!(
        get(&d, "/v1/keys", d.admin()).status,
        200,
        "keys work without the node"
    );
    let started = std::time::Instant::now();
    assert!(d.stop(), "stops cleanly; log:\n{}", d.log_tail());
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "no hang on shutdown"
    );
    let log = std::fs::read_to_string(walk_log(dir.path())).unwrap_or_default();
    assert!(log.contains("did not start"), "the log says why");
    assert!(!log.contains(d.admin()), "no secrets in the log");
}

fn walk_log(dir: &std::path::Path) -> std::path::PathBuf {
    std::fs::read_dir(dir)
        .expect("dir")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "log"))
        .expect("log file")
}

#[test]
fn missing_keyring_names_the_file_flag() {
    let dir = tempdir();
    let out = std::process::Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.path())
        .args([
            "--network",
            "signet",
            "--listen",
            "127.0.0.1:0",
            "serve",
            "--esplora-url",
            "http://127.0.0.1:1",
        ])
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--secrets file"),
        "the error names the way out: {err}"
    );
}

#[test]
fn file_secrets_backend_is_private() {
    let dir = tempdir();
    let esplora = format!("http://127.0.0.1:{}", closed_port());
    let made = restore_wallet(
        dir.path(),
        &["--secrets", "file", "--network", "testnet"],
        TEST_WORDS,
    );
    assert!(made.status.success(), "{made:?}");
    let mut d = Daemon::start(
        dir.path(),
        &[
            "--secrets",
            "file",
            "--network",
            "testnet",
            "serve",
            "--esplora-url",
            &esplora,
        ],
        true,
    );
    let res = get(&d, "/v1/keys", d.admin());
    assert_eq!(res.status, 200);
    assert!(d.stop());
    let path = dir.path().join("secrets.json");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&path)
        .expect("secrets.json")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(text.contains("node-seed") && text.contains(d.admin()));
}

/// A chain source behind the block the node has already processed (a bitcoind that lost blocks
/// to a crash or a power cut comes back behind its tip) is named in the readiness check with both
/// heights and what to do, while the API keeps answering: the app must not look dead.
#[test]
fn a_chain_source_behind_the_node_is_named_not_dead() {
    let ahead = own_bitcoind();
    ahead.rpc(None, "createwallet", serde_json::json!(["miner"]));
    let miner = ahead.rpc(Some("miner"), "getnewaddress", serde_json::json!([]));
    ahead.rpc(None, "generatetoaddress", serde_json::json!([150, miner]));
    let dir = tempdir();
    let args = |b: &OwnBitcoind| {
        let mut args = vec!["--network".to_string(), "regtest".into(), "serve".into()];
        args.extend(b.serve_args());
        args
    };
    let first = args(&ahead);
    let first: Vec<&str> = first.iter().map(String::as_str).collect();
    let mut d = Daemon::start(dir.path(), &first, true);
    let admin = d.admin().to_string();
    wait_for(90, "the node synced to block 150", || {
        let h = get(&d, "/v1/health", &admin).body;
        (h["synced"] == true && h["block_height"] == 150).then_some(())
    });
    assert!(d.stop());

    // The same node on a bitcoind that never had those blocks: it stops at block 101.
    let behind = own_bitcoind();
    behind.rpc(None, "createwallet", serde_json::json!(["miner"]));
    let miner = behind.rpc(Some("miner"), "getnewaddress", serde_json::json!([]));
    behind.rpc(None, "generatetoaddress", serde_json::json!([101, miner]));
    let second = args(&behind);
    let second: Vec<&str> = second.iter().map(String::as_str).collect();
    let d = Daemon::start(dir.path(), &second, false);
    let check = wait_for(90, "the readiness naming the chain source behind", || {
        let r = get(&d, "/v1/node/readiness", &admin).body;
        r["checks"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["id"] == "chain"))
            .filter(|c| c["summary"].as_str().is_some_and(|s| s.contains("behind")))
            .cloned()
    });
    assert_eq!(check["status"], "attention", "{check}");
    let summary = check["summary"].as_str().unwrap_or_default();
    assert!(
        summary.contains("at block 101") && summary.contains("behind block 150"),
        "{summary}"
    );
    assert!(check["action"]
        .as_str()
        .is_some_and(|a| a.contains("-reindex")));
    assert_eq!(get(&d, "/v1/health", &admin).status, 200, "still answering");
}
