//! The running application: it opens the data dir (lock, database, secret store, node seed),
//! starts and stops the background work, and hands out one small handle per domain
//! (`app.invoices()`, `app.payments()`, `app.keys()`, `app.webhooks()`, `app.node()`,
//! `app.events()`, `app.settings()`, `app.idempotency()`), each holding only what its domain
//! needs, as ldk-node's `Node::bolt11_payment()` does. No transport lives here, and no domain
//! module depends on this one.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ldk_node::bip39::Mnemonic;
use tokio::sync::{broadcast, Notify};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{ChainSource, Config, Network};
use crate::error::{Error, Result};
use crate::events::{EventRecord, Events};
use crate::idempotency::Idempotency;
use crate::invoices::{expiry, Invoices};
use crate::keys::Keys;
use crate::lock::DataDirLock;
use crate::node::{self, NodeHandle, NodeState};
use crate::node_events::record_node_events;
use crate::notifications;
use crate::payments::{self, Payments};
use crate::rates::RateService;
use crate::secrets::SecretStore;
use crate::seed;
use crate::settings::Settings;
use crate::store::Store;
use crate::util::random_lower;
use crate::webhooks::dispatcher::Dispatcher;
use crate::webhooks::Webhooks;

/// One running instance. Share it as `Arc<App>`.
pub struct App {
    config: Config,
    store: Store,
    keys: Keys,
    node: NodeHandle,
    /// Every event as it is committed (webhook dispatcher, WebSocket streams, notifications).
    live: broadcast::Sender<EventRecord>,
    webhooks: Webhooks,
    /// Wakes the expiry task (a new invoice may expire before the one it sleeps for).
    wake_expiry: Arc<Notify>,
    /// Desktop notifications on or off (the Settings page can change it while running).
    notify: Arc<AtomicBool>,
    /// Serialises the budget check and the insert of a payment, so two concurrent payments
    /// with one key cannot both pass a budget that only one fits in.
    pay_lock: tokio::sync::Mutex<()>,
    /// The secret store (the Settings page keeps the LSP's token there).
    secrets: SecretStore,
    /// Exchange rates: the merchant's currency and the providers' quotes.
    rates: Arc<RateService>,
    /// What the Greenfield front door keeps in memory.
    greenfield_memo: crate::greenfield::GreenfieldMemo,
    /// Whether the app is locked to the point of sale (see `cashier`).
    lock_state: crate::cashier::LockState,
    /// The till's sign-in turn and the printing task's bell.
    till_state: Arc<crate::till::TillState>,
    /// The Nostr Wallet Connect service's bell and report.
    nwc_state: Arc<crate::nwc::NwcState>,
    /// What the customer display shows (see `display`).
    display: Arc<crate::display::DisplayHub>,
    chain_source: ChainSource,
    mnemonic: Mnemonic,
    /// The backup's keys, from the words (one per app, so its JWT key is made once).
    sealer: crate::backup::Sealer,
    /// Cancelled when [`App::shutdown`] begins: every background task and long-lived session
    /// (WebSocket streams) ends.
    stop: CancellationToken,
    /// Every background task, so shutdown can wait for them.
    tasks: TaskTracker,
    /// Ends the tasks of the node now running (a child of `stop`).
    node_stop: std::sync::Mutex<CancellationToken>,
    /// Asks the node's supervisor to build and start the node again (after it was stopped).
    rebuild_node: Notify,
    /// Set once the front door finished starting (the sandbox: its channels are up): until then
    /// something may still hold the node, which a rebuild must not pull away.
    launched: AtomicBool,
    _lock: DataDirLock,
}

/// The database and the secret store (namespaced by this install's id, made on first open).
pub(crate) async fn open_store(config: &Config) -> Result<(Store, SecretStore)> {
    let store = Store::open(&config.database_path()).await?;
    let instance = store
        .setting_or_insert("instance_id", &random_lower(16))
        .await?;
    let secrets = SecretStore::open(config.secrets, &config.data_dir, &instance).await?;
    Ok((store, secrets))
}

