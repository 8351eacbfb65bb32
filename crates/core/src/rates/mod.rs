//! Exchange rates: many providers' quotes made into one rate a price can be converted at, and the
//! conversion itself. This module holds the rules, with no network: which quotes count (fresh
//! ones), how they combine (the median, after dropping outliers), and how a fiat price becomes
//! sats (exactly, in decimal, rounded half up to the whole sat). On top of it: the providers
//! ([`providers`], one module each), the service that fetches and keeps their quotes
//! ([`service`]), and the rate recorded with each invoice and payment ([`record`]).
//!
//! Money never touches a float here: prices and rates are [`Decimal`]s, parsed from strings.

pub mod providers;
pub mod record;
pub mod service;

pub use providers::Provider;
pub use record::{FiatAmount, Recorded};
pub use service::{RateService, RatesConfig, RatesView};

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::error::{Error, ErrorCode, Result};

/// Sats in one bitcoin.
const SATS_PER_BTC: u64 = 100_000_000;
/// How far from the median of all fresh quotes a quote may be and still count: 3 %. A provider
/// further off is broken, or quotes another market; it must not move the price.
pub const OUTLIER_PERCENT: u32 = 3;

/// One provider's price of one bitcoin in a currency, and when it was fetched.
#[derive(Debug, Clone, PartialEq)]
pub struct Quote {
    /// The provider's name.
    pub source: String,
    /// Currency units per bitcoin.
    pub per_btc: Decimal,
    /// When it was fetched (unix milliseconds).
    pub fetched_at: i64,
}

/// The rate a price is converted at, with the providers it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Rate {
    /// Currency units per bitcoin: the median of the quotes that counted.
    pub per_btc: Decimal,
    /// The providers whose quotes counted, by name, sorted.
    pub sources: Vec<String>,
    /// When the oldest quote that counted was fetched (unix milliseconds): the rate's age.
    pub as_of: i64,
}

fn unavailable(message: impl Into<String>) -> Error {
    Error::Unavailable {
        code: ErrorCode::RateUnavailable,
        message: message.into(),
    }
}

fn median(values: &mut [Decimal]) -> Option<Decimal> {
    values.sort();
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => values.get(n / 2).copied(),
        _ => {
            let (a, b) = (values.get(n / 2 - 1)?, values.get(n / 2)?);
            Some((a + b) / Decimal::TWO)
        }
    }
}

/// Combines `quotes` into one rate: quotes older than `max_age_ms` at `now` do not count, nor do
/// zero or negative ones; of the rest, those more than [`OUTLIER_PERCENT`] from their median are
/// dropped, and the rate is the median of what remains. With no fresh quote, or when the quotes
/// disagree so much that none is near their median, there is no rate: `503 rate_unavailable`,
/// never a guess.
pub fn combine(quotes: &[Quote], now: i64, max_age_ms: i64) -> Result<Rate> {
    let fresh: Vec<&Quote> = quotes
        .iter()
        .filter(|q| q.per_btc > Decimal::ZERO && now.saturating_sub(q.fetched_at) <= max_age_ms)
        .collect();
    let mut all: Vec<Decimal> = fresh.iter().map(|q| q.per_btc).collect();
    let Some(center) = median(&mut all) else {
        return Err(unavailable(
            "no exchange rate is fresh enough: the rate providers did not answer (the price \
             would be a guess, so no invoice was made)",
        ));
    };
    let tolerance = center * Decimal::from(OUTLIER_PERCENT) / Decimal::ONE_HUNDRED;
    let kept: Vec<&Quote> = fresh
        .into_iter()
        .filter(|q| (q.per_btc - center).abs() <= tolerance)
        .collect();
    let mut values: Vec<Decimal> = kept.iter().map(|q| q.per_btc).collect();
    let Some(per_btc) = median(&mut values) else {
        return Err(unavailable(
            "the rate providers disagree by more than 3 %: no rate is trustworthy now",
        ));
    };
    let mut sources: Vec<String> = kept.iter().map(|q| q.source.clone()).collect();
    sources.sort();
    let as_of = kept.iter().map(|q| q.fetched_at).min().unwrap_or(now);
    Ok(Rate {
        per_btc,
        sources,
        as_of,
    })
}

