//! Greenfield invoices: the create request as BTCPay's clients send it, its translation into
//! ours, and our invoices as BTCPay's clients read them (status, additional status, payment
//! methods).
//!
//! Statuses (docs/api.md, "BTCPay Greenfield compatibility"): pending → `New`; paid →
//! `Settled` (`PaidOver` when more came than asked), or `Expired` with `PaidLate` when paid
//! after its expiry (as BTCPay reports it); expired → `Expired`; marked by hand → `Settled` or
//! `Invalid` with `Marked`. A Lightning payment is final when it arrives and an on-chain one is
//! counted once confirmed, so `Processing` is never a status read back.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::btcpay::btc_string;
use crate::error::{Error, ErrorCode, Result};
use crate::invoices::{CreateInvoice, FiatPrice, Invoice, InvoiceStatus, MAX_DESCRIPTION_BYTES};

/// The invoice lifetime when a client gives none: BTCPay's default store setting, 15 minutes.
pub const DEFAULT_EXPIRATION_MINUTES: i64 = 15;

/// A BTCPay invoice status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GfStatus {
    /// Waiting for its payment.
    New,
    /// Paid, not final yet (never reported here).
    Processing,
    /// Paid (or marked settled).
    Settled,
    /// Its time ran out unpaid.
    Expired,
    /// Marked invalid.
    Invalid,
}

impl GfStatus {
    /// The status named `name` (BTCPay's spelling, case ignored).
    pub fn parse(name: &str) -> Option<GfStatus> {
        [
            GfStatus::New,
            GfStatus::Processing,
            GfStatus::Settled,
            GfStatus::Expired,
            GfStatus::Invalid,
        ]
        .into_iter()
        .find(|s| format!("{s:?}").eq_ignore_ascii_case(name))
    }
}

/// What BTCPay adds to a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum GfAdditionalStatus {
    /// Nothing to add.
    None,
    /// Paid after it expired.
    PaidLate,
    /// More was paid than asked.
    PaidOver,
    /// The status was set by hand.
    Marked,
}

/// A status set by hand through `POST …/invoices/{id}/status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(rename_all = "lowercase")]
pub enum Marked {
    /// Marked settled.
    Settled,
    /// Marked invalid.
    Invalid,
}

/// A payment method of this store, as BTCPay 2 names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum GfMethod {
    /// On-chain bitcoin (`BTC-CHAIN`).
    Chain,
    /// Lightning (`BTC-LN`).
    Lightning,
}

impl GfMethod {
    /// BTCPay 2's id.
    pub fn id(self) -> &'static str {
        match self {
            GfMethod::Chain => "BTC-CHAIN",
            GfMethod::Lightning => "BTC-LN",
        }
    }

    /// The method a client names, in any of BTCPay's spellings: `BTC-CHAIN`, `BTC_CHAIN`,
    /// `BTC` (1.x), `BTC-OnChain`; `BTC-LN`, `BTC_LN`, `BTC-LightningNetwork` (1.x).
    pub fn parse(id: &str) -> Option<GfMethod> {
        let id = id.trim().to_ascii_uppercase().replace('_', "-");
        match id.as_str() {
            "BTC" | "BTC-CHAIN" | "BTC-ONCHAIN" => Some(GfMethod::Chain),
            "BTC-LN" | "BTC-LIGHTNINGNETWORK" | "BTC-LIGHTNING" => Some(GfMethod::Lightning),
            _ => None,
        }
    }
}

/// The checkout options of a create request. Every field may be null (BTCPay's PHP client
/// sends all of them, null when not set).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GfCheckoutRequest {
    /// `HighSpeed`, `MediumSpeed`, `LowMediumSpeed` or `LowSpeed`.
    pub speed_policy: Option<String>,
    /// Payment method ids to offer.
    pub payment_methods: Option<Vec<String>>,
    /// Which one to show first (kept, not used: the checkout shows one unified QR).
    pub default_payment_method: Option<String>,
    /// Lifetime in minutes.
    pub expiration_minutes: Option<f64>,
    /// Accepted, kept and echoed; payments after expiry are always accepted here.
    pub monitoring_minutes: Option<f64>,
    /// Accepted and echoed; an invoice here is paid in full or not at all.
    pub payment_tolerance: Option<f64>,
    /// Where the checkout page sends the customer once paid.
    #[serde(rename = "redirectURL")]
    pub redirect_url: Option<String>,
    /// Whether it goes there by itself.
    pub redirect_automatically: Option<bool>,
    /// The checkout page's language (kept and echoed; the page speaks English).
    pub default_language: Option<String>,
    /// Kept and echoed.
    pub requires_refund_email: Option<bool>,
}

