//! The node's store with every write mirrored to the backup target.
//!
//! The local SQLite store (ldk-node's own `SqliteStore`, the same file as without a backup) stays
//! the source of truth: the node reads only from it, so a slow, stale or absent target can never
//! feed the node old channel state (what made others' nodes force-close or refuse to start when
//! VSS was their only store). Each write and removal is then queued for the target, and:
//!
//! - **while the target keeps up**, the write returns only once the target holds it (or a newer
//!   value of the same entry). LDK sends a peer the revocation or signature that depends on a
//!   channel update only after the update's write returned, so no update is acknowledged before
//!   it is on the target;
//! - **when the target is away** (an error, or no answer within [`WAIT`]), writes return as soon
//!   as they are on the local disk and the mirror is *behind*: payments go on, and the status says
//!   since when and how much is not yet on the target, until a retry empties the queue. This is
//!   the window that remains, and it is shown, never hidden.
//!
//! Entries reach the target in the order of their last local write (a rewritten entry moves to the
//! back of the queue), so the target always holds a state the node wrote in that order: a channel
//! manager is never ahead of the monitors it was written after. A crash loses no queued change:
//! at each start every local entry whose digest differs from the one last confirmed by the target
//! (`backup_state.sqlite`) is queued again.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use ldk_node::io::sqlite_store::{SqliteStore, KV_TABLE_NAME, SQLITE_DB_FILE_NAME};
use ldk_node::lightning::io;
use ldk_node::lightning::util::persist::{KVStore, KVStoreSync};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use super::seal::Sealer;
use super::target::Target;
use super::{BackupState, PartStatus};
use crate::error::{Error, Result};
use crate::util::{now_ms, rfc3339};

/// How long a write waits for the target before the mirror counts as behind.
pub const WAIT: Duration = Duration::from_secs(5);
/// The longest pause between retries while the target is away.
const MAX_RETRY: Duration = Duration::from_secs(30);
/// The file, beside the node's store, that records what the target has confirmed.
pub const STATE_FILE: &str = "backup_state.sqlite";

/// Entries the node rebuilds by itself (gossip and its scores): large, rewritten often, and of no
/// use to a restore, so they stay local.
fn mirrored(primary: &str, secondary: &str, key: &str) -> bool {
    !(primary.is_empty()
        && secondary.is_empty()
        && matches!(
            key,
            "network_graph" | "scorer" | "external_pathfinding_scores_cache"
        ))
}

/// An entry of the node's store, as the backup names it: `ldk/<primary>/<secondary>/<key>`
/// (LDK's namespaces and keys never contain `/`).
pub(crate) fn entry_name(primary: &str, secondary: &str, key: &str) -> String {
    format!("ldk/{primary}/{secondary}/{key}")
}

/// The namespaces and key of an entry name.
pub(crate) fn split_name(name: &str) -> Option<(&str, &str, &str)> {
    let rest = name.strip_prefix("ldk/")?;
    let mut parts = rest.splitn(3, '/');
    let (p, s, k) = (parts.next()?, parts.next()?, parts.next()?);
    (!k.is_empty() && !k.contains('/')).then_some((p, s, k))
}

/// What is waiting for the target, in the order it will go.
#[derive(Default)]
struct Queue {
    next_seq: u64,
    /// Sequence number → entry name.
    pending: BTreeMap<u64, String>,
    /// Entry name → its sequence number in `pending`, and the bytes it wrote.
    by_name: HashMap<String, (u64, u64)>,
    pending_bytes: u64,
    /// Every change numbered up to this is on the target.
    done_through: u64,
    /// Since when the target has not kept up (ms), if it has not.
    behind_since: Option<i64>,
    last_error: Option<String>,
    last_success: Option<i64>,
    /// The start-up comparison with the target's confirmations is done.
    checked: bool,
}

impl Queue {
    fn enqueue(&mut self, name: String, bytes: u64) -> u64 {
        self.next_seq += 1;
        let seq = self.next_seq;
        if let Some((old, old_bytes)) = self.by_name.insert(name.clone(), (seq, bytes)) {
            self.pending.remove(&old);
            self.pending_bytes = self.pending_bytes.saturating_sub(old_bytes);
        }
        self.pending.insert(seq, name);
        self.pending_bytes += bytes;
        seq
    }

