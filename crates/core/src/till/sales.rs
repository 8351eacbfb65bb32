//! Sales paid in cash or by card: the point of sale's same cart, taxes, tip and receipt, with
//! another tender. Nothing about Lightning changes for them: no invoice is made and the node is
//! not asked anything.
//!
//! - **Cash** goes into the drawer of the open shift (a cash sale needs one: the drawer is
//!   counted against it). The cashier may say what the customer handed over; the change is
//!   `cash_received − total`, exact in the currency's decimals.
//! - **Card** is taken on an outside terminal; the cashier confirms the terminal accepted the
//!   amount and may write its reference.
//! - Both are priced in the merchant's currency (a cash drawer holds no sats). Their worth in
//!   sats is recorded at the merchant's rate of the moment when one is fresh (half up to the
//!   sat, as any price), for the books; a sale never waits for a rate.
//! - The sale's record, its `sale.completed` event (webhooks, the feed) and its printers' jobs
//!   (receipt, kitchen ticket, the drawer on cash) are written in one transaction.
//! - A refund hands money back the same way (cash from the drawer of the open shift, or on the
//!   terminal), at most what is left of the sale, and logs `sale.refunded`.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{StaffRef, Stamp, Till};
use crate::catalog::{Cart, Order};
use crate::error::{Error, ErrorCode, Result};
use crate::events::{self, EventKind};
use crate::rates::record::fixed;
use crate::store::{page, parse_cursor, Page, Sequenced};
use crate::util::{new_id, now_ms, rfc3339};

/// The longest terminal reference or refund reason, in bytes.
pub const MAX_TEXT_BYTES: usize = 200;

/// How a till sale was paid.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Tender {
    /// Over Lightning (an invoice).
    Lightning,
    /// On-chain (an invoice's address).
    Onchain,
    /// Cash, into the drawer.
    Cash,
    /// A card, on an outside terminal.
    Card,
}

impl Tender {
    /// Its name in the API and the books.
    pub fn as_str(self) -> &'static str {
        match self {
            Tender::Lightning => "lightning",
            Tender::Onchain => "onchain",
            Tender::Cash => "cash",
            Tender::Card => "card",
        }
    }

    fn parse(text: &str) -> Option<Tender> {
        [
            Tender::Lightning,
            Tender::Onchain,
            Tender::Cash,
            Tender::Card,
        ]
        .into_iter()
        .find(|t| t.as_str() == text)
    }
}

/// The tenders a sale without an invoice is paid with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OtherTender {
    /// Cash.
    Cash,
    /// A card on an outside terminal.
    Card,
}

impl From<OtherTender> for Tender {
    fn from(t: OtherTender) -> Tender {
        match t {
            OtherTender::Cash => Tender::Cash,
            OtherTender::Card => Tender::Card,
        }
    }
}

/// A sale to record as paid in cash or by card.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSale {
    /// The cart, as for an invoice; its currency must be the merchant's.
    pub cart: Cart,
    /// `cash` or `card`.
    pub tender: OtherTender,
    /// Cash only: what the customer handed over, at least the total (default: the total).
    #[serde(default, deserialize_with = "crate::catalog::order::optional_decimal")]
    #[schema(pattern = "^[0-9]{1,15}([.][0-9]{1,2})?$", nullable = false)]
    pub cash_received: Option<String>,
    /// Card only: the terminal's reference for the payment (up to 200 bytes).
    #[schema(max_length = 200, pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*$")]
    pub reference: Option<String>,
}

/// A refund of a cash or card sale.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaleRefund {
    /// How much, in the sale's currency (default: all that is left).
    #[serde(default, deserialize_with = "crate::catalog::order::optional_decimal")]
    #[schema(pattern = "^[0-9]{1,15}([.][0-9]{1,2})?$", nullable = false)]
    pub amount: Option<String>,
    /// Why (up to 200 bytes).
    #[schema(max_length = 200, pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*$")]
    pub reason: Option<String>,
}

/// Where a sale stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SaleStatus {
    /// Paid, nothing handed back.
    Completed,
    /// Part of it handed back.
    PartiallyRefunded,
    /// All of it handed back.
    Refunded,
}

