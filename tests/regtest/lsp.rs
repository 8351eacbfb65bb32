//! A new merchant's first payment through an LSP (LSPS2 just-in-time channel), on real nodes: the
//! fresh sandbox's merchant has no channels and no funds; an invoice above what it can receive is
//! made through the sandbox's LSP, whose channel opens when the customer pays, and the fee it kept
//! is recorded. A quote above the merchant's cap and an LSP that does not answer make no invoice.

use serde_json::json;

use crate::common::*;

#[test]
fn a_fresh_merchant_is_paid_through_a_channel_the_lsp_opens() {
    let dir = tempdir();
    // A cap below the sandbox LSP's 2,000 sat minimum fee: refused, nothing made.
    let mut d = Daemon::start(
        dir.path(),
        &[
            "--lsp-max-fee-base-sat",
            "100",
            "--lsp-max-fee-ppm",
            "0",
            "sandbox",
            "--fresh",
        ],
        true,
    );
    let balance = get(&d, "/v1/lightning/balance", d.admin()).body;
    assert_eq!(
        balance["total"], 0,
        "a fresh merchant has nothing: {balance}"
    );
    let refused = post(
        &d,
        "/v1/lightning/invoices",
        d.admin(),
        json!({"amount": 100_000, "description": "First sale"}),
    );
    assert_eq!(
        (refused.status, refused.code()),
        (422, "lsp_fee_too_high"),
        "{refused:?}"
    );
    let says = refused.body["error"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        says.contains("at most 100 sat") && says.contains("no invoice was made"),
        "{says}"
    );
    let none = get(&d, "/v1/lightning/invoices", d.admin()).body;
    assert_eq!(none["data"], json!([]), "no invoice was made");
    assert!(d.stop());

    // With the default cap (5,000 sat + 1 %): made through the LSP, which quotes its fee.
    let d = Daemon::start(dir.path(), &["sandbox", "--fresh"], true);
    let key = d.admin().to_string();
    // The readiness panel: the LSP answers, and the first payment opens a channel through it.
    let ready = wait_for(60, "the chain check ok", || {
        let r = get(&d, "/v1/node/readiness", &key).body;
        (check(&r, "chain")["status"] == "ok").then_some(r)
    });
    assert_eq!(check(&ready, "lsp")["status"], "ok", "{ready}");
    let inbound = check(&ready, "inbound");
    assert_eq!(inbound["status"], "ok", "{ready}");
    let says = inbound["summary"].as_str().unwrap_or_default();
    assert!(
        says.contains("the first payment opens one through your LSP")
            && says.contains("25,000 sats per channel"),
        "{says}"
    );
    let inv = post(
        &d,
        "/v1/lightning/invoices",
        &key,
        json!({"amount": 100_000, "description": "First sale"}),
    );
    assert_eq!(inv.status, 201, "{inv:?}");
    let lsp = inv.body["lsp"].clone();
    assert_eq!(
        lsp["max_fee"], 2_000,
        "1 % of 100,000 is below the 2,000 sat minimum: {lsp}"
    );
    assert!(lsp["node_id"].as_str().is_some_and(|id| id.len() == 66));
    assert_eq!(inv.body["warnings"], json!([]), "the LSP makes it payable");

    let paid = post(
        &d,
        "/v1/sandbox/pay",
        &key,
        json!({"payment_request": inv.body["payment_request"]}),
    );
    assert_eq!(paid.body["status"], "succeeded", "{paid:?}");
    let id = inv.body["id"].as_str().expect("id");
    let got = wait_for(30, "the invoice paid", || {
        let i = get(&d, &format!("/v1/lightning/invoices/{id}"), &key).body;
        (i["status"] == "paid").then_some(i)
    });
    assert_eq!(
        got["amount_received"], 98_000,
        "the payment less the LSP's fee: {got}"
    );
    assert_eq!(
        (got["lsp"]["fee"].clone(), got["lsp"]["fee_msat"].clone()),
        (json!(2_000), json!(2_000_000))
    );
    let events = get(&d, "/v1/events?tail=10", &key).body["data"].clone();
    let received = events
        .as_array()
        .and_then(|a| a.iter().find(|e| e["event"] == "payment.received"))
        .cloned()
        .expect("payment.received");
    assert_eq!(
        (received["amount"].clone(), received["lsp_fee"].clone()),
        (json!(98_000), json!(2_000))
    );
    assert!(
        events
            .as_array()
            .is_some_and(|a| a.iter().any(|e| e["event"] == "channel.opened")),
        "{events}"
    );
    let channels = get(&d, "/v1/node", &key).body["channels"].clone();
    assert_eq!(channels.as_array().map(Vec::len), Some(1), "{channels}");
    assert_eq!(channels[0]["counterparty_node_id"], lsp["node_id"]);
    let balance = get(&d, "/v1/lightning/balance", &key).body;
    assert_eq!(balance["lightning"]["total"], 98_000, "{balance}");
    assert!(
        balance["lightning"]["max_single_receive"].as_u64() > Some(50_000),
        "{balance}"
    );

    // The next payment fits the new channel: no LSP, no fee.
    let next = post(
        &d,
        "/v1/lightning/invoices",
        &key,
        json!({"amount": 50_000, "description": "Second sale"}),
    );
    assert_eq!(
        (next.status, next.body["lsp"].clone()),
        (201, json!(null)),
        "{next:?}"
    );
    post(
        &d,
        "/v1/sandbox/pay",
        &key,
        json!({"payment_request": next.body["payment_request"]}),
    );
    let second = next.body["id"].as_str().expect("id");
    let got = wait_for(30, "the second invoice paid", || {
        let i = get(&d, &format!("/v1/lightning/invoices/{second}"), &key).body;
        (i["status"] == "paid").then_some(i)
    });
    assert_eq!(
        (got["amount_received"].clone(), got["lsp"].clone()),
        (json!(50_000), json!(null))
    );
}