    /// Whether the change numbered `seq` to `name` is on the target: every earlier change is, and
    /// so is any later rewrite of the same entry still queued.
    fn is_done(&self, seq: u64, name: &str) -> bool {
        let newest = self.by_name.get(name).map_or(0, |(s, _)| *s);
        self.done_through >= seq.max(newest)
    }

    fn settle(&mut self) {
        self.done_through = match self.pending.first_key_value() {
            Some((first, _)) => first - 1,
            None => self.next_seq,
        };
        if self.pending.is_empty() && self.checked {
            self.behind_since = None;
            self.last_error = None;
        }
    }
}

/// The mirror's shared state: the queue, and what wakes waiting writers and the worker.
pub(crate) struct Mirror {
    queue: Mutex<Queue>,
    changed: Condvar,
    progress: tokio::sync::watch::Sender<u64>,
    work: tokio::sync::Notify,
    target_name: String,
    /// Set when the node's store was changed beside the mirror (a recovery moving entries while
    /// the node was stopped): the worker compares everything again.
    recheck: std::sync::atomic::AtomicBool,
}

impl Mirror {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // A panic while holding the lock leaves plain data; the queue stays usable.
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn enqueue(&self, name: String, bytes: u64) -> u64 {
        let seq = self.lock().enqueue(name, bytes);
        self.work.notify_one();
        seq
    }

    /// Blocks until change `seq` is on the target, the mirror is behind, or [`WAIT`] passed (then
    /// it is behind from now on).
    fn wait_blocking(&self, seq: u64, name: &str) {
        let deadline = std::time::Instant::now() + WAIT;
        let mut queue = self.lock();
        loop {
            if queue.is_done(seq, name) || queue.behind_since.is_some() {
                return;
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                queue.behind_since = Some(now_ms());
                queue.last_error = Some(format!(
                    "the target did not confirm a write within {} s",
                    WAIT.as_secs()
                ));
                return;
            }
            queue = match self.changed.wait_timeout(queue, left) {
                Ok((q, _)) => q,
                Err(p) => p.into_inner().0,
            };
        }
    }

    /// The same as [`Mirror::wait_blocking`], without blocking an async worker.
    async fn wait(&self, seq: u64, name: &str) {
        let mut progress = self.progress.subscribe();
        let waited = tokio::time::timeout(WAIT, async {
            loop {
                {
                    let queue = self.lock();
                    if queue.is_done(seq, name) || queue.behind_since.is_some() {
                        return;
                    }
                }
                if progress.changed().await.is_err() {
                    return;
                }
            }
        })
        .await;
        if waited.is_err() {
            let mut queue = self.lock();
            if !queue.is_done(seq, name) && queue.behind_since.is_none() {
                queue.behind_since = Some(now_ms());
                queue.last_error = Some(format!(
                    "the target did not confirm a write within {} s",
                    WAIT.as_secs()
                ));
            }
        }
    }

    fn notify(&self) {
        self.changed.notify_all();
        let through = self.lock().done_through;
        self.progress.send_replace(through);
    }

    /// Where the mirror writes, for people.
    pub(crate) fn target_name(&self) -> &str {
        &self.target_name
    }

    pub(crate) fn status(&self) -> PartStatus {
        let queue = self.lock();
        let state = if !queue.checked && queue.behind_since.is_none() {
            BackupState::Checking
        } else if queue.behind_since.is_some() {
            BackupState::Behind
        } else {
            BackupState::UpToDate
        };
        PartStatus {
            state,
            behind_since: queue.behind_since.map(rfc3339),
            pending_changes: queue.pending.len() as u64,
            pending_bytes: queue.pending_bytes,
            last_backup_at: queue.last_success.map(rfc3339),
            last_error: queue.behind_since.and(queue.last_error.clone()),
        }
    }
}

/// ldk-node's store, mirrored (see the module's doc). Built once per node.
pub struct MirroredStore {
    local: SqliteStore,
    mirror: Arc<Mirror>,
}

