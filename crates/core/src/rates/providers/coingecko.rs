//! CoinGecko's public API (docs.coingecko.com, "Coin Price by IDs"), used without a key within
//! its public rate limit (one request a minute per currency here is far below it).
//!
//! `GET https://api.coingecko.com/api/v3/simple/price?ids=bitcoin&vs_currencies=eur` answers
//! `{"bitcoin": {"eur": 68300.12}}`. The price is a JSON number: it is read from its text as
//! written, never through a float.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;

pub(super) const BASE_URL: &str = "https://api.coingecko.com";

pub(super) fn url(base: &str, currency: &str) -> String {
    format!(
        "{base}/api/v3/simple/price?ids=bitcoin&vs_currencies={}",
        currency.to_ascii_lowercase()
    )
}

#[derive(Deserialize)]
struct Answer<'a> {
    #[serde(borrow)]
    bitcoin: BTreeMap<String, &'a RawValue>,
}

pub(super) fn parse(body: &[u8], currency: &str) -> Result<Decimal, String> {
    let answer: Answer = super::json(body)?;
    let raw = answer
        .bitcoin
        .get(&currency.to_ascii_lowercase())
        .ok_or_else(|| format!("an answer with no {currency} price"))?;
    let text = raw.get();
    if text.starts_with('"') || text.contains(['e', 'E']) {
        return Err(format!("'{text}' is not a price written as a plain number"));
    }
    super::decimal(text)
}
