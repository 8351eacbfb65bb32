//! The till on the sandbox, with receipt printers stood in for by loopback "printers": TCP
//! listeners on 127.0.0.1 that record the bytes each connection sends and answer the paper
//! sensor query (`DLE EOT 4`) as an ESC/POS printer does.
//!
//! - A paid Lightning sale prints its receipt (text lines, the QR code of its id, the cut) and a
//!   kitchen ticket without prices by themselves; a cash sale opens the drawer, a card sale does
//!   not; the printer going away (and running out of paper) shows at the counter's printer
//!   status, and the receipt prints once, when it is back.
//! - Two cashiers' shifts in one day with cash, card and Lightning sales, a refund and tips: the
//!   Z-reports' figures checked to the cent against what each sale charged, the day's report
//!   adding up both, and the CSV's and the hledger journal's figures agreeing.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::*;
use crate::rates::StandIn;

/// What a printer received: each connection's bytes, with when its last byte came.
type Jobs = Arc<Mutex<Vec<(Instant, Vec<u8>)>>>;

/// A receipt printer on loopback: every connection's bytes are one job.
struct LoopbackPrinter {
    port: u16,
    jobs: Jobs,
    paper_out: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LoopbackPrinter {
    fn start() -> LoopbackPrinter {
        let jobs = Arc::new(Mutex::new(Vec::new()));
        LoopbackPrinter::listen(0, jobs, Arc::new(AtomicBool::new(false)))
    }

    fn listen(port: u16, jobs: Jobs, paper_out: Arc<AtomicBool>) -> LoopbackPrinter {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("printer port");
        let port = listener.local_addr().expect("addr").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let (jobs2, paper2, stop2) = (jobs.clone(), paper_out.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !stop2.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (jobs, paper) = (jobs2.clone(), paper2.clone());
                        std::thread::spawn(move || serve(stream, &jobs, &paper));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        LoopbackPrinter {
            port,
            jobs,
            paper_out,
            stop,
            thread: Some(thread),
        }
    }

    /// Unplugged: the port refuses connections.
    fn go_away(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.join().expect("printer thread");
        }
    }

    /// Plugged in again on the same port.
    fn come_back(&mut self) {
        // The old self is dropped here: its thread has stopped already.
        *self = LoopbackPrinter::listen(self.port, self.jobs.clone(), self.paper_out.clone());
    }

    fn connection(&self) -> Value {
        json!({"type": "network", "host": "127.0.0.1", "port": self.port})
    }

    fn count(&self) -> usize {
        self.jobs.lock().expect("jobs").len()
    }

    /// The job at `index`, waited for.
    fn job(&self, index: usize) -> (Instant, Vec<u8>) {
        wait_for(
            30,
            &format!("print job {index} on port {}", self.port),
            || self.jobs.lock().expect("jobs").get(index).cloned(),
        )
    }
}

impl Drop for LoopbackPrinter {
    fn drop(&mut self) {
        self.go_away();
    }
}

/// One connection: answers the paper sensor query, records the rest until the client hangs up.
fn serve(mut stream: TcpStream, jobs: &Mutex<Vec<(Instant, Vec<u8>)>>, paper_out: &AtomicBool) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut bytes = Vec::new();
    let mut buf = [0u8; 4096];
    let mut answered = false;
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
        }
        if !answered && bytes.starts_with(&[0x10, 0x04, 0x04]) {
            answered = true;
            // Roll paper sensor status: bit 1 and 4 always set; 5 and 6 when the paper is out.
            let status = if paper_out.load(Ordering::SeqCst) {
                0x72
            } else {
                0x12
            };
            let _ = stream.write_all(&[status]);
            bytes.drain(..3);
        }
    }
    if !bytes.is_empty() {
        jobs.lock().expect("jobs").push((Instant::now(), bytes));
    }
}

/// What a job says, decoded from its ESC/POS commands.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Line(String),
    Qr(String),
    Cut,
    Drawer,
}

/// Decodes the ESC/POS subset our tickets use (text in code page PC858, styles, QR, cut,
/// drawer). An unknown command fails the test: a printer would misread it too.
fn decode(bytes: &[u8]) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut line = String::new();
    let mut i = 0;
    let flush = |line: &mut String, out: &mut Vec<Piece>| {
        out.push(Piece::Line(std::mem::take(line)));
    };
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            0x1B => {
                let cmd = bytes[i + 1];
                match cmd {
                    b'@' | b'2' => i += 2,
                    b't' | b'a' | b'E' | b'-' | b'G' | b'M' | b'V' | b'{' | b'3' | b'R' => i += 3,
                    b'd' => {
                        flush(&mut line, &mut out);
                        i += 3;
                    }
                    b'p' => {
                        out.push(Piece::Drawer);
                        i += 5;
                    }
                    other => panic!("unknown ESC {other:#x} at {i}"),
                }
            }
            0x1D => {
                let cmd = bytes[i + 1];
                match cmd {
                    b'!' | b'B' | b'b' => i += 3,
                    b'V' => {
                        out.push(Piece::Cut);
                        i += if bytes[i + 2] == b'A' { 4 } else { 3 };
                    }
                    b'(' => {
                        assert_eq!(bytes[i + 2], b'k', "GS ( k");
                        let len = bytes[i + 3] as usize + 256 * bytes[i + 4] as usize;
                        let (cn, func) = (bytes[i + 5], bytes[i + 6]);
                        if cn == 49 && func == 80 {
                            let data = &bytes[i + 8..i + 5 + len];
                            out.push(Piece::Qr(String::from_utf8_lossy(data).to_string()));
                        }
                        i += 5 + len;
                    }
                    other => panic!("unknown GS {other:#x} at {i}"),
                }
            }
            0x0A => {
                flush(&mut line, &mut out);
                i += 1;
            }
            0x10 => i += 3,
            b if b < 0x80 => {
                line.push(b as char);
                i += 1;
            }
            0xD5 => {
                line.push('€');
                i += 1;
            }
            _ => {
                line.push('?');
                i += 1;
            }
        }
    }
    if !line.is_empty() {
        flush(&mut line, &mut out);
    }
    out
}