/// `POST /api/v1/stores/{storeId}/invoices` as BTCPay's clients send it. Unknown fields are
/// ignored, as BTCPay ignores them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GfCreateInvoice {
    /// The price: a decimal string (or a JSON number); null for an amount the payer chooses.
    #[serde(default, deserialize_with = "amount_text")]
    pub amount: Option<String>,
    /// `SATS`, `BTC` or a currency we price in; default: the shop's currency.
    pub currency: Option<String>,
    /// The shop's object: `orderId`, `orderUrl`, `buyerEmail`, `itemDesc`, `posData`, …
    pub metadata: Option<Value>,
    /// Checkout options.
    pub checkout: Option<GfCheckoutRequest>,
}

/// Reads an amount given as a string or a number, as text.
fn amount_text<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<String>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(serde::de::Error::custom(
            "amount must be a decimal string such as \"25.00\" (or null)",
        )),
    }
}

/// What the Greenfield API keeps of a create request, beside our invoice.
#[derive(Debug, Clone)]
pub struct GfPrice {
    /// The amount as asked, normalised ("25.00"); `None` for any amount.
    pub amount: Option<String>,
    /// The currency as asked, upper case (`SATS`, `BTC`, `EUR`).
    pub currency: String,
    /// The checkout options as accepted, echoed in every answer.
    pub checkout: Value,
}

/// A validation failure about `path` (the Greenfield API answers these as BTCPay's 422 list).
fn invalid(path: &'static str, message: impl Into<String>) -> Error {
    Error::invalid(path, message)
}

