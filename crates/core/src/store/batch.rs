//! Group commit: writes that many requests make at once share one transaction, and so one
//! fsync. Each caller still hears back only after the transaction that holds its write has
//! committed, so a write a caller was told of is as durable as before; a kill before the commit
//! loses only writes nobody was told of.
//!
//! Why: with `synchronous = FULL` every commit waits for the disk, and the disk is shared with
//! ldk-node's store, which an invoice writes first. At 16 clients making invoices, half the
//! disk's flushes were the app's one-row commits; queued behind the one writer connection, they
//! capped the rate. A write that arrives while a commit runs now waits for the next one, with
//! every other write that arrived meanwhile. Alone, a write commits at once, as before.

use std::future::Future;
use std::pin::Pin;

use sqlx::{Acquire, SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use crate::error::{Error, Result};

/// The most writes one transaction takes: enough for every client of a busy shop, few enough
/// that the first caller of a full batch does not wait long behind the others.
const MAX_BATCH: usize = 64;

/// A future borrowing the writer connection.
pub(crate) type ConnFuture<'c, T> = Pin<Box<dyn Future<Output = T> + Send + 'c>>;

/// One queued write: runs its statements, says whether they succeeded, and gives back what
/// reports the outcome once the batch's transaction has ended.
type Job =
    Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> ConnFuture<'c, (bool, Report)> + Send>;

/// Tells a caller how its write ended: given the commit's failure, if the commit failed.
type Report = Box<dyn FnOnce(Option<Error>) + Send>;

/// The queue in front of the writer connection. Cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct Batcher {
    queue: mpsc::UnboundedSender<Job>,
}

impl Batcher {
    /// Starts the task that commits the queue on `writer` (a pool of one connection). The task
    /// ends when the last `Batcher` is dropped.
    pub fn start(writer: SqlitePool) -> Batcher {
        let (queue, jobs) = mpsc::unbounded_channel();
        tokio::spawn(run(writer, jobs));
        Batcher { queue }
    }

    /// Runs `write` in the next transaction and returns its result once that transaction has
    /// committed. A write that fails is rolled back alone (to a savepoint), leaving the others
    /// of its batch to commit; its error is returned.
    pub async fn write<T, F>(&self, write: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> ConnFuture<'c, Result<T>> + Send + 'static,
    {
        let (done, answer) = oneshot::channel::<Result<T>>();
        let job: Job = Box::new(move |conn| {
            Box::pin(async move {
                let out = write(conn).await;
                let ok = out.is_ok();
                let report: Report = Box::new(move |failed: Option<Error>| {
                    let _ = done.send(match (out, failed) {
                        (Ok(_), Some(e)) => Err(e),
                        (out, _) => out,
                    });
                });
                (ok, report)
            })
        });
        self.queue.send(job).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn stopped() -> Error {
    Error::Database(sqlx::Error::PoolClosed)
}

async fn run(writer: SqlitePool, mut jobs: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let mut reports = Vec::with_capacity(batch.len());
        let failed = commit(&writer, batch, &mut reports).await.err();
        let mut failed = failed.map(|e| (e.to_string(), Some(e)));
        for report in reports {
            report(failed.as_mut().map(|(text, first)| {
                first.take().unwrap_or_else(|| {
                    Error::Database(sqlx::Error::Protocol(format!(
                        "the transaction this write was in did not commit: {text}"
                    )))
                })
            }));
        }
    }
}

/// Runs `batch` in one transaction, each job after a savepoint when there are several, and
/// commits. Every job that ran has its report pushed to `reports`, to be called after; a job
/// that never ran (the connection failed first) is dropped, and its caller hears that the
/// writer stopped.
async fn commit(writer: &SqlitePool, batch: Vec<Job>, reports: &mut Vec<Report>) -> Result<()> {
    let mut conn = writer.acquire().await?;
    let mut tx = conn.begin().await?;
    // The write lock first, whatever each job does first (see `Store::begin_write`).
    sqlx::query("UPDATE events SET seq = seq WHERE 0")
        .execute(&mut *tx)
        .await?;
    if let [_] = batch.as_slice() {
        for job in batch {
            let (ok, report) = job(&mut tx).await;
            reports.push(report);
            if !ok {
                tx.rollback().await?;
                return Ok(());
            }
        }
    } else {
        for job in batch {
            let mut savepoint = tx.begin().await?;
            let (ok, report) = job(&mut savepoint).await;
            reports.push(report);
            if ok {
                savepoint.commit().await?;
            } else {
                savepoint.rollback().await?;
            }
        }
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sqlx::SqliteConnection;

    use super::ConnFuture;
    use crate::store::test_support::temp_store;
    use crate::store::Store;

    fn insert(
        name: &'static str,
    ) -> impl for<'c> FnOnce(&'c mut SqliteConnection) -> ConnFuture<'c, crate::Result<u64>>
           + Send
           + 'static {
        move |conn| {
            Box::pin(async move {
                Ok(
                    sqlx::query("INSERT INTO settings (name, value) VALUES (?, '1')")
                        .bind(name)
                        .execute(conn)
                        .await?
                        .rows_affected(),
                )
            })
        }
    }

    fn queue(store: &Store, name: &'static str) -> tokio::task::JoinHandle<crate::Result<u64>> {
        let store = store.clone();
        tokio::spawn(async move { store.batch().write(insert(name)).await })
    }

    /// Writes queued while a commit waits go together; one that fails is rolled back alone,
    /// says why, and the others of its transaction commit and are readable on any connection
    /// once their callers hear back.
    #[tokio::test]
    async fn a_failed_write_leaves_the_rest_of_its_batch() -> crate::Result<()> {
        let (_dir, store) = temp_store().await;
        store.set_setting("taken", "0").await?;
        // Hold the writer so that what follows queues behind the first write.
        let held = store.writer().acquire().await?;
        let first = queue(&store, "first");
        tokio::time::sleep(Duration::from_millis(100)).await;
        let rest = [
            queue(&store, "a"),
            queue(&store, "taken"),
            queue(&store, "b"),
        ];
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            rest.iter().all(|t| !t.is_finished()),
            "nothing commits while the writer is held"
        );
        drop(held);
        assert_eq!(first.await.expect("task")?, 1);
        let [a, taken, b] = rest;
        assert_eq!(a.await.expect("task")?, 1);
        let refused = taken.await.expect("task");
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.to_string().contains("UNIQUE")),
            "{refused:?}"
        );
        assert_eq!(b.await.expect("task")?, 1);
        for name in ["first", "a", "b"] {
            assert_eq!(store.setting(name).await?.as_deref(), Some("1"), "{name}");
        }
        assert_eq!(store.setting("taken").await?.as_deref(), Some("0"));
        Ok(())
    }

    /// A write alone that fails leaves nothing behind and the queue goes on.
    #[tokio::test]
    async fn a_lone_failed_write_is_rolled_back() -> crate::Result<()> {
        let (_dir, store) = temp_store().await;
        let both = store
            .batch()
            .write(|conn| {
                Box::pin(async move {
                    sqlx::query("INSERT INTO settings (name, value) VALUES ('x', '1')")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("INSERT INTO settings (name, value) VALUES ('x', '2')")
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                })
            })
            .await;
        assert!(both.is_err());
        assert_eq!(store.setting("x").await?, None);
        assert_eq!(store.batch().write(insert("y")).await?, 1);
        Ok(())
    }
}
