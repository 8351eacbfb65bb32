//! The period's books as a plain-text accounting journal, in the format of hledger (and Ledger,
//! which reads the same subset): one transaction per sale, refund and payment sent, each of
//! which balances, so `hledger -f payaiml.journal balance` gives the accountant the period's
//! totals by account, and hledger's own `import` / `print -O csv` take it further (hledger's
//! documentation: "Journal format", hledger.org/journal.html).
//!
//! Why this format: it is a documented, open text format with free tools that check it
//! (`hledger check` refuses an unbalanced or malformed journal), it keeps sats and the
//! merchant's currency side by side with the rate as a cost (`@@`), and it loses nothing a CSV
//! would (cashier, shift, tender and ids ride along as tags).
//!
//! Accounts (what an accountant maps to their chart of accounts):
//! - `assets:lightning`, `assets:bitcoin:onchain` (in `SAT`, at cost in the currency when the
//!   sale has a price in it), `assets:cash`, `assets:card-clearing` (owed by the card processor);
//! - `income:sales:<tax>` per tax rate (net of tax), `income:sales` for sales without a rate,
//!   `income:tips`, `liabilities:tax:<tax>`;
//! - `income:refunds` (a debit: money handed back), `expenses:lightning:fees`,
//!   `expenses:payments` (payments sent that are not refunds).
//!
//! Amounts: the order's figures as charged (exact decimals); sats whole. A sale paid over
//! Lightning posts the sats received at the cost of its price (`18700 SAT @@ 10.91 EUR`), so the
//! transaction balances in the currency; a sale priced in sats posts sats only.

use std::fmt::Write as _;

use chrono::TimeZone;

use crate::catalog::Order;
use crate::invoices::Invoice;
use crate::payments::{Payment, PaymentStatus};
use crate::till::books::{TillBooks, TillMark};

/// `text` as part of an account name: lower case, words joined by `-`, nothing hledger reads
/// as syntax (`:` separates accounts, two spaces end the name, `;` starts a comment).
fn account_part(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let trimmed = out.trim_end_matches('-').to_string();
    if trimmed.is_empty() {
        "tax".into()
    } else {
        trimmed
    }
}

/// A description or tag value on one line, without what hledger would read as syntax.
fn text(value: &str) -> String {
    value
        .chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' | ';' | '|' => ' ',
            ',' => ' ',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect::<String>()
        .trim()
        .to_string()
}

fn unit(order_currency: Option<&str>) -> &str {
    order_currency.unwrap_or("SAT")
}

/// An amount in a unit: "10.91 EUR", "-21000 SAT".
fn amount(value: &str, unit: &str) -> String {
    format!("{value} {unit}")
}

fn negate(value: &str) -> String {
    match value.strip_prefix('-') {
        Some(rest) => rest.to_string(),
        None if value.trim_start_matches(['0', '.']).is_empty() => value.to_string(),
        None => format!("-{value}"),
    }
}

fn is_zero(value: &str) -> bool {
    value
        .trim_start_matches('-')
        .trim_start_matches(['0', '.'])
        .is_empty()
}

struct Entry {
    out: String,
}

impl Entry {
    /// A transaction of `date`: hledger's description `payee | note` (what it is and its id, then
    /// the sale's own words), each part cleaned of what hledger reads as syntax.
    fn new(date: &str, payee: &str, note: &str, tags: &[(&str, Option<&str>)]) -> Entry {
        let note = text(note);
        let mut out = if note.is_empty() {
            format!("{date} * {}\n", text(payee))
        } else {
            format!("{date} * {} | {note}\n", text(payee))
        };
        for (name, value) in tags {
            if let Some(v) = value.filter(|v| !v.is_empty()) {
                let _ = writeln!(out, "    ; {name}: {}", text(v));
            }
        }
        Entry { out }
    }

    fn post(&mut self, account: &str, value: &str) {
        let _ = writeln!(self.out, "    {account:<40}  {value}");
    }

