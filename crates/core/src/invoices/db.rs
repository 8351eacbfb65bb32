//! Invoice rows: the one column list, the row struct, and the queries.

use sqlx::SqliteConnection;

use super::{Invoice, InvoiceLsp, InvoiceSearch, InvoiceStatus, InvoiceWarning, ValidInvoice};
use crate::error::{Error, Result};
use crate::rates::Recorded;
use crate::store::{page, parse_cursor, Page, Sequenced, Store};
use crate::util::{now_ms, rfc3339};

/// The row fields needed to insert an invoice.
pub(crate) struct NewInvoiceRow<'a> {
    pub id: &'a str,
    pub payment_hash: &'a str,
    pub payment_request: &'a str,
    pub valid: &'a ValidInvoice,
    pub created_at: i64,
    pub key_id: Option<&'a str>,
    pub warnings: &'a [InvoiceWarning],
    pub lsp: Option<&'a InvoiceLsp>,
    pub fiat: Option<&'a Recorded>,
    /// The address it may also be paid to on-chain.
    pub onchain_address: Option<&'a str>,
    /// More to write in the same transaction (see [`super::AlsoWrite`]).
    pub also: Option<super::AlsoWrite>,
}

/// Inserts a new invoice and returns it as stored (one statement: no read after the write),
/// once the transaction that holds it has committed: concurrent requests' invoices share one
/// (see [`crate::store::Batcher`]).
pub(crate) async fn insert(store: &Store, row: NewInvoiceRow<'_>) -> Result<Invoice> {
    let created_at = row.created_at;
    let id = row.id.to_string();
    // Owned values: the statement runs on the batch task, after this call has lent them.
    let values = InsertValues {
        id: id.clone(),
        payment_hash: row.payment_hash.to_string(),
        amount_msat: row.valid.amount_msat.map(|a| a as i64),
        description: row.valid.description.clone(),
        payment_request: row.payment_request.to_string(),
        expiry: row.valid.expiry as i64,
        external_id: row.valid.external_id.clone(),
        metadata: row.valid.metadata.clone(),
        key_id: row.key_id.map(str::to_string),
        warnings: serde_json::to_string(row.warnings).unwrap_or_else(|_| "[]".into()),
        lsp_node_id: row.lsp.map(|l| l.node_id.clone()),
        lsp_max_fee_msat: row.lsp.map(|l| l.max_fee_msat as i64),
        fiat_currency: row.fiat.map(|f| f.currency.clone()),
        fiat_rate: row.fiat.map(|f| f.rate.to_string()),
        fiat_sources: row.fiat.map(Recorded::sources_column),
        fiat_rate_at: row.fiat.map(|f| f.rate_at),
        fiat_price: row.fiat.and_then(|f| f.price.map(|p| p.to_string())),
        order_json: row
            .valid
            .order
            .as_ref()
            .and_then(|o| serde_json::to_string(o).ok()),
        onchain_address: row.onchain_address.map(str::to_string),
    };
    let also = row.also;
    let inserted: Vec<InvoiceRow> = store
        .batch()
        .write(move |conn: &mut SqliteConnection| {
            Box::pin(async move {
                let v = values;
                let invoice_id = v.id.clone();
                let rows: Vec<InvoiceRow> = sqlx::query_as(&format!(
                    "INSERT INTO invoices (id, payment_hash, amount_msat, description, payment_request, expiry,
                         expires_at, created_at, status, external_id, metadata, key_id, warnings, lsp_node_id,
                         lsp_max_fee_msat, fiat_currency, fiat_rate, fiat_sources, fiat_rate_at, fiat_price,
                         order_json, onchain_address)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                     RETURNING {COLUMNS}"
                ))
                .bind(v.id)
                .bind(v.payment_hash)
                .bind(v.amount_msat)
                .bind(v.description)
                .bind(v.payment_request)
                .bind(v.expiry)
                .bind(created_at + v.expiry * 1000)
                .bind(created_at)
                .bind(v.external_id)
                .bind(v.metadata)
                .bind(v.key_id)
                .bind(v.warnings)
                .bind(v.lsp_node_id)
                .bind(v.lsp_max_fee_msat)
                .bind(v.fiat_currency)
                .bind(v.fiat_rate)
                .bind(v.fiat_sources)
                .bind(v.fiat_rate_at)
                .bind(v.fiat_price)
                .bind(v.order_json)
                .bind(v.onchain_address)
                // All rows, not fetch_one: a statement stopped at its first row has not
                // finished, and its write would not be part of the commit.
                .fetch_all(&mut *conn)
                .await?;
                if let Some(also) = also {
                    also(conn, invoice_id).await?;
                }
                Ok(rows)
            })
        })
        .await?;
    inserted
        .into_iter()
        .next()
        .map(|row| row.into_invoice(created_at))
        .ok_or(Error::NotFound {
            kind: "invoice",
            id,
        })
}

