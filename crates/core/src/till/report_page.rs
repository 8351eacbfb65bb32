//! The Z-report as a printable page: self-contained (inline style, no script, nothing loaded),
//! every value escaped by maud, laid out for an 80 mm roll on paper and readable on a screen.

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::shifts::Shift;
use super::zreport::ZReport;
use super::Till;
use crate::error::Result;
use crate::settings::{shop_details, ShopDetails};

const STYLE: &str = "
* { box-sizing: border-box; }
body { font-family: 'DejaVu Sans', Arial, sans-serif; color: #000; background: #fff; margin: 0; }
main { width: 72mm; margin: 0 auto; font-size: 9pt; padding: 2mm 0; }
h1 { font-size: 1.3em; text-align: center; margin: 0 0 0.3em; }
h2 { font-size: 1em; margin: 0.8em 0 0.2em; border-bottom: 1px dashed #000; }
p { margin: 0.1em 0; }
.center { text-align: center; }
table { width: 100%; border-collapse: collapse; }
td, th { padding: 0.1em 0; text-align: left; font-weight: normal; }
td.n { text-align: right; white-space: nowrap; }
tr.total td, tr.total th { font-weight: bold; border-top: 1px solid #000; }
@page { size: 80mm auto; margin: 4mm; }
@media screen { body { background: #eee; } main { background: #fff; padding: 4mm; } }
";

fn row(label: &str, value: &str) -> Markup {
    html! { tr { th scope="row" { (label) } td.n { (value) } } }
}

fn total(label: &str, value: &str) -> Markup {
    html! { tr.total { th scope="row" { (label) } td.n { (value) } } }
}

fn who(name: Option<&str>) -> String {
    name.unwrap_or("Owner").to_string()
}

/// The page of `z` (with its shift, for a shift's report).
pub(crate) fn render(shop: &ShopDetails, z: &ZReport, shift: Option<&Shift>) -> String {
    let title = match (&z.date, shift) {
        (Some(date), _) => format!("Z-report {date}"),
        (None, Some(s)) => format!("Z-report, shift {}", s.id),
        (None, None) => "Z-report".to_string(),
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                main {
                    @if !shop.name.is_empty() { p.center { strong { (shop.name) } } }
                    h1 { (title) }
                    p { "From " (z.from) }
                    p { "To " (z.to) }
                    @if let Some(s) = shift {
                        p { "Opened by " (who(s.opened_by.as_ref().map(|p| p.name.as_str()))) }
                        @if s.closed_at.is_some() {
                            p { "Closed by " (who(s.closed_by.as_ref().map(|p| p.name.as_str()))) }
                        }
                        @if let Some(note) = &s.note { p { "Note: " (note) } }
                    }
                    p { "Amounts in " (z.currency) }
                    h2 { "Sales" }
                    table {
                        @for line in &z.sales {
                            (row(&format!("{} ({})", line.tender.as_str(), line.count), &line.amount))
                        }
                        (total(&format!("Total ({})", z.sales_total.count), &z.sales_total.amount))
                        @if z.sats_only.count > 0 {
                            (row(&format!("Priced in sats ({})", z.sats_only.count), &format!("{} sat", z.sats_only.sats)))
                        }
                    }
                    h2 { "Tips by cashier" }
                    table {
                        @for tip in &z.tips {
                            (row(&format!("{} ({})", who(tip.cashier.as_ref().map(|c| c.name.as_str())), tip.count), &tip.amount))
                        }
                        (total("Tips", &z.tips_total))
                    }
                    h2 { "Refunds" }
                    table {
                        @for r in &z.refunds {
                            (row(&format!("{} ({})", r.tender.as_str(), r.count), &r.amount))
                        }
                        (total("Refunds", &z.refunds_total))
                    }
                    h2 { "Taxes" }
                    table {
                        @for t in &z.taxes {
                            (row(&format!("{} {}%{} on {}", t.name, t.rate, if t.inclusive { " incl." } else { "" }, t.base), &t.tax))
                        }
                    }
                    @if let Some(cash) = &z.cash {
                        h2 { "Cash drawer" }
                        table {
                            (row("Float", &cash.float))
                            (row("Cash sales", &cash.sales))
                            (row("Cash refunds", &cash.refunds))
                            (total("Expected", &cash.expected))
                            @if let Some(c) = &cash.counted { (row("Counted", c)) }
                            @if let Some(d) = &cash.difference { (total("Difference", d)) }
                        }
                    }
                    @if !z.shifts.is_empty() {
                        h2 { "Shifts" }
                        table {
                            @for s in &z.shifts {
                                (row(&format!("{} {}", who(s.opened_by.as_ref().map(|p| p.name.as_str())), s.opened_at), s.cash.difference.as_deref().unwrap_or("open")))
                            }
                        }
                    }
                    p.center { "Made " (z.generated_at) }
                }
            }
        }
    }
    .into_string()
}

impl Till<'_> {
    /// The printable page of `report` (with its shift, for a shift's report).
    pub async fn report_page(&self, report: &ZReport, shift: Option<&Shift>) -> Result<String> {
        let shop = shop_details(self.store).await?;
        Ok(render(&shop, report, shift))
    }
}
