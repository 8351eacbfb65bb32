//! The public services a rate can come from. Each lives in its own module with the request and
//! the answer exactly as that service documents them; this module names them and dispatches.
//!
//! All four answer without an account or key. They are run by four different operators
//! (Coinbase, Payward's Kraken, Bitstamp, CoinGecko), so one operator's outage or bad quote
//! cannot set the price alone: [`super::combine`] takes the median and drops outliers.

mod bitstamp;
mod coinbase;
mod coingecko;
mod kraken;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A rate provider.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Coinbase's public price API: `GET /v2/prices/BTC-EUR/spot`.
    Coinbase,
    /// Kraken's public market data: `GET /0/public/Ticker?pair=XBTEUR`, the last trade price.
    Kraken,
    /// Bitstamp's public ticker: `GET /api/v2/ticker/btceur/`, the last price (USD, EUR and GBP
    /// only).
    Bitstamp,
    /// CoinGecko's aggregated price: `GET /api/v3/simple/price?ids=bitcoin&vs_currencies=eur`.
    Coingecko,
}

/// Every provider, in the order they are shown.
pub const ALL: [Provider; 4] = [
    Provider::Coinbase,
    Provider::Kraken,
    Provider::Bitstamp,
    Provider::Coingecko,
];

impl Provider {
    /// The id used in settings and the API.
    pub fn id(self) -> &'static str {
        match self {
            Provider::Coinbase => "coinbase",
            Provider::Kraken => "kraken",
            Provider::Bitstamp => "bitstamp",
            Provider::Coingecko => "coingecko",
        }
    }

    /// The name people know it by.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Coinbase => "Coinbase",
            Provider::Kraken => "Kraken",
            Provider::Bitstamp => "Bitstamp",
            Provider::Coingecko => "CoinGecko",
        }
    }

    /// Where it answers, unless a base URL is set for it (`--rate-url`).
    pub fn default_base_url(self) -> &'static str {
        match self {
            Provider::Coinbase => coinbase::BASE_URL,
            Provider::Kraken => kraken::BASE_URL,
            Provider::Bitstamp => bitstamp::BASE_URL,
            Provider::Coingecko => coingecko::BASE_URL,
        }
    }

    /// Whether it quotes bitcoin in `currency`.
    pub fn supports(self, currency: &str) -> bool {
        match self {
            Provider::Bitstamp => bitstamp::CURRENCIES.contains(&currency),
            _ => super::minor_units(currency).is_some(),
        }
    }

    /// The URL that asks for the price of one bitcoin in `currency` (upper case ISO 4217).
    pub fn url(self, base: &str, currency: &str) -> String {
        let base = base.trim_end_matches('/');
        match self {
            Provider::Coinbase => coinbase::url(base, currency),
            Provider::Kraken => kraken::url(base, currency),
            Provider::Bitstamp => bitstamp::url(base, currency),
            Provider::Coingecko => coingecko::url(base, currency),
        }
    }

    /// Reads the price of one bitcoin in `currency` from its answer, or says what is wrong
    /// with the answer.
    pub fn parse(self, body: &[u8], currency: &str) -> Result<Decimal, String> {
        let price = match self {
            Provider::Coinbase => coinbase::parse(body, currency),
            Provider::Kraken => kraken::parse(body, currency),
            Provider::Bitstamp => bitstamp::parse(body),
            Provider::Coingecko => coingecko::parse(body, currency),
        }?;
        if price <= Decimal::ZERO {
            return Err(format!("a price of {price} is no price"));
        }
        Ok(price)
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

impl std::str::FromStr for Provider {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ALL.into_iter()
            .find(|p| p.id().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!(
                    "'{s}' is not a rate provider: use {}",
                    ALL.map(Provider::id).join(", ")
                )
            })
    }
}

/// A price written as a JSON string ("68300.12"), read exactly.
fn decimal(text: &str) -> Result<Decimal, String> {
    text.trim()
        .parse::<Decimal>()
        .map_err(|_| format!("'{text}' is not a price"))
}