/// An invoice's column values, owned, for the insert that runs on the batch task.
struct InsertValues {
    id: String,
    payment_hash: String,
    amount_msat: Option<i64>,
    description: String,
    payment_request: String,
    expiry: i64,
    external_id: Option<String>,
    metadata: String,
    key_id: Option<String>,
    warnings: String,
    lsp_node_id: Option<String>,
    lsp_max_fee_msat: Option<i64>,
    fiat_currency: Option<String>,
    fiat_rate: Option<String>,
    fiat_sources: Option<String>,
    fiat_rate_at: Option<i64>,
    fiat_price: Option<String>,
    order_json: Option<String>,
    onchain_address: Option<String>,
}

/// The columns of an invoice, in [`InvoiceRow`]'s order.
pub(super) const COLUMNS: &str = "seq, id, payment_hash, amount_msat, amount_received_msat, description, \
     payment_request, expiry, expires_at, created_at, paid_at, status, external_id, metadata, \
     warnings, lsp_node_id, lsp_max_fee_msat, lsp_fee_msat, fiat_currency, fiat_rate, fiat_sources, \
     fiat_rate_at, fiat_price, order_json, refunded_msat, offer_id, payer_note, quantity, onchain_address, \
     onchain_received_sat, onchain_txid";

#[derive(sqlx::FromRow)]
pub(super) struct InvoiceRow {
    seq: i64,
    id: String,
    payment_hash: String,
    amount_msat: Option<i64>,
    amount_received_msat: Option<i64>,
    description: String,
    payment_request: String,
    expiry: i64,
    expires_at: i64,
    created_at: i64,
    paid_at: Option<i64>,
    status: InvoiceStatus,
    external_id: Option<String>,
    metadata: String,
    warnings: String,
    lsp_node_id: Option<String>,
    lsp_max_fee_msat: Option<i64>,
    lsp_fee_msat: Option<i64>,
    fiat_currency: Option<String>,
    fiat_rate: Option<String>,
    fiat_sources: Option<String>,
    fiat_rate_at: Option<i64>,
    fiat_price: Option<String>,
    order_json: Option<String>,
    refunded_msat: i64,
    offer_id: Option<String>,
    payer_note: Option<String>,
    quantity: Option<i64>,
    onchain_address: Option<String>,
    onchain_received_sat: i64,
    onchain_txid: Option<String>,
}

impl Sequenced for InvoiceRow {
    fn seq(&self) -> i64 {
        self.seq
    }
}

