//! The running application: store, secrets, keys and the node, with the operations the API and
//! the desktop shell call. No transport lives here.

use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use ldk_node::bip39::Mnemonic;
use tokio::sync::{broadcast, watch, Notify};
use tokio::task::JoinHandle;

use crate::config::{ChainSource, Config};
use crate::error::{Error, Result};
use crate::events::EventRecord;
use crate::keys::{Keys, NewKey, Permission};
use crate::lock::DataDirLock;
use crate::node::{self, NodeHandle, NodeState};
use crate::sandbox::Sandbox;
use crate::secrets::SecretStore;
use crate::store::Store;
use crate::util::random_lower;
use crate::webhooks::dispatcher::Dispatcher;
use crate::webhooks::Webhooks;
use crate::{expiry, handler, notifications, payments};

/// One running instance. Share it as `Arc<App>`.
pub struct App {
    pub(crate) config: Config,
    pub(crate) store: Store,
    pub(crate) keys: Keys,
    pub(crate) node: NodeHandle,
    pub(crate) events: broadcast::Sender<EventRecord>,
    pub(crate) webhooks: Webhooks,
    /// Wakes the webhook dispatcher (a test event, a redelivery, an endpoint re-enabled).
    pub(crate) wake_dispatcher: Arc<Notify>,
    /// Wakes the expiry task (a new invoice may expire before the one it sleeps for).
    pub(crate) wake_expiry: Arc<Notify>,
    /// Desktop notifications on or off (the Settings page can change it while running).
    pub(crate) notify: Arc<std::sync::atomic::AtomicBool>,
    /// Serialises the budget check and the insert of a payment, so two concurrent payments
    /// with one key cannot both pass a budget that only one fits in.
    pub(crate) pay_lock: tokio::sync::Mutex<()>,
    chain_source: ChainSource,
    mnemonic: Mnemonic,
    shutdown: watch::Sender<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    sandbox: OnceLock<Arc<Sandbox>>,
    _lock: DataDirLock,
}

const SEED_SECRET: &str = "node-seed";
/// How long quitting waits for outgoing payments in flight.
const PAYMENT_SETTLE_ON_QUIT: Duration = Duration::from_secs(30);

impl App {
    /// Locks the data dir (one instance at a time), opens the database and the secret store, and
    /// loads (or on first start creates) the node seed. Starts nothing: see [`App::start`].
    pub async fn open(config: Config) -> Result<Arc<App>> {
        let lock = DataDirLock::acquire(&config.data_dir)?;
        App::open_locked(config, lock).await
    }

    /// [`App::open`] with the data dir already locked by the caller (the sandbox locks it before
    /// starting its bitcoind).
    pub async fn open_locked(config: Config, lock: DataDirLock) -> Result<Arc<App>> {
        let chain_source = config.effective_chain_source()?;
        let store = Store::open(&config.database_path()).await?;
        let instance = store
            .setting_or_insert("instance_id", &random_lower(16))
            .await?;
        let secrets = SecretStore::open(config.secrets, &config.data_dir, &instance).await?;
        let mnemonic = load_or_create_seed(&store, &secrets, &config.ldk_dir()).await?;
        let keys = Keys::new(store.clone(), secrets.clone());
        let webhooks = Webhooks::new(store.clone(), secrets.clone());
        // The merchant's choice from the Settings page wins over the start-up default.
        let notify = crate::settings::stored_notifications(&store)
            .await?
            .unwrap_or(config.notifications);
        let (events, _) = broadcast::channel(1024);
        let (shutdown, _) = watch::channel(false);
        Ok(Arc::new(App {
            node: NodeHandle::new(chain_source.describe()),
            config,
            store,
            keys,
            events,
            webhooks,
            wake_dispatcher: Arc::new(Notify::new()),
            wake_expiry: Arc::new(Notify::new()),
            notify: Arc::new(std::sync::atomic::AtomicBool::new(notify)),
            pay_lock: tokio::sync::Mutex::new(()),
            chain_source,
            mnemonic,
            shutdown,
            tasks: Mutex::new(Vec::new()),
            sandbox: OnceLock::new(),
            _lock: lock,
        }))
    }

