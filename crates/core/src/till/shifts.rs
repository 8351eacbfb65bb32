//! Shifts: the cash drawer's stretch of the day. A shift opens with a float (the cash put in the
//! drawer, in the merchant's currency) and closes with the cash counted; at most one is open.
//! Sales taken while it is open carry its id; closing it computes its Z-report
//! ([`super::zreport`]), keeps it as closed (later changes to the catalog or rates do not move
//! it), and queues it on the receipt printers.

use std::collections::{HashMap, HashSet};

use chrono::{Duration, Local, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::sales::{SaleRow, Tender, SALE_COLUMNS};
use super::zreport::{
    cash_flows, cash_summary, figures, CashSummary, Drawer, RefundFact, SaleFact, Scope, ShiftLine,
    ZReport,
};
use super::{StaffRef, Till};
use crate::error::{Error, ErrorCode, Result};
use crate::invoices::Invoice;
use crate::payments::{Payment, PaymentStatus};
use crate::rates::record::fixed;
use crate::store::{page, parse_cursor, Page, Sequenced, Store};
use crate::util::{day_start, new_id, now_ms, rfc3339};

/// Where a shift stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ShiftStatus {
    /// Taking sales.
    Open,
    /// Counted and closed.
    Closed,
}

/// A shift.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Shift {
    /// `shf_…`
    pub id: String,
    /// `open` or `closed`.
    pub status: ShiftStatus,
    /// The currency of its drawer.
    pub currency: String,
    /// The cash it was opened with.
    pub float: String,
    /// When it opened.
    pub opened_at: String,
    /// Who opened it (null: the owner).
    pub opened_by: Option<StaffRef>,
    /// When it closed.
    pub closed_at: Option<String>,
    /// Who closed it (null: the owner, or still open).
    pub closed_by: Option<StaffRef>,
    /// The cash counted at close.
    pub counted: Option<String>,
    /// The cash that should have been there at close.
    pub expected_cash: Option<String>,
    /// counted − expected (negative: short).
    pub difference: Option<String>,
    /// A note written at close.
    pub note: Option<String>,
    /// Its Z-report: as closed, or (open) the figures so far. Left out of lists.
    pub report: Option<ZReport>,
}

/// Opening a shift.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenShift {
    /// The cash in the drawer to start with, in the merchant's currency ("100.00"; "0" for none).
    #[serde(deserialize_with = "crate::rates::decimal_string")]
    #[schema(pattern = "^[0-9]{1,15}([.][0-9]{1,2})?$")]
    pub float: String,
}

/// Closing a shift.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseShift {
    /// The cash counted in the drawer.
    #[serde(deserialize_with = "crate::rates::decimal_string")]
    #[schema(pattern = "^[0-9]{1,15}([.][0-9]{1,2})?$")]
    pub counted: String,
    /// A note (why the difference, …), up to 200 bytes.
    #[schema(max_length = 200, pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*$")]
    pub note: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ShiftRow {
    seq: i64,
    id: String,
    currency: String,
    float: String,
    opened_at: i64,
    opened_by: Option<String>,
    closed_at: Option<i64>,
    closed_by: Option<String>,
    counted: Option<String>,
    note: Option<String>,
    report: Option<String>,
}

impl Sequenced for ShiftRow {
    fn seq(&self) -> i64 {
        self.seq
    }
}

const SHIFT_COLUMNS: &str =
    "seq, id, currency, float, opened_at, opened_by, closed_at, closed_by, counted, note, report";

impl ShiftRow {
    fn drawer(&self) -> Drawer {
        Drawer {
            float: self.float.parse().unwrap_or_default(),
            counted: self.counted.as_deref().and_then(|c| c.parse().ok()),
        }
    }

    fn into_shift(self, names: &HashMap<String, String>, report: Option<ZReport>) -> Shift {
        let cash = report.as_ref().and_then(|r| r.cash.clone());
        Shift {
            status: if self.closed_at.is_some() {
                ShiftStatus::Closed
            } else {
                ShiftStatus::Open
            },
            opened_by: super::staff::person(names, self.opened_by.as_deref()),
            closed_by: super::staff::person(names, self.closed_by.as_deref()),
            expected_cash: self
                .closed_at
                .and(cash.as_ref().map(|c| c.expected.clone())),
            difference: cash.and_then(|c| c.difference),
            id: self.id,
            currency: self.currency,
            float: self.float,
            opened_at: rfc3339(self.opened_at),
            closed_at: self.closed_at.map(rfc3339),
            counted: self.counted,
            note: self.note,
            report,
        }
    }
}

