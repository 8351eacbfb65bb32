//! Paying a BOLT11 invoice within the key's daily budget, and recording how the payment ended
//! (from the node's answer, its events, or a resumed payment) with its event.

use std::str::FromStr;
use std::time::Duration;

use ldk_node::lightning::routing::router::RouteParametersConfig;
use ldk_node::lightning_invoice::{Bolt11Invoice, Bolt11InvoiceDescriptionRef};
use serde_json::json;
use sqlx::SqliteConnection;

use super::db::{self as payments, NewPaymentRow};
use super::{PayInvoice, Payment, PaymentStatus, Payments};
use crate::error::{Error, ErrorCode, Result};
use crate::events::{self, EventKind, EventRecord};
use crate::invoices::MAX_SATS;
use crate::keys::ApiKey;
use crate::store::Store;
use crate::util::{new_id, now_ms};

/// How long `Payments::pay` waits for the payment to settle before answering `pending`.
const SETTLE_WAIT: Duration = Duration::from_secs(30);

/// A BOLT11 invoice read from user input: a `lightning:` prefix and whitespace are tolerated.
pub fn parse_invoice(text: &str) -> Result<Bolt11Invoice> {
    let text = text.trim();
    let text = match text.get(..10) {
        Some(p) if p.eq_ignore_ascii_case("lightning:") => &text[10..],
        _ => text,
    };
    if text.is_empty() {
        return Err(Error::invalid(
            "invoice",
            "invoice is empty: paste a BOLT11 invoice (lnbc…)",
        ));
    }
    Bolt11Invoice::from_str(text).map_err(|e| {
        Error::invalid(
            "invoice",
            format!("this is not a valid BOLT11 invoice ({e}); it should start with ln…"),
        )
    })
}

/// The invoice's description text, if it carries one directly.
pub fn invoice_description(invoice: &Bolt11Invoice) -> Option<String> {
    match invoice.description() {
        Bolt11InvoiceDescriptionRef::Direct(d) => Some(d.to_string()),
        Bolt11InvoiceDescriptionRef::Hash(_) => None,
    }
}

/// The paid invoice a refund gives money back for, what it received (msat), and the counter's
/// daily limit when the cashier refunds.
struct RefundOf {
    invoice_id: String,
    received_msat: u64,
    counter_limit: Option<DailyLimit>,
}

/// A daily limit on the locked counter's refunds (see `cashier::Cashier::refund_allowance`):
/// the refunds its keys made since `since_ms` (amount and fee, or fee cap while pending), with
/// this one and its fee cap, stay within `limit_msat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyLimit {
    /// The most, in msat.
    pub limit_msat: u64,
    /// When the day began (unix ms).
    pub since_ms: i64,
}

