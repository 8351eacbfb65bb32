//! A node whose channel state is behind its channels' real state: restored from an old backup (a
//! target rolled back to an earlier copy, a mirror that was behind when the computer was lost), or
//! started from an old copy of the data folder. Broadcasting that state would hand the peer the
//! whole channel as a penalty, so it must never be broadcast; the merchant's share comes back when
//! the peer closes with its own, newer state.
//!
//! LDK learns it is behind when a peer re-establishes a channel with proof of a newer state, and
//! then panics on purpose, before sending or broadcasting anything ("We have fallen behind"). Its
//! advice is followed here, in three steps that survive restarts:
//!
//! 1. **Detected.** A panic hook (installed by [`watch`]) sees that panic, writes a marker file in
//!    the data folder and ends the process with [`EXIT_BEHIND`] and a message for the merchant: the
//!    node's locks are poisoned by the panic, so the process cannot carry on.
//! 2. **Waiting for the peers' closes.** At the next start the channel manager and every channel
//!    monitor (with its updates) are moved aside in the node's store, so the node starts knowing no
//!    channel and can broadcast nothing old. Its peers re-establish, learn the node has lost those
//!    channels, and close them with their own latest state. The node meanwhile runs (new channels,
//!    payments) and health says what it waits for. A task watches the channels' funding outputs.
//! 3. **Claiming.** Once every funding output is spent by a confirmed transaction with
//!    [`CONFIRMATIONS`] confirmations, the monitors are put back and the node restarts with them:
//!    they find the peers' closing transactions and claim the merchant's outputs (ldk-node sweeps
//!    them into the on-chain wallet). The channel manager does not know those channels and asks the
//!    monitors to close them, which can no longer broadcast anything (their funding is spent).
//!
//! The state of steps 2 and 3 is an entry of the node's store (`payaiml_behind/state`), so a backup
//! carries it along with the monitors set aside.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once, OnceLock};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::util::{now_ms, rfc3339};

/// The exit status of a process that found its channel state behind (`EX_TEMPFAIL`: start again).
pub const EXIT_BEHIND: i32 = 75;
/// The marker the panic hook writes in the data folder.
pub const MARKER: &str = "node-behind.json";
/// How deep the peers' closing transactions must be before the monitors come back.
pub const CONFIRMATIONS: u64 = 6;
/// What LDK's panic says when a peer proves the node is behind (lightning 0.2, channel.rs).
const LDK_BEHIND: &str = "We have fallen behind";

/// The namespace of the entries set aside, and of the recovery's own state.
const ASIDE: &str = "payaiml_behind";
const STATE_KEY: &str = "state";

/// Where a recovery is.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecoveryState {
    /// The channel state is set aside; the peers are to close the channels with their own.
    WaitingForCloses,
    /// Every channel is closed on-chain; the monitors are back and claim the merchant's outputs.
    Claiming,
}

/// What `/v1/health` says of a recovery.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Recovery {
    /// Where it is.
    pub state: RecoveryState,
    /// When the node found its channel state behind (RFC 3339).
    pub detected_at: String,
    /// The funding outputs (`txid:vout`) of the channels set aside.
    pub channels: Vec<String>,
    /// Of them, those spent by a confirmed closing transaction.
    pub closed: Vec<String>,
    /// What happens, for the merchant.
    pub message: String,
}

static DATA_DIR: OnceLock<Mutex<Option<PathBuf>>> = OnceLock::new();
static HOOK: Once = Once::new();
static BEFORE_EXIT: OnceLock<fn()> = OnceLock::new();
/// Set in the environment of a start made by the [`before_exit`] hook.
pub const RESTARTED: &str = "PAYAIML_RESTARTED_AFTER_BEHIND";

/// Has `hook` run just before the process ends after LDK found the channel state behind: the
/// desktop app starts itself again there (a merchant should not have to, nor see it vanish);
/// a service manager restarts the headless daemon on its exit status.
pub fn before_exit(hook: fn()) {
    let _ = BEFORE_EXIT.set(hook);
}

