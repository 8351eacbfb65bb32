//! The regtest sandbox: a private `bitcoind`, the merchant's node on it, and a second "customer"
//! node with funded channels both ways, so a merchant or a developer can receive and send real
//! Lightning payments on one machine with no real money.

mod bitcoind;
mod lsp;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ldk_node::lightning::ln::channelmanager::PaymentId;
use ldk_node::lightning_invoice::{Bolt11InvoiceDescription, Description};
use ldk_node::payment::PaymentStatus;
use ldk_node::Node;
use serde::Serialize;
use tokio::sync::watch;

pub use bitcoind::Bitcoind;

use crate::app::App;
use crate::config::{Config, Network};
use crate::error::{Error, ErrorCode, Result};
use crate::lock::DataDirLock;
use crate::payments::{parse_invoice, PaymentStatus as Ours};

/// Size of each sandbox channel. LDK lets at most ~10 % of a channel accepted by a node be in
/// flight at once, so 5,000,000 sat lets single payments of up to ~490,000 sat through.
pub const CHANNEL_SATS: u64 = 5_000_000;
/// What each node gets on-chain: channel funding plus the anchor-channel reserve and fees.
const FUNDING_SATS: u64 = 20_000_000;
/// Pushed to the other side on open, so both sides of each channel hold an output from the start:
/// otherwise the first payment across adds the second anchor output (330 sat, paid by the opener)
/// and balances would not move by exactly the amounts paid.
const PUSH_MSAT: u64 = 500_000_000;
const READY_TIMEOUT: Duration = Duration::from_secs(120);
/// How long [`Sandbox::wait_funded`] waits before funding a late node again.
const FUNDING_NUDGE: Duration = Duration::from_secs(20);

/// The sandbox's parts besides the merchant's own node.
pub struct Sandbox {
    bitcoind: Bitcoind,
    customer: Arc<Node>,
    /// The LSPS2 provider of a fresh merchant (`--fresh`), with a channel from the customer.
    lsp: Option<Arc<Node>>,
    stop_events: watch::Sender<bool>,
    /// The customer's payments handed back to its node after a kill, with their outcome as its
    /// events tell. A hand-back first removes ldk-node's record (or ldk-node would refuse the
    /// payment itself); when the node turns out to still have the payment, the record is not
    /// written again and its outcome reaches only the events.
    handed_back: HandedBack,
}

/// See [`Sandbox::handed_back`].
type HandedBack =
    Arc<std::sync::Mutex<std::collections::HashMap<PaymentId, CustomerPaymentRecord>>>;

/// Where the sandbox's customer node can be reached, to open more channels to it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CustomerNode {
    /// Its node id.
    pub node_id: String,
    /// Its peer address, `127.0.0.1:port`.
    pub address: String,
}

/// The result of a sandbox payment by the customer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CustomerPayment {
    /// `succeeded`, `failed` or `pending`.
    pub status: crate::payments::PaymentStatus,
    /// Sats sent.
    pub amount: Option<u64>,
    /// Fee in sats.
    pub fee: Option<u64>,
    /// Hex payment hash (for a unified URI paid on-chain: that of its Lightning invoice).
    pub payment_hash: String,
    /// The transaction, when the customer paid on-chain (null for Lightning).
    pub txid: Option<String>,
}

/// One payment in the customer node's own record (its LDK store), to check the merchant's
/// record against.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CustomerPaymentRecord {
    /// Hex payment hash.
    pub payment_hash: String,
    /// `inbound` (the merchant paid the customer) or `outbound` (the customer paid).
    pub direction: Direction,
    /// `pending`, `succeeded` or `failed`.
    pub status: crate::payments::PaymentStatus,
    /// Amount in millisatoshis, if known.
    pub amount_msat: Option<u64>,
}

/// Which way a customer payment went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// The merchant paid the customer.
    Inbound,
    /// The customer paid.
    Outbound,
}

/// An invoice made by the customer node, for the merchant to pay.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CustomerInvoice {
    /// The BOLT11 string.
    pub payment_request: String,
    /// Hex payment hash.
    pub payment_hash: String,
    /// Amount in sats.
    pub amount: u64,
    /// Description.
    pub description: String,
}

/// How many blocks a `mine` call may ask for and still wait until both nodes have seen them.
pub const MINE_AND_FOLLOW: u64 = 6;

