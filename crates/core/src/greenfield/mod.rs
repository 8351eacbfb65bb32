//! The BTCPay Greenfield-compatible view of the shop, reached through [`Greenfield`]
//! (`app.greenfield()`): the shop as one BTCPay store with a stable id, invoices made and read in
//! BTCPay's terms, statuses marked by hand, BTCPay-format webhook endpoints, and keys paired the
//! way shop plugins pair. Everything is our own invoices, keys and outbox underneath: an invoice
//! made here is in the dashboard, the reports and our own webhooks like any other.
//!
//! The HTTP shapes and BTCPay's error format are the API crate's (`crates/api/src/greenfield`);
//! the mapping of statuses, permissions and events is documented in docs/api.md.

pub mod checkout;
pub mod invoice;
pub mod permissions;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{json, Value};

pub use invoice::{
    GfAdditionalStatus, GfCreateInvoice, GfInvoice, GfMethod, GfPaymentMethod, GfStatus, Marked,
};
pub use permissions::GfPermission;

use crate::btcpay::{self, BtcpayEvent, Queued, STORE_ID_SETTING};
use crate::error::{Error, ErrorCode, Result};
use crate::events::EventKind;
use crate::invoices::{Invoice, Invoices};
use crate::keys::{ApiKey, CreatedKey, Keys, NewKey};
use crate::rates::RateService;
use crate::store::Store;
use crate::util::{new_id, now_ms};
use crate::webhooks::{BtcpayEndpoint, Webhook, WebhookFormat, Webhooks};
use invoice::GfRow;

/// The version `GET /api/v1/server/info` reports: the BTCPay release whose Greenfield API this
/// subset follows. Shop plugins gate features on it (WooCommerce: refunds from 1.7.6).
pub const COMPATIBLE_VERSION: &str = "2.0.0";

/// The shop as a BTCPay store.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GfStore {
    /// The stable store id.
    pub id: String,
    /// The shop's name (Settings → Shop), or "PayAiML Merchant".
    pub name: String,
    /// Not kept here.
    pub website: Option<String>,
    /// The shop's currency, or `SATS`.
    pub default_currency: String,
    /// Default invoice lifetime, seconds.
    pub invoice_expiration: i64,
    /// How long after expiry a payment is still taken (any time here; a day is reported).
    pub monitoring_expiration: i64,
    /// The default speed policy.
    pub speed_policy: &'static str,
    /// Never archived.
    pub archived: bool,
    /// A payment must be complete.
    pub payment_tolerance: f64,
    /// Anonymous invoice creation is never allowed.
    pub anyone_can_create_invoice: bool,
}

/// A BTCPay-format webhook endpoint as the Greenfield API shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GfWebhook {
    /// `wh_…`
    pub id: String,
    /// Whether deliveries are sent.
    pub enabled: bool,
    /// Whether failed deliveries are retried.
    pub automatic_redelivery: bool,
    /// Where deliveries go.
    pub url: String,
    /// Which events: `{everything, specificEvents}`.
    pub authorized_events: Value,
    /// The signing secret, in the answer that made it only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl From<Webhook> for GfWebhook {
    fn from(w: Webhook) -> Self {
        let everything = w.events.iter().any(|e| e == "*");
        let specific: Vec<&String> = w.events.iter().filter(|e| *e != "*").collect();
        GfWebhook {
            id: w.id,
            enabled: w.status == crate::webhooks::EndpointStatus::Enabled,
            automatic_redelivery: w.auto_redeliver,
            url: w.url,
            authorized_events: json!({ "everything": everything, "specificEvents": specific }),
            secret: None,
        }
    }
}

/// What `GET …/invoices` looks for (BTCPay's query parameters).
#[derive(Debug, Clone, Default)]
pub struct GfInvoiceQuery {
    /// Only these shop order ids (`metadata.orderId`).
    pub order_ids: Vec<String>,
    /// Only these statuses.
    pub statuses: Vec<GfStatus>,
    /// Text in the description, order id or metadata.
    pub text: Option<String>,
    /// Made at or after (unix seconds).
    pub start: Option<i64>,
    /// Made at or before (unix seconds).
    pub end: Option<i64>,
    /// How many to skip.
    pub skip: i64,
    /// How many at most (1 to 1000).
    pub take: i64,
}

