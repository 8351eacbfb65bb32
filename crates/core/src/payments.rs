//! Outgoing payments: their rows, the daily budget, and state changes from node events.

use serde::{Deserialize, Serialize};
use sqlx::{Row, SqliteConnection};

use crate::error::{Error, Result};
use crate::invoices::{page, parse_cursor, Page};
use crate::store::Store;
use crate::util::rfc3339;

/// A request to pay a BOLT11 invoice, as the API receives it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayInvoice {
    /// The BOLT11 string (a `lightning:` prefix is accepted).
    #[schema(min_length = 1)]
    pub invoice: String,
    /// Amount in sats, only for any-amount invoices.
    #[schema(minimum = 1, maximum = 2_100_000_000_000_000_i64)]
    pub amount: Option<i64>,
    /// The most this payment may cost in routing fees, in sats. Default: the server's cap
    /// (10 sat + 1 % of the amount unless configured otherwise).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 2_100_000_000_000_000_i64)]
    pub max_fee: Option<i64>,
}

/// A payment as the API returns it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Payment {
    /// `pay_…`
    pub id: String,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    /// Amount sent to the payee, in sats.
    pub amount: u64,
    /// Routing fee paid, in sats (rounded up), once known.
    pub fee: Option<u64>,
    /// Exact amount in millisatoshis.
    pub amount_msat: u64,
    /// Exact fee in millisatoshis.
    pub fee_msat: Option<u64>,
    /// The most this payment was allowed to cost in routing fees, in sats (rounded up).
    pub max_fee: Option<u64>,
    /// The same cap in millisatoshis.
    pub max_fee_msat: Option<u64>,
    /// Hex payment hash.
    pub payment_hash: String,
    /// Hex preimage: the proof of payment, once succeeded.
    pub preimage: Option<String>,
    /// The BOLT11 string paid.
    pub invoice: String,
    /// The invoice's description.
    pub description: Option<String>,
    /// The payee's node id.
    pub destination: Option<String>,
    /// Why it failed.
    pub failure_reason: Option<String>,
    /// When it was sent.
    pub created_at: String,
    /// When it settled or failed.
    pub completed_at: Option<String>,
}

pub(crate) struct NewPaymentRow<'a> {
    pub id: &'a str,
    pub payment_hash: &'a str,
    pub amount_msat: u64,
    pub max_fee_msat: u64,
    pub invoice: &'a str,
    pub description: Option<&'a str>,
    pub destination: Option<&'a str>,
    pub created_at: i64,
    pub key_id: Option<&'a str>,
}

/// Inserts a pending payment. A live (pending or succeeded) payment of the same hash makes this a
/// [`Error::DuplicatePayment`].
pub(crate) async fn insert_pending(store: &Store, row: NewPaymentRow<'_>) -> Result<()> {
    let existing: Option<String> =
        sqlx::query_scalar("SELECT id FROM payments WHERE payment_hash = ? AND status != 'failed'")
            .bind(row.payment_hash)
            .fetch_optional(store.pool())
            .await?;
    if let Some(payment_id) = existing {
        return Err(Error::DuplicatePayment { payment_id });
    }
    sqlx::query(
        "INSERT INTO payments (id, payment_hash, status, amount_msat, max_fee_msat, invoice,
             description, destination, created_at, key_id)
         VALUES (?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(row.id)
    .bind(row.payment_hash)
    .bind(row.amount_msat as i64)
    .bind(row.max_fee_msat as i64)
    .bind(row.invoice)
    .bind(row.description)
    .bind(row.destination)
    .bind(row.created_at)
    .bind(row.key_id)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// Millisatoshis the key has spent since `since_ms`: amount and real fee of what succeeded, amount
/// and fee cap of what is still pending (its fee is not known yet, and may be anything up to the
/// cap). Failed payments cost nothing.
pub(crate) async fn spent_msat_since(store: &Store, key_id: &str, since_ms: i64) -> Result<u64> {
    let msat: Option<i64> = sqlx::query_scalar(
        "SELECT SUM(amount_msat + CASE status
                    WHEN 'pending' THEN MAX(COALESCE(max_fee_msat, 0), COALESCE(fee_msat, 0))
                    ELSE COALESCE(fee_msat, 0) END)
         FROM payments WHERE key_id = ? AND created_at >= ? AND status != 'failed'",
    )
    .bind(key_id)
    .bind(since_ms)
    .fetch_one(store.pool())
    .await?;
    Ok(msat.unwrap_or(0).max(0) as u64)
}

const COLUMNS: &str = "seq, id, payment_hash, status, amount_msat, fee_msat, max_fee_msat, \
     preimage, invoice, description, destination, failure_reason, created_at, completed_at";

/// One payment by id (`pay_…`) or payment hash (the newest attempt).
pub async fn get(store: &Store, id_or_hash: &str) -> Result<Payment> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM payments WHERE id = ?1 OR payment_hash = lower(?1) ORDER BY seq DESC LIMIT 1"
    ))
    .bind(id_or_hash)
    .fetch_optional(store.pool())
    .await?
    .ok_or_else(|| Error::NotFound { kind: "payment", id: id_or_hash.to_string() })?;
    from_row(&row)
}