/// Puts the shop's database back from the backup in a data dir that has no wallet (locked by the
/// caller), under a new instance id (its secrets go under that name in this computer's secret
/// store, beside any other wallet's) and without the old record of its seed, which the restore
/// stores again. Returns the secrets to write and what came back; `None` if the target holds no
/// shop data (a backup of the channel state alone), leaving the data dir as it was.
async fn restore_shop_data(
    config: &Config,
    target: &crate::backup::Target,
    sealer: &crate::backup::Sealer,
) -> Result<
    Option<(
        std::collections::BTreeMap<String, String>,
        crate::backup::shop::ShopRestored,
    )>,
> {
    let database = config.database_path();
    let partial = config.data_dir.join("payaiml.sqlite.restoring");
    let fetched = match crate::backup::shop::fetch(target, sealer, &partial).await {
        Ok(Some(fetched)) => fetched,
        Ok(None) => return Ok(None),
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    // Made this computer's before it is put in place: a crash in between leaves the old empty
    // database (a retry starts over), never one that claims a wallet without its seed.
    let store = Store::open(&fetched.file).await?;
    let mut fresh = store.set_setting("instance_id", &random_lower(16)).await;
    if fresh.is_ok() {
        fresh = seed::forget_record(&store).await;
    }
    if fresh.is_ok() {
        // Everything into the main file (the store runs in WAL mode), which alone is moved.
        fresh = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(store.pool())
            .await
            .map(|_| ())
            .map_err(Error::from);
    }
    store.close().await;
    fresh?;
    let with_suffix = |path: &std::path::Path, suffix: &str| {
        std::path::PathBuf::from(format!("{}{suffix}", path.display()))
    };
    for suffix in ["-wal", "-shm", ""] {
        let old = with_suffix(&database, suffix);
        match std::fs::remove_file(&old) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(format!("replacing {}", old.display()), e)),
        }
    }
    // A write-ahead log the checkpoint left (it should leave none) goes with its database, the
    // main file last, so what is in place is always whole.
    let partial_wal = with_suffix(&fetched.file, "-wal");
    if partial_wal.exists() {
        std::fs::rename(&partial_wal, with_suffix(&database, "-wal"))
            .map_err(|e| Error::io(format!("putting {} in place", database.display()), e))?;
    }
    let _ = std::fs::remove_file(with_suffix(&fetched.file, "-shm"));
    std::fs::rename(&fetched.file, &database)
        .map_err(|e| Error::io(format!("putting {} in place", database.display()), e))?;
    std::fs::File::open(&config.data_dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(format!("syncing {}", config.data_dir.display()), e))?;
    tracing::info!(restored = ?fetched.restored, "brought the shop's data back from the backup");
    Ok(Some((fetched.secrets, fetched.restored)))
}

