//! Payment rows: the one column list, the row struct, the queries, and the daily-budget sum.

use sqlx::SqliteConnection;

use super::{Payment, PaymentStatus};
use crate::error::{Error, Result};
use crate::store::{page, parse_cursor, Page, Sequenced, Store};
use crate::util::{now_ms, rfc3339};

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
    /// The merchant's rate at the time, if fresh.
    pub fiat: Option<&'a crate::rates::Recorded>,
    /// The paid invoice this payment refunds, if it is a refund.
    pub refund_of: Option<&'a str>,
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
             description, destination, created_at, key_id, fiat_currency, fiat_rate, fiat_sources,
             fiat_rate_at, refund_of)
         VALUES (?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
    .bind(row.fiat.map(|f| f.currency.as_str()))
    .bind(row.fiat.map(|f| f.rate.to_string()))
    .bind(row.fiat.map(crate::rates::Recorded::sources_column))
    .bind(row.fiat.map(|f| f.rate_at))
    .bind(row.refund_of)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// Millisatoshis refunded or being refunded for the invoice `invoice_id`: refunds that
/// succeeded or are still pending, and those failed after a restart that LDK may still send
/// ([`Failure::Unsure`]); a refund that surely failed gave nothing back. The caller holds
/// `pay_lock`, so two refunds cannot both fit in what only one fits in.
pub(crate) async fn refunds_msat(store: &Store, invoice_id: &str) -> Result<u64> {
    // A refund failed after a restart may still succeed (its failure is not final): it counts
    // as being sent until LDK settles it, or until no HTLC could still be in flight.
    let msat: Option<i64> = sqlx::query_scalar(&format!(
        "SELECT SUM(amount_msat) FROM payments WHERE refund_of = ? AND {LIVE}"
    ))
    .bind(invoice_id)
    .bind(now_ms() - UNSURE_FAILURE_COUNTS_MS)
    .fetch_one(store.pool())
    .await?;
    Ok(msat.unwrap_or(0).max(0) as u64)
}

/// What payments cost, summed: amount and real fee of what succeeded, amount and fee cap of what
/// is still pending (its fee is not known yet, and may be anything up to the cap).
const SPENT: &str = "SELECT SUM(amount_msat + CASE status
        WHEN 'pending' THEN MAX(COALESCE(max_fee_msat, 0), COALESCE(fee_msat, 0))
        ELSE COALESCE(fee_msat, 0) END)
     FROM payments";

/// Whether a failure is LDK's last word about a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// LDK failed it (its event, its record, or a refusal before anything was sent).
    Final,
    /// Given up on after a restart while LDK may still have it in flight: it may yet succeed.
    Unsure,
}

/// How long a failure that is not final keeps counting as a refund being sent: longer than any
/// HTLC stays in flight (LDK's longest route is 1,008 blocks, about a week).
pub(crate) const UNSURE_FAILURE_COUNTS_MS: i64 = 14 * 24 * 3600 * 1000;

/// The payments that may still send money: all but those that surely failed. A failure that is
/// not final ([`Failure::Unsure`]) counts until no HTLC of it could still be in flight; binds
/// one parameter, the `created_at` after which such a failure still counts.
const LIVE: &str = "(status != 'failed' OR (failure_final = 0 AND created_at > ?))";

/// Millisatoshis the locked counter (any cashier's key, one per lock) refunded since `since_ms`,
/// counted like a key's spending: amount and real fee of what succeeded, amount and fee cap of
/// what is pending, nothing for what failed.
pub(crate) async fn counter_refunds_msat_since(store: &Store, since_ms: i64) -> Result<u64> {
    let msat: Option<i64> = sqlx::query_scalar(&format!(
        "{SPENT} WHERE refund_of IS NOT NULL AND created_at >= ? AND {LIVE}
           AND key_id IN (SELECT id FROM api_keys WHERE role = 'cashier')"
    ))
    .bind(since_ms)
    .bind(now_ms() - UNSURE_FAILURE_COUNTS_MS)
    .fetch_one(store.pool())
    .await?;
    Ok(msat.unwrap_or(0).max(0) as u64)
}

