//! The Nostr Wallet Connect service: a front door beside the HTTP server. It keeps one outgoing
//! connection to each relay the live connections use (rust-nostr's relay pool: it reconnects by
//! itself, waiting 2 s and then longer, up to a minute, while a relay stays down), answers the
//! requests addressed to them, and publishes payment notifications from the event log.
//!
//! What it promises (see `payaiml_core::nwc`): a request is worked on once whatever the relays
//! deliver (its event id is recorded first: two relays, or a relay that replays what it kept to a
//! new subscription, give the same request twice); its answer is written durably before it is
//! sent and sent again, with backoff, until a relay takes it; a payment is made once per invoice
//! (a retried `pay_invoice` answers with the first payment's outcome); a revoked or expired
//! connection is refused at its next request; a request too old to be waited for is not carried
//! out. Bad requests get NIP-47 error codes. If the service's task fails it is started again.

mod methods;

use std::collections::{BTreeSet, HashMap, HashSet};
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
use tokio::sync::{watch, Mutex, Notify};
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

/// How long after a request an answer may still be sent by the outbox task rather than by the
/// request's own task (which sends it at once).
const OUTBOX_GRACE_MS: i64 = 3_000;
/// How far back the subscription asks relays for requests: a request sent while the app was
/// restarting is still answered by relays that keep NIP-47's events for a while.
const REPLAY_WINDOW_SECS: u64 = 120;
/// How often requests left unanswered (an error while recording one) are tried again, and
/// expiries looked for.
const SWEEP: Duration = Duration::from_secs(60);

/// What the service's tasks share.
pub(crate) struct Service {
    app: Arc<App>,
    client: Client,
    /// The connections answered, by wallet public key (hex): live ones, and ones revoked or
    /// expired lately (refused).
    connections: Mutex<HashMap<String, LiveConnection>>,
    /// Rung when answers or notifications are owed.
    outbox: Notify,
    /// One payment at a time per payment hash (a retried `pay_invoice` waits for the first).
    paying: Mutex<HashMap<String, Arc<Mutex<()>>>>,
    /// Requests being worked on now (by event id): the sweep leaves them alone.
    working: Mutex<HashSet<String>>,
    /// True once the connections were read: notifications wait for it.
    ready: watch::Sender<bool>,
}

/// Starts the service for `app`; it ends when the app shuts down, and is started again if it
/// fails.
pub fn spawn(app: Arc<App>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let stop = app.closing();
        loop {
            let run = tokio::spawn(run(app.clone(), stop.clone()));
            match run.await {
                Ok(()) => return,
                Err(e) if stop.is_cancelled() => {
                    tracing::debug!(error = %e, "wallet connect service ended while stopping");
                    return;
                }
                Err(e) => {
                    tracing::error!(error = %e, "the wallet connect service failed; starting it again");
                    app.nwc().report(None);
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                    }
                }
            }
        }
    })
}

async fn run(app: Arc<App>, stop: CancellationToken) {
    let service = Arc::new(Service {
        app,
        client: Client::default(),
        connections: Mutex::default(),
        outbox: Notify::new(),
        paying: Mutex::default(),
        working: Mutex::default(),
        ready: watch::channel(false).0,
    });
    tokio::join!(
        service.clone().listen(stop.clone()),
        service.clone().send_owed(stop.clone()),
        service.clone().notify(stop.clone()),
        service.clone().watch(stop.clone()),
    );
    service.client.shutdown().await;
    service.app.nwc().report(None);
}

fn subscription() -> SubscriptionId {
    SubscriptionId::new("payaiml-nwc")
}

fn relay_url(url: &str) -> Option<RelayUrl> {
    RelayUrl::parse(url).ok()
}

impl Service {
    /// Reads the connections, keeps the relays the live ones need (removing the others),
    /// subscribes to their requests and publishes their info events.
    async fn refresh(self: &Arc<Self>) {
        let serving = match self.app.nwc().serving().await {
            Ok(serving) => serving,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the wallet connections");
                return;
            }
        };
        // Only live connections keep a relay connected; a refused one is answered where it
        // shares a relay with a live one.
        let wanted: BTreeSet<RelayUrl> = serving
            .iter()
            .filter(|c| c.live)
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
        let connections: HashMap<String, LiveConnection> = serving
            .into_iter()
            .map(|c| (c.wallet.public_key().to_hex(), c))
            .collect();
        *self.connections.lock().await = connections.clone();
        let _ = self.ready.send(true);
        if wanted.is_empty() {
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
        // Not awaited here: a relay still connecting would hold the requests back.
        let service = self.clone();
        tokio::spawn(async move { service.publish_info(&connections).await });
    }

