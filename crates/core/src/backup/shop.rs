//! The shop's own data, backed up beside the node's channel state: the app's database (invoices,
//! payments, events, API keys' metadata, webhooks and their deliveries, the catalog, settings,
//! everything the reports read) and the secrets it uses (API keys', webhooks', the LSP's token).
//!
//! A *base* and a *journal*:
//!
//! - While a target is set, triggers append the primary key of every row inserted, updated or
//!   deleted to `backup_journal`, in the same transaction as the change: nothing that committed
//!   escapes the journal, whatever crashes afterwards.
//! - A worker reads the journal every [`POLL`], reads the current value of each row it names (all
//!   in one read transaction, so a segment is one consistent moment), and sends them as one sealed
//!   *segment* named after its base and its first journal entry. Once the target holds it, those
//!   journal entries are removed; a crash between the two sends the segment again under the same
//!   name, replacing the earlier copy.
//! - A *base* (a consistent copy of the whole database by SQLite's `VACUUM INTO`, sealed in parts
//!   of [`PART_BYTES`]) is sent for a new target, after a schema change, after a start that found
//!   the triggers missing (changes made meanwhile were not journaled), and when the segments since
//!   the last base outgrow it (compaction). Each change otherwise costs the rows it touched: at
//!   1,000,000 invoices a new invoice sends one invoice row and its event, not the database.
//! - A restore takes the base, then applies that base's segments in the order they were sent
//!   (each row's value as read when its segment was sent; the last one wins), then writes the
//!   secrets. A new base removes every other base's parts and segments.
//!
//! The recovery point: while the target answers, a change is on it within [`POLL`] plus one round
//! trip (measured in `shop_tests`); while it is away, changes wait in the journal, the status
//! says since when and how many, and they go when it returns.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::sqlite::{SqliteArguments, SqliteConnectOptions, SqliteRow};
use sqlx::{Column, Connection, Row, SqliteConnection, TypeInfo, ValueRef};
use tokio_util::sync::CancellationToken;

use super::seal::Sealer;
use super::target::Target;
use super::{BackupState, PartStatus};
use crate::error::{Error, Result};
use crate::store::Store;
use crate::util::{now_ms, rfc3339};

/// How often the worker looks for new changes.
pub const POLL: Duration = Duration::from_millis(500);
/// The longest pause between retries while the target is away.
const MAX_RETRY: Duration = Duration::from_secs(30);
/// Journal entries read at once (one segment at most).
const BATCH: i64 = 5_000;
/// A segment stops growing past this many bytes of rows.
const SEGMENT_BYTES: usize = 4 << 20;
/// The size of each sealed part of a base.
const PART_BYTES: usize = 8 << 20;
/// Segments since the base may grow to the base's size, and at least to this, before a new base.
const MIN_COMPACTION_BYTES: u64 = 16 << 20;

const MANIFEST: &str = "shop/manifest";
const SECRETS: &str = "shop/secrets";
/// `shop/seg/<base id>/<first journal entry>`: a segment belongs to the base it was sent after,
/// and a segment sent again after a crash (same first entry) replaces the earlier copy.
const SEGMENT: &str = "shop/seg/";
const BASE: &str = "shop/base/";
/// The format of the manifest, segments and secrets: a restore refuses what it does not know.
const FORMAT: u32 = 1;

/// Tables that are not the shop's data: SQLite's and sqlx's own, and the backup's.
const NOT_JOURNALED: [&str; 4] = [
    "_sqlx_migrations",
    "sqlite_sequence",
    "backup_journal",
    "backup_shop",
];
/// Gives the secrets the shop's data uses, by name (the API keys', the webhooks', the LSP's
/// token; not the node's seed, which the words are, nor the backup's own token, which a restore
/// is given). The app provides it, so this module needs nothing of the domains that name them.
pub type SecretsSource = Arc<
    dyn Fn() -> std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<BTreeMap<String, String>>> + Send>,
        > + Send
        + Sync,
>;

/// Tables whose rows name secrets: a change to one sends the secrets again.
const NAMES_SECRETS: [&str; 3] = ["api_keys", "webhooks", "settings"];
const TRIGGER_PREFIX: &str = "backup_journal_";

/// What the target holds of the shop's data: which base, from which journal entry on.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct Manifest {
    format: u32,
    /// The base's id (its parts are `shop/base/<id>/<n>`).
    base: String,
    parts: u32,
    bytes: u64,
    /// Every journal entry up to this one is in the base.
    base_seq: i64,
    /// The database schema's version (the last migration) the base has.
    schema: i64,
    made_at: String,
}

