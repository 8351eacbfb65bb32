//! Nostr Wallet Connect against real parts: a relay from PyPI (`nostr-relay`, its own process
//! on loopback, SQLite-backed: it keeps NIP-47's events for a few minutes and replays them to a
//! new subscription, as many public relays do) and Alby's NWC client (`@getalby/sdk` from npm,
//! driven as a child process through tests/nwc/client.mjs). Nothing leaves 127.0.0.1.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::*;
use crate::rates::StandIn;

/// A `nostr-relay` on a loopback port, with its events in a SQLite file that survives a kill.
struct Relay {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
}

impl Relay {
    fn start(dir: &Path) -> Relay {
        let port = free_port();
        let mut relay = Relay {
            child: None,
            port,
            dir: dir.to_path_buf(),
        };
        relay.spawn();
        relay
    }

    fn url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    fn spawn(&mut self) {
        std::fs::create_dir_all(&self.dir).expect("relay dir");
        let config = self.dir.join("relay.yaml");
        // The package's own settings, on our port and file; the validators stay on (signatures
        // are checked, as on a public relay).
        std::fs::write(
            &config,
            format!(
                "DEBUG: false\nrelay_name: test relay\nstorage:\n  sqlalchemy.url: sqlite+aiosqlite:///{}/relay.sqlite3\n  num_concurrent_reqs: 10\n  num_concurrent_adds: 2\n  validators:\n    - nostr_relay.validators.is_not_too_large\n    - nostr_relay.validators.is_signed\n    - nostr_relay.validators.is_recent\ngunicorn:\n  bind: 127.0.0.1:{}\n  workers: 1\n  loglevel: warning\nauthentication:\n  enabled: false\nmessage_timeout: 1800\nsubscription_limit: 64\n",
                self.dir.display(),
                self.port
            ),
        )
        .expect("relay config");
        let python = venv_python();
        let bin = Path::new(&python).with_file_name("nostr-relay");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("relay.log"))
            .expect("relay log");
        let child = Command::new(bin)
            .arg("-c")
            .arg(&config)
            .args(["serve", "--use-uvicorn"])
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().expect("log")))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("nostr-relay (scripts/requirements.txt) must be installed");
        self.child = Some(child);
        let port = self.port;
        wait_for(30, "the relay to listen", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).ok()
        });
    }

    /// SIGKILL: no goodbye to its clients.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Alby's NWC client in a Node process.
struct App {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<Value>,
    next: u64,
    early: HashMap<u64, Value>,
    notifications: Vec<Value>,
}

impl App {
    fn start(uri: &str) -> App {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/nwc/client.mjs");
        let mut child = Command::new("node")
            .arg("--experimental-websocket")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node (scripts/setup.sh)");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    let _ = tx.send(v);
                }
            }
        });
        let mut app = App {
            child,
            stdin,
            lines,
            next: 0,
            early: HashMap::new(),
            notifications: Vec::new(),
        };
        let connected = app.call("connect", json!({"uri": uri}));
        assert!(connected.is_ok(), "{connected:?}");
        app
    }

    fn send(&mut self, op: &str, args: Value) -> u64 {
        self.next += 1;
        let mut command = args;
        command["id"] = json!(self.next);
        command["op"] = json!(op);
        writeln!(self.stdin, "{command}").expect("client stdin");
        self.next
    }

    /// Reads one line from the client within `deadline`: a notification is kept, an answer put
    /// aside by its id. False when the time is up.
    fn pump(&mut self, deadline: Instant) -> bool {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.lines.recv_timeout(left) {
            Ok(v) if v.get("notification").is_some() => self.notifications.push(v),
            Ok(v) => {
                let got = v["id"].as_u64().unwrap_or_default();
                self.early.insert(got, v);
            }
            Err(RecvTimeoutError::Timeout) => return false,
            Err(RecvTimeoutError::Disconnected) => panic!("the NWC client ended"),
        }
        true
    }

    fn wait(&mut self, id: u64, secs: u64) -> Result<Value, Value> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(v) = self.early.remove(&id) {
                return match v.get("ok") {
                    Some(ok) => Ok(ok.clone()),
                    None => Err(v["error"].clone()),
                };
            }
            assert!(self.pump(deadline), "the NWC client did not answer {id}");
        }
    }

    /// Runs one client method and returns its result, or the wallet's error `{code, message}`.
    fn call(&mut self, op: &str, args: Value) -> Result<Value, Value> {
        let id = self.send(op, args);
        self.wait(id, 100)
    }

    fn notification(&mut self, kind: &str, hash: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(n) = self.notifications.iter().find(|n| {
                n["notification"]["notification_type"] == kind
                    && n["notification"]["notification"]["payment_hash"] == hash
            }) {
                return n["notification"]["notification"].clone();
            }
            assert!(
                self.pump(deadline),
                "no {kind} notification for {hash}: {:?}",
                self.notifications
            );
        }
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn connect(d: &Daemon, admin: &str, body: Value) -> (String, String) {
    let made = post(d, "/v1/nwc/connections", admin, body);
    assert_eq!(made.status, 201, "{made:?}");
    assert!(made.body["qr_svg"]
        .as_str()
        .is_some_and(|s| s.contains("<svg")));
    (
        made.body["key"]["id"].as_str().expect("id").to_string(),
        made.body["uri"].as_str().expect("uri").to_string(),
    )
}

