//! The hosted checkout page a web shop sends its customer to (the invoice's `checkoutLink`,
//! `/i/{id}`): the shop and the order, the amount in sats and in the shop's currency, the QR
//! (unified with on-chain when the invoice has an address), copy buttons, a countdown, and the
//! state as it changes (the page's script asks `/i/{id}/status`, which answers the moment the
//! invoice changes). Phone first, light and dark, no request to anyone but this server. Every
//! value goes through maud's escaping; the only text not escaped is the page's own style.

use maud::{html, Markup, PreEscaped, DOCTYPE};
use serde::Serialize;
use serde_json::Value;

use super::invoice::{GfAdditionalStatus, GfStatus};
use crate::invoices::Invoice;
use crate::receipts::html::money;
use crate::util::group_thousands;

/// The page's style: the dashboard's colours (WCAG AA in both schemes), phone first.
const STYLE: &str = "
:root { color-scheme: light; --bg: #ffffff; --fg: #1a1a1a; --muted: #595959; --card: #f4f4f5;
  --line: #b9b9bf; --accent: #f7931a; --accent-ink: #a34f00; --ok: #1d7431; --ok-soft: #dff3e3;
  --bad: #b3261e; --focus: #a34f00; }
@media (prefers-color-scheme: dark) { :root { color-scheme: dark; --bg: #141416; --fg: #ececec;
  --muted: #b0b0b6; --card: #202024; --line: #5c5c66; --accent-ink: #ffad4d; --ok: #5fd47b;
  --ok-soft: #173d22; --bad: #ff8a80; --focus: #ffad4d; } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; line-height: 1.45; }
main { max-width: 26rem; margin: 0 auto; padding: 1rem 1rem 2rem; }
header { border-bottom: 3px solid var(--accent); padding-bottom: 0.5rem; margin-bottom: 1rem; }
h1 { font-size: 1.3rem; margin: 0; }
.order { color: var(--muted); margin: 0.2rem 0 0; }
.amount { font-size: 1.8rem; font-weight: 700; margin: 0; }
.fiat { color: var(--muted); margin: 0 0 0.8rem; }
.qr { display: block; width: 100%; max-width: 20rem; height: auto; margin: 0 auto; background: #fff;
  padding: 0.6rem; border-radius: 0.5rem; }
.actions { display: grid; gap: 0.5rem; margin: 0.8rem 0; }
a.button, button { display: block; width: 100%; text-align: center; font: inherit; font-weight: 600;
  padding: 0.7rem 1rem; border-radius: 0.5rem; border: 1px solid var(--line); background: var(--card);
  color: var(--fg); text-decoration: none; cursor: pointer; }
a.button.primary { background: var(--accent); color: #000; border-color: var(--accent); }
a:focus-visible, button:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.countdown { text-align: center; color: var(--muted); }
.state { border-radius: 0.5rem; padding: 1rem; margin: 1rem 0; text-align: center; }
.state.paid { background: var(--ok-soft); color: var(--ok); }
.state.paid strong { font-size: 1.5rem; display: block; }
.state.over { background: var(--card); }
.state.over strong { font-size: 1.3rem; display: block; }
.state a { color: inherit; font-weight: 600; }
.small { font-size: 0.85rem; color: var(--muted); overflow-wrap: anywhere; }
[hidden] { display: none !important; }
.close { position: absolute; top: 0.5rem; right: 0.5rem; width: auto; padding: 0.3rem 0.7rem; }
";

/// What the page and its status checks show of an invoice.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutState {
    /// The invoice.
    pub invoice_id: String,
    /// BTCPay's status (what the modal checkout posts to the shop's page).
    pub status: GfStatus,
    /// What BTCPay adds to it.
    pub additional_status: GfAdditionalStatus,
    /// Whether the customer's payment is in (settled, or paid late).
    pub paid: bool,
    /// Where to send the customer once paid, if the shop gave an address.
    #[serde(rename = "redirectURL")]
    pub redirect_url: Option<String>,
    /// Whether to go there without waiting for a click.
    pub redirect_automatically: bool,
}

impl CheckoutState {
    pub(crate) fn new(
        invoice: &Invoice,
        status: GfStatus,
        additional: GfAdditionalStatus,
        checkout: &Value,
    ) -> Self {
        let paid = status == GfStatus::Settled && additional != GfAdditionalStatus::Marked
            || additional == GfAdditionalStatus::PaidLate;
        CheckoutState {
            invoice_id: invoice.id.clone(),
            status,
            additional_status: additional,
            paid,
            redirect_url: checkout
                .get("redirectURL")
                .and_then(Value::as_str)
                .map(str::to_string),
            redirect_automatically: checkout
                .get("redirectAutomatically")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        }
    }
}

/// Everything the page shows.
pub struct CheckoutPage<'a> {
    /// The invoice.
    pub invoice: &'a Invoice,
    /// Its state.
    pub state: CheckoutState,
    /// The shop's name.
    pub shop: String,
    /// The price as asked, when in a currency ("25.00", "EUR").
    pub price: Option<(String, String)>,
    /// Shown in the modal frame of a shop's page (a close button; the shop's page moves on).
    pub modal: bool,
}

/// What the order is, from the shop's metadata: its item text, else "Order <id>".
fn order_label(metadata: &Value) -> Option<String> {
    if let Some(item) = metadata.get("itemDesc").and_then(Value::as_str) {
        if !item.trim().is_empty() {
            return Some(item.to_string());
        }
    }
    match metadata.get("orderId") {
        Some(Value::String(s)) if !s.is_empty() => Some(format!("Order {s}")),
        Some(Value::Number(n)) => Some(format!("Order {n}")),
        _ => None,
    }
}

/// The page.
pub fn render(page: &CheckoutPage<'_>) -> String {
    let invoice = page.invoice;
    let state = &page.state;
    let open = state.status == GfStatus::New;
    let sats = invoice.amount.map(group_thousands);
    // The price in the shop's currency as asked, else the sats' value at the rate recorded
    // with the invoice (marked as approximate), when the shop counts in a currency.
    let fiat = match page
        .price
        .as_ref()
        .filter(|(_, currency)| !matches!(currency.as_str(), "SATS" | "SAT" | "BTC"))
    {
        Some((amount, currency)) => Some(money(Some(currency), amount)),
        None => invoice.fiat.as_ref().and_then(|f| {
            f.amount
                .as_ref()
                .map(|a| format!("≈ {}", money(Some(&f.currency), a)))
        }),
    };
    let expires = chrono::DateTime::parse_from_rfc3339(&invoice.expires_at)
        .map(|t| t.timestamp())
        .unwrap_or(0);
    let lightning_link = format!("lightning:{}", invoice.payment_request);
    let wallet_link = match &invoice.onchain {
        Some(onchain) => onchain.uri.clone(),
        None => lightning_link.clone(),
    };
    let data = serde_json::to_string(&state).unwrap_or_else(|_| "{}".into());
    let show_expired = !state.paid && state.status == GfStatus::Expired;
    let show_invalid = state.status == GfStatus::Invalid;
    let show_settled = state.status == GfStatus::Settled && !state.paid;
    let markup: Markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { "Pay " (page.shop) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                main data-invoice=(invoice.id) data-state=(data) data-expires=(expires)
                    data-modal=(if page.modal { "true" } else { "false" }) {
                    @if page.modal {
                        button.close type="button" id="close" { "Close" }
                    }
                    header {
                        h1 { (page.shop) }
                        @if let Some(label) = order_label(&invoice.metadata) {
                            p.order { (label) }
                        }
                    }
                    @if let Some(sats) = &sats {
                        p.amount { (sats) " sats" }
                    } @else {
                        p.amount { "Any amount" }
                    }
                    @if let Some(fiat) = &fiat {
                        p.fiat { (fiat) }
                    }
                    section #pay hidden[!open] aria-label="Pay" {
                        img.qr src={ "/i/" (invoice.id) "/qr.svg" } width="320" height="320"
                            alt={ "QR code of this invoice: scan it with a Lightning"
                                  (if invoice.onchain.is_some() { " or Bitcoin" } else { "" })
                                  " wallet" };
                        div.actions {
                            a.button.primary href=(wallet_link) { "Open in wallet" }
                            button type="button" data-copy=(invoice.payment_request) { "Copy Lightning invoice" }
                            @if let Some(onchain) = &invoice.onchain {
                                button type="button" data-copy=(onchain.address) { "Copy bitcoin address" }
                            }
                        }
                        p.countdown { "Expires in " span #countdown { "…" } }
                    }
                    div #announce role="status" aria-live="polite" {
                        div.state.paid #paid hidden[!state.paid] {
                            strong { "Paid" }
                            "Thank you! Your payment reached " (page.shop) "."
                            @if let Some(url) = &state.redirect_url {
                                @if !page.modal {
                                    p { a #back href=(url) { "Return to " (page.shop) } }
                                }
                            }
                        }
                        div.state.over #expired hidden[!show_expired] {
                            strong { "This invoice expired" }
                            "Nothing was paid. Go back to the shop to pay again."
                        }
                        div.state.over #invalid hidden[!show_invalid] {
                            strong { "This invoice was cancelled" }
                            "The shop marked it invalid. If you paid it, contact the shop."
                        }
                        div.state.over #settled hidden[!show_settled] {
                            strong { "Settled" }
                            "The shop marked this invoice settled."
                        }
                    }
                    p.small #copied role="status" aria-live="polite" {}
                    p.small { "Invoice " (invoice.id) }
                }
                script src="/checkout/checkout.js" defer {}
            }
        }
    };
    markup.into_string()
}