    /// The relays of `relays` that the pool has (a refused connection's own relays are not
    /// kept connected).
    async fn pooled(&self, relays: &[String]) -> Vec<RelayUrl> {
        let pool = self.client.pool().relays().await;
        relays
            .iter()
            .filter_map(|r| relay_url(r))
            .filter(|u| pool.contains_key(u))
            .collect()
    }

    /// Each connection's info event, to its relays: the methods and notifications it may use,
    /// none for a revoked or expired one.
    async fn publish_info(&self, connections: &HashMap<String, LiveConnection>) {
        for c in connections.values() {
            let access = Access::of(&c.key);
            let (methods, notifications) = if c.live {
                (access.methods(), access.notifications())
            } else {
                (&[][..], &[][..])
            };
            match wire::info_event(&c.wallet, methods, notifications) {
                Ok(event) => {
                    let urls = self.pooled(&c.relays).await;
                    if urls.is_empty() {
                        continue;
                    }
                    if let Err(e) = self.client.send_event_to(urls, &event).await {
                        tracing::debug!(error = %e, "info event not published yet");
                    }
                }
                Err(e) => tracing::error!(error = %e, "cannot make an info event"),
            }
        }
    }

    /// Receives requests and works on each in its own task; answers the ones a previous run
    /// left unanswered first.
    async fn listen(self: Arc<Self>, stop: CancellationToken) {
        let mut notifications = self.client.notifications();
        self.refresh().await;
        self.sweep(0).await;
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
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "wallet requests came faster than they were read: some are not answered");
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
            }
        }
    }

    /// Works again on requests recorded but not answered, received at least `older_ms` ago and
    /// not being worked on now.
    async fn sweep(self: &Arc<Self>, older_ms: i64) {
        let left = match self.app.nwc().requests().unanswered().await {
            Ok(left) => left,
            Err(e) => {
                tracing::error!(error = %e, "cannot read unanswered wallet requests");
                return;
            }
        };
        let now = payaiml_core::util::now_ms();
        for row in left {
            if now - row.received_at < older_ms || self.working.lock().await.contains(&row.event_id)
            {
                continue;
            }
            if let Ok(event) = Event::from_json(&row.request) {
                let service = self.clone();
                tokio::spawn(async move { service.answer(event, false).await });
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
            // Not ours, or a connection ended long ago: nothing to say to a stranger.
            return;
        };
        if event.pubkey != connection.client {
            // Signed by someone who does not hold the app's secret: not answered (an answer
            // would tell them the connection exists).
            return;
        }
        let id = event.id.to_hex();
        if !self.working.lock().await.insert(id.clone()) {
            return; // being worked on by another task
        }
        self.work(event, connection, fresh).await;
        self.working.lock().await.remove(&id);
    }

    async fn work(self: &Arc<Self>, event: Event, connection: LiveConnection, fresh: bool) {
        let id = event.id.to_hex();
        let requests = self.app.nwc().requests();
        let opened = wire::open_request(&event, &connection.wallet);
        let method = match &opened {
            Ok(r) => r.method.clone(),
            Err(_) => String::new(),
        };
        if fresh {
            let json = event.as_json();
            let begun = retry(|| requests.begin(&id, &connection.key.id, &method, &json)).await;
            match begun {
                Ok(true) => {}
                Ok(false) => return, // answered, or being answered: once only
                Err(e) => {
                    tracing::error!(error = %e, "cannot record a wallet request; not answered");
                    return;
                }
            }
        }
        let (encryption, answers) = match opened {
            Ok(request) => {
                if request.encryption == Encryption::Nip04 && !connection.legacy_nip04 {
                    let _ = self.app.nwc().mark_legacy(&connection.key.id).await;
                    if let Some(c) = self
                        .connections
                        .lock()
                        .await
                        .get_mut(&connection.wallet.public_key().to_hex())
                    {
                        c.legacy_nip04 = true;
                    }
                }
                let age = wire::now().saturating_sub(event.created_at.as_secs());
                let answers = methods::call(self, &connection, &request, &id, age, !fresh).await;
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
        // If this fails after a payment, the sweep works on the request again, and the payment
        // is found by its invoice (never made twice).
        let seqs = match retry(|| requests.answer(&id, &connection.key.id, &events)).await {
            Ok(seqs) => seqs,
            Err(e) => {
                tracing::error!(error = %e, "cannot record a wallet answer; tried again later");
                return;
            }
        };
        // Sent now by this task; the outbox task sends what a relay did not take.
        for (seq, event) in seqs.into_iter().zip(events) {
            self.send(seq, 0, &connection.relays, &event).await;
        }
    }

    /// Sends one owed event to those of `relays` the pool has; recorded as sent once one of
    /// them took it, else tried again later with backoff.
    async fn send(&self, seq: i64, attempts: i64, relays: &[String], event: &str) {
        let requests = self.app.nwc().requests();
        let Ok(event) = Event::from_json(event) else {
            let _ = requests.sent(seq).await; // unreadable: never sendable
            return;
        };
        let urls = self.pooled(relays).await;
        let outcome = if urls.is_empty() {
            Err("none of its relays is connected".to_string())
        } else {
            match self.client.send_event_to(urls, &event).await {
                Ok(output) if !output.success.is_empty() => Ok(()),
                Ok(output) => Err(output
                    .failed
                    .into_iter()
                    .map(|(url, why)| format!("{url}: {why}"))
                    .collect::<Vec<_>>()
                    .join("; ")),
                Err(e) => Err(e.to_string()),
            }
        };
        let recorded = match outcome {
            Ok(()) => requests.sent(seq).await,
            Err(why) => requests.failed(seq, attempts, &why).await,
        };
        if let Err(e) = recorded {
            tracing::error!(error = %e, "cannot record a wallet event's delivery");
        }
    }

    /// Sends what is owed and due: answers a relay did not take, and notifications, each
    /// connection's at the same time as the others'. Wakes when rung, and every second.
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
            let mut sending = JoinSet::new();
            for row in owed {
                let Some(c) = connections.values().find(|c| c.key.id == row.key_id) else {
                    // Ended more than a day ago: nobody to tell any more.
                    let _ = self.app.nwc().requests().drop_owed_to(&row.key_id).await;
                    continue;
                };
                // A fresh answer is being sent by its own task.
                if row.attempts == 0 && now - row.created_at < OUTBOX_GRACE_MS {
                    continue;
                }
                let (service, relays) = (self.clone(), c.relays.clone());
                sending.spawn(async move {
                    service
                        .send(row.seq, row.attempts, &relays, &row.event)
                        .await;
                });
            }
            while sending.join_next().await.is_some() {}
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = self.outbox.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }

    /// Turns logged payments into notifications, in the log's order, each once.
    async fn notify(self: Arc<Self>, stop: CancellationToken) {
        let mut live = self.app.events().subscribe();
        // Not before the connections are known: an event read earlier would tell nobody.
        let mut ready = self.ready.subscribe();
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = ready.wait_for(|r| *r) => {}
        }
        let requests = self.app.nwc().requests();
        let mut after = match requests.notified().await {
            Ok(Some(seq)) => seq,
            // First start: payments from before the service existed are not news.
            _ => {
                let latest = self.app.events().latest().await.unwrap_or(0);
                let _ = requests.notify(latest, &[]).await;
                latest
            }
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

    /// The notification events owed for one logged event: `payment_received` to each live
    /// connection that may read the invoice, `payment_sent` to each that may read payments.
    async fn notifications(&self, record: &EventRecord) -> Vec<(String, String)> {
        let hash = record
            .payload
            .get("payment_hash")
            .and_then(|h| h.as_str())
            .unwrap_or_default()
            .to_string();
        let candidates: Vec<LiveConnection> = self
            .connections
            .lock()
            .await
            .values()
            .filter(|c| c.live)
            .cloned()
            .collect();
        // The key again: one revoked since the connections were read hears nothing more.
        let now = payaiml_core::util::now_ms();
        let mut connections = Vec::with_capacity(candidates.len());
        for c in candidates {
            if let Ok(key) = self.app.keys().get(&c.key.id).await {
                if key.check_live(now).is_ok() {
                    connections.push(c);
                }
            }
        }
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

    /// Reports the relays' state every second; on a relay coming back publishes the info events
    /// again and sends what is owed; every minute works again on requests left unanswered and
    /// reads the connections again if one expired; every hour forgets what is a week old.
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
            was_up.retain(|url, _| relays.contains_key(url));
            down_since.retain(|url, _| relays.contains_key(url));
            states.sort_by(|a, b| a.url.cmp(&b.url));
            if came_back {
                let (service, connections) = (self.clone(), connections.clone());
                tokio::spawn(async move { service.publish_info(&connections).await });
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
            if ticks.is_multiple_of(SWEEP.as_secs()) {
                self.sweep(30_000).await;
                // Revocations ring `changed`; an expiry is seen here, from memory, so the
                // connections (and their secrets) are read again only when one has passed.
                let now = payaiml_core::util::now_ms();
                if connections
                    .values()
                    .any(|c| c.live && c.key.check_live(now).is_err())
                {
                    self.refresh().await;
                }
            }
            if ticks.is_multiple_of(3600) {
                let _ = self.app.nwc().requests().prune().await;
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }
}

/// A database write tried three times (a moment of SQLite contention is not a lost request).
async fn retry<T, F, Fut>(mut f: F) -> payaiml_core::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = payaiml_core::Result<T>>,
{
    let mut wait = Duration::from_millis(100);
    for _ in 0..2 {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) => tracing::warn!(error = %e, "retrying a wallet connect write"),
        }
        tokio::time::sleep(wait).await;
        wait *= 4;
    }
    f().await
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
