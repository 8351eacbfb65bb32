//! Webhooks end to end: a real sandbox payment reaches a receiver on 127.0.0.1 signed; failing
//! receivers are retried until they recover; `410 Gone` disables; a SIGKILL before delivery loses
//! nothing; a burst of 200 payments gives 200 events and 200 deliveries.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::common::*;
use crate::receiver::Receiver;

/// Short waits between attempts, so retries happen within a test.
const FAST_RETRIES: &[&str] = &["--webhook-retries", "300ms,300ms,300ms,300ms,300ms"];

fn sandbox_fast(dir: &std::path::Path) -> Daemon {
    let mut args = FAST_RETRIES.to_vec();
    args.push("sandbox");
    Daemon::start(dir, &args, true)
}

fn create_hook(d: &Daemon, url: &str, events: Value) -> (String, String) {
    let res = post(
        d,
        "/v1/webhooks",
        d.admin(),
        json!({"url": url, "events": events}),
    );
    assert_eq!(res.status, 201, "{res:?}");
    let secret = res.body["secret"].as_str().expect("secret").to_string();
    assert!(secret.starts_with("whsec_"));
    (res.body["id"].as_str().expect("id").to_string(), secret)
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// Runs a verifier program: `<program> <script> <args…> < body`, exit 0 = valid. Python runs
/// from the venv that scripts/setup.sh makes (it has the packages the verifiers import).
fn run_verifier(program: &str, script: &str, args: &[&str], body: &[u8]) -> bool {
    use std::io::Write;
    let program = if program == "python3" {
        crate::common::venv_python()
    } else {
        program.to_string()
    };
    let mut child = std::process::Command::new(&program)
        .arg(script)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} must be installed (scripts/setup.sh): {e}"));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(body)
        .expect("write body");
    child.wait().expect("verifier exit").success()
}

fn tampered_standard(body: &[u8]) -> Vec<u8> {
    let mut out = body.to_vec();
    out.extend_from_slice(b" ");
    out
}

fn deliveries(d: &Daemon, hook: &str) -> Vec<Value> {
    let res = get(
        d,
        &format!("/v1/webhooks/{hook}/deliveries?limit=100"),
        d.admin(),
    );
    assert_eq!(res.status, 200, "{res:?}");
    res.body["data"].as_array().expect("data").clone()
}

