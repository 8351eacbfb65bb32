//! What grows with history: finished payments leave the node's own store (ldk-node keeps every
//! record it has in memory and reads them all at start), live ones stay, and the node's store is
//! a write-ahead log.

use serde_json::json;

use crate::common::*;

fn node_records(d: &Daemon) -> u64 {
    get(d, "/v1/node", d.admin()).body["payment_records"]
        .as_u64()
        .expect("payment_records in /v1/node")
}

#[test]
fn finished_payments_leave_the_node_store_and_live_ones_stay() {
    let dir = tempdir();
    let mut d = Daemon::sandbox(dir.path());
    let admin = d.admin().to_string();
    let before = node_records(&d);

    // Three invoices that expire unpaid, one paid now (its record stays a day past its expiry:
    // until LDK's own clock passes the expiry, it is what refuses a second payment), one open,
    // and one payment sent to the customer.
    let mut expiring = Vec::new();
    for n in 0..3 {
        let body = json!({"amount": 100 + n, "description": "soon gone", "expiry": 1});
        let made = post(&d, "/v1/lightning/invoices", &admin, body);
        assert_eq!(made.status, 201, "{made:?}");
        expiring.push(made.body["id"].as_str().expect("id").to_string());
    }
    let paid = pay_merchant(&d, &admin, 300, "paid");
    let open = post(
        &d,
        "/v1/lightning/invoices",
        &admin,
        json!({"amount": 400, "description": "still open"}),
    );
    assert_eq!(open.status, 201, "{open:?}");
    let invoice = customer_invoice(&d, &admin, 250, "sent");
    let sent = post(
        &d,
        "/v1/lightning/payments",
        &admin,
        json!({"invoice": invoice}),
    );
    assert_eq!(sent.body["status"], "succeeded", "{sent:?}");
    let made = node_records(&d);
    assert_eq!(made, before + 6, "one record each in the node's store");

    // The pruner's first pass runs right after the node starts.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(d.stop(), "graceful stop; log:\n{}", d.log_tail());
    let d = Daemon::sandbox(dir.path());
    let left = wait_for(
        30,
        "the finished payments to leave the node's store",
        || {
            let n = node_records(&d);
            (n <= made - 4).then_some(n)
        },
    );
    assert_eq!(
        left,
        made - 4,
        "the three expired invoices and the sent payment left; the paid and the open one stayed"
    );

    // This app's own record is whole.
    for id in &expiring {
        let got = get(&d, &format!("/v1/lightning/invoices/{id}"), &admin);
        assert_eq!(got.body["status"], "expired", "{got:?}");
    }
    let paid_id = paid["id"].as_str().expect("id");
    let got = get(&d, &format!("/v1/lightning/invoices/{paid_id}"), &admin);
    assert_eq!(got.body["status"], "paid", "{got:?}");
    let sent_id = sent.body["id"].as_str().expect("id");
    let got = get(&d, &format!("/v1/lightning/payments/{sent_id}"), &admin);
    assert_eq!(
        (
            got.body["status"].as_str(),
            got.body["preimage"].is_string()
        ),
        (Some("succeeded"), true),
        "{got:?}"
    );
    let expired = get(&d, "/v1/lightning/invoices?status=expired", &admin);
    assert_eq!(expired.body["data"].as_array().map(Vec::len), Some(3));
    // The open invoice is still paid in full after the restart and the pruning.
    let paid_later = customer_pays(&d, &admin, &open.body);
    assert_eq!(paid_later["status"], "paid", "{paid_later}");

    // The node's store is a write-ahead log: the file format's write version (byte 18) is 2.
    let header = std::fs::read(dir.path().join("ldk/ldk_node_data.sqlite")).expect("node store");
    assert_eq!(header.get(18), Some(&2), "WAL mode in the file header");
}