/// Lists payments newest first, optionally by status.
pub async fn list(
    store: &Store,
    status: Option<&str>,
    limit: i64,
    cursor: Option<&str>,
) -> Result<Page<Payment>> {
    let before = parse_cursor(cursor)?;
    if let Some(s) = status {
        if !["pending", "succeeded", "failed"].contains(&s) {
            return Err(Error::invalid(
                "status",
                format!("unknown status '{s}': use pending, succeeded or failed"),
            ));
        }
    }
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM payments WHERE seq < ?1 AND (?3 IS NULL OR status = ?3)
         ORDER BY seq DESC LIMIT ?2"
    ))
    .bind(before)
    .bind(limit + 1)
    .bind(status)
    .fetch_all(store.pool())
    .await?;
    page(rows, limit, from_row)
}

/// A payment still pending, with what it takes to hand it to the node again after a restart.
pub(crate) struct PendingSend {
    pub id: String,
    pub payment_hash: String,
    pub invoice: String,
    pub amount_msat: u64,
    pub max_fee_msat: Option<u64>,
}

/// Payments still pending (to reconcile with the node after a restart), oldest first.
pub(crate) async fn pending(store: &Store) -> Result<Vec<PendingSend>> {
    let rows = sqlx::query(
        "SELECT id, payment_hash, invoice, amount_msat, max_fee_msat FROM payments
         WHERE status = 'pending' ORDER BY seq",
    )
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(PendingSend {
                id: r.try_get("id")?,
                payment_hash: r.try_get("payment_hash")?,
                invoice: r.try_get("invoice")?,
                amount_msat: r.try_get::<i64, _>("amount_msat")?.max(0) as u64,
                max_fee_msat: r
                    .try_get::<Option<i64>, _>("max_fee_msat")?
                    .map(|m| m.max(0) as u64),
            })
        })
        .collect()
}

/// Whether the payment `id` is still pending.
pub(crate) async fn is_pending(store: &Store, id: &str) -> Result<bool> {
    let row = sqlx::query("SELECT 1 FROM payments WHERE id = ?1 AND status = 'pending'")
        .bind(id)
        .fetch_optional(store.pool())
        .await?;
    Ok(row.is_some())
}

/// Marks the payment of `payment_hash` succeeded: the pending attempt, or else the newest failed
/// one (LDK can report success after a failure was recorded, e.g. a send that errored at once
/// while a retry went through). Returns it if this call changed it; nothing changes when an
/// attempt already succeeded.
pub(crate) async fn mark_succeeded(
    tx: &mut SqliteConnection,
    payment_hash: &str,
    fee_msat: Option<u64>,
    preimage: Option<&str>,
    at: i64,
) -> Result<Option<Payment>> {
    let row = sqlx::query(&format!(
        "UPDATE payments SET status = 'succeeded', fee_msat = ?1, preimage = ?2, completed_at = ?3,
             failure_reason = NULL
         WHERE seq = (SELECT seq FROM payments WHERE payment_hash = ?4 AND status != 'succeeded'
                      ORDER BY status = 'pending' DESC, seq DESC LIMIT 1)
           AND NOT EXISTS (SELECT 1 FROM payments WHERE payment_hash = ?4 AND status = 'succeeded')
         RETURNING {COLUMNS}"
    ))
    .bind(fee_msat.map(|f| f as i64))
    .bind(preimage)
    .bind(at)
    .bind(payment_hash)
    .fetch_optional(&mut *tx)
    .await?;
    row.map(|r| from_row(&r)).transpose()
}

/// Marks the pending payment of `payment_hash` failed. Returns it if this call changed it.
pub(crate) async fn mark_failed(
    tx: &mut SqliteConnection,
    payment_hash: &str,
    reason: &str,
    at: i64,
) -> Result<Option<Payment>> {
    let row = sqlx::query(&format!(
        "UPDATE payments SET status = 'failed', failure_reason = ?, completed_at = ?
         WHERE payment_hash = ? AND status = 'pending' RETURNING {COLUMNS}"
    ))
    .bind(reason)
    .bind(at)
    .bind(payment_hash)
    .fetch_optional(&mut *tx)
    .await?;
    row.map(|r| from_row(&r)).transpose()
}