#[test]
fn signed_delivery_retries_and_gone() {
    let dir = tempdir();
    let d = sandbox_fast(dir.path());
    let admin = d.admin().to_string();

    // Bad input: each refused with the field named, nothing created.
    for (body, field) in [
        (json!({"url": "ftp://shop.example/hook"}), "url"),
        (json!({"url": "shop.example/hook"}), "url"),
        (json!({"url": ""}), "url"),
        (
            json!({"url": "http://127.0.0.1:1/x", "events": ["payment.recieved"]}),
            "events",
        ),
    ] {
        let res = post(&d, "/v1/webhooks", &admin, body.clone());
        assert_eq!(res.status, 400, "{body} → {res:?}");
        assert_eq!(res.body["error"]["field"], field, "{res:?}");
    }
    let res = post(&d, "/v1/webhooks", &admin, json!({"events": []}));
    assert_eq!(res.status, 400, "{res:?}");
    let reader = create_key(
        dir.path(),
        &["--name", "r", "--permissions", "lightning:read"],
    );
    let res = post(
        &d,
        "/v1/webhooks",
        &reader,
        json!({"url": "http://127.0.0.1:1/"}),
    );
    assert_eq!((res.status, res.code()), (403, "missing_permission"));
    assert_eq!(get(&d, "/v1/webhooks", &admin).body["data"], json!([]));

    // A healthy receiver subscribed to everything.
    let shop = Receiver::start(200);
    let (hook, secret) = create_hook(&d, &shop.url, json!(["*"]));
    let listed = get(&d, "/v1/webhooks", &admin).body;
    assert_eq!(listed["data"][0]["id"], hook.as_str());
    assert!(
        listed["data"][0].get("secret").is_none(),
        "list never shows the secret"
    );
    assert!(!std::fs::read_dir(dir.path())
        .expect("data dir")
        .flatten()
        .filter(|e| e.path().is_file())
        .any(|e| std::fs::read(e.path())
            .map(|b| b.windows(secret.len()).any(|w| w == secret.as_bytes()))
            .unwrap_or(false)));

    // The seed's flow: an invoice, a payment, a signed `payment.received`.
    let invoice = pay_merchant(&d, &admin, 1000, "Digital content purchase");
    let hit = wait_for(20, "payment.received at the shop", || {
        shop.hits()
            .into_iter()
            .find(|h| h.json()["event"] == "payment.received")
    });
    let body = hit.json();
    for (field, want) in [
        ("invoice_id", invoice["id"].clone()),
        ("amount", json!(1000)),
        ("status", json!("paid")),
        ("payment_hash", invoice["payment_hash"].clone()),
        ("description", json!("Digital content purchase")),
    ] {
        assert_eq!(body[field], want, "{field} in {body}");
    }
    assert!(
        body["timestamp"].is_string() && body["seq"].is_i64(),
        "{body}"
    );
    assert_eq!(
        hit.header("payaiml-event-id"),
        body["id"].as_str().expect("id")
    );
    assert_eq!(hit.header("content-type"), "application/json");
    let signature = hit.header("payaiml-signature").to_string();
    assert_eq!(
        payaiml_webhook::verify_now(&secret, &signature, &hit.body),
        Ok(()),
        "a real delivery verifies"
    );
    let mut tampered = hit.body.clone();
    let at = tampered.iter().position(|b| *b == b'1').expect("a digit");
    tampered[at] = b'9';
    assert_eq!(
        payaiml_webhook::verify_now(&secret, &signature, &tampered),
        Err(payaiml_webhook::VerifyError::Mismatch)
    );
    assert!(matches!(
        payaiml_webhook::verify(&secret, &signature, &hit.body, now_secs() + 301, 300),
        Err(payaiml_webhook::VerifyError::Stale { .. })
    ));
    assert_eq!(
        payaiml_webhook::verify_now("whsec_wrong", &signature, &hit.body),
        Err(payaiml_webhook::VerifyError::Mismatch)
    );
    // The same delivery carries the Standard Webhooks headers, verified here by the signing
    // crate and below by the official `standardwebhooks` packages for JavaScript and Python.
    let (std_id, std_ts, std_sig) = (
        hit.header("webhook-id").to_string(),
        hit.header("webhook-timestamp").to_string(),
        hit.header("webhook-signature").to_string(),
    );
    assert_eq!(std_id, body["id"].as_str().expect("id"));
    assert!(std_sig.starts_with("v1,"), "{std_sig}");
    let ts: u64 = std_ts.parse().expect("unix seconds");
    assert_eq!(
        payaiml_webhook::standard::verify(
            &secret,
            &std_id,
            ts,
            &std_sig,
            &hit.body,
            now_secs(),
            300
        ),
        Ok(())
    );
    let standard_script = format!(
        "{}/../../tests/standard-webhooks",
        env!("CARGO_MANIFEST_DIR")
    );
    for (program, script) in [("node", "verify.mjs"), ("python3", "verify.py")] {
        let script = format!("{standard_script}/{script}");
        for (body, valid) in [(&hit.body, true), (&tampered_standard(&hit.body), false)] {
            assert_eq!(
                run_verifier(
                    program,
                    &script,
                    &[&secret, &std_id, &std_ts, &std_sig],
                    body
                ),
                valid,
                "{script} (official standardwebhooks package) on a {} body",
                if valid { "real" } else { "tampered" }
            );
        }
    }

    // The README's examples for shops, run on the same real delivery.
    for (program, script) in [
        ("node", "verify-webhook.js"),
        ("python3", "verify_webhook.py"),
    ] {
        let script = format!(
            "{}/../../docs/examples/{script}",
            env!("CARGO_MANIFEST_DIR")
        );
        for (body, valid) in [(&hit.body, true), (&tampered, false)] {
            assert_eq!(
                run_verifier(program, &script, &[&secret, &signature], body),
                valid,
                "{script} on a {} body",
                if valid { "real" } else { "tampered" }
            );
        }
    }

    // An outgoing payment is `payment.sent`.
    let customer = post(
        &d,
        "/v1/sandbox/invoice",
        &admin,
        json!({"amount": 2500, "description": "supplier"}),
    );
    let sent = post(
        &d,
        "/v1/lightning/payments",
        &admin,
        json!({"invoice": customer.body["payment_request"]}),
    );
    assert_eq!(sent.body["status"], "succeeded", "{sent:?}");
    let hit = wait_for(20, "payment.sent at the shop", || {
        shop.hits()
            .into_iter()
            .find(|h| h.json()["event"] == "payment.sent")
    });
    assert_eq!(hit.json()["payment_id"], sent.body["id"]);

    // One that cannot be routed is refused (nothing was sent) and logged as `payment.failed`.
    let failed = post(
        &d,
        "/v1/lightning/payments",
        &admin,
        json!({"invoice": crate::invoices_fixture::unroutable_regtest()}),
    );
    assert_eq!(
        (failed.status, failed.code()),
        (422, "payment_failed"),
        "{failed:?}"
    );
    let hit = wait_for(20, "payment.failed at the shop", || {
        shop.hits()
            .into_iter()
            .find(|h| h.json()["event"] == "payment.failed")
    });
    let body = hit.json();
    assert_eq!(body["status"], "failed");
    assert!(
        body["failure_reason"]
            .as_str()
            .unwrap_or("")
            .contains("route"),
        "{body}"
    );
    let listed = get(&d, "/v1/lightning/payments?status=failed", &admin).body;
    assert_eq!(listed["data"][0]["id"], body["payment_id"]);

    // An invoice left unpaid becomes `invoice.expired`, in the log and at the shop.
    let short = post(
        &d,
        "/v1/lightning/invoices",
        &admin,
        json!({"amount": 5, "description": "abandoned cart", "expiry": 1}),
    );
    let hit = wait_for(20, "invoice.expired at the shop", || {
        shop.hits()
            .into_iter()
            .find(|h| h.json()["event"] == "invoice.expired")
    });
    assert_eq!(hit.json()["invoice_id"], short.body["id"]);
    let got = get(
        &d,
        &format!(
            "/v1/lightning/invoices/{}",
            short.body["id"].as_str().expect("id")
        ),
        &admin,
    );
    assert_eq!(got.body["status"], "expired");

    // The test button: one signed `webhook.test`, answered at once.
    let test = post(&d, &format!("/v1/webhooks/{hook}/test"), &admin, json!({}));
    assert_eq!(test.status, 200, "{test:?}");
    assert_eq!(test.body["status"], "succeeded", "{test:?}");
    assert_eq!(test.body["attempts"][0]["status_code"], 200);
    let hit = shop
        .hits()
        .into_iter()
        .find(|h| h.json()["event"] == "webhook.test")
        .expect("test event received");
    assert_eq!(
        payaiml_webhook::verify_now(&secret, hit.header("payaiml-signature"), &hit.body),
        Ok(())
    );

    // A receiver that fails three times, then recovers.
    let flaky = Receiver::answering(|n| if n < 3 { 500 } else { 200 });
    let (flaky_hook, _) = create_hook(&d, &flaky.url, json!(["payment.received"]));
    // One that answers 410 once (a deploy gone wrong), and one that is not listening at all.
    let gone = Receiver::answering(|n| if n == 0 { 410 } else { 200 });
    let (gone_hook, _) = create_hook(&d, &gone.url, json!(["payment.received"]));
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let closed_url = format!("http://{}/hook", closed.local_addr().expect("addr"));
    drop(closed);
    let (closed_hook, _) = create_hook(&d, &closed_url, json!(["payment.received"]));

    pay_merchant(&d, &admin, 2000, "second order");
    let flaky_delivery = wait_for(30, "the flaky receiver to recover", || {
        deliveries(&d, &flaky_hook)
            .into_iter()
            .find(|x| x["status"] == "succeeded")
    });
    let statuses: Vec<Value> = flaky_delivery["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .map(|a| a["status_code"].clone())
        .collect();
    assert_eq!(
        statuses,
        vec![json!(500), json!(500), json!(500), json!(200)]
    );
    assert_eq!(flaky_delivery["attempt_count"], 4);
    assert!(flaky_delivery["delivered_at"].is_string());
    assert_eq!(flaky.delivered_ids().len(), 1);

    let gone_state = wait_for(20, "410 to disable the endpoint", || {
        let w = get(&d, &format!("/v1/webhooks/{gone_hook}"), &admin).body;
        (w["status"] == "disabled").then_some(w)
    });
    assert!(
        gone_state["disabled_reason"]
            .as_str()
            .unwrap_or("")
            .contains("410"),
        "{gone_state}"
    );
    // The delivery that got the 410 is kept, waiting for the endpoint to be enabled.
    let gone_deliveries = deliveries(&d, &gone_hook);
    assert_eq!(gone_deliveries[0]["status"], "pending");
    assert_eq!(gone_deliveries[0]["attempt_count"], 1);
    assert_eq!(gone_deliveries[0]["last_status_code"], 410);
    let res = post(
        &d,
        &format!(
            "/v1/webhooks/deliveries/{}/redeliver",
            gone_deliveries[0]["id"].as_str().expect("id")
        ),
        &admin,
        json!({}),
    );
    assert_eq!(
        (res.status, res.code()),
        (422, "webhook_disabled"),
        "{res:?}"
    );

    let refused = wait_for(20, "an attempt at the closed port", || {
        deliveries(&d, &closed_hook)
            .into_iter()
            .find(|x| x["attempt_count"].as_i64().unwrap_or(0) >= 1)
    });
    assert!(
        refused["attempts"][0]["error"]
            .as_str()
            .unwrap_or("")
            .contains("connect"),
        "{refused}"
    );
    assert!(refused["attempts"][0]["status_code"].is_null());
    // The endpoints say how their deliveries go: the closed port is enabled but failing, with
    // its error; the flaky one recovered, after three failures.
    let closed_state = get(&d, &format!("/v1/webhooks/{closed_hook}"), &admin).body;
    assert_eq!(closed_state["status"], "enabled", "{closed_state}");
    assert_eq!(closed_state["health"]["failing"], true, "{closed_state}");
    assert!(
        closed_state["health"]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("connect")),
        "{closed_state}"
    );
    assert_eq!(closed_state["health"]["last_success_at"], Value::Null);
    let flaky_state = get(&d, &format!("/v1/webhooks/{flaky_hook}"), &admin).body;
    assert_eq!(
        (
            &flaky_state["health"]["failing"],
            &flaky_state["health"]["failed_in_a_row"]
        ),
        (&json!(false), &json!(0)),
        "{flaky_state}"
    );
    assert!(
        flaky_state["health"]["last_success_at"].is_string(),
        "{flaky_state}"
    );

    // A later payment is not sent to the disabled endpoint.
    let before = gone.hits().len();
    pay_merchant(&d, &admin, 3000, "third order");
    wait_for(20, "the third order at the healthy shop", || {
        (shop
            .hits()
            .iter()
            .filter(|h| h.json()["event"] == "payment.received")
            .count()
            == 3)
            .then_some(())
    });
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(gone.hits().len(), before);
    // Enabled again: both orders it missed arrive (the one that got the 410 included), nothing
    // lost while it was off.
    let res = post(
        &d,
        &format!("/v1/webhooks/{gone_hook}/enable"),
        &admin,
        json!({}),
    );
    assert_eq!(res.body["status"], "enabled", "{res:?}");
    let caught_up = wait_for(20, "the missed events after enabling", || {
        let ok: Vec<Value> = gone
            .hits()
            .iter()
            .filter(|h| h.status == 200)
            .map(|h| h.json())
            .collect();
        (ok.len() >= 2).then_some(ok)
    });
    let mut amounts: Vec<(i64, i64)> = caught_up
        .iter()
        .map(|e| {
            (
                e["seq"].as_i64().expect("seq"),
                e["amount"].as_i64().expect("amount"),
            )
        })
        .collect();
    amounts.sort();
    assert_eq!(
        amounts.iter().map(|a| a.1).collect::<Vec<_>>(),
        [2000, 3000],
        "{caught_up:?}"
    );
    // Recorded just after the receiver answered.
    wait_for(10, "the caught-up deliveries to be recorded", || {
        deliveries(&d, &gone_hook)
            .iter()
            .all(|x| x["status"] == "succeeded")
            .then_some(())
    });

    // Redelivery sends the same event id again; deleting stops everything for that endpoint.
    let first = deliveries(&d, &hook)
        .into_iter()
        .find(|x| x["event"] == "payment.received")
        .expect("a delivery");
    let id = first["id"].as_str().expect("id");
    let res = post(
        &d,
        &format!("/v1/webhooks/deliveries/{id}/redeliver"),
        &admin,
        json!({}),
    );
    assert_eq!(res.status, 202, "{res:?}");
    let event_id = first["event_id"].as_str().expect("event id").to_string();
    wait_for(20, "the redelivery", || {
        (shop
            .hits()
            .iter()
            .filter(|h| h.header("payaiml-event-id") == event_id)
            .count()
            >= 2)
            .then_some(())
    });
    let res = call(
        "DELETE",
        &d.url(&format!("/v1/webhooks/{closed_hook}")),
        Some(&admin),
        None,
    );
    assert_eq!(res.status, 204, "{res:?}");
    assert_eq!(
        get(&d, &format!("/v1/webhooks/{closed_hook}"), &admin).status,
        404
    );
    assert_eq!(
        get(&d, "/v1/webhooks/deliveries/whd_nope", &admin).code(),
        "not_found"
    );
}

