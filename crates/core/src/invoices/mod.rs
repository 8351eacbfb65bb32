//! Receiving: invoices, reached through [`Invoices`] (`app.invoices()`). Here: the request to
//! create one and its validation, the handle that makes them on the node and records them, their
//! rows ([`db`]), and the task that marks them expired ([`expiry`]).

pub(crate) mod db;
pub(crate) mod expiry;
pub(crate) mod onchain;

use std::sync::Arc;

use ldk_node::lightning_invoice::{Bolt11InvoiceDescription, Description};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use rust_decimal::prelude::ToPrimitive;

use crate::config::Config;
use crate::error::{Error, ErrorCode, Result};
use crate::node::NodeHandle;
use crate::rates::service::currency_code;
use crate::rates::{FiatAmount, RateService, Recorded};
use crate::store::{Page, Store};
use crate::util::{new_id, now_ms};

/// Where an invoice stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
#[sqlx(rename_all = "lowercase")]
pub enum InvoiceStatus {
    /// Waiting for its payment.
    Pending,
    /// Paid.
    Paid,
    /// Its time ran out unpaid (a payment that still arrives turns it paid).
    Expired,
}

impl std::str::FromStr for InvoiceStatus {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "pending" => Ok(InvoiceStatus::Pending),
            "paid" => Ok(InvoiceStatus::Paid),
            "expired" => Ok(InvoiceStatus::Expired),
            other => Err(Error::invalid(
                "status",
                format!("unknown status '{other}': use pending, paid or expired"),
            )),
        }
    }
}

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
    /// Amount in sats; omitted or null for an any-amount invoice (or one priced in `fiat`).
    #[schema(minimum = 1, maximum = 2_100_000_000_000_000_i64)]
    pub amount: Option<i64>,
    /// The price in a currency instead of `amount`: converted to sats at the current rate
    /// (amount × 100,000,000 ÷ rate, rounded half up to the sat), which is recorded with it.
    pub fiat: Option<FiatPrice>,
    /// A cart instead of `amount` or `fiat`: catalog items and custom amounts, with taxes and a
    /// tip, priced by the catalog now; the invoice records every part (`order`) and asks for
    /// its total (in a currency: converted at the current rate, as `fiat` is).
    pub cart: Option<crate::catalog::Cart>,
    /// What the payer sees in their wallet (for a cart, default: its lines, "2× Flat white").
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
    /// Also take an on-chain payment (for a large amount, where the customer's fee matters
    /// less than a channel's limits): the invoice gets a fresh address of the node's wallet and
    /// `onchain.uri`, a BIP21 `bitcoin:` URI with the address, the amount and this invoice, for
    /// one QR that any wallet pays one way or the other. Needs an amount (at least 546 sats).
    /// Paid on-chain once outputs to the address, confirmed, reach the amount.
    pub onchain: Option<bool>,
}

/// A price in a currency, as a request gives it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FiatPrice {
    /// The price as a decimal string, at most the currency's decimals ("3.50"; yen: "500").
    #[schema(example = "3.50", pattern = "^[0-9]{1,15}([.][0-9]{1,2})?$")]
    #[serde(deserialize_with = "crate::rates::decimal_string")]
    pub amount: String,
    /// ISO 4217 code: USD, EUR, GBP, CHF, CAD, AUD or JPY.
    #[schema(schema_with = crate::rates::currency_schema, example = "EUR")]
    pub currency: String,
}

