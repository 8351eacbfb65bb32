//! Static QR (BOLT12 offers) on the sandbox: the customer pays one offer twice with different
//! notes and gets two paid records, each with its `payment.received` event and a signed webhook;
//! a priced offer sells a quantity; the offer counts what it received; the CSV, the receipt and
//! the sticker show it; a point-of-sale key reads its own offers only; bad requests are refused.

use serde_json::{json, Value};

use crate::common::*;
use crate::receiver::Receiver;

fn pay_offer(d: &Daemon, key: &str, offer: &Value, extra: Value) -> Value {
    let mut body = json!({"payment_request": offer["offer"]});
    if let (Some(to), Some(from)) = (body.as_object_mut(), extra.as_object()) {
        to.extend(from.clone());
    }
    let paid = post(d, "/v1/sandbox/pay", key, body);
    assert_eq!(paid.status, 200, "{paid:?}");
    assert_eq!(paid.body["status"], "succeeded", "{paid:?}");
    // The merchant recorded it before the sandbox answered: a paid invoice with that hash.
    let hash = paid.body["payment_hash"].as_str().expect("hash");
    let invoice = get(d, &format!("/v1/lightning/invoices/{hash}"), key);
    assert_eq!(invoice.status, 200, "{invoice:?}");
    invoice.body
}

