//! The SQLite store: connection pool, embedded migrations, per-install settings, and the
//! cursor pagination every list shares. Only the core reaches the database: front doors go
//! through the domain handles of [`crate::App`].

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use crate::error::{Error, Result};

mod batch;

pub(crate) use batch::{Batcher, ConnFuture};

/// A handle on the database. Cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct Store {
    pool: SqlitePool,
    /// One connection for the writes that come many at once (see [`Store::writer`]).
    writer: SqlitePool,
    /// The queue that commits many requests' writes together on `writer` (see [`Batcher`]).
    batch: Batcher,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    ///
    /// WAL lets the CLI (`payaimld keys …`) write while the daemon runs; `synchronous = FULL`
    /// because a committed payment or event must survive a power cut, not only a crash.
    pub async fn open(path: &Path) -> Result<Self> {
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        let batch = Batcher::start(writer.clone());
        Ok(Store {
            pool,
            writer,
            batch,
        })
    }

    /// The connection pool.
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The one connection that the writes which come many at once go through: invoices made,
    /// node events recorded, invoices expired, keys' last use. They queue here, each starting
    /// the moment the one before ended, instead of meeting SQLite's write lock on different
    /// connections and sleeping in its busy handler, which backs off up to 100 ms at a time (16
    /// clients making invoices saw a p99 over 100 ms). Never await it while holding it.
    pub(crate) fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    /// The writes that many requests make at once and that may share a transaction: invoices
    /// made. Each caller hears back once its write has committed.
    pub(crate) fn batch(&self) -> &Batcher {
        &self.batch
    }

    /// A transaction that holds SQLite's write lock from its start. A deferred transaction that
    /// reads before it writes fails at once with `SQLITE_BUSY` (no busy timeout applies: its
    /// snapshot is stale) when another connection wrote in between; taking the lock first makes
    /// it wait its turn instead. (`BEGIN IMMEDIATE` would say this directly; sqlx 0.8.0, pinned
    /// for the SQLite link, opens every transaction with a plain `BEGIN`.)
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        let mut tx = self.writer.begin().await?;
        // A write that changes nothing: SQLite takes the write lock when a writing statement
        // starts, whatever its WHERE clause.
        sqlx::query("UPDATE events SET seq = seq WHERE 0")
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }

    /// Reads a setting.
    pub async fn setting(&self, name: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT value FROM settings WHERE name = ?")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Writes a setting.
    pub async fn set_setting(&self, name: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO settings (name, value) VALUES (?, ?)
             ON CONFLICT(name) DO UPDATE SET value = excluded.value",
        )
        .bind(name)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Writes a setting only if it is not set yet, and returns the value in effect.
    pub async fn setting_or_insert(&self, name: &str, value: &str) -> Result<String> {
        sqlx::query(
            "INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT(name) DO NOTHING",
        )
        .bind(name)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(
            sqlx::query_scalar("SELECT value FROM settings WHERE name = ?")
                .bind(name)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Closes every connection (checkpointing the WAL).
    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }
}

/// A page of a list, newest first.
#[derive(Debug)]
pub struct Page<T> {
    /// The items.
    pub data: Vec<T>,
    /// The cursor for the next page, if there is one.
    pub next_cursor: Option<String>,
}

/// The `seq` before which a list continues: a `next_cursor` from an earlier page, or the start.
pub(crate) fn parse_cursor(cursor: Option<&str>) -> Result<i64> {
    match cursor {
        None | Some("") => Ok(i64::MAX),
        Some(c) => c.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
            Error::invalid(
                "cursor",
                "cursor must be a next_cursor value from an earlier page",
            )
        }),
    }
}

/// A row that has a place in its table's order.
pub(crate) trait Sequenced {
    /// Its `seq`.
    fn seq(&self) -> i64;
}

/// Turns up to `limit + 1` rows (newest first) into a page of `limit`, whose cursor is the last
/// row's `seq` when there was one more.
pub(crate) fn page<R: Sequenced, T>(rows: Vec<R>, limit: i64, map: impl FnMut(R) -> T) -> Page<T> {
    let more = rows.len() as i64 > limit;
    let kept: Vec<R> = rows.into_iter().take(limit.max(0) as usize).collect();
    let next_cursor = if more {
        kept.last().map(|r| r.seq().to_string())
    } else {
        None
    };
    Page {
        data: kept.into_iter().map(map).collect(),
        next_cursor,
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    /// A fresh migrated store in a temp dir; keep the dir alive as long as the store.
    pub async fn temp_store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("t.sqlite"))
            .await
            .expect("open store");
        (dir, store)
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::temp_store;
    use super::{page, parse_cursor, Sequenced};

    #[test]
    fn cursor_must_be_positive_number() {
        assert_eq!(parse_cursor(None).ok(), Some(i64::MAX));
        assert_eq!(parse_cursor(Some("42")).ok(), Some(42));
        assert!(parse_cursor(Some("abc")).is_err());
        assert!(parse_cursor(Some("-1")).is_err());
    }

    impl Sequenced for i64 {
        fn seq(&self) -> i64 {
            *self
        }
    }

    #[test]
    fn a_page_has_a_cursor_only_when_more_follow() {
        let full = page(vec![9, 8, 7], 2, |s| s);
        assert_eq!(
            (full.data, full.next_cursor),
            (vec![9, 8], Some("8".into()))
        );
        let last = page(vec![9, 8], 2, |s| s);
        assert_eq!((last.data, last.next_cursor), (vec![9, 8], None));
    }

    #[tokio::test]
    async fn settings_insert_once() -> crate::Result<()> {
        let (_dir, store) = temp_store().await;
        assert_eq!(store.setting("x").await?, None);
        assert_eq!(store.setting_or_insert("x", "1").await?, "1");
        assert_eq!(store.setting_or_insert("x", "2").await?, "1");
        store.set_setting("x", "3").await?;
        assert_eq!(store.setting("x").await?.as_deref(), Some("3"));
        Ok(())
    }

    /// Why the event task takes the write lock first: a transaction that has read, and then
    /// writes after another connection committed, is refused at once (busy timeout or not);
    /// one opened with `begin_write` makes the other writer wait instead.
    #[tokio::test]
    async fn a_write_transaction_that_reads_first_waits_its_turn() -> crate::Result<()> {
        let (_dir, store) = temp_store().await;
        let mut plain = store.pool().begin().await?;
        sqlx::query("SELECT count(*) FROM settings")
            .fetch_one(&mut *plain)
            .await?;
        store.set_setting("other", "1").await?;
        let refused = sqlx::query("INSERT INTO settings (name, value) VALUES ('mine', '1')")
            .execute(&mut *plain)
            .await;
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.to_string().contains("locked")),
            "{refused:?}"
        );
        drop(plain);

        let mut first = store.begin_write().await?;
        sqlx::query("SELECT count(*) FROM settings")
            .fetch_one(&mut *first)
            .await?;
        let other = {
            let store = store.clone();
            tokio::spawn(async move { store.set_setting("other", "2").await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert!(!other.is_finished(), "the other writer waits for the lock");
        sqlx::query("INSERT INTO settings (name, value) VALUES ('mine', '1')")
            .execute(&mut *first)
            .await?;
        first.commit().await?;
        other.await.expect("task")?;
        assert_eq!(store.setting("mine").await?.as_deref(), Some("1"));
        assert_eq!(store.setting("other").await?.as_deref(), Some("2"));
        Ok(())
    }
}
