//! Tickets in the printer's own commands (ESC/POS), built with the `escpos` crate's command
//! builder: a receipt, a kitchen ticket, a Z-report, a test page, a drawer kick.
//!
//! - Paper: 58 mm rolls print 32 characters a line in font A, 80 mm rolls 48.
//! - Text is sent in code page PC858 (Western European with €), which ESC/POS receipt printers
//!   carry; a character it lacks prints as `?` rather than as stray bytes.
//! - Each ticket starts with `ESC @` (initialise), ends with a feed and a full cut (`GS V`); the
//!   drawer kick is `ESC p 0 25 250` on pin 2 (where cash drawers are wired), before the text so
//!   the drawer opens while the receipt prints.
//! - The receipt's QR code (`GS ( k`, model 2, error correction M) holds the sale's id, so a
//!   refund finds it by scanning; the id is printed under it too.

use std::sync::{Arc, Mutex};

use escpos::driver::Driver;
use escpos::printer::Printer;
use escpos::printer_options::PrinterOptions;
use escpos::utils::{
    JustifyMode, PageCode, Protocol, QRCodeCorrectionLevel, QRCodeModel, QRCodeOption,
};

use super::zreport::ZReport;
use crate::catalog::Order;
use crate::error::{Error, Result};
use crate::settings::ShopDetails;

/// A roll's width.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
pub enum Paper {
    /// 58 mm: 32 characters a line.
    #[serde(rename = "58mm")]
    Roll58,
    /// 80 mm: 48 characters a line.
    #[serde(rename = "80mm")]
    Roll80,
}

impl Paper {
    /// Characters a line in font A.
    pub fn columns(self) -> usize {
        match self {
            Paper::Roll58 => 32,
            Paper::Roll80 => 48,
        }
    }

    /// Its name in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Paper::Roll58 => "58mm",
            Paper::Roll80 => "80mm",
        }
    }

    pub(crate) fn parse(text: &str) -> Paper {
        if text == "58mm" {
            Paper::Roll58
        } else {
            Paper::Roll80
        }
    }
}

/// The bytes the builder writes, kept.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Driver for Capture {
    fn name(&self) -> String {
        "capture".into()
    }
    fn write(&self, data: &[u8]) -> escpos::errors::Result<()> {
        if let Ok(mut bytes) = self.0.lock() {
            bytes.extend_from_slice(data);
        }
        Ok(())
    }
    fn read(&self, _buf: &mut [u8]) -> escpos::errors::Result<usize> {
        Ok(0)
    }
    fn flush(&self) -> escpos::errors::Result<()> {
        Ok(())
    }
}

fn failed(e: escpos::errors::PrinterError) -> Error {
    Error::Config(format!("cannot build the ticket: {e}"))
}

/// Code page PC858's upper half, bytes 0x80 to 0xFF in order (IBM's CP850 with € at 0xD5).
const PC858_HIGH: &str = "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜø£Ø×ƒáíóúñÑªº¿®¬½¼¡«»░▒▓│┤ÁÂÀ©╣║╗╝¢¥┐└┴┬├─┼ãÃ╚╔╩╦╠═╬¤ðÐÊËÈ€ÍÎÏ┘┌█▄¦Ì▀ÓßÔÒõÕµþÞÚÛÙýÝ¯´\u{ad}±‗¾¶§÷¸°¨·¹³²■\u{a0}";

/// `text` in code page PC858, one byte a character: printable ASCII as itself, what PC858 holds
/// at its byte, a few typographic marks as their ASCII look-alikes, line breaks and tabs as
/// spaces, and the rest (emoji, other scripts) as `?`. Encoded here rather than by the crate:
/// its PC858 table sends `-` as 0xF0 (a soft hyphen) and lets characters it lacks through as
/// raw UTF-8, which printers show as stray symbols.
fn pc858(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            '\n' | '\t' | '\r' => b' ',
            '–' | '—' | '−' => b'-',
            '‘' | '’' => b'\'',
            '“' | '”' => b'"',
            '…' => b'.',
            c => PC858_HIGH
                .chars()
                .position(|h| h == c && !c.is_control())
                .and_then(|i| u8::try_from(0x80 + i).ok())
                .unwrap_or(b'?'),
        })
        .collect()
}

