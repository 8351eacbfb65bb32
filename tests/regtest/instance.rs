//! One instance per data dir: a second `payaimld` on the same dir is refused at once, and the
//! running one (its node and its sandbox bitcoind) carries on untouched.

use std::time::{Duration, Instant};

use crate::common::*;

#[test]
fn a_second_instance_on_the_same_data_dir_is_refused() {
    let dir = tempdir();
    let d = Daemon::sandbox(dir.path());
    let admin = d.admin().to_string();
    for args in [
        &["sandbox"][..],
        &[
            "--network",
            "regtest",
            "serve",
            "--esplora-url",
            "http://127.0.0.1:1",
        ][..],
    ] {
        let started = Instant::now();
        let mut full = vec!["--listen", "127.0.0.1:0"];
        full.extend_from_slice(args);
        let out = cli(dir.path(), &full);
        assert!(
            !out.status.success(),
            "{args:?} must not start beside the running one"
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("already running"), "{args:?}: {stderr}");
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "refused at once"
        );
    }
    // The first one still takes payments on its own bitcoind.
    pay_merchant(&d, &admin, 321, "still here");
    assert_eq!(get(&d, "/v1/health", &admin).body["status"], "ok");
}
