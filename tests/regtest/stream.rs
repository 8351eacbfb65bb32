//! The WebSocket stream: replay from `?after=`, then live; a client that drops and resumes with
//! its last `seq` sees no gap and no duplicate; a foreign `Origin` or a missing key is refused.

use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;
use tungstenite::client::IntoClientRequest;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

use crate::common::*;

type Ws = WebSocket<MaybeTlsStream<TcpStream>>;

fn request(
    d: &Daemon,
    query: &str,
    headers: &[(&str, &str)],
) -> tungstenite::handshake::client::Request {
    let url = format!(
        "{}/v1/events/ws{query}",
        d.api.replacen("http://", "ws://", 1)
    );
    let mut req = url.into_client_request().expect("request");
    for (name, value) in headers {
        req.headers_mut().insert(
            tungstenite::http::HeaderName::from_bytes(name.as_bytes()).expect("name"),
            value.parse().expect("value"),
        );
    }
    req
}

fn connect(
    d: &Daemon,
    query: &str,
    headers: &[(&str, &str)],
) -> (Ws, tungstenite::handshake::client::Response) {
    let (ws, response) =
        tungstenite::connect(request(d, query, headers)).expect("websocket connect");
    if let MaybeTlsStream::Plain(s) = ws.get_ref() {
        s.set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
    }
    (ws, response)
}

fn refused(d: &Daemon, query: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    match tungstenite::connect(request(d, query, headers)) {
        Err(tungstenite::Error::Http(response)) => {
            let body = response.body().clone().unwrap_or_default();
            (
                response.status().as_u16(),
                serde_json::from_slice(&body).unwrap_or(Value::Null),
            )
        }
        Ok(_) => panic!("the connection should have been refused"),
        Err(e) => panic!("unexpected error: {e}"),
    }
}