impl MirroredStore {
    fn queue_change(
        &self,
        primary: &str,
        secondary: &str,
        key: &str,
        bytes: u64,
    ) -> Option<(u64, String)> {
        mirrored(primary, secondary, key).then(|| {
            let name = entry_name(primary, secondary, key);
            (self.mirror.enqueue(name.clone(), bytes), name)
        })
    }
}

type Fut<T> = Pin<Box<dyn Future<Output = std::result::Result<T, io::Error>> + Send>>;

impl KVStoreSync for MirroredStore {
    fn read(&self, primary: &str, secondary: &str, key: &str) -> io::Result<Vec<u8>> {
        KVStoreSync::read(&self.local, primary, secondary, key)
    }

    fn write(&self, primary: &str, secondary: &str, key: &str, buf: Vec<u8>) -> io::Result<()> {
        let bytes = buf.len() as u64;
        KVStoreSync::write(&self.local, primary, secondary, key, buf)?;
        if let Some((seq, name)) = self.queue_change(primary, secondary, key, bytes) {
            self.mirror.wait_blocking(seq, &name);
        }
        Ok(())
    }

    fn remove(&self, primary: &str, secondary: &str, key: &str, lazy: bool) -> io::Result<()> {
        KVStoreSync::remove(&self.local, primary, secondary, key, lazy)?;
        // A removal need not be waited for: an entry still on the target is one the node
        // dropped (an old monitor update, a pruned payment), which a restore may carry harmlessly.
        self.queue_change(primary, secondary, key, 0);
        Ok(())
    }

    fn list(&self, primary: &str, secondary: &str) -> io::Result<Vec<String>> {
        KVStoreSync::list(&self.local, primary, secondary)
    }
}

impl KVStore for MirroredStore {
    fn read(&self, primary: &str, secondary: &str, key: &str) -> Fut<Vec<u8>> {
        KVStore::read(&self.local, primary, secondary, key)
    }

    fn write(&self, primary: &str, secondary: &str, key: &str, buf: Vec<u8>) -> Fut<()> {
        let bytes = buf.len() as u64;
        // The local write is ordered (ldk-node's store numbers it) when called, as LDK requires.
        let local = KVStore::write(&self.local, primary, secondary, key, buf);
        let queued = mirrored(primary, secondary, key).then(|| entry_name(primary, secondary, key));
        let mirror = self.mirror.clone();
        Box::pin(async move {
            local.await?;
            if let Some(name) = queued {
                let seq = mirror.enqueue(name.clone(), bytes);
                mirror.wait(seq, &name).await;
            }
            Ok(())
        })
    }

    fn remove(&self, primary: &str, secondary: &str, key: &str, lazy: bool) -> Fut<()> {
        let local = KVStore::remove(&self.local, primary, secondary, key, lazy);
        let queued = mirrored(primary, secondary, key).then(|| entry_name(primary, secondary, key));
        let mirror = self.mirror.clone();
        Box::pin(async move {
            local.await?;
            if let Some(name) = queued {
                mirror.enqueue(name, 0);
            }
            Ok(())
        })
    }

    fn list(&self, primary: &str, secondary: &str) -> Fut<Vec<String>> {
        KVStore::list(&self.local, primary, secondary)
    }
}

