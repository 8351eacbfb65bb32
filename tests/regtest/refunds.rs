//! Refunds on the sandbox: part of a paid sale goes back to the customer's invoice as a payment
//! linked to the sale, seen on both records, with a `payment.refunded` event, in the day report
//! and as a `refund` row of the CSV; an unpaid invoice has nothing to refund; and refunds sent
//! at once can never together pass what the sale received, not even when the app is killed while
//! one is on its way.

use serde_json::{json, Value};

use crate::common::*;

#[test]
fn refunds_are_linked_reported_and_never_pass_what_was_received() {
    let dir = tempdir();
    let d = Daemon::sandbox(dir.path());
    let admin = d.admin().to_string();
    let sale = pay_merchant(&d, &admin, 10_000, "Returned goods");
    let id = sale["id"].as_str().expect("id").to_string();
    let sale = wait_for(30, "the sale paid", || {
        let i = get(&d, &format!("/v1/lightning/invoices/{id}"), &admin).body;
        (i["status"] == "paid").then_some(i)
    });
    assert_eq!(sale["amount_refunded"], 0);

    // Nothing to refund on an unpaid invoice; a cashier-like key cannot refund.
    let unpaid = post(&d, "/v1/lightning/invoices", &admin, json!({"amount": 500}));
    let unpaid_id = unpaid.body["id"].as_str().expect("id");
    let refused = post(
        &d,
        &format!("/v1/lightning/invoices/{unpaid_id}/refund"),
        &admin,
        json!({"invoice": customer_invoice(&d, &admin, 100, "refund")}),
    );
    assert_eq!(
        (refused.status, refused.code()),
        (409, "invoice_not_paid"),
        "{refused:?}"
    );
    let pos = receive_key(&d, &admin);
    let denied = post(
        &d,
        &format!("/v1/lightning/invoices/{id}/refund"),
        &pos,
        json!({"invoice": customer_invoice(&d, &admin, 100, "refund")}),
    );
    assert_eq!(denied.status, 403, "{denied:?}");

    // 3,000 back: a payment linked to the sale.
    let refund = post(
        &d,
        &format!("/v1/lightning/invoices/{id}/refund"),
        &admin,
        json!({"invoice": customer_invoice(&d, &admin, 3_000, "refund")}),
    );
    assert_eq!(refund.status, 201, "{refund:?}");
    assert_eq!(refund.body["status"], "succeeded", "{refund:?}");
    assert_eq!(refund.body["refund_of"], id.as_str());
    let sale = get(&d, &format!("/v1/lightning/invoices/{id}"), &admin).body;
    assert_eq!(sale["amount_refunded"], 3_000, "{sale}");

    // More than is left is refused, and says how much can go back.
    let over = post(
        &d,
        &format!("/v1/lightning/invoices/{id}/refund"),
        &admin,
        json!({"invoice": customer_invoice(&d, &admin, 7_001, "refund")}),
    );
    assert_eq!(
        (over.status, over.code()),
        (422, "refund_exceeds_received"),
        "{over:?}"
    );
    let message = over.body["error"]["message"].as_str().unwrap_or("");
    assert!(message.contains("at most 7,000 sat"), "{message}");

    // Four refunds of 3,000 at once with 7,000 left: two go through, two are refused.
    let invoices: Vec<String> = (0..4)
        .map(|_| customer_invoice(&d, &admin, 3_000, "refund"))
        .collect();
    let results: Vec<Value> = std::thread::scope(|s| {
        let handles: Vec<_> = invoices
            .iter()
            .map(|inv| {
                let (url, key) = (
                    d.url(&format!("/v1/lightning/invoices/{id}/refund")),
                    &admin,
                );
                s.spawn(move || {
                    let res = call("POST", &url, Some(key), Some(&json!({"invoice": inv})));
                    json!({"status": res.status, "body": res.body})
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("refund thread"))
            .collect()
    });
    let passed = results.iter().filter(|r| r["status"] == 201).count();
    let over = results
        .iter()
        .filter(|r| r["body"]["error"]["code"] == "refund_exceeds_received")
        .count();
    assert_eq!((passed, over), (2, 2), "{results:?}");
    let sale = wait_for(30, "the refunds settled", || {
        let s = get(&d, &format!("/v1/lightning/invoices/{id}"), &admin).body;
        (s["amount_refunded"] == 9_000).then_some(s)
    });
    assert!(
        sale["amount_refunded_msat"].as_u64() <= sale["amount_received_msat"].as_u64(),
        "{sale}"
    );

    // Events, day report and CSV.
    let events = get(&d, "/v1/events?after=0&limit=200", &admin).body;
    let refunded: Vec<&Value> = events["data"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|e| e["event"] == "payment.refunded")
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(refunded.len(), 3, "{events}");
    assert_eq!(refunded[2]["refunded"], 9_000, "{:?}", refunded[2]);
    assert_eq!(refunded[0]["invoice_id"], id.as_str());
    let day = get(&d, "/v1/reports/day", &admin).body;
    assert_eq!(day["refunds"]["count"], 3, "{day}");
    assert_eq!(day["refunds"]["sats"], 9_000, "{day}");
    let csv = transactions_csv(&d, &admin);
    let refund_rows = csv.lines().filter(|l| l.contains(",refund,")).count();
    assert_eq!(refund_rows, 3, "{csv}");
    assert!(
        csv.lines()
            .filter(|l| l.contains(",refund,"))
            .all(|l| l.contains(&id)),
        "each refund row names the sale: {csv}"
    );
}

/// The refunds of `sale` on record, as (status, amount in sat).
fn refunds_of(d: &Daemon, key: &str, sale: &str) -> Vec<(String, u64)> {
    let list = get(d, "/v1/lightning/payments?limit=100", key).body;
    list["data"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter(|p| p["refund_of"] == sale)
                .map(|p| {
                    (
                        p["status"].as_str().unwrap_or("").to_string(),
                        p["amount_msat"].as_u64().unwrap_or(0) / 1000,
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_refund_cut_off_by_a_kill_still_counts_against_the_sale() {
    let dir = tempdir();
    let mut d = Daemon::sandbox(dir.path());
    let admin = d.admin().to_string();
    let sale = pay_merchant(&d, &admin, 10_000, "Returned later");
    let id = sale["id"].as_str().expect("id").to_string();
    wait_for(30, "the sale paid", || {
        let i = get(&d, &format!("/v1/lightning/invoices/{id}"), &admin).body;
        (i["status"] == "paid").then_some(())
    });
    let path = format!("/v1/lightning/invoices/{id}/refund");

    // 6,000 back, and the app killed the moment the refund is on record (or its answer came).
    let first = json!({"invoice": customer_invoice(&d, &admin, 6_000, "refund")});
    let url = d.url(&path);
    let sender = {
        let admin = admin.clone();
        std::thread::spawn(move || {
            // The kill may cut the answer off: only a status that came is returned.
            client()
                .post(url)
                .bearer_auth(admin)
                .header("content-type", "application/json")
                .body(first.to_string())
                .send()
                .map(|r| r.status().as_u16())
                .ok()
        })
    };
    let seen = loop {
        let refunds = refunds_of(&d, &admin, &id);
        if !refunds.is_empty() || sender.is_finished() {
            break refunds;
        }
    };
    d.kill();
    let answered = sender.join().expect("refund thread");
    eprintln!("the kill found the refund as {seen:?}; its answer: {answered:?}");

    d = Daemon::sandbox(dir.path());
    // Another 6,000 fits only if the first is known to have failed for good: a refund the
    // node may still be sending counts against the sale.
    let second = post(
        &d,
        &path,
        &admin,
        json!({"invoice": customer_invoice(&d, &admin, 6_000, "again")}),
    );
    let after = refunds_of(&d, &admin, &id);
    match second.status {
        422 => assert_eq!(second.code(), "refund_exceeds_received", "{second:?}"),
        201 => assert!(
            after.iter().filter(|(s, _)| s != "failed").count() <= 1,
            "a second refund passed while the first could still be sent: {after:?}"
        ),
        _ => panic!("{second:?}"),
    }

    // Once every refund is final, the sale's record, its events and the payments agree, and
    // together they never pass what the sale received.
    let settled = wait_for(120, "every refund final", || {
        let all = refunds_of(&d, &admin, &id);
        all.iter().all(|(s, _)| s != "pending").then_some(all)
    });
    let refunded: u64 = settled
        .iter()
        .filter(|(s, _)| s == "succeeded")
        .map(|(_, sat)| sat)
        .sum();
    eprintln!(
        "after the restart: a second refund answered {}; settled {settled:?}",
        second.status
    );
    assert!(
        refunded <= 10_000,
        "refunded {refunded} of 10,000: {settled:?}"
    );
    let sale = get(&d, &format!("/v1/lightning/invoices/{id}"), &admin).body;
    assert_eq!(sale["amount_refunded"], refunded, "{sale} {settled:?}");
    let events = get(&d, "/v1/events?after=0&limit=200", &admin).body;
    let told = events["data"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|e| e["event"] == "payment.refunded" && e["invoice_id"] == id.as_str())
                .count()
        })
        .unwrap_or(0);
    assert_eq!(
        told,
        settled.iter().filter(|(s, _)| s == "succeeded").count(),
        "one payment.refunded event per refund that went through: {events}"
    );
}
