//! Prices in the merchant's currency on the sandbox, with the four rate providers stood in for by
//! a loopback server answering in each one's real format (tests/stand-ins/rates.mjs): nothing is
//! fetched in sats-only mode; a fiat invoice is converted at the median and paid, and the invoice,
//! the event, the day's report and the CSV all show its price and rate; a provider answering
//! garbage or far off does not move the rate; with every provider down and the cache stale, a
//! price in a currency is refused with 503 and no invoice is made.

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::common::*;

/// The stand-in, killed when dropped.
pub(crate) struct StandIn {
    child: Child,
    base: String,
}

impl StandIn {
    pub(crate) fn start() -> StandIn {
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/stand-ins/rates.mjs");
        let mut child = Command::new("node")
            .arg(script)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node runs the rates stand-in");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("stand-in line");
        let base = line
            .trim()
            .strip_prefix("rates stand-in: ")
            .expect("stand-in address")
            .to_string();
        StandIn { child, base }
    }

    pub(crate) fn rate_urls(&self) -> String {
        ["coinbase", "kraken", "bitstamp", "coingecko"]
            .map(|p| format!("{p}={}/{p}", self.base))
            .join(",")
    }

    fn control(&self, command: Value) {
        let res = call(
            "POST",
            &format!("{}/control", self.base),
            None,
            Some(&command),
        );
        assert_eq!(res.status, 200, "{res:?}");
    }

