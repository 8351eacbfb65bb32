//! Channels through the API: bad requests refused with the field named; a real channel opened to
//! the sandbox's customer node, confirmed by mining, then closed, each with its event.

use serde_json::{json, Value};

use crate::common::*;

fn channels(d: &Daemon, admin: &str) -> Vec<Value> {
    get(d, "/v1/node", admin).body["channels"]
        .as_array()
        .expect("channels")
        .clone()
}

fn events_of(d: &Daemon, admin: &str, kind: &str) -> Vec<Value> {
    get(d, "/v1/events?limit=1000", admin).body["data"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["event"] == kind)
        .cloned()
        .collect()
}

/// Opens a channel to the customer and mines until it is usable; returns its `user_channel_id`
/// and the channel as `GET /v1/node` shows it.
fn open_usable(
    d: &Daemon,
    admin: &str,
    node_id: &str,
    address: &str,
    amount: u64,
    push: u64,
) -> (String, Value) {
    let before = channels(d, admin).len();
    let res = post(
        d,
        "/v1/node/channels",
        admin,
        json!({"node_id": node_id, "address": address, "amount": amount, "push_amount": push}),
    );
    assert_eq!(res.status, 201, "{res:?}");
    let user_channel_id = res.body["user_channel_id"]
        .as_str()
        .expect("id")
        .to_string();
    wait_for(30, "the funding transaction to be broadcast", || {
        (channels(d, admin).len() == before + 1).then_some(())
    });
    // Mine until it is usable: the funding transaction reaches the mempool only after the peer
    // has signed, a moment after the channel first shows up as pending.
    let channel = wait_for(90, "the new channel to be usable", || {
        let mined = post(d, "/v1/sandbox/mine", admin, json!({"blocks": 1}));
        assert_eq!(mined.status, 200, "{mined:?}");
        std::thread::sleep(std::time::Duration::from_millis(500));
        channels(d, admin)
            .into_iter()
            .find(|c| c["user_channel_id"] == user_channel_id.as_str() && c["state"] == "usable")
    });
    (user_channel_id, channel)
}

#[test]
fn open_and_close_a_channel() {
    let dir = tempdir();
    let d = Daemon::sandbox(dir.path());
    let admin = d.admin().to_string();
    let customer = get(&d, "/v1/sandbox/customer", &admin).body;
    let node_id = customer["node_id"].as_str().expect("node id").to_string();
    let address = customer["address"].as_str().expect("address").to_string();
    assert!(address.starts_with("127.0.0.1:"), "{customer}");

    for (body, status, field) in [
        (
            json!({"node_id": "02zz", "address": address, "amount": 100_000}),
            400,
            "node_id",
        ),
        (
            json!({"node_id": node_id, "address": "nowhere", "amount": 100_000}),
            400,
            "address",
        ),
        (
            json!({"node_id": node_id, "address": address, "amount": 1_000}),
            422,
            "amount",
        ),
        (
            json!({"node_id": node_id, "address": address, "amount": 100_000, "push_amount": 100_000}),
            422,
            "push_amount",
        ),
    ] {
        let res = post(&d, "/v1/node/channels", &admin, body.clone());
        assert_eq!(
            (res.status, res.body["error"]["field"].as_str()),
            (status, Some(field)),
            "{body} → {res:?}"
        );
    }
    let res = post(
        &d,
        "/v1/node/channels",
        &admin,
        json!({"node_id": node_id, "address": address, "amount": 2_100_000_000_000_000_u64}),
    );
    assert_eq!(
        (res.status, res.code()),
        (422, "insufficient_balance"),
        "{res:?}"
    );
    let reader = create_key(
        dir.path(),
        &["--name", "r", "--permissions", "lightning:read"],
    );
    let res = post(
        &d,
        "/v1/node/channels",
        &reader,
        json!({"node_id": node_id, "address": address, "amount": 100_000}),
    );
    assert_eq!(res.status, 403);

    let opened_events = events_of(&d, &admin, "channel.opened").len();
    let (user_channel_id, channel) = open_usable(&d, &admin, &node_id, &address, 100_000, 10_000);
    assert_eq!(channel["capacity"], 100_000);
    assert_eq!(channel["counterparty_node_id"], node_id.as_str());
    wait_for(30, "a channel.opened event", || {
        (events_of(&d, &admin, "channel.opened").len() == opened_events + 1).then_some(())
    });

    let res = call(
        "DELETE",
        &d.url(&format!("/v1/node/channels/{user_channel_id}")),
        Some(&admin),
        None,
    );
    assert_eq!(res.status, 202, "{res:?}");
    let closed = wait_for(60, "a channel.closed event", || {
        events_of(&d, &admin, "channel.closed").into_iter().next()
    });
    assert_eq!(closed["channel_id"], channel["channel_id"]);
    let res = call(
        "DELETE",
        &d.url("/v1/node/channels/nope"),
        Some(&admin),
        None,
    );
    assert_eq!((res.status, res.code()), (404, "not_found"));

    // A force-close: the channel's money leaves the Lightning total and shows as on its way back
    // on-chain, with the block from which it can be spent; nothing goes missing in between.
    let (forced_id, forced) = open_usable(&d, &admin, &node_id, &address, 200_000, 0);
    let owned = forced["balance"].as_u64().expect("channel balance");
    assert!(owned > 190_000 && owned <= 200_000, "{forced}");
    let before = get(&d, "/v1/lightning/balance", &admin).body;
    let res = call(
        "DELETE",
        &d.url(&format!("/v1/node/channels/{forced_id}?force=true")),
        Some(&admin),
        None,
    );
    assert_eq!(res.status, 202, "{res:?}");
    let closed = wait_for(60, "channel.closed for the forced close", || {
        events_of(&d, &admin, "channel.closed")
            .into_iter()
            .find(|e| e["channel_id"] == forced["channel_id"])
    });
    assert!(
        closed["reason"]
            .as_str()
            .unwrap_or("")
            .contains("force-closed"),
        "{closed}"
    );
    let entry = wait_for(60, "the closed channel's money, timelocked", || {
        post(&d, "/v1/sandbox/mine", &admin, json!({"blocks": 1}));
        std::thread::sleep(std::time::Duration::from_millis(500));
        let balance = get(&d, "/v1/lightning/balance", &admin).body;
        balance["closing"]["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .find(|e| e["channel_id"] == forced["channel_id"] && e["state"] == "timelocked")
            .cloned()
            .map(|e| (e, balance))
    });
    let (entry, after) = entry;
    let height = get(&d, "/v1/health", &admin).body["block_height"]
        .as_u64()
        .expect("height");
    let spendable_at = entry["spendable_at_height"].as_u64().expect("height");
    assert!(spendable_at > height, "{entry} at height {height}");
    assert!(
        entry["blocks_left"].as_u64().is_some_and(|b| b > 0),
        "{entry}"
    );
    // What comes back is the channel balance less the closing transaction's fee (we opened it).
    let amount = entry["amount"].as_u64().expect("amount");
    assert!(
        amount < owned && amount > owned - 10_000,
        "{amount} of {owned}"
    );
    let lightning_drop = before["lightning"]["total"].as_u64().expect("total")
        - after["lightning"]["total"].as_u64().expect("total");
    assert_eq!(
        lightning_drop, owned,
        "the closed channel left the Lightning total"
    );
    assert!(
        after["closing"]["total"].as_u64() >= Some(amount),
        "{after}"
    );
}