fn code(r: &Result<Value, Value>) -> &str {
    match r {
        Err(e) => e["code"].as_str().unwrap_or_default(),
        Ok(v) => panic!("expected an error, got {v}"),
    }
}

/// Alby's client makes an invoice that the customer pays, sees it settle (lookup, list, the
/// `payment_received` notification), pays within its budget once per invoice, is refused past
/// the budget and after revocation; a receive-only connection can never pay. Prices in EUR go
/// through the shop's rates.
#[test]
fn albys_client_receives_and_pays_through_a_local_relay() {
    let rates = StandIn::start();
    let dir = tempdir();
    let relay = Relay::start(&dir.path().join("relay"));
    let d = Daemon::start(
        &dir.path().join("shop"),
        &[
            "--rate-url",
            &rates.rate_urls(),
            "--rate-refresh",
            "1s",
            "sandbox",
        ],
        true,
    );
    let admin = d.admin().to_string();
    let set = call(
        "PATCH",
        &d.url("/v1/settings"),
        Some(&admin),
        Some(&json!({"currency": "EUR"})),
    );
    assert_eq!(set.status, 200, "{set:?}");

    // Refused with the field named: paying without a budget, a relay that is not a relay, none.
    for (body, field) in [
        (
            json!({"name": "x", "access": "pay", "relays": [relay.url()]}),
            "budget",
        ),
        (
            json!({"name": "x", "relays": ["https://relay.example"]}),
            "relays",
        ),
        (json!({"name": "x"}), "relays"),
        (
            json!({"name": "x", "access": "read", "budget": 5, "relays": [relay.url()]}),
            "budget",
        ),
    ] {
        let res = post(&d, "/v1/nwc/connections", &admin, body);
        assert_eq!(
            (res.status, res.body["error"]["field"].as_str()),
            (400, Some(field)),
            "{res:?}"
        );
    }
    let (pos_id, pos_uri) = connect(
        &d,
        &admin,
        json!({"name": "Phone POS", "access": "receive", "relays": [relay.url()]}),
    );
    let (shop_id, shop_uri) = connect(
        &d,
        &admin,
        json!({"name": "Web shop", "access": "pay", "budget": 3000, "relays": [relay.url()]}),
    );

    // A connection's key is not a bearer key to hand out: its app holds the URI.
    let reveal = post(&d, &format!("/v1/keys/{shop_id}/reveal"), &admin, json!({}));
    assert_eq!(
        (reveal.status, reveal.code()),
        (403, "key_protected"),
        "{reveal:?}"
    );

    // The receive-only app: its info event lists exactly what it may do.
    let mut pos = App::start(&pos_uri);
    let info = pos.call("info", json!({})).expect("info");
    assert_eq!(info["encryption"], "nip44_v2");
    assert_eq!(
        info["service"]["capabilities"],
        json!([
            "get_info",
            "make_invoice",
            "lookup_invoice",
            "list_transactions"
        ])
    );
    assert_eq!(
        info["service"]["notifications"],
        json!(["payment_received"])
    );
    assert_eq!(info["info"]["network"], "regtest");
    pos.call("subscribe", json!({})).expect("subscribe");

    // An invoice through the relay, paid by the customer: an ordinary invoice of that key.
    let made = pos
        .call(
            "make_invoice",
            json!({"amount": 21_000, "description": "Flat white", "expiry": 600}),
        )
        .expect("make_invoice");
    assert_eq!(
        (made["amount"].as_u64(), made["state"].as_str()),
        (Some(21_000), Some("pending"))
    );
    let hash = made["payment_hash"].as_str().expect("hash").to_string();
    let invoice_id = made["metadata"]["invoice_id"]
        .as_str()
        .expect("id")
        .to_string();
    let rest = get(&d, &format!("/v1/lightning/invoices/{invoice_id}"), &admin).body;
    assert_eq!(rest["payment_request"], made["invoice"]);
    assert_eq!(rest["description"], "Flat white");
    customer_pays(&d, &admin, &rest);
    let told = pos.notification("payment_received", &hash);
    assert_eq!(
        (told["state"].as_str(), told["amount"].as_u64()),
        (Some("settled"), Some(21_000))
    );
    let looked = pos
        .call("lookup_invoice", json!({"payment_hash": hash}))
        .expect("lookup");
    assert_eq!(looked["state"], "settled");
    assert!(looked["settled_at"].as_i64().is_some());
    let listed = pos.call("list_transactions", json!({})).expect("list");
    assert_eq!(listed["transactions"].as_array().map(Vec::len), Some(1));
    assert_eq!(listed["transactions"][0]["payment_hash"], json!(hash));
    received_event(&d, &admin, &invoice_id);
    assert!(
        transactions_csv(&d, &admin).contains(&invoice_id),
        "in the books"
    );

    // In the merchant's currency: converted at the shop's rate (60,000 EUR/BTC), half up. (The
    // client library checks `amount` itself, so the extension goes as a plain NIP-47 request.)
    let fiat = pos
        .call(
            "raw",
            json!({"method": "make_invoice", "params": {"fiat": {"amount": "12.50", "currency": "EUR"}, "description": "Lunch"}}),
        )
        .expect("fiat invoice");
    assert_eq!(fiat["amount"].as_u64(), Some(20_833_000), "{fiat}");
    assert_eq!(fiat["metadata"]["fiat"]["amount"], "12.50", "{fiat}");

    // What it may not do, and bad requests, get NIP-47 codes.
    let customer = customer_invoice(&d, &admin, 500, "refund me");
    assert_eq!(
        code(&pos.call("pay_invoice", json!({"invoice": customer}))),
        "RESTRICTED"
    );
    assert_eq!(code(&pos.call("get_balance", json!({}))), "RESTRICTED");
    let other = post(&d, "/v1/lightning/invoices", &admin, json!({"amount": 10})).body;
    assert_eq!(
        code(&pos.call(
            "lookup_invoice",
            json!({"payment_hash": other["payment_hash"]})
        )),
        "NOT_FOUND",
        "another key's invoice is not this connection's to read"
    );
    let odd = pos.call("make_invoice", json!({"amount": 1500}));
    assert_eq!(code(&odd), "OTHER");
    assert!(odd.unwrap_err()["message"]
        .as_str()
        .unwrap_or_default()
        .contains("whole sats"));
    assert_eq!(
        code(&pos.call("raw", json!({"method": "fly"}))),
        "NOT_IMPLEMENTED"
    );
    assert_eq!(
        code(&pos.call("raw", json!({"method": "lookup_invoice", "params": {}}))),
        "OTHER"
    );

    // The paying app: within its budget, once per invoice.
    let mut shop = App::start(&shop_uri);
    shop.call("subscribe", json!({})).expect("subscribe");
    let balance = shop.call("get_balance", json!({})).expect("balance");
    assert!(balance["balance"].as_u64().unwrap_or_default() > 1_000_000);
    let first = customer_invoice(&d, &admin, 1_000, "supplier");
    let paid = shop
        .call("pay_invoice", json!({"invoice": first}))
        .expect("paid");
    let preimage = paid["preimage"].as_str().expect("preimage").to_string();
    let sent_hash = post(
        &d,
        "/v1/lightning/decode",
        &admin,
        json!({"invoice": first}),
    )
    .body["payment_hash"]
        .as_str()
        .expect("hash")
        .to_string();
    let told = shop.notification("payment_sent", &sent_hash);
    assert_eq!(told["preimage"].as_str(), Some(preimage.as_str()));
    // The same invoice again (a client retrying with a new request): the first payment's
    // outcome, not a second payment.
    let again = shop
        .call("pay_invoice", json!({"invoice": first}))
        .expect("again");
    assert_eq!(again["preimage"].as_str(), Some(preimage.as_str()));
    let payments = get(&d, "/v1/lightning/payments", &admin).body;
    let same: Vec<&Value> = payments["data"]
        .as_array()
        .expect("payments")
        .iter()
        .filter(|p| p["payment_hash"] == json!(sent_hash))
        .collect();
    assert_eq!(same.len(), 1, "paid once: {payments}");
    // Past the daily budget (3,000 sats, 1,000 spent): refused before anything is sent.
    let big = customer_invoice(&d, &admin, 2_500, "too much");
    assert_eq!(
        code(&shop.call("pay_invoice", json!({"invoice": big}))),
        "QUOTA_EXCEEDED"
    );
    // Several at once: each answered on its own.
    let (a, b) = (
        customer_invoice(&d, &admin, 100, "a"),
        customer_invoice(&d, &admin, 100, "b"),
    );
    let multi = shop
        .call(
            "multi_pay_invoice",
            json!({"invoices": [{"id": "first", "invoice": a}, {"id": "second", "invoice": b}]}),
        )
        .expect("multi");
    assert_eq!(
        multi["invoices"].as_array().map(Vec::len),
        Some(2),
        "{multi}"
    );
    assert_eq!(multi["errors"].as_array().map(Vec::len), Some(0), "{multi}");
    let listed = shop
        .call("list_transactions", json!({"type": "outgoing"}))
        .expect("list");
    assert_eq!(
        listed["transactions"].as_array().map(Vec::len),
        Some(3),
        "{listed}"
    );

    let listed = get(&d, &format!("/v1/nwc/connections/{shop_id}"), &admin).body;
    assert!(
        listed["key"]["last_used_at"].is_string(),
        "last used: {listed}"
    );
    let health = get(&d, "/v1/health", &admin).body;
    assert_eq!(health["nwc"]["status"], "ok", "{health}");
    assert_eq!(health["nwc"]["connections"], 2, "{health}");

    // Revoked: the next request is refused, at once.
    let revoked = call(
        "DELETE",
        &d.url(&format!("/v1/nwc/connections/{shop_id}")),
        Some(&admin),
        None,
    );
    assert_eq!(revoked.status, 200, "{revoked:?}");
    let late = customer_invoice(&d, &admin, 10, "after revocation");
    let refused = shop.call("pay_invoice", json!({"invoice": late}));
    assert_eq!(code(&refused), "UNAUTHORIZED");
    assert_eq!(code(&shop.call("get_balance", json!({}))), "UNAUTHORIZED");
    let reveal = post(
        &d,
        &format!("/v1/nwc/connections/{shop_id}/reveal"),
        &admin,
        json!({}),
    );
    assert_eq!(reveal.status, 422, "{reveal:?}");
    // The receive-only one still works.
    assert!(pos.call("make_invoice", json!({"amount": 1000})).is_ok());
    let listed = get(&d, "/v1/nwc/connections", &admin).body;
    assert_eq!(listed["data"].as_array().map(Vec::len), Some(2));
    let _ = pos_id;
}

