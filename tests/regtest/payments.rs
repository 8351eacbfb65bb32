//! Sending under pressure: many concurrent payments from one key stay within its daily budget,
//! fees included; a client that disconnects mid-payment leaves no payment stuck, and its retry
//! with the same `Idempotency-Key` gets the real outcome.

use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;

use serde_json::{json, Value};

use crate::common::*;
use crate::invoices_fixture;

fn customer_invoice(d: &Daemon, amount: u64) -> String {
    crate::common::customer_invoice(d, d.admin(), amount, "supplies")
}

#[test]
fn concurrent_payments_never_exceed_the_budget() {
    const BUDGET: u64 = 1000;
    const AMOUNT: u64 = 30;
    const MAX_FEE: u64 = 10;
    let dir = tempdir();
    let d = Arc::new(Daemon::sandbox(dir.path()));
    let created = post(
        &d,
        "/v1/keys",
        d.admin(),
        json!({"name": "plugin", "permissions": ["lightning:write"], "budget": BUDGET}),
    );
    let key = created.body["secret"].as_str().expect("secret").to_string();
    let invoices: Vec<String> = (0..50).map(|_| customer_invoice(&d, AMOUNT)).collect();
    let answers: Vec<Res> = std::thread::scope(|s| {
        let handles: Vec<_> = invoices
            .iter()
            .map(|invoice| {
                let (d, key) = (d.clone(), key.clone());
                s.spawn(move || {
                    post(
                        &d,
                        "/v1/lightning/payments",
                        &key,
                        json!({"invoice": invoice, "max_fee": MAX_FEE}),
                    )
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("payer"))
            .collect()
    });
    let mut spent_msat = 0;
    let mut paid = 0;
    for res in &answers {
        match res.status {
            201 => {
                assert_eq!(res.body["status"], "succeeded", "{res:?}");
                assert_eq!(res.body["max_fee"], MAX_FEE, "{res:?}");
                assert_eq!(res.body["max_fee_msat"], MAX_FEE * 1000, "{res:?}");
                spent_msat += res.body["amount_msat"].as_u64().expect("amount_msat")
                    + res.body["fee_msat"].as_u64().unwrap_or(0);
                paid += 1;
            }
            403 => assert_eq!(res.code(), "budget_exceeded", "{res:?}"),
            other => panic!("unexpected answer {other}: {res:?}"),
        }
    }
    assert!(paid > 0, "some payments fit the budget");
    assert!(
        spent_msat <= BUDGET * 1000,
        "{paid} payments spent {spent_msat} msat of a {BUDGET}-sat budget"
    );
    let refused = answers.iter().find(|r| r.status == 403);
    if let Some(r) = refused {
        let message = r.body["error"]["message"].as_str().unwrap_or("");
        assert!(message.contains("routing fees"), "{message}");
    }
    // The key's own record agrees with the node's: nothing pending, nothing beyond the budget.
    let listed = get(&d, "/v1/lightning/payments?limit=100", d.admin()).body["data"]
        .as_array()
        .expect("payments")
        .iter()
        .filter(|p| p["status"] == "succeeded" && p["description"] == "supplies")
        .count();
    assert_eq!(listed, paid);
}

/// Sends a payment request on a fresh connection and hangs up 30 ms later, before the answer (a
/// payment takes about 100 ms to settle here): the server has read the request and is paying.
fn send_and_hang_up(d: &Daemon, key: &str, idempotency_key: &str, body: &Value) {
    let addr = d.api.trim_start_matches("http://").to_string();
    let body = body.to_string();
    let request = format!(
        "POST /v1/lightning/payments HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\n\
         Idempotency-Key: {idempotency_key}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(&addr).expect("connect");
    stream.write_all(request.as_bytes()).expect("write");
    stream.flush().expect("flush");
    std::thread::sleep(std::time::Duration::from_millis(30));
    drop(stream);
}

fn retry(d: &Daemon, key: &str, idempotency_key: &str, body: &Value) -> (u16, Value, bool) {
    let res = client()
        .post(d.url("/v1/lightning/payments"))
        .bearer_auth(key)
        .header("idempotency-key", idempotency_key)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .expect("send");
    let replayed = res.headers().contains_key("idempotent-replayed");
    let status = res.status().as_u16();
    (status, res.json().unwrap_or(Value::Null), replayed)
}

#[test]
fn a_client_that_hangs_up_mid_payment_leaves_nothing_stuck() {
    let dir = tempdir();
    let d = Daemon::sandbox(dir.path());
    let admin = d.admin().to_string();

    // A payment that succeeds after the client is gone.
    let invoice = customer_invoice(&d, 1234);
    let hash = {
        let decoded = post(
            &d,
            "/v1/lightning/decode",
            &admin,
            json!({"invoice": invoice}),
        );
        decoded.body["payment_hash"]
            .as_str()
            .expect("hash")
            .to_string()
    };
    let body = json!({"invoice": invoice});
    send_and_hang_up(&d, &admin, "hangup-1", &body);
    let payment = wait_for(30, "the payment to settle without its client", || {
        let res = get(&d, &format!("/v1/lightning/payments/{hash}"), &admin);
        (res.status == 200 && res.body["status"] != "pending").then_some(res.body)
    });
    assert_eq!(payment["status"], "succeeded", "{payment}");
    let (status, replay, replayed) = wait_for(30, "the stored answer", || {
        let r = retry(&d, &admin, "hangup-1", &body);
        (r.0 != 409).then_some(r)
    });
    assert_eq!((status, replayed), (201, true), "{replay}");
    assert_eq!(replay["id"], payment["id"]);
    assert_eq!(replay["status"], "succeeded");

    // One the node refuses at once: recorded as failed (with its event), not left pending, and
    // the retry gets the refusal, not a conflict or a second attempt.
    let unroutable = invoices_fixture::unroutable_regtest();
    let body = json!({"invoice": unroutable});
    send_and_hang_up(&d, &admin, "hangup-2", &body);
    let decoded = post(
        &d,
        "/v1/lightning/decode",
        &admin,
        json!({"invoice": unroutable}),
    );
    let hash = decoded.body["payment_hash"]
        .as_str()
        .expect("hash")
        .to_string();
    let failed = wait_for(30, "the refused payment to be recorded", || {
        let res = get(&d, &format!("/v1/lightning/payments/{hash}"), &admin);
        (res.status == 200 && res.body["status"] != "pending").then_some(res.body)
    });
    assert_eq!(failed["status"], "failed", "{failed}");
    let (status, replay, replayed) = wait_for(30, "the stored refusal", || {
        let r = retry(&d, &admin, "hangup-2", &body);
        (r.0 != 409).then_some(r)
    });
    assert_eq!((status, replayed), (422, true), "{replay}");
    assert_eq!(replay["error"]["code"], "payment_failed");
    let events = get(&d, "/v1/events?limit=1000", &admin).body["data"]
        .as_array()
        .expect("events")
        .clone();
    assert!(events
        .iter()
        .any(|e| e["event"] == "payment.failed" && e["payment_hash"] == hash.as_str()));
}

/// A crash between recording a payment and handing it to the node leaves it pending here and
/// unknown to the node (and a kill can make LDK's ChannelManager lose one it had accepted). On the
/// next start such a payment is handed back to the node and runs to its end, once; it used to be
/// marked failed ("interrupted before it was sent").
#[test]
fn a_payment_cut_off_by_a_crash_is_sent_after_the_restart() {
    let dir = tempdir();
    let mut d = Daemon::sandbox(dir.path());
    let invoice = customer_invoice(&d, 321);
    let hash = post(
        &d,
        "/v1/lightning/decode",
        d.admin(),
        json!({ "invoice": invoice }),
    )
    .body["payment_hash"]
        .as_str()
        .expect("hash")
        .to_string();
    assert!(d.stop(), "graceful stop; log:\n{}", d.log_tail());
    // The row `Payments::pay` writes before it hands the payment to the node, as a crash leaves it.
    let db = dir.path().join("payaiml.sqlite");
    let script = "import sqlite3, sys, time\n\
        db = sqlite3.connect(sys.argv[1])\n\
        db.execute(\"INSERT INTO payments (id, payment_hash, status, amount_msat, max_fee_msat, invoice, created_at) VALUES ('pay_cutoff', ?, 'pending', 321000, 13210, ?, ?)\", (sys.argv[2], sys.argv[3], int(time.time() * 1000)))\n\
        db.commit()\n";
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&db)
        .arg(&hash)
        .arg(&invoice)
        .output()
        .expect("python3");
    assert!(out.status.success(), "{out:?}");

    let d = Daemon::sandbox(dir.path());
    let admin = d.admin().to_string();
    let payment = wait_for(120, "the cut-off payment to settle", || {
        let p = get(&d, "/v1/lightning/payments/pay_cutoff", &admin).body;
        (p["status"] != "pending").then_some(p)
    });
    assert_eq!(payment["status"], "succeeded", "{payment}");
    let customer = get(&d, "/v1/sandbox/customer/payments", &admin).body;
    let received: Vec<&Value> = customer["data"]
        .as_array()
        .expect("customer payments")
        .iter()
        .filter(|p| p["payment_hash"] == hash.as_str() && p["direction"] == "inbound")
        .collect();
    assert_eq!(received.len(), 1, "{customer}");
    assert_eq!(received[0]["status"], "succeeded", "{customer}");
    let sent: Vec<Value> = get(&d, "/v1/events?limit=1000", &admin).body["data"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["event"] == "payment.sent" && e["payment_hash"] == hash.as_str())
        .cloned()
        .collect();
    assert_eq!(sent.len(), 1, "one payment.sent: {sent:?}");
}