/// What the Greenfield front door keeps in memory while the app runs: the store id (it never
/// changes) and the BTCPay permissions of paired keys (written once at pairing, never changed;
/// a revoked key is refused before they are looked at).
#[derive(Debug, Default)]
pub struct GreenfieldMemo {
    store_id: std::sync::OnceLock<String>,
    grants: std::sync::Mutex<std::collections::HashMap<String, Option<String>>>,
}

/// The Greenfield view of the shop. Borrowed from [`crate::App`].
pub struct Greenfield<'a> {
    store: &'a Store,
    invoices: Invoices<'a>,
    keys: &'a Keys,
    webhooks: &'a Webhooks,
    rates: &'a RateService,
    memo: &'a GreenfieldMemo,
}

impl<'a> Greenfield<'a> {
    pub(crate) fn new(
        store: &'a Store,
        invoices: Invoices<'a>,
        keys: &'a Keys,
        webhooks: &'a Webhooks,
        rates: &'a RateService,
        memo: &'a GreenfieldMemo,
    ) -> Self {
        Greenfield {
            store,
            invoices,
            keys,
            webhooks,
            rates,
            memo,
        }
    }

    /// The store id: made once (44 letters and digits, like BTCPay's), kept in the database and
    /// so in its backups; a restored shop keeps it, and the plugins paired with it keep working.
    pub async fn store_id(&self) -> Result<String> {
        if let Some(id) = self.memo.store_id.get() {
            return Ok(id.clone());
        }
        // Read first: only the very first request may have to write it.
        let id = match self.store.setting(STORE_ID_SETTING).await? {
            Some(id) => id,
            None => {
                let fresh = crate::util::random_alnum(44);
                self.store
                    .setting_or_insert(STORE_ID_SETTING, &fresh)
                    .await?
            }
        };
        Ok(self.memo.store_id.get_or_init(|| id).clone())
    }

    /// Fails with 404 `store-not-found` unless `id` is this shop's store id.
    pub async fn check_store(&self, id: &str) -> Result<String> {
        let mine = self.store_id().await?;
        if id != mine {
            return Err(Error::NotFound {
                kind: "store",
                id: id.to_string(),
            });
        }
        Ok(mine)
    }

    /// The shop as a store.
    pub async fn shop(&self) -> Result<GfStore> {
        let details = crate::settings::shop_details(self.store).await?;
        Ok(GfStore {
            id: self.store_id().await?,
            name: if details.name.is_empty() {
                "PayAiML Merchant".into()
            } else {
                details.name
            },
            website: None,
            default_currency: self.default_currency(),
            invoice_expiration: invoice::DEFAULT_EXPIRATION_MINUTES * 60,
            monitoring_expiration: 86_400,
            speed_policy: "MediumSpeed",
            archived: false,
            payment_tolerance: 0.0,
            anyone_can_create_invoice: false,
        })
    }

    fn default_currency(&self) -> String {
        self.rates
            .merchant_currency()
            .unwrap_or_else(|| "SATS".into())
    }

    /// The BTCPay permissions `key` holds: those granted when it was paired, or those its /v1
    /// permissions imply (see [`permissions`]); each with what it includes.
    pub async fn permissions_of(&self, key: &ApiKey) -> Result<BTreeSet<GfPermission>> {
        Ok(permissions::expand(&self.granted(key).await?))
    }