#[test]
fn an_offer_is_paid_many_times_and_each_payment_is_a_sale() {
    let dir = tempdir();
    let d = Daemon::sandbox(dir.path());
    let admin = d.admin().to_string();
    let shop = Receiver::start(200);
    let hook = post(
        &d,
        "/v1/webhooks",
        &admin,
        json!({"url": shop.url, "events": ["payment.received"]}),
    );
    assert_eq!(hook.status, 201, "{hook:?}");

    // A tip jar: the payer chooses the amount.
    let made = post(
        &d,
        "/v1/lightning/offers",
        &admin,
        json!({"description": "Tips for the team"}),
    );
    assert_eq!(made.status, 201, "{made:?}");
    let tips = made.body;
    let offer_id = tips["id"].as_str().expect("id").to_string();
    assert!(offer_id.starts_with("ofr_"), "{tips}");
    assert!(
        tips["offer"]
            .as_str()
            .is_some_and(|o| o.starts_with("lno1")),
        "{tips}"
    );
    assert_eq!(
        (tips["amount"].clone(), tips["payments"].clone()),
        (Value::Null, json!(0))
    );

    // Paid twice, with different notes and amounts: two records.
    let first = pay_offer(
        &d,
        &admin,
        &tips,
        json!({"amount": 1500, "payer_note": "Table 4"}),
    );
    let second = pay_offer(
        &d,
        &admin,
        &tips,
        json!({"amount": 700, "payer_note": "thanks!"}),
    );
    assert_ne!(first["id"], second["id"]);
    for (invoice, note, sats) in [(&first, "Table 4", 1500), (&second, "thanks!", 700)] {
        assert_eq!(invoice["status"], "paid", "{invoice}");
        assert_eq!(invoice["offer_id"], offer_id.as_str(), "{invoice}");
        assert_eq!(invoice["payer_note"], note, "{invoice}");
        assert_eq!(invoice["amount_received"], sats, "{invoice}");
        assert_eq!(invoice["amount"], Value::Null, "{invoice}");
        assert_eq!(invoice["description"], "Tips for the team", "{invoice}");
        assert_eq!(invoice["payment_request"], tips["offer"], "{invoice}");
        let id = invoice["id"].as_str().expect("id");
        let event = received_event(&d, &admin, id);
        assert_eq!(
            (&event["offer_id"], &event["payer_note"], &event["amount"]),
            (&json!(offer_id), &json!(note), &json!(sats)),
            "{event}"
        );
        let hit = wait_for(20, "the webhook of the offer payment", || {
            shop.hits()
                .into_iter()
                .find(|h| h.json()["invoice_id"] == id)
        });
        assert_eq!(hit.json()["payer_note"], note);
        assert!(!hit.header("payaiml-signature").is_empty());
    }
    let tips = get(&d, &format!("/v1/lightning/offers/{offer_id}"), &admin).body;
    assert_eq!(
        (&tips["payments"], &tips["amount_received"]),
        (&json!(2), &json!(2200)),
        "{tips}"
    );
    assert!(tips["last_paid_at"].is_string(), "{tips}");

    // A priced offer that sells up to 10: three cost three times the price.
    let coffee = post(
        &d,
        "/v1/lightning/offers",
        &admin,
        json!({"description": "Filter coffee", "amount": 2500, "max_quantity": 10}),
    );
    assert_eq!(coffee.status, 201, "{coffee:?}");
    let bought = pay_offer(&d, &admin, &coffee.body, json!({"quantity": 3}));
    assert_eq!(
        (
            &bought["amount"],
            &bought["amount_received"],
            &bought["quantity"]
        ),
        (&json!(7500), &json!(7500), &json!(3)),
        "{bought}"
    );
    let listed = get(&d, "/v1/lightning/offers", &admin).body;
    assert_eq!(listed["data"].as_array().map(Vec::len), Some(2), "{listed}");
    assert_eq!(listed["data"][0]["id"], coffee.body["id"], "newest first");

    // The CSV: each payment a sale with its offer and the payer's note (neutralised).
    let formula = pay_offer(&d, &admin, &coffee.body, json!({"payer_note": "=cmd|calc"}));
    let csv = transactions_csv(&d, &admin);
    for (invoice, tail) in [
        (&first, format!(",{offer_id},Table 4,")),
        (
            &formula,
            format!(",{},'=cmd|calc,", coffee.body["id"].as_str().unwrap_or("")),
        ),
    ] {
        let id = invoice["id"].as_str().expect("id");
        let row = csv_row(&csv, id);
        // The offer's columns, then the till's: Lightning, not taken at the till, no tax split.
        assert!(
            row.contains(",received,paid,") && row.ends_with(&format!("{tail},lightning,,,,,,")),
            "{row}"
        );
    }

    // A receipt for a payment to the offer, and the sticker to print (escaped, with the QR).
    let receipt = client()
        .get(d.url(&format!(
            "/v1/lightning/invoices/{}/receipt",
            first["id"].as_str().unwrap_or("")
        )))
        .bearer_auth(&admin)
        .send()
        .expect("receipt");
    assert_eq!(receipt.status().as_u16(), 200);
    assert!(receipt.text().expect("text").contains("Tips for the team"));
    let sticker = client()
        .get(d.url(&format!(
            "/v1/lightning/offers/{offer_id}/sticker?paper=a4&download=true"
        )))
        .bearer_auth(&admin)
        .send()
        .expect("sticker");
    assert_eq!(sticker.status().as_u16(), 200);
    assert!(sticker.headers()["content-disposition"]
        .to_str()
        .is_ok_and(|v| v.contains(&format!("sticker-{offer_id}.html"))));
    let page = sticker.text().expect("text");
    assert!(page.contains("<svg") && page.contains("Pay any amount") && page.contains("size: A4"));
    let qr = client()
        .get(d.url(&format!("/v1/lightning/offers/{offer_id}/qr.svg")))
        .bearer_auth(&admin)
        .send()
        .expect("qr");
    assert_eq!(qr.headers()["content-type"], "image/svg+xml");

    // A point of sale's key makes offers and reads its own, not the owner's.
    let pos = receive_key(&d, &admin);
    let own = post(
        &d,
        "/v1/lightning/offers",
        &pos,
        json!({"description": "Counter tips"}),
    );
    assert_eq!(own.status, 201, "{own:?}");
    let seen = get(&d, "/v1/lightning/offers", &pos).body;
    assert_eq!(seen["data"].as_array().map(Vec::len), Some(1), "{seen}");
    let other = get(&d, &format!("/v1/lightning/offers/{offer_id}"), &pos);
    assert_eq!(
        (other.status, other.code()),
        (404, "not_found"),
        "{other:?}"
    );

    // Bad requests: each refused with the field named, nothing made.
    for (body, code, field) in [
        (json!({"description": ""}), "invalid_field", "description"),
        (
            json!({"description": "x", "amount": 0}),
            "invalid_amount",
            "amount",
        ),
        (
            json!({"description": "x", "max_quantity": 3}),
            "invalid_field",
            "max_quantity",
        ),
        (
            json!({"description": "x", "amount": 5, "max_quantity": 1}),
            "invalid_field",
            "max_quantity",
        ),
        (
            json!({"description": "x", "expiry": 60}),
            "invalid_field",
            "expiry",
        ),
    ] {
        let res = post(&d, "/v1/lightning/offers", &admin, body.clone());
        assert_eq!((res.status / 100, res.code()), (4, code), "{body}: {res:?}");
        assert!(res.body.to_string().contains(field), "{body}: {res:?}");
    }
    let unpriced = post(
        &d,
        "/v1/sandbox/pay",
        &admin,
        json!({"payment_request": tips["offer"]}),
    );
    assert_eq!(
        (unpriced.status, unpriced.code()),
        (422, "amount_required"),
        "{unpriced:?}"
    );
    assert_eq!(
        get(&d, "/v1/lightning/offers", &admin).body["data"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
}