    fn done(mut self, journal: &mut String) {
        self.out.push('\n');
        journal.push_str(&self.out);
    }
}

/// The income side of a sale: per tax rate its base (exclusive) or gross less tax (inclusive)
/// to `income:sales:<tax>` and its tax to `liabilities:tax:<tax>`; lines without a rate to
/// `income:sales`; the tip to `income:tips`. Credits, so negative.
fn post_order(e: &mut Entry, order: &Order) {
    let u = unit(order.currency.as_deref());
    let mut taxed = rust_decimal::Decimal::ZERO;
    for tax in &order.taxes {
        let name = account_part(&format!("{} {}", tax.rate.name, tax.rate.rate));
        e.post(
            &format!("income:sales:{name}"),
            &amount(&negate(&tax.base), u),
        );
        if !is_zero(&tax.amount) {
            e.post(
                &format!("liabilities:tax:{name}"),
                &amount(&negate(&tax.amount), u),
            );
        }
        taxed += tax
            .base
            .parse::<rust_decimal::Decimal>()
            .unwrap_or_default();
    }
    let net: rust_decimal::Decimal = order.net.parse().unwrap_or_default();
    let untaxed = net - taxed;
    if !untaxed.is_zero() {
        e.post("income:sales", &amount(&negate(&untaxed.to_string()), u));
    }
    if !is_zero(&order.tip) {
        e.post("income:tips", &amount(&negate(&order.tip), u));
    }
}