/// Millisatoshis the key has spent since `since_ms`: amount and real fee of what succeeded, amount
/// and fee cap of what is still pending (its fee is not known yet, and may be anything up to the
/// cap). Failed payments cost nothing.
pub(crate) async fn spent_msat_since(store: &Store, key_id: &str, since_ms: i64) -> Result<u64> {
    let msat: Option<i64> = sqlx::query_scalar(&format!(
        "{SPENT} WHERE key_id = ? AND created_at >= ? AND {LIVE}"
    ))
    .bind(key_id)
    .bind(since_ms)
    .bind(now_ms() - UNSURE_FAILURE_COUNTS_MS)
    .fetch_one(store.pool())
    .await?;
    Ok(msat.unwrap_or(0).max(0) as u64)
}

/// The columns of a payment, in [`PaymentRow`]'s order.
const COLUMNS: &str = "seq, id, payment_hash, status, amount_msat, fee_msat, max_fee_msat, \
     preimage, invoice, description, destination, failure_reason, created_at, completed_at, \
     fiat_currency, fiat_rate, fiat_sources, fiat_rate_at, refund_of";

#[derive(sqlx::FromRow)]
struct PaymentRow {
    seq: i64,
    id: String,
    payment_hash: String,
    status: PaymentStatus,
    amount_msat: i64,
    fee_msat: Option<i64>,
    max_fee_msat: Option<i64>,
    preimage: Option<String>,
    invoice: String,
    description: Option<String>,
    destination: Option<String>,
    failure_reason: Option<String>,
    created_at: i64,
    completed_at: Option<i64>,
    fiat_currency: Option<String>,
    fiat_rate: Option<String>,
    fiat_sources: Option<String>,
    fiat_rate_at: Option<i64>,
    refund_of: Option<String>,
}

impl Sequenced for PaymentRow {
    fn seq(&self) -> i64 {
        self.seq
    }
}

impl From<PaymentRow> for Payment {
    /// Sats are rounded up from msat: a payment of 1,500 msat shows as 2 sat, so a shop never
    /// reads less than went out.
    fn from(row: PaymentRow) -> Self {
        let amount_msat = row.amount_msat.max(0) as u64;
        let fee_msat = row.fee_msat.map(|f| f.max(0) as u64);
        let max_fee_msat = row.max_fee_msat.map(|f| f.max(0) as u64);
        let fiat = crate::rates::Recorded::from_columns(
            row.fiat_currency,
            row.fiat_rate,
            row.fiat_sources,
            row.fiat_rate_at,
            None,
        )
        .map(|rec| rec.view(Some(amount_msat), fee_msat));
        Payment {
            fiat,
            refund_of: row.refund_of,
            id: row.id,
            status: row.status,
            amount: amount_msat.div_ceil(1000),
            fee: fee_msat.map(|f| f.div_ceil(1000)),
            amount_msat,
            fee_msat,
            max_fee: max_fee_msat.map(|f| f.div_ceil(1000)),
            max_fee_msat,
            payment_hash: row.payment_hash,
            preimage: row.preimage,
            invoice: row.invoice,
            description: row.description,
            destination: row.destination,
            failure_reason: row.failure_reason,
            created_at: rfc3339(row.created_at),
            completed_at: row.completed_at.map(rfc3339),
        }
    }
}

/// Payments that moved money or may still (succeeded or pending) with `from <= created_at < to`
/// (unix ms), oldest first, each with its `created_at`.
pub(crate) async fn live_between(store: &Store, from: i64, to: i64) -> Result<Vec<(i64, Payment)>> {
    let rows: Vec<PaymentRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM payments WHERE status != 'failed' AND created_at >= ? AND created_at < ?
         ORDER BY created_at, seq"
    ))
    .bind(from)
    .bind(to)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.created_at, Payment::from(row)))
        .collect())
}