    /// Opens only what key management needs (store and secret store), for the `keys` commands,
    /// which may run beside a serving daemon: SQLite in WAL mode allows that.
    pub async fn open_keys(config: &Config) -> Result<Keys> {
        if !config.database_path().exists() {
            return Err(Error::Config(format!(
                "no PayAiML data in {}: start the server once first (or pass --data-dir)",
                config.data_dir.display()
            )));
        }
        let store = Store::open(&config.database_path()).await?;
        let instance = store
            .setting_or_insert("instance_id", &random_lower(16))
            .await?;
        let secrets = SecretStore::open(config.secrets, &config.data_dir, &instance).await?;
        Ok(Keys::new(store, secrets))
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The database.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The API key registry.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// The webhook endpoint registry.
    pub fn webhooks(&self) -> &Webhooks {
        &self.webhooks
    }

    /// The node handle.
    pub fn node(&self) -> &NodeHandle {
        &self.node
    }

    /// Subscribes to events as they are committed.
    pub fn subscribe(&self) -> broadcast::Receiver<EventRecord> {
        self.events.subscribe()
    }

    /// Turns true when [`App::shutdown`] begins: long-lived sessions (WebSocket streams) close.
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// The regtest sandbox, when this instance runs one.
    pub fn sandbox(&self) -> Option<&Arc<Sandbox>> {
        self.sandbox.get()
    }

    pub(crate) fn set_sandbox(&self, sandbox: Arc<Sandbox>) {
        let _ = self.sandbox.set(sandbox);
    }

    /// Returns the dashboard's admin key, creating it on first start. The second value is true
    /// when it was created by this call.
    ///
    /// A new admin key is made only when the old one is really gone (revoked, or its secret
    /// missing from the secret store), and then the old one is revoked: never two live admin
    /// keys. A secret store that cannot be read right now is an error, not a reason to mint one.
    pub async fn admin_key(&self) -> Result<(String, bool)> {
        self.own_key(
            "admin_key_id",
            "Dashboard admin",
            Permission::ALL.into_iter().collect(),
        )
        .await
    }

    /// The read-only key of the customer display window (it shows invoices and their QR, and
    /// needs nothing more), made on first use like [`App::admin_key`].
    pub async fn display_key(&self) -> Result<(String, bool)> {
        self.own_key(
            "display_key_id",
            "Customer display (read-only)",
            [Permission::LightningRead].into_iter().collect(),
        )
        .await
    }

    async fn own_key(
        &self,
        setting: &str,
        name: &str,
        permissions: std::collections::BTreeSet<Permission>,
    ) -> Result<(String, bool)> {
        if let Some(id) = self.store.setting(setting).await? {
            if let Some(secret) = self.keys.reveal_live(&id).await? {
                return Ok((secret, false));
            }
            match self.keys.revoke(&id).await {
                Ok(_) | Err(Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
            tracing::warn!(old = %id, key = name, "a key's secret is gone from the secret store: made a new one and revoked the old one");
        }
        let created = self
            .keys
            .create(NewKey {
                name: name.into(),
                permissions,
                budget: None,
                expires_at_ms: None,
            })
            .await?;
        self.store.set_setting(setting, &created.key.id).await?;
        Ok((created.secret, true))
    }

    /// Starts the background work: the webhook dispatcher, the invoice expiry task, desktop
    /// notifications if configured, and the node, which is built and started in the background,
    /// retrying with backoff while it fails (an unreachable chain source, say). The API keeps
    /// serving meanwhile, and webhooks already owed go out even while the node is down.
    pub fn start(self: &Arc<Self>) {
        let dispatcher = Dispatcher {
            store: self.store.clone(),
            webhooks: self.webhooks.clone(),
            schedule: self.config.webhook_retries.clone(),
            events: self.events.subscribe(),
            wake: self.wake_dispatcher.clone(),
            shutdown: self.shutdown.subscribe(),
        };
        self.track(tokio::spawn(dispatcher.run()));
        self.track(tokio::spawn(expiry::run(
            self.store.clone(),
            self.events.clone(),
            self.wake_expiry.clone(),
            self.shutdown.subscribe(),
        )));
        // Always running, so the Settings page can turn notifications on without a restart;
        // it shows nothing while they are off.
        self.track(tokio::spawn(notifications::run(
            self.events.subscribe(),
            self.notify.clone(),
            self.shutdown.subscribe(),
        )));
        let app = Arc::clone(self);
        let task = tokio::spawn(async move { app.supervise_node().await });
        self.track(task);
    }

    async fn supervise_node(self: Arc<Self>) {
        let mut shutdown = self.shutdown.subscribe();
        let mut delay = Duration::from_secs(2);
        loop {
            match self.try_start_node().await {
                Ok(()) => return,
                Err(e) => {
                    let retry = delay.as_millis() as i64;
                    tracing::warn!(error = %e, retry_in_s = delay.as_secs(), "the Lightning node did not start");
                    // Kept without the "not ready" prefix that `NodeHandle::get` adds again.
                    let reason = match e {
                        Error::NodeNotReady(reason) => reason,
                        other => other.to_string(),
                    };
                    self.node
                        .set_state(NodeState::Failed, Some(reason), Some(retry));
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = shutdown.changed() => return,
            }
            delay = (delay * 2).min(Duration::from_secs(60));
        }
    }

    async fn try_start_node(self: &Arc<Self>) -> Result<()> {
        let node = match self.node.any() {
            Some(node) => node,
            None => {
                let (config, chain, mnemonic) = (
                    self.config.clone(),
                    self.chain_source.clone(),
                    self.mnemonic.clone(),
                );
                let handle = tokio::runtime::Handle::current();
                let node = tokio::task::spawn_blocking(move || {
                    node::build(&config, &chain, mnemonic, handle)
                })
                .await
                .map_err(|e| Error::Node(format!("node build task failed: {e}")))??;
                let node = Arc::new(node);
                self.node.set_built(node.clone());
                node
            }
        };
        self.node.set_state(NodeState::Starting, None, None);
        let starting = node.clone();
        tokio::task::spawn_blocking(move || starting.start())
            .await
            .map_err(|e| Error::Node(format!("node start task failed: {e}")))?
            .map_err(|e| Error::NodeNotReady(node::explain(&e)))?;
        tracing::info!(node_id = %node.node_id(), network = %self.config.network, "Lightning node started");
        // The node runs from here on, so a failure here must not send us back to `start()`:
        // payments left pending are reconciled on the next start instead.
        if let Err(e) = self.reconcile_payments(&node).await {
            tracing::error!(error = %e, "reconciling pending payments failed");
        }
        let task = tokio::spawn(handler::run(
            node.clone(),
            self.store.clone(),
            self.events.clone(),
            self.shutdown.subscribe(),
        ));
        self.track(task);
        self.node.set_state(NodeState::Running, None, None);
        Ok(())
    }

    /// Settles payments that were pending when we last stopped with what the node's record
    /// says, and hands the others back to the node in the background (see [`crate::resume`]):
    /// a kill can leave LDK's record saying `Pending` for a payment its ChannelManager lost.
    async fn reconcile_payments(&self, node: &Arc<ldk_node::Node>) -> Result<()> {
        use ldk_node::lightning::ln::channelmanager::PaymentId;
        use ldk_node::payment::PaymentStatus;
        for p in payments::pending(&self.store).await? {
            let Ok(bytes) = <[u8; 32]>::try_from(hex::decode(&p.payment_hash).unwrap_or_default())
            else {
                continue;
            };
            let details = node.payment(&PaymentId(bytes));
            let outcome = match details.as_ref().map(|d| d.status) {
                Some(PaymentStatus::Succeeded) => Ok(details.and_then(|d| d.fee_paid_msat)),
                Some(PaymentStatus::Failed) => Err("failed while the app was stopped".to_string()),
                Some(PaymentStatus::Pending) | None => {
                    match crate::send::parse_invoice(&p.invoice) {
                        Ok(invoice) => {
                            let task = tokio::spawn(resume_payment(
                                node.clone(),
                                self.store.clone(),
                                self.events.clone(),
                                p,
                                invoice,
                                self.shutdown.subscribe(),
                            ));
                            self.track(task);
                            continue;
                        }
                        Err(_) => Err("its invoice could not be read back".to_string()),
                    }
                }
            };
            let records = crate::send::settle(
                &self.store,
                &p.payment_hash,
                outcome.as_ref().copied().map_err(String::as_str),
                details_preimage(node, bytes),
            )
            .await?;
            tracing::info!(payment = %p.id, "reconciled a payment left pending");
            for r in records {
                let _ = self.events.send(r);
            }
        }
        Ok(())
    }

    /// Waits until the node runs, or its start failed `timeout` after the call.
    pub async fn wait_node_running(&self, timeout: Duration) -> Result<()> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let status = self.node.status();
            if status.state == NodeState::Running {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::NodeNotReady(
                    status.error.unwrap_or_else(|| "still starting".into()),
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until no outgoing payment is pending, for at most `timeout` (and not at all while
    /// the node is not running: nothing could settle them).
    async fn wait_payments_settled(&self, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut told = false;
        while self.node.status().state == NodeState::Running {
            match payments::pending(&self.store).await {
                Ok(pending) if pending.is_empty() => return,
                Ok(pending) => {
                    if !told {
                        tracing::info!(
                            count = pending.len(),
                            "waiting for payments in flight before stopping"
                        );
                        told = true;
                    }
                }
                Err(_) => return,
            }
            if tokio::time::Instant::now() >= deadline {
                tracing::warn!("payments still in flight; they are reconciled at the next start");
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn track(&self, task: JoinHandle<()>) {
        if let Ok(mut tasks) = self.tasks.lock() {
            tasks.retain(|t| !t.is_finished());
            tasks.push(task);
        }
    }

    /// Stops everything in order: background tasks, the sandbox's customer node and bitcoind,
    /// the node (waiting for LDK to persist), then the database.
    pub async fn shutdown(&self) {
        // Outgoing payments still in flight get a moment to settle while the node and the event
        // task still run, so their outcome is recorded now rather than reconciled at next start.
        self.wait_payments_settled(PAYMENT_SETTLE_ON_QUIT).await;
        let _ = self.shutdown.send(true);
        self.node.set_state(NodeState::Stopped, None, None);
        let tasks: Vec<_> = self
            .tasks
            .lock()
            .map(|mut t| t.drain(..).collect())
            .unwrap_or_default();
        for task in tasks {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
        if let Some(node) = self.node.any() {
            match tokio::task::spawn_blocking(move || node.stop()).await {
                Ok(Ok(())) | Ok(Err(ldk_node::NodeError::NotRunning)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "stopping the node"),
                Err(e) => tracing::warn!(error = %e, "node stop task failed"),
            }
        }
        if let Some(sandbox) = self.sandbox.get() {
            sandbox.stop().await;
        }
        self.store.close().await;
        tracing::info!("stopped");
    }
}

fn details_preimage(node: &ldk_node::Node, id: [u8; 32]) -> Option<String> {
    use ldk_node::lightning::ln::channelmanager::PaymentId;
    use ldk_node::payment::PaymentKind;
    match node.payment(&PaymentId(id))?.kind {
        PaymentKind::Bolt11 { preimage, .. } => preimage.map(|p| p.to_string()),
        _ => None,
    }
}

/// Hands a payment left pending back to the node until the node has it or it is settled, and
/// records the outcome when that is already known (see [`crate::resume`]).
async fn resume_payment(
    node: Arc<ldk_node::Node>,
    store: Store,
    events: broadcast::Sender<EventRecord>,
    pending: payments::PendingSend,
    invoice: ldk_node::lightning_invoice::Bolt11Invoice,
    mut stop: watch::Receiver<bool>,
) {
    use crate::resume::{hand_back_until_known, Handback, Resumed};
    use ldk_node::lightning::routing::router::RouteParametersConfig;
    let hash = pending.payment_hash.clone();
    let payment = Arc::new(Handback {
        invoice,
        amount_msat: pending.amount_msat,
        route: Some(RouteParametersConfig {
            max_total_routing_fee_msat: pending.max_fee_msat,
            ..RouteParametersConfig::default()
        }),
    });
    let id = pending.id.clone();
    let handing = hand_back_until_known(node.clone(), payment, |_| {
        let (store, id) = (store.clone(), id.clone());
        async move { payments::is_pending(&store, &id).await.unwrap_or(false) }
    });
    // On shutdown it is left pending: the next start hands it back again.
    let found = tokio::select! {
        found = handing => found,
        _ = stop.changed() => return,
    };
    let outcome = match &found {
        Resumed::InFlight | Resumed::OnChain | Resumed::NoLongerPending | Resumed::Waiting => {
            return
        }
        Resumed::Resent => {
            tracing::warn!(payment = %pending.id, "the node had lost a payment cut off by a crash; it was sent again");
            return;
        }
        Resumed::Settled(Ok(fee)) => Ok(*fee),
        Resumed::Settled(Err(())) => Err("failed while the app was stopped".to_string()),
        Resumed::Refused(reason) => Err(format!("could not be resumed after a restart: {reason}")),
    };
    let preimage = <[u8; 32]>::try_from(hex::decode(&hash).unwrap_or_default())
        .ok()
        .and_then(|b| details_preimage(&node, b));
    match crate::send::settle(
        &store,
        &hash,
        outcome.as_ref().copied().map_err(String::as_str),
        preimage,
    )
    .await
    {
        Ok(records) => {
            tracing::info!(payment = %pending.id, "reconciled a payment left pending");
            for r in records {
                let _ = events.send(r);
            }
        }
        Err(e) => tracing::error!(error = %e, payment = %pending.id, "recording a resumed payment"),
    }
}

/// Reads the node seed from the secret store, or creates it on the very first start. A seed that
/// should exist but does not is an error: making a new one would silently start a different,
/// empty wallet.
async fn load_or_create_seed(
    store: &Store,
    secrets: &SecretStore,
    ldk_dir: &Path,
) -> Result<Mnemonic> {
    if let Some(words) = secrets.get(SEED_SECRET).await? {
        return Mnemonic::parse(words.trim()).map_err(|e| {
            Error::Secrets(format!("the node seed in the secret store is damaged: {e}"))
        });
    }
    let existed = store.setting("seed_created_at").await?.is_some()
        || std::fs::read_dir(ldk_dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(false);
    if existed {
        return Err(Error::Secrets(format!(
            "the node seed ({}) is missing from the secret store, but this data dir already has a node; \
             restore the secret store (or use the same --secrets backend as before) instead of starting a new wallet",
            secrets.entry_name(SEED_SECRET)
        )));
    }
    let mnemonic = ldk_node::generate_entropy_mnemonic(None);
    secrets.set(SEED_SECRET, &mnemonic.to_string()).await?;
    store
        .set_setting("seed_created_at", &crate::util::now_ms().to_string())
        .await?;
    tracing::info!("created a new node seed in the secret store");
    Ok(mnemonic)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Network, SecretsBackend};

    async fn open(dir: &Path) -> Arc<App> {
        let mut config = Config::new(Network::Signet);
        config.data_dir = dir.to_path_buf();
        config.secrets = SecretsBackend::File;
        config.chain_source = Some(ChainSource::Esplora {
            url: "http://127.0.0.1:1".into(),
        });
        App::open(config).await.expect("open")
    }

    /// A lost admin secret gives a new admin key and revokes the old one; an unreadable secret
    /// store gives an error and mints nothing.
    #[tokio::test]
    async fn admin_key_is_replaced_only_when_gone() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
        let app = open(dir.path()).await;
        let (first, created) = app.admin_key().await?;
        assert!(created);
        assert_eq!(app.admin_key().await?, (first.clone(), false));
        let first_id = crate::keys::key_id(&first).to_string();

        let secrets = dir.path().join("secrets.json");
        let saved = std::fs::read(&secrets).map_err(|e| Error::io("read", e))?;
        std::fs::write(&secrets, b"{ damaged").map_err(|e| Error::io("write", e))?;
        assert!(
            app.admin_key().await.is_err(),
            "an unreadable store is an error"
        );
        assert_eq!(app.keys.list().await?.len(), 1, "and nothing was minted");

        std::fs::write(&secrets, saved).map_err(|e| Error::io("write", e))?;
        app.keys
            .secrets_for_tests()
            .delete(&format!("api-key/{first_id}"))
            .await?;
        let (second, created) = app.admin_key().await?;
        assert!(created && second != first);
        let keys = app.keys.list().await?;
        let live: Vec<&str> = keys
            .iter()
            .filter(|k| k.revoked_at.is_none())
            .map(|k| k.id.as_str())
            .collect();
        assert_eq!(live, [crate::keys::key_id(&second)], "one live admin key");
        Ok(())
    }
}