/// Our field names in the Greenfield request's terms, for errors from our invoice checks.
pub(crate) fn greenfield_field(field: &'static str) -> &'static str {
    match field {
        "fiat.amount" | "amount" => "amount",
        "fiat.currency" | "fiat" => "currency",
        "expiry" => "checkout.expirationMinutes",
        "external_id" => "metadata.orderId",
        "description" => "metadata.itemDesc",
        "onchain" => "checkout.paymentMethods",
        "metadata" => "metadata",
        other => other,
    }
}

/// `text` as a decimal without needless trailing zeros beyond `max_decimals` ("25.00" stays
/// for EUR, "500.00" becomes "500" for JPY), or `None` when it is not a plain positive decimal.
fn normalised(text: &str, max_decimals: u32) -> Option<(String, Decimal)> {
    if !crate::rates::plain_decimal(text) {
        return None;
    }
    let value: Decimal = text.parse().ok()?;
    if value <= Decimal::ZERO {
        return None;
    }
    if value.scale() <= max_decimals {
        return Some((text.to_string(), value));
    }
    let trimmed = value.normalize();
    if trimmed.scale() <= max_decimals {
        Some((trimmed.to_string(), trimmed))
    } else {
        Some((text.to_string(), value))
    }
}

impl GfCreateInvoice {
    /// Our invoice request for this one, and what to keep beside it. `default_currency` is the
    /// shop's (`SATS` when it counts in sats), `shop_name` goes into the payer's description.
    pub fn translate(
        self,
        default_currency: &str,
        shop_name: &str,
    ) -> Result<(CreateInvoice, GfPrice)> {
        let currency = self
            .currency
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .unwrap_or(default_currency)
            .to_ascii_uppercase();
        let metadata = match self.metadata {
            None | Some(Value::Null) => json!({}),
            Some(v @ Value::Object(_)) => v,
            Some(_) => return Err(invalid("metadata", "metadata must be a JSON object")),
        };
        let checkout = self.checkout.unwrap_or_default();
        let mut request = CreateInvoice {
            metadata: Some(metadata.clone()),
            ..CreateInvoice::default()
        };
        let amount = match self.amount.filter(|a| !a.is_empty()) {
            None => None,
            Some(text) => Some(price(&text, &currency, &mut request)?),
        };
        request.external_id = match metadata.get("orderId") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.is_empty() => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(_) => {
                return Err(invalid(
                    "metadata.orderId",
                    "metadata.orderId must be a string (or a number)",
                ))
            }
        };
        request.description = Some(describe(&metadata, shop_name));
        let minutes = checkout
            .expiration_minutes
            .unwrap_or(DEFAULT_EXPIRATION_MINUTES as f64);
        if !(minutes.is_finite() && minutes > 0.0 && minutes <= 525_600.0) {
            return Err(invalid(
                "checkout.expirationMinutes",
                "checkout.expirationMinutes must be more than 0 and at most 525600 (a year)",
            ));
        }
        request.expiry = Some(((minutes * 60.0).round() as i64).max(1));
        if let Some(policy) = &checkout.speed_policy {
            if !["HighSpeed", "MediumSpeed", "LowMediumSpeed", "LowSpeed"]
                .contains(&policy.as_str())
            {
                return Err(invalid(
                    "checkout.speedPolicy",
                    format!("'{policy}' is not a speed policy: use HighSpeed, MediumSpeed, LowMediumSpeed or LowSpeed"),
                ));
            }
        }
        let methods = methods(checkout.payment_methods.as_deref())?;
        // On-chain needs an amount worth an output; below that, Lightning alone is offered.
        let sats = request.amount.unwrap_or(0) as u64;
        let chain_possible = request.fiat.is_some() || sats >= crate::invoices::MIN_ONCHAIN_SATS;
        request.onchain = Some(methods.contains(&GfMethod::Chain) && chain_possible);
        if let Some(url) = &checkout.redirect_url {
            if !url.is_empty() {
                crate::webhooks::validate_url(url).map_err(|_| {
                    invalid(
                        "checkout.redirectURL",
                        "checkout.redirectURL must be an absolute http or https URL",
                    )
                })?;
            }
        }
        let offered: Vec<&str> = methods.iter().map(|m| m.id()).collect();
        let echoed = json!({
            "speedPolicy": checkout.speed_policy.unwrap_or_else(|| "MediumSpeed".into()),
            "paymentMethods": offered,
            "defaultPaymentMethod": checkout
                .default_payment_method
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| GfMethod::Lightning.id().into()),
            "expirationMinutes": minutes,
            "monitoringMinutes": checkout.monitoring_minutes.unwrap_or(1440.0),
            "paymentTolerance": checkout.payment_tolerance.unwrap_or(0.0),
            "redirectURL": checkout.redirect_url.filter(|u| !u.is_empty()),
            "redirectAutomatically": checkout.redirect_automatically.unwrap_or(false),
            "requiresRefundEmail": checkout.requires_refund_email,
            "defaultLanguage": checkout.default_language,
            "checkoutType": "V2",
        });
        Ok((
            request,
            GfPrice {
                amount,
                currency,
                checkout: echoed,
            },
        ))
    }
}

