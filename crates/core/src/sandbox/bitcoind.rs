//! A regtest `bitcoind` child process and a minimal JSON-RPC client for it.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::process::{Child, Command};

use crate::config::ChainSource;
use crate::error::{Error, Result};
use crate::util::random_alnum;

const WALLET: &str = "sandbox";
const RPC_USER: &str = "payaiml";
/// Transactions sent before a block to feed bitcoind's fee estimator. It needs about 13
/// transactions of one fee rate confirmed within a few blocks before `estimatesmartfee`
/// answers; without an answer the Lightning nodes log an error for every target at every block.
const FEE_TXS_PER_ROUND: usize = 16;
/// The fee rate of those transactions, so the estimate the nodes get (sat/vB).
const FEE_RATE_SAT_VB: u64 = 2;
/// Blocks with such transactions mined at start when bitcoind has no estimate yet. (Only at
/// start: the data lasts some dozens of empty blocks, and sending a round before every block
/// made the nodes' wallet syncs stall now and then in the test suites.)
const FEE_SEED_BLOCKS: u64 = 5;

/// The file bitcoind's data dir holds while no bitcoind of the sandbox runs after a clean stop.
/// Its absence at start, with a chain there, means the last bitcoind was cut off (SIGKILL of the
/// whole sandbox, a power cut): see [`Bitcoind::start`].
const STOPPED_CLEANLY: &str = "stopped-cleanly";

/// A running regtest bitcoind owned by the sandbox.
pub struct Bitcoind {
    child: tokio::sync::Mutex<Option<Child>>,
    rpc: Rpc,
    rpc_port: u16,
    password: String,
    datadir: PathBuf,
}

