//! Offers (BOLT12), reached through [`Offers`] (`app.offers()`): a payment code that never
//! expires and can be paid any number of times, for a sticker on the counter or a tip jar.
//!
//! The node keeps no state for an offer: it is built from the node's keys and a path through
//! one of its channel peers, and checked against those keys when a payer's wallet asks it for an
//! invoice. So an offer outlives restarts, but it cannot be withdrawn from wallets that have it,
//! and it is reachable only while that peer is (it names the peer as the way in). Each payment
//! to an offer is recorded as a paid invoice (`offer_id`, `payer_note`, `quantity`) in the same
//! transaction as its `payment.received` event, so it reaches events, webhooks, reports, the CSV
//! and receipts like any other sale.

pub(crate) mod db;

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorCode, Result};
use crate::invoices::MAX_DESCRIPTION_BYTES;
use crate::node::NodeHandle;
use crate::store::{Page, Store};
use crate::util::{new_id, now_ms};

/// The most items one payment may ask for, when an offer allows more than one.
pub const MAX_QUANTITY: u64 = 1000;

/// A request to make an offer, as the API receives it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOffer {
    /// What the payer's wallet shows, and what the sticker says ("Tips", "Coffee").
    #[schema(min_length = 1, max_length = 639)]
    pub description: String,
    /// A fixed price in sats; omitted or null: the payer chooses the amount (a tip jar).
    #[schema(minimum = 1, maximum = 2_100_000_000_000_000_i64)]
    pub amount: Option<i64>,
    /// With a fixed price: the most items one payment may buy (2 to 1000); the payer's wallet
    /// asks for a quantity and pays the price times it. Omitted: one per payment.
    #[schema(minimum = 2, maximum = 1000)]
    pub max_quantity: Option<u64>,
}

impl CreateOffer {
    /// Checks every field, with a message a person can act on: (amount in msat, quantity).
    fn validate(&self) -> Result<(Option<u64>, Option<u64>)> {
        let description = self.description.trim();
        if description.is_empty() {
            return Err(Error::invalid(
                "description",
                "say what the offer is for (\"Tips\", \"Coffee\"): the payer's wallet shows it",
            ));
        }
        if self.description.len() > MAX_DESCRIPTION_BYTES {
            return Err(Error::invalid(
                "description",
                format!(
                    "description is {} bytes; at most {MAX_DESCRIPTION_BYTES}",
                    self.description.len()
                ),
            ));
        }
        let amount_msat = crate::invoices::amount_msat(self.amount, "to let the payer choose")?;
        match (self.max_quantity, amount_msat) {
            (Some(_), None) => Err(Error::invalid(
                "max_quantity",
                "a quantity needs a price per item: give amount too, or leave max_quantity out",
            )),
            (Some(q), Some(_)) if !(2..=MAX_QUANTITY).contains(&q) => Err(Error::invalid(
                "max_quantity",
                format!(
                    "max_quantity must be 2 to {MAX_QUANTITY} (leave it out for one per payment)"
                ),
            )),
            (q, msat) => Ok((msat, q)),
        }
    }
}

/// An offer as the API returns it, with what it has received.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Offer {
    /// `ofr_…`
    pub id: String,
    /// The offer to show as a QR code or print (`lno1…`); it never expires.
    pub offer: String,
    /// What the payer's wallet shows.
    pub description: String,
    /// The fixed price in sats per item (null: the payer chooses).
    pub amount: Option<u64>,
    /// The same in millisatoshis.
    pub amount_msat: Option<u64>,
    /// The most items one payment may buy (null: one).
    pub max_quantity: Option<u64>,
    /// When it was made.
    pub created_at: String,
    /// How many payments it has received (each one a paid invoice with this `offer_id`).
    pub payments: u64,
    /// What they came to, in sats (rounded down).
    pub amount_received: u64,
    /// The same in millisatoshis.
    pub amount_received_msat: u64,
    /// When it was last paid.
    pub last_paid_at: Option<String>,
}

/// What the node says of a payment to an offer, beyond the amount and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferPayment {
    /// LDK's id of the offer paid (hex).
    pub offer_hash: String,
    /// The payer's note, without control characters.
    pub payer_note: Option<String>,
    /// The quantity the payer asked for.
    pub quantity: Option<u64>,
}