fn lines(pieces: &[Piece]) -> Vec<String> {
    pieces
        .iter()
        .filter_map(|p| match p {
            Piece::Line(l) => Some(l.trim_end().to_string()),
            _ => None,
        })
        .collect()
}

fn has_line(pieces: &[Piece], starts: &str, ends: &str) -> bool {
    lines(pieces)
        .iter()
        .any(|l| l.starts_with(starts) && l.ends_with(ends))
}

/// Cents of a decimal string in EUR ("12.34" → 1234, "-0.50" → -50).
fn cents(text: &str) -> i64 {
    let negative = text.starts_with('-');
    let text = text.trim_start_matches('-');
    let (whole, frac) = text.split_once('.').unwrap_or((text, "0"));
    let frac = format!("{frac:0<2}");
    let value =
        whole.parse::<i64>().expect("whole") * 100 + frac[..2].parse::<i64>().expect("frac");
    if negative {
        -value
    } else {
        value
    }
}

fn eur(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}

/// A sandbox counting in EUR at 60,000 EUR/BTC (the rates stand-in), with a 10 % VAT included
/// in prices (the default) and a 5 % levy added on top, and three items.
struct Shop {
    _rates: StandIn,
    _dir: tempfile::TempDir,
    d: Daemon,
    admin: String,
    coffee: String,
    croissant: String,
    wine: String,
}

fn shop() -> Shop {
    let rates = StandIn::start();
    let dir = tempdir();
    let urls = rates.rate_urls();
    let d = Daemon::start(
        dir.path(),
        &["--rate-url", &urls, "--rate-refresh", "1s", "sandbox"],
        true,
    );
    let admin = d.admin().to_string();
    let set = call(
        "PATCH",
        &d.url("/v1/settings"),
        Some(&admin),
        Some(
            &json!({"currency": "EUR", "shop": {"name": "Corner Cafe", "address": "1 Main St", "tax_id": "", "footer": "Thank you!"}}),
        ),
    );
    assert_eq!(set.status, 200, "{set:?}");
    wait_for(20, "a EUR rate", || {
        get(&d, "/v1/rates", &admin).body["rate"]
            .is_object()
            .then_some(())
    });
    let vat = post(
        &d,
        "/v1/catalog/taxes",
        &admin,
        json!({"name": "VAT", "rate": "10", "inclusive": true, "default": true}),
    );
    assert_eq!(vat.status, 201, "{vat:?}");
    let levy = post(
        &d,
        "/v1/catalog/taxes",
        &admin,
        json!({"name": "Levy", "rate": "5", "inclusive": false}),
    );
    let levy_id = levy.body["id"].as_str().expect("levy").to_string();
    let item = |name: &str, price: &str, tax: &str| {
        let res = post(
            &d,
            "/v1/catalog/items",
            &admin,
            json!({"name": name, "price": price, "currency": "EUR", "tax": tax}),
        );
        assert_eq!(res.status, 201, "{res:?}");
        res.body["id"].as_str().expect("item").to_string()
    };
    let coffee = item("Flat white", "3.50", "default");
    let croissant = item("Croissant", "2.80", "default");
    let wine = item("Wine", "6.00", &levy_id);
    Shop {
        _rates: rates,
        _dir: dir,
        d,
        admin,
        coffee,
        croissant,
        wine,
    }
}

fn printer(
    s: &Shop,
    name: &str,
    p: &LoopbackPrinter,
    role: &str,
    paper: &str,
    drawer: bool,
) -> String {
    let res = post(
        &s.d,
        "/v1/printers",
        &s.admin,
        json!({"name": name, "connection": p.connection(), "paper": paper, "role": role,
               "auto_print": true, "cash_drawer": drawer}),
    );
    assert_eq!(res.status, 201, "{res:?}");
    res.body["id"].as_str().expect("printer id").to_string()
}