impl Bitcoind {
    /// Starts `bin` on `datadir` (reusing the chain that is there) and waits until its RPC answers
    /// and the sandbox wallet is loaded with spendable coins.
    ///
    /// A bitcoind cut off without stopping (a power cut, SIGKILL of the whole sandbox) has
    /// written its blocks to its block files but keeps its index of them in memory until it
    /// flushes, so on a plain restart it would come back behind the tip the Lightning nodes
    /// already processed, and on regtest no peer would ever send those blocks again: the nodes
    /// would fail to sync for good. Such a bitcoind is first run with `-reindex
    /// -stopafterblockimport`, which rebuilds the index from the block files and exits when that
    /// is done; then it starts as usual. The sandbox says so in its log.
    pub async fn start(bin: &Path, datadir: &Path) -> Result<Bitcoind> {
        std::fs::create_dir_all(datadir)
            .map_err(|e| Error::io(format!("cannot create {}", datadir.display()), e))?;
        stop_stale(datadir).await;
        let marker = datadir.join(STOPPED_CLEANLY);
        let cut_off = datadir.join("regtest").join("blocks").exists() && !marker.exists();
        if let Err(e) = std::fs::remove_file(&marker) {
            if e.kind() != std::io::ErrorKind::NotFound {
                return Err(Error::io(format!("cannot remove {}", marker.display()), e));
            }
        }
        if cut_off {
            tracing::warn!(
                "the sandbox's bitcoind was cut off without stopping (a power cut, or the whole \
                 sandbox killed): it rebuilds its block index from its block files (-reindex) so \
                 that no block the nodes have seen is lost"
            );
            reindex(bin, datadir).await?;
        }
        let rpc_port = free_port()?;
        let password = random_alnum(24);
        let mut child = Command::new(bin)
            .arg("-regtest")
            .arg(format!("-datadir={}", datadir.display()))
            .arg(format!("-pid={}", datadir.join("bitcoind.pid").display()))
            .arg(format!("-rpcport={rpc_port}"))
            .arg("-rpcbind=127.0.0.1")
            .arg("-rpcallowip=127.0.0.1")
            .arg(format!("-rpcuser={RPC_USER}"))
            .arg(format!("-rpcpassword={password}"))
            .args([
                "-listen=0",
                "-server=1",
                "-txindex=1",
                "-fallbackfee=0.0001",
            ])
            .args(["-printtoconsole=0", "-disablewallet=0", "-rpcworkqueue=64"])
            // The fee estimator ignores transactions whose parents are unconfirmed: the
            // sandbox wallet spends confirmed coins only (see `fee_round`).
            .arg("-spendzeroconfchange=0")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                Error::Sandbox(format!(
                    "cannot run bitcoind at {} ({e}); install it with scripts/install-bitcoind.sh",
                    bin.display()
                ))
            })?;
        let rpc = rpc_client(rpc_port, &password);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            if rpc.call("getblockchaininfo", json!([])).await.is_ok() {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                let mut err = String::new();
                if let Some(mut stderr) = child.stderr.take() {
                    use tokio::io::AsyncReadExt;
                    let _ = stderr.read_to_string(&mut err).await;
                }
                return Err(Error::Sandbox(format!(
                    "bitcoind exited ({status}): {}",
                    err.trim()
                )));
            }
            if tokio::time::Instant::now() > deadline {
                return Err(Error::Sandbox(
                    "bitcoind did not answer RPC within 60 s".into(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let bitcoind = Bitcoind {
            child: tokio::sync::Mutex::new(Some(child)),
            rpc,
            rpc_port,
            password,
            datadir: datadir.to_path_buf(),
        };
        if cut_off {
            let height = bitcoind.height().await?;
            tracing::warn!(
                height,
                "bitcoind rebuilt its block index after being cut off"
            );
        }
        bitcoind.load_wallet().await?;
        if bitcoind.height().await? < 101 {
            bitcoind.generate(101).await?;
        }
        bitcoind.seed_fee_estimates().await?;
        Ok(bitcoind)
    }

    /// Gives `estimatesmartfee` data to answer from, as a real chain has: a few blocks, each with
    /// [`FEE_TXS_PER_ROUND`] independent transactions at [`FEE_RATE_SAT_VB`]. Skipped when
    /// bitcoind already answers (it keeps its estimates across a clean restart).
    async fn seed_fee_estimates(&self) -> Result<()> {
        let answer = self.rpc.call("estimatesmartfee", json!([2])).await;
        if answer.is_ok_and(|v| v.get("feerate").is_some()) {
            return Ok(());
        }
        // A block first: a chain whose tip is old counts as still syncing, and the estimator
        // ignores transactions seen then.
        self.generate(1).await?;
        for _ in 0..FEE_SEED_BLOCKS {
            self.fee_round().await?;
            self.generate(1).await?;
        }
        Ok(())
    }

    /// Sends [`FEE_TXS_PER_ROUND`] transactions to the wallet itself, each from confirmed coins,
    /// splitting a coin first when there are too few.
    async fn fee_round(&self) -> Result<()> {
        let spendable = self
            .wallet_call("listunspent", json!([1]))
            .await?
            .as_array()
            .map(Vec::len)
            .unwrap_or(0);
        if spendable < FEE_TXS_PER_ROUND {
            let mut outputs = serde_json::Map::new();
            for _ in 0..2 * FEE_TXS_PER_ROUND {
                let address = self.wallet_call("getnewaddress", json!([])).await?;
                if let Some(address) = address.as_str() {
                    outputs.insert(address.to_string(), json!("1.00000000"));
                }
            }
            self.wallet_call("sendmany", json!(["", outputs])).await?;
            self.generate(1).await?;
        }
        for _ in 0..FEE_TXS_PER_ROUND {
            let address = self.wallet_call("getnewaddress", json!([])).await?;
            self.wallet_call(
                "sendtoaddress",
                json!({"address": address, "amount": "0.00100000", "fee_rate": FEE_RATE_SAT_VB}),
            )
            .await?;
        }
        Ok(())
    }

    async fn load_wallet(&self) -> Result<()> {
        match self.rpc.call("createwallet", json!([WALLET])).await {
            Ok(_) => return Ok(()),
            Err(e) if !e.contains("already exists") => return Err(Error::Sandbox(e)),
            Err(_) => {}
        }
        match self.rpc.call("loadwallet", json!([WALLET])).await {
            Ok(_) => Ok(()),
            Err(e) if e.contains("already loaded") => Ok(()),
            Err(e) => Err(Error::Sandbox(e)),
        }
    }

    /// The chain source for LDK nodes on this bitcoind.
    pub fn chain_source(&self) -> ChainSource {
        ChainSource::BitcoindRpc {
            host: "127.0.0.1".into(),
            port: self.rpc_port,
            user: RPC_USER.into(),
            password: self.password.clone(),
        }
    }

    /// The current block height.
    pub async fn height(&self) -> Result<u64> {
        let v = self
            .rpc
            .call("getblockcount", json!([]))
            .await
            .map_err(Error::Sandbox)?;
        v.as_u64()
            .ok_or_else(|| Error::Sandbox("getblockcount returned no number".into()))
    }

    /// Mines `blocks` blocks to the sandbox wallet; returns their hashes.
    pub async fn mine(&self, blocks: u64) -> Result<Vec<String>> {
        self.generate(blocks).await
    }

    async fn generate(&self, blocks: u64) -> Result<Vec<String>> {
        let address = self.wallet_call("getnewaddress", json!([])).await?;
        let hashes = self
            .rpc
            .call("generatetoaddress", json!([blocks, address]))
            .await
            .map_err(Error::Sandbox)?;
        // The wallet learns of new blocks asynchronously: wait until it has, so the next send
        // sees the coins these blocks confirmed (it spends confirmed coins only).
        self.rpc
            .call("syncwithvalidationinterfacequeue", json!([]))
            .await
            .map_err(Error::Sandbox)?;
        Ok(serde_json::from_value(hashes).unwrap_or_default())
    }

    /// Sends `sats` from the sandbox wallet to `address`.
    pub async fn send_to(&self, address: &str, sats: u64) -> Result<String> {
        // A decimal string, which bitcoind accepts as an amount, keeps floats out of money.
        let btc = format!("{}.{:08}", sats / 100_000_000, sats % 100_000_000);
        let txid = self
            .wallet_call("sendtoaddress", json!([address, btc]))
            .await?;
        Ok(txid.as_str().unwrap_or_default().to_string())
    }

    async fn wallet_call(&self, method: &str, params: Value) -> Result<Value> {
        self.rpc
            .call_at(&format!("/wallet/{WALLET}"), method, params)
            .await
            .map_err(Error::Sandbox)
    }

    /// Asks bitcoind to stop and waits for it (killing it after 30 s).
    pub async fn stop(&self) {
        let mut child = self.child.lock().await;
        let Some(mut process) = child.take() else {
            return;
        };
        let _ = self.rpc.call("stop", json!([])).await;
        match tokio::time::timeout(Duration::from_secs(30), process.wait()).await {
            Ok(Ok(status)) if status.success() => stopped_cleanly(&self.datadir),
            Ok(_) => {}
            Err(_) => {
                tracing::warn!("bitcoind did not stop within 30 s; killing it");
                let _ = process.kill().await;
            }
        }
        let _ = std::fs::remove_file(self.datadir.join("bitcoind.pid"));
    }
}

/// A bitcoind left running by a sandbox that was killed (SIGKILL gives no chance to stop it) holds
/// the data dir's lock; stop it before starting a new one.
async fn stop_stale(datadir: &Path) {
    let pid_file = datadir.join("bitcoind.pid");
    let Ok(pid) = std::fs::read_to_string(&pid_file) else {
        return;
    };
    let pid = pid.trim();
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    if !String::from_utf8_lossy(&cmdline).contains(&*datadir.to_string_lossy()) {
        let _ = std::fs::remove_file(&pid_file);
        return;
    }
    tracing::warn!(pid, "stopping a bitcoind left over from an earlier sandbox");
    let _ = Command::new("kill").arg(pid).status().await;
    for _ in 0..300 {
        if !Path::new(&format!("/proc/{pid}")).exists() {
            // Stopped by its own SIGTERM handler, which flushes its index.
            stopped_cleanly(datadir);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = std::fs::remove_file(&pid_file);
}

/// Rebuilds bitcoind's block index from its block files and waits for it to exit when done
/// (`-reindex -stopafterblockimport`, no RPC, no wallet, the same transaction index).
async fn reindex(bin: &Path, datadir: &Path) -> Result<()> {
    let run = Command::new(bin)
        .arg("-regtest")
        .arg(format!("-datadir={}", datadir.display()))
        .args([
            "-reindex",
            "-stopafterblockimport",
            "-listen=0",
            "-server=0",
            "-txindex=1",
            "-disablewallet=1",
            "-printtoconsole=0",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(600), run)
        .await
        .map_err(|_| Error::Sandbox("bitcoind's reindex took more than 10 minutes".into()))?
        .map_err(|e| Error::Sandbox(format!("cannot run bitcoind to reindex ({e})")))?;
    if !out.status.success() {
        return Err(Error::Sandbox(format!(
            "bitcoind's reindex failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// Leaves the clean-stop marker (see [`STOPPED_CLEANLY`]). Failing to is harmless: the next
/// start reindexes once for nothing.
fn stopped_cleanly(datadir: &Path) {
    if let Err(e) = std::fs::write(datadir.join(STOPPED_CLEANLY), b"") {
        tracing::warn!(error = %e, "cannot mark bitcoind's clean stop");
    }
}

/// A free TCP port on 127.0.0.1 (bound, then released for the child to take).
pub(crate) fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| Error::io("cannot find a free port", e))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| Error::io("cannot find a free port", e))
}

/// The sandbox's bitcoind: the JSON-RPC client of the chain lookup, as its own user.
type Rpc = crate::node::chain_lookup::JsonRpc;

fn rpc_client(port: u16, password: &str) -> Rpc {
    Rpc::new(
        format!("http://127.0.0.1:{port}"),
        RPC_USER,
        password,
        Duration::from_secs(60),
    )
}