/// An amount in sats as a request gives it, in millisatoshis: positive and at most the 21
/// million BTC that can exist (`422 invalid_amount` naming `amount` otherwise); `omitted` says
/// what leaving it out means ("for an any-amount invoice").
pub(crate) fn amount_msat(amount: Option<i64>, omitted: &str) -> Result<Option<u64>> {
    match amount {
        None => Ok(None),
        Some(a) if a <= 0 => Err(Error::unprocessable(
            ErrorCode::InvalidAmount,
            Some("amount"),
            format!("amount must be a positive number of sats (omit it {omitted})"),
        )),
        Some(a) if a > MAX_SATS => Err(Error::unprocessable(
            ErrorCode::InvalidAmount,
            Some("amount"),
            format!("amount {a} sat is more than the 21 million BTC that can exist"),
        )),
        Some(a) => Ok(Some(a as u64 * 1000)),
    }
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
    /// The price in a currency (code, amount), when the amount is to be converted from it.
    pub fiat_price: Option<(String, rust_decimal::Decimal)>,
    /// The cart to price, when the invoice is for one.
    pub cart: Option<crate::catalog::Cart>,
    /// The cart as priced, once it is.
    pub order: Option<crate::catalog::Order>,
    /// Whether it also takes an on-chain payment.
    pub onchain: bool,
}

impl CreateInvoice {
    /// Checks every field, with a message a person can act on.
    pub fn validate(self) -> Result<ValidInvoice> {
        if self.cart.is_some() && (self.fiat.is_some() || self.amount.is_some()) {
            return Err(Error::invalid(
                "cart",
                "a cart's total is the price: leave amount and fiat out",
            ));
        }
        let fiat_price = match (&self.fiat, self.amount) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid(
                    "fiat",
                    "give the price either in sats (amount) or in a currency (fiat), not both",
                ))
            }
            (Some(price), None) => {
                let currency = currency_code(&price.currency, "fiat.currency")?;
                let amount = crate::rates::parse_amount(&price.amount, &currency)?;
                Some((currency, amount))
            }
            (None, _) => None,
        };
        let amount_msat = amount_msat(self.amount, "for an any-amount invoice")?;
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
                ErrorCode::InvalidExpiry,
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
            fiat_price,
            cart: self.cart,
            order: None,
            onchain: self.onchain.unwrap_or(false),
        })
    }
}

/// Why an invoice may not be payable, as the node saw it when the invoice was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WarningCode {
    /// More than the node's channels can receive in one payment (none usable, or too little
    /// inbound capacity): the payer's wallet will find no route until the node has more.
    InsufficientInboundCapacity,
}

/// Something that can keep an invoice from being paid, said for the merchant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InvoiceWarning {
    /// Stable code to branch on.
    pub code: WarningCode,
    /// What it means and what to do, for people.
    pub message: String,
}

/// A node error from making an invoice, said for the merchant; the LSP's ones with their codes.
fn lsp_error(e: ldk_node::NodeError, cap_msat: Option<u64>) -> Error {
    use ldk_node::NodeError as E;
    match e {
        E::LiquidityFeeTooHigh => Error::unprocessable(
            ErrorCode::LspFeeTooHigh,
            Some("amount"),
            format!(
                "the Lightning service provider asks more for opening a channel than this node \
                 accepts (at most {} sat for this amount: --lsp-max-fee-base-sat and \
                 --lsp-max-fee-ppm); no invoice was made",
                crate::util::group_thousands(cap_msat.unwrap_or(0) / 1000)
            ),
        ),
        E::ConnectionFailed | E::LiquidityRequestFailed | E::LiquiditySourceUnavailable => {
            Error::Unavailable {
                code: ErrorCode::LspUnavailable,
                message: format!(
                    "this invoice needs a channel from the Lightning service provider, and it \
                     did not answer ({}); no invoice was made: try again, or charge less",
                    crate::node::explain(&e)
                ),
            }
        }
        other => Error::Node(crate::node::explain(&other)),
    }
}

/// The LSP's fee quote for a just-in-time invoice, from the node's record of it.
fn quoted_lsp_fee(
    node: &ldk_node::Node,
    invoice: &ldk_node::lightning_invoice::Bolt11Invoice,
) -> Option<u64> {
    use ldk_node::bitcoin::hashes::Hash;
    let id =
        ldk_node::lightning::ln::channelmanager::PaymentId(invoice.payment_hash().to_byte_array());
    match node.payment(&id)?.kind {
        ldk_node::payment::PaymentKind::Bolt11Jit { lsp_fee_limits, .. } => {
            lsp_fee_limits.max_total_opening_fee_msat
        }
        _ => None,
    }
}