/// The page's script: countdown, copy buttons, the state as it changes (asked of the server,
/// which answers when the invoice changes), the shop's redirect, and the messages BTCPay's
/// modal script expects from its frame (`loaded`, `close`, `{invoiceId, status}`).
pub const SCRIPT: &str = r#"(function () {
  'use strict';
  var main = document.querySelector('main[data-invoice]');
  if (!main) return;
  var id = main.getAttribute('data-invoice');
  var modal = main.getAttribute('data-modal') === 'true';
  var framed = window.parent && window.parent !== window;
  var state = JSON.parse(main.getAttribute('data-state') || '{}');
  var expires = Number(main.getAttribute('data-expires')) * 1000;
  function post(message) { if (framed) window.parent.postMessage(message, '*'); }
  function show(el, on) { if (el) el.hidden = !on; }
  function apply(next) {
    var changed = next.status !== state.status || next.paid !== state.paid;
    state = next;
    show(document.getElementById('pay'), state.status === 'New');
    show(document.getElementById('paid'), state.paid);
    show(document.getElementById('expired'), !state.paid && state.status === 'Expired');
    show(document.getElementById('invalid'), state.status === 'Invalid');
    show(document.getElementById('settled'), state.status === 'Settled' && !state.paid);
    if (changed) post({ invoiceId: id, status: state.status });
    // Back to the shop by itself only when the shop asked (redirectAutomatically, as BTCPay);
    // otherwise the way back takes the focus: no timed move the customer cannot stop.
    if (changed && state.paid && state.redirectURL && !modal && !framed) {
      if (state.redirectAutomatically) window.location.href = state.redirectURL;
      else { var back = document.getElementById('back'); if (back) back.focus(); }
    }
  }
  var countdown = document.getElementById('countdown');
  function tick() {
    if (!countdown) return;
    var left = Math.max(0, Math.floor((expires - Date.now()) / 1000));
    var m = Math.floor(left / 60), s = left % 60;
    countdown.textContent = m + ':' + (s < 10 ? '0' : '') + s;
    // Out of time: the QR goes at once (the server says the same at its next answer).
    if (left === 0 && state.status === 'New') {
      var next = {};
      for (var k in state) next[k] = state[k];
      next.status = 'Expired';
      apply(next);
    }
  }
  tick();
  setInterval(tick, 1000);
  Array.prototype.forEach.call(document.querySelectorAll('[data-copy]'), function (button) {
    button.addEventListener('click', function () {
      var text = button.getAttribute('data-copy');
      var done = function () { document.getElementById('copied').textContent = 'Copied.'; };
      if (navigator.clipboard) navigator.clipboard.writeText(text).then(done, function () {});
    });
  });
  var close = document.getElementById('close');
  if (close) close.addEventListener('click', function () { post('close'); });
  function watch() {
    fetch('/i/' + encodeURIComponent(id) + '/status?since=' + encodeURIComponent(state.status + (state.paid ? ':paid' : '')),
      { cache: 'no-store' })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (next) { apply(next); if (next.status === 'New' || next.status === 'Expired' && !next.paid) watch(); })
      .catch(function () { setTimeout(watch, 3000); });
  }
  post('loaded');
  if (!state.paid) watch();
})();
"#;