/// What this computer remembers of the base it sent (in `backup_shop`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct LocalBase {
    /// The target and store id it went to.
    place: String,
    manifest: Manifest,
}

/// One row as a segment carries it: its table, its primary key, and its columns' values, or none
/// when it was deleted.
#[derive(Debug, Serialize, Deserialize)]
struct RowImage {
    t: String,
    k: Vec<Value>,
    v: Option<BTreeMap<String, Value>>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Segment {
    format: u32,
    first: i64,
    last: i64,
    rows: Vec<RowImage>,
}

/// What the shop's data part of the backup is doing, for the status.
#[derive(Default)]
struct State {
    checked: bool,
    behind_since: Option<i64>,
    last_error: Option<String>,
    last_success: Option<i64>,
    pending: u64,
}

/// The backup of the shop's data, running. Cheap to share.
pub struct ShopBackup {
    state: Mutex<State>,
    target_name: String,
}

impl std::fmt::Debug for ShopBackup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShopBackup")
            .field("target", &self.target_name)
            .finish_non_exhaustive()
    }
}

impl ShopBackup {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A backup that could not start (its target could not be opened): shown as behind, with
    /// why, while the journal keeps every change for when it can.
    pub(crate) fn failed(target_name: String, error: &Error) -> ShopBackup {
        ShopBackup {
            state: Mutex::new(State {
                behind_since: Some(now_ms()),
                last_error: Some(error.to_string()),
                ..State::default()
            }),
            target_name,
        }
    }

    /// Where it goes, for people.
    pub fn target_name(&self) -> &str {
        &self.target_name
    }

    /// How current the shop's data is on the target.
    pub fn status(&self) -> PartStatus {
        let state = self.lock();
        PartStatus {
            state: if state.behind_since.is_some() {
                BackupState::Behind
            } else if !state.checked {
                BackupState::Checking
            } else {
                BackupState::UpToDate
            },
            behind_since: state.behind_since.map(rfc3339),
            pending_changes: state.pending,
            pending_bytes: 0,
            last_backup_at: state.last_success.map(rfc3339),
            last_error: state.behind_since.and(state.last_error.clone()),
        }
    }
}

/// The primary key columns of `table` (its rowid when it has none).
async fn key_columns(conn: &mut SqliteConnection, table: &str) -> Result<Vec<String>> {
    let columns: Vec<(String,)> =
        sqlx::query_as("SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk")
            .bind(table)
            .fetch_all(&mut *conn)
            .await?;
    if columns.is_empty() {
        // A rowid is not a stable identity (VACUUM may renumber it): a table must have a key.
        return Err(Error::Backup(format!(
            "the table {table} has no primary key, which the shop data's backup needs"
        )));
    }
    Ok(columns.into_iter().map(|(c,)| c).collect())
}