fn from_row(row: &sqlx::sqlite::SqliteRow) -> Result<Payment> {
    let amount_msat = row.try_get::<i64, _>("amount_msat")?.max(0) as u64;
    let fee_msat: Option<i64> = row.try_get("fee_msat")?;
    let fee_msat = fee_msat.map(|f| f.max(0) as u64);
    let max_fee_msat: Option<i64> = row.try_get("max_fee_msat")?;
    let max_fee_msat = max_fee_msat.map(|f| f.max(0) as u64);
    let completed_at: Option<i64> = row.try_get("completed_at")?;
    Ok(Payment {
        id: row.try_get("id")?,
        status: row.try_get("status")?,
        amount: amount_msat.div_ceil(1000),
        fee: fee_msat.map(|f| f.div_ceil(1000)),
        amount_msat,
        fee_msat,
        max_fee: max_fee_msat.map(|f| f.div_ceil(1000)),
        max_fee_msat,
        payment_hash: row.try_get("payment_hash")?,
        preimage: row.try_get("preimage")?,
        invoice: row.try_get("invoice")?,
        description: row.try_get("description")?,
        destination: row.try_get("destination")?,
        failure_reason: row.try_get("failure_reason")?,
        created_at: rfc3339(row.try_get("created_at")?),
        completed_at: completed_at.map(rfc3339),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::temp_store;

    fn row<'a>(id: &'a str, hash: &'a str, key: &'a str, at: i64) -> NewPaymentRow<'a> {
        NewPaymentRow {
            id,
            payment_hash: hash,
            amount_msat: 1_500,
            max_fee_msat: 10_000,
            invoice: "lnbcrt…",
            description: None,
            destination: None,
            created_at: at,
            key_id: Some(key),
        }
    }

    #[tokio::test]
    async fn duplicate_until_failed_and_budget_counts_live_ones() -> Result<()> {
        let (_dir, store) = temp_store().await;
        insert_pending(&store, row("pay_a", "h1", "k", 100)).await?;
        let dup = insert_pending(&store, row("pay_b", "h1", "k", 100)).await;
        assert!(matches!(dup, Err(Error::DuplicatePayment { .. })));
        assert_eq!(
            spent_msat_since(&store, "k", 0).await?,
            11_500,
            "a pending payment counts with its fee cap"
        );

        let mut tx = store.pool().begin().await?;
        assert!(mark_failed(&mut tx, "h1", "no route", 200).await?.is_some());
        assert!(mark_failed(&mut tx, "h1", "no route", 200).await?.is_none());
        tx.commit().await?;
        assert_eq!(spent_msat_since(&store, "k", 0).await?, 0);

        insert_pending(&store, row("pay_c", "h1", "k", 300)).await?;
        let mut tx = store.pool().begin().await?;
        let done = mark_succeeded(&mut tx, "h1", Some(1), Some("aa"), 400).await?;
        tx.commit().await?;
        assert_eq!(done.map(|p| p.id), Some("pay_c".to_string()));
        assert_eq!(get(&store, "h1").await?.status, "succeeded");
        assert_eq!(
            spent_msat_since(&store, "k", 0).await?,
            1_501,
            "a settled payment counts with its real fee"
        );
        assert_eq!(list(&store, Some("failed"), 10, None).await?.data.len(), 1);
        Ok(())
    }

    /// LDK may report success for a payment already recorded as failed: it becomes succeeded
    /// (with its `payment.sent`), and a second report changes nothing.
    #[tokio::test]
    async fn failed_payment_can_still_succeed() -> Result<()> {
        let (_dir, store) = temp_store().await;
        insert_pending(&store, row("pay_a", "h2", "k", 100)).await?;
        let mut tx = store.pool().begin().await?;
        mark_failed(&mut tx, "h2", "send failed at once", 150).await?;
        let late = mark_succeeded(&mut tx, "h2", Some(2_000), Some("bb"), 200).await?;
        assert_eq!(
            late.map(|p| (p.id, p.status)),
            Some(("pay_a".into(), "succeeded".into()))
        );
        assert!(mark_succeeded(&mut tx, "h2", Some(2_000), Some("bb"), 300)
            .await?
            .is_none());
        tx.commit().await?;
        let paid = get(&store, "pay_a").await?;
        assert_eq!((paid.fee_msat, paid.failure_reason), (Some(2_000), None));
        assert_eq!(spent_msat_since(&store, "k", 0).await?, 3_500);
        Ok(())
    }
}
