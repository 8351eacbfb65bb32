//! The merchant's journey on the sandbox, and a restart in the middle of it.

use serde_json::json;

use crate::common::*;

fn lightning_total(d: &Daemon, key: &str) -> i64 {
    let res = get(d, "/v1/lightning/balance", key);
    assert_eq!(res.status, 200, "{res:?}");
    res.body["lightning"]["total"]
        .as_i64()
        .expect("lightning.total")
}

#[test]
fn receive_and_send_on_the_sandbox() {
    let dir = tempdir();
    let d = Daemon::sandbox(dir.path());
    let key = create_key(
        dir.path(),
        &[
            "--name",
            "Lightning Integration",
            "--permissions",
            "lightning:read,lightning:write",
        ],
    );
    assert!(key.starts_with("pk_"), "{key}");
    let before = lightning_total(&d, &key);

    // The public docs' request, verbatim.
    let inv = post(
        &d,
        "/v1/lightning/invoices",
        &key,
        json!({
            "amount": 1000, "description": "Digital content purchase", "expiry": 3600
        }),
    );
    assert_eq!(inv.status, 201, "{inv:?}");
    let inv = inv.body;
    assert_eq!(inv["status"], "pending");
    assert_eq!(inv["amount"], 1000);
    assert_eq!(inv["description"], "Digital content purchase");
    assert_eq!(inv["expiry"], 3600);
    let pr = inv["payment_request"].as_str().expect("payment_request");
    assert!(pr.starts_with("lnbcrt10u1"), "{pr}");
    let id = inv["id"].as_str().expect("id");
    assert_eq!(inv["warnings"], json!([]), "the channels can receive it");

    // More than one payment can bring in: made anyway (a channel may open first), but it says so.
    let limit = get(&d, "/v1/lightning/balance", &key).body["lightning"]["max_single_receive"]
        .as_u64()
        .expect("max_single_receive");
    let big = post(
        &d,
        "/v1/lightning/invoices",
        &key,
        json!({"amount": limit + 1, "description": "too big for now"}),
    );
    assert_eq!(big.status, 201, "{big:?}");
    let warning = &big.body["warnings"][0];
    assert_eq!(warning["code"], "insufficient_inbound_capacity", "{big:?}");
    let says = warning["message"].as_str().unwrap_or_default();
    assert!(
        says.contains("cannot be paid yet") && says.contains("open a channel"),
        "{says}"
    );
    let again = get(
        &d,
        &format!(
            "/v1/lightning/invoices/{}",
            big.body["id"].as_str().unwrap_or("")
        ),
        &key,
    );
    assert_eq!(
        again.body["warnings"], big.body["warnings"],
        "kept with the invoice"
    );

    let paid = post(
        &d,
        "/v1/sandbox/pay",
        d.admin(),
        json!({ "payment_request": pr }),
    );
    assert_eq!(paid.status, 200, "{paid:?}");
    assert_eq!(paid.body["status"], "succeeded");

    let got = get(&d, &format!("/v1/lightning/invoices/{id}"), &key).body;
    assert_eq!(got["status"], "paid", "{got}");
    assert_eq!(got["amount_received"], 1000);
    assert!(got["paid_at"].is_string());
    let by_hash = get(
        &d,
        &format!(
            "/v1/lightning/invoices/{}",
            got["payment_hash"].as_str().unwrap_or("")
        ),
        &key,
    );
    assert_eq!(by_hash.body["id"], id);

    // Pay the customer.
    let ci = post(
        &d,
        "/v1/sandbox/invoice",
        d.admin(),
        json!({ "amount": 2500, "description": "supplies" }),
    );
    assert_eq!(ci.status, 201, "{ci:?}");
    let pay = post(
        &d,
        "/v1/lightning/payments",
        &key,
        json!({ "invoice": ci.body["payment_request"] }),
    );
    assert_eq!(pay.status, 201, "{pay:?}");
    assert_eq!(pay.body["status"], "succeeded", "{pay:?}");
    assert_eq!(pay.body["amount"], 2500);
    let fee = pay.body["fee"]
        .as_i64()
        .expect("fee is known once succeeded");
    assert!(pay.body["preimage"].as_str().is_some_and(|p| p.len() == 64));
    let pay_id = pay.body["id"].as_str().expect("id");
    assert_eq!(
        get(&d, &format!("/v1/lightning/payments/{pay_id}"), &key).body["status"],
        "succeeded"
    );

    // Right after `succeeded` the channel may still be finishing its commitment update (the HTLC is
    // in flight for a few ms); then the total settles at exactly the amounts moved.
    let expected = before + 1000 - 2500 - fee;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut last = lightning_total(&d, &key);
    while last != expected && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
        last = lightning_total(&d, &key);
    }
    assert_eq!(
        last, expected,
        "balance moved by exactly the amounts (before {before})"
    );

    // The event log has the seed's webhook fields.
    let events = get(&d, "/v1/events?after=0", &key).body;
    let data = events["data"].as_array().expect("events");
    let received = data
        .iter()
        .find(|e| e["event"] == "payment.received")
        .expect("payment.received");
    assert_eq!(received["invoice_id"], id);
    assert_eq!(received["amount"], 1000);
    assert_eq!(received["status"], "paid");
    assert!(received["payment_hash"].is_string() && received["timestamp"].is_string());
    assert!(data
        .iter()
        .any(|e| e["event"] == "payment.sent" && e["payment_id"] == pay_id));
    let seqs: Vec<i64> = data.iter().filter_map(|e| e["seq"].as_i64()).collect();
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "contiguous seq: {seqs:?}"
    );

    // QR codes.
    let svg = client()
        .get(d.url(&format!("/v1/lightning/invoices/{id}/qr.svg")))
        .bearer_auth(&key)
        .send()
        .expect("svg");
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(svg.text().expect("text").contains("<svg"));
    let png = client()
        .get(d.url(&format!("/v1/lightning/invoices/{id}/qr.png")))
        .bearer_auth(&key)
        .send()
        .expect("png");
    assert_eq!(png.headers()["content-type"], "image/png");
    assert_eq!(&png.bytes().expect("bytes")[1..4], b"PNG");

    // Idempotency-Key: same body → same invoice; other body → 409.
    let idem = |body: serde_json::Value| {
        let res = client()
            .post(d.url("/v1/lightning/invoices"))
            .bearer_auth(&key)
            .header("Idempotency-Key", "order-42")
            .body(body.to_string())
            .send()
            .expect("post");
        let status = res.status().as_u16();
        (status, res.json::<serde_json::Value>().expect("json"))
    };
    let (s1, first) = idem(json!({"amount": 5, "description": "order 42"}));
    let (s2, second) = idem(json!({"description": "order 42", "amount": 5}));
    assert_eq!((s1, s2), (201, 201));
    assert_eq!(first["id"], second["id"]);
    let (s3, third) = idem(json!({"amount": 6, "description": "order 42"}));
    assert_eq!(s3, 409);
    assert_eq!(third["error"]["code"], "idempotency_conflict");

    // Cursor pagination, newest first, no overlap.
    let p1 = get(&d, "/v1/lightning/invoices?limit=1", &key).body;
    assert_eq!(p1["data"].as_array().map(Vec::len), Some(1));
    let cursor = p1["next_cursor"].as_str().expect("next_cursor");
    let p2 = get(
        &d,
        &format!("/v1/lightning/invoices?limit=5&cursor={cursor}"),
        &key,
    )
    .body;
    let ids: Vec<&str> = p2["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|i| i["id"].as_str())
        .collect();
    assert!(!ids.contains(&p1["data"][0]["id"].as_str().unwrap_or("")));
    assert!(ids.contains(&id));
    assert!(p2["next_cursor"].is_null());
    let paid_only = get(&d, "/v1/lightning/invoices?status=paid", &key).body;
    assert!(paid_only["data"]
        .as_array()
        .expect("data")
        .iter()
        .all(|i| i["status"] == "paid"));
}

