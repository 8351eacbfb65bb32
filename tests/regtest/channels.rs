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

    let before = channels(&d, &admin).len();
    let opened_events = events_of(&d, &admin, "channel.opened").len();
    let res = post(
        &d,
        "/v1/node/channels",
        &admin,
        json!({"node_id": node_id, "address": address, "amount": 100_000, "push_amount": 10_000}),
    );
    assert_eq!(res.status, 201, "{res:?}");
    let user_channel_id = res.body["user_channel_id"]
        .as_str()
        .expect("id")
        .to_string();
    wait_for(30, "the funding transaction to be broadcast", || {
        (channels(&d, &admin).len() == before + 1).then_some(())
    });
    // Mine until it is usable: the funding transaction reaches the mempool only after the peer
    // has signed, a moment after the channel first shows up as pending.
    let channel = wait_for(90, "the new channel to be usable", || {
        let mined = post(&d, "/v1/sandbox/mine", &admin, json!({"blocks": 1}));
        assert_eq!(mined.status, 200, "{mined:?}");
        std::thread::sleep(std::time::Duration::from_millis(500));
        channels(&d, &admin)
            .into_iter()
            .find(|c| c["user_channel_id"] == user_channel_id.as_str() && c["state"] == "usable")
    });
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
}