    /// The permissions as granted (not expanded), for `api-keys/current`.
    pub async fn granted(&self, key: &ApiKey) -> Result<BTreeSet<GfPermission>> {
        let known = self
            .memo
            .grants
            .lock()
            .ok()
            .and_then(|g| g.get(&key.id).cloned());
        let stored = match known {
            Some(stored) => stored,
            None => {
                let stored: Option<String> =
                    sqlx::query_scalar("SELECT permissions FROM greenfield_keys WHERE key_id = ?")
                        .bind(&key.id)
                        .fetch_optional(self.store.pool())
                        .await?;
                if let Ok(mut grants) = self.memo.grants.lock() {
                    grants.insert(key.id.clone(), stored.clone());
                }
                stored
            }
        };
        Ok(match stored {
            Some(text) => text
                .split_whitespace()
                .filter_map(|p| GfPermission::parse(p).map(|(p, _)| p))
                // A paired key's /v1 permissions can only have been narrowed since: what it no
                // longer carries is not granted either.
                .filter(|p| p.needs().iter().all(|n| key.allows(*n)))
                .collect(),
            None => permissions::implied_by(key),
        })
    }

    /// Makes the key a shop plugin asked for on the pairing page, once the merchant approved:
    /// its /v1 permissions are those `granted` needs, and the grant is kept for the Greenfield
    /// API. `application` names it in the dashboard.
    pub async fn pair(
        &self,
        application: &str,
        granted: &BTreeSet<GfPermission>,
    ) -> Result<CreatedKey> {
        if granted.is_empty() {
            return Err(Error::invalid(
                "permissions",
                "the application asked for no permission this shop can grant",
            ));
        }
        let mut v1 = permissions::v1_permissions(granted);
        if v1.is_empty() {
            // A key needs one /v1 permission; reading invoices is the least a plugin does.
            v1.insert(crate::keys::Permission::LightningRead);
        }
        let app_name: String = application.trim().chars().take(60).collect();
        let name = if app_name.is_empty() {
            "Shop plugin (BTCPay-compatible)".to_string()
        } else {
            format!("{app_name} (BTCPay-compatible)")
        };
        let created = self
            .keys
            .create(NewKey {
                name,
                permissions: v1,
                budget: None,
                expires_at_ms: None,
            })
            .await?;
        let names: Vec<&str> = granted.iter().map(|p| p.as_str()).collect();
        sqlx::query(
            "INSERT INTO greenfield_keys (key_id, permissions, application) VALUES (?, ?, ?)",
        )
        .bind(&created.key.id)
        .bind(names.join(" "))
        .bind(&app_name)
        .execute(self.store.pool())
        .await?;
        if let Ok(mut grants) = self.memo.grants.lock() {
            grants.insert(created.key.id.clone(), Some(names.join(" ")));
        }
        Ok(created)
    }