/// A sale paid in cash or by card.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Sale {
    /// `sale_…`
    pub id: String,
    /// `cash` or `card`.
    pub tender: Tender,
    /// Where it stands.
    pub status: SaleStatus,
    /// The currency it was priced and paid in.
    pub currency: String,
    /// Its lines, taxes, tip and total as charged.
    pub order: Order,
    /// What the customer paid (the order's total).
    pub total: String,
    /// Its worth in millisatoshis at the merchant's rate when it was made (null: no fresh rate).
    pub amount_msat: Option<u64>,
    /// That rate (currency units per bitcoin), if any.
    pub rate: Option<String>,
    /// Cash: what the customer handed over.
    pub cash_received: Option<String>,
    /// Cash: the change given.
    pub change: Option<String>,
    /// Card: the terminal's reference.
    pub reference: Option<String>,
    /// Who took it (null: the owner, or a key other than the till's).
    pub cashier: Option<StaffRef>,
    /// The shift it was taken in.
    pub shift_id: Option<String>,
    /// How much was handed back, in its currency.
    pub refunded: String,
    /// When it was taken.
    pub created_at: String,
}

#[derive(sqlx::FromRow)]
pub(crate) struct SaleRow {
    pub seq: i64,
    pub id: String,
    pub tender: String,
    pub currency: String,
    pub order_json: String,
    pub total: String,
    pub amount_msat: Option<i64>,
    pub rate: Option<String>,
    pub cash_received: Option<String>,
    pub change: Option<String>,
    pub reference: Option<String>,
    pub staff_id: Option<String>,
    pub shift_id: Option<String>,
    pub refunded: String,
    pub created_at: i64,
}

impl Sequenced for SaleRow {
    fn seq(&self) -> i64 {
        self.seq
    }
}

pub(crate) const SALE_COLUMNS: &str = "seq, id, tender, currency, order_json, total, amount_msat, \
     rate, cash_received, change, reference, staff_id, shift_id, refunded, created_at";

impl SaleRow {
    pub(crate) fn tender(&self) -> Tender {
        Tender::parse(&self.tender).unwrap_or(Tender::Cash)
    }

    pub(crate) fn order(&self) -> Result<Order> {
        serde_json::from_str(&self.order_json)
            .map_err(|e| Error::Config(format!("sale {} has an unreadable order: {e}", self.id)))
    }

    pub(crate) fn into_sale(
        self,
        names: &std::collections::HashMap<String, String>,
    ) -> Result<Sale> {
        let order = self.order()?;
        let total: Decimal = self.total.parse().unwrap_or_default();
        let refunded: Decimal = self.refunded.parse().unwrap_or_default();
        Ok(Sale {
            tender: self.tender(),
            status: if refunded.is_zero() {
                SaleStatus::Completed
            } else if refunded >= total {
                SaleStatus::Refunded
            } else {
                SaleStatus::PartiallyRefunded
            },
            cashier: super::staff::person(names, self.staff_id.as_deref()),
            refunded: fixed(refunded, &self.currency),
            id: self.id,
            currency: self.currency,
            order,
            total: self.total,
            amount_msat: self.amount_msat.map(|m| m.max(0) as u64),
            rate: self.rate,
            cash_received: self.cash_received,
            change: self.change,
            reference: self.reference,
            shift_id: self.shift_id,
            created_at: rfc3339(self.created_at),
        })
    }
}

fn check_text(text: Option<&str>, field: &'static str) -> Result<Option<String>> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.len() > MAX_TEXT_BYTES || text.chars().any(char::is_control) {
        return Err(Error::invalid(
            field,
            format!("{field} is at most {MAX_TEXT_BYTES} bytes, on one line"),
        ));
    }
    Ok(Some(text.to_string()))
}