#[test]
fn an_lsp_that_does_not_answer_makes_no_invoice() {
    let bitcoind = own_bitcoind();
    let dir = tempdir();
    // A valid node id at an address where nothing listens.
    let lsp = format!(
        "0325fe64c80dd210f147d3b163006bee9c23529a95f4df7b491cae4a1133eba261@127.0.0.1:{}",
        free_port()
    );
    let rpc = format!("127.0.0.1:{}", bitcoind.rpc_port);
    let d = Daemon::start(
        dir.path(),
        &[
            "--network",
            "regtest",
            "--lsp",
            &lsp,
            "serve",
            "--bitcoind-rpc",
            &rpc,
            "--bitcoind-rpc-user",
            "shop",
            "--bitcoind-rpc-password",
            "till",
        ],
        true,
    );
    wait_for(60, "the node running", || {
        (get(&d, "/v1/health", d.admin()).body["node"]["state"] == "running").then_some(())
    });
    let res = post(
        &d,
        "/v1/lightning/invoices",
        d.admin(),
        json!({"amount": 10_000, "description": "x"}),
    );
    assert_eq!(
        (res.status, res.code()),
        (503, "lsp_unavailable"),
        "{res:?}"
    );
    let says = res.body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        says.contains("did not answer") && says.contains("no invoice was made"),
        "{says}"
    );
    assert_eq!(
        get(&d, "/v1/lightning/invoices", d.admin()).body["data"],
        json!([])
    );
    // The readiness panel says so before anyone tries, and what to do.
    let ready = get(&d, "/v1/node/readiness", d.admin()).body;
    assert_eq!(ready["ready"], false, "{ready}");
    let lsp_check = check(&ready, "lsp");
    assert_eq!(lsp_check["status"], "attention", "{ready}");
    assert!(
        lsp_check["summary"]
            .as_str()
            .is_some_and(|s| s.contains("cannot be reached")),
        "{lsp_check}"
    );
    assert!(lsp_check["action"]
        .as_str()
        .is_some_and(|a| a.contains("lsp_unavailable")));
}

/// The readiness check with this id.
fn check(readiness: &serde_json::Value, id: &str) -> serde_json::Value {
    readiness["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == id))
        .cloned()
        .unwrap_or_else(|| panic!("no {id} check in {readiness}"))
}

#[test]
fn an_lsp_chosen_in_settings_applies_at_the_next_start_and_wins_over_the_flags() {
    let bitcoind = own_bitcoind();
    let dir = tempdir();
    let mut args: Vec<String> = vec!["--network".into(), "regtest".into(), "serve".into()];
    args.extend(bitcoind.serve_args());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut d = Daemon::start(dir.path(), &args, true);
    let key = d.admin().to_string();
    let settings = get(&d, "/v1/settings", &key).body;
    assert_eq!(
        (&settings["lsp"], &settings["restart_required"]),
        (&json!(null), &json!(false)),
        "{settings}"
    );
    let id = "0325fe64c80dd210f147d3b163006bee9c23529a95f4df7b491cae4a1133eba261";
    let closed = format!("127.0.0.1:{}", free_port());
    for (change, field) in [
        (
            json!({"lsp": {"node_id": "02abc", "address": closed}}),
            "lsp.node_id",
        ),
        (
            json!({"lsp": {"node_id": id, "address": "nowhere"}}),
            "lsp.address",
        ),
        (json!({"lsp_max_fee_ppm": 200_000}), "lsp_max_fee_ppm"),
    ] {
        let res = call("PATCH", &d.url("/v1/settings"), Some(&key), Some(&change));
        assert_eq!(
            (res.status, res.body["error"]["field"].as_str()),
            (400, Some(field)),
            "{:?}",
            res.body
        );
    }
    let saved = call(
        "PATCH",
        &d.url("/v1/settings"),
        Some(&key),
        Some(&json!({
            "lsp": {"node_id": id, "address": closed, "token": "promo-21"},
            "lsp_max_fee_base_sat": 1_000,
            "lsp_max_fee_ppm": 5_000
        })),
    );
    assert_eq!(saved.status, 200, "{:?}", saved.body);
    assert_eq!(saved.body["restart_required"], true);
    assert_eq!(saved.body["lsp"], json!(null), "not before the next start");
    assert!(
        !saved.body.to_string().contains("promo-21"),
        "the token is never shown"
    );
    assert!(d.stop());

    // The next start runs with it, over the --lsp flag given, and the readiness panel probes it.
    let flag = format!("{id}@127.0.0.1:1");
    let mut with_flag = vec!["--lsp", flag.as_str()];
    with_flag.extend(args.iter().copied());
    let d = Daemon::start(dir.path(), &with_flag, true);
    let settings = get(&d, "/v1/settings", &key).body;
    assert_eq!(
        settings["lsp"],
        json!({"node_id": id, "address": closed, "max_fee_base_sat": 1_000, "max_fee_ppm": 5_000}),
        "{settings}"
    );
    assert_eq!(settings["restart_required"], false);
    wait_for(60, "the node running", || {
        (get(&d, "/v1/health", &key).body["node"]["state"] == "running").then_some(())
    });
    let ready = get(&d, "/v1/node/readiness", &key).body;
    assert_eq!(check(&ready, "lsp")["status"], "attention", "{ready}");
    let removed = call(
        "PATCH",
        &d.url("/v1/settings"),
        Some(&key),
        Some(&json!({"lsp": null})),
    );
    assert_eq!(removed.body["restart_required"], true, "{:?}", removed.body);
}
