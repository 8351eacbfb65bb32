//! The Nostr Wallet Connect service: a front door beside the HTTP server. It keeps one outgoing
//! connection to each relay the live connections use (rust-nostr's relay pool: it reconnects by
//! itself, waiting 2 s and then longer, up to a minute, while a relay stays down), answers the
//! requests addressed to them, and publishes payment notifications from the event log.
//!
//! What it promises (see `payaiml_core::nwc`): a request is worked on once whatever the relays
//! replay (its event id is recorded first); its answer is written durably before it is sent and
//! sent again until a relay takes it; a payment is made once per invoice (a retried
//! `pay_invoice` answers with the first payment's outcome); a revoked or expired connection is
//! refused at its next request. Bad requests get NIP-47 error codes.

mod methods;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use payaiml_core::events::{EventKind, EventRecord};
use payaiml_core::nwc::nostr_sdk::prelude::{
    Client, Event, Filter, JsonUtil, Kind, RelayOptions, RelayPoolNotification, RelayStatus,
    RelayUrl, SubscriptionId, Timestamp,
};
use payaiml_core::nwc::wire::{self, Encryption, NwcError};
use payaiml_core::nwc::{Access, LiveConnection, NwcStatus, RelayState};
use payaiml_core::App;
use tokio::sync::{Mutex, Notify};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How long after a request an answer may still be sent by the outbox task rather than by the
/// request's own task (which sends it at once).
const OUTBOX_GRACE_MS: i64 = 3_000;
/// How far back the subscription asks relays for requests, on start: a request sent while the
/// app was restarting is still answered (relays that keep NIP-47's ephemeral events replay it).
const REPLAY_WINDOW_SECS: u64 = 120;

/// What the service's tasks share.
pub(crate) struct Service {
    app: Arc<App>,
    client: Client,
    /// The live connections by wallet public key (hex).
    connections: Mutex<HashMap<String, LiveConnection>>,
    /// Rung when answers or notifications are owed.
    outbox: Notify,
    /// One payment at a time per payment hash (a retried `pay_invoice` waits for the first).
    paying: Mutex<HashMap<String, Arc<Mutex<()>>>>,
}

/// Starts the service for `app`; it ends when the app shuts down.
pub fn spawn(app: Arc<App>) -> JoinHandle<()> {
    let stop = app.closing();
    let client = Client::default();
    let service = Arc::new(Service {
        app,
        client,
        connections: Mutex::default(),
        outbox: Notify::new(),
        paying: Mutex::default(),
    });
    tokio::spawn(async move {
        let work = async {
            tokio::join!(
                service.clone().listen(stop.clone()),
                service.clone().send_owed(stop.clone()),
                service.clone().notify(stop.clone()),
                service.clone().watch(stop.clone()),
            )
        };
        work.await;
        service.client.shutdown().await;
        service.app.nwc().report(None);
    })
}

fn subscription() -> SubscriptionId {
    SubscriptionId::new("payaiml-nwc")
}

fn relay_url(url: &str) -> Option<RelayUrl> {
    RelayUrl::parse(url).ok()
}