async fn shift_row(store: &Store, id: &str) -> Result<ShiftRow> {
    sqlx::query_as(&format!("SELECT {SHIFT_COLUMNS} FROM shifts WHERE id = ?"))
        .bind(id)
        .fetch_optional(store.pool())
        .await?
        .ok_or_else(|| Error::NotFound {
            kind: "shift",
            id: id.to_string(),
        })
}

/// A kept Z-report, read back.
fn kept_report(id: &str, json: &str) -> Result<ZReport> {
    serde_json::from_str(json)
        .map_err(|e| Error::Config(format!("shift {id}'s report is unreadable: {e}")))
}

async fn open_row(store: &Store) -> Result<Option<ShiftRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {SHIFT_COLUMNS} FROM shifts WHERE closed_at IS NULL"
    ))
    .fetch_optional(store.pool())
    .await?)
}

/// The open shift's id, if one is open.
pub(crate) async fn open_shift_id(store: &Store) -> Result<Option<String>> {
    Ok(open_row(store).await?.map(|r| r.id))
}

/// The open shift (without its report), if one is open.
pub(crate) async fn open_shift(store: &Store) -> Result<Option<Shift>> {
    let Some(row) = open_row(store).await? else {
        return Ok(None);
    };
    let names = super::staff::names(store).await?;
    Ok(Some(row.into_shift(&names, None)))
}

/// The tender an invoice was paid with.
fn invoice_tender(invoice: &Invoice) -> Tender {
    match invoice.onchain.as_ref().and_then(|o| o.txid.as_ref()) {
        Some(_) => Tender::Onchain,
        None => Tender::Lightning,
    }
}

/// An invoice's amount in `currency`: its cart's total when priced in it, its price when priced
/// in it; otherwise none (see [`super::zreport`]).
fn invoice_amount(invoice: &Invoice, currency: &str) -> Option<Decimal> {
    if let Some(order) = invoice
        .order
        .as_ref()
        .filter(|o| o.currency.as_deref() == Some(currency))
    {
        return Some(order.total_decimal());
    }
    invoice
        .fiat
        .as_ref()
        .filter(|f| f.priced_in_fiat && f.currency == currency)
        .and_then(|f| f.amount.as_deref())
        .and_then(|a| a.parse().ok())
}

fn refund_amount(payment: &Payment, currency: &str) -> Option<Decimal> {
    payment
        .fiat
        .as_ref()
        .filter(|f| f.currency == currency)
        .and_then(|f| f.amount.as_deref())
        .and_then(|a| a.parse().ok())
}

/// What a report reads: its sales and refunds.
struct Facts {
    sales: Vec<SaleFact>,
    refunds: Vec<RefundFact>,
}

/// Which stamps a report takes: one shift's, or all (a day's, bounded by time).
enum Stamps<'a> {
    Shift(&'a str),
    All,
}