impl InvoiceRow {
    /// The invoice as of `now`: a pending invoice past its expiry reads `expired` even before
    /// the expiry task marks it.
    pub(super) fn into_invoice(self, now: i64) -> Invoice {
        let status = match self.status {
            InvoiceStatus::Pending if self.expires_at <= now => InvoiceStatus::Expired,
            status => status,
        };
        let fiat = Recorded::from_columns(
            self.fiat_currency,
            self.fiat_rate,
            self.fiat_sources,
            self.fiat_rate_at,
            self.fiat_price,
        )
        .map(|rec| {
            let msat = self.amount_received_msat.or(self.amount_msat);
            rec.view(
                msat.map(|m| m.max(0) as u64),
                self.lsp_fee_msat.map(|f| f.max(0) as u64),
            )
        });
        let refunded_msat = self.refunded_msat.max(0) as u64;
        Invoice {
            fiat,
            amount_refunded: refunded_msat.div_ceil(1000),
            amount_refunded_msat: refunded_msat,
            order: self
                .order_json
                .as_deref()
                .and_then(|o| serde_json::from_str(o).ok()),
            onchain: self.onchain_address.map(|address| super::InvoiceOnchain {
                uri: super::bip21(
                    &address,
                    self.amount_msat.unwrap_or(0).max(0) as u64 / 1000,
                    &self.description,
                    &self.payment_request,
                ),
                address,
                received: self.onchain_received_sat.max(0) as u64,
                txid: self.onchain_txid,
            }),
            offer_id: self.offer_id,
            payer_note: self.payer_note,
            quantity: self.quantity.map(|q| q.max(0) as u64),
            id: self.id,
            status,
            amount: self.amount_msat.map(|m| m as u64 / 1000),
            amount_received: self.amount_received_msat.map(|m| m as u64 / 1000),
            amount_received_msat: self.amount_received_msat.map(|m| m as u64),
            amount_msat: self.amount_msat.map(|m| m as u64),
            description: self.description,
            payment_request: self.payment_request,
            payment_hash: self.payment_hash,
            expiry: self.expiry,
            expires_at: rfc3339(self.expires_at),
            created_at: rfc3339(self.created_at),
            paid_at: self.paid_at.map(rfc3339),
            external_id: self.external_id,
            metadata: serde_json::from_str(&self.metadata)
                .unwrap_or_else(|_| serde_json::json!({})),
            // A paid invoice was payable after all: what was feared no longer applies.
            warnings: match status {
                InvoiceStatus::Paid => Vec::new(),
                _ => serde_json::from_str(&self.warnings).unwrap_or_default(),
            },
            lsp: self.lsp_node_id.map(|node_id| {
                let max_fee_msat = self.lsp_max_fee_msat.unwrap_or(0).max(0) as u64;
                let fee_msat = self.lsp_fee_msat.map(|f| f.max(0) as u64);
                InvoiceLsp {
                    node_id,
                    max_fee: max_fee_msat.div_ceil(1000),
                    max_fee_msat,
                    fee: fee_msat.map(|f| f.div_ceil(1000)),
                    fee_msat,
                }
            }),
        }
    }
}

/// One invoice by id (`inv_…`) or payment hash.
pub(crate) async fn get(store: &Store, id_or_hash: &str) -> Result<Invoice> {
    get_made_by(store, id_or_hash, None).await
}

/// One invoice by id or payment hash; with `key`, only if that API key made it (another's is
/// "not found", so a key cannot learn which ids exist).
pub(crate) async fn get_made_by(
    store: &Store,
    id_or_hash: &str,
    key: Option<&str>,
) -> Result<Invoice> {
    let row: InvoiceRow = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM invoices WHERE (id = ?1 OR payment_hash = lower(?1))
           AND (?2 IS NULL OR key_id = ?2)"
    ))
    .bind(id_or_hash)
    .bind(key)
    .fetch_optional(store.pool())
    .await?
    .ok_or_else(|| Error::NotFound {
        kind: "invoice",
        id: id_or_hash.to_string(),
    })?;
    Ok(row.into_invoice(now_ms()))
}

