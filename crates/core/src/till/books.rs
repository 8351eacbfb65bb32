//! What the books ([`crate::reports`]: the transactions CSV, the journal) read from the till for
//! a period: who took each invoice sale and in which shift, the sales paid in cash or by card,
//! and the money handed back for them.

use std::collections::HashMap;

use super::sales::{Sale, SaleRow, SALE_COLUMNS};
use crate::error::Result;
use crate::store::Store;

/// Who took a sale, and in which shift.
#[derive(Debug, Clone, Default)]
pub struct TillMark {
    /// The cashier's name (none: the owner, or not taken at the till).
    pub cashier: Option<String>,
    /// The shift.
    pub shift_id: Option<String>,
}

/// Money handed back for a cash or card sale.
#[derive(Debug, Clone)]
pub struct TillRefund {
    /// `srf_…`
    pub id: String,
    /// The sale.
    pub sale: Sale,
    /// How much, in the sale's currency.
    pub amount: String,
    /// Why.
    pub reason: Option<String>,
    /// Who handed it back, and in which shift.
    pub mark: TillMark,
}

/// The till's part of a period's books.
#[derive(Debug, Clone, Default)]
pub struct TillBooks {
    /// By invoice or payment id: who took it at the till.
    pub marks: HashMap<String, TillMark>,
    /// Sales in cash or by card, with their time (unix ms), oldest first.
    pub sales: Vec<(i64, Sale)>,
    /// Their refunds, with their time, oldest first.
    pub refunds: Vec<(i64, TillRefund)>,
}

impl TillBooks {
    /// Who took the invoice or payment `id` at the till, if it was taken there.
    pub fn mark(&self, id: &str) -> Option<&TillMark> {
        self.marks.get(id)
    }
}

#[derive(sqlx::FromRow)]
struct RefundRow {
    id: String,
    sale_id: String,
    amount: String,
    reason: Option<String>,
    staff_id: Option<String>,
    shift_id: Option<String>,
    created_at: i64,
}

/// The till's books from `from` to `to` (unix ms, `to` excluded).
pub(crate) async fn load(store: &Store, from: i64, to: i64) -> Result<TillBooks> {
    let names = super::staff::names(store).await?;
    let name = |id: Option<String>| id.and_then(|id| names.get(&id).cloned());
    let stamps: Vec<(String, Option<String>, Option<String>)> =
        sqlx::query_as("SELECT subject_id, staff_id, shift_id FROM till_stamps")
            .fetch_all(store.pool())
            .await?;
    let marks = stamps
        .into_iter()
        .map(|(id, staff, shift)| {
            (
                id,
                TillMark {
                    cashier: name(staff),
                    shift_id: shift,
                },
            )
        })
        .collect();
    let rows: Vec<SaleRow> = sqlx::query_as(&format!(
        "SELECT {SALE_COLUMNS} FROM till_sales WHERE created_at >= ? AND created_at < ? ORDER BY seq"
    ))
    .bind(from)
    .bind(to)
    .fetch_all(store.pool())
    .await?;
    let mut sales = Vec::with_capacity(rows.len());
    for row in rows {
        let at = row.created_at;
        sales.push((at, row.into_sale(&names)?));
    }
    let refund_rows: Vec<RefundRow> = sqlx::query_as(
        "SELECT id, sale_id, amount, reason, staff_id, shift_id, created_at FROM till_refunds
             WHERE created_at >= ? AND created_at < ? ORDER BY seq",
    )
    .bind(from)
    .bind(to)
    .fetch_all(store.pool())
    .await?;
    let mut refunds = Vec::with_capacity(refund_rows.len());
    for r in refund_rows {
        let row: Option<SaleRow> = sqlx::query_as(&format!(
            "SELECT {SALE_COLUMNS} FROM till_sales WHERE id = ?"
        ))
        .bind(&r.sale_id)
        .fetch_optional(store.pool())
        .await?;
        let Some(row) = row else { continue };
        refunds.push((
            r.created_at,
            TillRefund {
                id: r.id,
                sale: row.into_sale(&names)?,
                amount: r.amount,
                reason: r.reason,
                mark: TillMark {
                    cashier: name(r.staff_id),
                    shift_id: r.shift_id,
                },
            },
        ));
    }
    Ok(TillBooks {
        marks,
        sales,
        refunds,
    })
}
