//! What a cart comes to: its lines, the taxes, the tip and the total, computed once when the
//! sale is charged and recorded with its invoice, so a receipt printed a year later shows what
//! the customer was charged, whatever the catalog says by then.
//!
//! All arithmetic is exact decimal (`rust_decimal`), in the sale's unit: a currency (with its
//! minor units: 2 decimals, yen 0) or whole sats. The rounding rules:
//! - A line is `unit price × quantity`: exact (a price has at most the unit's decimals).
//! - Tax is computed **per tax rate over the sum of its lines**, not line by line, and rounded
//!   **half up** (away from zero) to the unit's decimals:
//!   - exclusive (added on top): `tax = round(base × rate ÷ 100)`;
//!   - inclusive (in the price): `tax = round(gross × rate ÷ (100 + rate))`, `base = gross − tax`.
//! - A tip in percent is `round((net + tax) × percent ÷ 100)`, half up; a tip is never taxed.
//! - `total = net + tax + tip`: what the customer pays. In a currency, that total is the
//!   invoice's price, converted to sats as any price is (half up to the sat).

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorCode, Result};
use crate::rates::record::fixed;
use crate::rates::{minor_units, CURRENCIES};

/// The most lines a cart may have.
pub const MAX_LINES: usize = 100;
/// The most of one line.
pub const MAX_QUANTITY: u32 = 9_999;
/// The longest line note, in bytes.
pub const MAX_NOTE_BYTES: usize = 200;
/// The largest tip in percent.
pub const MAX_TIP_PERCENT: u32 = 100;

/// A cart to charge, as a request gives it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Cart {
    /// The unit every line's price is in: an ISO 4217 code, or null (or omitted) for sats.
    #[schema(schema_with = crate::rates::nullable_currency_schema)]
    pub currency: Option<String>,
    /// The lines, 1 to 100.
    #[schema(min_items = 1, max_items = 100)]
    pub lines: Vec<CartLine>,
    /// A tip, in percent or as an amount; omitted for none.
    pub tip: Option<Tip>,
}

/// One line of a cart: a catalog item, or a custom amount.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CartLine {
    /// A catalog item (`itm_…`): its name, price and tax come from the catalog.
    pub item_id: Option<String>,
    /// For a custom line: what it is (default "Custom amount").
    pub name: Option<String>,
    /// For a custom line: the unit price, a decimal string in the cart's unit ("2.00"; sats:
    /// "1500").
    #[serde(default, deserialize_with = "optional_decimal")]
    #[schema(pattern = "^[0-9]{1,15}([.][0-9]{1,2})?$", nullable = false)]
    pub unit_price: Option<String>,
    /// How many, 1 to 9,999 (default 1).
    #[schema(minimum = 1, maximum = 9999)]
    pub quantity: Option<u32>,
    /// A note for this line ("oat milk"), up to 200 bytes.
    pub note: Option<String>,
    /// For a custom line: `default` (the shop's default tax, the default), `none`, or a tax id.
    pub tax: Option<String>,
}

/// [`crate::rates::decimal_string`] for an optional field.
pub(crate) fn optional_decimal<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<String>, D::Error> {
    crate::rates::decimal_string(d).map(Some)
}

/// A tip: a percentage of the amount due, or an amount in the cart's unit.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Tip {
    /// Percent of the amount due after tax, a decimal string ("10", "12.5"), 0 to 100.
    #[serde(default, deserialize_with = "optional_decimal")]
    #[schema(
        pattern = "^(100([.]0{1,3})?|[0-9]{1,2}([.][0-9]{1,3})?)$",
        nullable = false
    )]
    pub percent: Option<String>,
    /// An amount in the cart's unit, a decimal string ("1.00").
    #[serde(default, deserialize_with = "optional_decimal")]
    #[schema(pattern = "^[0-9]{1,15}([.][0-9]{1,2})?$", nullable = false)]
    pub amount: Option<String>,
}

/// A tax rate as recorded with a sale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TaxRate {
    /// `tax_…`
    pub id: String,
    /// Its name on receipts ("VAT").
    pub name: String,
    /// Percent, a decimal string ("8.1").
    pub rate: String,
    /// Whether prices include it (true) or it is added on top (false).
    pub inclusive: bool,
}