/// Invoices newest first, optionally of one (derived) status, and only those `key` made.
pub(crate) async fn list(
    store: &Store,
    search: &InvoiceSearch,
    key: Option<&str>,
    limit: i64,
    cursor: Option<&str>,
) -> Result<Page<Invoice>> {
    let before = parse_cursor(cursor)?;
    let now = now_ms();
    let text = search.text.as_deref().map(str::to_lowercase);
    // `expired` is derived: a pending invoice past its expiry is expired even before any task
    // marks it. Each status is written on the stored one, so the (status, seq) index serves it:
    // a rare status is found without reading the whole history. Text is a substring of the
    // description, external id or payer's note (SQLite's lower() folds ASCII letters only), or
    // the whole id or payment hash. The amount is what was asked, or for an invoice whose payer
    // chose, what arrived.
    let filters = "seq < ?1
           AND (?4 IS NULL OR key_id = ?4)
           AND (?5 IS NULL OR instr(lower(description), ?5) > 0
                OR instr(lower(COALESCE(external_id, '')), ?5) > 0
                OR instr(lower(COALESCE(payer_note, '')), ?5) > 0
                OR id = ?5 OR payment_hash = ?5)
           AND (?6 IS NULL OR COALESCE(amount_msat, amount_received_msat) >= ?6)
           AND (?7 IS NULL OR COALESCE(amount_msat, amount_received_msat) <= ?7)
           AND (?8 IS NULL OR created_at >= ?8)
           AND (?9 IS NULL OR created_at < ?9)";
    let select = |status: &str| format!("SELECT {COLUMNS} FROM invoices WHERE {status} {filters}");
    let sql = match search.status {
        None => select(""),
        Some(InvoiceStatus::Paid) => select("status = 'paid' AND"),
        Some(InvoiceStatus::Pending) => select("status = 'pending' AND expires_at > ?3 AND"),
        // Two arms, each in seq order from the index, merged (UNION ALL with ORDER BY): an OR
        // would sort every expired invoice to return a page.
        Some(InvoiceStatus::Expired) => format!(
            "{} UNION ALL {}",
            select("status = 'expired' AND"),
            select("status = 'pending' AND expires_at <= ?3 AND")
        ),
    };
    let rows: Vec<InvoiceRow> = sqlx::query_as(&format!("{sql} ORDER BY seq DESC LIMIT ?2"))
        .bind(before)
        .bind(limit + 1)
        .bind(now)
        .bind(key)
        .bind(text)
        // At most 21 million BTC each (`InvoiceSearch::check`), so the msat fit an i64. Up to the
        // last msat of the upper sat: 1,000 sats matches 1,000.5 sats asked.
        .bind(search.min_amount.map(|sat| msat_bound(sat, 0)))
        .bind(search.max_amount.map(|sat| msat_bound(sat, 999)))
        .bind(search.from_ms)
        .bind(search.to_ms)
        .fetch_all(store.pool())
        .await?;
    Ok(page(rows, limit, |row| row.into_invoice(now)))
}

/// `sat` in msat plus `extra`, as SQLite compares it; beyond an i64 (never, after the search's
/// checks) it stays the largest.
fn msat_bound(sat: u64, extra: u64) -> i64 {
    i64::try_from(sat.saturating_mul(1000).saturating_add(extra)).unwrap_or(i64::MAX)
}

/// Marks the invoice with `payment_hash` paid with what arrived (after the fee an LSP kept,
/// `lsp_fee_msat`), inside the caller's transaction. Returns the invoice if this call changed it,
/// `None` if it was paid already or is not ours.
pub(crate) async fn mark_paid(
    tx: &mut SqliteConnection,
    payment_hash: &str,
    amount_msat: u64,
    lsp_fee_msat: Option<u64>,
    at: i64,
) -> Result<Option<Invoice>> {
    let row: Option<InvoiceRow> = sqlx::query_as(&format!(
        "UPDATE invoices SET status = 'paid', amount_received_msat = ?, lsp_fee_msat = ?, paid_at = ?
         WHERE payment_hash = ? AND status != 'paid' RETURNING {COLUMNS}"
    ))
    .bind(amount_msat as i64)
    .bind(lsp_fee_msat.map(|f| f as i64))
    .bind(at)
    .bind(payment_hash)
    .fetch_optional(&mut *tx)
    .await?;
    Ok(row.map(|r| r.into_invoice(at)))
}

/// A payment that arrived for an offer, to record as a paid invoice.
pub(crate) struct OfferPaymentRow<'a> {
    pub payment_hash: &'a str,
    /// What the offer asks (its amount times the quantity), if it names an amount.
    pub amount_msat: Option<u64>,
    pub amount_received_msat: u64,
    pub description: &'a str,
    /// The offer (`lno1…`), which is what the payer paid.
    pub offer: &'a str,
    pub offer_id: &'a str,
    pub payer_note: Option<&'a str>,
    pub quantity: Option<u64>,
    /// The API key that made the offer: its payments are that key's invoices.
    pub key_id: Option<&'a str>,
    pub fiat: Option<&'a Recorded>,
    pub at: i64,
}