/// The currencies the app prices in (ISO 4217).
pub const CURRENCIES: [&str; 7] = ["USD", "EUR", "GBP", "CHF", "CAD", "AUD", "JPY"];

/// The API document's schema of a currency code: one of [`CURRENCIES`] (lower case is accepted
/// too, and read as upper case).
pub fn currency_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(CURRENCIES))
        .build()
}

/// [`currency_schema`], or null.
pub fn nullable_currency_schema() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{SchemaType, Type};
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some(CURRENCIES.iter().map(|c| Some(*c)).chain([None])))
        .build()
}

/// The decimals a currency's amounts have (ISO 4217 minor units).
pub fn minor_units(currency: &str) -> Option<u32> {
    match currency {
        "JPY" => Some(0),
        "USD" | "EUR" | "GBP" | "CHF" | "CAD" | "AUD" => Some(2),
        _ => None,
    }
}

/// Reads a JSON string holding a decimal amount, and refuses a JSON number with a message a
/// developer can act on: a number would have passed through a float in most clients, and
/// money never does (`#[serde(deserialize_with)]` on request fields).
pub fn decimal_string<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<String, D::Error> {
    struct Text;
    const NUMBER: &str = "must be a decimal string such as \"3.50\", not a JSON number (a number \
                          goes through a float, which cannot hold every price exactly)";
    impl serde::de::Visitor<'_> for Text {
        type Value = String;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a decimal string such as \"3.50\"")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<String, E> {
            Ok(v.to_owned())
        }
        fn visit_f64<E: serde::de::Error>(self, _: f64) -> std::result::Result<String, E> {
            Err(E::custom(NUMBER))
        }
        fn visit_i64<E: serde::de::Error>(self, _: i64) -> std::result::Result<String, E> {
            Err(E::custom(NUMBER))
        }
        fn visit_u64<E: serde::de::Error>(self, _: u64) -> std::result::Result<String, E> {
            Err(E::custom(NUMBER))
        }
    }
    d.deserialize_any(Text)
}

/// The most digits a money amount written as a decimal string may have before its point: 15
/// (up to 999 trillion, beyond any price in any supported currency: 21 million BTC is about
/// 3 × 10^14 yen). The bound keeps every product of prices, quantities, percentages and rates
/// within `rust_decimal`'s 96 bits, where an overflow would panic; the OpenAPI document states
/// it as each amount's pattern.
pub const MAX_WHOLE_DIGITS: usize = 15;

/// Whether `text` is a plain decimal: digits, at most one point with digits on both sides, and
/// at most [`MAX_WHOLE_DIGITS`] before the point and 8 after (no sign, no exponent, no spaces).
pub fn plain_decimal(text: &str) -> bool {
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (text, None),
    };
    let digits = |t: &str, most: usize| {
        !t.is_empty() && t.len() <= most && t.bytes().all(|b| b.is_ascii_digit())
    };
    digits(whole, MAX_WHOLE_DIGITS) && fraction.is_none_or(|f| digits(f, 8))
}

/// Reads a fiat amount written as a decimal string ("3.50"): positive, at most the currency's
/// decimals and [`MAX_WHOLE_DIGITS`] before the point, never through a float.
pub fn parse_amount(text: &str, currency: &str) -> Result<Decimal> {
    let decimals = minor_units(currency).ok_or_else(|| {
        Error::invalid(
            "fiat.currency",
            format!("'{currency}' is not a supported currency (USD, EUR, GBP, CHF, CAD, AUD, JPY)"),
        )
    })?;
    let amount = plain_decimal(text)
        .then(|| text.parse::<Decimal>().ok())
        .flatten()
        .filter(|a| *a > Decimal::ZERO)
        .ok_or_else(|| {
            Error::invalid(
                "fiat.amount",
                format!("'{text}' is not a positive amount written like 3.50, with at most {MAX_WHOLE_DIGITS} digits before the point"),
            )
        })?;
    if amount.scale() > decimals {
        return Err(Error::invalid(
            "fiat.amount",
            if decimals == 0 {
                format!("{currency} amounts have no decimals; got '{text}'")
            } else {
                format!("{currency} amounts have at most {decimals} decimals; got '{text}'")
            },
        ));
    }
    Ok(amount)
}