/// The running mirror: the store to build the node with, its status, and the worker thread.
pub struct Running {
    /// The store for `Builder::build_with_store`.
    pub store: Arc<MirroredStore>,
    pub(crate) mirror: Arc<Mirror>,
    stop: CancellationToken,
    worker: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Running {
    /// Has the worker compare the whole store with what the target confirmed again, after a
    /// change made beside the mirror while the node was stopped.
    pub(crate) fn recheck(&self) {
        self.mirror
            .recheck
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.mirror.work.notify_one();
    }

    /// Stops the worker after it sent what is queued, or after `grace`, whichever comes first;
    /// at once if the target is failing (what is queued is sent at the next start).
    pub fn stop(&self, grace: Duration) {
        let deadline = std::time::Instant::now() + grace;
        while std::time::Instant::now() < deadline {
            let queue = self.mirror.lock();
            // Behind only because it is catching up (at start) is no reason to stop early.
            let failing = queue.behind_since.is_some() && queue.last_error.is_some();
            if (queue.checked && queue.pending.is_empty()) || failing {
                break;
            }
            drop(queue);
            std::thread::sleep(Duration::from_millis(20));
        }
        self.stop.cancel();
        self.mirror.work.notify_one();
        let handle = self.worker.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(handle) = handle {
            if handle.join().is_err() {
                tracing::error!("the backup worker panicked");
            }
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.cancel();
        self.mirror.work.notify_one();
    }
}

/// ldk-node's own SQLite store in `ldk_dir` (the file and table its `build()` uses), created if
/// new.
pub(crate) fn open_local_store(ldk_dir: &Path) -> Result<SqliteStore> {
    std::fs::create_dir_all(ldk_dir)
        .map_err(|e| Error::io(format!("creating {}", ldk_dir.display()), e))?;
    SqliteStore::new(
        ldk_dir.to_path_buf(),
        Some(SQLITE_DB_FILE_NAME.to_string()),
        Some(KV_TABLE_NAME.to_string()),
    )
    .map_err(|e| {
        Error::io(
            format!("opening the node's store in {}", ldk_dir.display()),
            e.into(),
        )
    })
}

/// Opens the node's local store in `ldk_dir` and starts mirroring it to `target`.
pub fn start(ldk_dir: &Path, target: Target, sealer: Sealer) -> Result<Running> {
    let local = open_local_store(ldk_dir)?;
    let (progress, _) = tokio::sync::watch::channel(0);
    let mirror = Arc::new(Mirror {
        queue: Mutex::new(Queue::default()),
        changed: Condvar::new(),
        progress,
        work: tokio::sync::Notify::new(),
        target_name: target.describe(),
        recheck: std::sync::atomic::AtomicBool::new(false),
    });
    let store = Arc::new(MirroredStore {
        local,
        mirror: mirror.clone(),
    });
    let stop = CancellationToken::new();
    let worker = Worker {
        mirror: mirror.clone(),
        store: store.clone(),
        target,
        sealer,
        ldk_dir: ldk_dir.to_path_buf(),
        stop: stop.clone(),
    };
    let handle = std::thread::Builder::new()
        .name("payaiml-backup".into())
        .spawn(move || worker.run())
        .map_err(|e| Error::io("starting the backup worker".to_string(), e))?;
    Ok(Running {
        store,
        mirror,
        stop,
        worker: Mutex::new(Some(handle)),
    })
}

/// Sends queued changes to the target, one at a time, on a thread of its own (so a writer
/// waiting for the target never holds up the runtime that would send it).
struct Worker {
    mirror: Arc<Mirror>,
    store: Arc<MirroredStore>,
    target: Target,
    sealer: Sealer,
    ldk_dir: PathBuf,
    stop: CancellationToken,
}

impl Worker {
    fn run(self) {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => {
                let mut queue = self.mirror.lock();
                queue.behind_since = Some(now_ms());
                queue.last_error = Some(format!("the backup worker could not start: {e}"));
                return;
            }
        };
        runtime.block_on(self.work());
    }

    async fn work(&self) {
        let mut pause = Duration::from_secs(1);
        let acked = loop {
            match self.check().await {
                Ok(acked) => break acked,
                Err(e) => {
                    self.fail(&e);
                    if self.rest(&mut pause).await {
                        return;
                    }
                }
            }
        };
        pause = Duration::from_secs(1);
        loop {
            if self.stop.is_cancelled() {
                return;
            }
            if self
                .mirror
                .recheck
                .swap(false, std::sync::atomic::Ordering::SeqCst)
            {
                if let Err(e) = self.check().await {
                    self.mirror
                        .recheck
                        .store(true, std::sync::atomic::Ordering::SeqCst);
                    self.fail(&e);
                    if self.rest(&mut pause).await {
                        return;
                    }
                    continue;
                }
            }
            let next = self
                .mirror
                .lock()
                .pending
                .first_key_value()
                .map(|(s, n)| (*s, n.clone()));
            let Some((seq, name)) = next else {
                tokio::select! {
                    _ = self.mirror.work.notified() => {}
                    _ = self.stop.cancelled() => return,
                }
                continue;
            };
            match self.send(&acked, seq, &name).await {
                Ok(()) => {
                    pause = Duration::from_secs(1);
                    let mut queue = self.mirror.lock();
                    if queue.by_name.get(&name).map(|(s, _)| *s) == Some(seq) {
                        if let Some((_, bytes)) = queue.by_name.remove(&name) {
                            queue.pending_bytes = queue.pending_bytes.saturating_sub(bytes);
                        }
                        queue.pending.remove(&seq);
                    }
                    queue.last_success = Some(now_ms());
                    queue.settle();
                    drop(queue);
                    self.mirror.notify();
                }
                Err(e) => {
                    self.fail(&e);
                    if self.rest(&mut pause).await {
                        return;
                    }
                }
            }
        }
    }

    /// Marks the mirror behind, releasing every waiting writer.
    fn fail(&self, e: &Error) {
        let mut queue = self.mirror.lock();
        if queue.behind_since.is_none() {
            tracing::warn!(error = %e, "the backup target is not keeping up; changes wait on this computer until it does");
        }
        queue.behind_since.get_or_insert_with(now_ms);
        queue.last_error = Some(e.to_string());
        drop(queue);
        self.mirror.notify();
    }

    /// Waits `pause` (doubling it for next time); true if the worker is stopping.
    async fn rest(&self, pause: &mut Duration) -> bool {
        let stopped = tokio::select! {
            _ = tokio::time::sleep(*pause) => false,
            _ = self.stop.cancelled() => true,
        };
        *pause = (*pause * 2).min(MAX_RETRY);
        stopped
    }

    /// Sends the entry's current local value (or its removal) and records the confirmation.
    async fn send(&self, acked: &Acked, seq: u64, name: &str) -> Result<()> {
        let Some((primary, secondary, key)) = split_name(name) else {
            return Ok(());
        };
        let object = self.sealer.seal_name(name);
        match KVStoreSync::read(&self.store.local, primary, secondary, key) {
            Ok(value) => {
                let digest = digest(&value);
                if acked.get(name).await? == Some(digest) {
                    return Ok(());
                }
                let sealed = self.sealer.seal(name, value, seq);
                self.target.put(&object, sealed).await?;
                acked.set(name, Some(digest)).await
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.target.delete(&object).await?;
                acked.set(name, None).await
            }
            Err(e) => Err(Error::io(
                format!("reading {name} from the node's store"),
                e.into(),
            )),
        }
    }

    /// Queues every local entry the target has not confirmed as it is now, and every confirmed
    /// entry that is gone locally. Run once at each start: nothing queued before a crash is lost.
    async fn check(&self) -> Result<Acked> {
        let acked = Acked::open(&self.ldk_dir.join(STATE_FILE)).await?;
        acked.for_place(&place(&self.target, &self.sealer)).await?;
        // What the target holds now: a target wiped or replaced since (a new disk in the NAS, a
        // server restored from an old dump) gets every entry it lacks again.
        let held: std::collections::HashSet<String> =
            self.target.list().await?.into_iter().collect();
        let mut confirmed = acked.all().await?;
        let lost: Vec<String> = confirmed
            .keys()
            .filter(|name| !held.contains(&self.sealer.seal_name(name)))
            .cloned()
            .collect();
        if !lost.is_empty() {
            tracing::warn!(
                entries = lost.len(),
                "the backup target lacks entries it had confirmed; they are sent again"
            );
        }
        for name in &lost {
            // Forgotten, so that sending compares with nothing and sends.
            acked.set(name, None).await?;
            confirmed.remove(name);
        }
        let local = local_digests(&self.ldk_dir.join(SQLITE_DB_FILE_NAME)).await?;
        let mut queue = self.mirror.lock();
        for (name, (digest, bytes)) in &local {
            if confirmed.get(name) != Some(digest) && !queue.by_name.contains_key(name) {
                queue.enqueue(name.clone(), *bytes);
            }
        }
        for name in confirmed.keys() {
            if !local.contains_key(name) && !queue.by_name.contains_key(name) {
                queue.enqueue(name.clone(), 0);
            }
        }
        queue.checked = true;
        if !queue.pending.is_empty() && queue.behind_since.is_none() {
            queue.behind_since = Some(now_ms());
        }
        queue.settle();
        drop(queue);
        self.mirror.notify();
        Ok(acked)
    }
}

/// The target and the wallet's store id on it, as the records of what it holds name them.
pub(crate) fn place(target: &Target, sealer: &Sealer) -> String {
    format!("{}#{}", target.describe(), sealer.store_id())
}

fn digest(value: &[u8]) -> [u8; 32] {
    Sha256::digest(value).into()
}

/// Every mirrored entry of the node's store, with the digest and size of its value.
async fn local_digests(path: &Path) -> Result<HashMap<String, ([u8; 32], u64)>> {
    use sqlx::sqlite::SqliteConnectOptions;
    use sqlx::{ConnectOptions, Connection, Row};
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .connect()
        .await?;
    let rows = sqlx::query(&format!(
        "SELECT primary_namespace, secondary_namespace, key, value FROM {KV_TABLE_NAME}"
    ))
    .fetch_all(&mut conn)
    .await?;
    conn.close().await?;
    let mut out = HashMap::with_capacity(rows.len());
    for row in rows {
        let (p, s, k): (String, String, String) =
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        let value: Vec<u8> = row.try_get::<Option<Vec<u8>>, _>(3)?.unwrap_or_default();
        if mirrored(&p, &s, &k) {
            out.insert(entry_name(&p, &s, &k), (digest(&value), value.len() as u64));
        }
    }
    Ok(out)
}

/// What the target has confirmed: each entry's digest as last sent. Losing a row (a power cut
/// right after a send) only means the entry is sent again.
pub(crate) struct Acked {
    pool: sqlx::SqlitePool,
}

impl Acked {
    pub(crate) async fn open(path: &Path) -> Result<Acked> {
        use sqlx::sqlite::{
            SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
        };
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        for sql in [
            "CREATE TABLE IF NOT EXISTS acked (name TEXT PRIMARY KEY NOT NULL, digest BLOB NOT NULL)",
            "CREATE TABLE IF NOT EXISTS place (id INTEGER PRIMARY KEY CHECK (id = 1), place TEXT NOT NULL)",
        ] {
            sqlx::query(sql).execute(&pool).await?;
        }
        Ok(Acked { pool })
    }

