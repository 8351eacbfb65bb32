//! Invoices: the request to create one, its validation, and its rows.

use serde::{Deserialize, Serialize};
use sqlx::{Row, SqliteConnection};

use crate::error::{Error, Result};
use crate::store::Store;
use crate::util::{now_ms, rfc3339};

/// The largest amount that can exist: 21 million BTC, in sats.
pub const MAX_SATS: i64 = 21_000_000 * 100_000_000;
/// BOLT11 stores the description in a field of at most 639 bytes.
pub const MAX_DESCRIPTION_BYTES: usize = 639;
/// The default invoice lifetime (seconds).
pub const DEFAULT_EXPIRY: i64 = 3600;
/// The longest invoice lifetime we issue: one year.
pub const MAX_EXPIRY: i64 = 365 * 24 * 3600;

/// A request to create an invoice, as the API receives it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInvoice {
    /// Amount in sats; omitted or null for an any-amount invoice.
    #[schema(minimum = 1, maximum = 2_100_000_000_000_000_i64)]
    pub amount: Option<i64>,
    /// What the payer sees in their wallet.
    #[serde(default)]
    pub description: Option<String>,
    /// Lifetime in seconds (default 3600).
    #[schema(minimum = 1, maximum = 31_536_000)]
    pub expiry: Option<i64>,
    /// The shop's own reference (an order number).
    pub external_id: Option<String>,
    /// Free-form JSON object kept with the invoice.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
}

/// A validated invoice request.
#[derive(Debug, Clone)]
pub struct ValidInvoice {
    /// Amount in millisatoshis, if fixed.
    pub amount_msat: Option<u64>,
    /// Description.
    pub description: String,
    /// Lifetime in seconds.
    pub expiry: u32,
    /// Shop reference.
    pub external_id: Option<String>,
    /// Metadata object (serialised).
    pub metadata: String,
}

impl CreateInvoice {
    /// Checks every field, with a message a person can act on.
    pub fn validate(self) -> Result<ValidInvoice> {
        let amount_msat =
            match self.amount {
                None => None,
                Some(a) if a <= 0 => return Err(Error::unprocessable(
                    "invalid_amount",
                    Some("amount"),
                    "amount must be a positive number of sats (omit it for an any-amount invoice)",
                )),
                Some(a) if a > MAX_SATS => {
                    return Err(Error::unprocessable(
                        "invalid_amount",
                        Some("amount"),
                        format!("amount {a} sat is more than the 21 million BTC that can exist"),
                    ))
                }
                Some(a) => Some(a as u64 * 1000),
            };
        let description = self.description.unwrap_or_default();
        if description.len() > MAX_DESCRIPTION_BYTES {
            return Err(Error::invalid(
                "description",
                format!(
                    "description is {} bytes; a Lightning invoice holds at most {MAX_DESCRIPTION_BYTES}",
                    description.len()
                ),
            ));
        }
        let expiry = self.expiry.unwrap_or(DEFAULT_EXPIRY);
        if !(1..=MAX_EXPIRY).contains(&expiry) {
            return Err(Error::unprocessable(
                "invalid_expiry",
                Some("expiry"),
                format!(
                    "expiry must be between 1 and {MAX_EXPIRY} seconds (one year); got {expiry}"
                ),
            ));
        }
        if let Some(ext) = &self.external_id {
            if ext.is_empty() || ext.len() > 255 {
                return Err(Error::invalid(
                    "external_id",
                    "external_id must be 1 to 255 bytes",
                ));
            }
        }
        let metadata = match self.metadata {
            None | Some(serde_json::Value::Null) => "{}".to_string(),
            Some(v @ serde_json::Value::Object(_)) => {
                let text = v.to_string();
                if text.len() > 4096 {
                    return Err(Error::invalid(
                        "metadata",
                        "metadata must be at most 4096 bytes of JSON",
                    ));
                }
                text
            }
            Some(_) => return Err(Error::invalid("metadata", "metadata must be a JSON object")),
        };
        Ok(ValidInvoice {
            amount_msat,
            description,
            expiry: expiry as u32,
            external_id: self.external_id,
            metadata,
        })
    }
}