#[test]
fn sigkill_before_delivery_loses_nothing() {
    let dir = tempdir();
    let mut d = sandbox_fast(dir.path());
    let admin = d.admin().to_string();
    // The shop is down (503) when the payments arrive.
    let shop = Receiver::start(503);
    create_hook(&d, &shop.url, json!(["payment.received"]));
    let mut hashes = HashSet::new();
    for i in 0..5 {
        let invoice = pay_merchant(&d, &admin, 100 + i, &format!("order {i}"));
        hashes.insert(invoice["payment_hash"].as_str().expect("hash").to_string());
    }
    let logged = get(&d, "/v1/events?limit=1000", &admin).body["data"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["event"] == "payment.received")
        .map(|e| e["id"].as_str().expect("id").to_string())
        .collect::<HashSet<_>>();
    assert_eq!(logged.len(), 5);
    assert!(shop.delivered_ids().is_empty());
    d.kill();

    // The shop comes back; so does the merchant's app.
    shop.set_status(200);
    let d = sandbox_fast(dir.path());
    let delivered = wait_for(60, "every event delivered after the restart", || {
        let ids = shop.delivered_ids();
        (ids.len() >= 5).then_some(ids)
    });
    assert_eq!(
        delivered, logged,
        "exactly the logged events, none lost, none invented"
    );
    let bodies: HashSet<String> = shop
        .hits()
        .iter()
        .filter(|h| h.status == 200)
        .map(|h| h.json()["payment_hash"].as_str().expect("hash").to_string())
        .collect();
    assert_eq!(bodies, hashes);
    // Node events replayed after the crash left no hole in the log's numbering.
    pay_merchant(&d, &admin, 999, "after the crash");
    let seqs: Vec<i64> = get(&d, "/v1/events?limit=1000", &admin).body["data"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["seq"].as_i64().expect("seq"))
        .collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    drop(d);
}