/// Starts bitcoind, the merchant's app on it, the customer node and the channels, and returns the
/// app and the sandbox side by side (stop the app first, then the sandbox). `config` must be a
/// regtest config; its chain source and Lightning listen address are set here.
///
/// `fresh`: the merchant gets no channels and no funds, as a new node on day one, and the
/// sandbox runs an LSPS2 provider (with a channel from the customer) set up as the merchant's LSP.
pub async fn launch(
    mut config: Config,
    bitcoind_bin: &Path,
    fresh: bool,
) -> Result<(Arc<App>, Arc<Sandbox>)> {
    if config.network != Network::Regtest {
        return Err(Error::Config("the sandbox runs on regtest only".into()));
    }
    // Locked first: a second sandbox on this dir must not take the running one's bitcoind for a
    // stale one and stop it.
    let lock = DataDirLock::acquire(&config.data_dir)?;
    let bitcoind = Bitcoind::start(bitcoind_bin, &config.data_dir.join("bitcoind")).await?;
    config.chain_source = Some(bitcoind.chain_source());
    let merchant_port = bitcoind::free_port()?;
    config.ln_listen = Some(std::net::SocketAddr::from(([127, 0, 0, 1], merchant_port)));
    config.sandbox = true;
    let customer_dir = config.data_dir.join("customer");
    let lsp = if fresh {
        match lsp::start(&bitcoind.chain_source(), &config.data_dir.join("lsp")).await {
            Ok((node, address)) => {
                config.lsp = Some(crate::config::Lsp {
                    node_id: node.node_id().to_string(),
                    address,
                    token: None,
                });
                Some(node)
            }
            Err(e) => {
                bitcoind.stop().await;
                return Err(e);
            }
        }
    } else {
        None
    };
    let app = match App::open_locked(config, lock).await {
        Ok(app) => app,
        Err(e) => {
            bitcoind.stop().await;
            return Err(e);
        }
    };
    // On any failure from here on, stop what was started (the nodes, then bitcoind) before
    // reporting the error, so nothing is left running or torn down mid-flight.
    match attach(&app, bitcoind, lsp, &customer_dir, merchant_port).await {
        Ok(sandbox) => {
            app.mark_launched();
            Ok((app, sandbox))
        }
        Err((e, leftover)) => {
            tracing::error!(error = %e, "the sandbox did not start");
            app.shutdown().await;
            match leftover {
                Leftover::Bitcoind(bitcoind) => bitcoind.stop().await,
                Leftover::Sandbox(sandbox) => sandbox.stop().await,
            }
            Err(e)
        }
    }
}

/// What a failed start leaves to stop: bitcoind alone, or the sandbox that owns it by then.
enum Leftover {
    Bitcoind(Box<Bitcoind>),
    Sandbox(Arc<Sandbox>),
}

/// Starts the merchant node, the customer node and the channels. On failure, gives back what
/// must be stopped.
async fn attach(
    app: &Arc<App>,
    bitcoind: Bitcoind,
    lsp: Option<Arc<Node>>,
    customer_dir: &Path,
    merchant_port: u16,
) -> std::result::Result<Arc<Sandbox>, (Error, Leftover)> {
    app.start();
    if let Err(e) = app.wait_node_running(Duration::from_secs(60)).await {
        return Err((e, Leftover::Bitcoind(Box::new(bitcoind))));
    }
    let merchant = match app.node().get() {
        Ok(node) => node,
        Err(e) => return Err((e, Leftover::Bitcoind(Box::new(bitcoind)))),
    };
    let customer = match start_customer(app, customer_dir).await {
        Ok(c) => c,
        Err(e) => return Err((e, Leftover::Bitcoind(Box::new(bitcoind)))),
    };
    let (stop_events, stop_rx) = watch::channel(false);
    let handed_back = HandedBack::default();
    tokio::spawn(drain_events(
        customer.clone(),
        stop_rx.clone(),
        Some(handed_back.clone()),
    ));
    if let Some(lsp) = &lsp {
        tokio::spawn(drain_events(lsp.clone(), stop_rx, None));
    }
    let sandbox = Arc::new(Sandbox {
        bitcoind,
        customer,
        lsp,
        stop_events,
        handed_back,
    });
    // A fresh merchant gets nothing: its first channel comes from the LSP with its first payment.
    let connected = if sandbox.lsp.is_some() {
        sandbox.connect_lsp().await
    } else {
        sandbox
            .connect_channels(&merchant, merchant_port, app.node().recovery().is_some())
            .await
    };
    if let Err(e) = connected {
        return Err((e, Leftover::Sandbox(sandbox)));
    }
    sandbox.resume_customer_payments(app).await;
    Ok(sandbox)
}

async fn start_customer(app: &App, dir: &Path) -> Result<Arc<Node>> {
    let chain = app
        .config()
        .chain_source
        .clone()
        .ok_or_else(|| Error::Sandbox("no chain source".into()))?;
    Ok(start_peer(&chain, dir, "customer", |_| {}).await?.0)
}

/// Builds and starts a sandbox node of its own (the customer, the LSP) on bitcoind, listening on
/// a free port; `setup` adds to its builder. Returns it with its `127.0.0.1:port`.
async fn start_peer(
    chain: &crate::config::ChainSource,
    dir: &Path,
    name: &str,
    setup: impl FnOnce(&mut ldk_node::Builder),
) -> Result<(Arc<Node>, String)> {
    let chain = chain.clone();
    let port = bitcoind::free_port()?;
    let mut builder = ldk_node::Builder::new();
    setup(&mut builder);
    builder
        .set_network(ldk_node::bitcoin::Network::Regtest)
        .set_storage_dir_path(dir.to_string_lossy().into_owned())
        // The sandbox nodes' seeds are plain on disk: they hold only regtest coins.
        .set_entropy_seed_path(dir.join("keys_seed").to_string_lossy().into_owned())
        .set_runtime(tokio::runtime::Handle::current())
        .set_log_facade_logger();
    if let crate::config::ChainSource::BitcoindRpc {
        host,
        port,
        user,
        password,
    } = chain
    {
        builder.set_chain_source_bitcoind_rpc(host, port, user, password);
    }
    builder
        .set_listening_addresses(vec![
            std::net::SocketAddr::from(([127, 0, 0, 1], port)).into()
        ])
        .map_err(|e| Error::Sandbox(format!("{name} listen address: {e}")))?;
    let node = Arc::new(
        builder
            .build()
            .map_err(|e| Error::Sandbox(format!("cannot build the {name} node: {e}")))?,
    );
    let starting = node.clone();
    let label = name.to_string();
    blocking(move || {
        starting
            .start()
            .map_err(|e| Error::Sandbox(format!("{label} node: {e}")))
    })
    .await?;
    Ok((node, format!("127.0.0.1:{port}")))
}

