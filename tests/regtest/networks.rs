//! Networks other than regtest, and secret-store choices, without any traffic off the machine.

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