#[test]
fn restart_keeps_node_money_invoices_and_keys() {
    let dir = tempdir();
    let mut d = Daemon::sandbox(dir.path());
    let key = create_key(
        dir.path(),
        &[
            "--name",
            "pos",
            "--permissions",
            "lightning:read,lightning:receive",
        ],
    );
    let node_id = get(&d, "/v1/health", &key).body["node_id"].clone();
    let open = post(
        &d,
        "/v1/lightning/invoices",
        &key,
        json!({"amount": 700, "description": "left open"}),
    )
    .body;
    let paid = post(
        &d,
        "/v1/lightning/invoices",
        &key,
        json!({"amount": 300, "description": "paid before"}),
    )
    .body;
    let pay = post(
        &d,
        "/v1/sandbox/pay",
        d.admin(),
        json!({"payment_request": paid["payment_request"]}),
    );
    assert_eq!(pay.body["status"], "succeeded", "{pay:?}");
    let balance = get(&d, "/v1/lightning/balance", &key).body["lightning"]["total"].clone();
    let admin = d.admin().to_string();
    assert!(d.stop(), "graceful stop; log:\n{}", d.log_tail());

    let d = Daemon::sandbox(dir.path());
    assert_eq!(
        d.admin(),
        admin,
        "the admin key survives from the secret store"
    );
    let authed = get(&d, "/v1/lightning/invoices", &key);
    assert_eq!(
        authed.status, 200,
        "old key still authenticates: {authed:?}"
    );
    assert_eq!(get(&d, "/v1/health", &key).body["node_id"], node_id);
    assert_eq!(
        get(&d, "/v1/lightning/balance", &key).body["lightning"]["total"],
        balance
    );
    let open_id = open["id"].as_str().expect("id");
    assert_eq!(
        get(&d, &format!("/v1/lightning/invoices/{open_id}"), &key).body["status"],
        "pending"
    );
    assert_eq!(
        get(
            &d,
            &format!(
                "/v1/lightning/invoices/{}",
                paid["id"].as_str().unwrap_or("")
            ),
            &key
        )
        .body["status"],
        "paid"
    );
    // The invoice created before the restart can still be paid after it.
    let pay = post(
        &d,
        "/v1/sandbox/pay",
        d.admin(),
        json!({"payment_request": open["payment_request"]}),
    );
    assert_eq!(pay.body["status"], "succeeded", "{pay:?}");
    assert_eq!(
        get(&d, &format!("/v1/lightning/invoices/{open_id}"), &key).body["status"],
        "paid"
    );
}