/// Set once the node has run: from then on its store must never be replaced by an empty one.
const NODE_RAN: &str = "node_ran";
/// Set when the wallet was restored from its words and a backup, whose channel state its first
/// start must find.
const RESTORED_FROM_BACKUP: &str = "restored_from_backup";

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
    pub async fn open_locked(mut config: Config, lock: DataDirLock) -> Result<Arc<App>> {
        let chain_source = config.effective_chain_source()?;
        // LDK ends the process when a peer proves the node's channel state old: the marker it
        // leaves starts a safe recovery at the next start (node::behind).
        node::behind::watch(&config.data_dir);
        let (store, secrets) = open_store(&config).await?;
        // Only a regtest node (the sandbox) makes its wallet by itself; a real one is made on
        // purpose, with its words shown, by `App::init`.
        let may_create = config.network == Network::Regtest;
        let mnemonic = seed::load(
            &store,
            &secrets,
            &config.ldk_dir(),
            &config.data_dir,
            may_create,
        )
        .await?;
        let keys = Keys::new(store.clone(), secrets.clone(), config.keys_marker_path());
        let webhooks = Webhooks::new(store.clone(), secrets.clone());
        // The merchant's choices from the Settings page win over the start-up settings.
        crate::settings::apply_stored(&store, &secrets, &mut config).await?;
        // The journal of changed rows exists only while the shop's data is backed up.
        crate::backup::shop::prepare(&store, config.backup.is_some()).await?;
        let notify = crate::settings::stored_notifications(&store)
            .await?
            .unwrap_or(config.notifications);
        let rates = RateService::new(config.rates.clone());
        crate::settings::apply_rates_choice(&store, &rates).await?;
        let lock_state = crate::cashier::LockState::default();
        crate::cashier::load(&store, &keys, &lock_state).await?;
        let (live, _) = broadcast::channel(1024);
        Ok(Arc::new(App {
            rates,
            greenfield_memo: Default::default(),
            lock_state,
            till_state: Arc::default(),
            nwc_state: Arc::default(),
            display: Arc::default(),
            node: NodeHandle::new(chain_source.describe(), config.network, config.sandbox),
            config,
            store,
            keys,
            live,
            webhooks,
            wake_expiry: Arc::new(Notify::new()),
            notify: Arc::new(AtomicBool::new(notify)),
            pay_lock: tokio::sync::Mutex::new(()),
            secrets: secrets.clone(),
            chain_source,
            sealer: crate::backup::Sealer::from_mnemonic(&mnemonic),
            mnemonic,
            stop: CancellationToken::new(),
            tasks: TaskTracker::new(),
            node_stop: std::sync::Mutex::new(CancellationToken::new()),
            rebuild_node: Notify::new(),
            launched: AtomicBool::new(false),
            _lock: lock,
        }))
    }

    /// Makes the wallet of a data dir that has none, from `words` (new ones the merchant has
    /// written down, or their own to restore a wallet), without starting anything. The words are
    /// kept in the secret store only. Refused if the data dir has a wallet already.
    ///
    /// With a backup target (`config.backup`), a restore first checks that the target holds this
    /// wallet's channel state (an error saying so otherwise, with nothing stored), brings back the
    /// shop's data (its database and secrets: history, API keys with the same secrets, webhooks,
    /// catalog, settings) when the target holds it, and keeps the target for every later start;
    /// the node's first start brings the channel state back. Returns what came back of the shop.
    pub async fn init(
        config: &Config,
        words: &Mnemonic,
        origin: seed::Origin,
    ) -> Result<Option<crate::backup::shop::ShopRestored>> {
        let lock = DataDirLock::acquire(&config.data_dir)?;
        let mut shop = None;
        if let (Some(target), seed::Origin::Restored) = (&config.backup, origin) {
            let sealer = crate::backup::Sealer::from_mnemonic(words);
            let opened = crate::backup::Target::open(target, &sealer)?;
            crate::backup::restore::check_holds(&opened, &sealer).await?;
            if !App::has_wallet_locked(config).await? {
                shop = restore_shop_data(config, &opened, &sealer).await?;
            }
        }
        let (store, secrets) = open_store(config).await?;
        let mut stored = Ok(());
        if let Some((bundle, _)) = &shop {
            for (name, value) in bundle {
                stored = secrets.set(name, value).await;
                if stored.is_err() {
                    break;
                }
            }
        }
        if stored.is_ok() {
            stored = seed::store_new(&store, &secrets, &config.ldk_dir(), words, origin).await;
        }
        if let (Ok(()), Some(target)) = (&stored, &config.backup) {
            stored = crate::settings::store_backup_target(&store, &secrets, target).await;
            if stored.is_ok() && origin == seed::Origin::Restored {
                stored = store.set_setting(RESTORED_FROM_BACKUP, "1").await;
            }
        }
        store.close().await;
        drop(lock);
        stored.map(|()| shop.map(|(_, restored)| restored))
    }

    /// The public key (PEM) whose JWTs the wallet of `config`'s data dir sends a VSS server in
    /// JWT mode (see [`crate::backup::Sealer::jwt_key`]). Works beside a running wallet.
    pub async fn backup_public_key(config: &Config) -> Result<String> {
        if !config.database_path().exists() {
            return Err(Error::Config(format!(
                "no wallet in {}: make or restore it first (payaimld init)",
                config.data_dir.display()
            )));
        }
        let (store, secrets) = open_store(config).await?;
        let words = seed::load(&store, &secrets, &config.ldk_dir(), &config.data_dir, false).await;
        store.close().await;
        crate::backup::Sealer::from_mnemonic(&words?).jwt_public_pem()
    }

    /// Whether the data dir has a wallet (or the remains of one), so that new words are not shown
    /// for a wallet that could not be made.
    pub async fn has_wallet(config: &Config) -> Result<bool> {
        if !config.database_path().exists() && !config.ldk_dir().exists() {
            return Ok(false);
        }
        let _lock = DataDirLock::acquire(&config.data_dir)?;
        App::has_wallet_locked(config).await
    }

    /// [`App::has_wallet`] with the data dir locked by the caller.
    async fn has_wallet_locked(config: &Config) -> Result<bool> {
        if !config.database_path().exists() && !config.ldk_dir().exists() {
            return Ok(false);
        }
        let (store, secrets) = open_store(config).await?;
        let found = seed::has_wallet(&store, &secrets, &config.ldk_dir()).await;
        store.close().await;
        found
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
        let (store, secrets) = open_store(config).await?;
        Ok(Keys::new(store, secrets, config.keys_marker_path()))
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Invoices: create, get, list.
    pub fn invoices(&self) -> Invoices<'_> {
        Invoices::new(
            &self.store,
            &self.node,
            &self.config,
            &self.rates,
            &self.wake_expiry,
        )
    }

    /// Outgoing payments: pay, get, list.
    pub fn payments(&self) -> Payments<'_> {
        Payments {
            store: &self.store,
            node: &self.node,
            live: &self.live,
            config: &self.config,
            pay_lock: &self.pay_lock,
            rates: &self.rates,
        }
    }

    /// The shop in BTCPay Greenfield's terms: its store id, invoices, marks, BTCPay-format
    /// webhooks and paired keys.
    pub fn greenfield(&self) -> crate::greenfield::Greenfield<'_> {
        crate::greenfield::Greenfield::new(
            &self.store,
            self.invoices(),
            &self.keys,
            &self.webhooks,
            &self.rates,
            &self.greenfield_memo,
        )
    }

    /// API keys, the dashboard's admin key among them.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// Webhook endpoints and their deliveries.
    pub fn webhooks(&self) -> &Webhooks {
        &self.webhooks
    }

    /// The Lightning node: its state, balance, channels, health.
    pub fn node(&self) -> &NodeHandle {
        &self.node
    }

    /// The event log and its live feed.
    pub fn events(&self) -> Events<'_> {
        Events::new(&self.store, &self.live)
    }

    /// The settings the merchant changes while the app runs.
    pub fn settings(&self) -> Settings<'_> {
        Settings::new(
            &self.store,
            &self.secrets,
            &self.config,
            &self.rates,
            &self.notify,
            &self.sealer,
        )
    }

    /// Exchange rates: the merchant's currency, the providers, the current rate.
    pub fn rates(&self) -> &RateService {
        &self.rates
    }

    /// The catalog: items and tax rates for the point of sale, and pricing carts.
    pub fn catalog(&self) -> crate::catalog::Catalog<'_> {
        crate::catalog::Catalog::new(&self.store)
    }

    /// Offers (BOLT12): payment codes that never expire, for a sticker on the counter.
    pub fn offers(&self) -> crate::offers::Offers<'_> {
        crate::offers::Offers::new(&self.store, &self.node)
    }

    /// The cashier lock: the PIN, locking to the point of sale, unlocking.
    pub fn cashier(&self) -> crate::cashier::Cashier<'_> {
        crate::cashier::Cashier::new(&self.store, &self.keys, &self.lock_state)
    }

    /// The till: cashiers, shifts, sales in cash or by card, printers and Z-reports.
    pub fn till(&self) -> crate::till::Till<'_> {
        crate::till::Till::new(
            &self.store,
            &self.keys,
            self.invoices(),
            &self.rates,
            &self.live,
            &self.lock_state,
            &self.till_state,
        )
    }

    /// Nostr Wallet Connect: connections (each one of the API keys) and what the relay service
    /// keeps and reports.
    pub fn nwc(&self) -> crate::nwc::Nwc<'_> {
        crate::nwc::Nwc::new(&self.store, &self.keys, &self.secrets, &self.nwc_state)
    }

    /// The customer display: the point of sale's current sale, tip questions, pairing.
    pub fn display(&self) -> crate::display::CustomerDisplay<'_> {
        crate::display::CustomerDisplay::new(&self.display, &self.keys, self.invoices())
    }

    /// Receipts of paid invoices, as printable HTML.
    pub fn receipts(&self) -> crate::receipts::Receipts<'_> {
        crate::receipts::Receipts::new(&self.store)
    }

    /// Reports: a day's sales, sales by day, the transactions CSV.
    pub fn reports(&self) -> crate::reports::Reports<'_> {
        crate::reports::Reports::new(&self.store, &self.rates)
    }

    /// `Idempotency-Key` records.
    pub fn idempotency(&self) -> Idempotency {
        Idempotency::new(self.store.clone())
    }

    /// The wallet's recovery words, in order. Only the front door decides who may see them (the
    /// dashboard's admin, after confirming); they are never logged.
    pub fn recovery_words(&self) -> Vec<String> {
        self.mnemonic.words().map(str::to_string).collect()
    }

    /// Cancelled when [`App::shutdown`] begins: long-lived sessions (WebSocket streams) close.
    /// A child of the app's own token, so a caller that cancels it stops nothing else.
    pub fn closing(&self) -> CancellationToken {
        self.stop.child_token()
    }

    /// Starts the background work: the webhook dispatcher, the invoice expiry task, desktop
    /// notifications, and the node, which is built and started in the background, retrying with
    /// backoff while it fails (an unreachable chain source, say). The API keeps serving
    /// meanwhile, and webhooks already owed go out even while the node is down.
    pub fn start(self: &Arc<Self>) {
        if !self.config.sandbox {
            self.mark_launched();
        }
        let dispatcher = Dispatcher {
            store: self.store.clone(),
            webhooks: self.webhooks.clone(),
            schedule: self.config.webhook_retries.clone(),
            events: self.live.subscribe(),
            wake: self.webhooks.waker(),
            stop: self.stop.clone(),
        };
        self.tasks.spawn(dispatcher.run());
        let rates = self.rates.clone();
        let printing = crate::till::printing::Printing {
            store: self.store.clone(),
            rates_currency: Arc::new(move || rates.merchant_currency()),
            state: self.till_state.clone(),
        };
        self.tasks
            .spawn(printing.run(self.live.subscribe(), self.stop.clone()));
        self.tasks.spawn(expiry::run(
            self.store.clone(),
            self.live.clone(),
            self.wake_expiry.clone(),
            self.stop.clone(),
        ));
        // Always running, so the Settings page can turn notifications on without a restart;
        // it shows nothing while they are off.
        self.tasks.spawn(notifications::run(
            self.live.subscribe(),
            self.notify.clone(),
            self.stop.clone(),
        ));
        self.tasks.spawn(
            self.display
                .clone()
                .follow(self.live.subscribe(), self.stop.clone()),
        );
        // Fetches nothing while the merchant counts in sats only and nothing asks for a rate.
        self.tasks.spawn(self.rates.clone().run(self.stop.clone()));
        if let Some(target) = &self.config.backup {
            let sealer = self.sealer.clone();
            match crate::backup::Target::open(target, &sealer) {
                Ok(opened) => {
                    let (store, secrets) = (self.store.clone(), self.secrets.clone());
                    let source: crate::backup::shop::SecretsSource = Arc::new(move || {
                        let (store, secrets) = (store.clone(), secrets.clone());
                        Box::pin(async move {
                            let mut all = crate::wallet_secrets::collect(&store, &secrets).await?;
                            // The words are the seed: it never leaves the computer this way.
                            all.remove(seed::SEED_SECRET);
                            Ok(all)
                        })
                    });
                    let (shop, work) = crate::backup::shop::start(
                        self.store.clone(),
                        source,
                        &self.config.data_dir,
                        opened,
                        sealer,
                        self.stop.clone(),
                    );
                    self.node.set_shop_backup(shop);
                    self.tasks.spawn(work);
                }
                // Shown in health as behind, with why; the journal keeps every change meanwhile.
                Err(e) => {
                    tracing::error!(error = %e, "the shop data's backup cannot start");
                    self.node
                        .set_shop_backup(Arc::new(crate::backup::shop::ShopBackup::failed(
                            format!("{target:?}"),
                            &e,
                        )));
                }
            }
        }
        let app = Arc::clone(self);
        self.tasks.spawn(async move { app.supervise_node().await });
    }

    async fn supervise_node(self: Arc<Self>) {
        let mut delay = Duration::from_secs(2);
        loop {
            match self.try_start_node().await {
                Ok(()) => {
                    // Running. A recovery's last step asks for the node to be built again.
                    tokio::select! {
                        _ = self.rebuild_node.notified() => {
                            delay = Duration::from_secs(2);
                            continue;
                        }
                        _ = self.stop.cancelled() => return,
                    }
                }
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
                _ = self.stop.cancelled() => return,
            }
            delay = (delay * 2).min(Duration::from_secs(60));
        }
    }

    async fn try_start_node(self: &Arc<Self>) -> Result<()> {
        let node = match self.node.any() {
            Some(node) => node,
            None => {
                let backup = match (self.node.backup(), &self.config.backup) {
                    // A node rebuilt in this process (a recovery's last step) keeps its mirror.
                    (Some(running), _) => Some(running),
                    (None, Some(target)) => Some(Arc::new(self.start_backup(target).await?)),
                    (None, None) => {
                        node::prepare_store(&self.config.ldk_dir()).await;
                        let recovery =
                            node::behind::prepare(&self.config.data_dir, &self.config.ldk_dir())
                                .await?;
                        self.node.set_recovery(recovery);
                        None
                    }
                };
                let (config, chain, mnemonic) = (
                    self.config.clone(),
                    self.chain_source.clone(),
                    self.mnemonic.clone(),
                );
                let handle = tokio::runtime::Handle::current();
                let store = backup
                    .as_ref()
                    .map(|b| b.store.clone() as Arc<ldk_node::DynStore>);
                let built = tokio::task::spawn_blocking(move || {
                    node::build(&config, &chain, mnemonic, handle, store)
                })
                .await
                .map_err(|e| Error::Node(format!("node build task failed: {e}")));
                let node = match built {
                    Ok(Ok(node)) => Arc::new(node),
                    Ok(Err(e)) | Err(e) => {
                        // The next try opens the store again.
                        if let Some(backup) = backup {
                            self.node.forget_backup();
                            tokio::task::spawn_blocking(move || backup.stop(Duration::ZERO))
                                .await
                                .ok();
                        }
                        return Err(e);
                    }
                };
                self.node.set_built(node.clone(), backup);
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
        // The tasks of this node end with it (a recovery rebuilds the node in this process).
        let node_stop = self.stop.child_token();
        if let Ok(mut current) = self.node_stop.lock() {
            *current = node_stop.clone();
        }
        // The node runs from here on, so a failure here must not send us back to `start()`:
        // payments left pending are reconciled on the next start instead.
        if let Err(e) =
            payments::resume::reconcile(&node, &self.store, &self.live, &self.tasks, &node_stop)
                .await
        {
            tracing::error!(error = %e, "reconciling pending payments failed");
        }
        // The node started with this chain source, so it is there; the on-chain watcher reads
        // incoming transactions from it.
        if let Ok(source) = self.config.effective_chain_source() {
            self.tasks.spawn(crate::invoices::onchain::run(
                node.clone(),
                self.store.clone(),
                crate::node::chain_lookup::ChainLookup::new(&source),
                self.config.network.to_ldk(),
                self.live.clone(),
                node_stop.clone(),
            ));
        }
        self.tasks.spawn(record_node_events(
            node.clone(),
            self.store.clone(),
            self.rates.clone(),
            self.live.clone(),
            node_stop.clone(),
        ));
        self.tasks.spawn(crate::node_prune::run(
            node.clone(),
            self.store.clone(),
            node_stop.clone(),
        ));
        if self.node.recovery().is_some() {
            let app = self.clone();
            let stop = node_stop.clone();
            self.tasks.spawn(async move { app.recover(stop).await });
        }
        self.node.set_state(NodeState::Running, None, None);
        if let Err(e) = self.store.set_setting(NODE_RAN, "1").await {
            tracing::warn!(error = %e, "could not record that the node ran");
        }
        Ok(())
    }

    /// Brings the node's store back from the backup if it is missing, then starts mirroring it.
    async fn start_backup(
        &self,
        target: &crate::backup::TargetConfig,
    ) -> Result<crate::backup::Running> {
        let ldk_dir = self.config.ldk_dir();
        let sealer = self.sealer.clone();
        let opened = crate::backup::Target::open(target, &sealer)?;
        // Started before, or restored from words and this backup: its channel state must exist
        // somewhere. (Restored from the words alone, it starts empty, as the words promise.)
        let must_exist = self.store.setting(NODE_RAN).await?.is_some()
            || self.store.setting(RESTORED_FROM_BACKUP).await?.is_some();
        crate::backup::bring_back_missing_store(&ldk_dir, &opened, &sealer, must_exist).await?;
        node::prepare_store(&ldk_dir).await;
        let recovery = node::behind::prepare(&self.config.data_dir, &ldk_dir).await?;
        self.node.set_recovery(recovery);
        crate::backup::mirror::start(&ldk_dir, opened, sealer)
    }

    /// Says the front door has finished starting (the sandbox calls it once its channels are up;
    /// [`App::start`] for every other front door).
    pub fn mark_launched(&self) {
        self.launched.store(true, Ordering::SeqCst);
    }

    /// Carries a recovery from channel state that was behind (see `node::behind`): waits for the
    /// peers' closes of the channels set aside, then rebuilds the node with their monitors, which
    /// claim the merchant's outputs; ends once nothing is left to claim.
    async fn recover(self: Arc<Self>, stop: CancellationToken) {
        let Ok(source) = self.config.effective_chain_source() else {
            return;
        };
        let lookup = crate::node::chain_lookup::ChainLookup::new(&source);
        let mut first_seen = std::collections::HashMap::new();
        let mut quiet = false;
        loop {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                _ = stop.cancelled() => return,
            }
            let Some(mut recovery) = self.node.recovery() else {
                return;
            };
            match recovery.state {
                node::behind::RecoveryState::WaitingForCloses => {
                    match node::behind::closed_channels(&lookup, &recovery, &mut first_seen).await {
                        Ok(closed) => {
                            let all = closed.len() == recovery.channels.len()
                                && self.launched.load(Ordering::SeqCst);
                            recovery.closed = closed;
                            self.node.set_recovery(Some(recovery.clone()));
                            if all {
                                if let Err(e) = self.claim_after_closes(recovery).await {
                                    tracing::error!(error = %e, "could not put the monitors back to claim the closed channels");
                                }
                                // The rebuilt node has its own recovery task.
                                return;
                            }
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "could not check the closes of the channels set aside")
                        }
                    }
                }
                node::behind::RecoveryState::Claiming => {
                    // Over when nothing of the closed channels is on its way any more (twice in a
                    // row, so a node that has just loaded its monitors is not taken for done).
                    let Ok(balance) = self.node.balance() else {
                        continue;
                    };
                    let nothing_left = balance.closing.total == 0;
                    let left = !(nothing_left && quiet);
                    quiet = nothing_left;
                    if !left {
                        match node::behind::finish(&self.config.ldk_dir()).await {
                            Ok(()) => {
                                tracing::info!("the recovery is over: the closed channels' outputs are claimed");
                                self.node.set_recovery(None);
                                if let Some(backup) = self.node.backup() {
                                    backup.recheck();
                                }
                                return;
                            }
                            Err(e) => tracing::warn!(error = %e, "could not end the recovery"),
                        }
                    }
                }
            }
        }
    }

    /// Stops the node, puts the monitors set aside back, and starts it again with them.
    async fn claim_after_closes(self: &Arc<Self>, recovery: node::behind::Recovery) -> Result<()> {
        tracing::info!("every channel set aside is closed on-chain: putting their monitors back to claim your share");
        if let Ok(current) = self.node_stop.lock() {
            current.cancel();
        }
        self.node.set_state(NodeState::Starting, None, None);
        if let Some(node) = self.node.any() {
            match tokio::task::spawn_blocking(move || node.stop()).await {
                Ok(Ok(())) | Ok(Err(ldk_node::NodeError::NotRunning)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "stopping the node"),
                Err(e) => tracing::warn!(error = %e, "node stop task failed"),
            }
        }
        self.node.clear_built();
        let recovery = node::behind::restore_monitors(&self.config.ldk_dir(), recovery).await?;
        self.node.set_recovery(Some(recovery));
        if let Some(backup) = self.node.backup() {
            backup.recheck();
        }
        self.rebuild_node.notify_one();
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
            match payments::db::pending(&self.store).await {
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

    /// Stops everything in order: payments in flight get a moment to settle, background tasks
    /// end, the node stops (LDK persists its state), then the database closes. (A sandbox beside
    /// the app is stopped by whoever launched it, after this.)
    pub async fn shutdown(&self) {
        // Outgoing payments still in flight get a moment to settle while the node and the event
        // task still run, so their outcome is recorded now rather than reconciled at next start.
        self.wait_payments_settled(PAYMENT_SETTLE_ON_QUIT).await;
        self.stop.cancel();
        self.node.set_state(NodeState::Stopped, None, None);
        self.tasks.close();
        if tokio::time::timeout(Duration::from_secs(10), self.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("background tasks did not end within 10 s");
        }
        if let Some(node) = self.node.any() {
            match tokio::task::spawn_blocking(move || node.stop()).await {
                Ok(Ok(())) | Ok(Err(ldk_node::NodeError::NotRunning)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "stopping the node"),
                Err(e) => tracing::warn!(error = %e, "node stop task failed"),
            }
        }
        // What the node wrote last goes to the backup target before quitting, if it answers.
        if let Some(backup) = self.node.backup() {
            if tokio::task::spawn_blocking(move || backup.stop(Duration::from_secs(10)))
                .await
                .is_err()
            {
                tracing::warn!("the backup worker did not stop cleanly");
            }
        }
        self.store.close().await;
        tracing::info!("stopped");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SecretsBackend;
    use std::path::Path;

    async fn open(dir: &Path) -> Arc<App> {
        let mut config = Config::new(Network::Regtest);
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
        let (first, created) = app.keys.admin_key().await?;
        assert!(created);
        assert_eq!(app.keys.admin_key().await?, (first.clone(), false));
        let first_id = crate::keys::key_id(&first).to_string();

        let secrets = dir.path().join("secrets.json");
        let saved = std::fs::read(&secrets).map_err(|e| Error::io("read", e))?;
        std::fs::write(&secrets, b"{ damaged").map_err(|e| Error::io("write", e))?;
        assert!(
            app.keys.admin_key().await.is_err(),
            "an unreadable store is an error"
        );
        assert_eq!(app.keys.list().await?.len(), 1, "and nothing was minted");

        std::fs::write(&secrets, saved).map_err(|e| Error::io("write", e))?;
        app.keys
            .secrets_for_tests()
            .delete(&format!("api-key/{first_id}"))
            .await?;
        let (second, created) = app.keys.admin_key().await?;
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