/// The warnings for an invoice of `amount_msat` (any amount: `None`) given what the node can
/// receive in one payment now.
fn warnings_for(amount_msat: Option<u64>, max_single_msat: u64) -> Vec<InvoiceWarning> {
    let how = "open a channel from another node to this one (or have a peer open one), then \
               make the invoice again";
    let message = match amount_msat {
        _ if max_single_msat == 0 => format!(
            "this node has no channel that can receive a payment now, so this invoice cannot be \
             paid yet: {how}"
        ),
        Some(msat) if msat > max_single_msat => format!(
            "this invoice asks for {} sat, but this node can receive at most {} sat in one \
             payment now, so it cannot be paid yet: {how}",
            crate::util::group_thousands(msat.div_ceil(1000)),
            crate::util::group_thousands(max_single_msat / 1000),
        ),
        _ => return Vec::new(),
    };
    vec![InvoiceWarning {
        code: WarningCode::InsufficientInboundCapacity,
        message,
    }]
}

/// The LSP an invoice was made through: paying it opens a channel to this node (LSPS2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct InvoiceLsp {
    /// The provider's node id.
    pub node_id: String,
    /// The most it may keep of the payment for opening the channel, in sats (rounded up).
    pub max_fee: u64,
    /// The same in millisatoshis (the provider's quote).
    pub max_fee_msat: u64,
    /// What it kept, in sats (rounded up), once paid.
    pub fee: Option<u64>,
    /// What it kept, in millisatoshis, once paid.
    pub fee_msat: Option<u64>,
}

/// The on-chain way to pay an invoice (a unified QR), when it has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct InvoiceOnchain {
    /// A fresh address of the node's on-chain wallet, for this invoice alone.
    pub address: String,
    /// The BIP21 URI to show as the QR: `bitcoin:<address>?amount=<BTC>&message=<description>
    /// &lightning=<this invoice>`; a wallet pays it on-chain or over Lightning.
    pub uri: String,
    /// What confirmed outputs to the address came to so far, in sats.
    pub received: u64,
    /// The transaction that completed the payment, once it was paid on-chain (null otherwise).
    pub txid: Option<String>,
}

/// The smallest output most wallets will send (the dust limit of a P2WPKH output).
pub const MIN_ONCHAIN_SATS: u64 = 546;

/// The BIP21 URI of an on-chain `address`, the amount, the description and the BOLT11 invoice.
/// The amount is in BTC, written from the sats exactly (no float); the text is percent-encoded.
pub(crate) fn bip21(address: &str, amount_sats: u64, description: &str, bolt11: &str) -> String {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    let whole = amount_sats / 100_000_000;
    let fraction = format!("{:08}", amount_sats % 100_000_000);
    let fraction = fraction.trim_end_matches('0');
    let btc = if fraction.is_empty() {
        whole.to_string()
    } else {
        format!("{whole}.{fraction}")
    };
    let mut uri = format!("bitcoin:{address}?amount={btc}");
    if !description.is_empty() {
        uri.push_str("&message=");
        uri.extend(utf8_percent_encode(description, NON_ALPHANUMERIC).map(str::to_string));
    }
    uri.push_str("&lightning=");
    uri.push_str(bolt11);
    uri
}

