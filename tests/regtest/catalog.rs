//! The catalog on the sandbox: tax rates and items made through the API, a cart of items, a
//! custom amount and a tip charged as one invoice, paid by the sandbox's customer; the invoice,
//! the `payment.received` event, the day's report and the CSV all carry its lines and parts. A
//! point-of-sale key reads the catalog but cannot change it; bad carts are refused with the
//! field named and make no invoice.

use serde_json::{json, Value};

use crate::common::*;

fn count_invoices(d: &Daemon, key: &str) -> usize {
    get(d, "/v1/lightning/invoices?limit=100", key).body["data"]
        .as_array()
        .map_or(0, Vec::len)
}

#[test]
fn a_cart_with_taxes_and_a_tip_is_charged_paid_and_reported() {
    let dir = tempdir();
    let d = Daemon::sandbox(dir.path());
    let admin = d.admin().to_string();

    // The shop's taxes: 10 % included (the default) and 5 % added on top.
    let vat = post(
        &d,
        "/v1/catalog/taxes",
        &admin,
        json!({"name": "VAT", "rate": "10", "inclusive": true, "default": true}),
    );
    assert_eq!(vat.status, 201, "{vat:?}");
    let levy = post(
        &d,
        "/v1/catalog/taxes",
        &admin,
        json!({"name": "Levy", "rate": "5", "inclusive": false}),
    );
    assert_eq!(levy.status, 201, "{levy:?}");
    let levy_id = levy.body["id"].as_str().expect("tax id").to_string();

    // Items in sats (this shop counts in sats).
    let espresso = post(
        &d,
        "/v1/catalog/items",
        &admin,
        json!({"name": "Espresso", "price": "2500", "category": "Drinks"}),
    );
    assert_eq!(espresso.status, 201, "{espresso:?}");
    assert_eq!(espresso.body["tax"], "default");
    let cookie = post(
        &d,
        "/v1/catalog/items",
        &admin,
        json!({"name": "Cookie", "price": "1200", "category": "Food", "tax": "none"}),
    );
    assert_eq!(cookie.status, 201, "{cookie:?}");
    let (espresso_id, cookie_id) = (
        espresso.body["id"].as_str().expect("id").to_string(),
        cookie.body["id"].as_str().expect("id").to_string(),
    );

    // A point-of-sale key reads the catalog, and cannot change it.
    let pos_key = receive_key(&d, &admin);
    let items = get(&d, "/v1/catalog/items", &pos_key);
    assert_eq!(items.status, 200, "{items:?}");
    assert_eq!(items.body["data"].as_array().map(Vec::len), Some(2));
    let denied = post(
        &d,
        "/v1/catalog/items",
        &pos_key,
        json!({"name": "Free lunch", "price": "1"}),
    );
    assert_eq!(
        (denied.status, denied.code()),
        (403, "missing_permission"),
        "{denied:?}"
    );

    // Bad carts: the field named, no invoice made.
    let before = count_invoices(&d, &admin);
    for (cart, status, field) in [
        (json!({"lines": []}), 400, "cart.lines"),
        (
            json!({"lines": [{"item_id": espresso_id, "quantity": 0}]}),
            400,
            "cart.lines",
        ),
        (
            json!({"lines": [{"item_id": "itm_missing"}]}),
            422,
            "cart.lines",
        ),
        (
            json!({"currency": "EUR", "lines": [{"item_id": espresso_id}]}),
            422,
            "cart.lines",
        ),
        (
            json!({"lines": [{"item_id": espresso_id, "unit_price": "1"}]}),
            400,
            "cart.lines",
        ),
        (
            json!({"lines": [{"unit_price": "10.5"}]}),
            400,
            "cart.lines",
        ),
        (
            json!({"lines": [{"item_id": espresso_id}], "tip": {"percent": "150"}}),
            400,
            "cart.tip.percent",
        ),
    ] {
        let res = post(
            &d,
            "/v1/lightning/invoices",
            &pos_key,
            json!({ "cart": cart }),
        );
        assert_eq!(res.status, status, "{cart}: {res:?}");
        assert_eq!(res.body["error"]["field"], field, "{cart}: {res:?}");
    }
    let both = post(
        &d,
        "/v1/lightning/invoices",
        &pos_key,
        json!({"amount": 100, "cart": {"lines": [{"item_id": espresso_id}]}}),
    );
    assert_eq!(both.body["error"]["field"], "cart", "{both:?}");
    assert_eq!(count_invoices(&d, &admin), before, "no invoice made");

    // 2 espressos (5,000 incl. 10 %: tax 454.5 → 455), a cookie (1,200, untaxed), a custom
    // 999 with the 5 % levy on top (49.95 → 50), and a 10 % tip on what is due.
    let made = post(
        &d,
        "/v1/lightning/invoices",
        &pos_key,
        json!({"cart": {
            "lines": [
                {"item_id": espresso_id, "quantity": 2, "note": "one decaf"},
                {"item_id": cookie_id},
                {"name": "Sticker", "unit_price": "999", "tax": levy_id}
            ],
            "tip": {"percent": "10"}
        }}),
    );
    assert_eq!(made.status, 201, "{made:?}");
    let invoice = made.body;
    let order = &invoice["order"];
    assert_eq!(order["currency"], Value::Null, "{order}");
    assert_eq!(order["subtotal"], "7199");
    assert_eq!(order["net"], "6744");
    assert_eq!(order["tax"], "505");
    assert_eq!(order["tip"], "725", "10 % of 7,249 = 724.9, half up");
    assert_eq!(order["tip_percent"], "10");
    assert_eq!(order["total"], "7974");
    assert_eq!(invoice["amount"], 7_974, "the invoice asks for the total");
    assert_eq!(invoice["description"], "2× Espresso, Cookie, Sticker");
    assert_eq!(order["lines"][0]["note"], "one decaf");
    assert_eq!(order["taxes"].as_array().map(Vec::len), Some(2), "{order}");

    // A price change later does not change the sale.
    let changed = call(
        "PATCH",
        &d.url(&format!("/v1/catalog/items/{espresso_id}")),
        Some(&admin),
        Some(&json!({"price": "3000"})),
    );
    assert_eq!(changed.status, 200, "{changed:?}");

    let id = invoice["id"].as_str().expect("id").to_string();
    // No receipt before it is paid.
    let early = get(
        &d,
        &format!("/v1/lightning/invoices/{id}/receipt"),
        &pos_key,
    );
    assert_eq!(
        (early.status, early.code()),
        (409, "invoice_not_paid"),
        "{early:?}"
    );
    let invoice = customer_pays(&d, &admin, &invoice);
    assert_eq!(invoice["order"]["total"], "7974");
    assert_eq!(invoice["order"]["lines"][0]["unit_price"], "2500");

    let received = received_event(&d, &admin, &id);
    assert_eq!(received["order"]["tip"], "725", "{received}");
    assert_eq!(
        received["order"]["lines"][2]["name"], "Sticker",
        "{received}"
    );

    let day = get(&d, "/v1/reports/day", &admin).body;
    let parts = &day["parts"][0];
    assert_eq!(
        (
            &parts["count"],
            &parts["net"],
            &parts["tax"],
            &parts["tip"],
            &parts["total"]
        ),
        (
            &json!(1),
            &json!("6744"),
            &json!("505"),
            &json!("725"),
            &json!("7974")
        ),
        "{day}"
    );
    let csv = transactions_csv(&d, &admin);
    let row = csv_row(&csv, &id);
    // The sale's parts, then (no offer, not on-chain) its tender, no cashier or shift (the
    // owner, no shift open), no cash columns, and its taxes split by rate.
    assert!(
        row.ends_with(
            ",sat,6744,505,725,2× Espresso (one decaf); Cookie; Sticker,,,,lightning,,,,,,VAT 10%: 4545 + 455; Levy 5%: 999 + 50"
        ),
        "{row}"
    );

    // The receipt: the shop's details (escaped), every part, both papers, and a file to save.
    let shop = call(
        "PATCH",
        &d.url("/v1/settings"),
        Some(&admin),
        Some(
            &json!({"shop": {"name": "Kiosk <3", "address": "Quai 1\n8000 Zürich", "tax_id": "CHE-123", "footer": "Merci!"}}),
        ),
    );
    assert_eq!(shop.status, 200, "{shop:?}");
    assert_eq!(shop.body["shop"]["name"], "Kiosk <3");
    let bad = call(
        "PATCH",
        &d.url("/v1/settings"),
        Some(&admin),
        Some(&json!({"shop": {"name": "a\tb"}})),
    );
    assert_eq!(bad.body["error"]["field"], "shop.name", "{bad:?}");
    let receipt = client()
        .get(d.url(&format!("/v1/lightning/invoices/{id}/receipt")))
        .bearer_auth(&pos_key)
        .send()
        .expect("receipt");
    assert_eq!(receipt.status().as_u16(), 200);
    assert_eq!(
        receipt.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    assert!(receipt.headers()["content-security-policy"]
        .to_str()
        .is_ok_and(|c| c.starts_with("default-src 'none'")));
    let page = receipt.text().expect("html");
    for part in [
        "Kiosk &lt;3",
        "8000 Zürich",
        "Tax ID CHE-123",
        "2 × ",
        "Espresso",
        "one decaf",
        "incl. VAT 10 %",
        "Levy 5 %",
        "Tip 10 %",
        "7,974 sats",
        "Merci!",
        "size: 80mm auto",
    ] {
        assert!(page.contains(part), "{part} in\n{page}");
    }
    let a4 = client()
        .get(d.url(&format!(
            "/v1/lightning/invoices/{id}/receipt?paper=a4&download=true"
        )))
        .bearer_auth(&admin)
        .send()
        .expect("a4 receipt");
    assert_eq!(
        a4.headers()["content-disposition"],
        format!("attachment; filename=\"receipt-{id}.html\"").as_str()
    );
    assert!(a4.text().expect("html").contains("size: A4"));
    let paper = get(
        &d,
        &format!("/v1/lightning/invoices/{id}/receipt?paper=letter"),
        &admin,
    );
    assert_eq!(
        (paper.status, paper.code()),
        (400, "invalid_query"),
        "{paper:?}"
    );

    // A tax rate an item is sold under cannot be archived; once none is, it can.
    let archive = |tax: &str| {
        call(
            "PATCH",
            &d.url(&format!("/v1/catalog/taxes/{tax}")),
            Some(&admin),
            Some(&json!({"archived": true})),
        )
    };
    let sticker = post(
        &d,
        "/v1/catalog/items",
        &admin,
        json!({"name": "Sticker", "price": "999", "tax": levy_id}),
    );
    let conflict = archive(&levy_id);
    assert_eq!(
        (conflict.status, conflict.code()),
        (409, "catalog_conflict"),
        "{conflict:?}"
    );
    let sticker_id = sticker.body["id"].as_str().expect("id");
    let gone = call(
        "DELETE",
        &d.url(&format!("/v1/catalog/items/{sticker_id}")),
        Some(&admin),
        None,
    );
    assert_eq!(gone.status, 204, "{gone:?}");
    assert_eq!(archive(&levy_id).status, 200);
}
