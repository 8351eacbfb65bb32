//! The unified QR on the sandbox: an invoice that may also be paid on-chain carries a fresh
//! address and a BIP21 URI (amount exact, text encoded, the BOLT11 invoice inside); the customer
//! pays the URI on-chain and, once its block is mined, the invoice is paid with the transaction,
//! a `payment.received` event with `route: "onchain"` and its CSV row; another is paid over
//! Lightning from the same kind of QR; requests that cannot work are refused.

use serde_json::json;

use crate::common::*;

#[test]
fn an_invoice_is_paid_on_chain_or_over_lightning_from_one_qr() {
    let dir = tempdir();
    let d = Daemon::sandbox(dir.path());
    let admin = d.admin().to_string();

    let made = post(
        &d,
        "/v1/lightning/invoices",
        &admin,
        json!({"amount": 30_000, "description": "Bike repair", "onchain": true}),
    );
    assert_eq!(made.status, 201, "{made:?}");
    let invoice = made.body;
    let id = invoice["id"].as_str().expect("id").to_string();
    let address = invoice["onchain"]["address"]
        .as_str()
        .expect("address")
        .to_string();
    assert!(address.starts_with("bcrt1"), "{invoice}");
    let uri = invoice["onchain"]["uri"].as_str().expect("uri").to_string();
    assert_eq!(
        uri,
        format!(
            "bitcoin:{address}?amount=0.0003&message=Bike%20repair&lightning={}",
            invoice["payment_request"].as_str().unwrap_or("")
        )
    );
    assert_eq!(invoice["onchain"]["received"], 0);
    let qr = client()
        .get(d.url(&format!("/v1/lightning/invoices/{id}/qr.svg")))
        .bearer_auth(&admin)
        .send()
        .expect("qr");
    assert_eq!(qr.status().as_u16(), 200);

    // The customer pays on-chain; the block is mined; the sale is paid with its transaction.
    let paid = post(
        &d,
        "/v1/sandbox/pay",
        &admin,
        json!({"payment_request": uri}),
    );
    assert_eq!(paid.status, 200, "{paid:?}");
    let txid = paid.body["txid"].as_str().expect("txid").to_string();
    assert_eq!(paid.body["payment_hash"], invoice["payment_hash"]);
    let sale = wait_for(60, "the invoice paid on-chain", || {
        let i = get(&d, &format!("/v1/lightning/invoices/{id}"), &admin).body;
        (i["status"] == "paid").then_some(i)
    });
    assert_eq!(sale["amount_received"], 30_000, "{sale}");
    assert_eq!(sale["onchain"]["txid"], txid.as_str(), "{sale}");
    assert_eq!(sale["onchain"]["received"], 30_000, "{sale}");
    let event = received_event(&d, &admin, &id);
    assert_eq!(
        (&event["route"], &event["txid"], &event["amount"]),
        (&json!("onchain"), &json!(txid), &json!(30_000)),
        "{event}"
    );
    let csv = transactions_csv(&d, &admin);
    let row = csv_row(&csv, &id);
    assert!(row.ends_with(&format!(",{txid},onchain,,,,,,")), "{row}");

    // The same kind of QR, paid over Lightning: an ordinary payment.
    let other = post(
        &d,
        "/v1/lightning/invoices",
        &admin,
        json!({"amount": 4_000, "description": "Tyre", "onchain": true}),
    )
    .body;
    let lightning = customer_pays(&d, &admin, &other);
    assert_eq!(lightning["onchain"]["txid"], serde_json::Value::Null);
    let event = received_event(&d, &admin, other["id"].as_str().unwrap_or(""));
    assert_eq!(event["route"], "lightning", "{event}");

    // Refused: no amount to put in the URI, or too little to send on-chain.
    let none = post(
        &d,
        "/v1/lightning/invoices",
        &admin,
        json!({"onchain": true}),
    );
    assert_eq!(
        (none.status, none.code()),
        (400, "invalid_field"),
        "{none:?}"
    );
    assert!(none.body.to_string().contains("onchain"), "{none:?}");
    let dust = post(
        &d,
        "/v1/lightning/invoices",
        &admin,
        json!({"amount": 100, "onchain": true}),
    );
    assert_eq!(
        (dust.status, dust.code()),
        (422, "invalid_amount"),
        "{dust:?}"
    );
}