/// The shop's tables, today.
async fn journaled_tables(conn: &mut SqliteConnection) -> Result<Vec<String>> {
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(tables
        .into_iter()
        .map(|(t,)| t)
        .filter(|t| !NOT_JOURNALED.contains(&t.as_str()))
        .collect())
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Makes the journal's triggers for the tables of today when `backing_up`, or removes them (and
/// what they journaled) when not. Returns whether every trigger was already in place, that is
/// whether every change since the last start was journaled; when not, the next backup starts
/// with a new base.
pub(crate) async fn prepare(store: &Store, backing_up: bool) -> Result<bool> {
    let mut tx = store.begin_write().await?;
    let existing: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'backup\\_journal\\_%' ESCAPE '\\'",
    )
    .fetch_all(&mut *tx)
    .await?;
    let existing: HashSet<String> = existing.into_iter().map(|(n,)| n).collect();
    for name in &existing {
        sqlx::query(&format!("DROP TRIGGER {}", quoted(name)))
            .execute(&mut *tx)
            .await?;
    }
    if !backing_up {
        if !existing.is_empty() {
            sqlx::query("DELETE FROM backup_journal")
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM backup_shop")
                .execute(&mut *tx)
                .await?;
            tracing::info!("no backup target: the shop data's journal is off");
        }
        tx.commit().await?;
        return Ok(false);
    }
    let mut expected = HashSet::new();
    for table in journaled_tables(&mut tx).await? {
        let keys = key_columns(&mut tx, &table).await?;
        let of = |row: &str| {
            keys.iter()
                .map(|k| format!("{row}.{}", quoted(k)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let literal = table.replace('\'', "''");
        let (new, old) = (of("NEW"), of("OLD"));
        let journal = |key: &str| {
            format!("INSERT INTO backup_journal (tbl, pk) VALUES ('{literal}', json_array({key}));")
        };
        for (suffix, when, body) in [
            ("ins", "AFTER INSERT", journal(&new)),
            (
                "upd",
                "AFTER UPDATE",
                // A key that changed leaves its old row behind: that one is journaled too.
                format!(
                    "{} INSERT INTO backup_journal (tbl, pk) SELECT '{literal}', json_array({old}) WHERE json_array({old}) IS NOT json_array({new});",
                    journal(&new)
                ),
            ),
            ("del", "AFTER DELETE", journal(&old)),
        ] {
            let name = format!("{TRIGGER_PREFIX}{table}_{suffix}");
            sqlx::query(&format!(
                "CREATE TRIGGER {} {when} ON {} BEGIN {body} END",
                quoted(&name),
                quoted(&table)
            ))
            .execute(&mut *tx)
            .await?;
            expected.insert(name);
        }
    }
    let whole = expected == existing;
    if !whole {
        // Changes made without the journal are only in a new base.
        sqlx::query("DELETE FROM backup_shop WHERE name = 'base'")
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(whole)
}

/// Starts backing the shop's data up to `target` (after [`prepare`]), until `stop`. Returns the
/// handle the status is read from, and the worker to run.
pub(crate) fn start(
    store: Store,
    secrets: SecretsSource,
    data_dir: &Path,
    target: Target,
    sealer: Sealer,
    stop: CancellationToken,
) -> (
    Arc<ShopBackup>,
    impl std::future::Future<Output = ()> + Send + 'static,
) {
    let shop = Arc::new(ShopBackup {
        state: Mutex::new(State::default()),
        target_name: target.describe(),
    });
    let worker = Worker {
        shop: shop.clone(),
        place: super::mirror::place(&target, &sealer),
        store,
        secrets,
        scratch: data_dir.join("backup-base.sqlite.partial"),
        target,
        sealer,
        stop,
        secrets_dirty: true,
        confirmed: false,
    };
    (shop, worker.run())
}

struct Worker {
    shop: Arc<ShopBackup>,
    /// The target and store id, as the local record of the base names them.
    place: String,
    store: Store,
    secrets: SecretsSource,
    /// Where a base is copied before it is sealed.
    scratch: PathBuf,
    target: Target,
    sealer: Sealer,
    stop: CancellationToken,
    /// The secrets may have changed since they were last sent.
    secrets_dirty: bool,
    /// The target was seen to hold this computer's base (asked once per start).
    confirmed: bool,
}

enum Pass {
    /// Nothing was waiting.
    Idle,
    /// Something was sent; more may wait.
    Sent,
}

impl Worker {
    async fn run(mut self) {
        let mut pause = Duration::from_secs(1);
        loop {
            let stopping = self.stop.is_cancelled();
            let pass = if stopping {
                // Quitting: what is journaled goes now if the target answers at once.
                match tokio::time::timeout(Duration::from_secs(8), self.drain()).await {
                    Ok(done) => done.map(|()| Pass::Idle),
                    Err(_) => Err(Error::Backup("quitting before the target answered".into())),
                }
            } else {
                self.pass().await
            };
            match pass {
                Ok(Pass::Sent) => {
                    pause = Duration::from_secs(1);
                    continue;
                }
                Ok(Pass::Idle) => {
                    pause = Duration::from_secs(1);
                    let mut state = self.shop.lock();
                    state.checked = true;
                    state.behind_since = None;
                    state.last_error = None;
                    state.pending = 0;
                    state.last_success.get_or_insert_with(now_ms);
                }
                Err(e) => self.fail(&e).await,
            }
            if stopping {
                return;
            }
            if self.shop.lock().behind_since.is_none() {
                tokio::select! {
                    _ = tokio::time::sleep(POLL) => {}
                    _ = self.stop.cancelled() => {}
                }
                continue;
            }
            // Behind: the next try after `pause`, the count of waiting changes kept current
            // meanwhile.
            let retry_at = tokio::time::Instant::now() + pause;
            pause = (pause * 2).min(MAX_RETRY);
            while tokio::time::Instant::now() < retry_at && !self.stop.is_cancelled() {
                self.count_pending().await;
                tokio::select! {
                    _ = tokio::time::sleep_until(retry_at.min(tokio::time::Instant::now() + POLL)) => {}
                    _ = self.stop.cancelled() => {}
                }
            }
        }
    }

    /// Counts what waits in the journal, for the status.
    async fn count_pending(&self) {
        let pending: Option<(i64,)> = sqlx::query_as("SELECT count(*) FROM backup_journal")
            .fetch_optional(self.store.pool())
            .await
            .ok()
            .flatten();
        if let Some((n,)) = pending {
            self.shop.lock().pending = u64::try_from(n).unwrap_or(0);
        }
    }

    async fn drain(&mut self) -> Result<()> {
        while let Pass::Sent = self.pass().await? {}
        Ok(())
    }

    async fn fail(&self, e: &Error) {
        {
            let mut state = self.shop.lock();
            if state.behind_since.is_none() {
                tracing::warn!(error = %e, "the shop data's backup is behind; changes wait in the journal until the target answers");
            }
            state.behind_since.get_or_insert_with(now_ms);
            state.last_error = Some(e.to_string());
        }
        self.count_pending().await;
    }

    /// One step: a base when one is due, the secrets when they changed, else one segment.
    async fn pass(&mut self) -> Result<Pass> {
        if !self.based().await? {
            self.send_base().await?;
            return Ok(Pass::Sent);
        }
        if self.secrets_dirty {
            self.send_secrets().await?;
            self.secrets_dirty = false;
        }
        self.send_segment().await
    }

    async fn local(&self, name: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT value FROM backup_shop WHERE name = ?")
                .bind(name)
                .fetch_optional(self.store.pool())
                .await?,
        )
    }

    async fn set_local(&self, name: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO backup_shop (name, value) VALUES (?, ?)
             ON CONFLICT(name) DO UPDATE SET value = excluded.value",
        )
        .bind(name)
        .bind(value)
        .execute(self.store.pool())
        .await?;
        Ok(())
    }

    async fn local_base(&self) -> Result<Option<LocalBase>> {
        Ok(self
            .local("base")
            .await?
            .and_then(|json| serde_json::from_str(&json).ok()))
    }

    /// Whether the target holds the base this computer sent, of today's schema, with segments not
    /// yet outgrowing it. Asks the target once per start (it may have been wiped or replaced).
    async fn based(&mut self) -> Result<bool> {
        let Some(base) = self.local_base().await? else {
            return Ok(false);
        };
        if base.place != self.place || base.manifest.schema != schema(&self.store).await? {
            return Ok(false);
        }
        let grown: u64 = self
            .local("segment_bytes")
            .await?
            .and_then(|b| b.parse().ok())
            .unwrap_or(0);
        if grown > base.manifest.bytes.max(MIN_COMPACTION_BYTES) {
            return Ok(false);
        }
        if !self.confirmed {
            let held = self.get_sealed::<Manifest>(MANIFEST).await?;
            if held.as_ref() != Some(&base.manifest) {
                tracing::info!(
                    "the backup target does not hold this computer's base of the shop data; sending a new one"
                );
                return Ok(false);
            }
            self.confirmed = true;
        }
        Ok(true)
    }

    async fn get_sealed<T: for<'de> Deserialize<'de>>(&self, name: &str) -> Result<Option<T>> {
        let Some(sealed) = self.target.get(&self.sealer.seal_name(name)).await? else {
            return Ok(None);
        };
        let (value, _) = self.sealer.open(name, &sealed)?;
        Ok(Some(serde_json::from_slice(&value).map_err(|e| {
            Error::Backup(format!("the backup's {name} is damaged: {e}"))
        })?))
    }

    async fn put_sealed(&self, name: &str, value: Vec<u8>, seq: i64) -> Result<()> {
        let sealed = self
            .sealer
            .seal(name, value, u64::try_from(seq).unwrap_or(0));
        self.target.put(&self.sealer.seal_name(name), sealed).await
    }

    /// Copies the whole database consistently, sends it in sealed parts, then the manifest that
    /// names it, then removes the older base and the segments it holds.
    async fn send_base(&mut self) -> Result<()> {
        let started = std::time::Instant::now();
        let _ = std::fs::remove_file(&self.scratch);
        let scratch = self.scratch.to_string_lossy().into_owned();
        sqlx::query("VACUUM INTO ?")
            .bind(&scratch)
            .execute(self.store.pool())
            .await?;
        let result = self.send_copy().await;
        let _ = std::fs::remove_file(&self.scratch);
        let manifest = result?;
        tracing::info!(
            bytes = manifest.bytes,
            parts = manifest.parts,
            ms = started.elapsed().as_millis() as u64,
            "sent a base of the shop's data to the backup"
        );
        self.secrets_dirty = true;
        Ok(())
    }

    async fn send_copy(&mut self) -> Result<Manifest> {
        // Every journal entry the copy saw is in it: the highest number handed out so far.
        let base_seq = {
            let mut copy = open_file(&self.scratch, false).await?;
            let seq: Option<i64> =
                sqlx::query_scalar("SELECT seq FROM sqlite_sequence WHERE name = 'backup_journal'")
                    .fetch_optional(&mut copy)
                    .await?;
            copy.close().await?;
            seq.unwrap_or(0)
        };
        let id = crate::util::random_lower(12);
        let mut parts = 0u32;
        let mut bytes = 0u64;
        {
            // Part by part from the copy: a large shop's database never sits in memory whole.
            use std::io::Read;
            let reading = |e| Error::io(format!("reading {}", self.scratch.display()), e);
            let mut copy = std::fs::File::open(&self.scratch).map_err(reading)?;
            loop {
                let mut part = Vec::with_capacity(PART_BYTES);
                (&mut copy)
                    .take(PART_BYTES as u64)
                    .read_to_end(&mut part)
                    .map_err(reading)?;
                if part.is_empty() {
                    break;
                }
                bytes += part.len() as u64;
                self.put_sealed(&format!("{BASE}{id}/{parts}"), part, base_seq)
                    .await?;
                parts += 1;
            }
        }
        let manifest = Manifest {
            format: FORMAT,
            base: id.clone(),
            parts,
            bytes,
            base_seq,
            schema: schema(&self.store).await?,
            made_at: rfc3339(now_ms()),
        };
        let json = serde_json::to_vec(&manifest)
            .map_err(|e| Error::Backup(format!("cannot write the manifest: {e}")))?;
        self.put_sealed(MANIFEST, json, base_seq).await?;
        let local = LocalBase {
            place: self.place.clone(),
            manifest: manifest.clone(),
        };
        let json = serde_json::to_string(&local)
            .map_err(|e| Error::Backup(format!("cannot record the base: {e}")))?;
        self.set_local("base", &json).await?;
        self.set_local("segment_bytes", "0").await?;
        self.confirmed = true;
        // The secrets go again with every base (the target may be a new one).
        sqlx::query("DELETE FROM backup_shop WHERE name = 'secrets_digest'")
            .execute(self.store.pool())
            .await?;
        sqlx::query("DELETE FROM backup_journal WHERE seq <= ?")
            .bind(base_seq)
            .execute(self.store.pool())
            .await?;
        // What the new base replaces: older bases, and segments that end inside it.
        for (object, name) in self.objects().await? {
            // Another base's parts and segments: none of them is applied after this base.
            let stale = match parse_name(&name) {
                Some(Object::Base(other)) | Some(Object::Segment(other, _)) => other != id,
                None => false,
            };
            if stale {
                self.target.delete(&object).await?;
            }
        }
        Ok(manifest)
    }

    /// The target's objects of the shop's data, with their names.
    async fn objects(&self) -> Result<Vec<(String, String)>> {
        Ok(self
            .target
            .list()
            .await?
            .into_iter()
            .filter_map(|o| {
                let name = self.sealer.open_name(&o).ok()?;
                name.starts_with("shop/").then_some((o, name))
            })
            .collect())
    }

    /// Sends the secrets the shop's data uses, when they differ from those last sent.
    async fn send_secrets(&mut self) -> Result<()> {
        let bundle = (self.secrets)().await?;
        let json = serde_json::to_vec(&bundle)
            .map_err(|e| Error::Backup(format!("cannot write the secrets: {e}")))?;
        let digest = hex::encode(Sha256::digest(&json));
        if self.local("secrets_digest").await?.as_deref() == Some(digest.as_str()) {
            return Ok(());
        }
        self.put_sealed(SECRETS, json, 0).await?;
        self.set_local("secrets_digest", &digest).await
    }

    /// Sends the rows the journal names (up to [`BATCH`] entries) as one segment.
    async fn send_segment(&mut self) -> Result<Pass> {
        let mut tx = self.store.pool().begin().await?;
        let entries: Vec<(i64, String, String)> =
            sqlx::query_as("SELECT seq, tbl, pk FROM backup_journal ORDER BY seq LIMIT ?")
                .bind(BATCH)
                .fetch_all(&mut *tx)
                .await?;
        let (Some(first), Some(last)) = (entries.first(), entries.last()) else {
            return Ok(Pass::Idle);
        };
        let first = first.0;
        let mut last = last.0;
        let mut seen = HashSet::new();
        let mut rows = Vec::new();
        let mut size = 0usize;
        let mut keys = HashMap::new();
        for (seq, table, key) in &entries {
            if size > SEGMENT_BYTES {
                last = seq - 1;
                break;
            }
            if !seen.insert((table.clone(), key.clone())) {
                continue;
            }
            let key: Vec<Value> = serde_json::from_str(key).map_err(|e| {
                Error::Backup(format!("a journal entry of {table} is damaged: {e}"))
            })?;
            if !keys.contains_key(table) {
                let columns = key_columns(&mut tx, table).await?;
                keys.insert(table.clone(), columns);
            }
            let columns = &keys[table];
            let value = read_row(&mut tx, table, columns, &key).await?;
            size += value
                .as_ref()
                .map(|v| v.values().map(value_size).sum::<usize>())
                .unwrap_or(8);
            if NAMES_SECRETS.contains(&table.as_str()) {
                self.secrets_dirty = true;
            }
            rows.push(RowImage {
                t: table.clone(),
                k: key,
                v: value,
            });
        }
        tx.rollback().await?;
        let segment = Segment {
            format: FORMAT,
            first,
            last,
            rows,
        };
        let json = serde_json::to_vec(&segment)
            .map_err(|e| Error::Backup(format!("cannot write a segment: {e}")))?;
        let sent = json.len() as u64;
        let base = self
            .local_base()
            .await?
            .ok_or_else(|| Error::Backup("a segment before any base".into()))?;
        self.put_sealed(
            &format!("{SEGMENT}{}/{first:020}", base.manifest.base),
            json,
            last,
        )
        .await?;
        sqlx::query("DELETE FROM backup_journal WHERE seq <= ?")
            .bind(last)
            .execute(self.store.pool())
            .await?;
        let grown: u64 = self
            .local("segment_bytes")
            .await?
            .and_then(|b| b.parse().ok())
            .unwrap_or(0);
        self.set_local("segment_bytes", &(grown + sent).to_string())
            .await?;
        let mut state = self.shop.lock();
        state.last_success = Some(now_ms());
        Ok(Pass::Sent)
    }
}

/// A rough size of a value, to bound a segment.
fn value_size(v: &Value) -> usize {
    match v {
        Value::String(s) => s.len() + 2,
        Value::Object(o) => o.values().map(value_size).sum::<usize>() + 8,
        _ => 8,
    }
}

/// The schema's version: the last migration applied.
async fn schema(store: &Store) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT COALESCE(max(version), 0) FROM _sqlx_migrations")
            .fetch_one(store.pool())
            .await?,
    )
}

