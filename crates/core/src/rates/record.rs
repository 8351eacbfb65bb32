//! The rate an invoice or a payment was made at, as kept with it, and the value of its sats in
//! the merchant's currency at that rate. An amount priced in a currency keeps its price as
//! asked; anything else is valued at the recorded rate, rounded half up to the currency's
//! decimals (1.005 → 1.01), so the books show what the money was worth when it moved.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

use super::{minor_units, Rate};
use crate::util::rfc3339;

/// Millisatoshis in one bitcoin.
const MSAT_PER_BTC: i64 = 100_000_000_000;

/// A rate as recorded with an invoice or a payment.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// ISO 4217 code.
    pub currency: String,
    /// Units of it per bitcoin.
    pub rate: Decimal,
    /// The providers the rate came from.
    pub sources: Vec<String>,
    /// When the rate was fetched (its oldest quote), unix ms.
    pub rate_at: i64,
    /// The price as asked, when the amount was set in this currency.
    pub price: Option<Decimal>,
}

impl Recorded {
    /// The record of `rate` in `currency`, with the price asked in it, if any.
    pub fn of(currency: &str, rate: &Rate, price: Option<Decimal>) -> Recorded {
        Recorded {
            currency: currency.to_string(),
            rate: rate.per_btc,
            sources: rate.sources.clone(),
            rate_at: rate.as_of,
            price,
        }
    }

    /// Rebuilds a record from its columns; `None` when no rate was recorded (or a column is
    /// damaged: a wrong figure is worse than none).
    pub(crate) fn from_columns(
        currency: Option<String>,
        rate: Option<String>,
        sources: Option<String>,
        rate_at: Option<i64>,
        price: Option<String>,
    ) -> Option<Recorded> {
        let rate: Decimal = rate?.parse().ok()?;
        Some(Recorded {
            currency: currency?,
            rate,
            sources: sources
                .unwrap_or_default()
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            rate_at: rate_at?,
            price: price.and_then(|p| p.parse().ok()),
        })
    }

    /// The sources as stored: comma-separated.
    pub(crate) fn sources_column(&self) -> String {
        self.sources.join(",")
    }

    /// The value of `msat` at this rate, rounded half up to the currency's decimals.
    pub fn value_of_msat(&self, msat: u64) -> Decimal {
        value_of_msat(msat, self.rate, &self.currency)
    }

    /// What the API shows, for an amount of `msat` (the price as asked when there is one) and a
    /// fee of `fee_msat`.
    pub fn view(&self, msat: Option<u64>, fee_msat: Option<u64>) -> FiatAmount {
        let amount = self.price.or_else(|| msat.map(|m| self.value_of_msat(m)));
        FiatAmount {
            amount: amount.map(|a| fixed(a, &self.currency)),
            fee: fee_msat.map(|f| fixed(self.value_of_msat(f), &self.currency)),
            currency: self.currency.clone(),
            priced_in_fiat: self.price.is_some(),
            rate: self.rate.normalize().to_string(),
            sources: self.sources.clone(),
            rate_at: rfc3339(self.rate_at),
        }
    }
}

/// The value of `msat` in `currency` at `per_btc`, rounded half up to its decimals.
pub fn value_of_msat(msat: u64, per_btc: Decimal, currency: &str) -> Decimal {
    let decimals = minor_units(currency).unwrap_or(2);
    (Decimal::from(msat) * per_btc / Decimal::from(MSAT_PER_BTC))
        .round_dp_with_strategy(decimals, RoundingStrategy::MidpointAwayFromZero)
}

/// `amount` written with exactly the currency's decimals ("3.50", "500").
pub fn fixed(amount: Decimal, currency: &str) -> String {
    let mut a = amount;
    a.rescale(minor_units(currency).unwrap_or(2));
    a.to_string()
}

/// An amount in the merchant's currency, with the rate it was valued at.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FiatAmount {
    /// The amount, as a decimal string with the currency's decimals ("3.50"): the price asked
    /// when it was set in this currency, otherwise the value of the sats at `rate`, rounded half
    /// up. Null for an any-amount invoice not paid yet.
    pub amount: Option<String>,
    /// The fee at the same rate, when there is one: the routing fee of a payment, or what an
    /// LSP kept of an invoice's payment.
    pub fee: Option<String>,
    /// ISO 4217 code.
    pub currency: String,
    /// Whether the amount was set in this currency (the sats follow from it) rather than in sats.
    pub priced_in_fiat: bool,
    /// Units of the currency per bitcoin, as a decimal string.
    pub rate: String,
    /// The providers the rate came from.
    pub sources: Vec<String>,
    /// When the rate was fetched.
    pub rate_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_half_up_to_the_currency() {
        let d = |s: &str| s.parse::<Decimal>().unwrap_or_default();
        // 5,124 sats at 68,300 EUR = 3.499692 → 3.50.
        assert_eq!(
            fixed(value_of_msat(5_124_000, d("68300"), "EUR"), "EUR"),
            "3.50"
        );
        // 1,000 sats at 60,000 USD = 0.60 exactly.
        assert_eq!(
            fixed(value_of_msat(1_000_000, d("60000"), "USD"), "USD"),
            "0.60"
        );
        // 0.005 goes up: 5 sats at 100,000 = 0.005 → 0.01.
        assert_eq!(
            fixed(value_of_msat(5_000, d("100000"), "USD"), "USD"),
            "0.01"
        );
        // Yen: 5,000 sats at 10,000,000 JPY = 500.
        assert_eq!(
            fixed(value_of_msat(5_000_000, d("10000000"), "JPY"), "JPY"),
            "500"
        );
        let rec = Recorded {
            currency: "EUR".into(),
            rate: d("68300.00"),
            sources: vec!["coinbase".into()],
            rate_at: 0,
            price: Some(d("3.5")),
        };
        let view = rec.view(Some(5_124_000), None);
        assert_eq!(view.amount.as_deref(), Some("3.50"));
        assert_eq!(view.rate, "68300");
        assert!(view.priced_in_fiat);
    }
}