impl Payments<'_> {
    /// Pays a BOLT11 invoice on behalf of `key`, waiting up to 30 s for it to settle.
    pub async fn pay(&self, request: PayInvoice, key: Option<&ApiKey>) -> Result<Payment> {
        self.send(request, key, None).await
    }

    /// Refunds (part of) the paid invoice `invoice_id` to the customer's BOLT11 invoice in
    /// `request`: a payment linked to it, sent like any other. What is refunded or being refunded
    /// can never pass what the invoice received (`422 refund_exceeds_received`): the check and
    /// the refund's record happen under the same lock as every payment's budget check, so
    /// concurrent refunds cannot together pass it. `counter_limit`: the counter's daily limit,
    /// for a refund by the cashier's key (`403 cashier_refund_limit` past it).
    pub async fn refund(
        &self,
        invoice_id: &str,
        request: PayInvoice,
        key: Option<&ApiKey>,
        counter_limit: Option<DailyLimit>,
    ) -> Result<Payment> {
        let paid = crate::invoices::db::get(self.store, invoice_id).await?;
        let received_msat = match (paid.status, paid.amount_received_msat) {
            (crate::invoices::InvoiceStatus::Paid, Some(msat)) => msat,
            _ => {
                return Err(Error::conflict(
                    ErrorCode::InvoiceNotPaid,
                    format!(
                        "invoice {} is not paid, so there is nothing to refund",
                        paid.id
                    ),
                ))
            }
        };
        let refund = RefundOf {
            invoice_id: paid.id,
            received_msat,
            counter_limit,
        };
        self.send(request, key, Some(refund)).await
    }

    async fn send(
        &self,
        request: PayInvoice,
        key: Option<&ApiKey>,
        refund: Option<RefundOf>,
    ) -> Result<Payment> {
        let invoice = parse_invoice(&request.invoice)?;
        let network = self.config.network.to_ldk();
        if invoice.network() != network {
            return Err(Error::unprocessable(
                ErrorCode::WrongNetwork,
                Some("invoice"),
                format!(
                    "this invoice is for {}, but this node runs on {}",
                    invoice.network(),
                    self.config.network
                ),
            ));
        }
        if invoice.is_expired() {
            return Err(Error::unprocessable(
                ErrorCode::InvoiceExpired,
                Some("invoice"),
                "this invoice has expired",
            ));
        }
        let amount_msat = match (invoice.amount_milli_satoshis(), request.amount) {
            (Some(fixed), None) => fixed,
            (Some(fixed), Some(a)) if a >= 0 && (a as u64).saturating_mul(1000) == fixed => fixed,
            (Some(fixed), Some(_)) => {
                return Err(Error::unprocessable(
                    ErrorCode::AmountNotAllowed,
                    Some("amount"),
                    format!(
                        "this invoice asks for exactly {} sat; leave amount out",
                        fixed.div_ceil(1000)
                    ),
                ))
            }
            (None, None) => {
                return Err(Error::unprocessable(
                    ErrorCode::AmountRequired,
                    Some("amount"),
                    "this invoice has no amount: say how many sats to pay in `amount`",
                ))
            }
            (None, Some(a)) if a <= 0 || a > MAX_SATS => {
                return Err(Error::unprocessable(
                    ErrorCode::InvalidAmount,
                    Some("amount"),
                    "amount must be a positive number of sats, at most 21 million BTC",
                ))
            }
            (None, Some(a)) => a as u64 * 1000,
        };
        let max_fee_msat = match request.max_fee {
            None => self.config.default_max_fee_msat(amount_msat),
            Some(f) if (0..=MAX_SATS).contains(&f) => f as u64 * 1000,
            Some(_) => {
                return Err(Error::invalid(
                    "max_fee",
                    "max_fee must be a number of sats from 0 to 21 million BTC",
                ))
            }
        };
        let node = self.node.get()?;
        let destination = invoice.recover_payee_pub_key();
        if destination == node.node_id() {
            return Err(Error::unprocessable(
                ErrorCode::SelfPayment,
                Some("invoice"),
                "this invoice was made by this node; paying it would move nothing",
            ));
        }
        let hash = invoice.payment_hash().to_string();
        let id = new_id("pay");
        // The merchant's rate of the moment, if one is fresh: a payment never waits for one.
        let fiat = self.rates.merchant_rate();
        {
            let _guard = self.pay_lock.lock().await;
            if let Some(key) = key {
                check_budget(self.store, key, amount_msat, max_fee_msat).await?;
            }
            if let Some(refund) = &refund {
                let before = payments::refunds_msat(self.store, &refund.invoice_id).await?;
                let left = refund.received_msat.saturating_sub(before);
                if amount_msat > left {
                    return Err(Error::unprocessable(
                        ErrorCode::RefundExceedsReceived,
                        Some("invoice"),
                        format!(
                            "this refund of {} sat is more than is left to refund: the invoice \
                             received {} sat and {} sat are refunded or being refunded, so at \
                             most {} sat can go back",
                            crate::util::group_thousands(amount_msat.div_ceil(1000)),
                            crate::util::group_thousands(refund.received_msat / 1000),
                            crate::util::group_thousands(before.div_ceil(1000)),
                            crate::util::group_thousands(left / 1000),
                        ),
                    ));
                }
                if let Some(limit) = refund.counter_limit {
                    check_counter_limit(self.store, limit, amount_msat, max_fee_msat).await?;
                }
            }
            let spendable: u64 = node
                .list_channels()
                .iter()
                .filter(|c| c.is_usable)
                .map(|c| c.next_outbound_htlc_limit_msat)
                .sum();
            if amount_msat > spendable {
                return Err(Error::InsufficientBalance(format!(
                    "not enough outbound liquidity: this payment needs {} sat, the channels can send {} sat now",
                    amount_msat.div_ceil(1000),
                    spendable / 1000
                )));
            }
            payments::insert_pending(
                self.store,
                NewPaymentRow {
                    id: &id,
                    payment_hash: &hash,
                    amount_msat,
                    max_fee_msat,
                    invoice: &invoice.to_string(),
                    description: invoice_description(&invoice).as_deref(),
                    destination: Some(&destination.to_string()),
                    created_at: now_ms(),
                    key_id: key.map(|k| k.id.as_str()),
                    fiat: fiat.as_ref(),
                    refund_of: refund.as_ref().map(|r| r.invoice_id.as_str()),
                },
            )
            .await?;
        }
        let mut updates = self.live.subscribe();
        // From here the payment exists: sending it and recording a refusal run in their own task,
        // so a caller that goes away (a client that disconnects, a dropped future) cannot leave
        // it pending forever, and a retry finds its real outcome.
        let route = RouteParametersConfig {
            max_total_routing_fee_msat: Some(max_fee_msat),
            ..RouteParametersConfig::default()
        };
        let sending = tokio::spawn(send_and_record(
            node,
            self.store.clone(),
            self.live.clone(),
            invoice,
            amount_msat,
            route,
        ));
        match sending.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                return Err(match e {
                    SendRefused::Duplicate => Error::DuplicatePayment { payment_id: id },
                    SendRefused::Other(reason) => {
                        Error::unprocessable(ErrorCode::PaymentFailed, None, reason)
                    }
                    SendRefused::Store(e) => e,
                })
            }
            Err(e) => return Err(Error::Node(format!("payment task failed: {e}"))),
        }
        let deadline = tokio::time::Instant::now() + SETTLE_WAIT;
        loop {
            let payment = payments::get(self.store, &id).await?;
            if payment.status != PaymentStatus::Pending {
                return Ok(payment);
            }
            match tokio::time::timeout_at(deadline, updates.recv()).await {
                Err(_) => return Ok(payment),
                Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) => return Ok(payment),
                Ok(_) => {}
            }
        }
    }
}