/// The facts from `from` to `to` (unix ms) in `currency`, of one shift or of every till sale.
async fn facts(
    store: &Store,
    stamps: Stamps<'_>,
    from: i64,
    to: i64,
    currency: &str,
) -> Result<Facts> {
    let shift = match stamps {
        Stamps::Shift(id) => Some(id),
        Stamps::All => None,
    };
    // A shift's stamps; for a day, those of the invoices paid and the payments made in it (a
    // stamp is written when the invoice is made, which may be an earlier day).
    let stamped: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT subject_id, staff_id FROM till_stamps
         WHERE (?1 IS NOT NULL AND shift_id = ?1)
            OR (?1 IS NULL AND subject_id IN (
                   SELECT id FROM invoices WHERE status = 'paid' AND paid_at >= ?2 AND paid_at < ?3
                   UNION ALL
                   SELECT id FROM payments WHERE created_at >= ?2 AND created_at < ?3))",
    )
    .bind(shift)
    .bind(from)
    .bind(to)
    .fetch_all(store.pool())
    .await?;
    let stamped: HashMap<String, Option<String>> = stamped.into_iter().collect();
    let mut sales = Vec::new();
    let mut till_invoices = HashSet::new();
    for (_, invoice) in crate::invoices::db::paid_between(store, from, to).await? {
        let Some(staff) = stamped.get(&invoice.id) else {
            continue;
        };
        till_invoices.insert(invoice.id.clone());
        sales.push(SaleFact {
            tender: invoice_tender(&invoice),
            amount: invoice_amount(&invoice, currency),
            sats: invoice.amount_received_msat.unwrap_or(0) / 1000,
            staff_id: staff.clone(),
            order: invoice.order,
        });
    }
    let rows: Vec<SaleRow> = sqlx::query_as(&format!(
        "SELECT {SALE_COLUMNS} FROM till_sales
         WHERE (?1 IS NULL OR shift_id = ?1) AND created_at >= ?2 AND created_at < ?3
         ORDER BY seq"
    ))
    .bind(shift)
    .bind(from)
    .bind(to)
    .fetch_all(store.pool())
    .await?;
    for row in rows {
        let order = row.order()?;
        sales.push(SaleFact {
            tender: row.tender(),
            amount: (row.currency == currency)
                .then(|| row.total.parse().ok())
                .flatten(),
            sats: row.amount_msat.unwrap_or(0).max(0) as u64 / 1000,
            staff_id: row.staff_id,
            order: Some(order),
        });
    }
    let mut refunds = Vec::new();
    for (_, payment) in crate::payments::db::live_between(store, from, to).await? {
        let Some(of) = &payment.refund_of else {
            continue;
        };
        if payment.status != PaymentStatus::Succeeded {
            continue;
        }
        let counts = match shift {
            Some(_) => stamped.contains_key(&payment.id),
            None => till_invoices.contains(of) || stamped.contains_key(&payment.id),
        };
        if counts {
            refunds.push(RefundFact {
                tender: Tender::Lightning,
                amount: refund_amount(&payment, currency),
            });
        }
    }
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT s.tender, s.currency, r.amount FROM till_refunds r JOIN till_sales s ON s.id = r.sale_id
         WHERE (?1 IS NULL OR r.shift_id = ?1) AND r.created_at >= ?2 AND r.created_at < ?3
         ORDER BY r.seq",
    )
    .bind(shift)
    .bind(from)
    .bind(to)
    .fetch_all(store.pool())
    .await?;
    for (tender, sale_currency, amount) in rows {
        refunds.push(RefundFact {
            tender: if tender == "card" {
                Tender::Card
            } else {
                Tender::Cash
            },
            amount: (sale_currency == currency)
                .then(|| amount.parse().ok())
                .flatten(),
        });
    }
    Ok(Facts { sales, refunds })
}

/// The report of the shift `row`, as of `now` when it is open.
async fn shift_report(store: &Store, row: &ShiftRow, now: i64) -> Result<ZReport> {
    let to = row.closed_at.unwrap_or(now) + 1;
    let facts = facts(
        store,
        Stamps::Shift(&row.id),
        row.opened_at,
        to,
        &row.currency,
    )
    .await?;
    let names = super::staff::names(store).await?;
    let f = figures(&row.currency, &facts.sales, &facts.refunds, &names);
    let (cash_in, cash_out) = cash_flows(&facts.sales, &facts.refunds);
    Ok(ZReport {
        scope: Scope::Shift,
        shift_id: Some(row.id.clone()),
        date: None,
        currency: row.currency.clone(),
        from: rfc3339(row.opened_at),
        to: rfc3339(row.closed_at.unwrap_or(now)),
        sales: f.sales,
        sales_total: f.sales_total,
        tips: f.tips,
        tips_total: f.tips_total,
        refunds: f.refunds,
        refunds_total: f.refunds_total,
        taxes: f.taxes,
        cash: Some(cash_summary(
            &row.drawer(),
            cash_in,
            cash_out,
            &row.currency,
        )),
        shifts: Vec::new(),
        sats_only: f.sats_only,
        generated_at: rfc3339(now),
    })
}

fn read_amount(text: &str, currency: &str, field: &'static str) -> Result<Decimal> {
    crate::catalog::order::parse_unit_amount(text, Some(currency), field, true)
}