impl OfferPayment {
    /// The offer details of a received payment in the node's record, if it paid an offer.
    pub(crate) fn of(kind: &ldk_node::payment::PaymentKind) -> Option<OfferPayment> {
        let ldk_node::payment::PaymentKind::Bolt12Offer {
            offer_id,
            payer_note,
            quantity,
            ..
        } = kind
        else {
            return None;
        };
        // The note is the payer's text: nothing in it may act on a terminal, a CSV or a log.
        let payer_note = payer_note
            .as_ref()
            .map(|n| n.0.chars().filter(|c| !c.is_control()).collect::<String>())
            .filter(|n| !n.trim().is_empty());
        Some(OfferPayment {
            offer_hash: hex::encode(offer_id.0),
            payer_note,
            quantity: *quantity,
        })
    }
}

/// Offers: make them on the node, read them back. Borrowed from [`crate::App`].
pub struct Offers<'a> {
    store: &'a Store,
    node: &'a NodeHandle,
}

impl<'a> Offers<'a> {
    pub(crate) fn new(store: &'a Store, node: &'a NodeHandle) -> Self {
        Offers { store, node }
    }

    /// Makes an offer on the node and records it. `key_id` is the API key that asked (its
    /// payments are that key's invoices).
    pub async fn create(&self, request: CreateOffer, key_id: Option<&str>) -> Result<Offer> {
        let (amount_msat, max_quantity) = request.validate()?;
        let node = self.node.get()?;
        let description = request.description.trim().to_string();
        let bolt12 = node.bolt12_payment();
        let made = match amount_msat {
            Some(msat) => bolt12.receive(msat, &description, None, max_quantity),
            None => bolt12.receive_variable_amount(&description, None),
        };
        let offer = made.map_err(|e| match e {
            ldk_node::NodeError::OfferCreationFailed => Error::unprocessable(
                ErrorCode::OfferUnavailable,
                None,
                "this node cannot make an offer yet: a payer's wallet reaches an offer through \
                 one of the node's channel peers, and none is connected. Open a channel (or wait \
                 until its peer is back online), then try again",
            ),
            other => Error::Node(crate::node::explain(&other)),
        })?;
        let id = new_id("ofr");
        db::insert(
            self.store,
            db::NewOffer {
                id: &id,
                offer: &offer.to_string(),
                offer_hash: &hex::encode(offer.id().0),
                description: &description,
                amount_msat,
                max_quantity,
                created_at: now_ms(),
                key_id,
            },
        )
        .await?;
        db::get(self.store, &id, None).await
    }

    /// One offer by id (`ofr_…`); with `made_by`, only one that API key made.
    pub async fn get(&self, id: &str, made_by: Option<&str>) -> Result<Offer> {
        db::get(self.store, id, made_by).await
    }

    /// Offers newest first (with `made_by`, those that API key made); `cursor` is the
    /// `next_cursor` of the previous page.
    pub async fn list(
        &self,
        made_by: Option<&str>,
        limit: i64,
        cursor: Option<&str>,
    ) -> Result<Page<Offer>> {
        db::list(self.store, made_by, limit, cursor).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invoices::MAX_SATS;

    fn req(description: &str, amount: Option<i64>, max_quantity: Option<u64>) -> CreateOffer {
        CreateOffer {
            description: description.into(),
            amount,
            max_quantity,
        }
    }

    #[test]
    fn validation_table() {
        let check = |r: CreateOffer| r.validate().map_err(|e| e.code().as_str());
        assert_eq!(check(req("Tips", None, None)), Ok((None, None)));
        assert_eq!(
            check(req("Coffee", Some(3000), Some(10))),
            Ok((Some(3_000_000), Some(10)))
        );
        assert_eq!(check(req("  ", None, None)), Err("invalid_field"));
        assert_eq!(
            check(req(&"d".repeat(640), None, None)),
            Err("invalid_field")
        );
        assert_eq!(check(req("x", Some(0), None)), Err("invalid_amount"));
        assert_eq!(
            check(req("x", Some(MAX_SATS + 1), None)),
            Err("invalid_amount")
        );
        assert_eq!(check(req("x", None, Some(5))), Err("invalid_field"));
        assert_eq!(check(req("x", Some(1), Some(1))), Err("invalid_field"));
        assert_eq!(check(req("x", Some(1), Some(1001))), Err("invalid_field"));
    }
}
