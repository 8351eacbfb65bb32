//! The receipt page. Every value goes through maud's escaping; the only text not escaped is
//! the page's own style sheet, a constant.

use chrono::TimeZone;
use maud::{html, Markup};

use super::Paper;
use crate::catalog::Order;
use crate::invoices::Invoice;
use crate::rates::record::fixed;
use crate::settings::ShopDetails;
use crate::util::group_thousands;

const STYLE: &str = "
* { box-sizing: border-box; }
body { font-family: 'DejaVu Sans', Arial, sans-serif; color: #000; background: #fff; margin: 0; }
.receipt { margin: 0 auto; }
.roll .receipt { width: 72mm; font-size: 9pt; padding: 2mm 0; }
.a4 .receipt { width: 150mm; font-size: 11pt; padding: 15mm 0; }
h1 { font-size: 1.4em; margin: 0 0 0.3em; text-align: center; }
.center { text-align: center; }
.muted { color: #333; font-size: 0.9em; }
.pre { white-space: pre-line; }
table { width: 100%; border-collapse: collapse; margin: 0.6em 0; }
td { padding: 0.15em 0; vertical-align: top; }
td.amount { text-align: right; white-space: nowrap; padding-left: 0.5em; }
tr.sum td { border-top: 1px dashed #000; }
tr.total td { font-weight: bold; font-size: 1.2em; border-top: 1px solid #000; }
.hash { font-family: 'DejaVu Sans Mono', monospace; font-size: 0.75em; overflow-wrap: anywhere; }
hr { border: 0; border-top: 1px dashed #000; }
@media screen { body { background: #eee; } .receipt { background: #fff; padding-left: 4mm; padding-right: 4mm; } }
";

/// An amount in `currency` ("3.5" → "€3.50", with the currency's decimals by the rule every
/// figure follows: [`fixed`]), or in sats when `currency` is null.
pub(crate) fn money(currency: Option<&str>, value: &str) -> String {
    let Some(code) = currency else {
        return match value.parse::<u64>() {
            Ok(n) => sats(n),
            Err(_) => format!("{value} sats"),
        };
    };
    let figure = value
        .parse::<rust_decimal::Decimal>()
        .map(|d| fixed(d, code))
        .unwrap_or_else(|_| value.to_string());
    let (whole, frac) = figure.split_once('.').unwrap_or((&figure, ""));
    let whole = whole
        .parse::<u64>()
        .map(group_thousands)
        .unwrap_or_else(|_| whole.to_string());
    let figure = if frac.is_empty() {
        whole
    } else {
        format!("{whole}.{frac}")
    };
    match code {
        "USD" => format!("${figure}"),
        "EUR" => format!("€{figure}"),
        "GBP" => format!("£{figure}"),
        "JPY" => format!("¥{figure}"),
        "CAD" => format!("CA${figure}"),
        "AUD" => format!("A${figure}"),
        other => format!("{other} {figure}"),
    }
}

fn sats(n: u64) -> String {
    format!("{} sats", group_thousands(n))
}

fn order_rows(order: &Order) -> Markup {
    let unit = order.currency.as_deref();
    html! {
        @for line in &order.lines {
            tr {
                td {
                    @if line.quantity > 1 { (line.quantity) " × " }
                    (line.name)
                    @if line.quantity > 1 { br; span.muted { "at " (money(unit, &line.unit_price)) } }
                    @if let Some(note) = &line.note { br; span.muted { (note) } }
                }
                td.amount { (money(unit, &line.amount)) }
            }
        }
        @for tax in &order.taxes {
            tr.sum {
                td {
                    @if tax.rate.inclusive { "incl. " }
                    (tax.rate.name) " " (tax.rate.rate) " %"
                    span.muted { " on " (money(unit, &tax.base)) }
                }
                td.amount { (money(unit, &tax.amount)) }
            }
        }
        @if order.tip.parse::<rust_decimal::Decimal>().is_ok_and(|t| !t.is_zero()) {
            tr.sum {
                td { "Tip" @if let Some(p) = &order.tip_percent { " " (p) " %" } }
                td.amount { (money(unit, &order.tip)) }
            }
        }
        tr.total { td { "Total" } td.amount { (money(unit, &order.total)) } }
    }
}

/// The top of a receipt: the shop's name ("Receipt" without one), address and tax id.
fn shop_header(shop: &ShopDetails) -> Markup {
    html! {
        h1 { @if shop.name.is_empty() { "Receipt" } @else { (shop.name) } }
        @if !shop.address.is_empty() { p.center.pre { (shop.address) } }
        @if !shop.tax_id.is_empty() { p.center { "Tax ID " (shop.tax_id) } }
        hr;
    }
}

/// The receipt of the paid `invoice`, with times in `tz`.
pub(super) fn render<Tz: TimeZone>(
    tz: &Tz,
    shop: &ShopDetails,
    invoice: &Invoice,
    paper: Paper,
) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let paid_at = invoice
        .paid_at
        .as_deref()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(tz).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default();
    // What the customer paid: the amount asked (an LSP that opened a channel with it kept its
    // fee from what reached the shop, not from the customer), or what arrived for an
    // any-amount invoice.
    let received = invoice.amount.or(invoice.amount_received).unwrap_or(0);
    let fiat = invoice.fiat.as_ref();
    // A sale without a cart: its one line and total, in the price's currency when it had one.
    let total = match fiat.and_then(|f| f.amount.as_deref().map(|a| (a, f))) {
        Some((amount, f)) => money(Some(&f.currency), amount),
        None => sats(received),
    };
    let body = html! {
        main.receipt {
            (shop_header(shop))
            p { "Receipt " (invoice.id) br; (paid_at) }
            table {
                @if let Some(order) = &invoice.order {
                    (order_rows(order))
                } @else {
                    tr {
                        td { @if invoice.description.is_empty() { "Sale" } @else { (invoice.description) } }
                        td.amount { (total) }
                    }
                    tr.total {
                        td { "Total" }
                        td.amount { (total) }
                    }
                }
            }
            p {
                "Paid with Bitcoin Lightning: " strong { (sats(received)) }
                @if let Some(f) = fiat {
                    br; span.muted { "1 BTC = " (money(Some(&f.currency), &f.rate)) " (" (f.sources.join(", ")) ")" }
                }
            }
            @if let Some(external) = &invoice.external_id { p.muted { "Order " (external) } }
            @if let Some(note) = &invoice.payer_note { p.muted { "Your note: " (note) } }
            p.hash { "Payment hash " (invoice.payment_hash) }
            @if !shop.footer.is_empty() { hr; p.center.pre { (shop.footer) } }
        }
    };
    super::page(paper, &format!("Receipt {}", invoice.id), STYLE, body)
}

/// The receipt of a sale paid in cash or by card, with times in `tz`.
pub(super) fn render_sale<Tz: TimeZone>(
    tz: &Tz,
    shop: &ShopDetails,
    sale: &crate::till::sales::Sale,
    paper: Paper,
) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let at = chrono::DateTime::parse_from_rfc3339(&sale.created_at)
        .map(|t| t.with_timezone(tz).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default();
    let unit = Some(sale.currency.as_str());
    let refunded = sale
        .refunded
        .parse::<rust_decimal::Decimal>()
        .is_ok_and(|r| !r.is_zero());
    let body = html! {
        main.receipt {
            (shop_header(shop))
            p {
                "Receipt " (sale.id) br; (at)
                @if let Some(c) = &sale.cashier { br; "Served by " (c.name) }
            }
            table { (order_rows(&sale.order)) }
            p {
                @match sale.tender {
                    crate::till::sales::Tender::Card => {
                        "Paid by card"
                        @if let Some(r) = &sale.reference { br; span.muted { "Terminal reference " (r) } }
                    }
                    _ => {
                        "Paid in cash"
                        @if let (Some(received), Some(change)) = (&sale.cash_received, &sale.change) {
                            br; "Cash " (money(unit, received)) ", change " (money(unit, change))
                        }
                    }
                }
            }
            @if refunded { p { "Refunded " (money(unit, &sale.refunded)) } }
            @if !shop.footer.is_empty() { hr; p.center.pre { (shop.footer) } }
        }
    };
    super::page(paper, &format!("Receipt {}", sale.id), STYLE, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_as_people_write_them() {
        assert_eq!(money(Some("EUR"), "1234.5"), "€1,234.50");
        assert_eq!(money(Some("JPY"), "500"), "¥500");
        assert_eq!(money(Some("CHF"), "9.4"), "CHF 9.40");
        assert_eq!(money(None, "17233"), "17,233 sats");
    }

    #[test]
    fn text_from_the_shop_or_its_software_never_becomes_markup() {
        let shop = ShopDetails {
            name: "Café <b>Bleu</b>".into(),
            address: "1 Rue & Co\n75001 Paris".into(),
            tax_id: "FR\"123".into(),
            footer: "<script>alert(1)</script>".into(),
        };
        let invoice = Invoice {
            id: "inv_1".into(),
            status: crate::invoices::InvoiceStatus::Paid,
            amount: Some(1000),
            amount_received: Some(1000),
            amount_received_msat: Some(1_000_000),
            amount_msat: Some(1_000_000),
            description: "<img src=x onerror=alert(1)>".into(),
            payment_request: "lnbcrt1".into(),
            payment_hash: "ab".into(),
            expiry: 600,
            expires_at: "2026-12-01T10:10:00Z".into(),
            created_at: "2026-12-01T10:00:00Z".into(),
            paid_at: Some("2026-12-01T10:01:00Z".into()),
            external_id: None,
            metadata: serde_json::json!({}),
            warnings: Vec::new(),
            lsp: None,
            fiat: None,
            order: None,
            amount_refunded: 0,
            amount_refunded_msat: 0,
            offer_id: Some("ofr_1".into()),
            payer_note: Some("<i>hi</i>".into()),
            quantity: None,
            onchain: None,
        };
        let page = render(&chrono::Utc, &shop, &invoice, Paper::Roll80);
        assert!(
            !page.contains("<script>alert") && !page.contains("<img src=x"),
            "{page}"
        );
        assert!(page.contains("Café &lt;b&gt;Bleu&lt;/b&gt;"), "{page}");
        assert!(page.contains("Your note: &lt;i&gt;hi&lt;/i&gt;"), "{page}");
        assert!(page.contains("1 Rue &amp; Co"), "{page}");
        assert!(
            page.contains("2026-12-01 10:01") && page.contains("1,000 sats"),
            "{page}"
        );
        assert!(page.contains("size: 80mm auto"), "{page}");
    }
}
