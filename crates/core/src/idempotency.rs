//! `Idempotency-Key` records: the first response to a (key, Idempotency-Key) pair is stored and
//! replayed for retries of the same request; a different request under the same pair is refused.

use crate::error::{Error, Result};
use crate::store::Store;
use crate::util::now_ms;

/// How long a record is kept.
const KEEP_MS: i64 = 24 * 3600 * 1000;
/// A record still "in progress" after this long belongs to a request that died with the process.
const ABANDONED_MS: i64 = 60 * 1000;

/// What to do with a request that carries an `Idempotency-Key`.
#[derive(Debug, PartialEq, Eq)]
pub enum Begin {
    /// First time: run it, then call [`finish`] (or [`forget`] on a server error).
    Fresh,
    /// Seen before: answer with this stored status and JSON body.
    Replay {
        /// HTTP status.
        status: u16,
        /// JSON body.
        body: String,
    },
}

/// The idempotency records, reached through `app.idempotency()`. Cheap to clone: a request's
/// answer is stored by a task that outlives the request.
#[derive(Clone)]
pub struct Idempotency {
    store: Store,
}

impl Idempotency {
    pub(crate) fn new(store: Store) -> Self {
        Idempotency { store }
    }

    /// Claims `(key_id, idem_key)` for a request identified by `route` and `request_hash`.
    pub async fn begin(
        &self,
        key_id: &str,
        idem_key: &str,
        route: &str,
        request_hash: &str,
    ) -> Result<Begin> {
        begin(&self.store, key_id, idem_key, route, request_hash).await
    }

    /// Stores the response of a fresh request.
    pub async fn finish(
        &self,
        key_id: &str,
        idem_key: &str,
        status: u16,
        body: &str,
    ) -> Result<()> {
        finish(&self.store, key_id, idem_key, status, body).await
    }

    /// Drops the record of a request that failed on our side, so that a retry runs again.
    pub async fn forget(&self, key_id: &str, idem_key: &str) -> Result<()> {
        forget(&self.store, key_id, idem_key).await
    }
}

/// Checks the `Idempotency-Key` value itself.
pub fn validate_key(value: &str) -> Result<()> {
    if value.is_empty() || value.len() > 255 || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::invalid(
            "Idempotency-Key",
            "Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID works well)",
        ));
    }
    Ok(())
}

/// Claims `(key_id, idem_key)` for a request identified by `route` and `request_hash`.
pub(crate) async fn begin(
    store: &Store,
    key_id: &str,
    idem_key: &str,
    route: &str,
    request_hash: &str,
) -> Result<Begin> {
    let now = now_ms();
    sqlx::query("DELETE FROM idempotency WHERE created_at < ?")
        .bind(now - KEEP_MS)
        .execute(store.pool())
        .await?;
    let inserted = sqlx::query(
        "INSERT INTO idempotency (key_id, idem_key, route, request_hash, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(key_id, idem_key) DO NOTHING",
    )
    .bind(key_id)
    .bind(idem_key)
    .bind(route)
    .bind(request_hash)
    .bind(now)
    .execute(store.pool())
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(Begin::Fresh);
    }
    let (stored_route, stored_hash, status, body, created_at): (
        String,
        String,
        Option<i64>,
        Option<String>,
        i64,
    ) = sqlx::query_as(
        "SELECT route, request_hash, status, response, created_at FROM idempotency
             WHERE key_id = ? AND idem_key = ?",
    )
    .bind(key_id)
    .bind(idem_key)
    .fetch_one(store.pool())
    .await?;
    if stored_route != route || stored_hash != request_hash {
        return Err(Error::IdempotencyConflict(
            "this Idempotency-Key was already used with a different request; use a new key for a new request".into(),
        ));
    }
    match (status, body) {
        (Some(status), Some(body)) => Ok(Begin::Replay {
            status: status as u16,
            body,
        }),
        _ if now - created_at > ABANDONED_MS => {
            sqlx::query("UPDATE idempotency SET created_at = ? WHERE key_id = ? AND idem_key = ?")
                .bind(now)
                .bind(key_id)
                .bind(idem_key)
                .execute(store.pool())
                .await?;
            Ok(Begin::Fresh)
        }
        _ => Err(Error::IdempotencyConflict(
            "a request with this Idempotency-Key is still being processed; retry in a moment"
                .into(),
        )),
    }
}

/// Stores the response of a fresh request.
pub(crate) async fn finish(
    store: &Store,
    key_id: &str,
    idem_key: &str,
    status: u16,
    body: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE idempotency SET status = ?, response = ? WHERE key_id = ? AND idem_key = ?",
    )
    .bind(status as i64)
    .bind(body)
    .bind(key_id)
    .bind(idem_key)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// Drops the record of a request that failed on our side, so that a retry runs again.
pub(crate) async fn forget(store: &Store, key_id: &str, idem_key: &str) -> Result<()> {
    sqlx::query("DELETE FROM idempotency WHERE key_id = ? AND idem_key = ?")
        .bind(key_id)
        .bind(idem_key)
        .execute(store.pool())
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::temp_store;

    #[tokio::test]
    async fn replay_conflict_and_in_progress() -> Result<()> {
        let (_dir, store) = temp_store().await;
        assert_eq!(
            begin(&store, "k", "i1", "POST /x", "h").await?,
            Begin::Fresh
        );
        assert!(matches!(
            begin(&store, "k", "i1", "POST /x", "h").await,
            Err(Error::IdempotencyConflict(_))
        ));
        finish(&store, "k", "i1", 201, "{}").await?;
        assert_eq!(
            begin(&store, "k", "i1", "POST /x", "h").await?,
            Begin::Replay {
                status: 201,
                body: "{}".into()
            }
        );
        assert!(matches!(
            begin(&store, "k", "i1", "POST /x", "other").await,
            Err(Error::IdempotencyConflict(_))
        ));
        assert_eq!(
            begin(&store, "k2", "i1", "POST /x", "other").await?,
            Begin::Fresh
        );
        forget(&store, "k2", "i1").await?;
        assert_eq!(
            begin(&store, "k2", "i1", "POST /x", "other").await?,
            Begin::Fresh
        );
        assert!(validate_key("").is_err());
        assert!(validate_key("a b").is_err());
        assert!(validate_key("550e8400-e29b-41d4-a716-446655440000").is_ok());
        Ok(())
    }
}
