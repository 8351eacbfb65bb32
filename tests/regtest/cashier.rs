//! The cashier lock on the sandbox: only the owner sets the PIN and locks; the cashier's key
//! makes invoices and reads only its own (and the catalog and their receipts), and is refused
//! payments, keys, webhooks, settings and the recovery words; the right PIN unlocks and answers
//! the admin key; after 5 wrong PINs even the right one waits, and the lock and the wait survive
//! a restart.

use serde_json::json;

use crate::common::*;

#[test]
fn the_cashier_takes_payments_and_nothing_else_and_the_lock_survives_a_restart() {
    let dir = tempdir();
    let mut d = Daemon::sandbox(dir.path());
    let admin = d.admin().to_string();
    let other = post(
        &d,
        "/v1/lightning/invoices",
        &admin,
        json!({"amount": 700, "description": "made by the owner"}),
    );
    let other_id = other.body["id"].as_str().expect("id").to_string();

    // Only the owner sets the PIN and locks; locking needs a PIN.
    let reader = post(
        &d,
        "/v1/keys",
        &admin,
        json!({"name": "Everything", "permissions": ["lightning:read", "lightning:write", "keys:manage", "node:manage", "catalog:manage"]}),
    );
    let reader = reader.body["secret"].as_str().expect("secret").to_string();
    let no_pin = post(&d, "/v1/cashier/lock", &admin, json!({}));
    assert_eq!(
        (no_pin.status, no_pin.code()),
        (409, "cashier_conflict"),
        "{no_pin:?}"
    );
    let not_owner = post(&d, "/v1/cashier/pin", &reader, json!({"pin": "2468"}));
    assert_eq!(
        (not_owner.status, not_owner.code()),
        (403, "admin_only"),
        "{not_owner:?}"
    );
    let short = post(&d, "/v1/cashier/pin", &admin, json!({"pin": "12"}));
    assert_eq!(short.body["error"]["field"], "pin", "{short:?}");
    assert_eq!(
        post(&d, "/v1/cashier/pin", &admin, json!({"pin": "2468"})).status,
        204
    );
    let locked = post(&d, "/v1/cashier/lock", &admin, json!({}));
    assert_eq!(locked.status, 200, "{locked:?}");
    assert_eq!(locked.body["locked"], true);
    let cashier = locked.body["key"]
        .as_str()
        .expect("cashier key")
        .to_string();
    let status = get(&d, "/v1/cashier", &cashier).body;
    assert_eq!(
        (&status["locked"], &status["you_are_cashier"]),
        (&json!(true), &json!(true)),
        "{status}"
    );
    let changed = post(&d, "/v1/cashier/pin", &admin, json!({"pin": "1357"}));
    assert_eq!(
        changed.code(),
        "cashier_conflict",
        "no PIN change while locked: {changed:?}"
    );

    // The cashier sells and reads its own sales.
    let sale = post(
        &d,
        "/v1/lightning/invoices",
        &cashier,
        json!({"amount": 1500, "description": "Counter sale"}),
    );
    assert_eq!(sale.status, 201, "{sale:?}");
    let sale_id = sale.body["id"].as_str().expect("id").to_string();
    assert_eq!(
        get(&d, &format!("/v1/lightning/invoices/{sale_id}"), &cashier).status,
        200
    );
    let qr = client()
        .get(d.url(&format!("/v1/lightning/invoices/{sale_id}/qr.svg")))
        .bearer_auth(&cashier)
        .send()
        .expect("qr");
    assert_eq!(qr.status().as_u16(), 200);
    let mine = get(&d, "/v1/lightning/invoices", &cashier).body;
    let ids: Vec<&str> = mine["data"]
        .as_array()
        .map(|a| a.iter().filter_map(|i| i["id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(ids, [sale_id.as_str()], "only its own invoices");
    let theirs = get(&d, &format!("/v1/lightning/invoices/{other_id}"), &cashier);
    assert_eq!(
        theirs.status, 404,
        "another's invoice is not found: {theirs:?}"
    );
    customer_pays(&d, &admin, &sale.body);
    let receipt = client()
        .get(d.url(&format!("/v1/lightning/invoices/{sale_id}/receipt")))
        .bearer_auth(&cashier)
        .send()
        .expect("receipt");
    assert_eq!(receipt.status().as_u16(), 200);
    assert_eq!(get(&d, "/v1/catalog/items", &cashier).status, 200);

    // And nothing else, even with its token straight at the API.
    for (method, path, body) in [
        (
            "POST",
            "/v1/lightning/payments",
            Some(json!({"invoice": "lnbcrt1"})),
        ),
        ("GET", "/v1/lightning/payments", None),
        ("GET", "/v1/lightning/balance", None),
        ("GET", "/v1/keys", None),
        (
            "POST",
            "/v1/keys",
            Some(json!({"name": "x", "permissions": ["lightning:read"]})),
        ),
        ("GET", "/v1/webhooks", None),
        ("GET", "/v1/settings", None),
        (
            "PATCH",
            "/v1/settings",
            Some(json!({"notifications": true})),
        ),
        (
            "POST",
            "/v1/settings/recovery-words",
            Some(json!({"confirm": true})),
        ),
        ("GET", "/v1/events", None),
        ("GET", "/v1/node", None),
        (
            "POST",
            "/v1/catalog/items",
            Some(json!({"name": "x", "price": "1"})),
        ),
        ("POST", "/v1/cashier/lock", Some(json!({}))),
        ("POST", "/v1/cashier/pin", Some(json!({"pin": "0000"}))),
    ] {
        let res = call(method, &d.url(path), Some(&cashier), body.as_ref());
        assert_eq!(res.status, 403, "{method} {path}: {res:?}");
    }

    // Refunds: never by default; once the owner allows it, the counter refunds its own sales
    // (capped by what each received), and still no one else's.
    let back = customer_invoice(&d, &admin, 500, "change of mind");
    let refund = |key: &str, invoice_id: &str, to: &str| {
        post(
            &d,
            &format!("/v1/lightning/invoices/{invoice_id}/refund"),
            key,
            json!({"invoice": to}),
        )
    };
    let denied = refund(&cashier, &sale_id, &back);
    assert_eq!(
        (denied.status, denied.code()),
        (403, "missing_permission"),
        "{denied:?}"
    );
    assert_eq!(
        get(&d, "/v1/cashier", &cashier).body["counter"]["cashier_refunds"],
        false
    );
    let allow = call(
        "PATCH",
        &d.url("/v1/settings"),
        Some(&admin),
        Some(&json!({"counter": {"tip_presets": ["20", "12.50", "5"], "cashier_refunds": true}})),
    );
    assert_eq!(allow.status, 200, "{allow:?}");
    assert_eq!(
        allow.body["counter"]["tip_presets"],
        json!(["5", "12.5", "20"]),
        "{allow:?}"
    );
    let bad = call(
        "PATCH",
        &d.url("/v1/settings"),
        Some(&admin),
        Some(&json!({"counter": {"tip_presets": ["0"], "cashier_refunds": true}})),
    );
    assert_eq!((bad.status, bad.code()), (400, "invalid_field"), "{bad:?}");
    let counter = get(&d, "/v1/cashier", &cashier).body["counter"].clone();
    assert_eq!(
        counter,
        json!({"tip_presets": ["5", "12.5", "20"], "cashier_refunds": true})
    );
    let decoded = post(
        &d,
        "/v1/lightning/decode",
        &cashier,
        json!({"invoice": back}),
    );
    assert_eq!(
        decoded.body["amount"], 500,
        "the counter checks the customer's invoice: {decoded:?}"
    );
    let refunded = refund(&cashier, &sale_id, &back);
    assert_eq!(refunded.status, 201, "{refunded:?}");
    assert_eq!(refunded.body["refund_of"], sale_id.as_str());
    let too_much = refund(
        &cashier,
        &sale_id,
        &customer_invoice(&d, &admin, 1200, "more"),
    );
    assert_eq!(too_much.code(), "refund_exceeds_received", "{too_much:?}");
    let not_its_own = refund(&cashier, &other_id, &customer_invoice(&d, &admin, 10, "x"));
    assert_eq!(not_its_own.status, 403, "{not_its_own:?}");

    // The right PIN unlocks and answers the admin key.
    let open = post(&d, "/v1/cashier/unlock", &cashier, json!({"pin": "2468"}));
    assert_eq!(open.status, 200, "{open:?}");
    assert_eq!(open.body["key"], admin.as_str());
    assert_eq!(get(&d, "/v1/cashier", &admin).body["locked"], false);

    // Wrong PINs: 5 free tries, then even the right one waits; the lock and the wait outlive a
    // restart.
    let locked = post(&d, "/v1/cashier/lock", &admin, json!({}));
    assert_eq!(locked.body["key"], cashier.as_str(), "the same cashier key");
    for n in 1..=5 {
        let wrong = post(&d, "/v1/cashier/unlock", &cashier, json!({"pin": "0000"}));
        assert_eq!(
            (wrong.status, wrong.code()),
            (403, "wrong_pin"),
            "try {n}: {wrong:?}"
        );
    }
    let waits = post(&d, "/v1/cashier/unlock", &cashier, json!({"pin": "2468"}));
    assert_eq!(
        (waits.status, waits.code()),
        (429, "rate_limited"),
        "{waits:?}"
    );
    assert!(d.stop(), "stopped cleanly");
    drop(d);
    d = Daemon::sandbox(dir.path());
    let status = get(&d, "/v1/cashier", &cashier).body;
    assert_eq!(status["locked"], true, "{status}");
    assert_eq!(status["failed_attempts"], 5, "{status}");
    assert!(status["retry_at"].is_string(), "{status}");
    let still = post(&d, "/v1/cashier/unlock", &cashier, json!({"pin": "2468"}));
    assert_eq!(still.code(), "rate_limited", "{still:?}");
}
