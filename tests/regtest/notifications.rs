//! Desktop notifications over a real D-Bus session bus: a notification server in this process
//! owns `org.freedesktop.Notifications` and records every `Notify` call; `payaimld --notify`
//! must reach it for a received payment.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dbus::blocking::Connection;
use dbus::channel::MatchingReceiver;
use dbus::message::MatchRule;
use serde_json::json;

use crate::common::*;

#[derive(Debug, Clone)]
struct Shown {
    app: String,
    summary: String,
    body: String,
}

/// A minimal notification server (the spec's Notify, GetCapabilities, GetServerInformation).
struct Server {
    shown: Arc<Mutex<Vec<Shown>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start() -> Server {
        assert!(
            std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
            "needs a D-Bus session bus: run under scripts/with-keyring.sh (make test does)"
        );
        let shown = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (s, st) = (shown.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let conn = Connection::new_session().expect("session bus");
            conn.request_name("org.freedesktop.Notifications", false, true, true)
                .expect("own org.freedesktop.Notifications");
            let next_id = Arc::new(Mutex::new(0u32));
            conn.start_receive(
                MatchRule::new_method_call(),
                Box::new(move |msg, conn| {
                    use dbus::channel::Sender;
                    if msg.interface().as_deref() != Some("org.freedesktop.Notifications") {
                        return true;
                    }
                    let reply = match msg.member().as_deref() {
                        Some("Notify") => {
                            let mut args = msg.iter_init();
                            let app: String = args.read().unwrap_or_default();
                            let _replaces: u32 = args.read().unwrap_or_default();
                            let _icon: String = args.read().unwrap_or_default();
                            let summary: String = args.read().unwrap_or_default();
                            let body: String = args.read().unwrap_or_default();
                            s.lock().expect("shown").push(Shown { app, summary, body });
                            let mut id = next_id.lock().expect("id");
                            *id += 1;
                            msg.method_return().append1(*id)
                        }
                        Some("GetCapabilities") => {
                            msg.method_return().append1(vec!["body".to_string()])
                        }
                        Some("GetServerInformation") => msg
                            .method_return()
                            .append1("payaiml-test")
                            .append1("payaiml")
                            .append1("1.0")
                            .append1("1.2"),
                        _ => msg.method_return(),
                    };
                    let _ = conn.send(reply);
                    true
                }),
            );
            let _ = ready_tx.send(());
            while !st.load(Ordering::SeqCst) {
                let _ = conn.process(Duration::from_millis(100));
            }
        });
        ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("notification server ready");
        Server {
            shown,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn payment_received_notifies_the_desktop() {
    let server = Server::start();
    let dir = tempdir();
    let d = Daemon::start(dir.path(), &["--notify", "sandbox"], true);
    let admin = d.admin().to_string();
    pay_merchant(&d, &admin, 1234, "Flat white");
    let shown = wait_for(20, "a desktop notification", || {
        server.shown.lock().expect("shown").first().cloned()
    });
    assert_eq!(shown.app, "PayAiML Merchant");
    assert_eq!(shown.summary, "Payment received: 1,234 sats");
    assert_eq!(shown.body, "Flat white");
    // An outgoing payment is not announced.
    let customer = post(
        &d,
        "/v1/sandbox/invoice",
        &admin,
        json!({"amount": 10, "description": "x"}),
    );
    let sent = post(
        &d,
        "/v1/lightning/payments",
        &admin,
        json!({"invoice": customer.body["payment_request"]}),
    );
    assert_eq!(sent.body["status"], "succeeded");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(server.shown.lock().expect("shown").len(), 1);

    // Turned off from the Settings page: nothing shown; back on: shown again.
    let settings = call(
        "PATCH",
        &d.url("/v1/settings"),
        Some(&admin),
        Some(&json!({"notifications": false})),
    );
    assert_eq!(
        (settings.status, &settings.body["notifications"]),
        (200, &json!(false)),
        "{settings:?}"
    );
    assert_eq!(settings.body["data_dir"], dir.path().display().to_string());
    pay_merchant(&d, &admin, 5, "quiet");
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(
        server.shown.lock().expect("shown").len(),
        1,
        "off means off"
    );
    call(
        "PATCH",
        &d.url("/v1/settings"),
        Some(&admin),
        Some(&json!({"notifications": true})),
    );
    pay_merchant(&d, &admin, 7, "loud again");
    wait_for(20, "a notification after turning them back on", || {
        let shown = server.shown.lock().expect("shown");
        (shown.len() == 2 && shown[1].body == "loud again").then_some(())
    });
    let bad = call(
        "PATCH",
        &d.url("/v1/settings"),
        Some(&admin),
        Some(&json!({"notifications": "yes"})),
    );
    assert_eq!(bad.status, 400, "{bad:?}");
}
