//! Receipts, reached through [`Receipts`] (`app.receipts()`): a paid invoice as a printable
//! HTML page, laid out for an 80 mm thermal roll or for A4, with the shop's details from
//! Settings, the sale's lines, taxes and tip as charged, the total in the sale's currency and
//! in sats, the date in the computer's time zone, the invoice id and the payment hash.
//!
//! The page is self-contained (its style inline, no script, no outside resource), so it prints
//! from any browser or webview, and the same file can be saved or e-mailed as the customer's
//! copy. The same goes for the sticker of an offer (its QR code, to stick on the counter).

pub(crate) mod html;
mod sticker;

use chrono::Local;

use crate::error::{Error, ErrorCode, Result};
use crate::invoices::{self, InvoiceStatus};
use crate::settings::shop_details;
use crate::store::Store;

/// The paper a receipt is laid out for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Paper {
    /// An 80 mm thermal roll (72 mm printable), as counter printers use.
    #[default]
    Roll80,
    /// An A4 page.
    A4,
}

impl std::str::FromStr for Paper {
    type Err = Error;
    fn from_str(s: &str) -> Result<Paper> {
        match s {
            "80mm" => Ok(Paper::Roll80),
            "a4" | "A4" => Ok(Paper::A4),
            other => Err(Error::invalid_query(
                "paper",
                format!("'{other}' is not a paper: use 80mm or a4"),
            )),
        }
    }
}

/// A printable page: `body` with the paper's layout (the class `roll` or `a4` on `html` and
/// `body`, which `style` lays out) and its `@page` rule (which a class cannot choose), and
/// nothing that runs or loads.
fn page(paper: Paper, title: &str, style: &str, body: maud::Markup) -> String {
    use maud::{html, PreEscaped, DOCTYPE};
    let (class, page_rule) = match paper {
        Paper::Roll80 => ("roll", "@page { size: 80mm auto; margin: 4mm; }"),
        Paper::A4 => ("a4", "@page { size: A4; margin: 0; }"),
    };
    html! {
        (DOCTYPE)
        html lang="en" class=(class) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width";
                title { (title) }
                style { (PreEscaped(style)) (PreEscaped(page_rule)) }
            }
            body class=(class) { (body) }
        }
    }
    .into_string()
}

/// Receipts of paid invoices. Borrowed from [`crate::App`].
pub struct Receipts<'a> {
    store: &'a Store,
}

impl<'a> Receipts<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Receipts { store }
    }

    /// The receipt of the invoice `id_or_hash` as an HTML page (with `made_by`, only of an
    /// invoice that API key made). An invoice not paid has no receipt (`409
    /// invoice_not_paid`): a receipt says money was received.
    pub async fn html(
        &self,
        id_or_hash: &str,
        made_by: Option<&str>,
        paper: Paper,
    ) -> Result<String> {
        let invoice = invoices::db::get_made_by(self.store, id_or_hash, made_by).await?;
        if invoice.status != InvoiceStatus::Paid {
            return Err(Error::conflict(
                ErrorCode::InvoiceNotPaid,
                format!(
                    "invoice {} is {} and has no receipt yet: a receipt is printed once it is paid",
                    invoice.id,
                    match invoice.status {
                        InvoiceStatus::Pending => "waiting for its payment",
                        _ => "expired unpaid",
                    }
                ),
            ));
        }
        let shop = shop_details(self.store).await?;
        Ok(html::render(&Local, &shop, &invoice, paper))
    }

    /// The receipt of a sale paid in cash or by card, as an HTML page.
    pub async fn sale_html(&self, sale: &crate::till::sales::Sale, paper: Paper) -> Result<String> {
        let shop = shop_details(self.store).await?;
        Ok(html::render_sale(&Local, &shop, sale, paper))
    }

    /// The printable sticker of `offer`, whose QR code is `qr_svg` (an SVG drawn from the
    /// offer), with the shop's name from Settings.
    pub async fn sticker(
        &self,
        offer: &crate::offers::Offer,
        qr_svg: &str,
        paper: Paper,
    ) -> Result<String> {
        let shop = shop_details(self.store).await?;
        Ok(sticker::render(&shop, offer, qr_svg, paper))
    }
}
