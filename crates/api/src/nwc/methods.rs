//! The NIP-47 methods, each on the same core calls as its REST counterpart, with the
//! connection's key: an invoice made here is an ordinary invoice of that key (events, webhooks,
//! reports, receipts, the till's stamp), a payment is checked against the key's daily budget.
//!
//! Amounts: NIP-47 counts in millisatoshis, our invoices and payments in whole sats, so an
//! amount that is not a whole number of sats is refused (`OTHER`), never rounded.

use std::sync::Arc;
use std::time::Duration;

use payaiml_core::invoices::{CreateInvoice, FiatPrice, Invoice, InvoiceSearch, InvoiceStatus};
use payaiml_core::keys::{ApiKey, Permission};
use payaiml_core::nwc::wire::{self, Code, NwcError, Request, Transaction};
use payaiml_core::nwc::{Access, LiveConnection};
use payaiml_core::payments::{PayInvoice, Payment, PaymentStatus};
use serde_json::{json, Value};

use super::{refused, Service};

/// What one request is answered with: one answer, or one per invoice of `multi_pay_invoice`
/// (with its `d` tag).
pub(super) type Answers = Vec<(Option<String>, Result<Value, NwcError>)>;

/// At most this many invoices in one `multi_pay_invoice`.
const MAX_MULTI: usize = 20;
/// How long `pay_invoice` waits for a payment still in flight, after the 30 s the payment itself
/// waits, before answering that it is: apps stop waiting for an answer after about a minute.
const PAY_WAIT: Duration = Duration::from_secs(15);
/// A request that pays is not carried out when it is older than this (by its `created_at`):
/// its app has stopped waiting for the answer and may have paid another way.
const PAY_FRESH_SECS: u64 = 120;
/// Any other request older than this is not carried out either.
const FRESH_SECS: u64 = 600;

/// Answers `request` for `connection`. `request_id` is the request event's id, `age` how many
/// seconds ago it was made; `again`: an earlier attempt at it died (the app stopped, or its
/// answer could not be recorded), so nothing of that attempt is still running.
pub(super) async fn call(
    service: &Arc<Service>,
    connection: &LiveConnection,
    request: &Request,
    request_id: &str,
    age: u64,
    again: bool,
) -> Answers {
    let one = |r: Result<Value, NwcError>| vec![(None, r)];
    // The key again, as the REST API reads it on every request: revoked or expired is refused
    // at once, whatever the service loaded earlier.
    let key = match service.app.keys().get(&connection.key.id).await {
        Ok(key) => key,
        Err(e) => return one(Err(refused(e))),
    };
    let now = payaiml_core::util::now_ms();
    if let Err(why) = key.check_live(now) {
        return one(Err(NwcError::new(
            Code::Unauthorized,
            why.message().replace("API key", "connection"),
        )));
    }
    // "Last used" in the dashboard, as for a key presented over HTTP.
    if let Err(e) = service.app.keys().used(&key, now).await {
        tracing::warn!(error = %e, "cannot record a connection's last use");
    }
    if let Some(at) = request.expires_at {
        if at < wire::now() {
            return one(Err(NwcError::new(
                Code::Other,
                "the request expired before the wallet read it (its expiration tag); nothing was done",
            )));
        }
    }
    let method = request.method.as_str();
    let paying = matches!(method, "pay_invoice" | "multi_pay_invoice");
    let limit = if paying { PAY_FRESH_SECS } else { FRESH_SECS };
    if age > limit {
        return one(Err(other(format!(
            "the request was made {age} s ago, longer than {limit} s: its app has stopped waiting, so nothing was done (send it again)"
        ))));
    }
    let access = Access::of(&key);
    if !access.methods().contains(&method) {
        // The widest access has every method this wallet has; others are not implemented.
        return one(Err(if Access::Pay.methods().contains(&method) {
            NwcError::new(
                Code::Restricted,
                format!(
                    "this connection may not use {method}: it may use {}",
                    access.methods().join(", ")
                ),
            )
        } else {
            NwcError::new(
                Code::NotImplemented,
                format!("this wallet has no method '{method}'"),
            )
        }));
    }
    let params = &request.params;
    match method {
        "get_info" => one(get_info(service, access)),
        "get_balance" => one(get_balance(service)),
        "make_invoice" => one(make_invoice(service, &key, params, request_id, again).await),
        "lookup_invoice" => one(lookup(service, &key, params).await),
        "list_transactions" => one(list(service, &key, params).await),
        "pay_invoice" => one(pay(service, &key, params).await),
        "multi_pay_invoice" => multi_pay(service, key, params).await,
        _ => one(Err(NwcError::new(Code::NotImplemented, "unknown method"))),
    }
}

