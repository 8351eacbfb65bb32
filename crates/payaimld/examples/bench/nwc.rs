//! The Nostr Wallet Connect phase: `make_invoice` through a relay on loopback (the PyPI
//! `nostr-relay` the e2e suite uses, in its own process) beside `POST /v1/lightning/invoices`, in
//! the same run, from 1 and 16 clients. The NWC client here is rust-nostr's, doing what any NWC
//! app does: a NIP-44 request event published to the relay, the answer awaited on a
//! subscription. The ratio says what the relay's round trip costs over the local API.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use payaiml_core::nwc::nostr_sdk::nips::nip44;
use payaiml_core::nwc::nostr_sdk::prelude::{
    Client, EventBuilder, Filter, Keys, Kind, PublicKey, RelayPoolNotification, Tag, TagKind,
};
use serde_json::{json, Value};
use tokio::sync::oneshot;

use crate::measure::{load, side_by_side, BenchResult};
use crate::{api_create, MANY};

/// A relay process on a loopback port, killed when dropped.
struct Relay(Child);

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_relay(dir: &std::path::Path) -> BenchResult<(Relay, String)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let cache = std::env::var("PAYAIML_CACHE").unwrap_or_else(|_| {
        format!(
            "{}/.cache/payaiml",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    let bin = format!("{cache}/venv/bin/nostr-relay");
    let config = dir.join("relay.yaml");
    std::fs::write(
        &config,
        format!(
            "DEBUG: false\nstorage:\n  sqlalchemy.url: sqlite+aiosqlite:///{}/relay.sqlite3\n  validators:\n    - nostr_relay.validators.is_signed\ngunicorn:\n  bind: 127.0.0.1:{port}\n  workers: 1\n  loglevel: warning\nauthentication:\n  enabled: false\nsubscription_limit: 64\n",
            dir.display()
        ),
    )?;
    let child = Command::new(&bin)
        .arg("-c")
        .arg(&config)
        .args(["serve", "--use-uvicorn"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("{bin} (scripts/setup.sh installs it): {e}"))?;
    let relay = Relay(child);
    for _ in 0..300 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok((relay, format!("ws://127.0.0.1:{port}")));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err("the relay did not start".into())
}

/// An NWC app: one subscription to its answers, each request waiting for its own.
struct NwcApp {
    client: Client,
    me: Keys,
    wallet: PublicKey,
    waiting: Arc<Mutex<HashMap<String, oneshot::Sender<String>>>>,
}

impl NwcApp {
    async fn connect(uri: &str, relay: &str) -> BenchResult<NwcApp> {
        let wallet = uri
            .strip_prefix("nostr+walletconnect://")
            .and_then(|rest| rest.split('?').next())
            .ok_or("uri")?;
        let secret = uri.split("secret=").nth(1).ok_or("secret")?;
        let me = Keys::parse(secret)?;
        let wallet = PublicKey::from_hex(wallet)?;
        let client = Client::default();
        client.add_relay(relay).await?;
        client.connect().await;
        client
            .subscribe(
                Filter::new()
                    .kind(Kind::WalletConnectResponse)
                    .author(wallet)
                    .pubkey(me.public_key()),
                None,
            )
            .await?;
        let waiting: Arc<Mutex<HashMap<String, oneshot::Sender<String>>>> = Arc::default();
        let mut notifications = client.notifications();
        let (w, keys) = (waiting.clone(), me.clone());
        tokio::spawn(async move {
            while let Ok(n) = notifications.recv().await {
                if let RelayPoolNotification::Event { event, .. } = n {
                    let Some(request) = event.tags.event_ids().next().map(|e| e.to_hex()) else {
                        continue;
                    };
                    let Ok(plain) = nip44::decrypt(keys.secret_key(), &wallet, &event.content)
                    else {
                        continue;
                    };
                    if let Some(tx) = w.lock().ok().and_then(|mut m| m.remove(&request)) {
                        let _ = tx.send(plain);
                    }
                }
            }
        });
        Ok(NwcApp {
            client,
            me,
            wallet,
            waiting,
        })
    }

    async fn call(&self, method: &str, params: Value) -> BenchResult<Value> {
        let body = json!({"method": method, "params": params}).to_string();
        let sealed = nip44::encrypt(
            self.me.secret_key(),
            &self.wallet,
            body,
            nip44::Version::default(),
        )?;
        let event = EventBuilder::new(Kind::WalletConnectRequest, sealed)
            .tags([
                Tag::public_key(self.wallet),
                Tag::custom(TagKind::custom("encryption"), ["nip44_v2"]),
            ])
            .sign_with_keys(&self.me)?;
        let (tx, rx) = oneshot::channel();
        self.waiting
            .lock()
            .map_err(|_| "poisoned")?
            .insert(event.id.to_hex(), tx);
        self.client.send_event(&event).await?;
        let answer = tokio::time::timeout(Duration::from_secs(30), rx).await??;
        let answer: Value = serde_json::from_str(&answer)?;
        if answer.get("error").is_some_and(|e| !e.is_null()) {
            return Err(format!("{method}: {}", answer["error"]).into());
        }
        Ok(answer["result"].clone())
    }
}

pub(crate) async fn run(
    app: &Arc<payaiml_core::App>,
    http: &reqwest::Client,
    base: &str,
    key: &str,
    dir: &std::path::Path,
    sizes: (usize, usize),
) -> BenchResult<Value> {
    let dir = dir.join("nwc-relay");
    std::fs::create_dir_all(&dir)?;
    let (_relay, url) = start_relay(&dir)?;
    let service = payaiml_api::nwc::spawn(app.clone());
    let made: Value = http
        .post(format!("{base}/v1/nwc/connections"))
        .bearer_auth(key)
        .json(&json!({"name": "bench", "relays": [url]}))
        .send()
        .await?
        .json()
        .await?;
    let uri = made["uri"]
        .as_str()
        .ok_or("no connection made")?
        .to_string();
    let nwc = Arc::new(NwcApp::connect(&uri, &url).await?);
    // The service subscribes and the app's subscription settles: one request answered first.
    let mut ready = false;
    for _ in 0..30 {
        if tokio::time::timeout(Duration::from_secs(2), nwc.call("get_info", json!({})))
            .await
            .is_ok_and(|r| r.is_ok())
        {
            ready = true;
            break;
        }
    }
    if !ready {
        return Err("the wallet never answered through the relay".into());
    }
    let mut out = serde_json::Map::new();
    for (clients, n) in [(1, sizes.0), (MANY, sizes.1)] {
        let rest = load(clients, n, None, {
            let (http, base, key) = (http.clone(), base.to_string(), key.to_string());
            move |_| {
                let (http, base, key) = (http.clone(), base.clone(), key.clone());
                async move { api_create(&http, &base, &key).await.map(|_| ()) }
            }
        })
        .await?;
        let relayed = load(clients, n, None, {
            let nwc = nwc.clone();
            move |i| {
                let nwc = nwc.clone();
                async move {
                    let made = nwc
                        .call(
                            "make_invoice",
                            json!({"amount": 1_000_000, "description": format!("bench {i}")}),
                        )
                        .await?;
                    if made["invoice"].as_str().is_none() {
                        return Err("no invoice in the answer".into());
                    }
                    Ok(())
                }
            }
        })
        .await?;
        // "raw" is the REST API here: the figure is what going through the relay adds.
        out.insert(
            clients.to_string(),
            side_by_side("make_invoice: REST | via relay", &rest, &relayed),
        );
    }
    nwc.client.shutdown().await;
    service.abort();
    Ok(Value::Object(out))
}