/// The sandbox nodes' events are acknowledged: the sandbox reads payment outcomes from the nodes'
/// stores, except for the customer's payments handed back after a kill (`handed_back`), whose
/// outcome is taken from the events here.
async fn drain_events(
    node: Arc<Node>,
    mut stop: watch::Receiver<bool>,
    handed_back: Option<HandedBack>,
) {
    loop {
        tokio::select! {
            event = node.next_event_async() => {
                let outcome = match event {
                    ldk_node::Event::PaymentSuccessful { payment_id: Some(id), .. } => {
                        Some((id, Ours::Succeeded))
                    }
                    ldk_node::Event::PaymentFailed { payment_id: Some(id), .. } => {
                        Some((id, Ours::Failed))
                    }
                    _ => None,
                };
                if let (Some((id, status)), Some(handed_back)) = (outcome, &handed_back) {
                    let mut handed_back =
                        handed_back.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    if let Some(record) = handed_back.get_mut(&id) {
                        record.status = status;
                    }
                }
                // A synchronous store write: off the async workers, which the nodes' background
                // processors share.
                let acking = node.clone();
                let _ = tokio::task::spawn_blocking(move || acking.event_handled()).await;
            }
            _ = stop.changed() => return,
        }
    }
}

/// Sats from a BIP21 amount in BTC ("0.0005"), exactly: at most 8 decimals.
fn btc_to_sats(btc: &str) -> Option<u64> {
    let (whole, fraction) = btc.split_once('.').unwrap_or((btc, ""));
    if whole.is_empty() && fraction.is_empty()
        || fraction.len() > 8
        || !whole
            .chars()
            .chain(fraction.chars())
            .all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let fraction: u64 = format!("{fraction:0<8}").parse().ok()?;
    whole.checked_mul(100_000_000)?.checked_add(fraction)
}

/// `text` as a BOLT12 offer (lowercase, without a `lightning:` prefix), if it is one.
pub fn as_offer(text: &str) -> Option<String> {
    let lower = text.trim().to_ascii_lowercase();
    let bare = lower.strip_prefix("lightning:").unwrap_or(&lower);
    bare.starts_with("lno1").then(|| bare.to_string())
}