fn other(message: impl Into<String>) -> NwcError {
    NwcError::new(Code::Other, message)
}

/// An amount in msat (NIP-47) as whole sats; `field` names it in the message.
fn whole_sats(value: &Value, field: &str) -> Result<Option<i64>, NwcError> {
    match value {
        Value::Null => Ok(None),
        v => {
            let msat = v.as_u64().ok_or_else(|| {
                other(format!(
                    "{field} must be a positive number of millisatoshis"
                ))
            })?;
            if msat == 0 {
                return Err(other(format!("{field} must be more than 0 msat")));
            }
            if msat % 1000 != 0 {
                return Err(other(format!(
                    "{field} is {msat} msat: this wallet makes and pays whole sats, so give a multiple of 1000"
                )));
            }
            i64::try_from(msat / 1000)
                .map(Some)
                .map_err(|_| other(format!("{field} is too large")))
        }
    }
}

fn get_info(service: &Service, access: Access) -> Result<Value, NwcError> {
    let health = service.app.node().health();
    let network = match health.network.as_str() {
        "bitcoin" => "mainnet",
        other => other,
    };
    Ok(json!({
        "alias": "PayAiML Merchant",
        "color": "#0f766e",
        "pubkey": health.node_id,
        "network": network,
        "block_height": health.block_height,
        "methods": access.methods(),
        "notifications": access.notifications(),
    }))
}

fn get_balance(service: &Service) -> Result<Value, NwcError> {
    let balance = service.app.node().balance().map_err(refused)?;
    Ok(json!({ "balance": balance.lightning.spendable.saturating_mul(1000) }))
}

/// An invoice as NIP-47's incoming transaction.
pub(super) fn incoming(invoice: &Invoice) -> Transaction {
    let paid = invoice.status == InvoiceStatus::Paid;
    let mut metadata = match &invoice.metadata {
        Value::Object(m) => m.clone(),
        _ => serde_json::Map::new(),
    };
    metadata.insert("invoice_id".into(), json!(invoice.id));
    if let Some(fiat) = &invoice.fiat {
        metadata.insert("fiat".into(), json!(fiat));
    }
    Transaction {
        kind: "incoming",
        state: match invoice.status {
            InvoiceStatus::Pending => "pending",
            InvoiceStatus::Paid => "settled",
            InvoiceStatus::Expired => "expired",
        },
        invoice: invoice.payment_request.clone(),
        description: invoice.description.clone(),
        description_hash: None,
        preimage: None,
        payment_hash: invoice.payment_hash.clone(),
        amount: if paid {
            invoice.amount_received_msat.unwrap_or_default()
        } else {
            invoice.amount_msat.unwrap_or_default()
        },
        fees_paid: 0,
        created_at: wire::unix(&invoice.created_at),
        expires_at: Some(wire::unix(&invoice.expires_at)),
        settled_at: invoice.paid_at.as_deref().map(wire::unix),
        metadata: Value::Object(metadata),
    }
}

/// A payment as NIP-47's outgoing transaction.
pub(super) fn outgoing(payment: &Payment) -> Transaction {
    Transaction {
        kind: "outgoing",
        state: match payment.status {
            PaymentStatus::Pending => "pending",
            PaymentStatus::Succeeded => "settled",
            PaymentStatus::Failed => "failed",
        },
        invoice: payment.invoice.clone(),
        description: payment.description.clone().unwrap_or_default(),
        description_hash: None,
        preimage: payment.preimage.clone(),
        payment_hash: payment.payment_hash.clone(),
        amount: payment.amount_msat,
        fees_paid: payment.fee_msat.unwrap_or_default(),
        created_at: wire::unix(&payment.created_at),
        expires_at: None,
        settled_at: payment
            .completed_at
            .as_deref()
            .filter(|_| payment.status == PaymentStatus::Succeeded)
            .map(wire::unix),
        metadata: json!({ "payment_id": payment.id }),
    }
}

fn as_value(tx: Transaction) -> Result<Value, NwcError> {
    serde_json::to_value(tx).map_err(|e| NwcError::new(Code::Internal, e.to_string()))
}

