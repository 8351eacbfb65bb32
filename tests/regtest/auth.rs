//! Who may do what: every way a key can be refused, with its status and code.

use serde_json::json;

use crate::common::*;

#[test]
fn auth_matrix() {
    let dir = tempdir();
    let d = Daemon::sandbox(dir.path());
    let p = dir.path();
    let reader = create_key(p, &["--name", "reader", "--permissions", "lightning:read"]);
    let pos = create_key(p, &["--name", "pos", "--permissions", "lightning:receive"]);
    let shop = create_key(
        p,
        &[
            "--name",
            "shop",
            "--permissions",
            "lightning:read,lightning:write",
            "--budget",
            "1000",
        ],
    );
    let short = create_key(
        p,
        &[
            "--name",
            "short",
            "--permissions",
            "lightning:read",
            "--expires-in",
            "2s",
        ],
    );
    let revoked = create_key(p, &["--name", "gone", "--permissions", "lightning:read"]);
    let revoked_id = revoked.split('_').nth(1).expect("id").to_string();
    // Used first, so the server holds it in memory; the `keys` command beside the running daemon
    // then revokes it, and the next request is refused all the same.
    let res = call(
        "GET",
        &d.url("/v1/lightning/invoices"),
        Some(&revoked),
        None,
    );
    assert_eq!(res.status, 200, "{res:?}");
    let out = cli(p, &["keys", "revoke", &revoked_id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let invoices = d.url("/v1/lightning/invoices");
    let res = call("GET", &invoices, None, None);
    assert_eq!(
        (res.status, res.code()),
        (401, "missing_api_key"),
        "{res:?}"
    );
    let res = client()
        .get(&invoices)
        .header("Authorization", "Basic dXNlcjpwdw==")
        .send()
        .expect("send");
    assert_eq!(res.status().as_u16(), 401);
    let res = call("GET", &invoices, Some("not-a-key"), None);
    assert_eq!((res.status, res.code()), (401, "malformed_api_key"));
    let unknown = format!("pk_{}_{}", "a".repeat(12), "B".repeat(32));
    let res = call("GET", &invoices, Some(&unknown), None);
    assert_eq!((res.status, res.code()), (401, "invalid_api_key"));
    let mut tampered = shop.clone();
    tampered.replace_range(tampered.len() - 4.., "zzzz");
    let res = call("GET", &invoices, Some(&tampered), None);
    assert_eq!((res.status, res.code()), (401, "invalid_api_key"));
    let res = call("GET", &invoices, Some(&revoked), None);
    assert_eq!((res.status, res.code()), (401, "revoked_api_key"));
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let res = call("GET", &invoices, Some(&short), None);
    assert_eq!((res.status, res.code()), (401, "expired_api_key"));

    // Permissions.
    let body = json!({"amount": 600, "description": "x"});
    let res = post(&d, "/v1/lightning/invoices", &reader, body.clone());
    assert_eq!(
        (res.status, res.code()),
        (403, "missing_permission"),
        "read-only key creating an invoice"
    );
    let res = post(&d, "/v1/lightning/invoices", &pos, body.clone());
    assert_eq!(res.status, 201, "a receive key creates invoices: {res:?}");
    let own = res.body["id"].as_str().expect("id").to_string();
    // A receive-only key reads the invoices it made, and no other.
    let res = get(&d, "/v1/lightning/invoices", &pos);
    assert_eq!(res.status, 200, "{res:?}");
    let listed: Vec<&str> = res.body["data"]
        .as_array()
        .map(|a| a.iter().filter_map(|i| i["id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(listed, [own.as_str()], "only its own invoices");
    let other = post(&d, "/v1/lightning/invoices", d.admin(), body.clone());
    let other_id = other.body["id"].as_str().expect("id");
    let res = get(&d, &format!("/v1/lightning/invoices/{other_id}"), &pos);
    assert_eq!(
        (res.status, res.code()),
        (404, "not_found"),
        "receive-only key cannot read another's invoice"
    );
    let res = get(&d, "/v1/lightning/payments", &pos);
    assert_eq!(
        (res.status, res.code()),
        (403, "missing_permission"),
        "receive-only key cannot read payments"
    );
    let customer_invoice = |amount: u64| {
        post(
            &d,
            "/v1/sandbox/invoice",
            d.admin(),
            json!({"amount": amount, "description": "c"}),
        )
        .body["payment_request"]
            .clone()
    };
    let res = post(
        &d,
        "/v1/lightning/payments",
        &pos,
        json!({"invoice": customer_invoice(100)}),
    );
    assert_eq!(
        (res.status, res.code()),
        (403, "missing_permission"),
        "receive-only key paying"
    );
    let res = get(&d, "/v1/keys", &shop);
    assert_eq!(
        (res.status, res.code()),
        (403, "missing_permission"),
        "keys need keys:manage"
    );
    let res = post(&d, "/v1/sandbox/mine", &shop, json!({"blocks": 1}));
    assert_eq!(
        (res.status, res.code()),
        (403, "missing_permission"),
        "sandbox needs node:manage"
    );

    // Daily budget of 1000 sat: 600 fits, another 600 does not.
    let res = post(
        &d,
        "/v1/lightning/payments",
        &shop,
        json!({"invoice": customer_invoice(600)}),
    );
    assert_eq!(
        (res.status, res.body["status"].as_str()),
        (201, Some("succeeded")),
        "{res:?}"
    );
    let res = post(
        &d,
        "/v1/lightning/payments",
        &shop,
        json!({"invoice": customer_invoice(600)}),
    );
    assert_eq!(
        (res.status, res.code()),
        (403, "budget_exceeded"),
        "{res:?}"
    );
    assert!(res.body["error"]["message"]
        .as_str()
        .unwrap_or("")
        .contains("1000"));

    // Revocation through the API takes effect on the next request.
    let created = post(
        &d,
        "/v1/keys",
        d.admin(),
        json!({"name": "temp", "permissions": ["lightning:read"]}),
    );
    assert_eq!(created.status, 201, "{created:?}");
    let temp = created.body["secret"].as_str().expect("secret").to_string();
    assert_eq!(get(&d, "/v1/lightning/balance", &temp).status, 200);
    let id = created.body["id"].as_str().expect("id");
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
    assert_eq!(
        get(&d, "/v1/lightning/balance", &temp).code(),
        "revoked_api_key"
    );
    let listed = get(&d, "/v1/keys", d.admin()).body.to_string();
    assert!(!listed.contains(&temp), "key list never shows secrets");

    // Failed attempts are rate limited (last: it also blocks this client for a minute).
    let mut limited = None;
    for i in 0..30 {
        let res = call("GET", &invoices, Some(&unknown), None);
        if res.status == 429 {
            limited = Some(i);
            assert_eq!(res.code(), "rate_limited");
            break;
        }
        assert_eq!(res.status, 401);
    }
    assert!(limited.is_some(), "failed authentication is rate limited");
    // Every client of a desktop app is 127.0.0.1: the limit never refuses a valid key, and a
    // revoked key polling away is told so each time without locking anyone out.
    for _ in 0..30 {
        assert_eq!(
            get(&d, "/v1/lightning/balance", &temp).code(),
            "revoked_api_key"
        );
    }
    assert_eq!(get(&d, "/v1/lightning/balance", d.admin()).status, 200);
    assert_eq!(get(&d, "/v1/lightning/balance", &shop).status, 200);
    // Another client's unknown key is limited on its own account, not refused for the first's.
    let typo = format!("{}x", &unknown[..unknown.len() - 1]);
    assert_eq!(
        call("GET", &invoices, Some(&typo), None).code(),
        "invalid_api_key"
    );
}
