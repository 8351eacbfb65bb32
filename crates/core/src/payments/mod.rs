//! Sending: outgoing payments, reached through [`Payments`] (`app.payments()`). Here: the request
//! to pay and the payment as clients see it, sending within a key's daily budget and recording
//! how it ended ([`send`]), their rows ([`db`]), and handing payments cut off by a crash back to
//! the node after a restart ([`resume`]).

pub(crate) mod db;
pub(crate) mod resume;
pub(crate) mod send;

pub use send::{invoice_description, parse_invoice, DailyLimit};

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::events::EventRecord;
use crate::node::NodeHandle;
use crate::store::{Page, Store};

/// Where an outgoing payment stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
#[sqlx(rename_all = "lowercase")]
pub enum PaymentStatus {
    /// In flight.
    Pending,
    /// Settled: the payee has the money and we have the preimage.
    Succeeded,
    /// Failed: nothing was paid.
    Failed,
}

impl std::str::FromStr for PaymentStatus {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "pending" => Ok(PaymentStatus::Pending),
            "succeeded" => Ok(PaymentStatus::Succeeded),
            "failed" => Ok(PaymentStatus::Failed),
            other => Err(Error::invalid(
                "status",
                format!("unknown status '{other}': use pending, succeeded or failed"),
            )),
        }
    }
}

/// A request to pay a BOLT11 invoice, as the API receives it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayInvoice {
    /// The BOLT11 string (a `lightning:` prefix is accepted).
    #[schema(min_length = 1)]
    pub invoice: String,
    /// Amount in sats, only for any-amount invoices.
    #[schema(minimum = 1, maximum = 2_100_000_000_000_000_i64)]
    pub amount: Option<i64>,
    /// The most this payment may cost in routing fees, in sats. Default: the server's cap
    /// (10 sat + 1 % of the amount unless configured otherwise).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 2_100_000_000_000_000_i64)]
    pub max_fee: Option<i64>,
}

/// A payment as the API returns it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Payment {
    /// `pay_…`
    pub id: String,
    /// `pending`, `succeeded` or `failed`.
    pub status: PaymentStatus,
    /// Amount sent to the payee, in sats.
    pub amount: u64,
    /// Routing fee paid, in sats (rounded up), once known.
    pub fee: Option<u64>,
    /// Exact amount in millisatoshis.
    pub amount_msat: u64,
    /// Exact fee in millisatoshis.
    pub fee_msat: Option<u64>,
    /// The most this payment was allowed to cost in routing fees, in sats (rounded up).
    pub max_fee: Option<u64>,
    /// The same cap in millisatoshis.
    pub max_fee_msat: Option<u64>,
    /// Hex payment hash.
    pub payment_hash: String,
    /// Hex preimage: the proof of payment, once succeeded.
    pub preimage: Option<String>,
    /// The BOLT11 string paid.
    pub invoice: String,
    /// The invoice's description.
    pub description: Option<String>,
    /// The payee's node id.
    pub destination: Option<String>,
    /// Why it failed.
    pub failure_reason: Option<String>,
    /// When it was sent.
    pub created_at: String,
    /// When it settled or failed.
    pub completed_at: Option<String>,
    /// Its value (and its fee's) in the merchant's currency at the rate recorded when it was
    /// sent; null when the merchant counted in sats only then (or no rate was fresh).
    pub fiat: Option<crate::rates::FiatAmount>,
    /// The paid invoice (`inv_…`) this payment gave money back for, when it is a refund.
    pub refund_of: Option<String>,
}

/// Outgoing payments: send them, read them back. Borrowed from [`crate::App`].
pub struct Payments<'a> {
    pub(crate) store: &'a Store,
    pub(crate) node: &'a NodeHandle,
    pub(crate) live: &'a broadcast::Sender<EventRecord>,
    pub(crate) config: &'a Config,
    /// Serialises the budget check and the insert of a payment, so two concurrent payments
    /// with one key cannot both pass a budget that only one fits in.
    pub(crate) pay_lock: &'a tokio::sync::Mutex<()>,
    pub(crate) rates: &'a crate::rates::RateService,
}

impl Payments<'_> {
    /// One payment by id (`pay_…`) or payment hash (the newest attempt).
    pub async fn get(&self, id_or_hash: &str) -> Result<Payment> {
        db::get(self.store, id_or_hash).await
    }

    /// Payments newest first, optionally of one status; `cursor` is the `next_cursor` of the
    /// previous page.
    pub async fn list(
        &self,
        status: Option<PaymentStatus>,
        limit: i64,
        cursor: Option<&str>,
    ) -> Result<Page<Payment>> {
        db::list(self.store, status, limit, cursor).await
    }
}
