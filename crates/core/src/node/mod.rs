//! The embedded LDK node, reached through [`NodeHandle`] (`app.node()`): how it is built from the
//! [`Config`], whether it is running, and what the merchant does with it directly: balance,
//! channels ([`channels`]: open, close), health ([`balance`]). The API serves while the node
//! starts (or while its chain source is unreachable), so every node operation goes through
//! [`NodeHandle::get`] and fails with [`Error::NodeNotReady`] until the node is up.

pub mod balance;
pub mod behind;
pub(crate) mod chain_lookup;
pub mod channels;
pub mod readiness;

pub use balance::{Balance, Channel, ChannelState, Health, HealthStatus};
pub use channels::{OpenChannel, OpenedChannel};
pub use readiness::{Check, CheckId, CheckStatus, Readiness};

use std::sync::{Arc, RwLock};

use ldk_node::bip39::Mnemonic;
use ldk_node::Node;
use serde::Serialize;

use crate::config::{ChainSource, Config, Network};
use crate::error::{Error, Result};
use crate::util::{now_ms, rfc3339};

/// Puts the node's own SQLite store in write-ahead-log mode before ldk-node opens it (creating
/// it if new).
///
/// ldk-node opens its store with SQLite's defaults: a rollback journal, `synchronous = FULL`.
/// Each write (an invoice made, a payment sent, every ChannelMonitor update) then costs several
/// fsyncs: the journal, the database, the journal's removal. In WAL mode with the same
/// `synchronous = FULL` (SQLite's default in WAL mode too, and ldk-node sets none) a commit is
/// one append to the log and one fsync, and is as durable: a commit that returned survives a
/// crash or a power cut. The mode is stored in the database file, so ldk-node's own connection
/// opens it in WAL mode without knowing; setting it again at each start is a no-op. The log and
/// its index (`-wal`, `-shm`) sit beside the file; moving a wallet carries every file of the
/// data dir, and SQLite replays a log left by a crash on the next open.
///
/// A store that cannot be switched (a file system without the shared memory WAL needs) is left
/// as it is, with a warning: ldk-node works the same, only slower.
pub(crate) async fn prepare_store(ldk_dir: &std::path::Path) {
    let path = ldk_dir.join(ldk_node::io::sqlite_store::SQLITE_DB_FILE_NAME);
    match use_wal(ldk_dir, &path).await {
        Ok(mode) if mode.eq_ignore_ascii_case("wal") => {}
        Ok(mode) => {
            tracing::warn!(path = %path.display(), %mode, "the node's store would not use a write-ahead log; its writes stay slower")
        }
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "could not put the node's store in write-ahead-log mode; its writes stay slower")
        }
    }
}

/// Sets WAL mode on the database at `path`; returns the journal mode it is in then.
async fn use_wal(ldk_dir: &std::path::Path, path: &std::path::Path) -> Result<String> {
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
    use sqlx::{ConnectOptions, Connection};
    std::fs::create_dir_all(ldk_dir)
        .map_err(|e| Error::io(format!("creating {}", ldk_dir.display()), e))?;
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .connect()
        .await?;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await?;
    conn.close().await?;
    Ok(mode)
}

/// Builds (does not start) the LDK node for `config`, on its own SQLite store in the data dir, or
/// on `store` (that store, mirrored to the backup target: `crate::backup::mirror`).
pub(crate) fn build(
    config: &Config,
    chain: &ChainSource,
    mnemonic: Mnemonic,
    runtime: tokio::runtime::Handle,
    store: Option<Arc<ldk_node::DynStore>>,
) -> Result<Node> {
    let mut node_config = ldk_node::config::Config::default();
    let lsp = config.lsp.as_ref().map(parse_lsp).transpose()?;
    if let (Some((lsp_id, _)), Some(anchors)) = (&lsp, node_config.anchor_channels_config.as_mut())
    {
        // The merchant's own LSP opens the first channel to a node with no on-chain funds, which
        // ldk-node would refuse for the anchor reserve: see docs/liquidity.md for the trade-off.
        anchors.trusted_peers_no_reserve.push(*lsp_id);
    }
    let mut builder = ldk_node::Builder::from_config(node_config);
    if let Some((lsp_id, address)) = lsp {
        let token = config.lsp.as_ref().and_then(|l| l.token.clone());
        builder.set_liquidity_source_lsps2(lsp_id, address, token);
    }
    builder
        .set_network(config.network.to_ldk())
        .set_storage_dir_path(config.ldk_dir().to_string_lossy().into_owned())
        .set_entropy_bip39_mnemonic(mnemonic, None)
        .set_runtime(runtime)
        .set_log_facade_logger();
    match chain {
        ChainSource::Esplora { url } => {
            builder.set_chain_source_esplora(url.clone(), None);
        }
        ChainSource::BitcoindRpc {
            host,
            port,
            user,
            password,
        } => {
            builder.set_chain_source_bitcoind_rpc(
                host.clone(),
                *port,
                user.clone(),
                password.clone(),
            );
        }
    }
    if let Some(url) = config.effective_rgs_url() {
        builder.set_gossip_source_rgs(url);
    }
    if let Some(addr) = config.ln_listen {
        builder
            .set_listening_addresses(vec![addr.into()])
            .map_err(|e| Error::Config(format!("Lightning listen address {addr}: {e}")))?;
    }
    match store {
        Some(store) => builder.build_with_store(store),
        None => builder.build(),
    }
    .map_err(|e| Error::Node(format!("cannot build the Lightning node: {e}")))
}