/// One ticket being written.
struct Ticket {
    printer: Printer<Capture>,
    capture: Capture,
    columns: usize,
}

type Step<'a> = escpos::errors::Result<&'a mut Printer<Capture>>;

impl Ticket {
    fn new(paper: Paper) -> Result<Ticket> {
        let capture = Capture::default();
        let options = PrinterOptions::new(Some(PageCode::PC858), None, paper.columns() as u8);
        let mut printer = Printer::new(capture.clone(), Protocol::default(), Some(options));
        printer.init().map_err(failed)?;
        printer.page_code(PageCode::PC858).map_err(failed)?;
        Ok(Ticket {
            printer,
            capture,
            columns: paper.columns(),
        })
    }

    fn run<'a>(
        &'a mut self,
        step: impl FnOnce(&'a mut Printer<Capture>) -> Step<'a>,
    ) -> Result<()> {
        step(&mut self.printer).map(|_| ()).map_err(failed)
    }

    /// `ESC p 0 25 250`: a pulse on pin 2 of 50 ms, then 500 ms off (Epson's usual values).
    /// Written as a custom command: the crate's `cash_drawer` sends `ESC p m` without the two
    /// pulse times the command takes, so a printer would read the next two bytes as them.
    fn drawer(&mut self) -> Result<()> {
        self.run(|p| p.custom(&[0x1B, b'p', 0, 25, 250]))
    }

    /// One line of text (PC858 bytes), printed and fed.
    fn print_line(&mut self, bytes: &[u8]) -> Result<()> {
        self.run(|p| p.custom(bytes)?.feed())
    }

    /// A centred line, optionally bold and double size.
    fn title(&mut self, text: &str, big: bool) -> Result<()> {
        self.run(|p| p.justify(JustifyMode::CENTER))?;
        if big {
            self.run(|p| p.bold(true)?.size(2, 2))?;
        }
        self.print_line(&pc858(text))?;
        if big {
            self.run(|p| p.bold(false)?.reset_size())?;
        }
        self.run(|p| p.justify(JustifyMode::LEFT))
    }

    fn centered(&mut self, text: &str) -> Result<()> {
        self.run(|p| p.justify(JustifyMode::CENTER))?;
        self.print_line(&pc858(text))?;
        self.run(|p| p.justify(JustifyMode::LEFT))
    }

    fn line(&mut self, text: &str) -> Result<()> {
        let mut bytes = pc858(text);
        bytes.truncate(self.columns);
        self.print_line(&bytes)
    }

    /// `left` and `right` on one line, `right` flush right (the left part cut to make room).
    fn pair(&mut self, left: &str, right: &str) -> Result<()> {
        let (mut left, right) = (pc858(left), pc858(right));
        left.truncate(self.columns.saturating_sub(right.len() + 1));
        let gap = self.columns.saturating_sub(left.len() + right.len()).max(1);
        let mut bytes = left;
        bytes.extend(std::iter::repeat_n(b' ', gap));
        bytes.extend(right);
        self.print_line(&bytes)
    }

    fn bold_pair(&mut self, left: &str, right: &str) -> Result<()> {
        self.run(|p| p.bold(true))?;
        self.pair(left, right)?;
        self.run(|p| p.bold(false))
    }

    fn rule(&mut self) -> Result<()> {
        let bytes = vec![b'-'; self.columns];
        self.print_line(&bytes)
    }

    fn qr(&mut self, data: &str) -> Result<()> {
        let option = QRCodeOption::new(QRCodeModel::Model2, 6, QRCodeCorrectionLevel::M);
        self.run(|p| {
            p.justify(JustifyMode::CENTER)?
                .qrcode_option(data, option)?
                .justify(JustifyMode::LEFT)
        })
    }

    fn finish(mut self) -> Result<Vec<u8>> {
        self.run(|p| p.feeds(3)?.print_cut())?;
        self.bytes()
    }

    /// What the builder has handed the driver (it does so at `print`).
    fn bytes(&self) -> Result<Vec<u8>> {
        self.capture
            .0
            .lock()
            .map(|b| b.clone())
            .map_err(|_| Error::Config("the ticket's buffer was poisoned".into()))
    }
}