impl Service {
    /// Loads the live connections, adds the relays they need (removing the others), subscribes
    /// to their requests and publishes their info events.
    async fn refresh(&self) {
        let live = match self.app.nwc().serving().await {
            Ok(live) => live,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the wallet connections");
                return;
            }
        };
        let wanted: BTreeSet<RelayUrl> = live
            .iter()
            .flat_map(|c| c.relays.iter().filter_map(|r| relay_url(r)))
            .collect();
        let pool = self.client.pool();
        for url in pool.relays().await.into_keys() {
            if !wanted.contains(&url) {
                let _ = pool.remove_relay(url).await;
            }
        }
        let opts = RelayOptions::new()
            .reconnect(true)
            .retry_interval(Duration::from_secs(2))
            .adjust_retry_interval(true);
        for url in &wanted {
            match pool.add_relay(url.clone(), opts.clone()).await {
                Ok(_) => {
                    let _ = pool.connect_relay(url.clone()).await;
                }
                Err(e) => tracing::warn!(relay = %url, error = %e, "cannot add a relay"),
            }
        }
        {
            let mut connections = self.connections.lock().await;
            *connections = live
                .into_iter()
                .map(|c| (c.wallet.public_key().to_hex(), c))
                .collect();
        }
        let connections = self.connections.lock().await.clone();
        if connections.is_empty() {
            pool.unsubscribe_all().await;
            return;
        }
        let filter = Filter::new()
            .kind(Kind::WalletConnectRequest)
            .pubkeys(connections.values().map(|c| c.wallet.public_key()))
            .since(Timestamp::from_secs(
                wire::now().saturating_sub(REPLAY_WINDOW_SECS),
            ));
        if let Err(e) = pool
            .subscribe_with_id(subscription(), filter, Default::default())
            .await
        {
            tracing::warn!(error = %e, "cannot subscribe to wallet requests yet (the pool retries on reconnect)");
        }
        self.publish_info(&connections).await;
    }

    /// Each connection's info event, to its relays.
    async fn publish_info(&self, connections: &HashMap<String, LiveConnection>) {
        for c in connections.values().filter(|c| c.live) {
            let access = Access::of(&c.key);
            match wire::info_event(&c.wallet, access.methods(), access.notifications()) {
                Ok(event) => {
                    let urls: Vec<RelayUrl> =
                        c.relays.iter().filter_map(|r| relay_url(r)).collect();
                    if let Err(e) = self.client.send_event_to(urls, &event).await {
                        tracing::debug!(error = %e, "info event not published yet");
                    }
                }
                Err(e) => tracing::error!(error = %e, "cannot make an info event"),
            }
        }
    }

    /// Receives requests and works on each in its own task; answers the ones left unanswered by
    /// a previous run first.
    async fn listen(self: Arc<Self>, stop: CancellationToken) {
        let mut notifications = self.client.notifications();
        self.refresh().await;
        match self.app.nwc().requests().unanswered().await {
            Ok(left) => {
                for row in left {
                    if let Ok(event) = Event::from_json(&row.request) {
                        let service = self.clone();
                        tokio::spawn(async move { service.answer(event, false).await });
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot read unanswered wallet requests"),
        }
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = self.app.nwc().changed().notified() => self.refresh().await,
                got = notifications.recv() => match got {
                    Ok(RelayPoolNotification::Event { event, .. }) => {
                        if event.kind == Kind::WalletConnectRequest {
                            let service = self.clone();
                            tokio::spawn(async move { service.answer(*event, true).await });
                        }
                    }
                    Ok(RelayPoolNotification::Shutdown) => return,
                    Ok(_) => {}
                    // Missed some under load: the relays replay recent requests on resubscribe.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "wallet requests came faster than read; resubscribing");
                        self.refresh().await;
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
            }
        }
    }

    /// Works on one request: who it is for, once only, the answer kept and sent.
    async fn answer(self: Arc<Self>, event: Event, fresh: bool) {
        if event.verify().is_err() {
            return;
        }
        let Some(wallet_hex) = event.tags.public_keys().next().map(|p| p.to_hex()) else {
            return;
        };
        let Some(connection) = self.connections.lock().await.get(&wallet_hex).cloned() else {
            // Not ours, or a connection revoked since: nothing to say to a stranger.
            return;
        };
        if event.pubkey != connection.client {
            // Signed by someone who does not hold the app's secret: not answered (an answer
            // would tell them the connection exists).
            return;
        }
        let id = event.id.to_hex();
        let requests = self.app.nwc().requests();
        let opened = wire::open_request(&event, &connection.wallet);
        let method = match &opened {
            Ok(r) => r.method.clone(),
            Err(_) => String::new(),
        };
        if fresh {
            match requests
                .begin(&id, &connection.key.id, &method, &event.as_json())
                .await
            {
                Ok(true) => {}
                Ok(false) => return, // answered, or being answered: once only
                Err(e) => {
                    tracing::error!(error = %e, "cannot record a wallet request");
                    return;
                }
            }
        }
        let (encryption, answers) = match opened {
            Ok(request) => {
                if request.encryption == Encryption::Nip04 {
                    let _ = self.app.nwc().mark_legacy(&connection.key.id).await;
                }
                let answers = methods::call(&self, &connection, &request, &id).await;
                (request.encryption, answers)
            }
            Err((encryption, error)) => (
                encryption.unwrap_or(Encryption::Nip44),
                vec![(None, Err(error))],
            ),
        };
        let mut events = Vec::with_capacity(answers.len());
        for (d, answer) in &answers {
            let content = wire::response_content(&method, answer);
            match wire::response_event(
                &connection.wallet,
                &connection.client,
                &event.id,
                encryption,
                &content,
                d.as_deref(),
            ) {
                Ok(e) => events.push(e),
                Err(e) => tracing::error!(error = %e, "cannot seal a wallet answer"),
            }
        }
        let seqs = match requests.answer(&id, &connection.key.id, &events).await {
            Ok(seqs) => seqs,
            Err(e) => {
                tracing::error!(error = %e, "cannot record a wallet answer");
                return;
            }
        };
        // Sent now by this task; the outbox task sends what a relay did not take.
        for (seq, event) in seqs.into_iter().zip(events) {
            self.send(seq, &connection.relays, &event).await;
        }
    }

    /// Sends one owed event to `relays`; recorded as sent once one of them took it.
    async fn send(&self, seq: i64, relays: &[String], event: &str) {
        let requests = self.app.nwc().requests();
        let Ok(event) = Event::from_json(event) else {
            let _ = requests.sent(seq).await; // unreadable: never sendable
            return;
        };
        let urls: Vec<RelayUrl> = relays.iter().filter_map(|r| relay_url(r)).collect();
        let outcome = match self.client.send_event_to(urls, &event).await {
            Ok(output) if !output.success.is_empty() => Ok(()),
            Ok(output) => Err(output
                .failed
                .into_iter()
                .map(|(url, why)| format!("{url}: {why}"))
                .collect::<Vec<_>>()
                .join("; ")),
            Err(e) => Err(e.to_string()),
        };
        let recorded = match outcome {
            Ok(()) => requests.sent(seq).await,
            Err(why) => {
                self.outbox.notify_one();
                requests.failed(seq, &why).await
            }
        };
        if let Err(e) = recorded {
            tracing::error!(error = %e, "cannot record a wallet event's delivery");
        }
    }

    /// Sends what is owed and was not sent by its own task: answers a relay did not take, and
    /// notifications. Wakes when rung, and every 2 s while something is owed.
    async fn send_owed(self: Arc<Self>, stop: CancellationToken) {
        loop {
            let owed = self
                .app
                .nwc()
                .requests()
                .owed(100)
                .await
                .unwrap_or_default();
            let connections = self.connections.lock().await.clone();
            let now = payaiml_core::util::now_ms();
            let mut waiting = false;
            for row in owed {
                let Some(c) = connections.values().find(|c| c.key.id == row.key_id) else {
                    // Revoked or expired since: nobody may read it any more.
                    let _ = self.app.nwc().requests().drop_owed_to(&row.key_id).await;
                    continue;
                };
                // A fresh answer is being sent by its own task.
                if row.attempts == 0 && now - row.created_at < OUTBOX_GRACE_MS {
                    waiting = true;
                    continue;
                }
                self.send(row.seq, &c.relays, &row.event).await;
            }
            let pause = if waiting { 500 } else { 2_000 };
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = self.outbox.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(pause)) => {}
            }
        }
    }

    /// Turns logged payments into notifications, in the log's order, each once.
    async fn notify(self: Arc<Self>, stop: CancellationToken) {
        let mut live = self.app.events().subscribe();
        let requests = self.app.nwc().requests();
        let mut after = match requests.notified().await {
            Ok(Some(seq)) => seq,
            // First start: payments from before the service existed are not news.
            _ => self.app.events().latest().await.unwrap_or(0),
        };
        loop {
            match self.app.events().list(after, 100).await {
                Ok(page) => {
                    let full = page.len() == 100;
                    for record in page {
                        let events = self.notifications(&record).await;
                        if let Err(e) = requests.notify(record.seq, &events).await {
                            tracing::error!(error = %e, "cannot queue wallet notifications");
                            break;
                        }
                        after = record.seq;
                        if !events.is_empty() {
                            self.outbox.notify_one();
                        }
                    }
                    if full {
                        continue;
                    }
                }
                Err(e) => tracing::error!(error = %e, "cannot read the event log"),
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = live.recv() => {}
                _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            }
        }
    }

    /// The notification events owed for one logged event: `payment_received` to each
    /// connection that may read the invoice, `payment_sent` to each that may read payments.
    async fn notifications(&self, record: &EventRecord) -> Vec<(String, String)> {
        let hash = record
            .payload
            .get("payment_hash")
            .and_then(|h| h.as_str())
            .unwrap_or_default()
            .to_string();
        let connections: Vec<LiveConnection> = self
            .connections
            .lock()
            .await
            .values()
            .filter(|c| c.live)
            .cloned()
            .collect();
        let mut out = Vec::new();
        match record.event {
            EventKind::PaymentReceived => {
                let Ok(invoice) = self.app.invoices().get(&hash).await else {
                    return out;
                };
                let tx = methods::incoming(&invoice);
                for c in &connections {
                    let may = match Access::of(&c.key) {
                        Access::Read | Access::Pay => true,
                        Access::Receive => self
                            .app
                            .invoices()
                            .get_made_by(&invoice.id, &c.key.id)
                            .await
                            .is_ok(),
                    };
                    if may {
                        out.extend(seal(c, "payment_received", &tx));
                    }
                }
            }
            EventKind::PaymentSent => {
                let Ok(payment) = self.app.payments().get(&hash).await else {
                    return out;
                };
                let tx = methods::outgoing(&payment);
                for c in &connections {
                    if Access::of(&c.key) != Access::Receive {
                        out.extend(seal(c, "payment_sent", &tx));
                    }
                }
            }
            _ => {}
        }
        out
    }

    /// Reports the relays' state every second, and on a relay coming back publishes the info
    /// events again and sends what is owed.
    async fn watch(self: Arc<Self>, stop: CancellationToken) {
        let mut was_up: HashMap<RelayUrl, bool> = HashMap::new();
        let mut down_since: HashMap<RelayUrl, i64> = HashMap::new();
        let mut ticks = 0u64;
        loop {
            let relays = self.client.pool().relays().await;
            let connections = self.connections.lock().await.clone();
            let mut states = Vec::new();
            let mut came_back = false;
            for (url, relay) in &relays {
                let status = relay.status();
                let up = status == RelayStatus::Connected;
                let now = payaiml_core::util::now_ms();
                if up {
                    down_since.remove(url);
                } else {
                    down_since.entry(url.clone()).or_insert(now);
                }
                if up && was_up.get(url) == Some(&false) {
                    tracing::info!(relay = %url, "relay reachable again");
                    came_back = true;
                }
                if !up && was_up.get(url) == Some(&true) {
                    tracing::warn!(relay = %url, "relay unreachable: retrying with backoff");
                }
                was_up.insert(url.clone(), up);
                states.push(RelayState {
                    url: url.to_string(),
                    connected: up,
                    status: match status {
                        RelayStatus::Connected => "connected",
                        RelayStatus::Initialized
                        | RelayStatus::Pending
                        | RelayStatus::Connecting => "connecting",
                        RelayStatus::Disconnected | RelayStatus::Sleeping => "disconnected",
                        RelayStatus::Terminated | RelayStatus::Banned => "stopped",
                    }
                    .to_string(),
                    down_since: down_since
                        .get(url)
                        .map(|&at| payaiml_core::util::rfc3339(at)),
                });
            }
            states.sort_by(|a, b| a.url.cmp(&b.url));
            if came_back {
                self.publish_info(&connections).await;
                self.outbox.notify_one();
            }
            let live = connections.values().filter(|c| c.live).count();
            let report = if live == 0 {
                None
            } else {
                let up = states.iter().filter(|s| s.connected).count();
                Some(NwcStatus {
                    status: if up == states.len() && up > 0 {
                        "ok"
                    } else if up > 0 {
                        "degraded"
                    } else {
                        "down"
                    }
                    .into(),
                    connections: live as u32,
                    relays: states,
                    outbox: self
                        .app
                        .nwc()
                        .requests()
                        .owed_count()
                        .await
                        .unwrap_or_default(),
                })
            };
            self.app.nwc().report(report);
            ticks += 1;
            if ticks.is_multiple_of(3600) {
                let _ = self.app.nwc().requests().prune().await;
                // Connections that expired meanwhile leave the subscription.
                self.refresh().await;
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }
}

/// One notification for one connection, sealed (NIP-44, and NIP-04 for an old app).
fn seal(c: &LiveConnection, kind: &str, tx: &wire::Transaction) -> Vec<(String, String)> {
    let value = match serde_json::to_value(tx) {
        Ok(v) => v,
        Err(_) => return Vec::new(),
    };
    match wire::notification_events(&c.wallet, &c.client, c.legacy_nip04, kind, &value) {
        Ok(events) => events.into_iter().map(|e| (c.key.id.clone(), e)).collect(),
        Err(e) => {
            tracing::error!(error = %e, "cannot seal a wallet notification");
            Vec::new()
        }
    }
}

/// A NIP-47 error, from the core's.
pub(crate) fn refused(e: payaiml_core::Error) -> NwcError {
    NwcError::from(&e)
}