/// `make_invoice`: `amount` (msat), `description`, `expiry` (s), `metadata` (object); or, our
/// extension, `fiat: {"amount": "12.50", "currency": "EUR"}` instead of `amount`, converted at
/// the merchant's current rate as the REST API does. Made once per request: the same request
/// delivered again (or worked on again after a restart) answers with the same invoice.
async fn make_invoice(
    service: &Service,
    key: &ApiKey,
    params: &Value,
    request_id: &str,
    again: bool,
) -> Result<Value, NwcError> {
    if params.get("description_hash").is_some_and(|h| !h.is_null())
        && params.get("description").is_none_or(Value::is_null)
    {
        return Err(NwcError::new(
            Code::NotImplemented,
            "invoices with a description hash alone are not made here: send a description",
        ));
    }
    let amount = whole_sats(params.get("amount").unwrap_or(&Value::Null), "amount")?;
    let fiat = match params.get("fiat") {
        None | Some(Value::Null) => None,
        Some(f) => Some(serde_json::from_value::<FiatPrice>(f.clone()).map_err(|e| {
            other(format!(
                "fiat must be {{\"amount\": \"12.50\", \"currency\": \"EUR\"}}: {e}"
            ))
        })?),
    };
    let amount =
        match (amount, &fiat) {
            (Some(_), Some(_)) => return Err(other(
                "give amount (msat) or fiat, not both: with fiat, the wallet converts at its rate",
            )),
            (None, None) => {
                return Err(other(
                    "amount (msat) is required: this wallet makes invoices for an amount",
                ))
            }
            (amount, _) => amount,
        };
    let text = |name: &str| params.get(name).and_then(Value::as_str).map(str::to_string);
    let expiry = match params.get("expiry") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_i64()
                .ok_or_else(|| other("expiry must be a number of seconds"))?,
        ),
    };
    let metadata = match params.get("metadata") {
        None | Some(Value::Null) => None,
        Some(m @ Value::Object(_)) => Some(m.clone()),
        Some(_) => return Err(other("metadata must be an object")),
    };
    let idempotency = service.app.idempotency();
    let idem_key = format!("nwc:{request_id}");
    let hash = payaiml_core::util::sha256_hex(params.to_string().as_bytes());
    let mut begun = idempotency
        .begin(&key.id, &idem_key, "nwc make_invoice", &hash)
        .await;
    if again && matches!(&begun, Err(e) if e.code() == payaiml_core::ErrorCode::IdempotencyConflict)
    {
        // Left "in progress" by the attempt that died: it would refuse this one for a minute.
        // (One that finished is replayed below, never made again.)
        let _ = idempotency.forget(&key.id, &idem_key).await;
        begun = idempotency
            .begin(&key.id, &idem_key, "nwc make_invoice", &hash)
            .await;
    }
    match begun.map_err(refused)? {
        payaiml_core::idempotency::Begin::Replay { body, .. } => {
            return serde_json::from_str(&body)
                .map_err(|e| NwcError::new(Code::Internal, e.to_string()))
        }
        payaiml_core::idempotency::Begin::Fresh => {}
    }
    let request = CreateInvoice {
        amount,
        fiat,
        description: text("description"),
        expiry,
        metadata,
        ..CreateInvoice::default()
    };
    match service.app.till().create_invoice(request, &key.id).await {
        Ok(invoice) => {
            let value = as_value(incoming(&invoice))?;
            let _ = idempotency
                .finish(&key.id, &idem_key, 201, &value.to_string())
                .await;
            Ok(value)
        }
        Err(e) => {
            let _ = idempotency.forget(&key.id, &idem_key).await;
            Err(refused(e))
        }
    }
}

/// The payment hash a lookup names: `payment_hash`, or the hash inside `invoice`.
fn hash_of(params: &Value) -> Result<String, NwcError> {
    if let Some(hash) = params.get("payment_hash").and_then(Value::as_str) {
        let ok = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
        return if ok {
            Ok(hash.to_ascii_lowercase())
        } else {
            Err(other("payment_hash must be 64 hex characters"))
        };
    }
    match params.get("invoice").and_then(Value::as_str) {
        Some(text) => payaiml_core::parse_invoice(text)
            .map(|i| i.payment_hash().to_string())
            .map_err(refused),
        None => Err(other("give payment_hash or invoice")),
    }
}