/// What a `payment.received` event says: the public document's fields, the invoice's own, what
/// the payer of an offer sent with it (`payer_note`, `quantity`), and how the money came
/// (`route`: `lightning`, or `onchain` with its `txid`).
pub(crate) fn received_payload(
    invoice: Option<&Invoice>,
    payment_hash: &str,
    amount_msat: u64,
    lsp_fee_msat: Option<u64>,
    payer_note: Option<&str>,
    quantity: Option<u64>,
    txid: Option<&str>,
) -> serde_json::Value {
    serde_json::json!({
        "invoice_id": invoice.map(|i| i.id.clone()),
        "amount": amount_msat / 1000,
        "amount_msat": amount_msat,
        "status": InvoiceStatus::Paid,
        "payment_hash": payment_hash,
        "description": invoice.map(|i| i.description.clone()),
        "external_id": invoice.and_then(|i| i.external_id.clone()),
        "metadata": invoice.map(|i| i.metadata.clone()),
        // What the LSP kept for opening a channel (`amount` is after it), if one did.
        "lsp_fee": lsp_fee_msat.map(|f| f.div_ceil(1000)),
        "lsp_fee_msat": lsp_fee_msat,
        // Its value in the merchant's currency at the rate recorded with the invoice.
        "fiat": invoice.and_then(|i| i.fiat.clone()),
        // The sale's lines, taxes, tip and total, when it was made from a cart.
        "order": invoice.and_then(|i| i.order.clone()),
        // For a payment to a static QR (BOLT12 offer): which, and what the payer wrote.
        "offer_id": invoice.and_then(|i| i.offer_id.clone()),
        "payer_note": payer_note,
        "quantity": quantity,
        "route": if txid.is_some() { "onchain" } else { "lightning" },
        "txid": txid,
    })
}

/// An invoice as the API returns it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Invoice {
    /// `inv_…`
    pub id: String,
    /// `pending`, `paid` or `expired`.
    pub status: InvoiceStatus,
    /// Amount asked, in sats (null for any-amount).
    pub amount: Option<u64>,
    /// Amount received, in sats (rounded down), once paid.
    pub amount_received: Option<u64>,
    /// Exact amount received, in millisatoshis, once paid.
    pub amount_received_msat: Option<u64>,
    /// Exact amount asked, in millisatoshis.
    pub amount_msat: Option<u64>,
    /// Description.
    pub description: String,
    /// The BOLT11 string (for a payment to an offer: the offer, `lno1…`).
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
    /// What could keep it from being paid, as the node saw it when it was made (empty: nothing).
    /// The invoice is made anyway: a channel may open before it is paid.
    pub warnings: Vec<InvoiceWarning>,
    /// The LSP it was made through, when paying it opens a channel (null otherwise).
    pub lsp: Option<InvoiceLsp>,
    /// Its value in the merchant's currency at the rate recorded when it was made: the price as
    /// asked when it was priced in a currency. Null when the merchant counted in sats only then
    /// (or no rate was fresh).
    pub fiat: Option<FiatAmount>,
    /// The sale it was made for: lines, taxes, tip and total as charged (null when it was made
    /// from an amount alone).
    pub order: Option<crate::catalog::Order>,
    /// What refunds gave back to the customer, in sats (rounded up).
    pub amount_refunded: u64,
    /// The same in millisatoshis: the refunds that succeeded (their payments carry `refund_of`).
    pub amount_refunded_msat: u64,
    /// The offer (`ofr_…`) this payment came to, for a payment to a static QR; its
    /// `payment_request` is then the offer (`lno1…`), and it was paid when it was made.
    pub offer_id: Option<String>,
    /// What the payer wrote with a payment to an offer (their wallet's note; untrusted text,
    /// at most 512 bytes).
    pub payer_note: Option<String>,
    /// How many of the offer's item the payer asked for, when the offer allows more than one.
    pub quantity: Option<u64>,
    /// The on-chain way to pay it, when it was made with `onchain: true` (null otherwise).
    pub onchain: Option<InvoiceOnchain>,
}

/// More to write in a new invoice's own transaction, given the invoice's id: the Greenfield
/// front door records what its client asked and queues `InvoiceCreated` there, so that an
/// invoice never exists without them (and concurrent invoices still share one commit).
pub(crate) type AlsoWrite = Box<
    dyn for<'c> FnOnce(
            &'c mut sqlx::SqliteConnection,
            String,
        ) -> crate::store::ConnFuture<'c, Result<()>>
        + Send,