#[test]
fn burst_of_200_payments() {
    const N: usize = 200;
    const THREADS: usize = 8;
    let dir = tempdir();
    let d = Arc::new(sandbox_fast(dir.path()));
    let admin = d.admin().to_string();
    let shop = Receiver::start(200);
    create_hook(&d, &shop.url, json!(["payment.received"]));
    let start_seq = get(&d, "/v1/events?limit=1000", &admin).body["last_seq"]
        .as_i64()
        .expect("last_seq");

    let next = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let (d, next, admin) = (d.clone(), next.clone(), admin.clone());
            std::thread::spawn(move || loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= N {
                    break;
                }
                pay_merchant(&d, &admin, 10 + i as u64, &format!("burst {i}"));
            })
        })
        .collect();
    for w in workers {
        w.join().expect("payer thread");
    }

    let events: Vec<Value> = get(
        &d,
        &format!("/v1/events?after={start_seq}&limit=1000"),
        &admin,
    )
    .body["data"]
        .as_array()
        .expect("events")
        .clone();
    let received: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "payment.received")
        .collect();
    assert_eq!(received.len(), N);
    let seqs: Vec<i64> = received
        .iter()
        .map(|e| e["seq"].as_i64().expect("seq"))
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "payment.received seqs are contiguous: {seqs:?}"
    );
    let ids: HashSet<String> = received
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_string())
        .collect();
    let delivered = wait_for(60, "200 deliveries", || {
        let got = shop.delivered_ids();
        (got.len() >= N).then_some(got)
    });
    assert_eq!(delivered, ids);
}
