//! The transactions report as CSV: one row per sale (paid invoice) and per payment sent that
//! succeeded or is still pending (direction `sent`, or `refund` for a refund, whose row names
//! the sale's invoice), oldest first, for a spreadsheet or an accountant.
//!
//! Written with the `csv` crate, which quotes by RFC 4180 (a field with a comma, a quote or a
//! line break is quoted, quotes doubled; lines end with CRLF). Text a spreadsheet would run as a
//! formula (a field starting with `=`, `+`, `-`, `@`, a tab or a carriage return) is written
//! with a leading `'`, as OWASP advises against CSV injection: a description or an external id
//! comes from whoever made the invoice, and must never execute on the accountant's computer.
//! Figures are written by us, never start so, and are left alone.

use chrono::TimeZone;

use crate::catalog::Order;
use crate::error::{Error, Result};
use crate::invoices::Invoice;
use crate::payments::Payment;
use crate::rates::FiatAmount;
use crate::till::books::{TillBooks, TillMark};
use crate::util::rfc3339;

/// The columns, in order.
pub const HEADER: [&str; 34] = [
    "time",
    "time_utc",
    "direction",
    "status",
    "amount_sat",
    "amount_msat",
    "fee_sat",
    "fee_msat",
    "fiat_amount",
    "fiat_fee",
    "currency",
    "rate",
    "rate_sources",
    "rate_at",
    "description",
    "external_id",
    "invoice_id",
    "payment_id",
    "payment_hash",
    "order_currency",
    "net",
    "tax",
    "tip",
    "items",
    "offer_id",
    "payer_note",
    "onchain_txid",
    "tender",
    "cashier",
    "shift_id",
    "sale_id",
    "cash_received",
    "change",
    "tax_split",
];

pub use crate::util::neutralise;

fn opt<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// The columns fiat_amount to rate_at of a value in the merchant's currency (empty without one).
fn fiat_columns(fiat: Option<&FiatAmount>) -> [String; 6] {
    match fiat {
        None => Default::default(),
        Some(f) => [
            opt(f.amount.as_ref()),
            opt(f.fee.as_ref()),
            f.currency.clone(),
            f.rate.clone(),
            f.sources.join(" "),
            f.rate_at.clone(),
        ],
    }
}

/// The columns order_currency to items of a sale made from a cart (empty otherwise): its unit
/// (`sat` when in sats), net, tax and tip in it, and its lines ("2× Flat white (oat milk);
/// Croissant"), whose names and notes are the merchant's text and are neutralised.
fn order_columns(order: Option<&Order>) -> [String; 5] {
    match order {
        None => Default::default(),
        Some(o) => {
            let items: Vec<String> = o
                .lines
                .iter()
                .map(|l| {
                    let qty = match l.quantity {
                        1 => String::new(),
                        n => format!("{n}× "),
                    };
                    let note = l
                        .note
                        .as_ref()
                        .map(|n| format!(" ({n})"))
                        .unwrap_or_default();
                    format!("{qty}{}{note}", l.name)
                })
                .collect();
            [
                o.currency.clone().unwrap_or_else(|| "sat".into()),
                o.net.clone(),
                o.tax.clone(),
                o.tip.clone(),
                neutralise(&items.join("; ")),
            ]
        }
    }
}

/// The split of a sale's taxes by rate: "VAT 8.1%: 9.44 + 0.76; Reduced 2.6%: 4.00 + 0.10"
/// (each rate's base, then its tax, in the order's unit), names neutralised.
fn tax_split(order: Option<&Order>) -> String {
    let Some(order) = order else {
        return String::new();
    };
    let parts: Vec<String> = order
        .taxes
        .iter()
        .map(|t| {
            format!(
                "{} {}%: {} + {}",
                t.rate.name, t.rate.rate, t.base, t.amount
            )
        })
        .collect();
    neutralise(&parts.join("; "))
}

/// The columns tender to tax_split.
fn till_columns(
    tender: &str,
    mark: Option<&TillMark>,
    sale_id: &str,
    cash: [Option<&String>; 2],
    order: Option<&Order>,
) -> [String; 7] {
    [
        tender.to_string(),
        neutralise(mark.and_then(|m| m.cashier.as_deref()).unwrap_or("")),
        opt(mark.and_then(|m| m.shift_id.as_ref())),
        sale_id.to_string(),
        opt(cash[0]),
        opt(cash[1]),
        tax_split(order),
    ]
}

/// One row: the columns before the value in the merchant's currency, its columns, the rest, the
/// sale's parts, the offer a payment to a static QR came to with the payer's note (their text,
/// neutralised), and the transaction of a sale paid on-chain.
fn row(
    head: [String; 8],
    fiat: Option<&FiatAmount>,
    tail: [String; 5],
    order: Option<&Order>,
    offer: Option<&Invoice>,
) -> Vec<String> {
    let offer = [
        opt(offer.and_then(|i| i.offer_id.as_ref())),
        neutralise(offer.and_then(|i| i.payer_note.as_deref()).unwrap_or("")),
        opt(offer
            .and_then(|i| i.onchain.as_ref())
            .and_then(|o| o.txid.as_ref())),
    ];
    head.into_iter()
        .chain(fiat_columns(fiat))
        .chain(tail)
        .chain(order_columns(order))
        .chain(offer)
        .collect()
}

