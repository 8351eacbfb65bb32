//! Kraken's public market data (docs.kraken.com, "Get Ticker Information"): no key needed.
//!
//! `GET https://api.kraken.com/0/public/Ticker?pair=XBTEUR` answers
//! `{"error": [], "result": {"XXBTZEUR": {"a": [...], "b": [...], "c": ["68305.40000",
//! "0.00120000"], ...}}}`. The result is keyed by Kraken's own pair name (`XXBTZEUR`, but
//! `XBTCHF`), so the one entry is read whatever its key; `c` is the last trade, price first.
//! A refused request has an empty `result` and its reasons in `error`.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Deserialize;

pub(super) const BASE_URL: &str = "https://api.kraken.com";

pub(super) fn url(base: &str, currency: &str) -> String {
    format!("{base}/0/public/Ticker?pair=XBT{currency}")
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    error: Vec<String>,
    #[serde(default)]
    result: BTreeMap<String, Ticker>,
}

#[derive(Deserialize)]
struct Ticker {
    /// The last trade: price, lot volume.
    c: Vec<String>,
}

pub(super) fn parse(body: &[u8], currency: &str) -> Result<Decimal, String> {
    let answer: Answer = super::json(body)?;
    if !answer.error.is_empty() {
        return Err(format!("Kraken refused: {}", answer.error.join("; ")));
    }
    let mut tickers = answer.result.into_iter();
    let (pair, ticker) = tickers
        .next()
        .ok_or_else(|| "an answer with no ticker".to_string())?;
    if tickers.next().is_some() || !pair.ends_with(currency) {
        return Err(format!(
            "an answer for {pair} when XBT{currency} was asked for"
        ));
    }
    let last = ticker
        .c
        .first()
        .ok_or_else(|| "a ticker with no last trade".to_string())?;
    super::decimal(last)
}