/// Two relays, one killed (SIGKILL) in the middle of a stream of requests and started again:
/// every request is answered, none twice, one invoice each; `/v1/health` says which relay is
/// down meanwhile. Then the wallet restarts and the relays replay the requests they kept: none
/// is worked on again.
#[test]
fn a_relay_killed_mid_traffic_loses_nothing_and_repeats_nothing() {
    let dir = tempdir();
    let mut a = Relay::start(&dir.path().join("relay-a"));
    let b = Relay::start(&dir.path().join("relay-b"));
    let data = dir.path().join("shop");
    let mut d = Daemon::start(&data, &["sandbox"], true);
    let admin = d.admin().to_string();
    let (id, uri) = connect(
        &d,
        &admin,
        json!({"name": "Tablet", "relays": [a.url(), b.url()]}),
    );
    let mut app = App::start(&uri);
    app.call(
        "watch_answers",
        json!({"relays": [a.url(), b.url()], "wallet": uri[22..86]}),
    )
    .expect("watch");
    wait_for(30, "both relays connected", || {
        (get(&d, "/v1/health", &admin).body["nwc"]["status"] == "ok").then_some(())
    });
    let total = 30;
    let mut degraded = None;
    for i in 0..total {
        if i == 10 {
            a.kill();
            degraded = Some(wait_for(30, "the health to say a relay is down", || {
                let h = get(&d, "/v1/health", &admin).body;
                (h["nwc"]["status"] == "degraded").then_some(h)
            }));
        }
        if i == 20 {
            a.spawn();
        }
        let made = app.call(
            "make_invoice",
            json!({"amount": 1000 * (i + 1), "description": format!("order-{i}")}),
        );
        assert!(made.is_ok(), "request {i}: {made:?}");
    }
    let degraded = degraded.expect("seen degraded");
    let down: Vec<&Value> = degraded["nwc"]["relays"]
        .as_array()
        .expect("relays")
        .iter()
        .filter(|r| r["connected"] == false)
        .collect();
    assert_eq!(down.len(), 1, "{degraded}");
    assert_eq!(down[0]["url"], json!(a.url()));
    assert!(down[0]["down_since"].is_string());
    wait_for(60, "relay A back (reconnect with backoff)", || {
        (get(&d, "/v1/health", &admin).body["nwc"]["status"] == "ok").then_some(())
    });

    let count_invoices = |d: &Daemon| {
        let page = get(d, "/v1/lightning/invoices?q=order-&limit=100", &admin).body;
        page["data"].as_array().map(Vec::len).unwrap_or_default()
    };
    assert_eq!(
        count_invoices(&d),
        total as usize,
        "one invoice per request"
    );
    let answers = |app: &mut App| app.call("answers", json!({})).expect("answers");
    let seen = answers(&mut app);
    let seen = seen.as_object().expect("answers");
    assert!(seen.len() >= total as usize, "{seen:?}");
    assert!(
        seen.values().all(|n| n == 1),
        "a request answered twice: {seen:?}"
    );

    // The wallet stops; a request sent meanwhile waits on the relays. At its next start the
    // wallet subscribes again, the relays replay what they kept (this relay keeps ephemeral
    // events for minutes): the waiting request is answered, the 30 old ones are not worked on
    // again.
    assert!(d.stop(), "stopped cleanly");
    drop(d);
    let waiting = app.send(
        "make_invoice",
        json!({"amount": 7000, "description": "order-while-stopped"}),
    );
    let d = Daemon::start(&data, &["sandbox"], true);
    let answered = app.wait(waiting, 90);
    assert!(
        answered.is_ok(),
        "the request sent while stopped: {answered:?}"
    );
    wait_for(30, "relays connected again", || {
        (get(&d, "/v1/health", &admin).body["nwc"]["status"] == "ok").then_some(())
    });
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        count_invoices(&d),
        total as usize + 1,
        "replayed requests were not worked on again"
    );
    let seen = answers(&mut app);
    assert!(
        seen.as_object().expect("answers").values().all(|n| n == 1),
        "a replayed request answered again: {seen}"
    );
    // And the connection still works.
    assert!(app.call("make_invoice", json!({"amount": 5000})).is_ok());
    let _ = id;
}