/// Watches for LDK's "fallen behind" panic in this process, for the data folder `data_dir` (the
/// last one opened: one app per process).
pub fn watch(data_dir: &Path) {
    if let Ok(mut dir) = DATA_DIR.get_or_init(|| Mutex::new(None)).lock() {
        *dir = Some(data_dir.to_path_buf());
    }
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let text = info
                .payload()
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| info.payload().downcast_ref::<&str>().copied())
                .unwrap_or_default();
            if !text.contains(LDK_BEHIND) {
                previous(info);
                return;
            }
            let dir = DATA_DIR
                .get()
                .and_then(|d| d.lock().ok().and_then(|d| d.clone()));
            let mut recorded = false;
            if let Some(dir) = dir {
                let marker = serde_json::json!({ "detected_at": rfc3339(now_ms()) });
                match crate::util::write_private_file(
                    &dir.join(MARKER),
                    marker.to_string().as_bytes(),
                ) {
                    Ok(()) => recorded = true,
                    Err(e) => eprintln!("could not record that the node is behind: {e}"),
                }
            }
            let message = "The node's channel state is behind its channels' real state (restored \
                from an old backup, or an old copy of the data folder). Nothing was sent or \
                broadcast. Start the app again: it lets the peers close those channels with their \
                own state and then claims your share on-chain.";
            tracing::error!("{message}");
            eprintln!("{message}");
            // Only when the next start will find the marker (else it would stop here again), and
            // only once per launch chain (a start that ends the same way is not started again).
            if recorded && std::env::var_os(RESTARTED).is_none() {
                if let Some(hook) = BEFORE_EXIT.get() {
                    hook();
                }
            }
            std::process::exit(EXIT_BEHIND);
        }));
    });
}

/// Before the node is built: turns a marker into step 2 (sets the channel state aside), or, once
/// the closes are confirmed, ends step 3's set-up (puts the monitors back). Returns the recovery
/// under way, if any.
pub(crate) async fn prepare(data_dir: &Path, ldk_dir: &Path) -> Result<Option<Recovery>> {
    let marker = data_dir.join(MARKER);
    let db = ldk_dir.join(ldk_node::io::sqlite_store::SQLITE_DB_FILE_NAME);
    if !db.exists() {
        return Ok(None);
    }
    let mut conn = connect(&db).await?;
    let has_table: Option<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?")
            .bind(table())
            .fetch_optional(&mut conn)
            .await?;
    if has_table.is_none() {
        // A new node: nothing written yet, so nothing can be behind.
        use sqlx::Connection;
        conn.close().await?;
        return Ok(None);
    }
    let mut recovery = read_state(&mut conn).await?;
    if recovery.is_none() && marker.exists() {
        let detected_at = std::fs::read_to_string(&marker)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v["detected_at"].as_str().map(str::to_string))
            .unwrap_or_else(|| rfc3339(now_ms()));
        recovery = Some(set_aside(&mut conn, detected_at).await?);
        tracing::warn!("the node's channel state was behind: set aside; the peers are to close those channels with their own");
    }
    if marker.exists() {
        std::fs::remove_file(&marker)
            .map_err(|e| Error::io(format!("removing {}", marker.display()), e))?;
    }
    use sqlx::Connection;
    conn.close().await?;
    Ok(recovery)
}

async fn connect(db: &Path) -> Result<sqlx::SqliteConnection> {
    use sqlx::sqlite::SqliteConnectOptions;
    use sqlx::ConnectOptions;
    Ok(SqliteConnectOptions::new().filename(db).connect().await?)
}

fn table() -> &'static str {
    ldk_node::io::sqlite_store::KV_TABLE_NAME
}

async fn read_state(conn: &mut sqlx::SqliteConnection) -> Result<Option<Recovery>> {
    let row: Option<Vec<u8>> = sqlx::query_scalar(&format!(
        "SELECT value FROM {} WHERE primary_namespace = ? AND secondary_namespace = '' AND key = ?",
        table()
    ))
    .bind(ASIDE)
    .bind(STATE_KEY)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|bytes| {
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::Node(format!("the stored recovery state is damaged: {e}")))
    })
    .transpose()
}