/// One payment by id (`pay_…`) or payment hash (the newest attempt).
pub(crate) async fn get(store: &Store, id_or_hash: &str) -> Result<Payment> {
    let row: PaymentRow = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM payments WHERE id = ?1 OR payment_hash = lower(?1) ORDER BY seq DESC LIMIT 1"
    ))
    .bind(id_or_hash)
    .fetch_optional(store.pool())
    .await?
    .ok_or_else(|| Error::NotFound { kind: "payment", id: id_or_hash.to_string() })?;
    Ok(row.into())
}

/// Payments newest first, optionally of one status.
pub(crate) async fn list(
    store: &Store,
    status: Option<PaymentStatus>,
    limit: i64,
    cursor: Option<&str>,
) -> Result<Page<Payment>> {
    let before = parse_cursor(cursor)?;
    let rows: Vec<PaymentRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM payments WHERE seq < ?1 AND (?3 IS NULL OR status = ?3)
         ORDER BY seq DESC LIMIT ?2"
    ))
    .bind(before)
    .bind(limit + 1)
    .bind(status)
    .fetch_all(store.pool())
    .await?;
    Ok(page(rows, limit, Payment::from))
}

/// A payment still pending, with what it takes to hand it to the node again after a restart.
#[derive(sqlx::FromRow)]
pub(crate) struct PendingSend {
    pub id: String,
    pub payment_hash: String,
    pub invoice: String,
    pub amount_msat: i64,
    pub max_fee_msat: Option<i64>,
}