/// Records a payment to an offer as a paid invoice (`inv_…`) inside the caller's transaction.
/// Returns it, or `None` if its payment hash is recorded already (a replayed event).
pub(crate) async fn insert_offer_payment(
    tx: &mut SqliteConnection,
    row: OfferPaymentRow<'_>,
) -> Result<Option<Invoice>> {
    let inserted: Option<InvoiceRow> = sqlx::query_as(&format!(
        "INSERT INTO invoices (id, payment_hash, amount_msat, amount_received_msat, description,
             payment_request, expiry, expires_at, created_at, paid_at, status, key_id,
             fiat_currency, fiat_rate, fiat_sources, fiat_rate_at, offer_id, payer_note, quantity)
         VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, 'paid', ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (payment_hash) DO NOTHING RETURNING {COLUMNS}"
    ))
    .bind(crate::util::new_id("inv"))
    .bind(row.payment_hash)
    .bind(row.amount_msat.map(|a| a as i64))
    .bind(row.amount_received_msat as i64)
    .bind(row.description)
    .bind(row.offer)
    .bind(row.at)
    .bind(row.at)
    .bind(row.at)
    .bind(row.key_id)
    .bind(row.fiat.map(|f| f.currency.as_str()))
    .bind(row.fiat.map(|f| f.rate.to_string()))
    .bind(row.fiat.map(Recorded::sources_column))
    .bind(row.fiat.map(|f| f.rate_at))
    .bind(row.offer_id)
    .bind(row.payer_note)
    .bind(row.quantity.map(|q| q as i64))
    .fetch_optional(&mut *tx)
    .await?;
    Ok(inserted.map(|r| r.into_invoice(row.at)))
}

/// Marks pending invoices whose time is up as `expired`, returning them.
pub(crate) async fn mark_expired(tx: &mut SqliteConnection, now: i64) -> Result<Vec<Invoice>> {
    let rows: Vec<InvoiceRow> = sqlx::query_as(&format!(
        "UPDATE invoices SET status = 'expired' WHERE status = 'pending' AND expires_at <= ?
         RETURNING {COLUMNS}"
    ))
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    let mut out: Vec<Invoice> = rows.into_iter().map(|r| r.into_invoice(now)).collect();
    // RETURNING gives no order; events should follow the invoices' own order.
    out.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
    Ok(out)
}

/// How long after it expires an unpaid invoice's address is still watched (ms): an on-chain
/// payment can confirm late, but not forever (each look reads the node's list of payments).
pub(crate) const ONCHAIN_WATCH_AFTER_EXPIRY_MS: i64 = 7 * 24 * 3600 * 1000;

/// Whether an invoice not paid yet has an on-chain address still watched at `now` (so incoming
/// transactions matter).
pub(crate) async fn onchain_waiting(store: &Store, now: i64) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM invoices WHERE onchain_address IS NOT NULL
             AND status != 'paid' AND expires_at > ?)",
    )
    .bind(now - ONCHAIN_WATCH_AFTER_EXPIRY_MS)
    .fetch_one(store.pool())
    .await?)
}

/// Whether the incoming transaction `txid` was read already.
pub(crate) async fn onchain_seen(store: &Store, txid: &str) -> Result<bool> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM onchain_seen WHERE txid = ?)")
            .bind(txid)
            .fetch_one(store.pool())
            .await?,
    )
}

/// Marks the incoming transaction `txid` read (one that cannot pay any invoice).
pub(crate) async fn mark_onchain_seen(store: &Store, txid: &str, at: i64) -> Result<()> {
    sqlx::query("INSERT INTO onchain_seen (txid, seen_at) VALUES (?, ?) ON CONFLICT DO NOTHING")
        .bind(txid)
        .bind(at)
        .execute(store.pool())
        .await?;
    Ok(())
}

/// When the first invoice with an on-chain address was made (unix ms), if any was.
pub(crate) async fn first_onchain_invoice_at(store: &Store) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar(
            "SELECT MIN(created_at) FROM invoices WHERE onchain_address IS NOT NULL",
        )
        .fetch_one(store.pool())
        .await?,
    )
}

/// When the earliest pending invoice expires (unix ms).
pub(crate) async fn next_expiry(store: &Store) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT MIN(expires_at) FROM invoices WHERE status = 'pending'")
            .fetch_one(store.pool())
            .await?,
    )
}

