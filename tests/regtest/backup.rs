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

fn copy_dir(from: &Path, to: &Path) {
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .expect("cp");
    assert!(status.success());
}

/// Runs the sandbox on `data` and waits for it to end by itself (up to 3 minutes); kills what
/// it leaves behind (its bitcoind) and returns its exit code and output.
fn run_until_exit(data: &Path, target: &Path) -> (Option<i32>, String) {
    use std::os::unix::process::CommandExt;
    let mut child = std::process::Command::new(BIN)
        .arg("--data-dir")
        .arg(data)
        .args(["--backup", target.to_str().expect("path")])
        .args(["--listen", "127.0.0.1:0", "--log-level", "info", "sandbox"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("spawn");
    let pid = child.id();
    let deadline = Instant::now() + std::time::Duration::from_secs(180);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = std::process::Command::new("kill")
                .args(["-9", &format!("-{pid}")])
                .status();
            panic!("payaimld did not end by itself");
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let _ = std::process::Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .status();
    let output = child.wait_with_output().expect("output");
    (
        status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

fn total_sats(d: &Daemon) -> u64 {
    let balance = get(d, "/v1/lightning/balance", d.admin()).body;
    balance["total"]
        .as_u64()
        .unwrap_or_else(|| panic!("balance: {balance}"))
}

#[test]
fn a_stale_backup_never_broadcasts_an_old_state_and_the_peers_close_pays_the_merchant() {
    let root = tempdir();
    let data = root.path().join("shop");
    let nas = root.path().join("nas");
    let old_copy = root.path().join("nas-last-week");

    let mut d = sandbox_with_backup(&data, &nas);
    pay_merchant(&d, d.admin(), 21_000, "before the snapshot");
    up_to_date(&d);
    assert!(d.stop());
    // The target is snapshotted (a NAS restored from last week's copy, a lagging mirror)...
    copy_dir(&nas, &old_copy);

    // ...and the channels move on after it: a sale and a payment out.
    let mut d = sandbox_with_backup(&data, &nas);
    pay_merchant(&d, d.admin(), 40_000, "after the snapshot");
    pay_customer(&d, 7_000, "after the snapshot");
    up_to_date(&d);
    let node_id = get(&d, "/v1/health", d.admin()).body["node_id"].clone();
    let total_before = total_sats(&d);
    assert!(d.stop());

    // The computer is lost; the only backup is the old snapshot.
    std::fs::remove_dir_all(data.join("ldk")).expect("lose the node's store");
    std::fs::remove_dir_all(&nas).expect("the target goes back to the snapshot");
    std::fs::rename(&old_copy, &nas).expect("snapshot");

    // The restored node meets its peer, which proves the state old: the node stops at once, sends
    // and broadcasts nothing, and says what to do.
    let (code, output) = run_until_exit(&data, &nas);
    assert_eq!(code, Some(75), "{output}");
    assert!(output.contains("channel state is behind"), "{output}");
    assert!(output.contains("Nothing was sent or broadcast"), "{output}");

    // Started again, it sets that state aside and runs; health says what it waits for.
    let d = sandbox_with_backup(&data, &nas);
    let health = get(&d, "/v1/health", d.admin()).body;
    assert_eq!(health["node_id"], node_id);
    assert_eq!(
        health["recovery"]["state"], "waiting_for_closes",
        "{health}"
    );
    let waiting = health["recovery"]["channels"]
        .as_array()
        .map_or(0, Vec::len);
    assert!(waiting >= 1, "{health}");
    // The peer closes those channels with its own latest state; after 6 confirmations the node
    // claims the merchant's outputs, which reach the on-chain wallet.
    let started = Instant::now();
    let mut last = Value::Null;
    wait_for(240, "the recovery to end", || {
        post(&d, "/v1/sandbox/mine", d.admin(), json!({"blocks": 2}));
        std::thread::sleep(std::time::Duration::from_millis(500));
        let recovery = get(&d, "/v1/health", d.admin()).body["recovery"].clone();
        if recovery.is_null() {
            return Some(());
        }
        last = recovery;
        None
    });
    // It went through both steps: every channel set aside was closed by the peer, then claimed.
    assert_eq!(last["state"], "claiming", "{last}");
    assert_eq!(last["closed"], last["channels"], "{last}");
    // Nothing was taken as a penalty (a broadcast of the old state would have lost the whole
    // channel): the merchant holds what it held before the loss, less on-chain fees.
    wait_for(60, "the claimed outputs in the wallet", || {
        post(&d, "/v1/sandbox/mine", d.admin(), json!({"blocks": 1}));
        let balance = get(&d, "/v1/lightning/balance", d.admin()).body;
        (balance["closing"]["total"] == 0).then_some(())
    });
    let total_after = total_sats(&d);
    eprintln!(
        "stale restore: {waiting} channels closed by the peer and claimed in {:.1?}; {total_before} sat before, {total_after} after",
        started.elapsed()
    );
    assert!(
        total_after + 50_000 >= total_before,
        "{total_before} before, {total_after} after: {}",
        get(&d, "/v1/lightning/balance", d.admin()).body
    );
}

#[test]
fn a_vss_server_backs_the_node_up_through_an_outage_and_brings_it_back() {
    let mut vss = crate::vss_server::VssServer::start();
    let root = tempdir();
    let data = root.path().join("shop");
    let url = vss.url();
    let start = |data: &Path| Daemon::start(data, &["--backup", &url, "sandbox"], true);

    let mut d = start(&data);
    let sale = pay_merchant(&d, d.admin(), 21_000, "coffee, on VSS");
    pay_customer(&d, 3_000, "supplier, on VSS");
    let backup = up_to_date(&d);
    assert_eq!(backup["target"], url, "{backup}");

    // The server goes away mid-day: the till goes on, the gap shows, nothing waits on it.
    vss.stop_server();
    let started = Instant::now();
    let during = pay_merchant(&d, d.admin(), 4_000, "while VSS is away");
    let took = started.elapsed();
    let behind = wait_for(30, "the gap to show", || {
        let b = backup_of(&d);
        (b["state"] == "behind" && b["last_error"].is_string()).then_some(b)
    });
    assert!(
        behind["pending_changes"].as_u64().unwrap_or(0) > 0,
        "{behind}"
    );
    // Back: it catches up by itself.
    vss.start_server();
    up_to_date(&d);
    let lightning = lightning_sats(&d);
    assert!(d.stop());

    // The node's store is lost; the next start brings it back from the server.
    std::fs::remove_dir_all(data.join("ldk")).expect("lose the node's store");
    let d = start(&data);
    let log = std::fs::read_to_string(d.log_path()).expect("log");
    assert!(log.contains("brought the node's channel state back from the backup"));
    wait_for(60, "the same channels and balance", || {
        (lightning_sats(&d) == lightning).then_some(())
    });
    for invoice in [&sale, &during] {
        let id = invoice["id"].as_str().expect("id");
        assert_eq!(
            get(&d, &format!("/v1/lightning/invoices/{id}"), d.admin()).body["status"],
            "paid"
        );
    }
    pay_merchant(&d, d.admin(), 5_000, "after the restore from VSS");
    pay_customer(&d, 1_000, "after the restore from VSS");
    up_to_date(&d);
    eprintln!("vss: a sale with the server away took {took:.1?}");
}

/// A real node (not the sandbox) on a new computer: `init --restore --backup TARGET` refuses a
/// target without this wallet's backup and makes nothing; with the right one, the first start
/// brings the node back, and with it what the words alone cannot: the on-chain wallet's state
/// (on a bitcoind chain source a words-only restore does not find earlier funds; the `setup`
/// suite shows it).
#[test]
fn words_and_backup_bring_a_real_node_back_on_a_new_computer() {
    let bitcoind = own_bitcoind();
    let chain: Vec<String> = bitcoind.serve_args();
    bitcoind.rpc(None, "createwallet", json!(["miner"]));
    let miner = bitcoind.rpc(Some("miner"), "getnewaddress", json!([]));
    bitcoind.rpc(None, "generatetoaddress", json!([101, miner]));
    let root = tempdir();
    let nas = root.path().join("nas");
    let nas_arg = nas.to_str().expect("path").to_string();

    // The first computer: restored from its words alone, backed up from its first start.
    let first = root.path().join("first");
    assert!(
        restore_wallet(&first, &["--network", "regtest"], TEST_WORDS)
            .status
            .success()
    );
    let mut serve: Vec<&str> = vec!["--network", "regtest", "--backup", &nas_arg, "serve"];
    serve.extend(chain.iter().map(String::as_str));
    let mut d = Daemon::start(&first, &serve, true);
    wait_for(60, "the node running", || {
        (get(&d, "/v1/health", d.admin()).body["node"]["state"] == "running").then_some(())
    });
    let address = post(&d, "/v1/node/address", d.admin(), json!({})).body["address"]
        .as_str()
        .expect("address")
        .to_string();
    bitcoind.rpc(Some("miner"), "sendtoaddress", json!([address, 0.25]));
    bitcoind.rpc(None, "generatetoaddress", json!([1, miner]));
    let onchain = |d: &Daemon| {
        get(d, "/v1/lightning/balance", d.admin()).body["onchain"]["confirmed"].as_u64()
    };
    let deadline = Instant::now() + std::time::Duration::from_secs(120);
    while onchain(&d) != Some(25_000_000) {
        assert!(
            Instant::now() < deadline,
            "the deposit was not seen: balance {}, health {}, log:\n{}",
            get(&d, "/v1/lightning/balance", d.admin()).body,
            get(&d, "/v1/health", d.admin()).body,
            d.log_tail()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    up_to_date(&d);
    let node_id = get(&d, "/v1/health", d.admin()).body["node_id"].clone();
    assert!(d.stop());

    // A target without this wallet's backup: refused, and nothing is made.
    let wrong = root.path().join("wrong");
    let empty = root.path().join("empty-usb");
    let refused = restore_wallet(
        &wrong,
        &[
            "--network",
            "regtest",
            "--backup",
            empty.to_str().expect("path"),
        ],
        TEST_WORDS,
    );
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains("holds no backup for these recovery words"),
        "{refused:?}"
    );
    assert!(!wrong.join("payaiml.sqlite").exists(), "nothing made");

    // The new computer: the words and the backup. The target is kept for every later start.
    let second = root.path().join("second");
    let restored = restore_wallet(
        &second,
        &["--network", "regtest", "--backup", &nas_arg],
        TEST_WORDS,
    );
    assert!(restored.status.success(), "{restored:?}");
    assert!(
        String::from_utf8_lossy(&restored.stdout).contains("with the shop's data from the backup")
    );
    let mut serve: Vec<&str> = vec!["--network", "regtest", "serve"];
    serve.extend(chain.iter().map(String::as_str));
    let d = Daemon::start(&second, &serve, true);
    let health = wait_for(60, "the restored node running", || {
        let h = get(&d, "/v1/health", d.admin()).body;
        (h["node"]["state"] == "running").then_some(h)
    });
    assert_eq!(health["node_id"], node_id, "the same node");
    assert_eq!(health["backup"]["target"], nas_arg.as_str(), "{health}");
    wait_for(60, "the on-chain funds, found", || {
        (onchain(&d) == Some(25_000_000)).then_some(())
    });
    let log = std::fs::read_to_string(d.log_path()).expect("log");
    assert!(log.contains("brought the node's channel state back from the backup"));
}

/// A second real node on the same chain, the shop's peer (a supplier, a regular customer): it
/// listens for Lightning on loopback, has on-chain funds for its channels' anchors, and pays and
/// is paid through its own API.
struct Peer {
    daemon: Daemon,
    node_id: String,
    address: String,
}

fn start_peer(root: &Path, bitcoind: &OwnBitcoind, miner: &str) -> Peer {
    const PEER_WORDS: &str =
        "legal winner thank year wave sausage worth useful legal winner thank yellow";
    let dir = root.join("peer");
    assert!(restore_wallet(&dir, &["--network", "regtest"], PEER_WORDS)
        .status
        .success());
    let address = format!("127.0.0.1:{}", free_port());
    let mut args: Vec<String> = ["--network", "regtest", "--ln-listen", &address, "serve"]
        .map(str::to_string)
        .to_vec();
    args.extend(bitcoind.serve_args());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let daemon = Daemon::start(&dir, &args, true);
    fund(&daemon, bitcoind, miner, 0.1);
    let node_id = get(&daemon, "/v1/health", daemon.admin()).body["node_id"]
        .as_str()
        .expect("node id")
        .to_string();
    Peer {
        daemon,
        node_id,
        address,
    }
}

/// Sends `btc` to the node's wallet, mines it, and waits until the node sees it confirmed.
fn fund(d: &Daemon, bitcoind: &OwnBitcoind, miner: &str, btc: f64) {
    wait_for(60, "the node running", || {
        (get(d, "/v1/health", d.admin()).body["node"]["state"] == "running").then_some(())
    });
    let address = post(d, "/v1/node/address", d.admin(), json!({})).body["address"]
        .as_str()
        .expect("address")
        .to_string();
    bitcoind.rpc(Some("miner"), "sendtoaddress", json!([address, btc]));
    bitcoind.rpc(None, "generatetoaddress", json!([1, miner]));
    let sats = (btc * 100_000_000.0).round() as u64;
    wait_for(120, "the deposit, confirmed", || {
        let balance = get(d, "/v1/lightning/balance", d.admin()).body;
        (balance["onchain"]["confirmed"].as_u64() >= Some(sats)).then_some(())
    });
}

/// `payer` pays `payee`'s new invoice of `amount` sats; returns the invoice, once paid.
fn pays(payer: &Daemon, payee: &Daemon, amount: u64, description: &str) -> Value {
    let invoice = post(
        payee,
        "/v1/lightning/invoices",
        payee.admin(),
        json!({"amount": amount, "description": description}),
    );
    assert_eq!(invoice.status, 201, "{invoice:?}");
    let paid = post(
        payer,
        "/v1/lightning/payments",
        payer.admin(),
        json!({"invoice": invoice.body["payment_request"]}),
    );
    assert_eq!(paid.body["status"], "succeeded", "{paid:?}");
    let id = invoice.body["id"].as_str().expect("id").to_string();
    wait_for(30, "the invoice paid", || {
        let i = get(
            payee,
            &format!("/v1/lightning/invoices/{id}"),
            payee.admin(),
        )
        .body;
        (i["status"] == "paid").then_some(i)
    })
}

fn usable_channels(d: &Daemon) -> Vec<String> {
    get(d, "/v1/node", d.admin()).body["channels"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["state"] == "usable")
        .filter_map(|c| c["channel_id"].as_str().map(str::to_string))
        .collect()
}

/// Every item of a list, as `key` sees it (the lists here stay under one page).
fn list(d: &Daemon, path: &str) -> Vec<Value> {
    get(d, path, d.admin()).body["data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// (a) The whole computer is lost. On a new one, the recovery words and the VSS server bring back
/// everything: the same node with its channel open and usable both ways, the balances, the whole
/// history, the API keys with the same secrets (so the shop's software keeps working), webhooks
/// with theirs, the catalog and the settings. The server runs as a merchant would run it: in JWT
/// mode, given the public key that `payaimld backup-key` prints (from the words: the restored
/// wallet signs with the same key).
#[test]
fn the_whole_shop_comes_back_on_a_new_computer_from_words_and_vss() {
    let root = tempdir();
    let first = first_computer(root.path());
    let key = cli(&first, &["--network", "regtest", "backup-key"]);
    assert!(key.status.success(), "{key:?}");
    let pem = String::from_utf8_lossy(&key.stdout).to_string();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{pem}");
    let vss = crate::vss_server::VssServer::start_with_jwt(&pem);
    let url = vss.url();
    // Without this wallet's JWT, the server serves nothing.
    let anonymous = client()
        .post(format!("{url}/listKeyVersions"))
        .body(Vec::<u8>::new())
        .send()
        .expect("vss");
    assert_eq!(anonymous.status().as_u16(), 401, "{anonymous:?}");
    let backup = ["--backup", url.as_str(), "--backup-jwt"];
    the_whole_shop_comes_back(root.path(), &first, &backup, &url, "VSS");
    drop(vss);
}

/// (b) The same with a folder on another device (a NAS mount) as the target.
#[test]
fn the_whole_shop_comes_back_on_a_new_computer_from_words_and_a_folder() {
    let root = tempdir();
    let first = first_computer(root.path());
    let nas = root.path().join("nas");
    let nas = nas.to_str().expect("path");
    the_whole_shop_comes_back(root.path(), &first, &["--backup", nas], nas, "folder");
}

/// The first computer's data folder in `root`, with a regtest wallet made from the test words.
fn first_computer(root: &Path) -> std::path::PathBuf {
    let first = root.join("first");
    let made = restore_wallet(&first, &["--network", "regtest"], TEST_WORDS);
    assert!(made.status.success(), "{made:?}");
    first
}

/// The shop on `first` (a wallet made from the test words), backed up with `backup_args`,
/// is lost with its data folder; on a new one, `init --restore` with the same flags brings it all
/// back. `target` is how health names the target.
fn the_whole_shop_comes_back(
    root: &Path,
    first: &Path,
    backup_args: &[&str],
    target: &str,
    kind: &str,
) {
    let bitcoind = own_bitcoind();
    bitcoind.rpc(None, "createwallet", json!(["miner"]));
    let miner = bitcoind.rpc(Some("miner"), "getnewaddress", json!([]));
    let miner = miner.as_str().expect("address").to_string();
    bitcoind.rpc(None, "generatetoaddress", json!([101, miner]));
    let peer = start_peer(root, &bitcoind, &miner);

    // The first computer, backed up from its first start.
    let mut serve: Vec<String> = ["--network", "regtest"].map(str::to_string).to_vec();
    serve.extend(backup_args.iter().map(|a| a.to_string()));
    serve.push("serve".into());
    serve.extend(bitcoind.serve_args());
    let serve: Vec<&str> = serve.iter().map(String::as_str).collect();
    let mut shop = Daemon::start(first, &serve, true);
    fund(&shop, &bitcoind, &miner, 0.25);
    let opened = post(
        &shop,
        "/v1/node/channels",
        shop.admin(),
        json!({"node_id": peer.node_id, "address": peer.address, "amount": 1_000_000, "push_amount": 300_000}),
    );
    assert_eq!(opened.status, 201, "{opened:?}");
    let channel = wait_for(120, "the channel usable", || {
        bitcoind.rpc(None, "generatetoaddress", json!([1, miner]));
        std::thread::sleep(std::time::Duration::from_millis(500));
        usable_channels(&shop).pop()
    });
    wait_for(60, "the peer to see it usable", || {
        usable_channels(&peer.daemon)
            .contains(&channel)
            .then_some(())
    });

    // A day at the shop: a sale, a payment to the supplier, a point of sale's key, a webhook, the
    // catalog, a setting.
    let sale = pays(&peer.daemon, &shop, 21_000, "a sale before the loss");
    let bill = pays(&shop, &peer.daemon, 5_000, "the supplier, before the loss");
    let pos_key = receive_key(&shop, shop.admin());
    let hook = post(
        &shop,
        "/v1/webhooks",
        shop.admin(),
        json!({"url": "http://127.0.0.1:9/shop-hook", "events": ["payment.received"]}),
    );
    assert_eq!(hook.status, 201, "{hook:?}");
    let item = post(
        &shop,
        "/v1/catalog/items",
        shop.admin(),
        json!({"name": "Espresso", "price": "2500", "category": "Drinks"}),
    );
    assert_eq!(item.status, 201, "{item:?}");
    let backup = up_to_date(&shop);
    assert_eq!(backup["shop_data"]["state"], "up_to_date", "{backup}");
    assert_eq!(backup["channel_state"]["state"], "up_to_date", "{backup}");
    let health = get(&shop, "/v1/health", shop.admin()).body;
    let lightning = lightning_sats(&shop);
    let invoices = list(&shop, "/v1/lightning/invoices?limit=100");
    let payments = list(&shop, "/v1/lightning/payments?limit=100");
    let events = list(&shop, "/v1/events?limit=1000").len();
    // Each key's record, without when it was last used (which the next use moves on).
    let key_records = |d: &Daemon| -> Vec<Value> {
        list(d, "/v1/keys")
            .into_iter()
            .map(|mut k| {
                k.as_object_mut().map(|k| k.remove("last_used_at"));
                k
            })
            .collect()
    };
    let keys = key_records(&shop);
    let admin = shop.admin().to_string();
    assert!(shop.stop());

    // The computer is gone: its data folder, its secret store entries with it.
    std::fs::remove_dir_all(first).expect("lose the computer");
    let _ = std::fs::remove_file(admin_key_file(first));

    // A new computer: the words and the backup.
    let started = Instant::now();
    let second = root.join("second");
    let mut args = vec!["--network", "regtest"];
    args.extend(backup_args);
    let restored = restore_wallet(&second, &args, TEST_WORDS);
    assert!(restored.status.success(), "{restored:?}");
    let said = String::from_utf8_lossy(&restored.stdout).to_string();
    assert!(
        said.contains("with the shop's data from the backup"),
        "{said}"
    );
    let init_took = started.elapsed();
    let mut serve: Vec<String> = ["--network", "regtest", "serve"]
        .map(str::to_string)
        .to_vec();
    serve.extend(bitcoind.serve_args());
    let serve: Vec<&str> = serve.iter().map(String::as_str).collect();
    let shop = Daemon::start(&second, &serve, true);
    wait_for(120, "the same channel usable again", || {
        (usable_channels(&shop) == vec![channel.clone()]).then_some(())
    });
    let restore_took = started.elapsed();

    let after = get(&shop, "/v1/health", shop.admin()).body;
    assert_eq!(after["node_id"], health["node_id"], "the same node");
    assert_eq!(after["backup"]["target"], target, "{after}");
    assert_eq!(shop.admin(), admin, "the same admin key");
    assert_eq!(lightning_sats(&shop), lightning, "the same channel balance");
    assert_eq!(list(&shop, "/v1/lightning/invoices?limit=100"), invoices);
    assert_eq!(list(&shop, "/v1/lightning/payments?limit=100"), payments);
    assert!(list(&shop, "/v1/events?limit=1000").len() >= events);
    assert_eq!(key_records(&shop), keys, "the keys' records");
    // The shop's software keeps working with the secrets it has.
    let made = post(
        &shop,
        "/v1/lightning/invoices",
        &pos_key,
        json!({"amount": 1_000, "description": "the point of sale, after the restore"}),
    );
    assert_eq!(made.status, 201, "the POS key works: {made:?}");
    let hook_id = hook.body["id"].as_str().expect("id");
    let revealed = post(
        &shop,
        &format!("/v1/webhooks/{hook_id}/reveal"),
        shop.admin(),
        json!({}),
    );
    assert_eq!(revealed.body["secret"], hook.body["secret"], "{revealed:?}");
    let items = list(&shop, "/v1/catalog/items");
    assert!(
        items.iter().any(|i| i["id"] == item.body["id"]),
        "{items:?}"
    );
    assert!(
        invoices
            .iter()
            .any(|i| i["id"] == sale["id"] && i["status"] == "paid"),
        "the sale, paid: {invoices:?}"
    );
    assert!(
        payments
            .iter()
            .any(|p| p["payment_hash"] == bill["payment_hash"] && p["status"] == "succeeded"),
        "the supplier's bill, paid: {payments:?}"
    );

    // The same channel, both ways.
    let again = pays(&peer.daemon, &shop, 4_000, "a sale after the restore");
    pays(
        &shop,
        &peer.daemon,
        1_000,
        "the supplier, after the restore",
    );
    assert_ne!(again["id"], sale["id"]);
    up_to_date(&shop);
    eprintln!(
        "full restore ({kind}): init --restore {init_took:.1?}, words + backup to the channel usable {restore_took:.1?}; \
         back: {} invoices, {} payments, {} keys, {events} events, 1 webhook, 1 catalog item, {} sat spendable",
        invoices.len(),
        payments.len(),
        keys.len(),
        lightning.0
    );
}