/// Why the node refused to send.
enum SendRefused {
    /// LDK has a live payment for this hash already.
    Duplicate,
    /// Refused at once (no route, …), said for people.
    Other(String),
    /// The refusal could not be recorded.
    Store(Error),
}

/// Hands the payment to the node; if the node refuses it at once, records it as failed (with
/// its `payment.failed` event) before returning.
async fn send_and_record(
    node: std::sync::Arc<ldk_node::Node>,
    store: Store,
    events: tokio::sync::broadcast::Sender<EventRecord>,
    invoice: Bolt11Invoice,
    amount_msat: u64,
    route: RouteParametersConfig,
) -> std::result::Result<(), SendRefused> {
    let hash = invoice.payment_hash().to_string();
    let fixed = invoice.amount_milli_satoshis().is_some();
    let sent = tokio::task::spawn_blocking(move || {
        if fixed {
            node.bolt11_payment().send(&invoice, Some(route))
        } else {
            node.bolt11_payment()
                .send_using_amount(&invoice, amount_msat, Some(route))
        }
    })
    .await
    .unwrap_or(Err(ldk_node::NodeError::PaymentSendingFailed));
    let Err(e) = sent else {
        return Ok(());
    };
    let reason = crate::node::explain(&e);
    let records = settle(&store, &hash, Err(&reason), None)
        .await
        .map_err(SendRefused::Store)?;
    for r in records {
        let _ = events.send(r);
    }
    Err(match e {
        ldk_node::NodeError::DuplicatePayment => SendRefused::Duplicate,
        _ => SendRefused::Other(reason),
    })
}

/// Refuses a payment whose amount and fee cap, on top of what the key spent today (UTC), would
/// exceed its daily budget. Counted in msat; the caller holds `pay_lock`, so concurrent payments
/// of one key are checked one after the other against rows that include each other.
async fn check_budget(
    store: &Store,
    key: &ApiKey,
    amount_msat: u64,
    max_fee_msat: u64,
) -> Result<()> {
    let Some(budget) = key.budget else {
        return Ok(());
    };
    let day_start = chrono::Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_millis())
        .unwrap_or(0);
    let spent_msat = payments::spent_msat_since(store, &key.id, day_start).await?;
    let total = spent_msat
        .saturating_add(amount_msat)
        .saturating_add(max_fee_msat);
    if total > budget.saturating_mul(1000) {
        return Err(Error::BudgetExceeded {
            budget,
            spent: spent_msat.div_ceil(1000),
            amount: amount_msat.div_ceil(1000),
            max_fee: max_fee_msat.div_ceil(1000),
        });
    }
    Ok(())
}

/// Refuses a counter refund whose amount and fee cap, on top of what the counter refunded since
/// the day began, would pass the owner's daily limit. The caller holds `pay_lock`.
async fn check_counter_limit(
    store: &Store,
    limit: DailyLimit,
    amount_msat: u64,
    max_fee_msat: u64,
) -> Result<()> {
    let done_msat = payments::counter_refunds_msat_since(store, limit.since_ms).await?;
    let total = done_msat
        .saturating_add(amount_msat)
        .saturating_add(max_fee_msat);
    if total > limit.limit_msat {
        let left = limit.limit_msat.saturating_sub(done_msat);
        return Err(Error::forbidden(
            ErrorCode::CashierRefundLimit,
            Some("amount"),
            format!(
                "the counter may refund {} sat a day, fees included (the owner's limit); {} sat \
                 are refunded or being refunded today, so this refund of {} sat with up to {} sat \
                 of fees does not fit: at most {} sat more today, or ask the owner",
                crate::util::group_thousands(limit.limit_msat / 1000),
                crate::util::group_thousands(done_msat.div_ceil(1000)),
                crate::util::group_thousands(amount_msat.div_ceil(1000)),
                crate::util::group_thousands(max_fee_msat.div_ceil(1000)),
                crate::util::group_thousands(left / 1000),
            ),
        ));
    }
    Ok(())
}