>;

/// Invoices: make them on the node, read them back. Borrowed from [`crate::App`].
pub struct Invoices<'a> {
    store: &'a Store,
    node: &'a NodeHandle,
    config: &'a Config,
    rates: &'a RateService,
    /// Wakes the expiry task (a new invoice may expire before the one it sleeps for).
    wake_expiry: &'a Arc<Notify>,
}

impl<'a> Invoices<'a> {
    pub(crate) fn new(
        store: &'a Store,
        node: &'a NodeHandle,
        config: &'a Config,
        rates: &'a RateService,
        wake_expiry: &'a Arc<Notify>,
    ) -> Self {
        Invoices {
            store,
            node,
            config,
            rates,
            wake_expiry,
        }
    }

    /// Creates an invoice on the node and records it. `key_id` is the API key that asked.
    pub async fn create(&self, request: CreateInvoice, key_id: Option<&str>) -> Result<Invoice> {
        self.create_with(request, key_id, None).await
    }

    /// [`Invoices::create`], with `also` written in the invoice's own transaction.
    pub(crate) async fn create_with(
        &self,
        request: CreateInvoice,
        key_id: Option<&str>,
        also: Option<AlsoWrite>,
    ) -> Result<Invoice> {
        let mut valid = request.validate()?;
        let node = self.node.get()?;
        let fiat = self.price(&mut valid).await?;
        if valid.onchain {
            match valid.amount_msat {
                None => {
                    return Err(Error::invalid(
                        "onchain",
                        "an on-chain payment needs an amount: give amount, fiat or a cart",
                    ))
                }
                Some(msat) if msat / 1000 < MIN_ONCHAIN_SATS => {
                    return Err(Error::unprocessable(
                        ErrorCode::InvalidAmount,
                        Some("onchain"),
                        format!(
                            "{} sat is too little to pay on-chain (at least {MIN_ONCHAIN_SATS}): \
                             leave onchain out and take it over Lightning",
                            msat / 1000
                        ),
                    ))
                }
                Some(_) => {}
            }
        }
        let description = Description::new(valid.description.clone()).map_err(|e| {
            Error::invalid(
                "description",
                format!("description is not allowed in an invoice: {e}"),
            )
        })?;
        let description = Bolt11InvoiceDescription::Direct(description);
        let mut warnings = warnings_for(
            valid.amount_msat,
            crate::node::balance::max_single_receive_msat(&node.list_channels()),
        );
        // More than the channels can take, and an LSP to open one: through the LSP, within the
        // merchant's fee cap. (An any-amount invoice keeps its warning: a fee cap needs a sum.)
        let jit = match (&self.config.lsp, valid.amount_msat) {
            (Some(lsp), Some(msat)) if !warnings.is_empty() => {
                Some((lsp.node_id.clone(), self.config.lsp_fee_cap_msat(msat)))
            }
            _ => None,
        };
        // `receive` writes ldk-node's store synchronously: off the async workers, which LDK's
        // background processor shares (it persists the ChannelManager there, and every delay
        // widens the window a crash can leave the manager behind a monitor in). The LSP's
        // answers are waited for there too.
        let (amount_msat, expiry, cap) =
            (valid.amount_msat, valid.expiry, jit.as_ref().map(|j| j.1));
        let receiving = node.clone();
        let invoice = tokio::task::spawn_blocking(move || {
            let bolt11 = receiving.bolt11_payment();
            match (amount_msat, cap) {
                (Some(msat), Some(cap)) => {
                    bolt11.receive_via_jit_channel(msat, &description, expiry, Some(cap))
                }
                (Some(msat), None) => bolt11.receive(msat, &description, expiry),
                (None, _) => bolt11.receive_variable_amount(&description, expiry),
            }
        })
        .await
        .map_err(|e| Error::Node(format!("invoice task failed: {e}")))?
        .map_err(|e| lsp_error(e, cap))?;
        let lsp = match jit {
            Some((node_id, cap)) => {
                // The LSP's quote, which the node holds the payment to: at most the cap.
                let quoted = quoted_lsp_fee(&node, &invoice).unwrap_or(cap);
                warnings.clear();
                Some(InvoiceLsp {
                    node_id,
                    max_fee: quoted.div_ceil(1000),
                    max_fee_msat: quoted,
                    fee: None,
                    fee_msat: None,
                })
            }
            None => None,
        };
        // A fresh address for this invoice alone, so an output to it can only mean this sale.
        let onchain_address = if valid.onchain {
            let wallet = node.clone();
            let address =
                tokio::task::spawn_blocking(move || wallet.onchain_payment().new_address())
                    .await
                    .map_err(|e| Error::Node(format!("address task failed: {e}")))?
                    .map_err(|e| Error::Node(crate::node::explain(&e)))?;
            Some(address.to_string())
        } else {
            None
        };
        let id = new_id("inv");
        // The node's invoice timestamp has second precision; use ours (ms) for ordering, and the
        // invoice's own expiry arithmetic stays with the node.
        let invoice = db::insert(
            self.store,
            db::NewInvoiceRow {
                id: &id,
                payment_hash: &invoice.payment_hash().to_string(),
                payment_request: &invoice.to_string(),
                valid: &valid,
                created_at: now_ms(),
                key_id,
                warnings: &warnings,
                lsp: lsp.as_ref(),
                fiat: fiat.as_ref(),
                onchain_address: onchain_address.as_deref(),
                also,
            },
        )
        .await?;
        self.wake_expiry.notify_one();
        Ok(invoice)
    }