/// One line of a recorded sale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OrderLine {
    /// The catalog item it was (null for a custom amount).
    pub item_id: Option<String>,
    /// Its name as sold.
    pub name: String,
    /// How many.
    pub quantity: u32,
    /// The unit price as sold, in the sale's unit.
    pub unit_price: String,
    /// `unit_price × quantity`.
    pub amount: String,
    /// The line's note.
    pub note: Option<String>,
    /// The tax it was sold under (null: none).
    pub tax_id: Option<String>,
}

/// One tax rate's part of a sale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TaxLine {
    /// The rate as it was.
    #[serde(flatten)]
    pub rate: TaxRate,
    /// What it was computed on: the lines' sum without the tax.
    pub base: String,
    /// The tax.
    pub amount: String,
}

/// A sale as recorded with its invoice: every part, in the sale's unit, as decimal strings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Order {
    /// The unit: an ISO 4217 code, or null for sats.
    pub currency: Option<String>,
    /// The lines.
    pub lines: Vec<OrderLine>,
    /// The sum of the lines as priced (taxes included where prices include them).
    pub subtotal: String,
    /// Per tax rate: base and tax.
    pub taxes: Vec<TaxLine>,
    /// The total without tax or tip.
    pub net: String,
    /// All taxes.
    pub tax: String,
    /// The tip.
    pub tip: String,
    /// The tip's percentage, when it was given as one.
    pub tip_percent: Option<String>,
    /// What the customer pays: net + tax + tip.
    pub total: String,
}

/// A priced line, before the taxes are summed.
#[derive(Debug, Clone)]
pub struct PricedLine {
    /// The item, if any.
    pub item_id: Option<String>,
    /// The name.
    pub name: String,
    /// How many.
    pub quantity: u32,
    /// The unit price.
    pub unit_price: Decimal,
    /// The note.
    pub note: Option<String>,
    /// The tax rate it falls under, if any.
    pub tax: Option<(TaxRate, Decimal)>,
}

/// The tip asked for, read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TipAsked {
    /// None.
    None,
    /// A percentage of the amount due.
    Percent(Decimal),
    /// An amount.
    Amount(Decimal),
}

/// The decimals of a unit (`None`: sats, 0).
pub fn unit_decimals(currency: Option<&str>) -> u32 {
    currency.and_then(minor_units).unwrap_or(0)
}

/// Reads a non-negative amount in `currency` (sats when `None`) with at most its decimals.
pub fn parse_unit_amount(
    text: &str,
    currency: Option<&str>,
    field: &'static str,
    allow_zero: bool,
) -> Result<Decimal> {
    let decimals = unit_decimals(currency);
    let unit = currency.unwrap_or("sats");
    let value = crate::rates::plain_decimal(text)
        .then(|| text.parse::<Decimal>().ok())
        .flatten()
        .filter(|v| *v > Decimal::ZERO || (allow_zero && v.is_zero()))
        .ok_or_else(|| {
            Error::invalid(
                field,
                format!(
                    "'{text}' is not {} amount written like {}, with at most {} digits before the point",
                    if allow_zero { "an" } else { "a positive" },
                    if decimals == 0 { "1500" } else { "3.50" },
                    crate::rates::MAX_WHOLE_DIGITS,
                ),
            )
        })?;
    if value.scale() > decimals {
        return Err(Error::invalid(
            field,
            if decimals == 0 {
                format!("{unit} amounts have no decimals; got '{text}'")
            } else {
                format!("{unit} amounts have at most {decimals} decimals; got '{text}'")
            },
        ));
    }
    Ok(value)
}

/// Reads a tax or tip percentage: a decimal string from 0 to `max`, at most 3 decimals.
pub fn parse_percent(text: &str, field: &'static str, max: u32) -> Result<Decimal> {
    let value = text
        .parse::<Decimal>()
        .ok()
        .filter(|v| {
            !text.starts_with(['+', '-', '.'])
                && !text.contains(['e', 'E'])
                && *v >= Decimal::ZERO
                && *v <= Decimal::from(max)
                && v.scale() <= 3
        })
        .ok_or_else(|| {
            Error::invalid(
                field,
                format!("'{text}' is not a percentage from 0 to {max} (such as \"8.1\")"),
            )
        })?;
    Ok(value.normalize())
}