/// What a receipt shows, of an invoice or of a cash or card sale.
#[derive(Debug, Clone)]
pub struct ReceiptView {
    /// The sale's id (`inv_…`, `sale_…`), in the QR code and under it.
    pub reference: String,
    /// When it was paid, in the merchant's time ("2026-12-08 14:03").
    pub time: String,
    /// Its cart, if it was one.
    pub order: Option<Order>,
    /// Its total as charged ("11.22 EUR" or "21,000 sat").
    pub total: String,
    /// Its sats and the rate, when it has them ("18,700 sat at 60,000.00 EUR/BTC").
    pub sats_line: Option<String>,
    /// How it was paid ("Lightning", "On-chain", "Cash", "Card").
    pub tender: String,
    /// Cash handed over and change, card reference.
    pub tender_lines: Vec<(String, String)>,
    /// Who took it.
    pub cashier: Option<String>,
    /// The invoice's description, for a sale without a cart.
    pub description: Option<String>,
}

fn header(t: &mut Ticket, shop: &ShopDetails) -> Result<()> {
    if !shop.name.is_empty() {
        t.title(&shop.name, true)?;
    }
    for line in shop.address.lines() {
        t.centered(line)?;
    }
    if !shop.tax_id.is_empty() {
        t.centered(&format!("Tax ID {}", shop.tax_id))?;
    }
    Ok(())
}

fn order_lines(t: &mut Ticket, order: &Order, prices: bool) -> Result<()> {
    for line in &order.lines {
        let name = match line.quantity {
            1 => line.name.clone(),
            n => format!("{n} x {}", line.name),
        };
        if prices {
            t.pair(&name, &line.amount)?;
        } else {
            t.run(|p| p.bold(true)?.size(1, 2))?;
            t.line(&name)?;
            t.run(|p| p.bold(false)?.reset_size())?;
        }
        if let Some(note) = &line.note {
            t.line(&format!("   {note}"))?;
        }
    }
    Ok(())
}

/// A customer's receipt.
pub fn receipt(
    shop: &ShopDetails,
    view: &ReceiptView,
    paper: Paper,
    drawer: bool,
) -> Result<Vec<u8>> {
    let mut t = Ticket::new(paper)?;
    if drawer {
        t.drawer()?;
    }
    header(&mut t, shop)?;
    t.rule()?;
    t.pair(&view.time, view.cashier.as_deref().unwrap_or(""))?;
    t.line(&format!("Receipt {}", view.reference))?;
    t.rule()?;
    match &view.order {
        Some(order) => {
            order_lines(&mut t, order, true)?;
            t.rule()?;
            t.pair("Subtotal", &order.subtotal)?;
            for tax in &order.taxes {
                let label = if tax.rate.inclusive {
                    format!("incl. {} {}%", tax.rate.name, tax.rate.rate)
                } else {
                    format!("{} {}%", tax.rate.name, tax.rate.rate)
                };
                t.pair(&label, &tax.amount)?;
            }
            if order.tip != "0" && !order.tip.trim_start_matches(['0', '.']).is_empty() {
                let label = match &order.tip_percent {
                    Some(p) => format!("Tip {p}%"),
                    None => "Tip".into(),
                };
                t.pair(&label, &order.tip)?;
            }
        }
        None => {
            if let Some(d) = view.description.as_deref().filter(|d| !d.is_empty()) {
                t.line(d)?;
            }
        }
    }
    t.bold_pair("TOTAL", &view.total)?;
    t.pair("Paid by", &view.tender)?;
    for (label, value) in &view.tender_lines {
        t.pair(label, value)?;
    }
    if let Some(sats) = &view.sats_line {
        t.line(sats)?;
    }
    t.rule()?;
    t.qr(&view.reference)?;
    t.centered(&view.reference)?;
    for line in shop.footer.lines() {
        t.centered(line)?;
    }
    t.finish()
}

