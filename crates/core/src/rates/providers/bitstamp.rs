//! Bitstamp's public ticker (www.bitstamp.net/api, "Ticker"): no key needed.
//!
//! `GET https://www.bitstamp.net/api/v2/ticker/btceur/` answers
//! `{"timestamp": "1701000000", "open": "...", "high": "...", "low": "...", "last": "68300",
//! "volume": "...", "vwap": "...", "bid": "...", "ask": "...", ...}`: every figure a decimal
//! string; `last` is the last trade. Bitstamp lists bitcoin against USD, EUR and GBP only.

use rust_decimal::Decimal;
use serde::Deserialize;

pub(super) const BASE_URL: &str = "https://www.bitstamp.net";
/// The currencies Bitstamp trades bitcoin against.
pub(super) const CURRENCIES: [&str; 3] = ["USD", "EUR", "GBP"];

pub(super) fn url(base: &str, currency: &str) -> String {
    format!("{base}/api/v2/ticker/btc{}/", currency.to_ascii_lowercase())
}

#[derive(Deserialize)]
struct Ticker {
    last: String,
}

pub(super) fn parse(body: &[u8]) -> Result<Decimal, String> {
    let ticker: Ticker = super::json(body)?;
    super::decimal(&ticker.last)
}