/// An invoice as the API returns it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Invoice {
    /// `inv_…`
    pub id: String,
    /// `pending`, `paid` or `expired`.
    pub status: String,
    /// Amount asked, in sats (null for any-amount).
    pub amount: Option<u64>,
    /// Amount received, in sats, once paid.
    pub amount_received: Option<u64>,
    /// Exact amount asked, in millisatoshis.
    pub amount_msat: Option<u64>,
    /// Description.
    pub description: String,
    /// The BOLT11 string.
    pub payment_request: String,
    /// Hex payment hash.
    pub payment_hash: String,
    /// Lifetime in seconds.
    pub expiry: i64,
    /// When it expires.
    pub expires_at: String,
    /// When it was created.
    pub created_at: String,
    /// When it was paid.
    pub paid_at: Option<String>,
    /// The shop's reference.
    pub external_id: Option<String>,
    /// The shop's metadata object.
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
}

/// The row fields needed to insert an invoice.
pub(crate) struct NewInvoiceRow<'a> {
    pub id: &'a str,
    pub payment_hash: &'a str,
    pub payment_request: &'a str,
    pub valid: &'a ValidInvoice,
    pub created_at: i64,
    pub key_id: Option<&'a str>,
}

pub(crate) async fn insert(store: &Store, row: NewInvoiceRow<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO invoices (id, payment_hash, amount_msat, description, payment_request, expiry,
             expires_at, created_at, status, external_id, metadata, key_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
    )
    .bind(row.id)
    .bind(row.payment_hash)
    .bind(row.valid.amount_msat.map(|a| a as i64))
    .bind(&row.valid.description)
    .bind(row.payment_request)
    .bind(row.valid.expiry as i64)
    .bind(row.created_at + row.valid.expiry as i64 * 1000)
    .bind(row.created_at)
    .bind(&row.valid.external_id)
    .bind(&row.valid.metadata)
    .bind(row.key_id)
    .execute(store.pool())
    .await?;
    Ok(())
}

const COLUMNS: &str = "seq, id, payment_hash, amount_msat, amount_received_msat, description, \
     payment_request, expiry, expires_at, created_at, paid_at, status, external_id, metadata";

/// One invoice by id (`inv_…`) or payment hash.
pub async fn get(store: &Store, id_or_hash: &str) -> Result<Invoice> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM invoices WHERE id = ?1 OR payment_hash = lower(?1)"
    ))
    .bind(id_or_hash)
    .fetch_optional(store.pool())
    .await?
    .ok_or_else(|| Error::NotFound {
        kind: "invoice",
        id: id_or_hash.to_string(),
    })?;
    from_row(&row, now_ms())
}

/// A page of invoices, newest first.
pub struct Page<T> {
    /// The items.
    pub data: Vec<T>,
    /// The cursor for the next page, if there is one.
    pub next_cursor: Option<String>,
}

/// Lists invoices newest first. `status` filters (`pending`, `paid`, `expired`); `cursor` is the
/// `next_cursor` of the previous page.
pub async fn list(
    store: &Store,
    status: Option<&str>,
    limit: i64,
    cursor: Option<&str>,
) -> Result<Page<Invoice>> {
    let before = parse_cursor(cursor)?;
    if let Some(s) = status {
        if !["pending", "paid", "expired"].contains(&s) {
            return Err(Error::invalid(
                "status",
                format!("unknown status '{s}': use pending, paid or expired"),
            ));
        }
    }
    let now = now_ms();
    // `expired` is derived: a pending invoice past its expiry is expired even before any task
    // marks it, so the filter compares the derived status.
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM invoices WHERE seq < ?1 AND (?4 IS NULL OR
           (CASE WHEN status = 'pending' AND expires_at <= ?3 THEN 'expired' ELSE status END) = ?4)
         ORDER BY seq DESC LIMIT ?2"
    ))
    .bind(before)
    .bind(limit + 1)
    .bind(now)
    .bind(status)
    .fetch_all(store.pool())
    .await?;
    page(rows, limit, |row| from_row(row, now))
}

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

pub(crate) fn page<T>(
    rows: Vec<sqlx::sqlite::SqliteRow>,
    limit: i64,
    map: impl Fn(&sqlx::sqlite::SqliteRow) -> Result<T>,
) -> Result<Page<T>> {
    let more = rows.len() as i64 > limit;
    let mut data = Vec::with_capacity(rows.len());
    let mut last_seq = None;
    for row in rows.iter().take(limit.max(0) as usize) {
        last_seq = Some(row.try_get::<i64, _>("seq")?);
        data.push(map(row)?);
    }
    let next_cursor = if more {
        last_seq.map(|s| s.to_string())
    } else {
        None
    };
    Ok(Page { data, next_cursor })
}