    fn hits(&self) -> u64 {
        let res = call("GET", &format!("{}/control/hits", self.base), None, None);
        res.body
            .as_object()
            .map(|m| m.values().filter_map(Value::as_u64).sum())
            .unwrap_or(0)
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn invoice_count(d: &Daemon, key: &str) -> usize {
    get(d, "/v1/lightning/invoices?limit=100", key).body["data"]
        .as_array()
        .map_or(0, Vec::len)
}

#[test]
fn a_price_in_euros_is_converted_recorded_and_reported() {
    let rates = StandIn::start();
    let dir = tempdir();
    let urls = rates.rate_urls();
    let d = Daemon::start(
        dir.path(),
        &[
            "--rate-url",
            &urls,
            "--rate-max-age",
            "3s",
            "--rate-refresh",
            "1s",
            "sandbox",
        ],
        true,
    );
    let key = d.admin().to_string();

    // Sats only (the default): nothing is fetched, and the settings say so.
    let settings = get(&d, "/v1/settings", &key).body;
    assert_eq!(settings["currency"], Value::Null, "{settings}");
    let view = get(&d, "/v1/rates", &key).body;
    assert_eq!(view["currency"], Value::Null, "{view}");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(rates.hits(), 0, "nothing fetched while counting in sats");

    // Bad settings are refused with the field named, and change nothing.
    for (change, field) in [
        (json!({"currency": "XYZ"}), "currency"),
        (json!({"rate_providers": []}), "rate_providers"),
        (json!({"rate_providers": ["binance"]}), "rate_providers"),
    ] {
        let res = call("PATCH", &d.url("/v1/settings"), Some(&key), Some(&change));
        assert_eq!((res.status, res.code()), (400, "invalid_field"), "{res:?}");
        assert_eq!(res.body["error"]["field"], field, "{res:?}");
    }
    let set = call(
        "PATCH",
        &d.url("/v1/settings"),
        Some(&key),
        Some(&json!({"currency": "eur"})),
    );
    assert_eq!(set.status, 200, "{set:?}");
    assert_eq!(set.body["currency"], "EUR");
    assert_eq!(
        set.body["rate_providers"],
        json!(["coinbase", "kraken", "bitstamp", "coingecko"])
    );

    // The rate: every provider at 60,000.00.
    let view = wait_for(20, "a EUR rate", || {
        let v = get(&d, "/v1/rates", &key).body;
        v["rate"].is_object().then_some(v)
    });
    assert_eq!(view["rate"]["per_btc"], "60000", "{view}");
    assert_eq!(
        view["rate"]["sources"].as_array().map(Vec::len),
        Some(4),
        "{view}"
    );
    assert_eq!(view["max_age_seconds"], 3);

    // Kraken answers garbage and Bitstamp a price 50 % off: the rate does not move, Bitstamp is
    // not among its sources, and each says what went wrong.
    rates.control(json!({"mode": {"kraken": "garbage", "bitstamp": "outlier"}}));
    let view = wait_for(20, "Kraken's garbage noticed", || {
        let v = get(&d, "/v1/rates", &key).body;
        let kraken = v["providers"]
            .as_array()?
            .iter()
            .find(|p| p["id"] == "kraken")?
            .clone();
        (kraken["status"] == "failed" && v["rate"]["sources"].as_array()?.len() == 2).then_some(v)
    });
    assert_eq!(view["rate"]["per_btc"], "60000", "{view}");
    assert_eq!(
        view["rate"]["sources"],
        json!(["coinbase", "coingecko"]),
        "{view}"
    );

    // Invalid fiat prices: the field named, nothing made, nothing fetched for them.
    let before = invoice_count(&d, &key);
    for (body, field) in [
        (
            json!({"fiat": {"amount": "3.505", "currency": "EUR"}}),
            "fiat.amount",
        ),
        (
            json!({"fiat": {"amount": "3,50", "currency": "EUR"}}),
            "fiat.amount",
        ),
        (
            json!({"fiat": {"amount": "3.50", "currency": "XYZ"}}),
            "fiat.currency",
        ),
        (json!({"fiat": {"amount": 3.5, "currency": "EUR"}}), ""),
        (
            json!({"amount": 1000, "fiat": {"amount": "3.50", "currency": "EUR"}}),
            "fiat",
        ),
    ] {
        let res = post(&d, "/v1/lightning/invoices", &key, body.clone());
        assert_eq!(res.status, 400, "{body}: {res:?}");
        if !field.is_empty() {
            assert_eq!(res.body["error"]["field"], field, "{body}: {res:?}");
        }
    }
    assert_eq!(invoice_count(&d, &key), before);

    // 3.50 EUR at 60,000.00 = 5,833.33 sats → 5,833; paid by the sandbox's customer.
    let made = post(
        &d,
        "/v1/lightning/invoices",
        &key,
        json!({"fiat": {"amount": "3.50", "currency": "EUR"}, "description": "Cappuccino", "external_id": "=order-77"}),
    );
    assert_eq!(made.status, 201, "{made:?}");
    let invoice = made.body;
    assert_eq!(invoice["amount"], 5_833);
    assert_eq!(invoice["fiat"]["amount"], "3.50");
    assert_eq!(invoice["fiat"]["currency"], "EUR");
    assert_eq!(invoice["fiat"]["priced_in_fiat"], true);
    assert_eq!(invoice["fiat"]["rate"], "60000");
    assert_eq!(invoice["fiat"]["sources"], json!(["coinbase", "coingecko"]));
    let id = invoice["id"].as_str().expect("id").to_string();
    let invoice = customer_pays(&d, &key, &invoice);
    assert_eq!(
        invoice["fiat"]["amount"], "3.50",
        "the price as asked, after payment too"
    );

    // A sale in sats records the rate of the moment: 1,000 sats = 0.60 EUR.
    let sats = post(&d, "/v1/lightning/invoices", &key, json!({"amount": 1000}));
    assert_eq!(sats.body["fiat"]["amount"], "0.60", "{sats:?}");
    assert_eq!(sats.body["fiat"]["priced_in_fiat"], false);

    // The event carries it.
    let received = received_event(&d, &key, &id);
    assert_eq!(received["fiat"]["amount"], "3.50", "{received}");
    assert_eq!(received["fiat"]["rate"], "60000");

    // The day's report and the CSV.
    let day = get(&d, "/v1/reports/day", &key).body;
    assert_eq!(day["currency"], "EUR", "{day}");
    assert!(day["sales"]["count"].as_u64() >= Some(1), "{day}");
    assert_eq!(day["by_hour"].as_array().map(Vec::len), Some(24));
    let days = get(&d, "/v1/reports/days?days=30", &key).body;
    assert_eq!(days["days"].as_array().map(Vec::len), Some(30), "{days}");
    let csv = client()
        .get(d.url("/v1/reports/transactions.csv"))
        .bearer_auth(&key)
        .send()
        .expect("csv");
    assert_eq!(csv.status().as_u16(), 200);
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let text = csv.text().expect("csv text");
    let row = text
        .lines()
        .find(|l| l.contains(&id))
        .unwrap_or_else(|| panic!("a row for {id} in\n{text}"));
    assert!(
        row.contains(",received,paid,5833,5833000,,,3.50,,EUR,60000,coinbase coingecko,"),
        "{row}"
    );
    assert!(
        row.contains(",Cappuccino,'=order-77,"),
        "the external id neutralised: {row}"
    );
    let bad = get(&d, "/v1/reports/transactions.csv?from=yesterday", &key);
    assert_eq!((bad.status, bad.code()), (400, "invalid_query"), "{bad:?}");

    // Every provider down: the cache serves until it is 3 s old, then no price in a currency is
    // made, never one at a wrong or zero price; a sale in sats still is, without a rate.
    rates.control(json!({"mode": {"all": "down"}}));
    let view = wait_for(20, "the cache to go stale", || {
        let v = get(&d, "/v1/rates", &key).body;
        v["rate"].is_null().then_some(v)
    });
    assert!(
        view["error"].as_str().is_some_and(|e| e.contains("fresh")),
        "{view}"
    );
    let before = invoice_count(&d, &key);
    let refused = post(
        &d,
        "/v1/lightning/invoices",
        &key,
        json!({"fiat": {"amount": "3.50", "currency": "EUR"}}),
    );
    assert_eq!(
        (refused.status, refused.code()),
        (503, "rate_unavailable"),
        "{refused:?}"
    );
    let message = refused.body["error"]["message"].as_str().unwrap_or("");
    assert!(message.contains("no invoice was made"), "{message}");
    assert_eq!(invoice_count(&d, &key), before, "no invoice made");
    let sats = post(&d, "/v1/lightning/invoices", &key, json!({"amount": 1000}));
    assert_eq!(sats.status, 201);
    assert_eq!(
        sats.body["fiat"],
        Value::Null,
        "no rate recorded rather than a stale one"
    );

    // Back to sats only: the background refresh stops asking.
    let set = call(
        "PATCH",
        &d.url("/v1/settings"),
        Some(&key),
        Some(&json!({"currency": null})),
    );
    assert_eq!(set.body["currency"], Value::Null);
    std::thread::sleep(Duration::from_millis(1500));
    let hits = rates.hits();
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(rates.hits(), hits, "nothing fetched in sats-only mode");
}
