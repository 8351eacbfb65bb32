//! The WebSocket stream's slow-consumer path over a real TCP connection: a client that stops
//! reading while a flood of events is committed is closed with code 4000 and the `seq` to resume
//! from; resuming there yields the rest of the log with no gap.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

use crate::routes::stream::CLOSE_BEHIND;
use crate::{router, serve, Options};

/// Far more events than the live buffer (1024) and the loopback socket buffers hold.
const FLOOD: i64 = 30_000;

async fn connect(
    addr: SocketAddr,
    key: &str,
    after: i64,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let mut req = format!("ws://{addr}/v1/events/ws?after={after}")
        .into_client_request()
        .expect("request");
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {key}").parse().expect("header"),
    );
    tokio_tungstenite::connect_async(req)
        .await
        .expect("connect")
        .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_consumer_is_closed_with_resume_point() {
    // Its chain source is a closed local port: the node never starts, nothing leaves 127.0.0.1.
    let (_dir, app, key) = crate::tests::app().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(
        listener,
        router(app.clone(), None, addr, Options::default()),
        async {
            let _ = stopped.await;
        },
    ));

    // Connected, then it stops reading.
    let mut slow = connect(addr, &key, 0).await;

    // The database beside the app's own pool (SQLite in WAL mode allows it): the core gives no
    // way to write raw rows, so the test opens the file.
    let database = sqlx::SqlitePool::connect_with(
        sqlx::sqlite::SqliteConnectOptions::new().filename(app.config().database_path()),
    )
    .await
    .expect("open the database");
    // A flood: FLOOD invoices already past expiry, turned into FLOOD `invoice.expired` events in
    // one go by the expiry task when the app starts.
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
         INSERT INTO invoices (id, payment_hash, amount_msat, description, payment_request, expiry,
             expires_at, created_at, status)
         SELECT 'inv_' || i, printf('%064x', i), 1000, 'flood', 'lnbc', 1, 1, 0, 'pending' FROM n",
    )
    .bind(FLOOD)
    .execute(&database)
    .await
    .expect("insert invoices");
    app.start();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while app.events().latest().await.expect("latest") < FLOOD {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the flood was not logged"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Now it reads: some events, then the close with the resume point.
    let mut last = 0;
    let resume_at = loop {
        match tokio::time::timeout(Duration::from_secs(30), slow.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                let event: serde_json::Value = serde_json::from_str(&text).expect("json");
                let seq = event["seq"].as_i64().expect("seq");
                assert_eq!(seq, last + 1, "contiguous until the close");
                last = seq;
            }
            Ok(Some(Ok(Message::Close(Some(frame))))) => {
                assert_eq!(frame.code, CloseCode::from(CLOSE_BEHIND));
                let after = frame
                    .reason
                    .rsplit_once("after=")
                    .and_then(|(_, n)| n.parse::<i64>().ok())
                    .expect("the reason names the seq to resume after");
                break after;
            }
            Ok(Some(Ok(_))) => {}
            other => panic!("expected events then a 4000 close, got {other:?}"),
        }
    };
    assert_eq!(resume_at, last, "resume after the last event received");
    assert!(last < FLOOD, "the client was cut off before the end");

    // Resuming there delivers the rest, in order.
    let mut resumed = connect(addr, &key, resume_at).await;
    while last < FLOOD {
        match tokio::time::timeout(Duration::from_secs(30), resumed.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                let event: serde_json::Value = serde_json::from_str(&text).expect("json");
                assert_eq!(event["seq"].as_i64(), Some(last + 1));
                last += 1;
            }
            Ok(Some(Ok(_))) => {}
            other => panic!("resumed stream ended early at {last}: {other:?}"),
        }
    }
    drop(resumed);
    let _ = stop.send(());
    let _ = server.await;
    app.shutdown().await;
}
