//! Continuous backup of the node's channel state: a sandbox merchant backs up to a folder (a NAS
//! mount, a USB drive) as it pays and is paid. Its node store is then lost, and the next start
//! brings the same node back from the backup, with its channels open and usable both ways. A
//! target that goes away mid-day never stops the till: the gap shows in health, and the backup
//! catches up by itself when the target returns.

use std::path::Path;
use std::time::Instant;

use serde_json::{json, Value};

use crate::common::*;

fn backup_of(d: &Daemon) -> Value {
    get(d, "/v1/health", d.admin()).body["backup"].clone()
}

fn up_to_date(d: &Daemon) -> Value {
    wait_for(60, "the backup to be up to date", || {
        let backup = backup_of(d);
        (backup["state"] == "up_to_date" && backup["pending_changes"] == 0).then_some(backup)
    })
}

fn sandbox_with_backup(data: &Path, target: &Path) -> Daemon {
    Daemon::start(
        data,
        &["--backup", target.to_str().expect("path"), "sandbox"],
        true,
    )
}

fn pay_customer(d: &Daemon, amount: u64, description: &str) -> Value {
    let bill = customer_invoice(d, d.admin(), amount, description);
    let paid = post(
        d,
        "/v1/lightning/payments",
        d.admin(),
        json!({ "invoice": bill }),
    );
    assert_eq!(paid.body["status"], "succeeded", "{:?}", paid.body);
    paid.body
}

/// What the node can send now, and its channels' ids: both come from the channels' state that
/// the backup carries. (Each channel's `balance`, from LDK's claimable-on-close figures, can lag a
/// payment settled just before a stop until the next start, backup or not.)
fn lightning_sats(d: &Daemon) -> (u64, Vec<String>) {
    let balance = get(d, "/v1/lightning/balance", d.admin()).body;
    let spendable = balance["lightning"]["spendable"]
        .as_u64()
        .unwrap_or_else(|| panic!("balance: {balance}"));
    let mut ids: Vec<String> = get(d, "/v1/node", d.admin()).body["channels"]
        .as_array()
        .map(|c| {
            c.iter()
                .filter_map(|c| c["channel_id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    (spendable, ids)
}

#[test]
fn a_lost_node_store_comes_back_from_the_folder_backup_with_its_channels() {
    let root = tempdir();
    let data = root.path().join("shop");
    let nas = root.path().join("nas");

    let mut d = sandbox_with_backup(&data, &nas);
    let sale = pay_merchant(&d, d.admin(), 21_000, "coffee, backed up");
    let sent = pay_customer(&d, 3_000, "supplier, backed up");
    let backup = up_to_date(&d);
    assert_eq!(backup["target"], nas.to_str().expect("path"), "{backup}");
    assert!(backup["last_backup_at"].is_string(), "{backup}");
    let before = get(&d, "/v1/health", d.admin()).body;
    let lightning = lightning_sats(&d);
    let admin = d.admin().to_string();
    assert!(d.stop(), "stops cleanly");

    // The disk loses the node's state: every channel's monitor, the channel manager, the wallet.
    std::fs::remove_dir_all(data.join("ldk")).expect("remove the node's store");

    let started = Instant::now();
    let d = sandbox_with_backup(&data, &nas);
    let restored_in = started.elapsed();
    let log = std::fs::read_to_string(d.log_path()).expect("log");
    assert!(
        log.contains("brought the node's channel state back from the backup"),
        "{}",
        d.log_tail()
    );
    let after = get(&d, "/v1/health", d.admin()).body;
    assert_eq!(after["node_id"], before["node_id"], "the same node");
    assert_eq!(d.admin(), admin);
    // The same channels, with what can be sent over them, once re-established with the peer.
    wait_for(60, "the same channels and balance", || {
        (lightning_sats(&d) == lightning).then_some(())
    });
    // Its channels work both ways: it is paid and it pays over them.
    let again = pay_merchant(&d, d.admin(), 5_000, "after the restore");
    let sent_again = pay_customer(&d, 1_000, "after the restore");
    assert_eq!(
        get(
            &d,
            &format!(
                "/v1/lightning/invoices/{}",
                sale["id"].as_str().expect("id")
            ),
            d.admin()
        )
        .body["status"],
        "paid"
    );
    assert_ne!(again["id"], sale["id"]);
    assert_ne!(sent_again["id"], sent["id"]);
    up_to_date(&d);
    eprintln!(
        "restore: {restored_in:.1?} from start to ready, {} channels with {} sat to send back",
        lightning.1.len(),
        lightning.0
    );
}

#[test]
fn a_backup_folder_that_goes_away_never_stops_the_till_and_catches_up() {
    let root = tempdir();
    let data = root.path().join("shop");
    let usb = root.path().join("usb");
    let parked = root.path().join("usb-unplugged");

    let mut d = sandbox_with_backup(&data, &usb);
    up_to_date(&d);
    // The drive is pulled: its folder is gone and a file stands in its place.
    std::fs::rename(&usb, &parked).expect("unplug");
    std::fs::write(&usb, b"not a folder").expect("block");
    let mut sales = Vec::new();
    for i in 0..3 {
        sales.push(pay_merchant(
            &d,
            d.admin(),
            2_000 + i,
            "while the drive is away",
        ));
    }
    pay_customer(&d, 500, "while the drive is away");
    let behind = wait_for(30, "the gap to show", || {
        let b = backup_of(&d);
        (b["state"] == "behind" && b["last_error"].is_string()).then_some(b)
    });
    assert!(behind["behind_since"].is_string(), "{behind}");
    assert!(
        behind["pending_changes"].as_u64().unwrap_or(0) > 0,
        "{behind}"
    );
    assert!(
        behind["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("backup folder")),
        "{behind}"
    );

    // Plugged back in: it catches up by itself, and nothing was lost meanwhile.
    std::fs::remove_file(&usb).expect("unblock");
    std::fs::rename(&parked, &usb).expect("plug back");
    let caught_up = up_to_date(&d);
    assert!(caught_up["behind_since"].is_null(), "{caught_up}");
    for sale in &sales {
        let id = sale["id"].as_str().expect("id");
        assert_eq!(
            get(&d, &format!("/v1/lightning/invoices/{id}"), d.admin()).body["status"],
            "paid"
        );
    }
    let lightning = lightning_sats(&d);
    assert!(d.stop());

    // What the backup caught up on is what a restore brings back.
    std::fs::remove_dir_all(data.join("ldk")).expect("lose the node's store");
    let d = sandbox_with_backup(&data, &usb);
    wait_for(60, "the same channel balance", || {
        (lightning_sats(&d) == lightning).then_some(())
    });
    pay_merchant(&d, d.admin(), 1_000, "after the drive came back");
}