/// Reads `body` as JSON of type `T`, saying what was wrong with it.
fn json<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| {
        let start: String = String::from_utf8_lossy(body).chars().take(80).collect();
        format!("an answer that is not the expected JSON ({e}): {start}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each provider's answer, as its documentation shows it, read to the exact price.
    #[test]
    fn each_answer_is_read_exactly() {
        let cases: [(Provider, &str, &str, &str); 5] = [
            (
                Provider::Coinbase,
                "EUR",
                r#"{"data":{"amount":"68300.12","base":"BTC","currency":"EUR"}}"#,
                "68300.12",
            ),
            (
                Provider::Kraken,
                "EUR",
                r#"{"error":[],"result":{"XXBTZEUR":{"a":["68310.00000","1","1.000"],"b":["68300.00000","2","2.000"],"c":["68305.40000","0.00120000"],"v":["1.0","2.0"],"p":["1.0","2.0"],"t":[1,2],"l":["1","1"],"h":["1","1"],"o":"68000.00000"}}}"#,
                "68305.4",
            ),
            (
                Provider::Kraken,
                "CHF",
                r#"{"error":[],"result":{"XBTCHF":{"c":["61000.1","0.1"]}}}"#,
                "61000.1",
            ),
            (
                Provider::Bitstamp,
                "GBP",
                r#"{"timestamp":"1701000000","open":"58000","high":"59000","low":"57000","last":"58321","volume":"12.5","vwap":"58200","bid":"58320","ask":"58322","side":"0","open_24":"57900","percent_change_24":"0.72"}"#,
                "58321",
            ),
            (
                Provider::Coingecko,
                "JPY",
                r#"{"bitcoin":{"jpy":10498123.57}}"#,
                "10498123.57",
            ),
        ];
        for (provider, currency, body, want) in cases {
            let got = provider.parse(body.as_bytes(), currency);
            assert_eq!(
                got.map(|d| d.normalize().to_string()),
                Ok(want.to_string()),
                "{provider} {currency}"
            );
        }
    }

    #[test]
    fn a_wrong_answer_is_an_error_not_a_price() {
        for provider in ALL {
            for body in [
                "",
                "<html>rate limited</html>",
                "{}",
                r#"{"data":{"amount":"0","currency":"EUR"}}"#,
                r#"{"error":["EQuery:Unknown asset pair"],"result":{}}"#,
                r#"{"bitcoin":{"eur":-3}}"#,
                r#"{"last":"abc"}"#,
            ] {
                assert!(
                    provider.parse(body.as_bytes(), "EUR").is_err(),
                    "{provider} took {body}"
                );
            }
        }
        // Coinbase answering for another currency than asked is not a price in ours.
        assert!(Provider::Coinbase
            .parse(
                br#"{"data":{"amount":"70000","base":"BTC","currency":"USD"}}"#,
                "EUR"
            )
            .is_err());
    }

    #[test]
    fn urls_follow_each_documentation() {
        let cases = [
            (
                Provider::Coinbase,
                "https://api.coinbase.com/v2/prices/BTC-EUR/spot",
            ),
            (
                Provider::Kraken,
                "https://api.kraken.com/0/public/Ticker?pair=XBTEUR",
            ),
            (
                Provider::Bitstamp,
                "https://www.bitstamp.net/api/v2/ticker/btceur/",
            ),
            (
                Provider::Coingecko,
                "https://api.coingecko.com/api/v3/simple/price?ids=bitcoin&vs_currencies=eur",
            ),
        ];
        for (provider, want) in cases {
            assert_eq!(provider.url(provider.default_base_url(), "EUR"), want);
        }
        assert_eq!(
            Provider::Kraken.url("http://127.0.0.1:9000/", "USD"),
            "http://127.0.0.1:9000/0/public/Ticker?pair=XBTUSD"
        );
        assert!(!Provider::Bitstamp.supports("JPY"));
        assert!(Provider::Coingecko.supports("JPY"));
        assert_eq!("Kraken".parse::<Provider>(), Ok(Provider::Kraken));
        assert!("binance".parse::<Provider>().is_err());
    }
}