/// Sets the price of `request` from `text` in `currency`; returns the amount to keep.
fn price(text: &str, currency: &str, request: &mut CreateInvoice) -> Result<String> {
    let bad = |what: &str| {
        Error::unprocessable(
            ErrorCode::InvalidAmount,
            Some("amount"),
            format!("'{text}' is not a valid amount: {what}"),
        )
    };
    match currency {
        "SATS" | "SAT" => {
            let (kept, value) =
                normalised(text, 0).ok_or_else(|| bad("give a positive whole number of sats"))?;
            if value.scale() > 0 {
                return Err(bad("sats are whole numbers"));
            }
            let sats = value.to_i64().ok_or_else(|| bad("too large"))?;
            request.amount = Some(sats);
            Ok(kept)
        }
        "BTC" => {
            let (kept, value) =
                normalised(text, 8).ok_or_else(|| bad("give a positive amount of BTC"))?;
            if value.scale() > 8 {
                return Err(bad("BTC amounts have at most 8 decimals (one sat)"));
            }
            let sats = value
                .checked_mul(Decimal::from(100_000_000u64))
                .and_then(|s| s.to_i64())
                .ok_or_else(|| bad("too large"))?;
            request.amount = Some(sats);
            Ok(kept)
        }
        fiat => {
            let Some(decimals) = crate::rates::minor_units(fiat) else {
                return Err(invalid(
                    "currency",
                    format!("'{fiat}' is not a currency this shop prices in: use SATS, BTC, USD, EUR, GBP, CHF, CAD, AUD or JPY"),
                ));
            };
            let (kept, _) = normalised(text, decimals)
                .ok_or_else(|| bad("give a positive decimal such as 25.00"))?;
            request.fiat = Some(FiatPrice {
                amount: kept.clone(),
                currency: fiat.to_string(),
            });
            Ok(kept)
        }
    }
}

