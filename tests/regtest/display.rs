//! The customer display on the sandbox: a screen pairs by a code the point of sale opens and gets
//! a key that reads the current sale and nothing else (balances, invoices, payments, keys, the
//! event stream, the cashier's unlock are all refused); it follows the sale with a long poll that
//! answers when the sale is paid; the first tip answer stands, and only the display or the point
//! of sale that asked may give it; a used, wrong or expired code is refused and counted, and past
//! the limit no code is looked at, a right one neither; revoking the key ends the display's
//! access at once.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::*;

fn put(d: &Daemon, key: &str, body: Value) -> Res {
    call("PUT", &d.url("/v1/display"), Some(key), Some(&body))
}

fn pair(d: &Daemon, code: &str) -> Res {
    call(
        "POST",
        &d.url("/v1/display/pair"),
        None,
        Some(&json!({"code": code, "name": "Counter tablet"})),
    )
}

#[test]
fn a_paired_display_follows_the_sale_and_reads_nothing_else() {
    let dir = tempdir();
    let d = Daemon::sandbox(dir.path());
    let admin = d.admin().to_string();
    let counter = receive_key(&d, &admin);

    // The counter opens a code; a wrong one is refused and names the field; the right one,
    // typed in lower case without its dash, pairs once.
    let opened = post(
        &d,
        "/v1/display/pairings",
        &counter,
        json!({"url": "http://127.0.0.1:3737/"}),
    );
    assert_eq!(opened.status, 201, "{opened:?}");
    let code = opened.body["code"].as_str().expect("code").to_string();
    assert!(
        code.len() == 9 && code.as_bytes()[4] == b'-',
        "XXXX-XXXX: {code}"
    );
    assert_eq!(
        opened.body["link"],
        json!(format!("http://127.0.0.1:3737/#/display?pair={code}"))
    );
    assert!(opened.body["qr_svg"]
        .as_str()
        .is_some_and(|s| s.contains("<svg")));
    let wrong = pair(&d, "AAAA-AAAA");
    assert_eq!(
        (
            wrong.status,
            wrong.code(),
            wrong.body["error"]["field"].as_str()
        ),
        (422, "invalid_pairing_code", Some("code")),
        "{wrong:?}"
    );
    let typed = code.replace('-', "").to_lowercase();
    let paired = pair(&d, &typed);
    assert_eq!(paired.status, 201, "{paired:?}");
    let display = paired.body["key"].as_str().expect("key").to_string();
    let key_id = paired.body["key_id"].as_str().expect("key id").to_string();
    assert_eq!(pair(&d, &code).code(), "invalid_pairing_code", "used once");

    // It is listed with the other keys, display:read only.
    let keys = get(&d, "/v1/keys", &admin).body;
    let listed = keys["data"]
        .as_array()
        .and_then(|all| all.iter().find(|k| k["id"] == key_id.as_str()))
        .cloned()
        .expect("listed");
    assert_eq!(listed["permissions"], json!(["display:read"]));
    assert_eq!(listed["name"], "Customer display: Counter tablet");

    // Nothing but the display: not the balance, invoices, payments, keys, events, the stream's
    // log, the catalog, the cashier's status or unlock, the settings, nor making an invoice.
    for path in [
        "/v1/lightning/balance",
        "/v1/lightning/invoices",
        "/v1/lightning/payments",
        "/v1/keys",
        "/v1/events?after=0",
        "/v1/catalog/items",
        "/v1/cashier",
        "/v1/settings",
        "/v1/rates",
    ] {
        let refused = get(&d, path, &display);
        assert_eq!(
            (refused.status, refused.code()),
            (403, "missing_permission"),
            "{path}: {refused:?}"
        );
    }
    for (path, body) in [
        ("/v1/cashier/unlock", json!({"pin": "2468"})),
        (
            "/v1/lightning/invoices",
            json!({"amount": 1000, "description": "no"}),
        ),
        ("/v1/display/pairings", json!({})),
    ] {
        let refused = post(&d, path, &display, body);
        assert_eq!(refused.status, 403, "{path}: {refused:?}");
    }
    assert_eq!(
        put(&d, &display, json!({})).status,
        403,
        "a display cannot set the screen"
    );

    // The welcome, then the sale the counter puts on it.
    let idle = get(&d, "/v1/display", &display);
    assert_eq!(idle.status, 200, "{idle:?}");
    assert_eq!(idle.body["sale"], Value::Null);
    let sale = post(
        &d,
        "/v1/lightning/invoices",
        &counter,
        json!({"amount": 2100, "description": "Flat white"}),
    );
    let sale_id = sale.body["id"].as_str().expect("id").to_string();
    let someone_elses = post(
        &d,
        "/v1/lightning/invoices",
        &admin,
        json!({"amount": 500, "description": "the owner's"}),
    );
    let not_its = put(&d, &counter, json!({"sale_id": someone_elses.body["id"]}));
    assert_eq!(
        not_its.status, 404,
        "the counter shows only its own sales: {not_its:?}"
    );
    let shown = put(&d, &counter, json!({"sale_id": sale_id}));
    assert_eq!(shown.status, 200, "{shown:?}");
    let screen = get(&d, "/v1/display", &display).body;
    assert_eq!(screen["sale"]["id"], sale_id.as_str());
    assert_eq!(screen["sale"]["amount"], 2100);
    assert_eq!(screen["sale"]["status"], "pending");
    assert!(screen["sale"]["qr_svg"]
        .as_str()
        .is_some_and(|s| s.contains("<svg")));
    assert!(
        screen["sale"].get("payment_hash").is_none() && screen["sale"].get("metadata").is_none(),
        "only what the customer sees: {screen}"
    );

    // A long poll on that version is answered when the customer pays, not after its 25 s.
    let version = screen["version"].as_u64().expect("version");
    let waiting = {
        let url = d.url(&format!("/v1/display?after={version}"));
        let display = display.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            let res = call("GET", &url, Some(&display), None);
            (res, started.elapsed())
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    customer_pays(&d, &admin, &sale.body);
    let (changed, waited) = waiting.join().expect("poll");
    assert!(
        waited < Duration::from_secs(20),
        "answered by the payment ({waited:?})"
    );
    let changed = if changed.body["sale"]["status"] == "paid" {
        changed.body
    } else {
        // Woken by an earlier step of the same payment: the next read has it.
        let next = changed.body["version"].as_u64().expect("version");
        get(&d, &format!("/v1/display?after={next}"), &display).body
    };
    assert_eq!(changed["sale"]["status"], "paid", "{changed}");
    assert_eq!(changed["sale"]["amount_received"], 2100);
    assert_eq!(changed["sale"]["qr_svg"], Value::Null);

    // A tip question: the first answer stands; an answer to a changed question is refused.
    let ask = json!({"id": "t1", "currency": null, "due": "1000", "options": [
        {"percent": null, "tip": "0", "total": "1000"},
        {"percent": "10", "tip": "100", "total": "1100"}]});
    assert_eq!(put(&d, &counter, json!({"tip_ask": ask})).status, 200);
    let not_offered = post(
        &d,
        "/v1/display/tip",
        &display,
        json!({"ask_id": "t1", "percent": "15"}),
    );
    assert_eq!(
        not_offered.body["error"]["field"], "percent",
        "{not_offered:?}"
    );
    // A key that only reads invoices may watch the display, not answer for the customer.
    let reader = post(
        &d,
        "/v1/keys",
        &admin,
        json!({"name": "Reader", "permissions": ["lightning:read"]}),
    );
    let reader = reader.body["secret"].as_str().expect("secret").to_string();
    assert_eq!(get(&d, "/v1/display", &reader).status, 200);
    let not_yours = post(
        &d,
        "/v1/display/tip",
        &reader,
        json!({"ask_id": "t1", "percent": "10"}),
    );
    assert_eq!(
        (not_yours.status, not_yours.code()),
        (403, "missing_permission"),
        "{not_yours:?}"
    );
    assert_eq!(
        get(&d, "/v1/display", &display).body["tip_answer"],
        Value::Null,
        "the question is still open"
    );
    let answered = post(
        &d,
        "/v1/display/tip",
        &display,
        json!({"ask_id": "t1", "percent": "10"}),
    );
    assert_eq!(answered.status, 200, "{answered:?}");
    let late = post(
        &d,
        "/v1/display/tip",
        &counter,
        json!({"ask_id": "t1", "amount": "50"}),
    );
    assert_eq!(late.body["tip_answer"]["percent"], "10", "{late:?}");
    let stale = post(
        &d,
        "/v1/display/tip",
        &display,
        json!({"ask_id": "t0", "percent": "10"}),
    );
    assert_eq!((stale.status, stale.code()), (409, "display_conflict"));
    let both = put(&d, &counter, json!({"tip_ask": ask, "sale_id": sale_id}));
    assert_eq!(both.status, 400, "{both:?}");

    // Revoked, the display is refused at once, even in the middle of a long poll.
    let version = get(&d, "/v1/display", &display).body["version"]
        .as_u64()
        .expect("version");
    let waiting = {
        let url = d.url(&format!("/v1/display?after={version}"));
        let display = display.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            (call("GET", &url, Some(&display), None), started.elapsed())
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    let revoked = call(
        "DELETE",
        &d.url(&format!("/v1/keys/{key_id}")),
        Some(&admin),
        None,
    );
    assert_eq!(revoked.status, 200, "{revoked:?}");
    let (cut, waited) = waiting.join().expect("poll");
    assert_eq!(cut.code(), "revoked_api_key", "{cut:?}");
    assert!(waited < Duration::from_secs(20), "at once ({waited:?})");
    let gone = get(&d, "/v1/display", &display);
    assert_eq!((gone.status, gone.code()), (401, "revoked_api_key"));
}

/// Past the failed sign-in limit a client's pairing codes are not looked at: a guesser refused
/// with 429 must not learn from a 201 that a guess was right.
#[test]
fn past_the_limit_a_right_pairing_code_is_refused_too() {
    let dir = tempdir();
    let d = Daemon::sandbox(dir.path());
    let admin = d.admin().to_string();
    let opened = post(&d, "/v1/display/pairings", &admin, json!({}));
    let code = opened.body["code"].as_str().expect("code").to_string();
    // 20 a minute with one code, 300 with any: distinct wrong codes until the client is over.
    let mut refused_at = None;
    for n in 0..400 {
        let wrong = pair(&d, &format!("W{n:07}"));
        if wrong.status == 429 {
            refused_at = Some(n);
            break;
        }
        assert_eq!(wrong.code(), "invalid_pairing_code", "guess {n}: {wrong:?}");
    }
    assert!(refused_at.is_some(), "the limiter never refused");
    let right = pair(&d, &code);
    assert_eq!(
        (right.status, right.code()),
        (429, "rate_limited"),
        "the right code is not judged past the limit: {right:?}"
    );
    // A valid key is never limited: the counter still works.
    assert_eq!(get(&d, "/v1/display", &admin).status, 200);
}
