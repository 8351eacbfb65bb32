//! The cashier lock on the sandbox: only the owner sets the PIN and locks; the cashier's key
//! makes invoices and reads only its own (and the catalog and their receipts), and is refused
//! payments, keys, webhooks, settings and the recovery words; the right PIN unlocks and answers
//! the admin key and ends the cashier's key; after 5 wrong PINs even the right one waits, however
//! many arrive at once, and the lock and the wait survive a restart. No other key, whatever it
//! holds, reveals or revokes the admin key or reveals the cashier's.

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
    let everything = post(
        &d,
        "/v1/keys",
        &admin,
        json!({"name": "All seven", "permissions": ["lightning:read", "lightning:write", "keys:manage", "node:manage", "catalog:manage", "display:read"]}),
    );
    let everything = everything.body["secret"]
        .as_str()
        .expect("secret")
        .to_string();
    let admin_id = key_id_of(&admin);
    // Every permission the admin key has, and still not the admin key: it cannot read or
    // revoke it, and the recovery words stay the admin key's alone.
    for (method, path) in [
        ("POST", format!("/v1/keys/{admin_id}/reveal")),
        ("DELETE", format!("/v1/keys/{admin_id}")),
    ] {
        let refused = call(method, &d.url(&path), Some(&everything), Some(&json!({})));
        assert_eq!(
            (refused.status, refused.code()),
            (403, "key_protected"),
            "{method} {path}: {refused:?}"
        );
    }
    let words = post(
        &d,
        "/v1/settings/recovery-words",
        &everything,
        json!({"confirm": true}),
    );
    assert_eq!(words.status, 403, "{words:?}");
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
    // The cashier's key is the app's to hand out: no key reveals it, and only the admin key
    // may revoke it.
    let cashier_id = key_id_of(&cashier);
    for key in [&everything, &admin] {
        let refused = post(&d, &format!("/v1/keys/{cashier_id}/reveal"), key, json!({}));
        assert_eq!(refused.code(), "key_protected", "{refused:?}");
    }
    let refused = call(
        "DELETE",
        &d.url(&format!("/v1/keys/{cashier_id}")),
        Some(&everything),
        None,
    );
    assert_eq!(refused.code(), "key_protected", "{refused:?}");
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
    let no_limit = call(
        "PATCH",
        &d.url("/v1/settings"),
        Some(&admin),
        Some(&json!({"counter": {"tip_presets": ["20", "12.50", "5"], "cashier_refunds": true}})),
    );
    assert_eq!(
        (no_limit.status, no_limit.body["error"]["field"].as_str()),
        (400, Some("counter.cashier_refund_limit")),
        "refunds at the counter need a daily limit: {no_limit:?}"
    );
    let allow = call(
        "PATCH",
        &d.url("/v1/settings"),
        Some(&admin),
        Some(
            &json!({"counter": {"tip_presets": ["20", "12.50", "5"], "cashier_refunds": true, "cashier_refund_limit": 1000}}),
        ),
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
        json!({"tip_presets": ["5", "12.5", "20"], "cashier_refunds": true, "cashier_refund_limit": 1000})
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
    // Within what the sale has left, but past the day's limit (1,000 sat, fees included, and
    // 500 refunded already).
    let past_limit = refund(
        &cashier,
        &sale_id,
        &customer_invoice(&d, &admin, 600, "over the day's limit"),
    );
    assert_eq!(
        (past_limit.status, past_limit.code()),
        (403, "cashier_refund_limit"),
        "{past_limit:?}"
    );
    let not_its_own = refund(&cashier, &other_id, &customer_invoice(&d, &admin, 10, "x"));
    assert_eq!(not_its_own.status, 403, "{not_its_own:?}");

    // The right PIN unlocks and answers the admin key; the cashier's key of that lock is
    // revoked with it, so a copy taken from the counter cannot refund later.
    let open = post(&d, "/v1/cashier/unlock", &cashier, json!({"pin": "2468"}));
    assert_eq!(open.status, 200, "{open:?}");
    assert_eq!(open.body["key"], admin.as_str());
    assert_eq!(get(&d, "/v1/cashier", &admin).body["locked"], false);
    let later = refund(
        &cashier,
        &sale_id,
        &customer_invoice(&d, &admin, 10, "later"),
    );
    assert_eq!(
        (later.status, later.code()),
        (401, "revoked_api_key"),
        "{later:?}"
    );

    // A new lock, a new cashier's key, which cannot refund a sale of the last lock.
    let locked = post(&d, "/v1/cashier/lock", &admin, json!({}));
    let old_cashier = cashier;
    let cashier = locked.body["key"].as_str().expect("key").to_string();
    assert_ne!(cashier, old_cashier, "a new cashier key for each lock");
    let last_locks = refund(&cashier, &sale_id, &customer_invoice(&d, &admin, 10, "x"));
    assert_eq!(last_locks.status, 403, "{last_locks:?}");

    // Wrong PINs: 5 free tries, then even the right one waits, however many arrive at once
    // (each judged in turn, the count written before the next is judged); the lock and the
    // wait outlive a restart.
    let url = d.url("/v1/cashier/unlock");
    let guesses: Vec<_> = (0..100)
        .map(|i| {
            let (url, cashier) = (url.clone(), cashier.clone());
            std::thread::spawn(move || {
                let pin = format!("{:04}", 3000 + i);
                call("POST", &url, Some(&cashier), Some(&json!({"pin": pin})))
            })
        })
        .collect();
    let answers: Vec<Res> = guesses
        .into_iter()
        .map(|g| g.join().expect("guess"))
        .collect();
    let judged = answers.iter().filter(|a| a.code() == "wrong_pin").count();
    let waited = answers
        .iter()
        .filter(|a| (a.status, a.code()) == (429, "rate_limited"))
        .count();
    assert!(judged <= 5, "{judged} wrong PINs judged at once");
    assert_eq!(judged + waited, 100, "each is wrong_pin or rate_limited");
    assert_eq!(get(&d, "/v1/cashier", &admin).body["locked"], true);
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
    assert_eq!(status["failed_attempts"], judged, "{status}");
    let retry_at = status["retry_at"].as_str().expect("a wait").to_string();
    let still = post(&d, "/v1/cashier/unlock", &cashier, json!({"pin": "2468"}));
    assert_eq!(still.code(), "rate_limited", "{still:?}");
    // After the wait the right PIN unlocks.
    let until = chrono::DateTime::parse_from_rfc3339(&retry_at).expect("time");
    let left = (until.timestamp_millis() - chrono::Utc::now().timestamp_millis()).max(0);
    // `retry_at` is written to the second: up to a second more.
    std::thread::sleep(std::time::Duration::from_millis(left as u64 + 1500));
    let open = post(&d, "/v1/cashier/unlock", &cashier, json!({"pin": "2468"}));
    assert_eq!(open.status, 200, "{open:?}");
}

/// The id in a whole key (`pk_<id>_<secret>`).
fn key_id_of(key: &str) -> String {
    key.trim_start_matches("pk_")
        .split('_')
        .next()
        .unwrap_or_default()
        .to_string()
}