    /// The rate to record with an invoice, converting a price in a currency to its amount in
    /// sats first. A price in a currency needs a fresh rate (`503 rate_unavailable` otherwise,
    /// and no invoice); an amount in sats records the merchant's rate of the moment if one is
    /// fresh, and never waits for one.
    async fn price(&self, valid: &mut ValidInvoice) -> Result<Option<Recorded>> {
        if let Some(cart) = valid.cart.take() {
            let order = crate::catalog::Catalog::new(self.store)
                .price_cart(&cart)
                .await?;
            match &order.currency {
                Some(c) => valid.fiat_price = Some((c.clone(), order.total_decimal())),
                None => {
                    let sats = order
                        .total_decimal()
                        .to_u64()
                        .filter(|s| *s <= MAX_SATS as u64);
                    let sats = sats.ok_or_else(|| {
                        Error::unprocessable(
                            ErrorCode::InvalidAmount,
                            Some("cart"),
                            "this cart's total is more than the 21 million BTC that can exist",
                        )
                    })?;
                    valid.amount_msat = Some(sats * 1000);
                }
            }
            if valid.description.is_empty() {
                valid.description = order.describe(MAX_DESCRIPTION_BYTES);
            }
            valid.order = Some(order);
        }
        let Some((currency, amount)) = valid.fiat_price.clone() else {
            return Ok(self.rates.merchant_rate());
        };
        let rate = self.rates.rate(&currency).await?;
        let sats = crate::rates::to_sats(amount, &rate)?;
        if sats > MAX_SATS as u64 {
            return Err(Error::unprocessable(
                ErrorCode::InvalidAmount,
                Some("fiat.amount"),
                format!("{amount} {currency} is more than the 21 million BTC that can exist"),
            ));
        }
        valid.amount_msat = Some(sats * 1000);
        Ok(Some(Recorded::of(&currency, &rate, Some(amount))))
    }

    /// One invoice by id (`inv_…`) or payment hash.
    pub async fn get(&self, id_or_hash: &str) -> Result<Invoice> {
        db::get(self.store, id_or_hash).await
    }

