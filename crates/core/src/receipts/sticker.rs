//! The sticker of an offer: the shop's name, what the offer is for, its price (or "any
//! amount"), and its QR code, to print once and stick on the counter. Every value goes through
//! maud's escaping; the QR code is an SVG drawn by the caller from the offer alone.

use maud::{html, PreEscaped};

use super::Paper;
use crate::offers::Offer;
use crate::settings::ShopDetails;
use crate::util::group_thousands;

const STYLE: &str = "
* { box-sizing: border-box; }
body { font-family: 'DejaVu Sans', Arial, sans-serif; color: #000; background: #fff; margin: 0; }
.sticker { margin: 0 auto; text-align: center; }
.roll .sticker { width: 72mm; font-size: 10pt; padding: 2mm 0; }
.a4 .sticker { width: 150mm; font-size: 16pt; padding: 20mm 0; }
h1 { font-size: 1.5em; margin: 0 0 0.2em; }
.what { font-size: 1.3em; font-weight: bold; margin: 0.3em 0; }
.price { font-size: 1.2em; margin: 0.2em 0 0.5em; }
.qr svg { width: 100%; height: auto; display: block; }
.roll .qr { width: 64mm; margin: 0 auto; }
.a4 .qr { width: 120mm; margin: 0 auto; }
.how { margin: 0.5em 0 0; }
.offer { font-family: 'DejaVu Sans Mono', monospace; font-size: 6pt; overflow-wrap: anywhere; color: #333; margin-top: 1em; }
@media screen { body { background: #eee; } .sticker { background: #fff; padding-left: 4mm; padding-right: 4mm; } }
";

/// The sticker page of `offer`, whose QR code is `qr_svg`.
pub(super) fn render(shop: &ShopDetails, offer: &Offer, qr_svg: &str, paper: Paper) -> String {
    let price = match (offer.amount, offer.max_quantity) {
        (None, _) => "Pay any amount".to_string(),
        (Some(sats), None) => format!("{} sats", group_thousands(sats)),
        (Some(sats), Some(_)) => format!("{} sats each", group_thousands(sats)),
    };
    let body = html! {
        main.sticker {
            @if !shop.name.is_empty() { h1 { (shop.name) } }
            p.what { (offer.description) }
            p.price { (price) }
            // Our own SVG, drawn from the offer by the QR encoder: no text of anyone's.
            div.qr { (PreEscaped(qr_svg)) }
            p.how { "Scan with a Lightning wallet that pays offers (BOLT12)." br; "This code does not expire." }
            p.offer { (offer.offer) }
        }
    };
    super::page(paper, &format!("Sticker {}", offer.id), STYLE, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shop_text_is_escaped_and_the_price_reads_plainly() {
        let shop = ShopDetails {
            name: "Café <b>".into(),
            ..ShopDetails::default()
        };
        let offer = Offer {
            id: "ofr_1".into(),
            offer: "lno1abc".into(),
            description: "Tips <script>".into(),
            amount: Some(3000),
            amount_msat: Some(3_000_000),
            max_quantity: Some(5),
            created_at: "2026-12-01T10:00:00Z".into(),
            payments: 0,
            amount_received: 0,
            amount_received_msat: 0,
            last_paid_at: None,
        };
        let page = render(&shop, &offer, "<svg></svg>", Paper::A4);
        assert!(page.contains("Café &lt;b&gt;") && page.contains("Tips &lt;script&gt;"));
        assert!(page.contains("3,000 sats each") && page.contains("<svg></svg>"));
        assert!(page.contains("size: A4"));
    }
}