/// The next event, skipping pings.
fn next_event(ws: &mut Ws) -> Value {
    loop {
        match ws.read().expect("read a frame") {
            Message::Text(text) => return serde_json::from_str(&text).expect("event JSON"),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

fn seqs(events: &[Value]) -> Vec<i64> {
    events
        .iter()
        .map(|e| e["seq"].as_i64().expect("seq"))
        .collect()
}

#[test]
fn stream_replays_resumes_and_refuses() {
    let dir = tempdir();
    let d = Daemon::sandbox(dir.path());
    let admin = d.admin().to_string();
    let reader = create_key(
        dir.path(),
        &["--name", "pos", "--permissions", "lightning:read"],
    );
    let bearer = format!("Bearer {reader}");
    let protocol = format!("bearer, {reader}");

    // Refusals, each with the contract's error shape.
    let (status, body) = refused(&d, "?after=0", &[]);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("missing_api_key"))
    );
    let (status, body) = refused(
        &d,
        "?after=0",
        &[
            ("authorization", &bearer),
            ("origin", "http://evil.example"),
        ],
    );
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("origin_not_allowed"))
    );
    let receiver = create_key(
        dir.path(),
        &["--name", "till", "--permissions", "lightning:receive"],
    );
    let (status, _) = refused(&d, "", &[("authorization", &format!("Bearer {receiver}"))]);
    assert_eq!(status, 403);
    let (status, body) = refused(&d, "?after=-1", &[("authorization", &bearer)]);
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (400, Some("after"))
    );

    // Replay of the whole log (the sandbox's channel openings), then live payments.
    let logged: Vec<Value> = get(&d, "/v1/events?limit=1000", &reader).body["data"]
        .as_array()
        .expect("events")
        .clone();
    assert!(!logged.is_empty(), "the sandbox logged its channels");
    let (mut ws, _) = connect(&d, "?after=0", &[("authorization", &bearer)]);
    let replayed: Vec<Value> = (0..logged.len()).map(|_| next_event(&mut ws)).collect();
    assert_eq!(replayed, logged, "the replay is the log, in order");
    let mut seen = replayed;
    for i in 0..3 {
        pay_merchant(&d, &admin, 500 + i, &format!("live {i}"));
        let event = next_event(&mut ws);
        assert_eq!(event["event"], "payment.received");
        assert_eq!(event["amount"], 500 + i);
        seen.push(event);
    }
    let last = seen.last().expect("events")["seq"].as_i64().expect("seq");
    ws.close(None).expect("close");
    drop(ws);

    // Missed while disconnected, then resumed with the browser form of auth and our own origin.
    for i in 0..2 {
        pay_merchant(&d, &admin, 700 + i, &format!("offline {i}"));
    }
    let own_origin = d.api.clone();
    let (mut ws, response) = connect(
        &d,
        &format!("?after={last}"),
        &[
            ("sec-websocket-protocol", &protocol),
            ("origin", &own_origin),
        ],
    );
    assert_eq!(
        response
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok()),
        Some("bearer")
    );
    for _ in 0..2 {
        seen.push(next_event(&mut ws));
    }
    pay_merchant(&d, &admin, 900, "after resume");
    seen.push(next_event(&mut ws));
    let all = seqs(&seen);
    assert!(
        all.windows(2).all(|w| w[1] == w[0] + 1),
        "no gap, no duplicate: {all:?}"
    );
    let from_log: Vec<i64> = seqs(
        get(&d, "/v1/events?limit=1000", &reader).body["data"]
            .as_array()
            .expect("events"),
    );
    assert_eq!(all, from_log, "the stream saw exactly the log");
    // The newest events, for a "recent activity" list.
    let tail = get(&d, "/v1/events?tail=2", &reader).body["data"].clone();
    assert_eq!(
        seqs(tail.as_array().expect("events")),
        from_log[from_log.len() - 2..].to_vec()
    );
    let bad = get(&d, "/v1/events?tail=0", &reader);
    assert_eq!(
        (bad.status, bad.body["error"]["field"].as_str()),
        (400, Some("tail"))
    );

    // Live only (no `after`): starts at the end of the log.
    let (mut live, _) = connect(&d, "", &[("authorization", &bearer)]);
    pay_merchant(&d, &admin, 42, "live only");
    let event = next_event(&mut live);
    assert_eq!(event["seq"].as_i64(), Some(all.last().expect("seq") + 1));
    assert_eq!(event["amount"], 42);

    // A seq beyond the log's end would silently skip live events up to it: refused instead.
    let beyond = event["seq"].as_i64().expect("seq") + 100;
    let (status, body) = refused(
        &d,
        &format!("?after={beyond}"),
        &[("authorization", &bearer)],
    );
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (400, Some("after")),
        "{body}"
    );

    // A key revoked while its stream is open loses the stream within seconds (close 4001).
    let created = post(
        &d,
        "/v1/keys",
        &admin,
        serde_json::json!({"name": "leaked", "permissions": ["lightning:read"]}),
    );
    let leaked = created.body["secret"].as_str().expect("secret").to_string();
    let (mut ws, _) = connect(&d, "", &[("authorization", &format!("Bearer {leaked}"))]);
    let id = created.body["id"].as_str().expect("id");
    let revoked = call(
        "DELETE",
        &d.url(&format!("/v1/keys/{id}")),
        Some(&admin),
        None,
    );
    assert_eq!(revoked.status, 200, "{revoked:?}");
    let started = std::time::Instant::now();
    let frame = loop {
        // Pings keep the socket busy: bound the wait by time, not by the read timeout.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "the stream of a revoked key is still open after 20 s"
        );
        match ws.read() {
            Ok(Message::Close(frame)) => break frame,
            Ok(Message::Text(text)) => panic!("an event after revocation: {text}"),
            Ok(_) => {}
            Err(e) => panic!("the stream should close with 4001, got {e}"),
        }
    };
    let frame = frame.expect("a close frame with a code");
    assert_eq!(u16::from(frame.code), 4001);
    assert!(frame.reason.contains("revoked"), "{}", frame.reason);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "closed within seconds"
    );
}