/// A Lightning sale of `cart` made with `key`, paid by the sandbox's customer.
fn lightning_sale(s: &Shop, key: &str, cart: Value) -> Value {
    let invoice = post(&s.d, "/v1/lightning/invoices", key, json!({ "cart": cart }));
    assert_eq!(invoice.status, 201, "{invoice:?}");
    customer_pays(&s.d, &s.admin, &invoice.body)
}

fn sale(s: &Shop, key: &str, body: Value) -> Value {
    let res = post(&s.d, "/v1/sales", key, body);
    assert_eq!(res.status, 201, "{res:?}");
    res.body
}

#[test]
fn receipts_print_by_themselves_the_drawer_opens_on_cash_and_a_printer_away_prints_once_back() {
    let s = shop();
    let mut counter = LoopbackPrinter::start();
    let kitchen = LoopbackPrinter::start();

    // Bad printers are refused with the field named.
    for (body, field) in [
        (
            json!({"name": "", "connection": counter.connection(), "paper": "80mm", "role": "receipt"}),
            "name",
        ),
        (
            json!({"name": "X", "connection": {"type": "network", "host": "bad host!", "port": 9100}, "paper": "80mm", "role": "receipt"}),
            "connection.host",
        ),
        (
            json!({"name": "X", "connection": {"type": "usb", "path": "lp0"}, "paper": "80mm", "role": "receipt"}),
            "connection.path",
        ),
    ] {
        let res = post(&s.d, "/v1/printers", &s.admin, body.clone());
        assert_eq!(res.status, 400, "{body}: {res:?}");
        assert_eq!(res.body["error"]["field"], field, "{body}: {res:?}");
    }
    let bad_paper = post(
        &s.d,
        "/v1/printers",
        &s.admin,
        json!({"name": "X", "connection": counter.connection(), "paper": "57mm", "role": "receipt"}),
    );
    assert_eq!(bad_paper.status, 400, "{bad_paper:?}");

    let receipt_printer = printer(&s, "Counter", &counter, "receipt", "80mm", true);
    let kitchen_printer = printer(&s, "Kitchen", &kitchen, "kitchen", "58mm", false);

    // A test page.
    let test = post(
        &s.d,
        &format!("/v1/printers/{receipt_printer}/test"),
        &s.admin,
        json!({}),
    );
    assert_eq!(test.status, 202, "{test:?}");
    let page = decode(&counter.job(0).1);
    assert!(
        lines(&page).iter().any(|l| l.contains("Test page")),
        "{page:?}"
    );
    assert!(has_line(&page, "Euro sign", "€ 1.00"), "{page:?}");
    assert_eq!(page.last(), Some(&Piece::Cut));

    // A shift opens the drawer.
    let shift = post(&s.d, "/v1/shifts", &s.admin, json!({"float": "100.00"}));
    assert_eq!(shift.status, 201, "{shift:?}");
    let kick = decode(&counter.job(1).1);
    assert_eq!(
        kick,
        vec![Piece::Drawer],
        "a drawer kick alone prints nothing"
    );

    // A Lightning sale: receipt and kitchen ticket by themselves, no drawer.
    let cart = json!({"currency": "EUR", "lines": [
        {"item_id": s.coffee, "quantity": 2, "note": "oat milk"},
        {"item_id": s.croissant}
    ], "tip": {"percent": "10"}});
    let paid = lightning_sale(&s, &s.admin, cart.clone());
    let id = paid["id"].as_str().expect("id").to_string();
    let receipt = decode(&counter.job(2).1);
    let text = lines(&receipt);
    assert!(text.iter().any(|l| l.contains("Corner Cafe")), "{text:#?}");
    assert!(has_line(&receipt, "2 x Flat white", "7.00"), "{text:#?}");
    assert!(text.iter().any(|l| l.trim() == "oat milk"), "{text:#?}");
    assert!(has_line(&receipt, "Croissant", "2.80"), "{text:#?}");
    assert!(has_line(&receipt, "Subtotal", "9.80"), "{text:#?}");
    assert!(has_line(&receipt, "incl. VAT 10%", "0.89"), "{text:#?}");
    assert!(has_line(&receipt, "Tip 10%", "0.98"), "{text:#?}");
    assert!(has_line(&receipt, "TOTAL", "10.78 EUR"), "{text:#?}");
    assert!(has_line(&receipt, "Paid by", "Lightning"), "{text:#?}");
    assert!(
        text.iter().any(|l| l.contains("sat at 60000 EUR/BTC")),
        "{text:#?}"
    );
    assert!(text.iter().any(|l| l.trim() == "Thank you!"), "{text:#?}");
    assert!(receipt.contains(&Piece::Qr(id.clone())), "{receipt:?}");
    assert_eq!(receipt.last(), Some(&Piece::Cut));
    assert!(!receipt.contains(&Piece::Drawer), "no drawer for Lightning");
    let ticket = decode(&kitchen.job(0).1);
    let ticket_text = lines(&ticket).join("\n");
    assert!(ticket_text.contains("2 x Flat white"), "{ticket_text}");
    assert!(ticket_text.contains("oat milk"), "{ticket_text}");
    assert!(ticket_text.contains("Croissant"), "{ticket_text}");
    for price in ["3.50", "7.00", "2.80", "10.78", "EUR"] {
        assert!(
            !ticket_text.contains(price),
            "no prices on the kitchen ticket: {ticket_text}"
        );
    }
    assert_eq!(ticket.last(), Some(&Piece::Cut));

    // Cash: the drawer opens with the receipt, which says the change. Card: no drawer.
    let cash = sale(
        &s,
        &s.admin,
        json!({"cart": {"currency": "EUR", "lines": [{"item_id": s.wine}]},
        "tender": "cash", "cash_received": "10.00"}),
    );
    assert_eq!(cash["total"], "6.30");
    assert_eq!(cash["change"], "3.70");
    let cash_receipt = decode(&counter.job(3).1);
    assert_eq!(
        cash_receipt.first(),
        Some(&Piece::Drawer),
        "{cash_receipt:?}"
    );
    assert!(
        has_line(&cash_receipt, "Levy 5%", "0.30"),
        "{cash_receipt:?}"
    );
    assert!(
        has_line(&cash_receipt, "Paid by", "Cash"),
        "{cash_receipt:?}"
    );
    assert!(
        has_line(&cash_receipt, "Change", "3.70"),
        "{cash_receipt:?}"
    );
    assert!(cash_receipt.contains(&Piece::Qr(cash["id"].as_str().expect("id").into())));
    let card = sale(
        &s,
        &s.admin,
        json!({"cart": {"currency": "EUR", "lines": [{"item_id": s.croissant}]},
        "tender": "card", "reference": "AUTH 123456"}),
    );
    let card_receipt = decode(&counter.job(4).1);
    assert!(!card_receipt.contains(&Piece::Drawer), "{card_receipt:?}");
    assert!(
        has_line(&card_receipt, "Card ref.", "AUTH 123456"),
        "{card_receipt:?}"
    );
    assert_eq!(kitchen.count(), 3, "a kitchen ticket per sale");
    assert_eq!(card["status"], "completed");

    // Reprint from history, on the receipt printer only.
    let again = post(
        &s.d,
        &format!("/v1/lightning/invoices/{id}/print"),
        &s.admin,
        json!({}),
    );
    assert_eq!(again.status, 202, "{again:?}");
    assert_eq!(
        again.body["data"].as_array().map(Vec::len),
        Some(1),
        "{again:?}"
    );
    assert_eq!(decode(&counter.job(5).1), receipt, "the same receipt again");

    // The printer goes away mid-sale: the failure shows, and the receipt prints once it is back.
    counter.go_away();
    let before = counter.count();
    let away = sale(
        &s,
        &s.admin,
        json!({"cart": {"currency": "EUR", "lines": [{"item_id": s.coffee}]},
        "tender": "cash"}),
    );
    let failing = wait_for(30, "the printer shown failing", || {
        let printers = get(&s.d, "/v1/printers", &s.admin).body;
        let p = printers["data"]
            .as_array()?
            .iter()
            .find(|p| p["id"] == receipt_printer.as_str())?
            .clone();
        (p["status"]["state"] == "failing").then_some(p)
    });
    let error = failing["status"]["last_error"].as_str().unwrap_or("");
    assert!(error.contains("127.0.0.1"), "{failing}");
    assert!(failing["status"]["queued"].as_u64() >= Some(1), "{failing}");
    std::thread::sleep(Duration::from_millis(1500));
    counter.come_back();
    let back = decode(&counter.job(before).1);
    assert!(
        back.contains(&Piece::Qr(away["id"].as_str().expect("id").into())),
        "{back:?}"
    );
    assert_eq!(back.first(), Some(&Piece::Drawer), "its drawer kick too");
    wait_for(30, "the printer ready again", || {
        let printers = get(&s.d, "/v1/printers", &s.admin).body;
        printers["data"]
            .as_array()?
            .iter()
            .find(|p| p["id"] == receipt_printer.as_str() && p["status"]["state"] == "ready")?;
        Some(())
    });
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(counter.count(), before + 1, "printed once");

    // Out of paper: the printer says so and nothing is sent until paper is back.
    counter.paper_out.store(true, Ordering::SeqCst);
    let reprint = post(
        &s.d,
        &format!("/v1/sales/{}/print", away["id"].as_str().expect("id")),
        &s.admin,
        json!({}),
    );
    assert_eq!(reprint.status, 202, "{reprint:?}");
    let out = wait_for(30, "out of paper shown", || {
        let printers = get(&s.d, "/v1/printers", &s.admin).body;
        printers["data"].as_array()?.iter().find_map(|p| {
            let e = p["status"]["last_error"].as_str()?;
            e.contains("out of paper").then(|| e.to_string())
        })
    });
    assert!(out.contains("out of paper"), "{out}");
    assert_eq!(
        counter.count(),
        before + 1,
        "nothing sent while out of paper"
    );
    counter.paper_out.store(false, Ordering::SeqCst);
    let job = reprint.body["data"][0]["id"]
        .as_str()
        .expect("job")
        .to_string();
    let retried = post(
        &s.d,
        &format!("/v1/print-jobs/{job}/retry"),
        &s.admin,
        json!({}),
    );
    assert_eq!(retried.status, 200, "{retried:?}");
    counter.job(before + 1);

    // Removing the kitchen printer stops its tickets.
    let gone = call(
        "DELETE",
        &s.d.url(&format!("/v1/printers/{kitchen_printer}")),
        Some(&s.admin),
        None,
    );
    assert_eq!(gone.status, 204, "{gone:?}");

    // From the customer's payment to the receipt's last byte (a figure, not a check): the
    // sandbox's pay call returns once the customer's node has the preimage, usually after the
    // merchant recorded the sale, so both are printed. PAYAIML_TILL_SALES sets how many (10).
    let n: usize = std::env::var("PAYAIML_TILL_SALES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let (mut printed, mut paid) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let count = counter.count();
        let invoice = post(
            &s.d,
            "/v1/lightning/invoices",
            &s.admin,
            json!({"cart": {"currency": "EUR", "lines": [{"item_id": s.croissant}]}}),
        );
        let start = Instant::now();
        let pay = post(
            &s.d,
            "/v1/sandbox/pay",
            &s.admin,
            json!({"payment_request": invoice.body["payment_request"]}),
        );
        paid.push(start.elapsed());
        assert_eq!(pay.body["status"], "succeeded", "{pay:?}");
        let (at, _) = counter.job(count);
        printed.push(at.saturating_duration_since(start));
    }
    let pct = |v: &mut Vec<Duration>, p: usize| {
        v.sort();
        v[((v.len() * p).div_ceil(100)).saturating_sub(1)]
    };
    eprintln!(
        "till figures over {n} sales: payment sent to the receipt's last byte p50 {:?} p99 {:?}; the payment itself p50 {:?} p99 {:?}",
        pct(&mut printed, 50),
        pct(&mut printed, 99),
        pct(&mut paid, 50),
        pct(&mut paid, 99)
    );
    assert_eq!(kitchen.count(), 4, "nothing for a removed printer");
}