/// Payments still pending (to reconcile with the node after a restart), oldest first.
pub(crate) async fn pending(store: &Store) -> Result<Vec<PendingSend>> {
    Ok(sqlx::query_as(
        "SELECT id, payment_hash, invoice, amount_msat, max_fee_msat FROM payments
         WHERE status = 'pending' ORDER BY seq",
    )
    .fetch_all(store.pool())
    .await?)
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
    let row: Option<PaymentRow> = sqlx::query_as(&format!(
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
    Ok(row.map(Payment::from))
}

/// Marks the pending payment of `payment_hash` failed. Returns it if this call changed it.
pub(crate) async fn mark_failed(
    tx: &mut SqliteConnection,
    payment_hash: &str,
    reason: &str,
    at: i64,
    failure: Failure,
) -> Result<Option<Payment>> {
    let row: Option<PaymentRow> = sqlx::query_as(&format!(
        "UPDATE payments SET status = 'failed', failure_reason = ?, completed_at = ?,
             failure_final = ?
         WHERE payment_hash = ? AND status = 'pending' RETURNING {COLUMNS}"
    ))
    .bind(reason)
    .bind(at)
    .bind(failure == Failure::Final)
    .bind(payment_hash)
    .fetch_optional(&mut *tx)
    .await?;
    Ok(row.map(Payment::from))
}

/// Of `hashes`, the payments settled here (succeeded or failed, no attempt pending): the node's
/// record of them serves nothing any more (see `crate::node_prune`).
pub(crate) async fn settled_of(store: &Store, hashes: &[String]) -> Result<Vec<String>> {
    let list = serde_json::Value::from(hashes.to_vec()).to_string();
    Ok(sqlx::query_scalar(
        "SELECT payment_hash FROM payments
         WHERE payment_hash IN (SELECT value FROM json_each(?1))
         GROUP BY payment_hash HAVING SUM(status = 'pending') = 0",
    )
    .bind(list)
    .fetch_all(store.pool())
    .await?)
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
            fiat: None,
            refund_of: None,
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
        assert!(mark_failed(&mut tx, "h1", "no route", 200, Failure::Final)
            .await?
            .is_some());
        assert!(mark_failed(&mut tx, "h1", "no route", 200, Failure::Final)
            .await?
            .is_none());
        tx.commit().await?;
        assert_eq!(spent_msat_since(&store, "k", 0).await?, 0);

        insert_pending(&store, row("pay_c", "h1", "k", 300)).await?;
        let mut tx = store.pool().begin().await?;
        let done = mark_succeeded(&mut tx, "h1", Some(1), Some("aa"), 400).await?;
        tx.commit().await?;
        assert_eq!(done.map(|p| p.id), Some("pay_c".to_string()));
        assert_eq!(get(&store, "h1").await?.status, PaymentStatus::Succeeded);
        assert_eq!(
            spent_msat_since(&store, "k", 0).await?,
            1_501,
            "a settled payment counts with its real fee"
        );
        assert_eq!(
            list(&store, Some(PaymentStatus::Failed), 10, None)
                .await?
                .data
                .len(),
            1
        );
        Ok(())
    }

    /// A refund failed after a restart, which LDK may still send, counts against its sale's cap
    /// until LDK settles it (or until no HTLC of it could still be in flight); a refund LDK
    /// failed does not.
    #[tokio::test]
    async fn an_unsure_refund_failure_still_counts_against_the_cap() -> Result<()> {
        let (_dir, store) = temp_store().await;
        let now = now_ms();
        let refund = |id, hash| NewPaymentRow {
            refund_of: Some("inv_sale"),
            ..row(id, hash, "k", now)
        };
        insert_pending(&store, refund("pay_r1", "r1")).await?;
        insert_pending(&store, refund("pay_r2", "r2")).await?;
        assert_eq!(refunds_msat(&store, "inv_sale").await?, 3_000);
        let mut tx = store.pool().begin().await?;
        mark_failed(&mut tx, "r1", "no route", now, Failure::Final).await?;
        mark_failed(&mut tx, "r2", "could not be resumed", now, Failure::Unsure).await?;
        tx.commit().await?;
        assert_eq!(
            refunds_msat(&store, "inv_sale").await?,
            1_500,
            "the unsure failure still counts"
        );
        sqlx::query("UPDATE payments SET created_at = ? WHERE payment_hash = 'r2'")
            .bind(now - UNSURE_FAILURE_COUNTS_MS - 1)
            .execute(store.pool())
            .await?;
        assert_eq!(
            refunds_msat(&store, "inv_sale").await?,
            0,
            "too old to be in flight"
        );
        Ok(())
    }

    /// The node's record of a payment may go once no attempt at it is pending here.
    #[tokio::test]
    async fn settled_only_when_no_attempt_is_pending() -> Result<()> {
        let (_dir, store) = temp_store().await;
        insert_pending(&store, row("pay_a", "h1", "k", 100)).await?;
        insert_pending(&store, row("pay_b", "h2", "k", 100)).await?;
        let mut tx = store.pool().begin().await?;
        mark_failed(&mut tx, "h1", "no route", 200, Failure::Final).await?;
        tx.commit().await?;
        // A second attempt at h1, still pending.
        insert_pending(&store, row("pay_c", "h1", "k", 300)).await?;
        let hashes = ["h1".to_string(), "h2".to_string(), "h3".to_string()];
        assert!(settled_of(&store, &hashes).await?.is_empty());
        let mut tx = store.pool().begin().await?;
        mark_succeeded(&mut tx, "h1", Some(1), Some("aa"), 400).await?;
        mark_failed(&mut tx, "h2", "no route", 400, Failure::Final).await?;
        tx.commit().await?;
        let mut settled = settled_of(&store, &hashes).await?;
        settled.sort();
        assert_eq!(settled, ["h1", "h2"]);
        Ok(())
    }

    /// LDK may report success for a payment already recorded as failed: it becomes succeeded
    /// (with its `payment.sent`), and a second report changes nothing.
    #[tokio::test]
    async fn failed_payment_can_still_succeed() -> Result<()> {
        let (_dir, store) = temp_store().await;
        insert_pending(&store, row("pay_a", "h2", "k", 100)).await?;
        let mut tx = store.pool().begin().await?;
        mark_failed(&mut tx, "h2", "send failed at once", 150, Failure::Final).await?;
        let late = mark_succeeded(&mut tx, "h2", Some(2_000), Some("bb"), 200).await?;
        assert_eq!(
            late.map(|p| (p.id, p.status)),
            Some(("pay_a".into(), PaymentStatus::Succeeded))
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