    /// One invoice, if the API key `key` made it (a key that may only make invoices reads its
    /// own, and no other).
    pub async fn get_made_by(&self, id_or_hash: &str, key: &str) -> Result<Invoice> {
        db::get_made_by(self.store, id_or_hash, Some(key)).await
    }

    /// Invoices newest first that match `search` (a status: `expired` includes those past their
    /// time that the expiry task has not marked yet; text; amounts; dates); `cursor` is the
    /// `next_cursor` of the previous page.
    pub async fn list(
        &self,
        search: &InvoiceSearch,
        limit: i64,
        cursor: Option<&str>,
    ) -> Result<Page<Invoice>> {
        search.check()?;
        db::list(self.store, search, None, limit, cursor).await
    }

    /// The invoices the API key `key` made, newest first (as [`Invoices::list`]).
    pub async fn list_made_by(
        &self,
        key: &str,
        search: &InvoiceSearch,
        limit: i64,
        cursor: Option<&str>,
    ) -> Result<Page<Invoice>> {
        search.check()?;
        db::list(self.store, search, Some(key), limit, cursor).await
    }
}

/// What to look for in the invoice list; every part is optional, and together they must all
/// hold. (Each search reads the invoices newest first until a page is full: fine for a shop's
/// history, and a scan, unlike the plain list.)
#[derive(Debug, Clone, Default)]
pub struct InvoiceSearch {
    /// Only invoices in this status.
    pub status: Option<InvoiceStatus>,
    /// Text found in the description, external id or payer's note (ignoring case for ASCII
    /// letters), or an invoice id or payment hash in full. At most 100 characters.
    pub text: Option<String>,
    /// At least this many sats (the amount asked, or received for a payer-chosen amount).
    pub min_amount: Option<u64>,
    /// At most this many sats.
    pub max_amount: Option<u64>,
    /// Made at or after (unix ms).
    pub from_ms: Option<i64>,
    /// Made before (unix ms).
    pub to_ms: Option<i64>,
}

impl InvoiceSearch {
    fn check(&self) -> Result<()> {
        if let Some(text) = &self.text {
            if text.chars().count() > 100 {
                return Err(Error::invalid_query(
                    "q",
                    "q is at most 100 characters of text to look for",
                ));
            }
        }
        for (field, amount) in [
            ("min_amount", self.min_amount),
            ("max_amount", self.max_amount),
        ] {
            if amount.is_some_and(|sats| sats > MAX_SATS as u64) {
                return Err(Error::invalid_query(
                    field,
                    format!("{field} is at most {MAX_SATS} sats (21 million BTC)"),
                ));
            }
        }
        if let (Some(min), Some(max)) = (self.min_amount, self.max_amount) {
            if min > max {
                return Err(Error::invalid_query(
                    "min_amount",
                    format!("min_amount ({min}) is more than max_amount ({max})"),
                ));
            }
        }
        if let (Some(from), Some(to)) = (self.from_ms, self.to_ms) {
            if from >= to {
                return Err(Error::invalid_query("from", "from must come before to"));
            }
        }
        Ok(())
    }
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
        let code = |r: CreateInvoice| r.validate().err().map(|e| e.code().as_str());
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
    fn warnings_say_when_the_node_cannot_receive_it() {
        assert!(warnings_for(Some(1_000_000), 2_000_000).is_empty());
        assert!(warnings_for(None, 1).is_empty());
        let over = warnings_for(Some(2_500_000), 2_000_000);
        assert_eq!(over.len(), 1);
        assert_eq!(over[0].code, WarningCode::InsufficientInboundCapacity);
        assert!(
            over[0].message.contains("asks for 2,500 sat")
                && over[0].message.contains("at most 2,000 sat"),
            "{}",
            over[0].message
        );
        assert!(warnings_for(None, 0)[0].message.contains("no channel"));
    }
}