/// The LSP's node id and address, or a message naming the setting at fault.
fn parse_lsp(
    lsp: &crate::config::Lsp,
) -> Result<(
    ldk_node::bitcoin::secp256k1::PublicKey,
    ldk_node::lightning::ln::msgs::SocketAddress,
)> {
    use std::str::FromStr;
    let id =
        ldk_node::bitcoin::secp256k1::PublicKey::from_str(lsp.node_id.trim()).map_err(|_| {
            Error::Config(format!(
                "the LSP's node id '{}' is not a node public key (66 hex characters)",
                lsp.node_id
            ))
        })?;
    let address = ldk_node::lightning::ln::msgs::SocketAddress::from_str(lsp.address.trim())
        .map_err(|_| {
            Error::Config(format!(
                "the LSP's address '{}' is not host:port",
                lsp.address
            ))
        })?;
    Ok((id, address))
}

/// The node's lifecycle as clients see it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NodeState {
    /// Being built or started.
    Starting,
    /// Running.
    Running,
    /// The last start failed; it is retried.
    Failed,
    /// Stopped on shutdown.
    Stopped,
}

/// What `/v1/health` reports about the node.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NodeStatus {
    /// Lifecycle state.
    pub state: NodeState,
    /// The last start error, said for people (e.g. the unreachable chain source).
    pub error: Option<String>,
    /// When the next start attempt is due, if failed.
    pub retry_at: Option<String>,
    /// The chain source, without credentials.
    pub chain_source: String,
}

/// Shared, cheap-to-clone access to the node, which may not be running yet.
#[derive(Clone)]
pub struct NodeHandle {
    inner: Arc<RwLock<Inner>>,
    network: Network,
    /// Whether this is the regtest sandbox's node (health says so).
    sandbox: bool,
}

struct Inner {
    node: Option<Arc<Node>>,
    status: NodeStatus,
    /// The mirror of the node's store, when a backup target is set.
    backup: Option<Arc<crate::backup::Running>>,
    /// The backup of the shop's data, when a backup target is set.
    shop_backup: Option<Arc<crate::backup::shop::ShopBackup>>,
    /// A recovery from channel state that was behind, while one is under way.
    recovery: Option<behind::Recovery>,
}

impl NodeHandle {
    pub(crate) fn new(chain_source: String, network: Network, sandbox: bool) -> Self {
        NodeHandle {
            network,
            sandbox,
            inner: Arc::new(RwLock::new(Inner {
                node: None,
                backup: None,
                shop_backup: None,
                recovery: None,
                status: NodeStatus {
                    state: NodeState::Starting,
                    error: None,
                    retry_at: None,
                    chain_source,
                },
            })),
        }
    }

    /// The running node, or [`Error::NodeNotReady`] saying why not.
    pub fn get(&self) -> Result<Arc<Node>> {
        let inner = self
            .inner
            .read()
            .map_err(|_| Error::NodeNotReady("state lock poisoned".into()))?;
        match (&inner.node, &inner.status.state) {
            (Some(node), NodeState::Running) => Ok(node.clone()),
            (_, NodeState::Failed) => Err(Error::NodeNotReady(
                inner
                    .status
                    .error
                    .clone()
                    .unwrap_or_else(|| "start failed".into()),
            )),
            (_, NodeState::Stopped) => Err(Error::NodeNotReady("the node is shutting down".into())),
            _ => Err(Error::NodeNotReady(
                "the node is still starting; try again in a moment".into(),
            )),
        }
    }