/// The kitchen's (or bar's) order ticket: what to make, with notes, no prices.
pub fn kitchen(view: &ReceiptView, paper: Paper) -> Result<Vec<u8>> {
    let mut t = Ticket::new(paper)?;
    let short: String = view
        .reference
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    t.title(&format!("ORDER {}", short.to_uppercase()), true)?;
    t.pair(&view.time, view.cashier.as_deref().unwrap_or(""))?;
    t.rule()?;
    match &view.order {
        Some(order) => order_lines(&mut t, order, false)?,
        None => t.line(view.description.as_deref().unwrap_or("(no lines)"))?,
    }
    t.rule()?;
    t.line(&view.reference)?;
    t.finish()
}

/// A Z-report on the roll.
pub fn report(shop: &ShopDetails, z: &ZReport, title: &str, paper: Paper) -> Result<Vec<u8>> {
    let mut t = Ticket::new(paper)?;
    header(&mut t, shop)?;
    t.title(title, true)?;
    t.line(&format!("From {}", z.from))?;
    t.line(&format!("To   {}", z.to))?;
    t.line(&format!("Amounts in {}", z.currency))?;
    t.rule()?;
    t.line("SALES")?;
    for s in &z.sales {
        t.pair(&format!("{} ({})", s.tender.as_str(), s.count), &s.amount)?;
    }
    t.bold_pair(
        &format!("Total ({})", z.sales_total.count),
        &z.sales_total.amount,
    )?;
    if z.sats_only.count > 0 {
        t.pair(
            &format!("In sats only ({})", z.sats_only.count),
            &format!("{} sat", z.sats_only.sats),
        )?;
    }
    t.rule()?;
    t.line("TIPS")?;
    for tip in &z.tips {
        let who = tip
            .cashier
            .as_ref()
            .map(|c| c.name.as_str())
            .unwrap_or("Owner");
        t.pair(&format!("{who} ({})", tip.count), &tip.amount)?;
    }
    t.pair("Tips total", &z.tips_total)?;
    t.rule()?;
    t.line("REFUNDS")?;
    for r in &z.refunds {
        t.pair(&format!("{} ({})", r.tender.as_str(), r.count), &r.amount)?;
    }
    t.pair("Refunds total", &z.refunds_total)?;
    t.rule()?;
    t.line("TAXES")?;
    for tax in &z.taxes {
        t.pair(
            &format!("{} {}% on {}", tax.name, tax.rate, tax.base),
            &tax.tax,
        )?;
    }
    if let Some(cash) = &z.cash {
        t.rule()?;
        t.line("CASH DRAWER")?;
        t.pair("Float", &cash.float)?;
        t.pair("Cash sales", &cash.sales)?;
        t.pair("Cash refunds", &cash.refunds)?;
        t.bold_pair("Expected", &cash.expected)?;
        if let Some(counted) = &cash.counted {
            t.pair("Counted", counted)?;
        }
        if let Some(diff) = &cash.difference {
            t.bold_pair("Difference", diff)?;
        }
    }
    t.rule()?;
    t.line(&format!("Printed {}", z.generated_at))?;
    t.finish()
}

/// A test page: the printer's name, its paper, a ruler of its width, the euro sign and a QR code.
pub fn test_page(name: &str, paper: Paper) -> Result<Vec<u8>> {
    let mut t = Ticket::new(paper)?;
    t.title("Test page", true)?;
    t.centered(name)?;
    t.line(&format!(
        "Paper {} ({} characters)",
        paper.as_str(),
        paper.columns()
    ))?;
    let ruler: String = (0..paper.columns())
        .map(|i| char::from(b'0' + (i % 10) as u8))
        .collect();
    t.line(&ruler)?;
    t.pair("Euro sign", "€ 1.00")?;
    t.qr("PayAiML test page")?;
    t.centered("If you can read this, receipts will print.")?;
    t.finish()
}

