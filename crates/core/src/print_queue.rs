//! The print queue's writes: what a sale owes the printers, queued inside the transaction of the
//! change that makes it owed (a till sale's payment, a cash or card sale), as the webhook outbox
//! is, so a crash between the payment and the print loses no receipt and no drawer kick.
//!
//! A leaf (it names no other domain): the event log calls it while it appends a
//! `payment.received`, and the till calls it when it records a sale. The printing itself, which
//! renders and sends these jobs, is [`crate::till`]'s.
//!
//! What a sale owes: every printer set to print by itself gets its ticket (a receipt printer the
//! receipt, a kitchen printer the order ticket); a cash sale also opens the drawer of every printer
//! with one attached, with its receipt when that printer prints one, alone otherwise.

use serde_json::{Map, Value};
use sqlx::SqliteConnection;

use crate::error::Result;
use crate::util::now_ms;

/// Queues what the sale `subject` (an invoice id or a `sale_…`) owes the printers; `cash` opens
/// the drawers. Returns how many jobs were queued.
pub(crate) async fn queue_sale(
    tx: &mut SqliteConnection,
    subject: &str,
    cash: bool,
) -> Result<u64> {
    let now = now_ms();
    let tickets = sqlx::query(
        "INSERT INTO print_jobs (id, printer_id, kind, subject, drawer, state, next_attempt_at, created_at)
         SELECT 'pjb_' || lower(hex(randomblob(10))), id,
                CASE role WHEN 'receipt' THEN 'receipt' ELSE 'kitchen' END, ?1,
                ?2 AND cash_drawer = 1 AND role = 'receipt', 'queued', ?3, ?3
         FROM printers WHERE archived_at IS NULL AND auto_print = 1 ORDER BY seq",
    )
    .bind(subject)
    .bind(cash)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if !cash {
        return Ok(tickets);
    }
    let drawers = queue_drawer(tx, Some(subject), true).await?;
    Ok(tickets + drawers)
}

/// Queues a drawer kick for every printer with a drawer attached (`skip_auto_receipts`: but those
/// whose receipt for this sale opens it already).
pub(crate) async fn queue_drawer(
    tx: &mut SqliteConnection,
    subject: Option<&str>,
    skip_auto_receipts: bool,
) -> Result<u64> {
    let now = now_ms();
    Ok(sqlx::query(
        "INSERT INTO print_jobs (id, printer_id, kind, subject, drawer, state, next_attempt_at, created_at)
         SELECT 'pjb_' || lower(hex(randomblob(10))), id, 'drawer', ?1, 1, 'queued', ?2, ?2
         FROM printers
         WHERE archived_at IS NULL AND cash_drawer = 1
           AND NOT (?3 AND auto_print = 1 AND role = 'receipt')
         ORDER BY seq",
    )
    .bind(subject)
    .bind(now)
    .bind(skip_auto_receipts)
    .execute(&mut *tx)
    .await?
    .rows_affected())
}

/// Called by the event log for each event it appends: a `payment.received` of an invoice taken
/// at the till (it has a till stamp) queues its tickets.
pub(crate) async fn on_event(
    tx: &mut SqliteConnection,
    event: &str,
    payload: &Map<String, Value>,
) -> Result<u64> {
    if event != "payment.received" {
        return Ok(0);
    }
    let Some(invoice) = payload.get("invoice_id").and_then(Value::as_str) else {
        return Ok(0);
    };
    let at_till: Option<i64> = sqlx::query_scalar("SELECT 1 FROM till_stamps WHERE subject_id = ?")
        .bind(invoice)
        .fetch_optional(&mut *tx)
        .await?;
    if at_till.is_none() {
        return Ok(0);
    }
    queue_sale(tx, invoice, false).await
}