/// Records how a pending payment ended (`Ok(fee)` or `Err(reason)`) with its event, in one
/// transaction. Returns the events appended (none if it was settled already).
pub(crate) async fn settle(
    store: &Store,
    hash: &str,
    outcome: std::result::Result<Option<u64>, &str>,
    preimage: Option<String>,
) -> Result<Vec<EventRecord>> {
    let mut tx = store.pool().begin().await?;
    let out = settle_in(&mut tx, hash, outcome, preimage).await?;
    tx.commit().await?;
    Ok(out)
}

/// [`settle`] inside the caller's transaction.
pub(crate) async fn settle_in(
    tx: &mut SqliteConnection,
    hash: &str,
    outcome: std::result::Result<Option<u64>, &str>,
    preimage: Option<String>,
) -> Result<Vec<EventRecord>> {
    settle_as(tx, hash, outcome, preimage, payments::Failure::Final).await
}

/// Records a pending payment failed although LDK may still send it: one given up on after a
/// restart (see `payments::resume`). A refund failed so still counts against its sale's cap.
pub(crate) async fn settle_unsure(
    store: &Store,
    hash: &str,
    reason: &str,
) -> Result<Vec<EventRecord>> {
    let mut tx = store.pool().begin().await?;
    let out = settle_as(&mut tx, hash, Err(reason), None, payments::Failure::Unsure).await?;
    tx.commit().await?;
    Ok(out)
}

async fn settle_as(
    tx: &mut SqliteConnection,
    hash: &str,
    outcome: std::result::Result<Option<u64>, &str>,
    preimage: Option<String>,
    failure: payments::Failure,
) -> Result<Vec<EventRecord>> {
    let at = now_ms();
    let mut out = Vec::new();
    match outcome {
        Ok(fee_msat) => {
            if let Some(p) =
                payments::mark_succeeded(tx, hash, fee_msat, preimage.as_deref(), at).await?
            {
                let payload = json!({
                    "payment_id": p.id, "amount": p.amount, "amount_msat": p.amount_msat,
                    "fee": p.fee, "fee_msat": p.fee_msat, "status": PaymentStatus::Succeeded,
                    "payment_hash": hash, "preimage": preimage,
                });
                let key = format!("payment.sent:{}", p.id);
                out.extend(events::append(tx, EventKind::PaymentSent, &key, payload).await?);
                if let Some(invoice_id) = &p.refund_of {
                    out.extend(record_refund(tx, invoice_id, &p).await?);
                }
            }
        }
        Err(reason) => {
            if let Some(p) = payments::mark_failed(tx, hash, reason, at, failure).await? {
                let payload = json!({
                    "payment_id": p.id, "amount": p.amount, "status": PaymentStatus::Failed,
                    "payment_hash": hash, "failure_reason": reason,
                });
                let key = format!("payment.failed:{}", p.id);
                out.extend(events::append(tx, EventKind::PaymentFailed, &key, payload).await?);
            }
        }
    }
    Ok(out)
}

/// A refund reached the customer: what its invoice has given back goes up, and
/// `payment.refunded` says so, in the transaction that records the payment's success.
async fn record_refund(
    tx: &mut SqliteConnection,
    invoice_id: &str,
    p: &Payment,
) -> Result<Vec<EventRecord>> {
    let refunded: Option<(i64, Option<i64>)> = sqlx::query_as(
        "UPDATE invoices SET refunded_msat = refunded_msat + ? WHERE id = ?
         RETURNING refunded_msat, amount_received_msat",
    )
    .bind(p.amount_msat as i64)
    .bind(invoice_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((refunded_msat, received_msat)) = refunded else {
        return Ok(Vec::new());
    };
    let payload = json!({
        "invoice_id": invoice_id, "payment_id": p.id, "amount": p.amount,
        "amount_msat": p.amount_msat, "fee": p.fee, "fee_msat": p.fee_msat,
        "payment_hash": p.payment_hash, "refunded": refunded_msat.max(0) as u64 / 1000,
        "refunded_msat": refunded_msat, "amount_received_msat": received_msat,
        "fiat": p.fiat,
    });
    let key = format!("payment.refunded:{}", p.id);
    Ok(
        events::append(tx, EventKind::PaymentRefunded, &key, payload)
            .await?
            .into_iter()
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_invoice_explains_garbage() {
        let err = parse_invoice("hello")
            .err()
            .map(|e| (e.code().as_str(), e.field()));
        assert_eq!(err, Some(("invalid_field", Some("invoice"))));
        assert!(parse_invoice("  ").is_err());
        assert!(parse_invoice("lightning:").is_err());
    }
}