/// Paid invoices with `from <= paid_at < to` (unix ms), oldest first, each with its `paid_at`.
pub(crate) async fn paid_between(store: &Store, from: i64, to: i64) -> Result<Vec<(i64, Invoice)>> {
    let rows: Vec<InvoiceRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM invoices WHERE status = 'paid' AND paid_at >= ? AND paid_at < ?
         ORDER BY paid_at, seq"
    ))
    .bind(from)
    .bind(to)
    .fetch_all(store.pool())
    .await?;
    let now = now_ms();
    Ok(rows
        .into_iter()
        .map(|row| (row.paid_at.unwrap_or(row.created_at), row.into_invoice(now)))
        .collect())
}

/// Of `hashes`, the invoices whose record the node no longer needs (see `crate::node_prune`):
/// unpaid and past their expiry, or paid and past their expiry by `paid_margin_ms`.
pub(crate) async fn finished_for_node(
    store: &Store,
    hashes: &[String],
    now: i64,
    paid_margin_ms: i64,
) -> Result<Vec<String>> {
    let list = serde_json::Value::from(hashes.to_vec()).to_string();
    // CROSS JOIN keeps the list first: one lookup by hash each, not a scan of a status.
    Ok(sqlx::query_scalar(
        "SELECT i.payment_hash FROM json_each(?1) AS j
           CROSS JOIN invoices AS i ON i.payment_hash = j.value
         WHERE i.status = 'expired' OR (i.status = 'pending' AND i.expires_at <= ?2)
            OR (i.status = 'paid' AND i.expires_at <= ?2 - ?3)",
    )
    .bind(list)
    .bind(now)
    .bind(paid_margin_ms)
    .fetch_all(store.pool())
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::temp_store;

    /// An invoice to search: id, sats asked (None: the payer chose), sats received, description,
    /// external id, payer's note, made at (ms).
    type Fixture<'a> = (
        &'a str,
        Option<i64>,
        Option<i64>,
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
        i64,
    );

    #[tokio::test]
    async fn search_matches_text_amounts_and_dates_together_and_pages() -> Result<()> {
        let (_dir, store) = temp_store().await;
        let rows: [Fixture; 5] = [
            (
                "inv_a",
                Some(1_000),
                None,
                "Flat white",
                Some("order-77"),
                None,
                1_000,
            ),
            ("inv_b", Some(2_500), None, "Croissant", None, None, 2_000),
            (
                "inv_c",
                None,
                Some(900),
                "Tips",
                None,
                Some("for the BARISTA"),
                3_000,
            ),
            (
                "inv_d",
                Some(1_000),
                None,
                "flat WHITE to go",
                None,
                None,
                4_000,
            ),
            (
                "inv_e",
                Some(50_000),
                None,
                "Bike repair",
                Some("R-9"),
                None,
                5_000,
            ),
        ];
        for (n, (id, sats, received, description, external, note, at)) in rows.iter().enumerate() {
            sqlx::query(
                "INSERT INTO invoices (id, payment_hash, amount_msat, amount_received_msat,
                     description, payment_request, expiry, expires_at, created_at, status,
                     external_id, payer_note)
                 VALUES (?, ?, ?, ?, ?, 'lnbcrt', 60, ?, ?, ?, ?, ?)",
            )
            .bind(id)
            .bind(format!("{n:064x}"))
            .bind(sats.map(|s| s * 1000))
            .bind(received.map(|s| s * 1000))
            .bind(description)
            .bind(now_ms() + 3_600_000)
            .bind(at)
            .bind(if received.is_some() {
                "paid"
            } else {
                "pending"
            })
            .bind(external)
            .bind(note)
            .execute(store.pool())
            .await?;
        }
        let ids = |page: Page<Invoice>| page.data.into_iter().map(|i| i.id).collect::<Vec<_>>();
        let find = |search: InvoiceSearch| {
            let store = store.clone();
            async move { list(&store, &search, None, 10, None).await.map(ids) }
        };
        let text = |t: &str| InvoiceSearch {
            text: Some(t.into()),
            ..Default::default()
        };
        assert_eq!(
            find(text("flat white")).await?,
            ["inv_d", "inv_a"],
            "case ignored"
        );
        assert_eq!(find(text("ORDER-77")).await?, ["inv_a"], "external id");
        assert_eq!(find(text("barista")).await?, ["inv_c"], "payer's note");
        assert_eq!(find(text("inv_b")).await?, ["inv_b"], "an id in full");
        assert!(find(text("inv_")).await?.is_empty(), "not part of an id");
        let hash = format!("{:064x}", 4);
        assert_eq!(find(text(&hash)).await?, ["inv_e"], "a payment hash");
        let amounts = InvoiceSearch {
            min_amount: Some(900),
            max_amount: Some(1_000),
            ..Default::default()
        };
        assert_eq!(find(amounts).await?, ["inv_d", "inv_c", "inv_a"]);
        assert_eq!(
            msat_bound(u64::MAX, 999),
            i64::MAX,
            "never wraps to a negative bound"
        );
        let together = InvoiceSearch {
            text: Some("white".into()),
            from_ms: Some(1_500),
            to_ms: Some(4_001),
            status: Some(InvoiceStatus::Pending),
            ..Default::default()
        };
        assert_eq!(find(together).await?, ["inv_d"]);
        // Paging keeps the search.
        let all_white = text("white");
        let first = list(&store, &all_white, None, 1, None).await?;
        let cursor = first.next_cursor.clone();
        assert_eq!(ids(first), ["inv_d"]);
        let second = list(&store, &all_white, None, 1, cursor.as_deref()).await?;
        assert_eq!(
            (second.next_cursor.is_none(), ids(second)),
            (true, vec!["inv_a".to_string()])
        );
        Ok(())
    }

    #[tokio::test]
    async fn status_filters_derive_expiry_and_page_through_both_arms() -> Result<()> {
        let (_dir, store) = temp_store().await;
        let now = now_ms();
        // (id, stored status, expires_at): inv_2 is pending on paper but past its expiry.
        let rows = [
            ("inv_1", "expired", now - 5_000),
            ("inv_2", "pending", now - 1_000),
            ("inv_3", "paid", now - 10),
            ("inv_4", "pending", now + 60_000),
            ("inv_5", "expired", now - 500),
            ("inv_6", "paid", now - 100_000_000),
        ];
        for (n, (id, status, expires_at)) in rows.iter().enumerate() {
            sqlx::query(
                "INSERT INTO invoices (id, payment_hash, description, payment_request, expiry,
                     expires_at, created_at, status)
                 VALUES (?, ?, 'x', 'lnbcrt', 60, ?, ?, ?)",
            )
            .bind(id)
            .bind(format!("{n:064x}"))
            .bind(expires_at)
            .bind(n as i64)
            .bind(status)
            .execute(store.pool())
            .await?;
        }
        let ids = |page: &Page<Invoice>| page.data.iter().map(|i| i.id.clone()).collect::<Vec<_>>();
        let of = |status| InvoiceSearch {
            status: Some(status),
            ..Default::default()
        };
        let pending = list(&store, &of(InvoiceStatus::Pending), None, 10, None).await?;
        assert_eq!(ids(&pending), ["inv_4"]);
        let paid = list(&store, &of(InvoiceStatus::Paid), None, 10, None).await?;
        assert_eq!(ids(&paid), ["inv_6", "inv_3"]);
        // Expired: stored and derived together, newest first, paged across both.
        let first = list(&store, &of(InvoiceStatus::Expired), None, 2, None).await?;
        assert_eq!(ids(&first), ["inv_5", "inv_2"]);
        assert!(first
            .data
            .iter()
            .all(|i| i.status == InvoiceStatus::Expired));
        let rest = list(
            &store,
            &of(InvoiceStatus::Expired),
            None,
            2,
            first.next_cursor.as_deref(),
        )
        .await?;
        assert_eq!(
            (ids(&rest), rest.next_cursor),
            (vec!["inv_1".to_string()], None)
        );

        // What the node's record is no longer needed for: unpaid past expiry at once, paid only
        // a margin after its expiry; an unknown hash is never named.
        let hashes: Vec<String> = (0..7).map(|n| format!("{n:064x}")).collect();
        let mut done = finished_for_node(&store, &hashes, now, 86_400_000).await?;
        done.sort();
        assert_eq!(
            done,
            [
                hashes[0].clone(),
                hashes[1].clone(),
                hashes[4].clone(),
                hashes[5].clone()
            ]
        );
        Ok(())
    }
}