/// `lookup_invoice`: the invoice (incoming) with this hash, or, for a connection that reads
/// payments, the payment (outgoing). A receive-only connection finds only its own invoices.
async fn lookup(service: &Service, key: &ApiKey, params: &Value) -> Result<Value, NwcError> {
    let hash = hash_of(params)?;
    let reads_all = key.allows(Permission::LightningRead);
    let invoices = service.app.invoices();
    let found = if reads_all {
        invoices.get(&hash).await
    } else {
        invoices.get_made_by(&hash, &key.id).await
    };
    match found {
        Ok(invoice) => return as_value(incoming(&invoice)),
        Err(e) if e.code() != payaiml_core::ErrorCode::NotFound => return Err(refused(e)),
        Err(_) => {}
    }
    if reads_all {
        match service.app.payments().get(&hash).await {
            Ok(payment) => return as_value(outgoing(&payment)),
            Err(e) if e.code() != payaiml_core::ErrorCode::NotFound => return Err(refused(e)),
            Err(_) => {}
        }
    }
    Err(NwcError::new(
        Code::NotFound,
        format!(
            "no invoice{} with payment hash {hash}",
            if reads_all {
                " or payment"
            } else {
                " made by this connection"
            }
        ),
    ))
}

/// `list_transactions`: newest first; `from`/`until` (unix s), `limit` (default 50, at most
/// 100), `offset` (at most 1000), `unpaid` (include unpaid invoices), `type` (`incoming` or
/// `outgoing`). A receive-only connection lists its own invoices only.
async fn list(service: &Service, key: &ApiKey, params: &Value) -> Result<Value, NwcError> {
    let number = |name: &str| -> Result<Option<u64>, NwcError> {
        match params.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| other(format!("{name} must be a whole number ≥ 0"))),
        }
    };
    let ms = |s: u64, name: &str| {
        i64::try_from(s)
            .ok()
            .and_then(|s| s.checked_mul(1000))
            .and_then(|ms| ms.checked_add(1000))
            .ok_or_else(|| other(format!("{name} is not a time in unix seconds")))
    };
    let from = number("from")?
        .map(|s| ms(s, "from").map(|m| m - 1000))
        .transpose()?;
    let until = number("until")?.map(|s| ms(s, "until")).transpose()?;
    let limit = number("limit")?.unwrap_or(50).clamp(1, 100) as usize;
    let offset = number("offset")?.unwrap_or(0) as usize;
    if offset > 1000 {
        return Err(other("offset is at most 1000: narrow from/until instead"));
    }
    let unpaid = params
        .get("unpaid")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let kind = params.get("type").and_then(Value::as_str);
    if kind.is_some_and(|k| k != "incoming" && k != "outgoing") {
        return Err(other("type must be \"incoming\" or \"outgoing\""));
    }
    let wanted = offset + limit;
    let reads_all = key.allows(Permission::LightningRead);
    let mut all: Vec<Transaction> = Vec::new();
    if kind != Some("outgoing") {
        let search = InvoiceSearch {
            status: (!unpaid).then_some(InvoiceStatus::Paid),
            from_ms: from,
            to_ms: until,
            ..InvoiceSearch::default()
        };
        let invoices = service.app.invoices();
        let mut cursor: Option<String> = None;
        loop {
            let page = if reads_all {
                invoices.list(&search, 100, cursor.as_deref()).await
            } else {
                invoices
                    .list_made_by(&key.id, &search, 100, cursor.as_deref())
                    .await
            }
            .map_err(refused)?;
            all.extend(page.data.iter().map(incoming));
            match page.next_cursor {
                Some(next) if all.len() < wanted => cursor = Some(next),
                _ => break,
            }
        }
    }
    if kind != Some("incoming") && reads_all {
        let payments = service.app.payments();
        let mut cursor: Option<String> = None;
        let mut taken = 0;
        loop {
            let page = payments
                .list(None, 100, cursor.as_deref())
                .await
                .map_err(refused)?;
            for p in &page.data {
                let at = wire::unix(&p.created_at) * 1000;
                if from.is_some_and(|f| at < f) || until.is_some_and(|u| at >= u) {
                    continue;
                }
                all.push(outgoing(p));
                taken += 1;
            }
            let oldest = page.data.last().map(|p| wire::unix(&p.created_at) * 1000);
            match page.next_cursor {
                Some(next)
                    if taken < wanted && oldest.is_none_or(|o| from.is_none_or(|f| o >= f)) =>
                {
                    cursor = Some(next)
                }
                _ => break,
            }
        }
    }
    all.sort_by_key(|t| std::cmp::Reverse(t.created_at));
    let page: Vec<Value> = all
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(as_value)
        .collect::<Result<_, _>>()?;
    Ok(json!({ "transactions": page }))
}