/// The Z-report's figures, summed by the test from what each sale charged.
#[derive(Default, Debug)]
struct Expected {
    sales: std::collections::BTreeMap<String, (u64, i64)>,
    tips: std::collections::BTreeMap<String, i64>,
    cash_in: i64,
    cash_out: i64,
    refunds: i64,
    vat: i64,
    levy: i64,
}

impl Expected {
    fn add(&mut self, tender: &str, cashier: &str, order: &Value) {
        let total = cents(order["total"].as_str().expect("total"));
        let e = self.sales.entry(tender.to_string()).or_default();
        e.0 += 1;
        e.1 += total;
        let tip = cents(order["tip"].as_str().expect("tip"));
        if tip != 0 {
            *self.tips.entry(cashier.to_string()).or_default() += tip;
        }
        if tender == "cash" {
            self.cash_in += total;
        }
        for tax in order["taxes"].as_array().expect("taxes") {
            let amount = cents(tax["amount"].as_str().expect("amount"));
            match tax["name"].as_str() {
                Some("VAT") => self.vat += amount,
                _ => self.levy += amount,
            }
        }
    }

    fn check(&self, z: &Value, float: i64, counted: Option<i64>) {
        for (tender, (count, total)) in &self.sales {
            let line = z["sales"]
                .as_array()
                .and_then(|a| a.iter().find(|l| l["tender"] == tender.as_str()))
                .unwrap_or_else(|| panic!("{tender} in {z}"));
            assert_eq!(line["count"].as_u64(), Some(*count), "{tender}: {z}");
            assert_eq!(line["amount"], eur(*total), "{tender}: {z}");
        }
        let all: i64 = self.sales.values().map(|v| v.1).sum();
        assert_eq!(z["sales_total"]["amount"], eur(all), "{z}");
        for (cashier, tip) in &self.tips {
            let line = z["tips"]
                .as_array()
                .and_then(|a| {
                    a.iter().find(|t| {
                        t["cashier"]["name"].as_str().unwrap_or("Owner") == cashier.as_str()
                    })
                })
                .unwrap_or_else(|| panic!("{cashier}'s tips in {z}"));
            assert_eq!(line["amount"], eur(*tip), "{cashier}: {z}");
        }
        assert_eq!(z["tips_total"], eur(self.tips.values().sum()), "{z}");
        assert_eq!(z["refunds_total"], eur(self.refunds), "{z}");
        let tax = |name: &str| {
            z["taxes"]
                .as_array()
                .and_then(|a| a.iter().find(|t| t["name"] == name))
                .map(|t| cents(t["tax"].as_str().expect("tax")))
                .unwrap_or(0)
        };
        assert_eq!((tax("VAT"), tax("Levy")), (self.vat, self.levy), "{z}");
        let expected = float + self.cash_in - self.cash_out;
        assert_eq!(z["cash"]["float"], eur(float), "{z}");
        assert_eq!(z["cash"]["expected"], eur(expected), "{z}");
        if let Some(counted) = counted {
            assert_eq!(z["cash"]["counted"], eur(counted), "{z}");
            assert_eq!(z["cash"]["difference"], eur(counted - expected), "{z}");
        }
    }
}

