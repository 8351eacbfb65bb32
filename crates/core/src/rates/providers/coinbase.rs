//! Coinbase's public price API (docs.cdp.coinbase.com, "Data API - Prices"): no key needed.
//!
//! `GET https://api.coinbase.com/v2/prices/BTC-EUR/spot` answers
//! `{"data": {"amount": "68300.12", "base": "BTC", "currency": "EUR"}}`: the spot price as a
//! decimal string.

use rust_decimal::Decimal;
use serde::Deserialize;

pub(super) const BASE_URL: &str = "https://api.coinbase.com";

pub(super) fn url(base: &str, currency: &str) -> String {
    format!("{base}/v2/prices/BTC-{currency}/spot")
}

#[derive(Deserialize)]
struct Answer {
    data: Price,
}

#[derive(Deserialize)]
struct Price {
    amount: String,
    currency: String,
}

pub(super) fn parse(body: &[u8], currency: &str) -> Result<Decimal, String> {
    let answer: Answer = super::json(body)?;
    if !answer.data.currency.eq_ignore_ascii_case(currency) {
        return Err(format!(
            "a price in {} when {currency} was asked for",
            answer.data.currency
        ));
    }
    super::decimal(&answer.data.amount)
}