/// `pay_invoice`: pays within the connection's daily budget (fees included, capped by the
/// wallet's routing-fee limit for the amount), once per invoice: a retried request (a new event
/// for the same invoice) waits for the first payment and answers with its outcome.
async fn pay(service: &Service, key: &ApiKey, params: &Value) -> Result<Value, NwcError> {
    let text = params
        .get("invoice")
        .and_then(Value::as_str)
        .ok_or_else(|| other("invoice (a BOLT11 invoice) is required"))?;
    let amount = whole_sats(params.get("amount").unwrap_or(&Value::Null), "amount")?;
    let invoice = payaiml_core::parse_invoice(text).map_err(refused)?;
    let hash = invoice.payment_hash().to_string();
    let turn = {
        let mut paying = service.paying.lock().await;
        paying.retain(|_, lock| std::sync::Arc::strong_count(lock) > 1);
        paying.entry(hash.clone()).or_default().clone()
    };
    let _turn = turn.lock().await;
    let payments = service.app.payments();
    let payment = match payments.get(&hash).await {
        // Paid, or being paid, already: that payment is the answer (never a second one).
        Ok(p) if p.status != PaymentStatus::Failed => p,
        Ok(_) | Err(_) => {
            let sent = payments
                .pay(
                    PayInvoice {
                        invoice: text.to_string(),
                        amount,
                        max_fee: None,
                    },
                    Some(key),
                )
                .await;
            match sent {
                Ok(p) => p,
                // Paid meanwhile by another way in (the REST API): that payment's outcome.
                Err(e) if e.code() == payaiml_core::ErrorCode::DuplicatePayment => {
                    payments.get(&hash).await.map_err(refused)?
                }
                Err(e) => return Err(refused(e)),
            }
        }
    };
    let payment = settled(service, payment).await?;
    match payment.status {
        PaymentStatus::Succeeded => Ok(json!({
            "preimage": payment.preimage,
            "fees_paid": payment.fee_msat.unwrap_or_default(),
        })),
        PaymentStatus::Failed => Err(NwcError::new(
            Code::PaymentFailed,
            payment
                .failure_reason
                .unwrap_or_else(|| "the payment failed".into()),
        )),
        PaymentStatus::Pending => Err(other(format!(
            "the payment is still in flight; look it up later with lookup_invoice ({hash})"
        ))),
    }
}

/// Waits for a payment in flight to end, up to [`PAY_WAIT`].
async fn settled(service: &Service, mut payment: Payment) -> Result<Payment, NwcError> {
    let deadline = tokio::time::Instant::now() + PAY_WAIT;
    let mut events = service.app.events().subscribe();
    while payment.status == PaymentStatus::Pending && tokio::time::Instant::now() < deadline {
        let _ = tokio::time::timeout(Duration::from_millis(500), events.recv()).await;
        payment = service
            .app
            .payments()
            .get(&payment.id)
            .await
            .map_err(refused)?;
    }
    Ok(payment)
}

/// `multi_pay_invoice`: each invoice paid as `pay_invoice` pays it, all at once (each one's
/// budget check and record happen under the payments' lock, so together they cannot pass the
/// budget), each answered on its own with `d` = its `id` or payment hash.
async fn multi_pay(service: &Arc<Service>, key: ApiKey, params: &Value) -> Answers {
    let Some(list) = params.get("invoices").and_then(Value::as_array) else {
        return vec![(
            None,
            Err(other(
                "invoices (a list of {invoice, amount?, id?}) is required",
            )),
        )];
    };
    if list.is_empty() || list.len() > MAX_MULTI {
        return vec![(None, Err(other(format!("give 1 to {MAX_MULTI} invoices"))))];
    }
    let mut paying = tokio::task::JoinSet::new();
    for (i, item) in list.iter().enumerate() {
        let d = item
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| hash_of(item).ok());
        let (service, key, item) = (service.clone(), key.clone(), item.clone());
        paying.spawn(async move { (i, d, pay(&service, &key, &item).await) });
    }
    let mut out: Vec<(usize, Option<String>, Result<Value, NwcError>)> = Vec::new();
    while let Some(done) = paying.join_next().await {
        match done {
            Ok(answer) => out.push(answer),
            Err(e) => tracing::error!(error = %e, "a multi_pay_invoice payment task failed"),
        }
    }
    out.sort_by_key(|(i, _, _)| *i);
    out.into_iter().map(|(_, d, r)| (d, r)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_whole_sats_or_refused() {
        assert_eq!(whole_sats(&json!(21_000), "amount"), Ok(Some(21)));
        assert_eq!(whole_sats(&Value::Null, "amount"), Ok(None));
        for bad in [
            json!(1500),
            json!(0),
            json!(-1000),
            json!("1000"),
            json!(1.5),
        ] {
            assert_eq!(
                whole_sats(&bad, "amount").map_err(|e| e.code),
                Err(Code::Other),
                "{bad}"
            );
        }
    }
}