/// Connects `from` to a peer that has just started (or restarted on a new port), retrying for
/// about five seconds: right after a start the peer's listener, or a stale connection `from`
/// still holds to its old address, can refuse the first dials.
async fn dial(
    from: &Arc<Node>,
    peer: ldk_node::bitcoin::secp256k1::PublicKey,
    address: ldk_node::lightning::ln::msgs::SocketAddress,
    who: &'static str,
) -> Result<()> {
    let mut attempt = 0;
    loop {
        let (node, to) = (from.clone(), address.clone());
        let connected = blocking(move || {
            node.connect(peer, to, true)
                .map_err(|e| Error::Sandbox(format!("customer cannot connect to {who}: {e}")))
        })
        .await;
        match connected {
            Ok(()) => return Ok(()),
            Err(e) if attempt >= 20 => return Err(e),
            Err(e) => {
                attempt += 1;
                tracing::debug!(error = %e, attempt, "retrying the customer's connection");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Sandbox(format!("task failed: {e}")))?
}

impl Sandbox {
    /// Connects the customer to the merchant and, on first start, funds both nodes and opens one
    /// channel each way; then waits until the channels are usable.
    async fn connect_channels(
        &self,
        merchant: &Arc<Node>,
        merchant_port: u16,
        recovering: bool,
    ) -> Result<()> {
        let customer = self.customer.clone();
        let merchant_id = merchant.node_id();
        let merchant_addr = std::net::SocketAddr::from(([127, 0, 0, 1], merchant_port));
        // The merchant listens on a new port each start; the customer may still be dialling the
        // old one it remembers, so connecting can fail for a moment.
        dial(&customer, merchant_id, merchant_addr.into(), "the merchant").await?;
        // A node recovering from channel state that was behind waits for the customer to close
        // the old channels (node::behind); new ones would only blur what comes back.
        if recovering {
            tracing::warn!("sandbox: the merchant recovers from channel state that was behind; no new channels until it is over");
            return Ok(());
        }
        // One channel each way. A channel that is gone (closed, or force-closed by LDK after a
        // crash left its state behind) is replaced, so the sandbox always starts usable.
        let with_customer: Vec<_> = merchant
            .list_channels()
            .into_iter()
            .filter(|c| c.counterparty_node_id == customer.node_id())
            .collect();
        let ours = with_customer.iter().any(|c| c.is_outbound);
        let theirs = with_customer.iter().any(|c| !c.is_outbound);
        if !(ours && theirs) {
            if !with_customer.is_empty() {
                tracing::warn!(
                    "sandbox: a channel with the customer is gone (closed); opening a new one"
                );
            }
            self.open_channels(merchant, merchant_addr, !ours, !theirs)
                .await?;
        }
        self.wait_usable(merchant, merchant_addr).await
    }

    /// Funds the openers and opens the merchant's channel to the customer (`ours`) and the
    /// customer's to the merchant (`theirs`), then confirms them.
    async fn open_channels(
        &self,
        merchant: &Arc<Node>,
        merchant_addr: std::net::SocketAddr,
        ours: bool,
        theirs: bool,
    ) -> Result<()> {
        tracing::info!("sandbox: funding both nodes and opening channels both ways");
        // After a force-close the wallets have just broadcast anchor bumps, some replaced by
        // later versions: confirm what reached the mempool and let both wallets see it first, so
        // the funding transactions do not spend the change of a replaced bump (bitcoind rejects
        // such a transaction, and its channel would never confirm).
        self.bitcoind.mine(1).await?;
        self.sync_to_tip(merchant).await?;
        for node in [merchant, &self.customer] {
            self.fund(node).await?;
        }
        self.bitcoind.mine(1).await?;
        self.wait_funded(merchant).await?;
        self.open(merchant, merchant_addr, ours, theirs).await?;
        // Wait until the funding transactions are broadcast, then confirm them. (A channel that
        // closes meanwhile, one the restart found already spent, is replaced by `wait_usable`.)
        let customer_id = self.customer.node_id();
        let merchant_id = merchant.node_id();
        let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
        let unfunded = |node: &Node, peer| {
            node.list_channels()
                .iter()
                .any(|c| c.counterparty_node_id == peer && c.funding_txo.is_none())
        };
        while unfunded(merchant, customer_id) || unfunded(&self.customer, merchant_id) {
            if tokio::time::Instant::now() > deadline {
                return Err(Error::Sandbox(
                    "channel funding was not broadcast in time".into(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.bitcoind.mine(6).await?;
        self.sync_both(merchant).await
    }

    /// Opens the merchant's channel to the customer (`ours`) and the customer's to the merchant
    /// (`theirs`), from the on-chain funds each already has.
    async fn open(
        &self,
        merchant: &Arc<Node>,
        merchant_addr: std::net::SocketAddr,
        ours: bool,
        theirs: bool,
    ) -> Result<()> {
        let customer = self.customer.clone();
        let customer_id = customer.node_id();
        let customer_addr = customer
            .listening_addresses()
            .and_then(|a| a.into_iter().next())
            .ok_or_else(|| Error::Sandbox("customer has no listening address".into()))?;
        let (m, c) = (merchant.clone(), customer.clone());
        let merchant_id = merchant.node_id();
        blocking(move || {
            if ours {
                m.open_channel(
                    customer_id,
                    customer_addr,
                    CHANNEL_SATS,
                    Some(PUSH_MSAT),
                    None,
                )
                .map_err(|e| Error::Sandbox(format!("merchant cannot open a channel: {e}")))?;
            }
            if theirs {
                c.open_channel(
                    merchant_id,
                    merchant_addr.into(),
                    CHANNEL_SATS,
                    Some(PUSH_MSAT),
                    None,
                )
                .map_err(|e| Error::Sandbox(format!("customer cannot open a channel: {e}")))?;
            }
            Ok(())
        })
        .await
    }

    /// Syncs both nodes until each sees its funding confirmed. One sync is not always enough:
    /// a sync asked for while the node's own chain poll is running joins that poll, which may
    /// have started before the funding block existed. Coins left from before count too, so the
    /// balance alone does not say the wallet has seen the funding block: its height does.
    ///
    /// A node still short of its funding after [`FUNDING_NUDGE`] gets a second one in a new block,
    /// with a warning that says what each node saw: a start that would otherwise fail (it
    /// happened, rarely, on a busy machine, without any error from the node) goes on, and its
    /// log tells what was late.
    async fn wait_funded(&self, merchant: &Arc<Node>) -> Result<()> {
        let mut tip = self.bitcoind.height().await?;
        let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
        let mut nudge_at = tokio::time::Instant::now() + FUNDING_NUDGE;
        loop {
            self.sync_both(merchant).await?;
            let funded = |n: &Node| {
                u64::from(n.status().current_best_block.height) >= tip
                    && n.list_balances().spendable_onchain_balance_sats >= CHANNEL_SATS
            };
            let late: Vec<&Arc<Node>> = [merchant, &self.customer]
                .into_iter()
                .filter(|n| !funded(n))
                .collect();
            if late.is_empty() {
                return Ok(());
            }
            let now = tokio::time::Instant::now();
            if now > deadline {
                return Err(Error::Sandbox(format!(
                    "the nodes did not see their funding confirmed in time ({})",
                    self.chain_view(merchant, tip)
                )));
            }
            if now >= nudge_at {
                tracing::warn!(
                    "sandbox: funding not seen after {} s ({}); funding the late node again",
                    FUNDING_NUDGE.as_secs(),
                    self.chain_view(merchant, tip)
                );
                for node in late {
                    self.fund(node).await?;
                }
                self.bitcoind.mine(1).await?;
                tip = self.bitcoind.height().await?;
                nudge_at = tokio::time::Instant::now() + FUNDING_NUDGE;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Sends [`FUNDING_SATS`] from bitcoind's wallet to a new address of `node` (unconfirmed).
    async fn fund(&self, node: &Node) -> Result<()> {
        let address = node
            .onchain_payment()
            .new_address()
            .map_err(|e| Error::Sandbox(format!("new address: {e}")))?;
        self.bitcoind
            .send_to(&address.to_string(), FUNDING_SATS)
            .await?;
        Ok(())
    }

    /// Syncs both nodes until each has seen bitcoind's current tip.
    async fn sync_to_tip(&self, merchant: &Arc<Node>) -> Result<()> {
        let tip = self.bitcoind.height().await?;
        let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
        let at_tip = |n: &Node| u64::from(n.status().current_best_block.height) >= tip;
        loop {
            self.sync_both(merchant).await?;
            if at_tip(merchant) && at_tip(&self.customer) {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                return Err(Error::Sandbox(format!(
                    "the nodes did not catch up with the chain ({})",
                    self.chain_view(merchant, tip)
                )));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// What each node sees of the chain and its coins, for a message: "merchant at height 120 of
    /// 121, 0 sat spendable of 0; customer …".
    fn chain_view(&self, merchant: &Node, tip: u64) -> String {
        [("merchant", merchant), ("customer", &*self.customer)]
            .iter()
            .map(|(who, n)| {
                let balances = n.list_balances();
                format!(
                    "{who} at height {} of {tip}, {} sat spendable of {}",
                    n.status().current_best_block.height,
                    balances.spendable_onchain_balance_sats,
                    balances.total_onchain_balance_sats
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn sync_both(&self, merchant: &Arc<Node>) -> Result<()> {
        for node in [merchant.clone(), self.customer.clone()] {
            blocking(move || {
                node.sync_wallets()
                    .map_err(|e| Error::Sandbox(format!("sync: {e}")))
            })
            .await?;
        }
        Ok(())
    }

    /// Waits until both channels are usable each way, mining while one waits for
    /// confirmations. A channel that vanishes meanwhile is opened again: after a restart, the
    /// node can list a channel whose funding output the chain shows already spent (a
    /// force-close) until it has processed that block, so the start kept it, and waited for it
    /// in vain.
    async fn wait_usable(
        &self,
        merchant: &Arc<Node>,
        merchant_addr: std::net::SocketAddr,
    ) -> Result<()> {
        let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
        let customer_id = self.customer.node_id();
        let mut next_block = tokio::time::Instant::now() + Duration::from_secs(2);
        // Each side lists the channels it opened at once, the other's once their messages
        // arrive: a channel is there when either side lists it. One reopened is given time.
        let mut next_open = tokio::time::Instant::now();
        loop {
            let opened = |opener: &Node, other: &Node| {
                let listed = |node: &Node, peer, outbound| {
                    node.list_channels()
                        .iter()
                        .any(|c| c.counterparty_node_id == peer && c.is_outbound == outbound)
                };
                listed(opener, other.node_id(), true) || listed(other, opener.node_id(), false)
            };
            let ours = opened(merchant, &self.customer);
            let theirs = opened(&self.customer, merchant);
            if !(ours && theirs) && tokio::time::Instant::now() >= next_open {
                tracing::warn!(
                    "sandbox: a channel with the customer closed while the sandbox started; opening another"
                );
                self.open(merchant, merchant_addr, !ours, !theirs).await?;
                next_open = tokio::time::Instant::now() + Duration::from_secs(10);
            }
            let usable = |node: &Node, peer| {
                node.list_channels()
                    .iter()
                    .filter(|c| c.counterparty_node_id == peer && c.is_usable)
                    .count()
            };
            if usable(merchant, customer_id) >= 2 && usable(&self.customer, merchant.node_id()) >= 2
            {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                return Err(Error::Sandbox(
                    "the sandbox channels did not become usable in time".into(),
                ));
            }
            // A funding transaction can reach bitcoind after the blocks meant to confirm it: the
            // node broadcasts in the background, behind rebroadcasts of whatever a force-close
            // left to claim. Keep mining while a channel waits for confirmations, as a miner
            // would.
            let waiting = merchant.list_channels().iter().any(|c| {
                c.counterparty_node_id == customer_id && !c.is_usable && c.funding_txo.is_some()
            });
            if waiting && tokio::time::Instant::now() >= next_block {
                self.bitcoind.mine(1).await?;
                next_block = tokio::time::Instant::now() + Duration::from_secs(2);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The customer pays `payment_request` (with `amount` sats for an any-amount invoice) and the
    /// call waits until the payment settles or fails (30 s at most).
    pub async fn pay(&self, payment_request: &str, amount: Option<u64>) -> Result<CustomerPayment> {
        self.pay_with(payment_request, amount, None, None, None)
            .await
    }

    /// Pays `payment_request`: a BOLT11 invoice, or a BOLT12 offer (`lno1…`) with the payer's
    /// note and a quantity (for an offer that sells more than one). `amount` (sats) is for an
    /// any-amount invoice or offer; given for a priced offer, it pays that much (more than the
    /// price is a tip).
    pub async fn pay_with(
        &self,
        payment_request: &str,
        amount: Option<u64>,
        payer_note: Option<String>,
        quantity: Option<u64>,
        merchant: Option<Arc<Node>>,
    ) -> Result<CustomerPayment> {
        if let Some(offer) = as_offer(payment_request) {
            return self.pay_offer(&offer, amount, payer_note, quantity).await;
        }
        if payment_request
            .trim()
            .get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("bitcoin:"))
        {
            return self
                .pay_onchain(payment_request.trim(), amount, merchant)
                .await;
        }
        if payer_note.is_some() || quantity.is_some() {
            return Err(Error::invalid(
                "payer_note",
                "a payer note and a quantity go with an offer (lno1…), not an invoice",
            ));
        }
        let invoice = parse_invoice(payment_request)?;
        if invoice.network() != ldk_node::bitcoin::Network::Regtest {
            return Err(Error::unprocessable(
                ErrorCode::WrongNetwork,
                Some("payment_request"),
                "the sandbox pays regtest invoices only",
            ));
        }
        if invoice.is_expired() {
            return Err(Error::unprocessable(
                ErrorCode::InvoiceExpired,
                Some("payment_request"),
                "this invoice has expired",
            ));
        }
        let customer = self.customer.clone();
        let id = blocking(move || {
            let bolt11 = customer.bolt11_payment();
            let sent = match (invoice.amount_milli_satoshis(), amount) {
                (Some(_), _) => bolt11.send(&invoice, None),
                (None, Some(sats)) if sats > 0 && sats <= CHANNEL_SATS => {
                    bolt11.send_using_amount(&invoice, sats * 1000, None)
                }
                (None, Some(_)) => {
                    return Err(Error::invalid(
                        "amount",
                        format!("amount must be between 1 and {CHANNEL_SATS} sat"),
                    ))
                }
                (None, _) => {
                    return Err(Error::unprocessable(
                        ErrorCode::AmountRequired,
                        Some("amount"),
                        "this invoice has no amount: give `amount` in sats",
                    ))
                }
            };
            sent.map_err(|e| match e {
                ldk_node::NodeError::DuplicatePayment => Error::DuplicatePayment {
                    payment_id: "customer".into(),
                },
                e => Error::unprocessable(ErrorCode::PaymentFailed, None, crate::node::explain(&e)),
            })
        })
        .await?;
        self.wait_payment(id).await
    }

    /// The customer pays a BIP21 URI (`bitcoin:<address>?amount=<BTC>…`) on-chain, from the
    /// sandbox's bitcoind wallet (`amount` in sats instead of the URI's), and one block is mined
    /// so that it confirms; `merchant` is followed to that block.
    async fn pay_onchain(
        &self,
        uri: &str,
        amount: Option<u64>,
        merchant: Option<Arc<Node>>,
    ) -> Result<CustomerPayment> {
        let bad = |why: &str| Error::invalid("payment_request", format!("this BIP21 URI {why}"));
        let rest = &uri[8..];
        let (address, query) = rest.split_once('?').unwrap_or((rest, ""));
        let params: Vec<(&str, &str)> =
            query.split('&').filter_map(|p| p.split_once('=')).collect();
        let param = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| *v)
        };
        let sats = match (amount, param("amount")) {
            (Some(sats), _) => sats,
            (None, Some(btc)) => btc_to_sats(btc).ok_or_else(|| bad("has an unreadable amount"))?,
            (None, None) => {
                return Err(Error::unprocessable(
                    ErrorCode::AmountRequired,
                    Some("amount"),
                    "this URI has no amount: give `amount` in sats",
                ))
            }
        };
        if sats == 0 || sats > FUNDING_SATS {
            return Err(Error::invalid(
                "amount",
                format!("amount must be between 1 and {FUNDING_SATS} sat"),
            ));
        }
        // The hash names the sale: that of the Lightning invoice the URI carries, if any.
        let payment_hash = param("lightning")
            .and_then(|ln| parse_invoice(ln).ok())
            .map(|i| i.payment_hash().to_string())
            .unwrap_or_default();
        if address.is_empty() {
            return Err(bad("has no address"));
        }
        let txid = self.bitcoind.send_to(address, sats).await?;
        self.mine(merchant, 1).await?;
        Ok(CustomerPayment {
            status: Ours::Succeeded,
            amount: Some(sats),
            fee: None,
            payment_hash,
            txid: Some(txid),
        })
    }

    /// The customer pays a BOLT12 offer: its wallet asks the merchant's node for an invoice over
    /// an onion message, then pays it.
    async fn pay_offer(
        &self,
        offer: &str,
        amount: Option<u64>,
        payer_note: Option<String>,
        quantity: Option<u64>,
    ) -> Result<CustomerPayment> {
        use ldk_node::lightning::offers::offer::{Amount, Offer};
        let offer: Offer = offer.parse().map_err(|e| {
            Error::invalid(
                "payment_request",
                format!("this is not an offer the sandbox can read: {e:?}"),
            )
        })?;
        if amount.is_some_and(|a| a == 0 || a > CHANNEL_SATS) {
            return Err(Error::invalid(
                "amount",
                format!("amount must be between 1 and {CHANNEL_SATS} sat"),
            ));
        }
        if quantity == Some(0) {
            return Err(Error::invalid("quantity", "quantity must be at least 1"));
        }
        // An offer that sells more than one expects a quantity; one is the customer's default.
        let quantity = quantity.or(offer.expects_quantity().then_some(1));
        let priced = matches!(offer.amount(), Some(Amount::Bitcoin { .. }));
        if !priced && amount.is_none() {
            return Err(Error::unprocessable(
                ErrorCode::AmountRequired,
                Some("amount"),
                "this offer lets the payer choose the amount: give `amount` in sats",
            ));
        }
        let customer = self.customer.clone();
        let id = blocking(move || {
            let bolt12 = customer.bolt12_payment();
            let sent = match amount {
                Some(sats) => {
                    bolt12.send_using_amount(&offer, sats * 1000, quantity, payer_note, None)
                }
                None => bolt12.send(&offer, quantity, payer_note, None),
            };
            sent.map_err(|e| {
                Error::unprocessable(ErrorCode::PaymentFailed, None, crate::node::explain(&e))
            })
        })
        .await?;
        self.wait_payment(id).await
    }

    async fn wait_payment(&self, id: PaymentId) -> Result<CustomerPayment> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let details = self.customer.payment(&id);
            let status = details.as_ref().map(|d| d.status);
            if status != Some(PaymentStatus::Pending) || tokio::time::Instant::now() > deadline {
                let status = match status {
                    Some(PaymentStatus::Succeeded) => Ours::Succeeded,
                    Some(PaymentStatus::Failed) | None => Ours::Failed,
                    Some(PaymentStatus::Pending) => Ours::Pending,
                };
                return Ok(CustomerPayment {
                    status,
                    amount: details
                        .as_ref()
                        .and_then(|d| d.amount_msat)
                        .map(|m| m / 1000),
                    fee: details
                        .as_ref()
                        .and_then(|d| d.fee_paid_msat)
                        .map(|m| m.div_ceil(1000)),
                    // A BOLT11 payment's id is its hash; a BOLT12 one learns its hash from the
                    // invoice the merchant's node sent back.
                    payment_hash: match details.as_ref().map(|d| &d.kind) {
                        Some(ldk_node::payment::PaymentKind::Bolt12Offer {
                            hash: Some(hash),
                            ..
                        }) => hash.to_string(),
                        _ => hex::encode(id.0),
                    },
                    txid: None,
                });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// An invoice from the customer, for the merchant to pay.
    pub async fn invoice(&self, amount: u64, description: &str) -> Result<CustomerInvoice> {
        if amount == 0 || amount > CHANNEL_SATS {
            return Err(Error::unprocessable(
                ErrorCode::InvalidAmount,
                Some("amount"),
                format!("amount must be between 1 and {CHANNEL_SATS} sat"),
            ));
        }
        let desc = Description::new(description.to_string())
            .map_err(|e| Error::invalid("description", format!("description not allowed: {e}")))?;
        let customer = self.customer.clone();
        let invoice = blocking(move || {
            customer
                .bolt11_payment()
                .receive(amount * 1000, &Bolt11InvoiceDescription::Direct(desc), 3600)
                .map_err(|e| Error::Sandbox(format!("customer invoice: {e}")))
        })
        .await?;
        Ok(CustomerInvoice {
            payment_request: invoice.to_string(),
            payment_hash: invoice.payment_hash().to_string(),
            amount,
            description: description.to_string(),
        })
    }

    /// Mines `blocks` blocks (1 to 1000) and returns the new height. A few blocks (at most
    /// [`MINE_AND_FOLLOW`]) are returned once both nodes have seen them (5 s at most), so what
    /// they broadcast on a block (a force-close's claims) is in the mempool before the next one
    /// is mined, as on a real chain where blocks are minutes apart. Larger batches return at once
    /// and the nodes catch up on their own, as after being offline.
    pub async fn mine(&self, merchant: Option<Arc<Node>>, blocks: u64) -> Result<u64> {
        if !(1..=1000).contains(&blocks) {
            return Err(Error::unprocessable(
                ErrorCode::InvalidBlocks,
                Some("blocks"),
                "blocks must be between 1 and 1000",
            ));
        }
        self.bitcoind.mine(blocks).await?;
        let height = self.bitcoind.height().await?;
        if blocks > MINE_AND_FOLLOW {
            return Ok(height);
        }
        let nodes: Vec<Arc<Node>> = merchant
            .into_iter()
            .chain(std::iter::once(self.customer.clone()))
            .collect();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let behind: Vec<Arc<Node>> = nodes
                .iter()
                .filter(|n| u64::from(n.status().current_best_block.height) < height)
                .cloned()
                .collect();
            if behind.is_empty() || tokio::time::Instant::now() > deadline {
                return Ok(height);
            }
            for node in behind {
                // A node that is stopping (or being rebuilt) cannot sync, and its sync may hang:
                // the deadline bounds the wait, also inside the sync.
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                let _ = tokio::time::timeout(
                    left,
                    blocking(move || {
                        node.sync_wallets()
                            .map_err(|e| Error::Sandbox(format!("sync: {e}")))
                    }),
                )
                .await;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Hands the customer's payments left pending by a kill back to its node (see
    /// [`crate::payments::resume`]). The customer pays the merchant's invoices, whose text the merchant's
    /// store keeps; anything else is left as it is.
    async fn resume_customer_payments(&self, app: &App) {
        use crate::payments::resume::{hand_back_until_known, Handback, Resumed};
        use ldk_node::payment::{PaymentDirection, PaymentKind};
        let pending = self.customer.list_payments_with_filter(|p| {
            p.direction == PaymentDirection::Outbound
                && p.status == PaymentStatus::Pending
                && matches!(p.kind, PaymentKind::Bolt11 { .. })
        });
        for p in pending {
            let hash = hex::encode(p.id.0);
            let Ok(invoice) = app.invoices().get(&hash).await else {
                continue;
            };
            let Ok(invoice) = parse_invoice(&invoice.payment_request) else {
                continue;
            };
            let payment = Arc::new(Handback {
                invoice,
                amount_msat: p.amount_msat.unwrap_or(0),
                route: None,
            });
            let customer = self.customer.clone();
            let mut stop = self.stop_events.subscribe();
            let id = p.id;
            // Noted before the hand-back can remove ldk-node's record, so no outcome is missed.
            self.handed_back
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .entry(id)
                .or_insert_with(|| CustomerPaymentRecord {
                    payment_hash: hash.clone(),
                    direction: Direction::Outbound,
                    status: Ours::Pending,
                    amount_msat: p.amount_msat,
                });
            // Settled means succeeded, or failed by the node rather than by a refused hand-back.
            let still_pending = {
                let customer = customer.clone();
                move |probed: bool| {
                    let status = customer.payment(&id).map(|p| p.status);
                    async move {
                        match status {
                            Some(PaymentStatus::Succeeded) => false,
                            Some(PaymentStatus::Failed) => probed,
                            _ => true,
                        }
                    }
                }
            };
            tokio::spawn(async move {
                let found = tokio::select! {
                    found = hand_back_until_known(customer, payment, still_pending) => found,
                    _ = stop.changed() => return,
                };
                if found == Resumed::Resent {
                    tracing::warn!(payment_hash = %hash, "the customer node had lost a payment cut off by a crash; it was sent again");
                }
            });
        }
    }

    /// Every Lightning payment in the customer node's own record, and those handed back after a
    /// kill whose record the node no longer has (see [`Sandbox::handed_back`]).
    pub fn customer_payments(&self) -> Vec<CustomerPaymentRecord> {
        use ldk_node::payment::{PaymentDirection, PaymentKind};
        let mut records: Vec<CustomerPaymentRecord> = self
            .customer
            .list_payments_with_filter(|p| matches!(p.kind, PaymentKind::Bolt11 { .. }))
            .into_iter()
            .map(|p| CustomerPaymentRecord {
                payment_hash: hex::encode(p.id.0),
                direction: match p.direction {
                    PaymentDirection::Inbound => Direction::Inbound,
                    PaymentDirection::Outbound => Direction::Outbound,
                },
                status: match p.status {
                    PaymentStatus::Pending => Ours::Pending,
                    PaymentStatus::Succeeded => Ours::Succeeded,
                    PaymentStatus::Failed => Ours::Failed,
                },
                amount_msat: p.amount_msat,
            })
            .collect();
        let handed_back = self
            .handed_back
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (id, record) in handed_back.iter() {
            if self.customer.payment(id).is_none() {
                records.push(record.clone());
            }
        }
        records
    }

    /// The customer node's id and peer address.
    pub fn customer(&self) -> CustomerNode {
        CustomerNode {
            node_id: self.customer.node_id().to_string(),
            address: self
                .customer
                .listening_addresses()
                .and_then(|a| a.first().map(ToString::to_string))
                .unwrap_or_default(),
        }
    }

    /// Stops the customer node, the LSP (if any) and bitcoind.
    pub async fn stop(&self) {
        let _ = self.stop_events.send(true);
        for node in std::iter::once(&self.customer).chain(self.lsp.as_ref()) {
            let node = node.clone();
            let _ = tokio::task::spawn_blocking(move || node.stop()).await;
        }
        self.bitcoind.stop().await;
    }
}

/// Where `scripts/install-bitcoind.sh` puts bitcoind (`$PAYAIML_CACHE` or `~/.cache/payaiml`),
/// else `bitcoind` on PATH.
pub fn default_bitcoind() -> PathBuf {
    let cache = std::env::var_os("PAYAIML_CACHE")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache").join("payaiml"))
        });
    match cache.map(|c| c.join("bitcoind").join("bin").join("bitcoind")) {
        Some(path) if path.exists() => path,
        _ => PathBuf::from("bitcoind"),
    }
}

/// The default sandbox data dir (`…/com.payaiml.merchant/sandbox`).
pub fn default_data_dir() -> PathBuf {
    crate::config::default_data_dir("sandbox")
}
