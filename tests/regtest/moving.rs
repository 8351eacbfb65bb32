//! Moving a wallet to another computer: a sandbox merchant with channels and history is exported
//! to one encrypted file and imported into a new data dir. The copy is the same node, its
//! channels work both ways, and its history, keys and webhooks are there; the old data dir
//! refuses to start and says why; a wrong passphrase changes nothing.

use serde_json::json;

use crate::common::*;

const PASSPHRASE: &str = "a counter by the window\n";

#[test]
fn a_moved_wallet_runs_from_its_new_data_dir_and_never_again_from_the_old_one() {
    let root = tempdir();
    let old = root.path().join("old");
    let new = root.path().join("new");
    let file = root.path().join("shop.payaiml");

    // A merchant with history: a sale, a payment out, a key and a webhook.
    let mut d = Daemon::sandbox(&old);
    let sale = pay_merchant(&d, d.admin(), 21_000, "coffee before the move");
    let bill = post(
        &d,
        "/v1/sandbox/invoice",
        d.admin(),
        json!({"amount": 3_000, "description": "supplier"}),
    )
    .body["payment_request"]
        .clone();
    let paid = post(
        &d,
        "/v1/lightning/payments",
        d.admin(),
        json!({ "invoice": bill }),
    );
    assert_eq!(paid.body["status"], "succeeded", "{:?}", paid.body);
    let key = post(
        &d,
        "/v1/keys",
        d.admin(),
        json!({"name": "till", "permissions": ["lightning:read", "lightning:receive"]}),
    );
    assert_eq!(key.status, 201, "{:?}", key.body);
    let till = key.body["secret"].as_str().expect("secret").to_string();
    let hook = post(
        &d,
        "/v1/webhooks",
        d.admin(),
        json!({"url": "http://127.0.0.1:9/hook", "events": ["payment.received"]}),
    );
    assert_eq!(hook.status, 201, "{:?}", hook.body);
    let hook_secret = hook.body["secret"].clone();
    let before = get(&d, "/v1/health", d.admin()).body;
    let channels = get(&d, "/v1/node", d.admin()).body["channels"].clone();
    let admin = d.admin().to_string();
    assert!(d.stop(), "stops cleanly");

    // Refused while it would be unsafe or wrong, with nothing changed.
    let short = cli_with_input(&old, &["export", "--sandbox", "x.payaiml"], "short\n");
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 10 characters"));

    let exported = cli_with_input(
        &old,
        &["export", "--sandbox", file.to_str().expect("path")],
        PASSPHRASE,
    );
    assert!(exported.status.success(), "{exported:?}");
    assert!(String::from_utf8_lossy(&exported.stdout).contains("retired"));
    let header = std::fs::read(&file).expect("file");
    assert!(
        header.starts_with(b"age-encryption.org/v1\n-> scrypt "),
        "an age file, encrypted to a passphrase"
    );

    // The old data dir never starts again, and says why.
    let again = cli(&old, &["--listen", "127.0.0.1:0", "sandbox"]);
    assert!(!again.status.success());
    let why = String::from_utf8_lossy(&again.stderr);
    assert!(
        why.contains("was moved to another computer") && why.contains("payaimld import"),
        "{why}"
    );

    // A wrong passphrase is refused and leaves nothing behind.
    let wrong = cli_with_input(
        &new,
        &["import", file.to_str().expect("path")],
        "not the passphrase\n",
    );
    assert!(!wrong.status.success());
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("passphrase does not open this file"),
        "{wrong:?}"
    );
    assert!(!new.exists(), "nothing written");

    let imported = cli_with_input(&new, &["import", file.to_str().expect("path")], PASSPHRASE);
    assert!(imported.status.success(), "{imported:?}");
    assert!(
        String::from_utf8_lossy(&imported.stdout).contains("sandbox"),
        "{imported:?}"
    );

    // The same node, with its history, keys, webhooks and channels.
    let d = Daemon::sandbox(&new);
    assert_eq!(d.admin(), admin, "the same admin key");
    let after = get(&d, "/v1/health", d.admin()).body;
    assert_eq!(after["node_id"], before["node_id"]);
    let invoice = get(
        &d,
        &format!(
            "/v1/lightning/invoices/{}",
            sale["id"].as_str().expect("id")
        ),
        d.admin(),
    );
    assert_eq!(
        (invoice.status, invoice.body["status"].as_str()),
        (200, Some("paid"))
    );
    let payments = get(&d, "/v1/lightning/payments", d.admin()).body;
    assert!(
        payments["data"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p["id"] == paid.body["id"])),
        "{payments}"
    );
    assert_eq!(
        get(&d, "/v1/lightning/invoices", &till).status,
        200,
        "the till's key works"
    );
    let revealed = post(
        &d,
        &format!(
            "/v1/webhooks/{}/reveal",
            hook.body["id"].as_str().expect("id")
        ),
        d.admin(),
        json!({}),
    );
    assert_eq!(revealed.body["secret"], hook_secret, "{:?}", revealed.body);
    let channel_ids = |c: &serde_json::Value| -> Vec<String> {
        let mut ids: Vec<String> = c
            .as_array()
            .map(|a| a.iter().map(|c| c["channel_id"].to_string()).collect())
            .unwrap_or_default();
        ids.sort();
        ids
    };
    assert_eq!(
        channel_ids(&get(&d, "/v1/node", d.admin()).body["channels"]),
        channel_ids(&channels)
    );
    // Channels usable both ways.
    wait_for(60, "a channel usable again", || {
        let node = get(&d, "/v1/node", d.admin()).body;
        node["channels"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["state"] == "usable"))
            .then_some(())
    });
    pay_merchant(&d, d.admin(), 5_000, "coffee after the move");
    let bill = post(
        &d,
        "/v1/sandbox/invoice",
        d.admin(),
        json!({"amount": 2_000, "description": "supplier again"}),
    )
    .body["payment_request"]
        .clone();
    let out = post(
        &d,
        "/v1/lightning/payments",
        d.admin(),
        json!({ "invoice": bill }),
    );
    assert_eq!(out.body["status"], "succeeded", "{:?}", out.body);
}