    /// Creates an invoice from a Greenfield request (made by `key`), keeps what BTCPay's
    /// clients will read back, and queues `InvoiceCreated` for BTCPay-format endpoints.
    pub async fn create_invoice(
        &self,
        request: GfCreateInvoice,
        key: &ApiKey,
    ) -> Result<GfInvoice> {
        let store_id = self.store_id().await?;
        let shop = crate::settings::shop_details(self.store).await?;
        let (ours, kept) = request
            .translate(&self.default_currency(), &shop.name)
            .map_err(in_greenfield_terms)?;
        let row = GfRow {
            amount: kept.amount.clone(),
            currency: kept.currency.clone(),
            checkout: kept.checkout.to_string(),
            marked: None,
        };
        let (amount, currency, checkout) = (kept.amount, kept.currency, row.checkout.clone());
        let also: crate::invoices::AlsoWrite = Box::new(move |conn, invoice_id| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO greenfield_invoices (invoice_id, amount, currency, checkout)
                     VALUES (?, ?, ?, ?)",
                )
                .bind(&invoice_id)
                .bind(&amount)
                .bind(&currency)
                .bind(&checkout)
                .execute(&mut *conn)
                .await?;
                let created = [Queued {
                    kind: BtcpayEvent::InvoiceCreated,
                    fields: Default::default(),
                }];
                let cause = EventKind::InvoiceCreated.as_str();
                btcpay::queue(conn, cause, &new_id("evt"), &invoice_id, &created).await?;
                Ok(())
            })
        });
        let created = self
            .invoices
            .create_with(ours, Some(&key.id), Some(also))
            .await
            .map_err(in_greenfield_terms)?;
        self.webhooks.wake();
        Ok(invoice::view(
            &created,
            Some(&row),
            &store_id,
            now_ms() / 1000,
        ))
    }

    /// One invoice in BTCPay's terms.
    pub async fn invoice(&self, id: &str) -> Result<GfInvoice> {
        let store_id = self.store_id().await?;
        let found = self.ours(id).await?;
        let row = self.row(&found.id).await?;
        Ok(invoice::view(
            &found,
            row.as_ref(),
            &store_id,
            now_ms() / 1000,
        ))
    }

    /// Our invoice behind a Greenfield id (ours; a payment hash is not an id here).
    pub async fn ours(&self, id: &str) -> Result<Invoice> {
        if !id.starts_with("inv_") {
            return Err(Error::NotFound {
                kind: "invoice",
                id: id.to_string(),
            });
        }
        self.invoices.get(id).await
    }

    async fn row(&self, id: &str) -> Result<Option<GfRow>> {
        Ok(sqlx::query_as(
            "SELECT amount, currency, checkout, marked FROM greenfield_invoices WHERE invoice_id = ?",
        )
        .bind(id)
        .fetch_optional(self.store.pool())
        .await?)
    }

    /// Invoices newest first that match `query`.
    pub async fn invoices(&self, query: &GfInvoiceQuery) -> Result<Vec<GfInvoice>> {
        let store_id = self.store_id().await?;
        let now = now_ms();
        let mut sql = String::from(
            "SELECT i.id FROM invoices i LEFT JOIN greenfield_invoices g ON g.invoice_id = i.id WHERE 1 = 1",
        );
        let mut binds: Vec<Value> = Vec::new();
        if !query.order_ids.is_empty() {
            sql.push_str(" AND i.external_id IN (");
            sql.push_str(&vec!["?"; query.order_ids.len()].join(", "));
            sql.push(')');
            binds.extend(query.order_ids.iter().map(|o| json!(o)));
        }
        if !query.statuses.is_empty() {
            let parts: Vec<String> = query
                .statuses
                .iter()
                .map(|s| status_condition(*s, now))
                .collect();
            sql.push_str(&format!(" AND ({})", parts.join(" OR ")));
        }
        if let Some(text) = &query.text {
            sql.push_str(
                " AND (instr(lower(i.description), lower(?)) > 0 OR instr(lower(COALESCE(i.external_id, '')), lower(?)) > 0
                       OR instr(lower(i.metadata), lower(?)) > 0)",
            );
            binds.extend([json!(text), json!(text), json!(text)]);
        }
        if let Some(start) = query.start {
            sql.push_str(" AND i.created_at >= ?");
            binds.push(json!(start.saturating_mul(1000)));
        }
        if let Some(end) = query.end {
            sql.push_str(" AND i.created_at <= ?");
            binds.push(json!(end.saturating_mul(1000).saturating_add(999)));
        }
        sql.push_str(" ORDER BY i.seq DESC LIMIT ? OFFSET ?");
        binds.push(json!(query.take.clamp(1, 1000)));
        binds.push(json!(query.skip.max(0)));
        let mut q = sqlx::query_scalar::<_, String>(&sql);
        for b in &binds {
            q = match b {
                Value::String(s) => q.bind(s.clone()),
                other => q.bind(other.as_i64().unwrap_or(0)),
            };
        }
        let ids = q.fetch_all(self.store.pool()).await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let found = self.invoices.get(&id).await?;
            let row = self.row(&id).await?;
            out.push(invoice::view(&found, row.as_ref(), &store_id, now / 1000));
        }
        Ok(out)
    }

    /// The payment methods of an invoice: Lightning, and on-chain when it has an address.
    pub async fn payment_methods(&self, id: &str) -> Result<Vec<GfPaymentMethod>> {
        let found = self.ours(id).await?;
        let row = self.row(&found.id).await?;
        let rate = rate_of(&found, row.as_ref());
        Ok(invoice::payment_methods(&found, rate))
    }

    /// Marks an invoice settled or invalid by hand, as BTCPay allows from its status, and queues
    /// `InvoiceSettled` or `InvoiceInvalid` (`manuallyMarked: true`) for BTCPay-format endpoints.
    /// The payment itself is untouched: a Lightning payment still arriving is received and
    /// recorded, and the invoice keeps the status the shop gave it.
    pub async fn mark(&self, id: &str, to: GfStatus) -> Result<GfInvoice> {
        let marked = match to {
            GfStatus::Settled => Marked::Settled,
            GfStatus::Invalid => Marked::Invalid,
            other => {
                return Err(Error::invalid(
                    "status",
                    format!("an invoice can be marked Settled or Invalid, not {other:?}"),
                ))
            }
        };
        let store_id = self.store_id().await?;
        // Under the write lock, so no payment lands between the check and the mark.
        let mut tx = self.store.begin_write().await?;
        let found = self.ours(id).await?;
        let row = self.row(&found.id).await?;
        let (status, additional) =
            invoice::state(&found, row.as_ref().and_then(|r| r.marked), now_ms() / 1000);
        if !invoice::markable(status, additional).contains(&to) {
            return Err(Error::unprocessable(
                ErrorCode::InvoiceStateConflict,
                Some("status"),
                format!(
                    "an invoice that is {status:?}{} cannot be marked {to:?} (BTCPay's rules: an open or expired invoice either way, an invalid one settled, one marked by hand the other way)",
                    if additional == GfAdditionalStatus::None { String::new() } else { format!(" ({additional:?})") }
                ),
            ));
        }
        let view_now = invoice::view(&found, row.as_ref(), &store_id, now_ms() / 1000);
        sqlx::query(
            "INSERT INTO greenfield_invoices (invoice_id, amount, currency, checkout, marked, marked_at)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT(invoice_id) DO UPDATE SET marked = excluded.marked, marked_at = excluded.marked_at",
        )
        .bind(&found.id)
        .bind(&view_now.amount)
        .bind(&view_now.currency)
        .bind(view_now.checkout.to_string())
        .bind(marked)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        let kind = match marked {
            Marked::Settled => BtcpayEvent::InvoiceSettled,
            Marked::Invalid => BtcpayEvent::InvoiceInvalid,
        };
        let events = [Queued {
            kind,
            fields: btcpay::fields(json!({ "manuallyMarked": true, "overPaid": false })),
        }];
        btcpay::queue(
            &mut tx,
            EventKind::InvoiceMarked.as_str(),
            &new_id("evt"),
            &found.id,
            &events,
        )
        .await?;
        tx.commit().await?;
        self.webhooks.wake();
        self.invoice(&found.id).await
    }

    /// What the hosted checkout page shows of an invoice now (no key: the id is the secret, as
    /// with BTCPay's `/i/{id}`).
    pub async fn checkout_state(&self, id: &str) -> Result<checkout::CheckoutState> {
        let found = self.ours(id).await?;
        let row = self.row(&found.id).await?;
        Ok(self.state_of(&found, row.as_ref()))
    }

    fn state_of(&self, found: &Invoice, row: Option<&GfRow>) -> checkout::CheckoutState {
        let (status, additional) =
            invoice::state(found, row.and_then(|r| r.marked), now_ms() / 1000);
        let checkout = row
            .and_then(|r| serde_json::from_str::<Value>(&r.checkout).ok())
            .unwrap_or_else(|| json!({}));
        checkout::CheckoutState::new(found, status, additional, &checkout)
    }

    /// The hosted checkout page of an invoice (`modal`: inside a shop page's frame).
    pub async fn checkout_page(&self, id: &str, modal: bool) -> Result<String> {
        let found = self.ours(id).await?;
        let row = self.row(&found.id).await?;
        let state = self.state_of(&found, row.as_ref());
        let shop = self.shop().await?.name;
        let price = match &row {
            Some(r) => r.amount.clone().map(|a| (a, r.currency.clone())),
            None => found
                .fiat
                .as_ref()
                .filter(|f| f.priced_in_fiat)
                .and_then(|f| f.amount.clone().map(|a| (a, f.currency.clone()))),
        };
        Ok(checkout::render(&checkout::CheckoutPage {
            invoice: &found,
            state,
            shop,
            price,
            modal,
        }))
    }

    /// The BTCPay-format webhook endpoints.
    pub async fn webhooks(&self) -> Result<Vec<GfWebhook>> {
        Ok(self
            .webhooks
            .list()
            .await?
            .into_iter()
            .filter(|w| w.format == WebhookFormat::Btcpay)
            .map(GfWebhook::from)
            .collect())
    }

    /// One BTCPay-format endpoint (404 for one of the merchant's own).
    pub async fn webhook(&self, id: &str) -> Result<GfWebhook> {
        let found = self.webhooks.get(id).await?;
        if found.format != WebhookFormat::Btcpay {
            return Err(Error::NotFound {
                kind: "webhook",
                id: id.to_string(),
            });
        }
        Ok(found.into())
    }

    /// Registers a BTCPay-format endpoint; the answer carries its secret.
    pub async fn create_webhook(&self, new: BtcpayEndpoint) -> Result<GfWebhook> {
        let created = self.webhooks.create_btcpay(new).await?;
        let mut out = GfWebhook::from(created.webhook);
        out.secret = Some(created.secret);
        Ok(out)
    }

    /// Changes a BTCPay-format endpoint.
    pub async fn update_webhook(&self, id: &str, change: BtcpayEndpoint) -> Result<GfWebhook> {
        self.webhook(id).await?;
        Ok(self.webhooks.update_btcpay(id, change).await?.into())
    }

    /// Removes a BTCPay-format endpoint.
    pub async fn delete_webhook(&self, id: &str) -> Result<()> {
        self.webhook(id).await?;
        self.webhooks.delete(id).await
    }
}