impl Till<'_> {
    /// Records a sale paid in cash or by card, taken with the key `key_id`.
    pub async fn record_sale(&self, new: NewSale, key_id: &str) -> Result<Sale> {
        let tender = Tender::from(new.tender);
        let stamp = match self.stamp_for(key_id).await? {
            Some(stamp) => stamp,
            None => Stamp {
                staff_id: None,
                shift_id: super::shifts::open_shift_id(self.store).await?,
            },
        };
        let merchant = self.rates.merchant_currency().ok_or_else(|| {
            Error::invalid(
                "cart.currency",
                "cash and card sales are priced in the shop's currency: choose one in Settings first",
            )
        })?;
        match new.cart.currency.as_deref() {
            Some(c) if c == merchant => {}
            other => {
                return Err(Error::invalid(
                    "cart.currency",
                    format!(
                        "a cash or card sale is priced in the shop's currency ({merchant}), not {}",
                        other.unwrap_or("sats")
                    ),
                ))
            }
        }
        if tender == Tender::Cash && stamp.shift_id.is_none() {
            return Err(Error::conflict(
                ErrorCode::ShiftRequired,
                "cash goes into the drawer of an open shift: open a shift (with its float) first",
            ));
        }
        if tender != Tender::Cash && new.cash_received.is_some() {
            return Err(Error::invalid(
                "cash_received",
                "cash_received is for cash sales only",
            ));
        }
        if tender != Tender::Card && new.reference.is_some() {
            return Err(Error::invalid(
                "reference",
                "reference is for card sales only (the terminal's reference)",
            ));
        }
        let reference = check_text(new.reference.as_deref(), "reference")?;
        let order = crate::catalog::Catalog::new(self.store)
            .price_cart(&new.cart)
            .await?;
        let total = order.total_decimal();
        let (cash_received, change) = if tender == Tender::Cash {
            let received = match &new.cash_received {
                Some(text) => crate::catalog::order::parse_unit_amount(
                    text,
                    Some(&merchant),
                    "cash_received",
                    false,
                )?,
                None => total,
            };
            if received < total {
                return Err(Error::unprocessable(
                    ErrorCode::InvalidAmount,
                    Some("cash_received"),
                    format!(
                        "{} {merchant} handed over is less than the total of {} {merchant}",
                        fixed(received, &merchant),
                        fixed(total, &merchant)
                    ),
                ));
            }
            (
                Some(fixed(received, &merchant)),
                Some(fixed(received - total, &merchant)),
            )
        } else {
            (None, None)
        };
        let rate = self.rates.cached(&merchant);
        let amount_msat = match &rate {
            Some(rate) => crate::rates::to_sats(total, rate).ok().map(|s| s * 1000),
            None => None,
        };
        let id = new_id("sale");
        let now = now_ms();
        let order_json = serde_json::to_string(&order)
            .map_err(|e| Error::Config(format!("cannot write the sale's order: {e}")))?;
        let names = super::staff::names(self.store).await?;
        let mut tx = self.store.begin_write().await?;
        sqlx::query(
            "INSERT INTO till_sales (id, tender, currency, order_json, total, amount_msat, rate,
                 rate_sources, rate_at, cash_received, change, reference, staff_id, shift_id, key_id,
                 created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(tender.as_str())
        .bind(&merchant)
        .bind(&order_json)
        .bind(fixed(total, &merchant))
        .bind(amount_msat.map(|m| m as i64))
        .bind(rate.as_ref().map(|r| r.per_btc.normalize().to_string()))
        .bind(rate.as_ref().map(|r| r.sources.join(",")))
        .bind(rate.as_ref().map(|r| r.as_of))
        .bind(&cash_received)
        .bind(&change)
        .bind(&reference)
        .bind(&stamp.staff_id)
        .bind(&stamp.shift_id)
        .bind(key_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let sale = sale_row(&mut *tx, &id, None).await?.into_sale(&names)?;
        let record = events::append(
            &mut tx,
            EventKind::SaleCompleted,
            &format!("sale:{id}"),
            sale_payload(&sale),
        )
        .await?;
        crate::print_queue::queue_sale(&mut tx, &id, tender == Tender::Cash).await?;
        tx.commit().await?;
        if let Some(record) = record {
            let _ = self.live.send(record);
        }
        self.state.print_bell.notify_one();
        Ok(sale)
    }

    /// One sale (with `made_by`, only one that key took).
    pub async fn sale(&self, id: &str, made_by: Option<&str>) -> Result<Sale> {
        let names = super::staff::names(self.store).await?;
        sale_row(self.store.pool(), id, made_by)
            .await?
            .into_sale(&names)
    }

    /// Sales in cash or by card, newest first (with `made_by`, only those that key took).
    pub async fn sales(
        &self,
        tender: Option<OtherTender>,
        made_by: Option<&str>,
        limit: i64,
        cursor: Option<&str>,
    ) -> Result<Page<Sale>> {
        let before = parse_cursor(cursor)?;
        let rows: Vec<SaleRow> = sqlx::query_as(&format!(
            "SELECT {SALE_COLUMNS} FROM till_sales
             WHERE seq < ?1 AND (?2 IS NULL OR tender = ?2) AND (?3 IS NULL OR key_id = ?3)
             ORDER BY seq DESC LIMIT ?4"
        ))
        .bind(before)
        .bind(tender.map(|t| Tender::from(t).as_str()))
        .bind(made_by)
        .bind(limit + 1)
        .fetch_all(self.store.pool())
        .await?;
        let names = super::staff::names(self.store).await?;
        let mut failed = None;
        let page = page(rows, limit, |row| match row.into_sale(&names) {
            Ok(sale) => Some(sale),
            Err(e) => {
                failed = Some(e);
                None
            }
        });
        if let Some(e) = failed {
            return Err(e);
        }
        Ok(Page {
            data: page.data.into_iter().flatten().collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// Hands back money of a cash or card sale (all that is left unless `amount` says less).
    /// Cash comes out of the drawer of the open shift.
    pub async fn refund_sale(&self, id: &str, refund: SaleRefund, key_id: &str) -> Result<Sale> {
        let names = super::staff::names(self.store).await?;
        let sale = sale_row(self.store.pool(), id, None)
            .await?
            .into_sale(&names)?;
        let stamp = match self.stamp_for(key_id).await? {
            Some(stamp) => stamp,
            None => Stamp {
                staff_id: None,
                shift_id: super::shifts::open_shift_id(self.store).await?,
            },
        };
        if sale.tender == Tender::Cash && stamp.shift_id.is_none() {
            return Err(Error::conflict(
                ErrorCode::ShiftRequired,
                "cash comes out of the drawer of an open shift: open a shift first",
            ));
        }
        let reason = check_text(refund.reason.as_deref(), "reason")?;
        let total: Decimal = sale.total.parse().unwrap_or_default();
        let refund_id = new_id("srf");
        // What was refunded is read under the write lock: two refunds at once are judged one
        // after the other, so together they never pass the sale's total.
        let mut tx = self.store.begin_write().await?;
        let refunded: String = sqlx::query_scalar("SELECT refunded FROM till_sales WHERE id = ?")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        let refunded: Decimal = refunded.parse().unwrap_or_default();
        let left = total - refunded;
        let amount = match &refund.amount {
            Some(text) => crate::catalog::order::parse_unit_amount(
                text,
                Some(&sale.currency),
                "amount",
                false,
            )?,
            None => left,
        };
        if left <= Decimal::ZERO || amount > left {
            return Err(Error::unprocessable(
                ErrorCode::RefundExceedsReceived,
                Some("amount"),
                format!(
                    "{} {c} is more than is left of this sale ({} {c} of {} {c})",
                    fixed(amount, &sale.currency),
                    fixed(left.max(Decimal::ZERO), &sale.currency),
                    sale.total,
                    c = sale.currency
                ),
            ));
        }
        sqlx::query("UPDATE till_sales SET refunded = ? WHERE id = ?")
            .bind(fixed(refunded + amount, &sale.currency))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO till_refunds (id, sale_id, amount, reason, staff_id, shift_id, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&refund_id)
        .bind(id)
        .bind(fixed(amount, &sale.currency))
        .bind(&reason)
        .bind(&stamp.staff_id)
        .bind(&stamp.shift_id)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        let after = sale_row(&mut *tx, id, None).await?.into_sale(&names)?;
        let record = events::append(
            &mut tx,
            EventKind::SaleRefunded,
            &format!("sale-refund:{refund_id}"),
            json!({
                "sale_id": id,
                "refund_id": refund_id,
                "tender": after.tender,
                "amount": fixed(amount, &sale.currency),
                "currency": sale.currency,
                "reason": reason,
                "cashier": super::staff::person(&names, stamp.staff_id.as_deref()),
                "shift_id": stamp.shift_id,
                "sale": after,
            }),
        )
        .await?;
        if after.tender == Tender::Cash {
            crate::print_queue::queue_drawer(&mut tx, Some(id), false).await?;
        }
        tx.commit().await?;
        if let Some(record) = record {
            let _ = self.live.send(record);
        }
        self.state.print_bell.notify_one();
        Ok(after)
    }
}

/// The row of the sale `id` (with `made_by`, only one that key took), on `conn`.
pub(crate) async fn sale_row<'c, E>(conn: E, id: &str, made_by: Option<&str>) -> Result<SaleRow>
where
    E: sqlx::Executor<'c, Database = sqlx::Sqlite>,
{
    sqlx::query_as(&format!(
        "SELECT {SALE_COLUMNS} FROM till_sales WHERE id = ? AND (?2 IS NULL OR key_id = ?2)"
    ))
    .bind(id)
    .bind(made_by)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| Error::NotFound {
        kind: "sale",
        id: id.to_string(),
    })
}

/// What `sale.completed` says: the sale as the API shows it.
fn sale_payload(sale: &Sale) -> serde_json::Value {
    json!({ "sale_id": sale.id, "sale": sale })
}