fn bind_value<'q>(
    query: sqlx::query::Query<'q, sqlx::Sqlite, SqliteArguments<'q>>,
    value: &Value,
) -> Result<sqlx::query::Query<'q, sqlx::Sqlite, SqliteArguments<'q>>> {
    Ok(match value {
        Value::Null => query.bind(None::<i64>),
        Value::Bool(b) => query.bind(i64::from(*b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => query.bind(i),
            None => query.bind(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => query.bind(s.clone()),
        Value::Object(o) => match o.get("blob").and_then(Value::as_str) {
            Some(b64) => {
                use base64::Engine;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map_err(|e| Error::Backup(format!("a backed-up value is damaged: {e}")))?;
                query.bind(bytes)
            }
            None => return Err(Error::Backup("a backed-up value is damaged".into())),
        },
        Value::Array(_) => return Err(Error::Backup("a backed-up value is damaged".into())),
    })
}

fn key_clause(columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| format!("{} IS ?", quoted(c)))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// The current value of one row, column by column, or `None` if it is gone.
async fn read_row(
    conn: &mut SqliteConnection,
    table: &str,
    columns: &[String],
    key: &[Value],
) -> Result<Option<BTreeMap<String, Value>>> {
    let sql = format!(
        "SELECT * FROM {} WHERE {}",
        quoted(table),
        key_clause(columns)
    );
    let mut query = sqlx::query(&sql);
    for value in key {
        query = bind_value(query, value)?;
    }
    let Some(row) = query.fetch_optional(&mut *conn).await? else {
        return Ok(None);
    };
    Ok(Some(row_values(&row)?))
}

fn row_values(row: &SqliteRow) -> Result<BTreeMap<String, Value>> {
    use base64::Engine;
    let mut values = BTreeMap::new();
    for (i, column) in row.columns().iter().enumerate() {
        let raw = row.try_get_raw(i)?;
        let value = if raw.is_null() {
            Value::Null
        } else {
            match raw.type_info().name() {
                "INTEGER" => Value::from(row.try_get_unchecked::<i64, _>(i)?),
                "REAL" => Value::from(row.try_get_unchecked::<f64, _>(i)?),
                "BLOB" => {
                    let bytes = row.try_get_unchecked::<Vec<u8>, _>(i)?;
                    serde_json::json!({ "blob": base64::engine::general_purpose::STANDARD.encode(bytes) })
                }
                _ => Value::from(row.try_get_unchecked::<String, _>(i)?),
            }
        };
        values.insert(column.name().to_string(), value);
    }
    Ok(values)
}

enum Object {
    /// A part of the base with this id.
    Base(String),
    /// A segment sent after the base with this id, from this journal entry on.
    Segment(String, i64),
}

fn parse_name(name: &str) -> Option<Object> {
    if let Some(rest) = name.strip_prefix(BASE) {
        return rest
            .split_once('/')
            .map(|(id, _)| Object::Base(id.to_string()));
    }
    let (base, first) = name.strip_prefix(SEGMENT)?.split_once('/')?;
    Some(Object::Segment(base.to_string(), first.parse().ok()?))
}

async fn open_file(path: &Path, create: bool) -> Result<SqliteConnection> {
    let options = SqliteConnectOptions::from_str("sqlite:")?
        .filename(path)
        .create_if_missing(create)
        // Rows are written back in the order they were sent, not their tables' order.
        .foreign_keys(false);
    Ok(SqliteConnection::connect_with(&options).await?)
}

/// What a restore of the shop's data brought back.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, Default)]
pub struct ShopRestored {
    /// When the base was made (RFC 3339).
    pub base_made_at: String,
    /// Segments applied after the base.
    pub segments: u64,
    /// Invoices in the restored data.
    pub invoices: u64,
    /// Outgoing payments in it.
    pub payments: u64,
    /// Live API keys in it.
    pub api_keys: u64,
    /// Webhook endpoints in it.
    pub webhooks: u64,
    /// Secrets written back to this computer's secret store.
    pub secrets: u64,
}

/// What [`fetch`] found: the database, rebuilt in a file, and the secrets to write.
pub struct Fetched {
    /// The rebuilt database (not yet in place).
    pub file: PathBuf,
    /// The secrets, by name.
    pub secrets: BTreeMap<String, String>,
    /// What came back.
    pub restored: ShopRestored,
}

/// Rebuilds the shop's database from `target` into `file` (replaced if there): the base, then
/// every segment that ends after it. `None` when the target holds no shop data for these words
/// (a backup of the channel state only).
pub async fn fetch(target: &Target, sealer: &Sealer, file: &Path) -> Result<Option<Fetched>> {
    let get = |name: String| async move {
        let sealed = target.get(&sealer.seal_name(&name)).await?.ok_or_else(|| {
            Error::Backup(format!(
                "the backup lacks {name} (it was being replaced, or is damaged): try again"
            ))
        })?;
        sealer.open(&name, &sealed).map(|(value, _)| value)
    };
    let Some(sealed) = target.get(&sealer.seal_name(MANIFEST)).await? else {
        return Ok(None);
    };
    let (json, _) = sealer.open(MANIFEST, &sealed)?;
    let manifest: Manifest = serde_json::from_slice(&json)
        .map_err(|e| Error::Backup(format!("the backup's manifest is damaged: {e}")))?;
    if manifest.format != FORMAT {
        return Err(Error::Backup(format!(
            "the backup's shop data is in format {}, which this version does not read: update the app",
            manifest.format
        )));
    }
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
    // Part by part to the file: a large shop's database never sits in memory whole.
    let written = {
        use std::io::Write;
        let writing = |e| Error::io(format!("writing {}", file.display()), e);
        let mut out = std::fs::File::create(file).map_err(writing)?;
        let mut written = 0u64;
        for part in 0..manifest.parts {
            let bytes = get(format!("{BASE}{}/{part}", manifest.base)).await?;
            out.write_all(&bytes).map_err(writing)?;
            written += bytes.len() as u64;
        }
        out.sync_all().map_err(writing)?;
        written
    };
    if written != manifest.bytes {
        return Err(Error::Backup(
            "the backup's copy of the shop data is incomplete: try again".into(),
        ));
    }

    // This base's segments, in the order they were sent (their first journal entries grow).
    let mut segments: Vec<(i64, String)> = target
        .list()
        .await?
        .into_iter()
        .filter_map(|o| {
            let name = sealer.open_name(&o).ok()?;
            match parse_name(&name)? {
                Object::Segment(base, first) if base == manifest.base => Some((first, name)),
                _ => None,
            }
        })
        .collect();
    segments.sort();
    let mut conn = open_file(file, false).await?;
    let mut restored = ShopRestored {
        base_made_at: manifest.made_at.clone(),
        ..ShopRestored::default()
    };
    let mut keys: HashMap<String, Vec<String>> = HashMap::new();
    for (_, name) in &segments {
        let json = get(name.clone()).await?;
        let segment: Segment = serde_json::from_slice(&json)
            .map_err(|e| Error::Backup(format!("the backup's {name} is damaged: {e}")))?;
        if segment.last <= manifest.base_seq {
            continue;
        }
        let mut tx = conn.begin().await?;
        for row in &segment.rows {
            if !keys.contains_key(&row.t) {
                let columns = key_columns(&mut tx, &row.t).await?;
                keys.insert(row.t.clone(), columns);
            }
            apply_row(&mut tx, row, &keys[&row.t]).await?;
        }
        tx.commit().await?;
        restored.segments += 1;
    }
    // This computer's journal and record of the base start afresh (its first base replaces
    // every object of the old computer's).
    for sql in ["DELETE FROM backup_journal", "DELETE FROM backup_shop"] {
        sqlx::query(sql).execute(&mut conn).await?;
    }
    for (count, sql) in [
        (&mut restored.invoices, "SELECT count(*) FROM invoices"),
        (&mut restored.payments, "SELECT count(*) FROM payments"),
        (
            &mut restored.api_keys,
            "SELECT count(*) FROM api_keys WHERE revoked_at IS NULL",
        ),
        (&mut restored.webhooks, "SELECT count(*) FROM webhooks"),
    ] {
        let n: i64 = sqlx::query_scalar(sql).fetch_one(&mut conn).await?;
        *count = u64::try_from(n).unwrap_or(0);
    }
    conn.close().await?;

    let secrets = match target.get(&sealer.seal_name(SECRETS)).await? {
        Some(sealed) => {
            let (json, _) = sealer.open(SECRETS, &sealed)?;
            serde_json::from_slice(&json)
                .map_err(|e| Error::Backup(format!("the backup's secrets are damaged: {e}")))?
        }
        None => BTreeMap::new(),
    };
    restored.secrets = secrets.len() as u64;
    Ok(Some(Fetched {
        file: file.to_path_buf(),
        secrets,
        restored,
    }))
}

async fn apply_row(conn: &mut SqliteConnection, row: &RowImage, keys: &[String]) -> Result<()> {
    match &row.v {
        Some(values) => {
            let columns: Vec<String> = values.keys().map(|c| quoted(c)).collect();
            let sql = format!(
                "INSERT OR REPLACE INTO {} ({}) VALUES ({})",
                quoted(&row.t),
                columns.join(", "),
                vec!["?"; columns.len()].join(", ")
            );
            let mut query = sqlx::query(&sql);
            for value in values.values() {
                query = bind_value(query, value)?;
            }
            query.execute(&mut *conn).await?;
        }
        None => {
            let sql = format!("DELETE FROM {} WHERE {}", quoted(&row.t), key_clause(keys));
            let mut query = sqlx::query(&sql);
            for value in &row.k {
                query = bind_value(query, value)?;
            }
            query.execute(&mut *conn).await?;
        }
    }
    Ok(())
}