/// BTCPay's modal script, for shop plugins that open the checkout over their own page
/// (`window.btcpay.showInvoice(id)` and friends): a full-screen frame of `/i/{id}?view=modal`,
/// shown when the page in it says `loaded`, closed when it says `close`, and every message
/// from it handed to the shop's callback.
pub const MODAL_SCRIPT: &str = r#"(function () {
  'use strict';
  if (window.btcpay) { console.warn('btcpay.js is loaded twice'); return; }
  var script = document.currentScript;
  var origin = script && script.src ? script.src.replace(/\/modal\/btcpay\.js(\?.*)?$/, '') : '';
  var frame = null, showing = false;
  var onEnter = function () {}, onLeave = function () {}, onMessage = function () {};
  function makeFrame() {
    frame = document.createElement('iframe');
    frame.name = 'btcpay';
    frame.title = 'Payment';
    frame.setAttribute('allow', 'clipboard-write');
    frame.style.cssText = 'position:fixed;top:0;left:0;width:100%;height:100%;border:0;z-index:2000;display:none;background:rgba(0,0,0,.5)';
    document.body.appendChild(frame);
  }
  function showFrame() { if (!frame) makeFrame(); onEnter(); frame.style.display = 'block'; }
  function hideFrame() {
    onLeave();
    showing = false;
    if (frame) { frame.style.display = 'none'; frame.remove(); frame = null; }
  }
  function showInvoice(invoiceId) {
    showing = true;
    if (!frame) makeFrame();
    frame.src = origin + '/i/' + encodeURIComponent(invoiceId) + '?view=modal';
  }
  window.addEventListener('message', function (event) {
    if (!showing || !origin || origin.indexOf(event.origin) !== 0) return;
    if (event.data === 'loaded') showFrame();
    else if (event.data === 'close') hideFrame();
    onMessage(event);
  });
  window.btcpay = {
    showFrame: showFrame,
    hideFrame: hideFrame,
    showInvoice: showInvoice,
    appendInvoiceFrame: showInvoice,
    appendAndShowInvoiceFrame: function (id) { showInvoice(id); showFrame(); },
    onModalWillEnter: function (fn) { onEnter = fn || function () {}; },
    onModalWillLeave: function (fn) { onLeave = fn || function () {}; },
    onModalReceiveMessage: function (fn) { onMessage = fn || function () {}; },
    setApiUrlPrefix: function (url) { origin = String(url).replace(/\/+$/, ''); }
  };
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::greenfield::invoice::state_tests::sample_invoice;
    use serde_json::json;

    fn page(status: GfStatus, additional: GfAdditionalStatus, shop: &str) -> String {
        let mut invoice = sample_invoice();
        invoice.expires_at = "2026-01-01T00:10:00Z".into();
        invoice.metadata = json!({"orderId": "<b>42</b>"});
        let checkout = json!({"redirectURL": "https://shop.example/done"});
        let state = CheckoutState::new(&invoice, status, additional, &checkout);
        render(&CheckoutPage {
            invoice: &invoice,
            state,
            shop: shop.into(),
            price: Some(("3.50".into(), "EUR".into())),
            modal: false,
        })
    }

    #[test]
    fn shows_the_order_and_escapes_the_shops_text() {
        let html = page(
            GfStatus::New,
            GfAdditionalStatus::None,
            "Café <script>x</script>",
        );
        assert!(
            html.contains("Café &lt;script&gt;x&lt;/script&gt;"),
            "{html}"
        );
        assert!(html.contains("Order &lt;b&gt;42&lt;/b&gt;"));
        assert!(html.contains("1,000 sats") && html.contains("€3.50"));
        assert!(html.contains("src=\"/i/inv_x/qr.svg\""));
        assert!(!html.contains("<script>x"), "no text becomes markup");
    }

    #[test]
    fn each_state_shows_its_own_part() {
        let open = page(GfStatus::New, GfAdditionalStatus::None, "S");
        assert!(
            open.contains("<section id=\"pay\" aria-label=\"Pay\">"),
            "{open}"
        );
        assert!(open.contains("id=\"paid\" hidden"));
        let paid = page(GfStatus::Settled, GfAdditionalStatus::None, "S");
        assert!(paid.contains("<section id=\"pay\" hidden"));
        assert!(!paid.contains("id=\"paid\" hidden"));
        assert!(paid.contains("Return to S"));
        let late = page(GfStatus::Expired, GfAdditionalStatus::PaidLate, "S");
        assert!(
            !late.contains("id=\"paid\" hidden"),
            "paid late is paid for the customer"
        );
        assert!(late.contains("id=\"expired\" hidden"));
        let invalid = page(GfStatus::Invalid, GfAdditionalStatus::Marked, "S");
        assert!(!invalid.contains("id=\"invalid\" hidden"));
    }
}