    /// Says which target (and store id) the confirmations are from: when it is not the one they
    /// were recorded for (the merchant chose another target), none of them counts.
    pub(crate) async fn for_place(&self, place: &str) -> Result<()> {
        let recorded: Option<String> = sqlx::query_scalar("SELECT place FROM place WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?;
        if recorded.as_deref() != Some(place) {
            if recorded.is_some() {
                tracing::info!("a new backup target: every entry of the node's store goes to it");
            }
            sqlx::query("DELETE FROM acked").execute(&self.pool).await?;
            sqlx::query("INSERT INTO place (id, place) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET place = excluded.place")
                .bind(place)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    async fn all(&self) -> Result<HashMap<String, [u8; 32]>> {
        let rows: Vec<(String, Vec<u8>)> = sqlx::query_as("SELECT name, digest FROM acked")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(name, d)| <[u8; 32]>::try_from(d.as_slice()).ok().map(|d| (name, d)))
            .collect())
    }

    async fn get(&self, name: &str) -> Result<Option<[u8; 32]>> {
        let row: Option<Vec<u8>> = sqlx::query_scalar("SELECT digest FROM acked WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.and_then(|d| <[u8; 32]>::try_from(d.as_slice()).ok()))
    }

    pub(crate) async fn set(&self, name: &str, digest: Option<[u8; 32]>) -> Result<()> {
        match digest {
            Some(d) => {
                sqlx::query("INSERT INTO acked (name, digest) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET digest = excluded.digest")
                    .bind(name)
                    .bind(&d[..])
                    .execute(&self.pool)
                    .await?;
            }
            None => {
                sqlx::query("DELETE FROM acked WHERE name = ?")
                    .bind(name)
                    .execute(&self.pool)
                    .await?;
            }
        }
        Ok(())
    }

    pub(crate) async fn close(self) {
        self.pool.close().await;
    }
}