impl Till<'_> {
    fn merchant_currency(&self) -> Result<String> {
        self.rates.merchant_currency().ok_or_else(|| {
            Error::conflict(
                ErrorCode::ShiftConflict,
                "a shift counts its drawer in the shop's currency: choose one in Settings first",
            )
        })
    }

    /// Opens a shift with `float` in the drawer, by whoever `key_id` is at the till; opens the
    /// drawer.
    pub async fn open_shift(&self, body: OpenShift, key_id: &str) -> Result<Shift> {
        let stamp = self.stamp_for(key_id).await?.unwrap_or_default();
        let currency = self.merchant_currency()?;
        let float = read_amount(&body.float, &currency, "float")?;
        if open_row(self.store).await?.is_some() {
            return Err(Error::conflict(
                ErrorCode::ShiftConflict,
                "a shift is open already: close it (count the drawer) before opening another",
            ));
        }
        let id = new_id("shf");
        let mut tx = self.store.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO shifts (id, currency, float, opened_at, opened_by) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(&currency)
        .bind(fixed(float, &currency))
        .bind(now_ms())
        .bind(&stamp.staff_id)
        .execute(&mut *tx)
        .await;
        if let Err(sqlx::Error::Database(e)) = &inserted {
            if e.is_unique_violation() {
                return Err(Error::conflict(
                    ErrorCode::ShiftConflict,
                    "a shift is open already: close it before opening another",
                ));
            }
        }
        inserted?;
        crate::print_queue::queue_drawer(&mut tx, None, false).await?;
        tx.commit().await?;
        self.state.print_bell.notify_one();
        self.shift(&id).await
    }

    /// One shift with its report (kept as closed, or the figures so far).
    pub async fn shift(&self, id: &str) -> Result<Shift> {
        let row: ShiftRow = shift_row(self.store, id).await?;
        let report = report_of(self.store, &row).await?;
        let names = super::staff::names(self.store).await?;
        Ok(row.into_shift(&names, Some(report)))
    }

    /// The open shift with its figures so far.
    pub async fn current_shift(&self) -> Result<Shift> {
        match open_shift_id(self.store).await? {
            Some(id) => self.shift(&id).await,
            None => Err(Error::NotFound {
                kind: "open shift",
                id: "current".into(),
            }),
        }
    }

    /// Shifts, newest first (without their reports).
    pub async fn shifts(&self, limit: i64, cursor: Option<&str>) -> Result<Page<Shift>> {
        let before = parse_cursor(cursor)?;
        let rows: Vec<ShiftRow> = sqlx::query_as(&format!(
            "SELECT {SHIFT_COLUMNS} FROM shifts WHERE seq < ? ORDER BY seq DESC LIMIT ?"
        ))
        .bind(before)
        .bind(limit + 1)
        .fetch_all(self.store.pool())
        .await?;
        let names = super::staff::names(self.store).await?;
        Ok(page(rows, limit, |row| {
            let report: Option<ZReport> = row
                .report
                .as_deref()
                .and_then(|r| serde_json::from_str(r).ok());
            let mut shift = row.into_shift(&names, report);
            shift.report = None;
            shift
        }))
    }

    /// Closes the open shift `id` with the cash `counted`; keeps its Z-report and queues it on
    /// the receipt printers.
    pub async fn close_shift(&self, id: &str, body: CloseShift, key_id: &str) -> Result<Shift> {
        let stamp = self.stamp_for(key_id).await?.unwrap_or_default();
        let note = match body
            .note
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            Some(n) if n.len() > 200 || n.chars().any(char::is_control) => {
                return Err(Error::invalid(
                    "note",
                    "a note is at most 200 bytes, on one line",
                ))
            }
            other => other.map(str::to_string),
        };
        let mut row: ShiftRow = shift_row(self.store, id).await?;
        if row.closed_at.is_some() {
            return Err(Error::conflict(
                ErrorCode::ShiftConflict,
                format!("shift {id} is closed already"),
            ));
        }
        let counted = read_amount(&body.counted, &row.currency, "counted")?;
        let now = now_ms();
        row.closed_at = Some(now);
        row.closed_by = stamp.staff_id.clone();
        row.counted = Some(fixed(counted, &row.currency));
        let report = shift_report(self.store, &row, now).await?;
        let json = serde_json::to_string(&report)
            .map_err(|e| Error::Config(format!("cannot write the Z-report: {e}")))?;
        let mut tx = self.store.begin_write().await?;
        let done = sqlx::query(
            "UPDATE shifts SET closed_at = ?, closed_by = ?, counted = ?, note = ?, report = ?
             WHERE id = ? AND closed_at IS NULL",
        )
        .bind(now)
        .bind(&stamp.staff_id)
        .bind(&row.counted)
        .bind(&note)
        .bind(&json)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(Error::conflict(
                ErrorCode::ShiftConflict,
                format!("shift {id} was closed meanwhile"),
            ));
        }
        super::printing::queue_report(&mut tx, id).await?;
        tx.commit().await?;
        self.state.print_bell.notify_one();
        self.shift(id).await
    }

    /// The Z-report of a whole day (the merchant's, from local midnight): every till sale of it
    /// and its shifts' drawers.
    pub async fn day_report(&self, date: NaiveDate) -> Result<ZReport> {
        day_report_for(self.store, date, self.rates.merchant_currency()).await
    }
}

