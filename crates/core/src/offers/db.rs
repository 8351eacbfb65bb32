//! Offer rows, with what each has received (from the invoices its payments became).

use sqlx::SqliteConnection;

use super::{Offer, OfferPayment};
use crate::error::{Error, Result};
use crate::invoices::{db as invoices, Invoice};
use crate::rates::Recorded;
use crate::store::{page, parse_cursor, Page, Sequenced, Store};
use crate::util::rfc3339;

pub(crate) struct NewOffer<'a> {
    pub id: &'a str,
    pub offer: &'a str,
    pub offer_hash: &'a str,
    pub description: &'a str,
    pub amount_msat: Option<u64>,
    pub max_quantity: Option<u64>,
    pub created_at: i64,
    pub key_id: Option<&'a str>,
}

pub(crate) async fn insert(store: &Store, row: NewOffer<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO offers (id, offer, offer_hash, description, amount_msat, max_quantity,
             created_at, key_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(row.id)
    .bind(row.offer)
    .bind(row.offer_hash)
    .bind(row.description)
    .bind(row.amount_msat.map(|a| a as i64))
    .bind(row.max_quantity.map(|q| q as i64))
    .bind(row.created_at)
    .bind(row.key_id)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// An offer with its payments summed: the one query every read shares.
const SELECT: &str = "SELECT o.seq, o.id, o.offer, o.description, o.amount_msat, o.max_quantity,
        o.created_at, COUNT(i.seq) AS payments,
        COALESCE(SUM(i.amount_received_msat), 0) AS received_msat, MAX(i.paid_at) AS last_paid_at
     FROM offers o LEFT JOIN invoices i ON i.offer_id = o.id AND i.status = 'paid'";

#[derive(sqlx::FromRow)]
struct OfferRow {
    seq: i64,
    id: String,
    offer: String,
    description: String,
    amount_msat: Option<i64>,
    max_quantity: Option<i64>,
    created_at: i64,
    payments: i64,
    received_msat: i64,
    last_paid_at: Option<i64>,
}

impl Sequenced for OfferRow {
    fn seq(&self) -> i64 {
        self.seq
    }
}

impl From<OfferRow> for Offer {
    fn from(row: OfferRow) -> Offer {
        let received = row.received_msat.max(0) as u64;
        Offer {
            id: row.id,
            offer: row.offer,
            description: row.description,
            amount: row.amount_msat.map(|m| m.max(0) as u64 / 1000),
            amount_msat: row.amount_msat.map(|m| m.max(0) as u64),
            max_quantity: row.max_quantity.map(|q| q.max(0) as u64),
            created_at: rfc3339(row.created_at),
            payments: row.payments.max(0) as u64,
            amount_received: received / 1000,
            amount_received_msat: received,
            last_paid_at: row.last_paid_at.map(rfc3339),
        }
    }
}

/// One offer by id; with `key`, only if that API key made it (another's is "not found").
pub(crate) async fn get(store: &Store, id: &str, key: Option<&str>) -> Result<Offer> {
    let row: Option<OfferRow> = sqlx::query_as(&format!(
        "{SELECT} WHERE o.id = ?1 AND (?2 IS NULL OR o.key_id = ?2) GROUP BY o.seq"
    ))
    .bind(id)
    .bind(key)
    .fetch_optional(store.pool())
    .await?;
    row.map(Offer::from).ok_or_else(|| Error::NotFound {
        kind: "offer",
        id: id.to_string(),
    })
}

/// Offers newest first, only those `key` made when given.
pub(crate) async fn list(
    store: &Store,
    key: Option<&str>,
    limit: i64,
    cursor: Option<&str>,
) -> Result<Page<Offer>> {
    let before = parse_cursor(cursor)?;
    let rows: Vec<OfferRow> = sqlx::query_as(&format!(
        "{SELECT} WHERE o.seq < ?1 AND (?3 IS NULL OR o.key_id = ?3)
         GROUP BY o.seq ORDER BY o.seq DESC LIMIT ?2"
    ))
    .bind(before)
    .bind(limit + 1)
    .bind(key)
    .fetch_all(store.pool())
    .await?;
    Ok(page(rows, limit, Offer::from))
}

/// Records a payment to one of our offers as a paid invoice, inside the caller's transaction
/// (`rate`: the merchant's rate of the moment, to value it). Returns the invoice, or `None` if
/// the offer is not one this app made or the payment is recorded already (a replay).
pub(crate) async fn record_payment(
    tx: &mut SqliteConnection,
    paid: &OfferPayment,
    payment_hash: &str,
    amount_msat: u64,
    rate: Option<&Recorded>,
    at: i64,
) -> Result<Option<Invoice>> {
    #[derive(sqlx::FromRow)]
    struct Paid {
        id: String,
        offer: String,
        description: String,
        amount_msat: Option<i64>,
        key_id: Option<String>,
    }
    let found: Option<Paid> = sqlx::query_as(
        "SELECT id, offer, description, amount_msat, key_id FROM offers WHERE offer_hash = ?",
    )
    .bind(&paid.offer_hash)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(Paid {
        id,
        offer,
        description,
        amount_msat: price_msat,
        key_id,
    }) = found
    else {
        return Ok(None);
    };
    // What the offer asked: its price times the quantity (LDK checked the payment covers it).
    let asked = price_msat.map(|p| p.max(0) as u64 * paid.quantity.unwrap_or(1).max(1));
    invoices::insert_offer_payment(
        tx,
        invoices::OfferPaymentRow {
            payment_hash,
            amount_msat: asked,
            amount_received_msat: amount_msat,
            description: &description,
            offer: &offer,
            offer_id: &id,
            payer_note: paid.payer_note.as_deref(),
            quantity: paid.quantity,
            key_id: key_id.as_deref(),
            fiat: rate,
            at,
        },
    )
    .await
}