#[test]
fn two_cashiers_shifts_add_up_to_the_cent_in_the_z_reports_the_csv_and_the_journal() {
    let s = shop();
    let (d, admin) = (&s.d, s.admin.clone());

    // Two cashiers, each with their own PIN; only the owner adds them.
    let alice = post(
        d,
        "/v1/staff",
        &admin,
        json!({"name": "Alice", "pin": "1357"}),
    );
    assert_eq!(alice.status, 201, "{alice:?}");
    let alice_id = alice.body["id"].as_str().expect("id").to_string();
    let bob = post(
        d,
        "/v1/staff",
        &admin,
        json!({"name": "Bob", "pin": "2468"}),
    );
    let bob_id = bob.body["id"].as_str().expect("id").to_string();
    let short = post(
        d,
        "/v1/staff",
        &admin,
        json!({"name": "Carol", "pin": "12"}),
    );
    assert_eq!(
        (short.status, short.body["error"]["field"].clone()),
        (400, json!("pin")),
        "{short:?}"
    );
    let pos = receive_key(d, &admin);
    let not_owner = post(
        d,
        "/v1/staff",
        &pos,
        json!({"name": "Mallory", "pin": "9999"}),
    );
    assert_eq!(not_owner.status, 403, "{not_owner:?}");

    // The owner locks the counter; nobody is signed in, so no sale is taken.
    assert_eq!(
        post(d, "/v1/cashier/pin", &admin, json!({"pin": "9876"})).status,
        204
    );
    let locked = post(d, "/v1/cashier/lock", &admin, json!({}));
    let counter = locked.body["key"]
        .as_str()
        .expect("cashier key")
        .to_string();
    let status = get(d, "/v1/cashier", &counter).body;
    assert_eq!(status["sign_in_required"], true, "{status}");
    assert_eq!(status["staff_count"], 2, "{status}");
    let names = get(d, "/v1/staff", &counter);
    assert_eq!(
        names.status, 200,
        "the counter lists the names to pick: {names:?}"
    );
    let cart = |lines: Value, tip: Value| json!({"currency": "EUR", "lines": lines, "tip": tip});
    let refused = post(
        d,
        "/v1/lightning/invoices",
        &counter,
        json!({"cart": cart(json!([{"item_id": s.coffee}]), Value::Null)}),
    );
    assert_eq!(
        (refused.status, refused.code()),
        (409, "sign_in_required"),
        "{refused:?}"
    );
    let refused = post(
        d,
        "/v1/sales",
        &counter,
        json!({"cart": cart(json!([{"item_id": s.coffee}]), Value::Null), "tender": "card"}),
    );
    assert_eq!(
        (refused.status, refused.code()),
        (409, "sign_in_required"),
        "{refused:?}"
    );

    // Alice signs in (a wrong PIN first), opens the till with 100.00.
    let wrong = post(
        d,
        "/v1/cashier/sign-in",
        &counter,
        json!({"staff_id": alice_id, "pin": "0000"}),
    );
    assert_eq!(
        (wrong.status, wrong.code()),
        (403, "wrong_pin"),
        "{wrong:?}"
    );
    let signed = post(
        d,
        "/v1/cashier/sign-in",
        &counter,
        json!({"staff_id": alice_id, "pin": "1357"}),
    );
    assert_eq!(signed.status, 200, "{signed:?}");
    assert_eq!(signed.body["staff"]["name"], "Alice", "{signed:?}");
    let cash_first = post(
        d,
        "/v1/sales",
        &counter,
        json!({"cart": cart(json!([{"item_id": s.coffee}]), Value::Null), "tender": "cash"}),
    );
    assert_eq!(
        (cash_first.status, cash_first.code()),
        (409, "shift_required"),
        "{cash_first:?}"
    );
    let shift_a = post(d, "/v1/shifts", &counter, json!({"float": "100.00"}));
    assert_eq!(shift_a.status, 201, "{shift_a:?}");
    assert_eq!(shift_a.body["opened_by"]["name"], "Alice");
    let shift_a_id = shift_a.body["id"].as_str().expect("id").to_string();
    let twice = post(d, "/v1/shifts", &counter, json!({"float": "1.00"}));
    assert_eq!(
        (twice.status, twice.code()),
        (409, "shift_conflict"),
        "{twice:?}"
    );

    let mut a = Expected::default();
    let mut day = Expected::default();
    let mut ids: Vec<(String, String, String, String)> = Vec::new(); // id, tender, cashier, shift
                                                                     // Alice: cash with a 10 % tip, too little cash refused first.
    let body = json!({"cart": cart(json!([{"item_id": s.coffee, "quantity": 2}, {"item_id": s.wine}]), json!({"percent": "10"})),
        "tender": "cash", "cash_received": "1.00"});
    let little = post(d, "/v1/sales", &counter, body);
    assert_eq!(
        (little.status, little.code()),
        (422, "invalid_amount"),
        "{little:?}"
    );
    let c1 = sale(
        &s,
        &counter,
        json!({"cart": cart(json!([{"item_id": s.coffee, "quantity": 2}, {"item_id": s.wine}]), json!({"percent": "10"})),
        "tender": "cash", "cash_received": "20.00"}),
    );
    // 2 × 3.50 + 6.00 = 13.00, levy 5 % of 6.00 = 0.30, tip 10 % of 13.30 = 1.33: 14.63.
    assert_eq!(c1["order"]["total"], "14.63", "{c1}");
    assert_eq!(c1["change"], "5.37", "{c1}");
    assert_eq!(c1["cashier"]["name"], "Alice");
    assert_eq!(c1["shift_id"], shift_a_id.as_str());
    for e in [&mut a, &mut day] {
        e.add("cash", "Alice", &c1["order"]);
    }
    ids.push((
        c1["id"].as_str().unwrap_or("").into(),
        "cash".into(),
        "Alice".into(),
        shift_a_id.clone(),
    ));
    // Alice: a card sale.
    let c2 = sale(
        &s,
        &counter,
        json!({"cart": cart(json!([{"item_id": s.croissant, "quantity": 3}]), Value::Null),
        "tender": "card", "reference": "T-1"}),
    );
    for e in [&mut a, &mut day] {
        e.add("card", "Alice", &c2["order"]);
    }
    ids.push((
        c2["id"].as_str().unwrap_or("").into(),
        "card".into(),
        "Alice".into(),
        shift_a_id.clone(),
    ));
    // Alice: Lightning with a tip of 1.00.
    let l1 = lightning_sale(
        &s,
        &counter,
        cart(
            json!([{"item_id": s.coffee}, {"item_id": s.wine, "note": "red"}]),
            json!({"amount": "1.00"}),
        ),
    );
    for e in [&mut a, &mut day] {
        e.add("lightning", "Alice", &l1["order"]);
    }
    ids.push((
        l1["id"].as_str().unwrap_or("").into(),
        "lightning".into(),
        "Alice".into(),
        shift_a_id.clone(),
    ));
    // The owner hands back 5.00 of the cash sale from the drawer.
    let refund = post(
        d,
        &format!("/v1/sales/{}/refund", c1["id"].as_str().expect("id")),
        &admin,
        json!({"amount": "5.00", "reason": "spilled"}),
    );
    assert_eq!(refund.status, 200, "{refund:?}");
    assert_eq!(refund.body["status"], "partially_refunded");
    let over = post(
        d,
        &format!("/v1/sales/{}/refund", c1["id"].as_str().expect("id")),
        &admin,
        json!({"amount": "10.00"}),
    );
    assert_eq!(
        (over.status, over.code()),
        (422, "refund_exceeds_received"),
        "{over:?}"
    );
    for e in [&mut a, &mut day] {
        e.cash_out += 500;
        e.refunds += 500;
    }
    // The counter may not refund unless the owner allows it.
    let denied = post(
        d,
        &format!("/v1/sales/{}/refund", c2["id"].as_str().expect("id")),
        &counter,
        json!({}),
    );
    assert_eq!(denied.status, 403, "{denied:?}");

    // Alice closes, 0.50 short.
    let running = get(d, "/v1/shifts/current", &counter).body;
    a.check(&running["report"], 10_000, None);
    // The day's report shows the open shift's drawer as the shift's own report does.
    let open_day = get(d, "/v1/reports/z", &admin).body;
    assert_eq!(
        open_day["shifts"][0]["cash"], running["report"]["cash"],
        "{open_day}"
    );
    let expected_a = 10_000 + a.cash_in - a.cash_out;
    let closed = post(
        d,
        &format!("/v1/shifts/{shift_a_id}/close"),
        &counter,
        json!({"counted": eur(expected_a - 50), "note": "short"}),
    );
    assert_eq!(closed.status, 200, "{closed:?}");
    assert_eq!(closed.body["difference"], "-0.50", "{closed:?}");
    a.check(&closed.body["report"], 10_000, Some(expected_a - 50));
    let page = client()
        .get(d.url(&format!("/v1/shifts/{shift_a_id}/report.html")))
        .bearer_auth(&counter)
        .send()
        .expect("page");
    assert_eq!(page.status(), 200);
    let html = page.text().expect("html");
    assert!(html.contains("-0.50") && html.contains("Alice"), "{html}");

    // Bob takes over at the locked counter without the owner.
    let signed = post(
        d,
        "/v1/cashier/sign-in",
        &counter,
        json!({"staff_id": bob_id, "pin": "2468"}),
    );
    assert_eq!(signed.body["staff"]["name"], "Bob", "{signed:?}");
    let shift_b = post(d, "/v1/shifts", &counter, json!({"float": "50.00"}));
    let shift_b_id = shift_b.body["id"].as_str().expect("id").to_string();
    let mut b = Expected::default();
    let c3 = sale(
        &s,
        &counter,
        json!({"cart": cart(json!([{"item_id": s.wine, "quantity": 2}]), json!({"percent": "15"})),
        "tender": "cash"}),
    );
    for e in [&mut b, &mut day] {
        e.add("cash", "Bob", &c3["order"]);
    }
    ids.push((
        c3["id"].as_str().unwrap_or("").into(),
        "cash".into(),
        "Bob".into(),
        shift_b_id.clone(),
    ));
    let l2 = lightning_sale(
        &s,
        &counter,
        cart(json!([{"item_id": s.croissant}]), json!({"percent": "5"})),
    );
    for e in [&mut b, &mut day] {
        e.add("lightning", "Bob", &l2["order"]);
    }
    ids.push((
        l2["id"].as_str().unwrap_or("").into(),
        "lightning".into(),
        "Bob".into(),
        shift_b_id.clone(),
    ));
    let expected_b = 5_000 + b.cash_in - b.cash_out;
    let closed = post(
        d,
        &format!("/v1/shifts/{shift_b_id}/close"),
        &counter,
        json!({"counted": eur(expected_b)}),
    );
    assert_eq!(closed.body["difference"], "0.00", "{closed:?}");
    b.check(&closed.body["report"], 5_000, Some(expected_b));

    // The day: both shifts, to the cent.
    let z = get(d, "/v1/reports/z", &admin);
    assert_eq!(z.status, 200, "{z:?}");
    day.check(&z.body, 15_000, Some(expected_a - 50 + expected_b));
    assert_eq!(z.body["shifts"].as_array().map(Vec::len), Some(2), "{z:?}");
    assert_eq!(
        get(d, "/v1/shifts", &admin).body["data"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );

    // The CSV: a row per sale with its tender, cashier and shift, and the same sums.
    let csv = transactions_csv(d, &admin);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().expect("header").clone();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{name} column"))
    };
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    for (id, tender, cashier, shift) in &ids {
        let row = rows
            .iter()
            .find(|r| r[col("invoice_id")] == **id || r[col("sale_id")] == **id)
            .unwrap_or_else(|| panic!("a row for {id}"));
        assert_eq!(&row[col("tender")], tender, "{id}");
        assert_eq!(&row[col("cashier")], cashier, "{id}");
        assert_eq!(&row[col("shift_id")], shift, "{id}");
        assert_eq!(&row[col("direction")], "received", "{id}");
    }
    for (tender, (count, total)) in &day.sales {
        let received: Vec<&csv::StringRecord> = rows
            .iter()
            .filter(|r| &r[col("tender")] == tender && &r[col("direction")] == "received")
            .collect();
        assert_eq!(received.len() as u64, *count, "{tender}");
        let sum: i64 = received.iter().map(|r| cents(&r[col("fiat_amount")])).sum();
        assert_eq!(sum, *total, "{tender} in the CSV");
    }
    let refund_rows: Vec<&csv::StringRecord> = rows
        .iter()
        .filter(|r| &r[col("direction")] == "refund")
        .collect();
    assert_eq!(refund_rows.len(), 1);
    assert_eq!(&refund_rows[0][col("fiat_amount")], "5.00");
    assert_eq!(
        &refund_rows[0][col("sale_id")],
        c1["id"].as_str().expect("id")
    );
    let split = &rows
        .iter()
        .find(|r| r[col("sale_id")] == *c1["id"].as_str().expect("id"))
        .expect("c1")[col("tax_split")];
    assert!(
        split.contains("VAT 10%: ") && split.contains("Levy 5%: 6.00 + 0.30"),
        "{split}"
    );

    // The journal: hledger reads it, every transaction balances, and its accounts hold the same.
    let journal = client()
        .get(d.url("/v1/reports/journal"))
        .bearer_auth(&admin)
        .send()
        .expect("journal")
        .text()
        .expect("text");
    let dir = tempdir();
    let file = dir.path().join("payaiml.journal");
    std::fs::write(&file, &journal).expect("write journal");
    let hledger = |args: &[&str]| {
        let out = std::process::Command::new("hledger")
            .arg("-f")
            .arg(&file)
            .args(args)
            .output()
            .expect("hledger runs (scripts/setup.sh installs it)");
        assert!(
            out.status.success(),
            "hledger {args:?}: {}\n{journal}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    hledger(&["check"]);
    let balance = |account: &str| {
        let out = hledger(&["balance", account, "--flat", "--no-total", "-O", "csv"]);
        let line = out
            .lines()
            .find(|l| l.contains(&format!("\"{account}\"")))
            .unwrap_or_else(|| panic!("{account} in {out}"));
        let value = line
            .rsplit(',')
            .next()
            .unwrap_or("")
            .trim_matches('"')
            .trim_end_matches(" EUR");
        cents(value.trim_start_matches("EUR").trim())
    };
    assert_eq!(
        balance("assets:cash"),
        day.cash_in - day.cash_out,
        "{journal}"
    );
    assert_eq!(
        balance("assets:card-clearing"),
        day.sales["card"].1,
        "{journal}"
    );
    assert_eq!(
        balance("income:tips"),
        -day.tips.values().sum::<i64>(),
        "{journal}"
    );
    assert_eq!(balance("liabilities:tax:levy-5"), -day.levy, "{journal}");
}