    /// The node object whether or not it runs (for shutdown).
    pub(crate) fn any(&self) -> Option<Arc<Node>> {
        self.inner.read().ok().and_then(|i| i.node.clone())
    }

    /// The current status.
    pub fn status(&self) -> NodeStatus {
        match self.inner.read() {
            Ok(inner) => inner.status.clone(),
            Err(_) => NodeStatus {
                state: NodeState::Failed,
                error: Some("state lock poisoned".into()),
                retry_at: None,
                chain_source: String::new(),
            },
        }
    }

    pub(crate) fn set_built(&self, node: Arc<Node>, backup: Option<Arc<crate::backup::Running>>) {
        if let Ok(mut inner) = self.inner.write() {
            inner.node = Some(node);
            inner.backup = backup;
        }
    }

    /// Forgets the backup's mirror (stopped after a failed build).
    pub(crate) fn forget_backup(&self) {
        if let Ok(mut inner) = self.inner.write() {
            inner.backup = None;
        }
    }

    /// Forgets the built node (it was stopped), keeping the backup's mirror for the next build.
    pub(crate) fn clear_built(&self) {
        if let Ok(mut inner) = self.inner.write() {
            inner.node = None;
        }
    }

    /// The recovery under way, if any.
    pub fn recovery(&self) -> Option<behind::Recovery> {
        self.inner.read().ok().and_then(|i| i.recovery.clone())
    }

    pub(crate) fn set_recovery(&self, recovery: Option<behind::Recovery>) {
        if let Ok(mut inner) = self.inner.write() {
            inner.recovery = recovery;
        }
    }

    /// The mirror of the node's store, if a backup target is set and the node was built.
    pub(crate) fn backup(&self) -> Option<Arc<crate::backup::Running>> {
        self.inner.read().ok().and_then(|i| i.backup.clone())
    }

    /// Keeps the backup of the shop's data, whose status health shows beside the node's.
    pub(crate) fn set_shop_backup(&self, shop: Arc<crate::backup::shop::ShopBackup>) {
        if let Ok(mut inner) = self.inner.write() {
            inner.shop_backup = Some(shop);
        }
    }

    /// How current the backup is, if one is set: the node's channel state and the shop's data.
    pub fn backup_status(&self) -> Option<crate::backup::BackupStatus> {
        let (node, shop) = {
            let inner = self.inner.read().ok()?;
            (inner.backup.clone(), inner.shop_backup.clone())
        };
        let target = match (&node, &shop) {
            (Some(node), _) => node.mirror.target_name().to_string(),
            (None, Some(shop)) => shop.target_name().to_string(),
            (None, None) => return None,
        };
        Some(crate::backup::BackupStatus::combine(
            target,
            node.map(|n| n.mirror.status()),
            shop.map(|s| s.status()),
        ))
    }

    pub(crate) fn set_state(
        &self,
        state: NodeState,
        error: Option<String>,
        retry_in_ms: Option<i64>,
    ) {
        if let Ok(mut inner) = self.inner.write() {
            inner.status.state = state;
            inner.status.error = error;
            inner.status.retry_at = retry_in_ms.map(|ms| rfc3339(now_ms() + ms));
        }
    }
}

/// Says what a node error means for a merchant, in place of LDK's terse variant names.
pub(crate) fn explain(e: &ldk_node::NodeError) -> String {
    use ldk_node::NodeError as E;
    match e {
        E::FeerateEstimationUpdateFailed | E::FeerateEstimationUpdateTimeout => {
            format!("the chain source did not answer ({e}); check that it is reachable")
        }
        E::TxSyncFailed | E::TxSyncTimeout | E::WalletOperationTimeout => {
            format!("syncing with the chain source failed ({e}); check that it is reachable")
        }
        E::NotRunning => "the node is not running".into(),
        E::DuplicatePayment => "this invoice was already paid".into(),
        E::InvalidInvoice => "the invoice is not valid".into(),
        E::InvalidAmount => "the amount is not valid for this invoice".into(),
        E::PaymentSendingFailed => {
            "the payment could not be sent: no route with enough liquidity was found".into()
        }
        E::InsufficientFunds => "not enough funds".into(),
        E::ConnectionFailed => "could not connect to the peer".into(),
        E::LiquiditySourceUnavailable => "no Lightning service provider (LSP) is set up".into(),
        E::LiquidityRequestFailed => {
            "the Lightning service provider (LSP) did not answer or refused the channel".into()
        }
        E::LiquidityFeeTooHigh => {
            "the Lightning service provider (LSP) asks more for opening a channel than this node accepts"
                .into()
        }
        other => other.to_string(),
    }
}