/// Reads the tip of a cart.
pub fn read_tip(tip: Option<&Tip>, currency: Option<&str>) -> Result<TipAsked> {
    match tip {
        None => Ok(TipAsked::None),
        Some(Tip {
            percent: Some(_),
            amount: Some(_),
        }) => Err(Error::invalid(
            "cart.tip",
            "give the tip either in percent or as an amount, not both",
        )),
        Some(Tip {
            percent: Some(p), ..
        }) => Ok(TipAsked::Percent(parse_percent(
            p,
            "cart.tip.percent",
            MAX_TIP_PERCENT,
        )?)),
        Some(Tip {
            amount: Some(a), ..
        }) => Ok(TipAsked::Amount(parse_unit_amount(
            a,
            currency,
            "cart.tip.amount",
            true,
        )?)),
        Some(Tip { .. }) => Ok(TipAsked::None),
    }
}

fn round(value: Decimal, decimals: u32) -> Decimal {
    value.round_dp_with_strategy(decimals, RoundingStrategy::MidpointAwayFromZero)
}

/// The whole sale: lines, taxes per rate, tip and total, by the rules at the top of this file.
pub fn compute(currency: Option<&str>, lines: Vec<PricedLine>, tip: TipAsked) -> Result<Order> {
    if let Some(c) = currency {
        if !CURRENCIES.contains(&c) {
            return Err(Error::invalid(
                "cart.currency",
                format!("'{c}' is not a supported currency"),
            ));
        }
    }
    let decimals = unit_decimals(currency);
    let text = |d: Decimal| match currency {
        Some(c) => fixed(d, c),
        None => round(d, 0).normalize().to_string(),
    };
    let too_large = || {
        Error::unprocessable(
            ErrorCode::InvalidAmount,
            Some("cart"),
            "this cart's total is larger than any payment can be",
        )
    };
    // Taxes by rate, in the order they first appear.
    let mut groups: Vec<(Option<(TaxRate, Decimal)>, Decimal)> = Vec::new();
    let mut subtotal = Decimal::ZERO;
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        let amount = line
            .unit_price
            .checked_mul(Decimal::from(line.quantity))
            .ok_or_else(too_large)?;
        subtotal = subtotal.checked_add(amount).ok_or_else(too_large)?;
        let key = line.tax.as_ref().map(|(t, _)| t.id.clone());
        match groups
            .iter_mut()
            .find(|(t, _)| t.as_ref().map(|(t, _)| t.id.clone()) == key)
        {
            Some((_, sum)) => *sum = sum.checked_add(amount).ok_or_else(too_large)?,
            None => groups.push((line.tax.clone(), amount)),
        }
        out.push(OrderLine {
            item_id: line.item_id,
            name: line.name,
            quantity: line.quantity,
            unit_price: text(line.unit_price),
            amount: text(amount),
            note: line.note,
            tax_id: line.tax.map(|(t, _)| t.id),
        });
    }
    let hundred = Decimal::ONE_HUNDRED;
    let (mut net, mut tax) = (Decimal::ZERO, Decimal::ZERO);
    let mut taxes = Vec::new();
    for (rate, sum) in groups {
        let Some((rate, percent)) = rate else {
            net += sum;
            continue;
        };
        let (base, amount) = if rate.inclusive {
            let t = round(
                sum.checked_mul(percent).ok_or_else(too_large)? / (hundred + percent),
                decimals,
            );
            (sum - t, t)
        } else {
            (
                sum,
                round(
                    sum.checked_mul(percent).ok_or_else(too_large)? / hundred,
                    decimals,
                ),
            )
        };
        net = net.checked_add(base).ok_or_else(too_large)?;
        tax = tax.checked_add(amount).ok_or_else(too_large)?;
        taxes.push(TaxLine {
            rate,
            base: text(base),
            amount: text(amount),
        });
    }
    let due = net.checked_add(tax).ok_or_else(too_large)?;
    let (tip, tip_percent) = match tip {
        TipAsked::None => (Decimal::ZERO, None),
        TipAsked::Percent(p) => (
            round(
                due.checked_mul(p).ok_or_else(too_large)? / hundred,
                decimals,
            ),
            Some(p.normalize().to_string()),
        ),
        TipAsked::Amount(a) => (a, None),
    };
    let total = due.checked_add(tip).ok_or_else(too_large)?;
    if total <= Decimal::ZERO {
        return Err(Error::unprocessable(
            ErrorCode::InvalidAmount,
            Some("cart"),
            "this cart comes to nothing: add a line with a price",
        ));
    }
    Ok(Order {
        currency: currency.map(str::to_string),
        lines: out,
        subtotal: text(subtotal),
        taxes,
        net: text(net),
        tax: text(tax),
        tip: text(tip),
        tip_percent,
        total: text(total),
    })
}