/// Units of the invoice's currency per BTC, as a decimal string: 100000000 for SATS, 1 for BTC,
/// the recorded rate for a currency.
fn rate_of(invoice: &Invoice, row: Option<&GfRow>) -> String {
    let currency = row.map(|r| r.currency.as_str());
    match (currency, &invoice.fiat) {
        (Some("BTC"), _) => "1".into(),
        (Some("SATS") | Some("SAT") | None, None) => "100000000".into(),
        (Some("SATS") | Some("SAT"), Some(_)) => "100000000".into(),
        (_, Some(fiat)) => fiat.rate.clone(),
        (Some(_), None) => "100000000".into(),
    }
}

/// The SQL condition for invoices in Greenfield status `status` at `now` (ms).
fn status_condition(status: GfStatus, now: i64) -> String {
    match status {
        GfStatus::New => format!("(g.marked IS NULL AND i.status = 'pending' AND i.expires_at > {now})"),
        GfStatus::Expired => format!(
            "(g.marked IS NULL AND (i.status = 'expired' OR (i.status = 'pending' AND i.expires_at <= {now})))"
        ),
        GfStatus::Settled => "((g.marked IS NULL AND i.status = 'paid') OR g.marked = 'settled')".into(),
        GfStatus::Invalid => "(g.marked = 'invalid')".into(),
        GfStatus::Processing => "(0)".into(),
    }
}

/// An error from our invoice checks, with the field named as the Greenfield request names it.
fn in_greenfield_terms(e: Error) -> Error {
    match e {
        Error::InvalidField { field, message } => Error::InvalidField {
            field: invoice::greenfield_field(field),
            message,
        },
        Error::Unprocessable {
            code,
            field: Some(field),
            message,
        } => Error::Unprocessable {
            code,
            field: Some(invoice::greenfield_field(field)),
            message,
        },
        other => other,
    }
}