/// The CSV of `sales` (with their paid time) and `sent` (with their sent time), by time.
pub fn transactions<Tz: TimeZone>(
    tz: &Tz,
    sales: &[(i64, Invoice)],
    sent: &[(i64, Payment)],
    till: &TillBooks,
) -> Result<String>
where
    Tz::Offset: std::fmt::Display,
{
    let mut rows: Vec<(i64, Vec<String>)> = Vec::with_capacity(sales.len() + sent.len());
    let when = |at: i64| {
        (
            super::local(tz, at).format("%Y-%m-%d %H:%M:%S").to_string(),
            rfc3339(at),
        )
    };
    for (at, invoice) in sales {
        let (time, time_utc) = when(*at);
        let fee_msat = invoice.lsp.as_ref().and_then(|l| l.fee_msat);
        let head = [
            time,
            time_utc,
            "received".into(),
            "paid".into(),
            opt(invoice.amount_received),
            opt(invoice.amount_received_msat),
            opt(fee_msat.map(|f| f.div_ceil(1000))),
            opt(fee_msat),
        ];
        let tail = [
            neutralise(&invoice.description),
            neutralise(invoice.external_id.as_deref().unwrap_or("")),
            invoice.id.clone(),
            String::new(),
            invoice.payment_hash.clone(),
        ];
        let mut cells = row(
            head,
            invoice.fiat.as_ref(),
            tail,
            invoice.order.as_ref(),
            Some(invoice),
        );
        let onchain = invoice.onchain.as_ref().and_then(|o| o.txid.as_ref());
        cells.extend(till_columns(
            if onchain.is_some() {
                "onchain"
            } else {
                "lightning"
            },
            till.mark(&invoice.id),
            "",
            [None, None],
            invoice.order.as_ref(),
        ));
        rows.push((*at, cells));
    }
    for (at, payment) in sent {
        let (time, time_utc) = when(*at);
        let head = [
            time,
            time_utc,
            // A refund gives money back for a sale: its row names that sale's invoice.
            if payment.refund_of.is_some() {
                "refund".into()
            } else {
                "sent".into()
            },
            serde_json::to_value(payment.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            payment.amount.to_string(),
            payment.amount_msat.to_string(),
            opt(payment.fee),
            opt(payment.fee_msat),
        ];
        let tail = [
            neutralise(payment.description.as_deref().unwrap_or("")),
            String::new(),
            payment.refund_of.clone().unwrap_or_default(),
            payment.id.clone(),
            payment.payment_hash.clone(),
        ];
        let mut cells = row(head, payment.fiat.as_ref(), tail, None, None);
        cells.extend(till_columns(
            "lightning",
            till.mark(&payment.id),
            "",
            [None, None],
            None,
        ));
        rows.push((*at, cells));
    }
    // Sales in cash or by card: their value is the price in the currency; their sats are their
    // worth at the rate recorded with them (empty without one).
    for (at, sale) in &till.sales {
        let (time, time_utc) = when(*at);
        let head = [
            time,
            time_utc,
            "received".into(),
            "paid".into(),
            opt(sale.amount_msat.map(|m| m / 1000)),
            opt(sale.amount_msat),
            String::new(),
            String::new(),
        ];
        let fiat = [
            sale.total.clone(),
            String::new(),
            sale.currency.clone(),
            sale.rate.clone().unwrap_or_default(),
            String::new(),
            String::new(),
        ];
        let tail = [
            neutralise(&sale.order.describe(200)),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ];
        let mark = TillMark {
            cashier: sale.cashier.as_ref().map(|c| c.name.clone()),
            shift_id: sale.shift_id.clone(),
        };
        let cells: Vec<String> = head
            .into_iter()
            .chain(fiat)
            .chain(tail)
            .chain(order_columns(Some(&sale.order)))
            .chain([String::new(), String::new(), String::new()])
            .chain(till_columns(
                sale.tender.as_str(),
                Some(&mark),
                &sale.id,
                [sale.cash_received.as_ref(), sale.change.as_ref()],
                Some(&sale.order),
            ))
            .collect();
        rows.push((*at, cells));
    }
    for (at, refund) in &till.refunds {
        let (time, time_utc) = when(*at);
        let cells: Vec<String> = [
            time,
            time_utc,
            "refund".into(),
            "succeeded".into(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            refund.amount.clone(),
            String::new(),
            refund.sale.currency.clone(),
            String::new(),
            String::new(),
            String::new(),
            neutralise(refund.reason.as_deref().unwrap_or("")),
            String::new(),
            String::new(),
            refund.id.clone(),
            String::new(),
        ]
        .into_iter()
        .chain(std::iter::repeat_n(String::new(), 8))
        .chain(till_columns(
            refund.sale.tender.as_str(),
            Some(&refund.mark),
            &refund.sale.id,
            [None, None],
            None,
        ))
        .collect();
        rows.push((*at, cells));
    }
    rows.sort_by_key(|(at, _)| *at);
    let mut out = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let broke = |e: ::csv::Error| Error::Config(format!("the CSV could not be written: {e}"));
    out.write_record(HEADER).map_err(broke)?;
    for (_, row) in &rows {
        out.write_record(row).map_err(broke)?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| Error::Config(format!("the CSV could not be written: {e}")))?;
    String::from_utf8(bytes).map_err(|e| Error::Config(format!("the CSV is not UTF-8: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_plain_text_is_not() {
        assert_eq!(
            neutralise("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(neutralise("+1"), "'+1");
        assert_eq!(neutralise("-2+3"), "'-2+3");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("\tx"), "'\tx");
        assert_eq!(neutralise("Coffee, large"), "Coffee, large");
        assert_eq!(neutralise(""), "");
    }
}