async fn write_state(conn: &mut sqlx::SqliteConnection, recovery: &Recovery) -> Result<()> {
    let bytes = serde_json::to_vec(recovery)
        .map_err(|e| Error::Node(format!("cannot record the recovery state: {e}")))?;
    sqlx::query(&format!(
        "INSERT INTO {} (primary_namespace, secondary_namespace, key, value) VALUES (?, '', ?, ?)
         ON CONFLICT (primary_namespace, secondary_namespace, key) DO UPDATE SET value = excluded.value",
        table()
    ))
    .bind(ASIDE)
    .bind(STATE_KEY)
    .bind(bytes)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Step 2: moves the channel manager and every monitor (with its updates) aside, in one
/// transaction, and records which channels wait for their peers' closes.
async fn set_aside(conn: &mut sqlx::SqliteConnection, detected_at: String) -> Result<Recovery> {
    use sqlx::Connection;
    let mut tx = conn.begin().await?;
    let monitors: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT key FROM {} WHERE primary_namespace = 'monitors' AND secondary_namespace = ''",
        table()
    ))
    .fetch_all(&mut *tx)
    .await?;
    for namespace in ["monitors", "monitor_updates"] {
        sqlx::query(&format!(
            "UPDATE {} SET primary_namespace = ? WHERE primary_namespace = ?",
            table()
        ))
        .bind(format!("{ASIDE}_{namespace}"))
        .bind(namespace)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(&format!(
        "UPDATE {} SET primary_namespace = ? WHERE primary_namespace = '' AND secondary_namespace = '' AND key = 'manager'",
        table()
    ))
    .bind(ASIDE)
    .execute(&mut *tx)
    .await?;
    // A monitor's key is its funding output, `<txid>_<vout>`.
    let channels = monitors
        .iter()
        .map(|key| key.replacen('_', ":", 1))
        .collect();
    let recovery = Recovery {
        state: RecoveryState::WaitingForCloses,
        detected_at,
        channels,
        closed: Vec::new(),
        message: waiting_message(),
    };
    write_state(&mut tx, &recovery).await?;
    tx.commit().await?;
    Ok(recovery)
}

fn waiting_message() -> String {
    "The node's channel state was behind its channels' real state (an old backup). It was set \
     aside and nothing old was broadcast. The peers close those channels with their own state; \
     once their closes have 6 confirmations, the node claims your share into the on-chain wallet. \
     New payments work meanwhile."
        .into()
}

/// Step 3: puts the monitors back (the old channel manager stays aside: the new one is the truth)
/// and records it. The node must not be running.
pub(crate) async fn restore_monitors(ldk_dir: &Path, mut recovery: Recovery) -> Result<Recovery> {
    use sqlx::Connection;
    let db = ldk_dir.join(ldk_node::io::sqlite_store::SQLITE_DB_FILE_NAME);
    let mut conn = connect(&db).await?;
    let mut tx = conn.begin().await?;
    for namespace in ["monitors", "monitor_updates"] {
        sqlx::query(&format!(
            "UPDATE {} SET primary_namespace = ? WHERE primary_namespace = ?",
            table()
        ))
        .bind(namespace)
        .bind(format!("{ASIDE}_{namespace}"))
        .execute(&mut *tx)
        .await?;
    }
    recovery.state = RecoveryState::Claiming;
    recovery.message = "The peers closed the channels whose state was behind. The node claims \
        your share of them; it reaches the on-chain wallet after the closing transactions' \
        delays."
        .into();
    write_state(&mut tx, &recovery).await?;
    tx.commit().await?;
    conn.close().await?;
    Ok(recovery)
}

/// Step 2's watch: which of the channels set aside are closed on-chain with enough
/// confirmations. `first_seen` keeps, per channel, the height at which its funding was first seen
/// spent.
pub(crate) async fn closed_channels(
    lookup: &crate::node::chain_lookup::ChainLookup,
    recovery: &Recovery,
    first_seen: &mut std::collections::HashMap<String, u64>,
) -> Result<Vec<String>> {
    use std::str::FromStr;
    let tip = lookup.tip_height().await?;
    let mut closed = Vec::new();
    for channel in &recovery.channels {
        let Some((txid, vout)) = channel.split_once(':') else {
            continue;
        };
        let (Ok(txid), Ok(vout)) = (ldk_node::bitcoin::Txid::from_str(txid), vout.parse::<u32>())
        else {
            continue;
        };
        if lookup.output_spent(&txid, vout).await? {
            let seen = *first_seen.entry(channel.clone()).or_insert(tip);
            if tip + 1 >= seen + CONFIRMATIONS {
                closed.push(channel.clone());
            }
        }
    }
    Ok(closed)
}

/// Ends a recovery once the monitors put back have nothing left to claim: removes its state.
pub(crate) async fn finish(ldk_dir: &Path) -> Result<()> {
    let db = ldk_dir.join(ldk_node::io::sqlite_store::SQLITE_DB_FILE_NAME);
    let mut conn = connect(&db).await?;
    sqlx::query(&format!(
        "DELETE FROM {} WHERE primary_namespace = ? AND secondary_namespace = '' AND key = ?",
        table()
    ))
    .bind(ASIDE)
    .bind(STATE_KEY)
    .execute(&mut conn)
    .await?;
    use sqlx::Connection;
    conn.close().await?;
    Ok(())
}