/// The drawer kick alone: no feed, no cut (nothing is printed).
pub fn drawer_kick() -> Result<Vec<u8>> {
    let mut t = Ticket::new(Paper::Roll80)?;
    t.drawer()?;
    t.run(|p| p.print())?;
    t.bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::order::{compute, PricedLine, TipAsked};

    fn view(order: Option<Order>) -> ReceiptView {
        ReceiptView {
            reference: "sale_abc".into(),
            time: "2026-12-08 14:03".into(),
            order,
            total: "7.70 EUR".into(),
            sats_line: Some("12,833 sat at 60000 EUR/BTC".into()),
            tender: "Cash".into(),
            tender_lines: vec![("Change".into(), "2.30".into())],
            cashier: Some("Zoë".into()),
            description: None,
        }
    }

    fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
        haystack.windows(needle.len()).position(|w| w == needle)
    }

    /// A receipt: initialise, code page PC858 (€ is byte 0xD5), the drawer kick in full before
    /// the text, the QR code of the sale's id, and a full cut at the very end; no line wider than
    /// the roll.
    #[test]
    fn a_receipt_is_pc858_text_a_qr_code_and_a_cut() -> crate::error::Result<()> {
        let order = compute(
            Some("EUR"),
            vec![PricedLine {
                item_id: None,
                name: "Coffee with a name far too long for a 58 mm roll".into(),
                quantity: 2,
                unit_price: "3.50".parse().expect("price"),
                note: Some("oat milk".into()),
                tax: None,
            }],
            TipAsked::Percent("10".parse().expect("tip")),
        )?;
        let shop = ShopDetails {
            name: "Café €".into(),
            address: "1 Main St".into(),
            tax_id: String::new(),
            footer: "Thanks".into(),
        };
        let bytes = receipt(&shop, &view(Some(order)), Paper::Roll58, true)?;
        assert!(bytes.starts_with(&[0x1B, b'@']), "initialise first");
        assert!(find(&bytes, &[0x1B, b't', 19]).is_some(), "code page PC858");
        let drawer = find(&bytes, &[0x1B, b'p', 0, 25, 250]).expect("drawer kick");
        let shop_name = find(&bytes, b"Caf").expect("shop name");
        assert!(drawer < shop_name, "the drawer opens before the text");
        assert!(
            find(&bytes, &[b'C', b'a', b'f', 0x82, b' ', 0xD5]).is_some(),
            "é and € in PC858"
        );
        assert!(find(&bytes, b"Zo\x89").is_some(), "ë in PC858");
        let qr = find(&bytes, &[0x1D, b'(', b'k', 11, 0, 49, 80, 48]).expect("QR data");
        assert_eq!(&bytes[qr + 8..qr + 16], b"sale_abc");
        assert!(
            bytes.ends_with(&[0x1D, b'V', b'A', 0]),
            "a full cut at the end"
        );
        // No printed line is wider than 32 characters: text runs between commands.
        for run in bytes.split(|b| *b == 0x1B || *b == 0x1D || *b == b'\n') {
            let printable = run.iter().filter(|b| **b >= 0x20).count();
            assert!(printable <= 34, "{:?}", String::from_utf8_lossy(run));
        }
        let no_drawer = receipt(&shop, &view(None), Paper::Roll80, false)?;
        assert!(find(&no_drawer, &[0x1B, b'p']).is_none());
        Ok(())
    }

    #[test]
    fn a_drawer_kick_alone_prints_and_cuts_nothing() -> crate::error::Result<()> {
        let bytes = drawer_kick()?;
        assert!(find(&bytes, &[0x1B, b'p', 0, 25, 250]).is_some());
        assert!(find(&bytes, &[0x1D, b'V']).is_none());
        assert!(!bytes.contains(&b'\n'));
        Ok(())
    }

    /// PC858 by the code page's own table (as Python's `cp858` codec has it): the hyphen stays
    /// ASCII, the Latin-1 letters and € get their bytes, what it lacks is `?`.
    #[test]
    fn text_is_pc858_and_what_it_cannot_show_is_a_question_mark() {
        assert_eq!(pc858("2026-12-08 -0.50"), b"2026-12-08 -0.50".to_vec());
        assert_eq!(
            pc858("Grüße – 5€ ×®¿Ò 🍩\n"),
            vec![
                b'G', b'r', 0x81, 0xE1, b'e', b' ', b'-', b' ', b'5', 0xD5, b' ', 0x9E, 0xA9, 0xA8,
                0xE3, b' ', b'?', b' '
            ]
        );
        assert_eq!(PC858_HIGH.chars().count(), 128);
    }
}