/// Marks the invoice with `payment_hash` paid, inside the caller's transaction. Returns the
/// invoice if this call changed it, `None` if it was paid already or is not ours.
pub(crate) async fn mark_paid(
    tx: &mut SqliteConnection,
    payment_hash: &str,
    amount_msat: u64,
    at: i64,
) -> Result<Option<Invoice>> {
    let row = sqlx::query(&format!(
        "UPDATE invoices SET status = 'paid', amount_received_msat = ?, paid_at = ?
         WHERE payment_hash = ? AND status != 'paid' RETURNING {COLUMNS}"
    ))
    .bind(amount_msat as i64)
    .bind(at)
    .bind(payment_hash)
    .fetch_optional(&mut *tx)
    .await?;
    row.map(|r| from_row(&r, at)).transpose()
}

/// Marks pending invoices whose time is up as `expired`, returning them.
pub(crate) async fn mark_expired(tx: &mut SqliteConnection, now: i64) -> Result<Vec<Invoice>> {
    let rows = sqlx::query(&format!(
        "UPDATE invoices SET status = 'expired' WHERE status = 'pending' AND expires_at <= ?
         RETURNING {COLUMNS}"
    ))
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    let mut out = rows
        .iter()
        .map(|r| from_row(r, now))
        .collect::<Result<Vec<_>>>()?;
    // RETURNING gives no order; events should follow the invoices' own order.
    out.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
    Ok(out)
}

/// When the earliest pending invoice expires (unix ms).
pub(crate) async fn next_expiry(store: &Store) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT MIN(expires_at) FROM invoices WHERE status = 'pending'")
            .fetch_one(store.pool())
            .await?,
    )
}

fn from_row(row: &sqlx::sqlite::SqliteRow, now: i64) -> Result<Invoice> {
    let amount_msat: Option<i64> = row.try_get("amount_msat")?;
    let received: Option<i64> = row.try_get("amount_received_msat")?;
    let expires_at: i64 = row.try_get("expires_at")?;
    let paid_at: Option<i64> = row.try_get("paid_at")?;
    let mut status: String = row.try_get("status")?;
    if status == "pending" && expires_at <= now {
        status = "expired".into();
    }
    let metadata: String = row.try_get("metadata")?;
    Ok(Invoice {
        id: row.try_get("id")?,
        status,
        amount: amount_msat.map(|m| m as u64 / 1000),
        amount_received: received.map(|m| m as u64 / 1000),
        amount_msat: amount_msat.map(|m| m as u64),
        description: row.try_get("description")?,
        payment_request: row.try_get("payment_request")?,
        payment_hash: row.try_get("payment_hash")?,
        expiry: row.try_get("expiry")?,
        expires_at: rfc3339(expires_at),
        created_at: rfc3339(row.try_get("created_at")?),
        paid_at: paid_at.map(rfc3339),
        external_id: row.try_get("external_id")?,
        metadata: serde_json::from_str(&metadata).unwrap_or_else(|_| serde_json::json!({})),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(amount: Option<i64>, description: &str, expiry: Option<i64>) -> CreateInvoice {
        CreateInvoice {
            amount,
            description: Some(description.into()),
            expiry,
            ..Default::default()
        }
    }

    #[test]
    fn validation_table() {
        let code = |r: CreateInvoice| r.validate().err().map(|e| e.code());
        assert_eq!(code(req(Some(1000), "Coffee", Some(3600))), None);
        assert_eq!(code(req(None, "tip jar", None)), None);
        assert_eq!(code(req(Some(0), "x", None)), Some("invalid_amount"));
        assert_eq!(code(req(Some(-5), "x", None)), Some("invalid_amount"));
        assert_eq!(
            code(req(Some(MAX_SATS + 1), "x", None)),
            Some("invalid_amount")
        );
        assert_eq!(
            code(req(Some(1), &"d".repeat(640), None)),
            Some("invalid_field")
        );
        assert_eq!(code(req(Some(1), "x", Some(0))), Some("invalid_expiry"));
        assert_eq!(
            code(req(Some(1), "x", Some(MAX_EXPIRY + 1))),
            Some("invalid_expiry")
        );
        let mut bad_meta = req(Some(1), "x", None);
        bad_meta.metadata = Some(serde_json::json!([1, 2]));
        assert_eq!(code(bad_meta), Some("invalid_field"));
    }

    #[test]
    fn cursor_must_be_positive_number() {
        assert_eq!(parse_cursor(None).ok(), Some(i64::MAX));
        assert_eq!(parse_cursor(Some("42")).ok(), Some(42));
        assert!(parse_cursor(Some("abc")).is_err());
        assert!(parse_cursor(Some("-1")).is_err());
    }
}