/// The journal of a period's sales (with their paid time), payments sent and the till's cash and
/// card sales and refunds, oldest first.
pub fn journal<Tz: TimeZone>(
    tz: &Tz,
    currency: Option<&str>,
    sales: &[(i64, Invoice)],
    sent: &[(i64, Payment)],
    till: &TillBooks,
) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let day = |at: i64| super::local(tz, at).format("%Y-%m-%d").to_string();
    let mut entries: Vec<(i64, String)> = Vec::new();
    let marked = |m: Option<&TillMark>| {
        (
            m.and_then(|m| m.cashier.clone()),
            m.and_then(|m| m.shift_id.clone()),
        )
    };
    for (at, invoice) in sales {
        let sats = invoice.amount_received_msat.unwrap_or(0) / 1000;
        if sats == 0 {
            continue;
        }
        let onchain = invoice
            .onchain
            .as_ref()
            .and_then(|o| o.txid.as_ref())
            .is_some();
        let (cashier, shift) = marked(till.mark(&invoice.id));
        let tender = if onchain { "onchain" } else { "lightning" };
        let mut e = Entry::new(
            &day(*at),
            &format!("Sale {}", invoice.id),
            &invoice.description,
            &[
                ("tender", Some(tender)),
                ("invoice", Some(&invoice.id)),
                ("cashier", cashier.as_deref()),
                ("shift", shift.as_deref()),
            ],
        );
        let asset = if onchain {
            "assets:bitcoin:onchain"
        } else {
            "assets:lightning"
        };
        // The price in a currency: from the cart, or the price the invoice was made for.
        let priced = invoice
            .order
            .as_ref()
            .and_then(|o| o.currency.clone().map(|c| (o.total.clone(), c)))
            .or_else(|| {
                invoice
                    .fiat
                    .as_ref()
                    .filter(|f| f.priced_in_fiat)
                    .and_then(|f| f.amount.clone().map(|a| (a, f.currency.clone())))
            });
        match (&invoice.order, priced) {
            (Some(order), Some((total, c))) => {
                e.post(asset, &format!("{sats} SAT @@ {}", amount(&total, &c)));
                post_order(&mut e, order);
            }
            (Some(order), None) => {
                // Priced in sats: the order's figures are sats.
                e.post(asset, &format!("{} SAT", order.total));
                post_order(&mut e, order);
            }
            (None, Some((total, c))) => {
                e.post(asset, &format!("{sats} SAT @@ {}", amount(&total, &c)));
                e.post("income:sales", &amount(&negate(&total), &c));
            }
            (None, None) => {
                e.post(asset, &format!("{sats} SAT"));
                e.post("income:sales", &format!("-{sats} SAT"));
            }
        }
        let mut text = String::new();
        e.done(&mut text);
        entries.push((*at, text));
    }
    for (at, payment) in sent {
        if payment.status != PaymentStatus::Succeeded {
            continue;
        }
        let (cashier, shift) = marked(till.mark(&payment.id));
        let fee = payment.fee_msat.unwrap_or(0).div_ceil(1000);
        let what = if payment.refund_of.is_some() {
            "Refund"
        } else {
            "Payment"
        };
        let mut e = Entry::new(
            &day(*at),
            &format!("{what} {}", payment.id),
            payment.description.as_deref().unwrap_or(""),
            &[
                ("tender", Some("lightning")),
                ("refund_of", payment.refund_of.as_deref()),
                ("cashier", cashier.as_deref()),
                ("shift", shift.as_deref()),
                (
                    "fiat",
                    payment
                        .fiat
                        .as_ref()
                        .and_then(|f| f.amount.as_ref().map(|a| format!("{a} {}", f.currency)))
                        .as_deref(),
                ),
            ],
        );
        let account = if payment.refund_of.is_some() {
            "income:refunds"
        } else {
            "expenses:payments"
        };
        e.post(account, &format!("{} SAT", payment.amount));
        if fee > 0 {
            e.post("expenses:lightning:fees", &format!("{fee} SAT"));
        }
        e.post(
            "assets:lightning",
            &format!("-{} SAT", payment.amount + fee),
        );
        let mut text = String::new();
        e.done(&mut text);
        entries.push((*at, text));
    }
    for (at, sale) in &till.sales {
        let cash = sale.tender == crate::till::sales::Tender::Cash;
        let mut e = Entry::new(
            &day(*at),
            &format!("Sale {}", sale.id),
            &sale.order.describe(200),
            &[
                ("tender", Some(sale.tender.as_str())),
                ("sale", Some(&sale.id)),
                ("cashier", sale.cashier.as_ref().map(|c| c.name.as_str())),
                ("shift", sale.shift_id.as_deref()),
                ("card_reference", sale.reference.as_deref()),
            ],
        );
        e.post(
            if cash {
                "assets:cash"
            } else {
                "assets:card-clearing"
            },
            &amount(&sale.total, &sale.currency),
        );
        post_order(&mut e, &sale.order);
        let mut text = String::new();
        e.done(&mut text);
        entries.push((*at, text));
    }
    for (at, refund) in &till.refunds {
        let cash = refund.sale.tender == crate::till::sales::Tender::Cash;
        let mut e = Entry::new(
            &day(*at),
            &format!("Refund {}", refund.id),
            refund.reason.as_deref().unwrap_or(""),
            &[
                ("tender", Some(refund.sale.tender.as_str())),
                ("refund_of", Some(&refund.sale.id)),
                ("cashier", refund.mark.cashier.as_deref()),
                ("shift", refund.mark.shift_id.as_deref()),
            ],
        );
        e.post(
            "income:refunds",
            &amount(&refund.amount, &refund.sale.currency),
        );
        e.post(
            if cash {
                "assets:cash"
            } else {
                "assets:card-clearing"
            },
            &amount(&negate(&refund.amount), &refund.sale.currency),
        );
        let mut text = String::new();
        e.done(&mut text);
        entries.push((*at, text));
    }
    entries.sort_by_key(|(at, _)| *at);
    let mut journal = format!(
        "; PayAiML Merchant journal (hledger / Ledger format){}\n; Sats are the commodity SAT; a sale with a price posts its sats at that cost (@@).\n\n",
        currency
            .map(|c| format!(", merchant's currency {c}"))
            .unwrap_or_default()
    );
    for (_, text) in entries {
        journal.push_str(&text);
    }
    journal
}
