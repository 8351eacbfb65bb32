//! Bad input gets its status and code, never a 500, and the daemon keeps serving.

use serde_json::{json, Value};

use crate::common::*;
use crate::invoices_fixture;

fn raw(d: &Daemon, key: &str, path: &str, body: &str, host: Option<&str>) -> Res {
    let mut req = client()
        .post(d.url(path))
        .bearer_auth(key)
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(h) = host {
        req = req.header("host", h);
    }
    let res = req.send().expect("send");
    let status = res.status().as_u16();
    let body = res.json::<Value>().unwrap_or(json!({}));
    Res { status, body }
}

/// (what, path, body, status, code, field)
type Case = (
    &'static str,
    &'static str,
    String,
    u16,
    &'static str,
    Option<&'static str>,
);

#[test]
fn bad_input_table() {
    let dir = tempdir();
    let d = Daemon::sandbox(dir.path());
    let key = create_key(
        dir.path(),
        &[
            "--name",
            "shop",
            "--permissions",
            "lightning:read,lightning:write",
        ],
    );
    let inv = "/v1/lightning/invoices";
    let pay = "/v1/lightning/payments";
    let own = post(&d, inv, &key, json!({"amount": 10, "description": "own"})).body
        ["payment_request"]
        .clone();
    let customer = post(
        &d,
        "/v1/sandbox/invoice",
        d.admin(),
        json!({"amount": 50, "description": "c"}),
    )
    .body["payment_request"]
        .clone();
    assert_eq!(
        post(&d, pay, &key, json!({"invoice": customer})).body["status"],
        "succeeded"
    );

    let cases: Vec<Case> = vec![
        (
            "malformed JSON",
            inv,
            "{\"amount\": 1000,".into(),
            400,
            "invalid_json",
            None,
        ),
        (
            "not an object",
            inv,
            "[1000]".into(),
            400,
            "invalid_json",
            None,
        ),
        ("empty body", inv, "".into(), 400, "invalid_json", None),
        (
            "amount as string",
            inv,
            json!({"amount": "1000", "description": "x"}).to_string(),
            400,
            "invalid_field",
            Some("amount"),
        ),
        (
            "amount as float",
            inv,
            json!({"amount": 10.5, "description": "x"}).to_string(),
            400,
            "invalid_field",
            Some("amount"),
        ),
        (
            "description as number",
            inv,
            json!({"amount": 1, "description": 5}).to_string(),
            400,
            "invalid_field",
            Some("description"),
        ),
        (
            "unknown field",
            inv,
            json!({"amount": 1, "descripton": "typo"}).to_string(),
            400,
            "invalid_field",
            None,
        ),
        (
            "amount 0",
            inv,
            json!({"amount": 0, "description": "x"}).to_string(),
            422,
            "invalid_amount",
            Some("amount"),
        ),
        (
            "amount negative",
            inv,
            json!({"amount": -5, "description": "x"}).to_string(),
            422,
            "invalid_amount",
            Some("amount"),
        ),
        (
            "amount above 21M BTC",
            inv,
            json!({"amount": 2_100_000_000_000_001i64, "description": "x"}).to_string(),
            422,
            "invalid_amount",
            Some("amount"),
        ),
        (
            "amount beyond i64",
            inv,
            "{\"amount\": 99999999999999999999999, \"description\": \"x\"}".into(),
            400,
            "invalid_field",
            Some("amount"),
        ),
        (
            "description too long",
            inv,
            json!({"amount": 1, "description": "d".repeat(640)}).to_string(),
            400,
            "invalid_field",
            Some("description"),
        ),
        (
            "expiry 0",
            inv,
            json!({"amount": 1, "description": "x", "expiry": 0}).to_string(),
            422,
            "invalid_expiry",
            Some("expiry"),
        ),
        (
            "expiry absurd",
            inv,
            json!({"amount": 1, "description": "x", "expiry": 1_000_000_000}).to_string(),
            422,
            "invalid_expiry",
            Some("expiry"),
        ),
        (
            "metadata not an object",
            inv,
            json!({"amount": 1, "metadata": [1]}).to_string(),
            400,
            "invalid_field",
            Some("metadata"),
        ),
        (
            "garbage invoice",
            pay,
            json!({"invoice": "lnbc-not-an-invoice"}).to_string(),
            400,
            "invalid_field",
            Some("invoice"),
        ),
        (
            "invoice missing",
            pay,
            json!({}).to_string(),
            400,
            "invalid_field",
            None,
        ),
        (
            "invoice for another network",
            pay,
            json!({"invoice": invoices_fixture::mainnet()}).to_string(),
            422,
            "wrong_network",
            Some("invoice"),
        ),
        (
            "expired invoice",
            pay,
            json!({"invoice": invoices_fixture::expired_regtest()}).to_string(),
            422,
            "invoice_expired",
            Some("invoice"),
        ),
        (
            "same invoice twice",
            pay,
            json!({"invoice": customer}).to_string(),
            409,
            "duplicate_payment",
            None,
        ),
        (
            "own invoice",
            pay,
            json!({"invoice": own}).to_string(),
            422,
            "self_payment",
            Some("invoice"),
        ),
        (
            "amount on a fixed invoice",
            pay,
            json!({"invoice": own, "amount": 11}).to_string(),
            422,
            "amount_not_allowed",
            Some("amount"),
        ),
        (
            "body over 64 KiB",
            inv,
            json!({"amount": 1, "description": "x".repeat(70_000)}).to_string(),
            413,
            "payload_too_large",
            None,
        ),
    ];
    for (name, path, body, status, code, field) in cases {
        let res = raw(&d, &key, path, &body, None);
        assert_eq!((res.status, res.code()), (status, code), "{name}: {res:?}");
        if let Some(field) = field {
            assert_eq!(res.body["error"]["field"], field, "{name}: {res:?}");
        }
        assert!(
            res.body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.len() > 10),
            "{name}: a message a person can act on"
        );
    }

    let res = raw(
        &d,
        &key,
        inv,
        &json!({"amount": 1}).to_string(),
        Some("evil.example"),
    );
    assert_eq!((res.status, res.code()), (403, "host_not_allowed"));
    let res = raw(
        &d,
        &key,
        inv,
        &json!({"amount": 1}).to_string(),
        Some("evil.example:3737"),
    );
    assert_eq!(res.status, 403);
    for (path, status, code) in [
        ("/v1/lightning/invoices/inv_doesnotexist", 404, "not_found"),
        ("/v1/lightning/payments/pay_doesnotexist", 404, "not_found"),
        ("/v1/lightning/invoices?limit=0", 400, "invalid_field"),
        ("/v1/lightning/invoices?limit=abc", 400, "invalid_query"),
        ("/v1/lightning/invoices?status=lost", 400, "invalid_field"),
        ("/v1/lightning/invoices?cursor=xyz", 400, "invalid_field"),
        ("/v1/events?after=-1", 400, "invalid_field"),
        // The display's version is 0 or more and fits an i64 (both were answered 200).
        ("/v1/display?after=-1", 400, "invalid_query"),
        (
            "/v1/display?after=9223372036854775808",
            400,
            "invalid_query",
        ),
        ("/v1/nowhere", 404, "not_found"),
        // Dates at chrono's edge panicked when a day was added to them.
        (
            "/v1/lightning/invoices?to=%2B262142-12-31",
            400,
            "invalid_query",
        ),
        (
            "/v1/lightning/invoices?from=-262143-01-01",
            400,
            "invalid_query",
        ),
        ("/v1/reports/day?date=%2B262142-12-31", 400, "invalid_query"),
        ("/v1/reports/days?to=%2B262142-12-31", 400, "invalid_query"),
        (
            "/v1/reports/transactions.csv?to=%2B262142-12-31T00:00:00Z",
            400,
            "invalid_query",
        ),
    ] {
        let res = get(&d, path, &key);
        assert_eq!((res.status, res.code()), (status, code), "{path}: {res:?}");
    }
    // A price past rust_decimal's range panicked inside the idempotent task, leaving its
    // Idempotency-Key "in progress" for a minute: now 400 naming the field, and a retry with
    // the same key gets the same answer.
    for _ in 0..2 {
        let res = client()
            .post(d.url(inv))
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .header("idempotency-key", "huge-price")
            .body(
                json!({"fiat": {"amount": "1000000000000000000000", "currency": "USD"}})
                    .to_string(),
            )
            .send()
            .expect("send");
        let status = res.status().as_u16();
        let body = res.json::<Value>().unwrap_or(json!({}));
        assert_eq!(
            (status, body["error"]["field"].as_str()),
            (400, Some("fiat.amount")),
            "{body}"
        );
    }
    // An invoice claiming to live 2^64 s decodes (its expiry saturates) instead of overflowing.
    let res = raw(
        &d,
        &key,
        "/v1/lightning/decode",
        &json!({"invoice": invoices_fixture::huge_expiry_regtest()}).to_string(),
        None,
    );
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(res.body["expires_at"], "9999-12-31T23:59:59Z", "{res:?}");
    assert_eq!(res.body["expired"], false);
    let res = raw(
        &d,
        &key,
        pay,
        &json!({"invoice": invoices_fixture::huge_expiry_regtest(), "max_fee": -1}).to_string(),
        None,
    );
    assert_eq!((res.status, res.code()), (400, "invalid_field"), "{res:?}");
    let res = call("PUT", &d.url("/v1/lightning/balance"), Some(&key), None);
    assert_eq!((res.status, res.code()), (405, "method_not_allowed"));
    let res = call("OPTIONS", &d.url("/v1/lightning/invoices"), None, None);
    assert!(res.status >= 400, "no CORS preflight answer");

    // Still serving, and nothing was lost.
    let ok = post(
        &d,
        inv,
        &key,
        json!({"amount": 1000, "description": "after the storm"}),
    );
    assert_eq!(ok.status, 201, "{ok:?}");
    let paid = post(
        &d,
        "/v1/lightning/payments",
        &key,
        json!({"invoice": customer}),
    );
    assert_eq!(paid.status, 409);
    assert_eq!(
        get(&d, "/v1/lightning/payments?status=succeeded", &key).body["data"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(call("GET", &d.url("/v1/health"), None, None).status, 200);
}