/// The payment methods asked for (default: both). Lightning is always offered: every invoice
/// here is a Lightning invoice, with an on-chain address beside it when asked.
fn methods(asked: Option<&[String]>) -> Result<Vec<GfMethod>> {
    let Some(asked) = asked else {
        return Ok(vec![GfMethod::Chain, GfMethod::Lightning]);
    };
    let mut out = vec![GfMethod::Lightning];
    for id in asked {
        match GfMethod::parse(id) {
            Some(method) => out.push(method),
            None => {
                return Err(invalid(
                    "checkout.paymentMethods",
                    format!("'{id}' is not a payment method of this store: use BTC-LN (Lightning) and BTC-CHAIN (on-chain)"),
                ))
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// What the payer's wallet shows: `itemDesc`, else "Order <orderId>", with the shop's name;
/// cut at a character boundary to what a BOLT11 invoice holds.
fn describe(metadata: &Value, shop_name: &str) -> String {
    let item = metadata.get("itemDesc").and_then(Value::as_str);
    let order = match metadata.get("orderId") {
        Some(Value::String(s)) if !s.is_empty() => Some(format!("Order {s}")),
        Some(Value::Number(n)) => Some(format!("Order {n}")),
        _ => None,
    };
    let what = item.map(str::to_string).or(order);
    let mut text = match (what, shop_name.trim()) {
        (Some(what), "") => what,
        (Some(what), shop) => format!("{what} · {shop}"),
        (None, "") => String::new(),
        (None, shop) => shop.to_string(),
    };
    if text.len() > MAX_DESCRIPTION_BYTES {
        let mut end = MAX_DESCRIPTION_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// A Greenfield invoice's row beside ours (none for an invoice made elsewhere).
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct GfRow {
    pub amount: Option<String>,
    pub currency: String,
    pub checkout: String,
    pub marked: Option<Marked>,
}

/// Unix seconds of an RFC 3339 time (0 when unreadable, which our own times never are).
fn unix(time: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(time)
        .map(|t| t.timestamp())
        .unwrap_or(0)
}

/// The status and additional status of `invoice` as BTCPay reports them.
pub fn state(
    invoice: &Invoice,
    marked: Option<Marked>,
    now_s: i64,
) -> (GfStatus, GfAdditionalStatus) {
    match marked {
        Some(Marked::Settled) => return (GfStatus::Settled, GfAdditionalStatus::Marked),
        Some(Marked::Invalid) => return (GfStatus::Invalid, GfAdditionalStatus::Marked),
        None => {}
    }
    let expires = unix(&invoice.expires_at);
    match invoice.status {
        InvoiceStatus::Pending if now_s >= expires => (GfStatus::Expired, GfAdditionalStatus::None),
        InvoiceStatus::Pending => (GfStatus::New, GfAdditionalStatus::None),
        InvoiceStatus::Expired => (GfStatus::Expired, GfAdditionalStatus::None),
        InvoiceStatus::Paid => {
            let late = invoice
                .paid_at
                .as_deref()
                .is_some_and(|p| unix(p) > expires);
            let over = matches!((invoice.amount_msat, invoice.amount_received_msat),
                (Some(asked), Some(got)) if got > asked);
            // BTCPay keeps an invoice paid after its expiry `Expired`, with `PaidLate` (shop
            // plugins treat that as paid: WooCommerce's "expired, paid late" state).
            if late {
                return (GfStatus::Expired, GfAdditionalStatus::PaidLate);
            }
            let extra = if over {
                GfAdditionalStatus::PaidOver
            } else {
                GfAdditionalStatus::None
            };
            (GfStatus::Settled, extra)
        }
    }
}

/// The statuses the shop may set by hand, by BTCPay's rules: an open, processing or expired
/// invoice either way; an invalid one settled; one marked by hand the other way. An invoice
/// paid in full stays settled.
pub fn markable(status: GfStatus, additional: GfAdditionalStatus) -> Vec<GfStatus> {
    let marked = additional == GfAdditionalStatus::Marked;
    let mut out = Vec::new();
    if matches!(
        status,
        GfStatus::New | GfStatus::Processing | GfStatus::Expired | GfStatus::Invalid
    ) || (status != GfStatus::Settled && marked)
    {
        out.push(GfStatus::Settled);
    }
    if matches!(
        status,
        GfStatus::New | GfStatus::Processing | GfStatus::Expired
    ) || (status != GfStatus::Invalid && marked)
    {
        out.push(GfStatus::Invalid);
    }
    out
}

/// An invoice as BTCPay's clients read it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GfInvoice {
    /// Our invoice id (`inv_…`).
    pub id: String,
    /// The store's id.
    pub store_id: String,
    /// The price as asked, a decimal string (`"0"` for an amount the payer chooses).
    pub amount: String,
    /// Its currency.
    pub currency: String,
    /// Always `Standard` (top-up invoices are those with amount 0).
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The hosted checkout page (absolute; the API fills in its own address).
    pub checkout_link: String,
    /// When it was made (unix seconds).
    pub created_time: i64,
    /// When it expires.
    pub expiration_time: i64,
    /// Until when a late payment is still taken (a late payment is always taken here).
    pub monitoring_expiration: i64,
    /// The status.
    pub status: GfStatus,
    /// What BTCPay adds to it.
    pub additional_status: GfAdditionalStatus,
    /// What the shop may mark it by hand.
    pub available_statuses_for_manual_marking: Vec<GfStatus>,
    /// Never archived here.
    pub archived: bool,
    /// The shop's metadata object.
    pub metadata: Value,
    /// The checkout options.
    pub checkout: Value,
    /// Receipt options (the hosted page always links the receipt once paid).
    pub receipt: Value,
}

/// `invoice` as a Greenfield invoice of `store_id`.
pub(crate) fn view(
    invoice: &Invoice,
    row: Option<&GfRow>,
    store_id: &str,
    now_s: i64,
) -> GfInvoice {
    let (status, additional) = state(invoice, row.and_then(|r| r.marked), now_s);
    let (amount, currency) = match row {
        Some(row) => (
            row.amount.clone().unwrap_or_else(|| "0".into()),
            row.currency.clone(),
        ),
        None => match invoice.fiat.as_ref().filter(|f| f.priced_in_fiat) {
            Some(fiat) => (
                fiat.amount.clone().unwrap_or_else(|| "0".into()),
                fiat.currency.clone(),
            ),
            None => (invoice.amount.unwrap_or(0).to_string(), "SATS".into()),
        },
    };
    let created = unix(&invoice.created_at);
    let expires = unix(&invoice.expires_at);
    let checkout = row
        .and_then(|r| serde_json::from_str(&r.checkout).ok())
        .unwrap_or_else(|| {
            let mut methods = vec!["BTC-LN"];
            if invoice.onchain.is_some() {
                methods.insert(0, "BTC-CHAIN");
            }
            json!({
                "speedPolicy": "MediumSpeed",
                "paymentMethods": methods,
                "defaultPaymentMethod": "BTC-LN",
                "expirationMinutes": (invoice.expiry as f64) / 60.0,
                "monitoringMinutes": 1440.0,
                "paymentTolerance": 0.0,
                "redirectURL": null,
                "redirectAutomatically": false,
                "requiresRefundEmail": null,
                "defaultLanguage": null,
                "checkoutType": "V2",
            })
        });
    GfInvoice {
        id: invoice.id.clone(),
        store_id: store_id.to_string(),
        amount,
        currency,
        kind: "Standard",
        checkout_link: format!("/i/{}", invoice.id),
        created_time: created,
        expiration_time: expires,
        monitoring_expiration: expires + 86_400,
        status,
        additional_status: additional,
        available_statuses_for_manual_marking: markable(status, additional),
        archived: false,
        metadata: invoice.metadata.clone(),
        checkout,
        receipt: json!({ "enabled": true, "showQR": null, "showPayments": null }),
    }
}

/// One payment method of an invoice, as `GET …/invoices/{id}/payment-methods` lists it.
/// Amounts are BTC decimal strings, as BTCPay writes them.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GfPaymentMethod {
    /// `BTC-LN` or `BTC-CHAIN`.
    pub payment_method_id: &'static str,
    /// BTCPay 1.x's name for the same id, for older clients.
    pub payment_method: &'static str,
    /// Always `BTC`.
    pub currency: &'static str,
    /// BTCPay 1.x's name for the currency.
    pub crypto_code: &'static str,
    /// The BOLT11 invoice or the on-chain address.
    pub destination: String,
    /// `lightning:…` or the BIP21 `bitcoin:` URI.
    pub payment_link: String,
    /// Units of the invoice's currency per BTC.
    pub rate: String,
    /// Paid through this method, in BTC.
    pub payment_method_paid: String,
    /// Paid through every method, in BTC.
    pub total_paid: String,
    /// Still due, in BTC.
    pub due: String,
    /// The invoice's amount, in BTC.
    pub amount: String,
    /// The fee the customer pays for this method (none here).
    pub payment_method_fee: String,
    /// BTCPay 1.x's name for the fee.
    pub network_fee: String,
    /// The payments through this method.
    pub payments: Vec<Value>,
    /// Whether its destination was made (always).
    pub activated: bool,
    /// Nothing more.
    pub additional_data: Value,
}

/// The payment methods of `invoice`: Lightning, and on-chain when it has an address.
pub fn payment_methods(invoice: &Invoice, rate: String) -> Vec<GfPaymentMethod> {
    let asked = invoice.amount_msat.unwrap_or(0);
    let paid = invoice.amount_received_msat.unwrap_or(0);
    let on_chain = invoice
        .onchain
        .as_ref()
        .and_then(|o| o.txid.as_ref())
        .is_some();
    let due = asked.saturating_sub(paid);
    let paid_at = invoice.paid_at.as_deref().map(unix).unwrap_or(0);
    let payment = |destination: &str, id: &str| {
        json!({
            "id": id,
            "receivedDate": paid_at,
            "value": btc_string(paid),
            "fee": "0",
            "status": "Settled",
            "destination": destination,
        })
    };
    let method = |id: &'static str,
                  legacy: &'static str,
                  destination: String,
                  link: String,
                  mine: bool,
                  payment_id: String| {
        GfPaymentMethod {
            payment_method_id: id,
            payment_method: legacy,
            currency: "BTC",
            crypto_code: "BTC",
            payment_link: link,
            rate: rate.clone(),
            payment_method_paid: btc_string(if mine { paid } else { 0 }),
            total_paid: btc_string(paid),
            due: btc_string(due),
            amount: btc_string(asked),
            payment_method_fee: "0".into(),
            network_fee: "0".into(),
            payments: if mine && paid > 0 {
                vec![payment(&destination, &payment_id)]
            } else {
                Vec::new()
            },
            destination,
            activated: true,
            additional_data: json!({}),
        }
    };
    let mut out = Vec::new();
    if let Some(onchain) = &invoice.onchain {
        out.push(method(
            "BTC-CHAIN",
            "BTC",
            onchain.address.clone(),
            onchain.uri.clone(),
            on_chain,
            onchain.txid.clone().unwrap_or_default(),
        ));
    }
    out.push(method(
        "BTC-LN",
        "BTC-LightningNetwork",
        invoice.payment_request.clone(),
        format!("lightning:{}", invoice.payment_request),
        !on_chain,
        invoice.payment_hash.clone(),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn translate(body: Value) -> Result<(CreateInvoice, GfPrice)> {
        let request: GfCreateInvoice =
            serde_json::from_value(body).map_err(|e| invalid("body", e.to_string()))?;
        request.translate("SATS", "Corner Shop")
    }

    #[test]
    fn woocommerce_body_translates() -> Result<()> {
        let (ours, kept) = translate(json!({
            "amount": "25.00", "currency": "EUR",
            "metadata": {"orderId": "123", "orderUrl": "https://shop/x", "taxIncluded": 0,
                         "posData": "{\"WooCommerce\":{}}"},
            "checkout": {"speedPolicy": null, "paymentMethods": ["BTC_CHAIN", "BTC_LN"],
                         "expirationMinutes": null, "monitoringMinutes": null,
                         "paymentTolerance": null, "redirectURL": "https://shop/done?key=a",
                         "redirectAutomatically": null, "defaultLanguage": null}
        }))?;
        let fiat = ours
            .fiat
            .as_ref()
            .map(|f| (f.amount.as_str(), f.currency.as_str()));
        assert_eq!(fiat, Some(("25.00", "EUR")));
        assert_eq!(ours.external_id.as_deref(), Some("123"));
        assert_eq!(ours.description.as_deref(), Some("Order 123 · Corner Shop"));
        assert_eq!(ours.expiry, Some(900));
        assert_eq!(ours.onchain, Some(true));
        assert_eq!(
            kept.checkout["paymentMethods"],
            json!(["BTC-CHAIN", "BTC-LN"])
        );
        assert_eq!(
            kept.checkout["redirectURL"],
            json!("https://shop/done?key=a")
        );
        Ok(())
    }

    #[test]
    fn amounts_in_sats_and_btc_are_exact() -> Result<()> {
        let (ours, _) = translate(json!({"amount": "0.00012345", "currency": "BTC"}))?;
        assert_eq!(ours.amount, Some(12_345));
        let (ours, _) = translate(json!({"amount": 1000, "currency": "sats"}))?;
        assert_eq!(ours.amount, Some(1000));
        assert_eq!(ours.onchain, Some(true));
        let (ours, _) = translate(json!({"amount": "100"}))?;
        assert_eq!(
            (ours.amount, ours.onchain),
            (Some(100), Some(false)),
            "too small for on-chain"
        );
        let (ours, kept) = translate(json!({"amount": "500.00", "currency": "JPY"}))?;
        assert_eq!(ours.fiat.map(|f| f.amount), Some("500".to_string()));
        assert_eq!(kept.amount.as_deref(), Some("500"));
        let (ours, kept) = translate(json!({"amount": null}))?;
        assert_eq!((ours.amount, kept.amount), (None, None));
        Ok(())
    }

    #[test]
    fn bad_requests_name_the_field() {
        let field = |body: Value| translate(body).err().and_then(|e| e.field());
        assert_eq!(
            field(json!({"amount": "1.5", "currency": "SATS"})),
            Some("amount")
        );
        assert_eq!(
            field(json!({"amount": "0.000000001", "currency": "BTC"})),
            Some("amount")
        );
        assert_eq!(
            field(json!({"amount": "-3", "currency": "EUR"})),
            Some("amount")
        );
        assert_eq!(
            field(json!({"amount": "3", "currency": "DOGE"})),
            Some("currency")
        );
        assert_eq!(
            field(json!({"amount": "3", "checkout": {"paymentMethods": ["XMR"]}})),
            Some("checkout.paymentMethods")
        );
        assert_eq!(
            field(json!({"amount": "3", "checkout": {"speedPolicy": "Fast"}})),
            Some("checkout.speedPolicy")
        );
        assert_eq!(
            field(json!({"amount": "3", "checkout": {"expirationMinutes": 0}})),
            Some("checkout.expirationMinutes")
        );
        assert_eq!(
            field(json!({"amount": "3", "metadata": [1]})),
            Some("metadata")
        );
        assert_eq!(
            field(json!({"amount": "3", "metadata": {"orderId": {"a": 1}}})),
            Some("metadata.orderId")
        );
        assert_eq!(
            field(json!({"amount": "3", "checkout": {"redirectURL": "javascript:x"}})),
            Some("checkout.redirectURL")
        );
    }

    #[test]
    fn method_ids_in_every_spelling() {
        for id in ["BTC", "BTC-CHAIN", "btc_chain", "BTC-OnChain"] {
            assert_eq!(GfMethod::parse(id), Some(GfMethod::Chain), "{id}");
        }
        for id in ["BTC-LN", "BTC_LN", "BTC-LightningNetwork"] {
            assert_eq!(GfMethod::parse(id), Some(GfMethod::Lightning), "{id}");
        }
        assert_eq!(GfMethod::parse("BTC-LNURL"), None);
    }
}

#[cfg(test)]
pub(crate) mod state_tests {
    use super::*;
    use GfAdditionalStatus as A;
    use GfStatus as S;

    #[test]
    fn manual_marking_follows_btcpays_rules() {
        assert_eq!(markable(S::New, A::None), [S::Settled, S::Invalid]);
        assert_eq!(markable(S::Expired, A::None), [S::Settled, S::Invalid]);
        assert_eq!(markable(S::Expired, A::PaidLate), [S::Settled, S::Invalid]);
        assert_eq!(markable(S::Invalid, A::Marked), [S::Settled]);
        assert_eq!(markable(S::Settled, A::Marked), [S::Invalid]);
        assert!(
            markable(S::Settled, A::None).is_empty(),
            "paid in full stays settled"
        );
        assert!(markable(S::Settled, A::PaidOver).is_empty());
    }

    #[test]
    fn statuses_from_ours() {
        let mut invoice = sample_invoice();
        invoice.expires_at = "2026-01-01T00:10:00Z".into();
        let before = unix("2026-01-01T00:05:00Z");
        let after = unix("2026-01-01T00:15:00Z");
        assert_eq!(state(&invoice, None, before), (S::New, A::None));
        assert_eq!(
            state(&invoice, None, after),
            (S::Expired, A::None),
            "past its time, not yet marked by the expiry task"
        );
        assert_eq!(
            state(&invoice, Some(Marked::Invalid), before),
            (S::Invalid, A::Marked)
        );
        invoice.status = InvoiceStatus::Paid;
        invoice.amount_received_msat = invoice.amount_msat;
        invoice.paid_at = Some("2026-01-01T00:06:00Z".into());
        assert_eq!(state(&invoice, None, after), (S::Settled, A::None));
        invoice.amount_received_msat = Some(invoice.amount_msat.unwrap_or(0) + 1000);
        assert_eq!(state(&invoice, None, after), (S::Settled, A::PaidOver));
        invoice.paid_at = Some("2026-01-01T00:12:00Z".into());
        assert_eq!(state(&invoice, None, after), (S::Expired, A::PaidLate));
        assert_eq!(
            state(&invoice, Some(Marked::Settled), after),
            (S::Settled, A::Marked)
        );
    }

    pub(crate) fn sample_invoice() -> Invoice {
        Invoice {
            id: "inv_x".into(),
            status: InvoiceStatus::Pending,
            amount: Some(1000),
            amount_received: None,
            amount_received_msat: None,
            amount_msat: Some(1_000_000),
            description: String::new(),
            payment_request: "lnbcrt1…".into(),
            payment_hash: "h".into(),
            expiry: 600,
            expires_at: String::new(),
            created_at: "2026-01-01T00:00:00Z".into(),
            paid_at: None,
            external_id: None,
            metadata: json!({}),
            warnings: Vec::new(),
            lsp: None,
            fiat: None,
            order: None,
            amount_refunded: 0,
            amount_refunded_msat: 0,
            offer_id: None,
            payer_note: None,
            quantity: None,
            onchain: None,
        }
    }
}