impl Order {
    /// The total as a decimal.
    pub fn total_decimal(&self) -> Decimal {
        self.total.parse().unwrap_or_default()
    }

    /// A description for the invoice when none is given: "2× Flat white, Croissant", cut to
    /// what BOLT11 holds.
    pub fn describe(&self, max_bytes: usize) -> String {
        let mut text = String::new();
        for line in &self.lines {
            let part = match line.quantity {
                1 => line.name.clone(),
                n => format!("{n}× {}", line.name),
            };
            let sep = if text.is_empty() { "" } else { ", " };
            if text.len() + sep.len() + part.len() > max_bytes {
                let more = "…";
                while text.len() + more.len() > max_bytes {
                    text.pop();
                }
                text.push_str(more);
                break;
            }
            text.push_str(sep);
            text.push_str(&part);
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap_or_default()
    }

    fn rate(id: &str, percent: &str, inclusive: bool) -> Option<(TaxRate, Decimal)> {
        Some((
            TaxRate {
                id: id.into(),
                name: id.to_uppercase(),
                rate: percent.into(),
                inclusive,
            },
            d(percent),
        ))
    }

    fn line(name: &str, price: &str, qty: u32, tax: Option<(TaxRate, Decimal)>) -> PricedLine {
        PricedLine {
            item_id: None,
            name: name.into(),
            quantity: qty,
            unit_price: d(price),
            note: None,
            tax,
        }
    }

    #[test]
    fn inclusive_tax_is_taken_out_of_the_price() -> Result<()> {
        // Swiss VAT 8.1 % included: 2 × 4.50 = 9.00 gross; tax = 9.00 × 8.1 / 108.1 = 0.6743…
        // → 0.67; net 8.33.
        let o = compute(
            Some("CHF"),
            vec![line("Coffee", "4.50", 2, rate("vat", "8.1", true))],
            TipAsked::None,
        )?;
        assert_eq!(
            (
                o.subtotal.as_str(),
                o.net.as_str(),
                o.tax.as_str(),
                o.total.as_str()
            ),
            ("9.00", "8.33", "0.67", "9.00")
        );
        assert_eq!(o.taxes[0].base, "8.33");
        Ok(())
    }

    #[test]
    fn exclusive_tax_is_added_per_rate_not_per_line() -> Result<()> {
        // Three lines of 0.10 at 5 %: per line 0.005 → 0.01 each = 0.03; on the sum 0.30 →
        // 0.015 → 0.02. The sum's rule gives 0.02.
        let o = compute(
            Some("USD"),
            vec![
                line("A", "0.10", 1, rate("st", "5", false)),
                line("B", "0.10", 1, rate("st", "5", false)),
                line("C", "0.10", 1, rate("st", "5", false)),
            ],
            TipAsked::None,
        )?;
        assert_eq!(
            (o.net.as_str(), o.tax.as_str(), o.total.as_str()),
            ("0.30", "0.02", "0.32")
        );
        Ok(())
    }

    #[test]
    fn two_rates_no_tax_and_a_tip_add_up() -> Result<()> {
        // Food 2.5 % inclusive, drinks 7.7 % exclusive, a gift card untaxed; tip 10 % of what
        // is due after tax.
        let o = compute(
            Some("EUR"),
            vec![
                line("Sandwich", "6.00", 1, rate("food", "2.5", true)),
                line("Beer", "5.00", 2, rate("drinks", "7.7", false)),
                line("Gift card", "20.00", 1, None),
            ],
            TipAsked::Percent(d("10")),
        )?;
        // Sandwich: tax 6.00 × 2.5 / 102.5 = 0.1463… → 0.15, base 5.85.
        // Beer: 10.00 × 7.7 % = 0.77.
        // net 5.85 + 10.00 + 20.00 = 35.85; tax 0.92; due 36.77; tip 3.677 → 3.68.
        assert_eq!(o.subtotal, "36.00");
        assert_eq!(o.net, "35.85");
        assert_eq!(o.tax, "0.92");
        assert_eq!(o.tip, "3.68");
        assert_eq!(o.tip_percent.as_deref(), Some("10"));
        assert_eq!(o.total, "40.45");
        assert_eq!(o.taxes.len(), 2);
        Ok(())
    }

    #[test]
    fn sats_and_yen_have_no_decimals() -> Result<()> {
        // 1,000 sats at 7.7 % exclusive = 77; tip 12.5 % of 1,077 = 134.625 → 135.
        let o = compute(
            None,
            vec![line("Sticker", "1000", 1, rate("st", "7.7", false))],
            TipAsked::Percent(d("12.5")),
        )?;
        assert_eq!(
            (o.tax.as_str(), o.tip.as_str(), o.total.as_str()),
            ("77", "135", "1212")
        );
        let y = compute(
            Some("JPY"),
            vec![line("Onigiri", "150", 3, rate("jp", "8", true))],
            TipAsked::Amount(d("50")),
        )?;
        // 450 × 8 / 108 = 33.33 → 33.
        assert_eq!(
            (y.net.as_str(), y.tax.as_str(), y.total.as_str()),
            ("417", "33", "500")
        );
        Ok(())
    }

    /// The largest prices and quantities a cart may hold, with taxes and a tip, are computed
    /// without overflowing; an amount past 15 digits is refused where it is read.
    #[test]
    fn huge_carts_are_refused_not_panicked_on() {
        let big = "999999999999999";
        assert!(parse_unit_amount(big, Some("JPY"), "x", false).is_ok());
        assert!(parse_unit_amount("1000000000000000000000", Some("JPY"), "x", false).is_err());
        let lines = (0..MAX_LINES)
            .map(|i| {
                line(
                    &format!("L{i}"),
                    big,
                    MAX_QUANTITY,
                    rate("t", "100", i % 2 == 0),
                )
            })
            .collect();
        // 50 lines doubled by an exclusive 100 % tax and 50 with an inclusive one, then a
        // 100 % tip: (100 + 50) × 10^15 × 9,999 × 2, within rust_decimal's range but far past
        // 21 million BTC (which `rates::to_sats` refuses).
        let order = compute(Some("JPY"), lines, TipAsked::Percent(d("100")));
        let total = order.map(|o| d(&o.total)).unwrap_or_default();
        assert!(total > d("1000000000000000000000"), "{total}");
    }

    #[test]
    fn half_rounds_up() -> Result<()> {
        // 0.50 at 5 % exclusive = 0.025 → 0.03 (half up, not to even).
        let o = compute(
            Some("USD"),
            vec![line("A", "0.50", 1, rate("st", "5", false))],
            TipAsked::None,
        )?;
        assert_eq!(o.tax, "0.03");
        Ok(())
    }

    #[test]
    fn bad_amounts_and_tips_are_refused() {
        assert!(parse_unit_amount("3.505", Some("EUR"), "x", false).is_err());
        assert!(parse_unit_amount("10.5", None, "x", false).is_err());
        assert!(parse_unit_amount("0", Some("EUR"), "x", false).is_err());
        assert!(parse_unit_amount("0", Some("EUR"), "x", true).is_ok());
        assert!(parse_unit_amount("-1", Some("EUR"), "x", true).is_err());
        assert!(parse_unit_amount("1e3", None, "x", false).is_err());
        assert!(parse_percent("101", "p", 100).is_err());
        assert!(parse_percent("-1", "p", 100).is_err());
        assert!(parse_percent("8.1", "p", 100).is_ok());
        let both = Tip {
            percent: Some("10".into()),
            amount: Some("1.00".into()),
        };
        assert!(read_tip(Some(&both), Some("EUR")).is_err());
        assert!(compute(Some("EUR"), vec![], TipAsked::None).is_err());
    }

    #[test]
    fn the_description_names_the_lines_within_the_limit() -> Result<()> {
        let o = compute(
            Some("EUR"),
            vec![
                line("Flat white", "3.50", 2, None),
                line("Croissant", "2.00", 1, None),
            ],
            TipAsked::None,
        )?;
        assert_eq!(o.describe(639), "2× Flat white, Croissant");
        let cut = o.describe(20);
        assert!(cut.len() <= 20 && cut.ends_with('…'), "{cut}");
        Ok(())
    }
}
