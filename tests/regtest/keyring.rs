//! Keys, webhook secrets and the node seed live in the real Secret Service; SQLite holds only a
//! hash of each key and nothing of the webhook secrets.

use std::process::Command;

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::common::*;

/// Every secret the Secret Service holds for our service, via the independent `secret-tool`.
fn keyring_items() -> String {
    let out = Command::new("secret-tool")
        .args(["search", "--all", "--unlock", "service", "PayAiML Merchant"])
        .output()
        .expect("secret-tool (Debian package libsecret-tools)");
    // secret-tool splits its listing between stdout and stderr; read both.
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn all_files_contain(dir: &std::path::Path, needle: &str) -> Vec<String> {
    let mut hits = Vec::new();
    for entry in walk(dir) {
        if let Ok(bytes) = std::fs::read(&entry) {
            if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                hits.push(entry.display().to_string());
            }
        }
    }
    hits
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
    }
    out
}

#[test]
fn keys_and_seed_live_in_the_secret_service() {
    let dir = tempdir();
    let mut d = Daemon::sandbox(dir.path());
    let created = post(
        &d,
        "/v1/keys",
        d.admin(),
        json!({"name": "shop", "permissions": ["lightning:read"]}),
    );
    assert_eq!(created.status, 201, "{created:?}");
    let secret = created.body["secret"].as_str().expect("secret").to_string();
    let id = created.body["id"].as_str().expect("id").to_string();

    let hook = post(
        &d,
        "/v1/webhooks",
        d.admin(),
        json!({"url": "http://127.0.0.1:9/webhook/lightning"}),
    );
    assert_eq!(hook.status, 201, "{hook:?}");
    let hook_secret = hook.body["secret"].as_str().expect("secret").to_string();
    let hook_id = hook.body["id"].as_str().expect("id").to_string();

    let items = keyring_items();
    assert!(items.contains(&secret), "the key is in the Secret Service");
    assert!(
        items.contains(&hook_secret) && items.contains(&format!("webhook/{hook_id}")),
        "the webhook's signing secret is in the Secret Service"
    );
    assert!(items.contains(&format!("api-key/{id}")));
    assert!(
        items.contains("/node-seed"),
        "the node seed is in the Secret Service"
    );

    let revealed = post(&d, &format!("/v1/keys/{id}/reveal"), d.admin(), json!({}));
    assert_eq!(revealed.body["secret"], secret.as_str());
    let revealed = post(
        &d,
        &format!("/v1/webhooks/{hook_id}/reveal"),
        d.admin(),
        json!({}),
    );
    assert_eq!(revealed.body["secret"], hook_secret.as_str());

    assert!(d.stop());
    // SQLite (and every other file in the data dir) holds the hash, never the key.
    assert!(
        all_files_contain(dir.path(), &secret).is_empty(),
        "the key is written nowhere on disk"
    );
    assert!(
        all_files_contain(dir.path(), &hook_secret).is_empty(),
        "the webhook secret is written nowhere on disk"
    );
    let hash = hex::encode(Sha256::digest(secret.as_bytes()));
    assert!(
        !all_files_contain(dir.path(), &hash).is_empty(),
        "its SHA-256 is in SQLite"
    );
    // secret-tool prints each secret as `secret = …`; the seed is the one of 24 words.
    let phrase = items
        .lines()
        .filter_map(|l| l.strip_prefix("secret = "))
        .find(|v| v.split_whitespace().count() == 24)
        .expect("the 24-word seed is in the Secret Service");
    assert!(
        all_files_contain(dir.path(), phrase).is_empty(),
        "the seed is written nowhere on disk"
    );

    // Revoking removes the key from the Secret Service.
    let d = Daemon::sandbox(dir.path());
    assert_eq!(
        call(
            "DELETE",
            &d.url(&format!("/v1/keys/{id}")),
            Some(d.admin()),
            None
        )
        .status,
        200
    );
    assert!(
        !keyring_items().contains(&secret),
        "a revoked key leaves the keyring"
    );
    // So does a deleted webhook's secret.
    let deleted = call(
        "DELETE",
        &d.url(&format!("/v1/webhooks/{hook_id}")),
        Some(d.admin()),
        None,
    );
    assert_eq!(deleted.status, 204, "{deleted:?}");
    assert!(!keyring_items().contains(&hook_secret));
}