/// `amount` of a currency in sats at `rate` (units per bitcoin): amount × 100,000,000 ÷ rate,
/// computed exactly and rounded half up to the whole sat (0.5 sat and more goes up), so the
/// customer pays the price to the nearest sat.
pub fn to_sats(amount: Decimal, rate: &Rate) -> Result<u64> {
    let too_large = || {
        Error::unprocessable(
            ErrorCode::InvalidAmount,
            Some("fiat.amount"),
            format!("{amount} is more than the 21 million BTC that can exist, at this rate"),
        )
    };
    if rate.per_btc <= Decimal::ZERO {
        return Err(unavailable("the exchange rate is not usable"));
    }
    let sats = amount
        .checked_mul(Decimal::from(SATS_PER_BTC))
        .and_then(|scaled| scaled.checked_div(rate.per_btc))
        .ok_or_else(too_large)?
        .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
    if sats < Decimal::ONE {
        return Err(Error::invalid(
            "fiat.amount",
            format!("{amount} is less than one sat at this rate"),
        ));
    }
    sats.to_u64().ok_or_else(too_large)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quote(source: &str, per_btc: &str, fetched_at: i64) -> Quote {
        Quote {
            source: source.into(),
            per_btc: per_btc.parse().unwrap_or_default(),
            fetched_at,
        }
    }

    const MINUTE: i64 = 60_000;

    #[test]
    fn the_median_of_fresh_quotes_without_outliers() -> Result<()> {
        let now = 10 * MINUTE;
        let quotes = [
            quote("a", "60000", now - 1000),
            quote("b", "60300", now - 2000),
            quote("c", "60150", now - 3000),
        ];
        let rate = combine(&quotes, now, 5 * MINUTE)?;
        assert_eq!(rate.per_btc, "60150".parse().unwrap_or_default());
        assert_eq!(rate.sources, ["a", "b", "c"]);
        assert_eq!(rate.as_of, now - 3000, "as old as its oldest quote");

        // An outlier (a broken provider, or one answering garbage that parses) moves nothing.
        let with_outlier = [
            quote("a", "60000", now),
            quote("b", "60300", now),
            quote("garbage", "6", now),
            quote("far", "90000", now),
            quote("c", "60150", now),
        ];
        let rate = combine(&with_outlier, now, 5 * MINUTE)?;
        assert_eq!(rate.per_btc, "60150".parse().unwrap_or_default());
        assert_eq!(rate.sources, ["a", "b", "c"]);

        // Two fresh quotes: their mean; a stale one does not count.
        let two = [
            quote("a", "60000", now),
            quote("b", "60200", now),
            quote("old", "70000", now - 6 * MINUTE),
        ];
        let rate = combine(&two, now, 5 * MINUTE)?;
        assert_eq!(rate.per_btc, "60100".parse().unwrap_or_default());
        Ok(())
    }

    #[test]
    fn no_rate_rather_than_a_guess() {
        let now = 10 * MINUTE;
        let code = |quotes: &[Quote]| combine(quotes, now, 5 * MINUTE).err().map(|e| e.code());
        assert_eq!(code(&[]), Some(ErrorCode::RateUnavailable), "all down");
        assert_eq!(
            code(&[quote("a", "60000", now - 6 * MINUTE)]),
            Some(ErrorCode::RateUnavailable),
            "only a stale cache"
        );
        assert_eq!(
            code(&[quote("a", "0", now)]),
            Some(ErrorCode::RateUnavailable),
            "a zero price is no price"
        );
        assert_eq!(
            code(&[quote("a", "10000", now), quote("b", "90000", now)]),
            Some(ErrorCode::RateUnavailable),
            "two that disagree wildly: neither is near their median"
        );
    }

    #[test]
    fn a_price_converts_exactly_and_rounds_half_up() -> Result<()> {
        let rate = |per_btc: &str| Rate {
            per_btc: per_btc.parse().unwrap_or_default(),
            sources: vec![],
            as_of: 0,
        };
        // 3.50 EUR at 68,300.00 EUR/BTC = 5,124.45... sats → 5,124.
        assert_eq!(
            to_sats(parse_amount("3.50", "EUR")?, &rate("68300.00"))?,
            5_124
        );
        // 1.00 USD at 40,000 = exactly 2,500 sats.
        assert_eq!(
            to_sats(parse_amount("1.00", "USD")?, &rate("40000"))?,
            2_500
        );
        // 0.5 sat goes up: 0.01 at 800,000 per BTC = 1.25 sats → 1; at 1,600,000 = 0.625 → 1.
        assert_eq!(to_sats(parse_amount("0.01", "USD")?, &rate("800000"))?, 1);
        assert_eq!(to_sats(parse_amount("0.01", "USD")?, &rate("1600000"))?, 1);
        // 3 sats and a half: 0.07 at 2,000,000 = 3.5 → 4.
        assert_eq!(to_sats(parse_amount("0.07", "USD")?, &rate("2000000"))?, 4);
        // Yen have no decimals.
        assert_eq!(
            to_sats(parse_amount("500", "JPY")?, &rate("10000000"))?,
            5_000
        );
        // The largest amount at the smallest rate is more than any payment: refused, no panic.
        let err = to_sats(parse_amount("999999999999999", "JPY")?, &rate("0.000001")).err();
        assert_eq!(err.as_ref().and_then(Error::field), Some("fiat.amount"));
        Ok(())
    }

    #[test]
    fn amounts_are_read_strictly() {
        for (text, currency, field) in [
            ("3.505", "EUR", "fiat.amount"),
            ("3,50", "EUR", "fiat.amount"),
            ("-3.50", "EUR", "fiat.amount"),
            ("0", "EUR", "fiat.amount"),
            ("1e3", "EUR", "fiat.amount"),
            (".5", "EUR", "fiat.amount"),
            ("5.5", "JPY", "fiat.amount"),
            ("3.50", "XYZ", "fiat.currency"),
        ] {
            let err = parse_amount(text, currency).err();
            assert_eq!(
                err.as_ref().and_then(Error::field),
                Some(field),
                "{text} {currency}"
            );
        }
        assert!(parse_amount("0.0001", "USD").is_err());
        // Past 15 digits before the point: refused, never multiplied (rust_decimal panics on
        // an overflowing product).
        for huge in [
            "1000000000000000000000",
            "79228162514264337593543950335",
            "1000000000000000",
        ] {
            let err = parse_amount(huge, "USD").err();
            assert_eq!(
                err.as_ref().and_then(Error::field),
                Some("fiat.amount"),
                "{huge}"
            );
        }
        assert!(parse_amount("999999999999999", "JPY").is_ok());
        // A JSON number is refused with what to send instead; a string is read as written.
        #[derive(serde::Deserialize, Debug)]
        struct Body {
            #[serde(deserialize_with = "decimal_string")]
            #[allow(dead_code)]
            amount: String,
        }
        for number in [r#"{"amount": 3.5}"#, r#"{"amount": 3}"#] {
            let err = serde_json::from_str::<Body>(number)
                .err()
                .map(|e| e.to_string());
            assert!(
                err.as_deref()
                    .is_some_and(|e| e.contains("decimal string such as")),
                "{number}: {err:?}"
            );
        }
        assert!(
            serde_json::from_str::<Body>(r#"{"amount": "3.50"}"#).is_ok_and(|b| b.amount == "3.50")
        );
        assert!(matches!(
            to_sats(
                parse_amount("0.01", "USD").unwrap_or_default(),
                &Rate {
                    per_btc: "100000000".parse().unwrap_or_default(),
                    sources: vec![],
                    as_of: 0
                }
            ),
            Err(Error::InvalidField { .. })
        ));
    }
}
