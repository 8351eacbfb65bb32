//! What a newcomer sees on `make run` (headless): a short start-up log with no errors, and the
//! API address and the admin key as the last lines, unmistakable. It used to be about 135 lines
//! before the address, 72 of them `ERROR` lines from the node failing to estimate fees on regtest.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// Log lines a start may take, at the default filter (today about 5).
const MAX_START_LINES: usize = 15;

#[test]
fn the_first_start_is_short_error_free_and_ends_with_the_address_and_key() {
    let dir = tempdir();
    let data = dir.path().join("data");
    let stderr_path = dir.path().join("stderr.log");
    let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
    let key_file = admin_key_file(&data);
    // As `make run` starts it: the default log filter (no --log-level, no PAYAIML_LOG).
    let mut child = Command::new(BIN)
        .arg("--data-dir")
        .arg(&data)
        .arg("--admin-key-file")
        .arg(&key_file)
        .args(["--listen", "127.0.0.1:0", "sandbox"])
        .env_remove("PAYAIML_LOG")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(stderr))
        .spawn()
        .expect("spawn payaimld");
    let rx = stdout_lines(&mut child);
    let mut lines: Vec<String> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(180);
    while !lines.iter().any(|l| l.starts_with("admin key file: ")) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => lines.push(line),
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "the sandbox did not print its address and key; stdout: {lines:?}; stderr:\n{}",
                    std::fs::read_to_string(&stderr_path).unwrap_or_default()
                );
            }
        }
    }
    // Whatever the app prints in the next moments would push the address and key up the screen.
    std::thread::sleep(Duration::from_secs(3));
    while let Ok(line) = rx.try_recv() {
        lines.push(line);
    }
    let log = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();

    let shown: Vec<&str> = lines
        .iter()
        .map(String::as_str)
        .filter(|l| !l.trim().is_empty())
        .collect();
    let n = shown.len();
    assert!(n >= 2, "stdout: {lines:?}");
    assert!(
        shown[n - 2].starts_with("api: http://127.0.0.1:"),
        "the address is not next to last: {lines:?}"
    );
    assert!(
        shown[n - 1].starts_with("admin key file: "),
        "the key is not last: {lines:?}"
    );
    // A blank line sets them apart.
    let api_at = lines
        .iter()
        .position(|l| l.starts_with("api: "))
        .expect("api line");
    assert!(
        api_at == 0 || lines[api_at - 1].trim().is_empty(),
        "no blank line before the address: {lines:?}"
    );
    let key = std::fs::read_to_string(&key_file).expect("admin key file");
    assert!(key.trim().starts_with("pk_"), "{key}");

    let log_lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    let errors: Vec<&&str> = log_lines.iter().filter(|l| l.contains("ERROR")).collect();
    assert!(
        errors.is_empty(),
        "{} ERROR lines at start:\n{}",
        errors.len(),
        log
    );
    assert!(
        log_lines.len() <= MAX_START_LINES,
        "{} log lines at start (at most {MAX_START_LINES}):\n{log}",
        log_lines.len()
    );
}