/// The drawer of the open shift `row` so far: its float, plus its cash sales, less the cash
/// handed back in it (the same figures its report's `cash` holds).
async fn open_drawer(store: &Store, row: &ShiftRow, drawer: &Drawer) -> Result<CashSummary> {
    let amounts = |sql: &'static str| {
        let id = row.id.clone();
        async move {
            let texts: Vec<String> = sqlx::query_scalar(sql)
                .bind(id)
                .fetch_all(store.pool())
                .await?;
            Ok::<Decimal, Error>(texts.iter().filter_map(|t| t.parse::<Decimal>().ok()).sum())
        }
    };
    let cash_in =
        amounts("SELECT total FROM till_sales WHERE shift_id = ? AND tender = 'cash'").await?;
    let cash_out = amounts(
        "SELECT r.amount FROM till_refunds r JOIN till_sales s ON s.id = r.sale_id
         WHERE r.shift_id = ? AND s.tender = 'cash'",
    )
    .await?;
    Ok(cash_summary(drawer, cash_in, cash_out, &row.currency))
}

/// A closed shift's report as kept (an open one's figures so far).
pub(crate) async fn stored_report(store: &Store, id: &str) -> Result<ZReport> {
    report_of(store, &shift_row(store, id).await?).await
}

/// The report of the shift `row`: kept as closed, or (open) the figures so far.
async fn report_of(store: &Store, row: &ShiftRow) -> Result<ZReport> {
    match row.report.as_deref() {
        Some(json) => kept_report(&row.id, json),
        None => shift_report(store, row, now_ms()).await,
    }
}

/// The Z-report of the day `date` in `currency` (the merchant's).
pub(crate) async fn day_report_for(
    store: &Store,
    date: NaiveDate,
    currency: Option<String>,
) -> Result<ZReport> {
    let currency = currency.ok_or_else(|| {
        Error::conflict(
            ErrorCode::ShiftConflict,
            "a Z-report counts in the shop's currency: choose one in Settings first",
        )
    })?;
    let from = day_start(&Local, date);
    let to = day_start(&Local, date + Duration::days(1));
    let now = now_ms();
    let facts = facts(store, Stamps::All, from, to, &currency).await?;
    let names = super::staff::names(store).await?;
    let f = figures(&currency, &facts.sales, &facts.refunds, &names);
    let rows: Vec<ShiftRow> = sqlx::query_as(&format!(
        "SELECT {SHIFT_COLUMNS} FROM shifts WHERE opened_at >= ? AND opened_at < ? ORDER BY seq"
    ))
    .bind(from)
    .bind(to)
    .fetch_all(store.pool())
    .await?;
    let mut shifts = Vec::new();
    let mut drawer = Drawer {
        float: Decimal::ZERO,
        counted: Some(Decimal::ZERO),
    };
    for row in rows.into_iter().filter(|r| r.currency == currency) {
        let d = row.drawer();
        // A closed shift's drawer as kept; an open one's from its cash alone (its whole report,
        // every order read again, is not needed here).
        let cash = match row.report.as_deref() {
            Some(json) => kept_report(&row.id, json)?.cash,
            None => Some(open_drawer(store, &row, &d).await?),
        };
        drawer.float += d.float;
        drawer.counted = match (drawer.counted, d.counted) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
        let names_row = &names;
        shifts.push(ShiftLine {
            opened_by: super::staff::person(names_row, row.opened_by.as_deref()),
            opened_at: rfc3339(row.opened_at),
            closed_at: row.closed_at.map(rfc3339),
            cash: cash.unwrap_or_else(|| cash_summary(&d, Decimal::ZERO, Decimal::ZERO, &currency)),
            id: row.id,
        });
    }
    let (cash_in, cash_out) = cash_flows(&facts.sales, &facts.refunds);
    let cash = (!shifts.is_empty()).then(|| cash_summary(&drawer, cash_in, cash_out, &currency));
    Ok(ZReport {
        scope: Scope::Day,
        shift_id: None,
        date: Some(date.to_string()),
        currency,
        from: rfc3339(from),
        to: rfc3339(to),
        sales: f.sales,
        sales_total: f.sales_total,
        tips: f.tips,
        tips_total: f.tips_total,
        refunds: f.refunds,
        refunds_total: f.refunds_total,
        taxes: f.taxes,
        cash,
        shifts,
        sats_only: f.sats_only,
        generated_at: rfc3339(now),
    })
}
