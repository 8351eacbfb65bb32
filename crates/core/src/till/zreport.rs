//! The Z-report: what a shift (or a whole day) took at the till, by tender, with tips by
//! cashier, refunds, taxes by rate and the cash drawer's reckoning.
//!
//! What counts, and how (docs/api.md, "The till"):
//! - **Sales** are the till's: invoices made at the till from a cart (stamped with a shift) once
//!   paid, by how they were paid (`lightning` or `onchain`), and sales in `cash` or by `card`. A
//!   shift's report counts those stamped with it; a day's counts those paid (or taken) that day.
//! - **Amounts** are in the report's currency (the shift's; for a day, the merchant's), exact
//!   decimal: a sale counts with its order's total when its cart was priced in that currency, or
//!   its price when priced in it; a sale priced in sats has no amount in the currency and is
//!   counted apart (`sats_only`), never converted at some other rate. `sats` are what arrived
//!   (Lightning, on-chain) or the worth recorded at the sale (cash, card; 0 without a rate).
//! - **Tips** and **taxes** come from each sale's order as charged (a tip counts for the cashier
//!   who took the sale). Taxes are those of the sales; refunds are listed apart and not netted
//!   out of them.
//! - **Refunds**: of cash and card sales, as handed back; of Lightning sales, the refund
//!   payments that succeeded, at the amount in the currency recorded with each payment.
//! - **Cash**: expected = float + cash sales − cash refunds; difference = counted − expected
//!   (negative: short). A day's float, expected and counted add up its shifts'.

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::sales::Tender;
use super::StaffRef;
use crate::catalog::Order;
use crate::rates::record::fixed;

/// One tender's sales.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TenderLine {
    /// The tender.
    pub tender: Tender,
    /// How many sales.
    pub count: u64,
    /// Their sum in the report's currency (sales priced in sats left out).
    pub amount: String,
    /// Their sum in sats.
    pub sats: u64,
}

/// All tenders together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Total {
    /// How many.
    pub count: u64,
    /// Their sum in the report's currency.
    pub amount: String,
    /// Their sum in sats.
    pub sats: u64,
}

/// One cashier's tips.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TipLine {
    /// Who (null: the owner).
    pub cashier: Option<StaffRef>,
    /// Sales with a tip.
    pub count: u64,
    /// Their tips, in the report's currency.
    pub amount: String,
}

/// One tender's refunds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RefundLine {
    /// The tender handed back in.
    pub tender: Tender,
    /// How many refunds.
    pub count: u64,
    /// Their sum in the report's currency.
    pub amount: String,
}

/// One tax rate's part of the sales.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TaxSummary {
    /// The rate's name ("VAT").
    pub name: String,
    /// Percent, a decimal string.
    pub rate: String,
    /// Whether prices included it.
    pub inclusive: bool,
    /// What it was computed on.
    pub base: String,
    /// The tax.
    pub tax: String,
}

/// The cash drawer's reckoning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CashSummary {
    /// The float it was opened with.
    pub float: String,
    /// Cash sales (tips included).
    pub sales: String,
    /// Cash handed back.
    pub refunds: String,
    /// What should be in it: float + sales − refunds.
    pub expected: String,
    /// What was counted at close (null while open).
    pub counted: Option<String>,
    /// counted − expected (negative: short; null while open).
    pub difference: Option<String>,
}

/// A shift, in a day's report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ShiftLine {
    /// `shf_…`
    pub id: String,
    /// Who opened it (null: the owner).
    pub opened_by: Option<StaffRef>,
    /// When.
    pub opened_at: String,
    /// When it closed (null: open).
    pub closed_at: Option<String>,
    /// Its drawer.
    pub cash: CashSummary,
}

/// Sales priced in sats, which have no amount in the currency.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SatsOnly {
    /// How many.
    pub count: u64,
    /// Their sum in sats.
    pub sats: u64,
}

/// What a report covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// One shift.
    Shift,
    /// One day (the merchant's, from local midnight).
    Day,
}

/// A Z-report (see the module doc for what counts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ZReport {
    /// `shift` or `day`.
    pub scope: Scope,
    /// The shift, for a shift's report.
    pub shift_id: Option<String>,
    /// The day (YYYY-MM-DD), for a day's report.
    pub date: Option<String>,
    /// The currency of every amount.
    pub currency: String,
    /// From (RFC 3339).
    pub from: String,
    /// To (RFC 3339).
    pub to: String,
    /// Sales by tender, in the order lightning, onchain, cash, card (only tenders used).
    pub sales: Vec<TenderLine>,
    /// All sales.
    pub sales_total: Total,
    /// Tips by cashier.
    pub tips: Vec<TipLine>,
    /// All tips.
    pub tips_total: String,
    /// Refunds by tender.
    pub refunds: Vec<RefundLine>,
    /// All refunds.
    pub refunds_total: String,
    /// Taxes by rate.
    pub taxes: Vec<TaxSummary>,
    /// The drawer (a day's: its shifts' added up; null for a day without a shift).
    pub cash: Option<CashSummary>,
    /// A day's shifts.
    pub shifts: Vec<ShiftLine>,
    /// Sales priced in sats.
    pub sats_only: SatsOnly,
    /// When it was made (RFC 3339).
    pub generated_at: String,
}

/// A sale, as the report reads it.
#[derive(Debug, Clone)]
pub(crate) struct SaleFact {
    pub tender: Tender,
    /// Its order, if it was a cart.
    pub order: Option<Order>,
    /// Its amount in the report's currency, if it has one in it.
    pub amount: Option<Decimal>,
    pub sats: u64,
    pub staff_id: Option<String>,
}

/// A refund, as the report reads it.
#[derive(Debug, Clone)]
pub(crate) struct RefundFact {
    pub tender: Tender,
    pub amount: Option<Decimal>,
}

/// A drawer's figures before the count.
#[derive(Debug, Clone, Default)]
pub(crate) struct Drawer {
    pub float: Decimal,
    pub counted: Option<Decimal>,
}

const TENDERS: [Tender; 4] = [
    Tender::Lightning,
    Tender::Onchain,
    Tender::Cash,
    Tender::Card,
];

/// The drawer's reckoning of `drawer` with the cash `sales` and `refunds`.
pub(crate) fn cash_summary(
    drawer: &Drawer,
    sales: Decimal,
    refunds: Decimal,
    currency: &str,
) -> CashSummary {
    let expected = drawer.float + sales - refunds;
    CashSummary {
        float: fixed(drawer.float, currency),
        sales: fixed(sales, currency),
        refunds: fixed(refunds, currency),
        expected: fixed(expected, currency),
        counted: drawer.counted.map(|c| fixed(c, currency)),
        difference: drawer.counted.map(|c| fixed(c - expected, currency)),
    }
}

/// The cash in and out among `sales` and `refunds`.
pub(crate) fn cash_flows(sales: &[SaleFact], refunds: &[RefundFact]) -> (Decimal, Decimal) {
    let cash_in = sales
        .iter()
        .filter(|s| s.tender == Tender::Cash)
        .filter_map(|s| s.amount)
        .sum();
    let cash_out = refunds
        .iter()
        .filter(|r| r.tender == Tender::Cash)
        .filter_map(|r| r.amount)
        .sum();
    (cash_in, cash_out)
}

/// The parts of a report computed from its sales and refunds; the caller fills in scope, times
/// and the drawer.
pub(crate) struct Figures {
    pub sales: Vec<TenderLine>,
    pub sales_total: Total,
    pub tips: Vec<TipLine>,
    pub tips_total: String,
    pub refunds: Vec<RefundLine>,
    pub refunds_total: String,
    pub taxes: Vec<TaxSummary>,
    pub sats_only: SatsOnly,
}

/// Adds up `sales` and `refunds` in `currency` (see the module doc).
pub(crate) fn figures(
    currency: &str,
    sales: &[SaleFact],
    refunds: &[RefundFact],
    names: &HashMap<String, String>,
) -> Figures {
    let mut by_tender: BTreeMap<Tender, (u64, Decimal, u64)> = BTreeMap::new();
    let mut tips: BTreeMap<Option<String>, (u64, Decimal)> = BTreeMap::new();
    let mut taxes: Vec<(String, TaxSummary, Decimal, Decimal)> = Vec::new();
    let mut sats_only = SatsOnly::default();
    for sale in sales {
        let entry = by_tender.entry(sale.tender).or_default();
        entry.0 += 1;
        entry.2 += sale.sats;
        let Some(amount) = sale.amount else {
            sats_only.count += 1;
            sats_only.sats += sale.sats;
            continue;
        };
        entry.1 += amount;
        let Some(order) = sale
            .order
            .as_ref()
            .filter(|o| o.currency.as_deref() == Some(currency))
        else {
            continue;
        };
        let tip: Decimal = order.tip.parse().unwrap_or_default();
        if !tip.is_zero() {
            let t = tips.entry(sale.staff_id.clone()).or_default();
            t.0 += 1;
            t.1 += tip;
        }
        for line in &order.taxes {
            let base: Decimal = line.base.parse().unwrap_or_default();
            let tax: Decimal = line.amount.parse().unwrap_or_default();
            match taxes.iter_mut().find(|(id, ..)| *id == line.rate.id) {
                Some((_, _, b, t)) => {
                    *b += base;
                    *t += tax;
                }
                None => taxes.push((
                    line.rate.id.clone(),
                    TaxSummary {
                        name: line.rate.name.clone(),
                        rate: line.rate.rate.clone(),
                        inclusive: line.rate.inclusive,
                        base: String::new(),
                        tax: String::new(),
                    },
                    base,
                    tax,
                )),
            }
        }
    }
    let mut refunds_by: BTreeMap<Tender, (u64, Decimal)> = BTreeMap::new();
    for refund in refunds {
        let r = refunds_by.entry(refund.tender).or_default();
        r.0 += 1;
        r.1 += refund.amount.unwrap_or_default();
    }
    let sales_lines: Vec<TenderLine> = TENDERS
        .iter()
        .filter_map(|t| by_tender.get(t).map(|v| (*t, v)))
        .map(|(tender, (count, amount, sats))| TenderLine {
            tender,
            count: *count,
            amount: fixed(*amount, currency),
            sats: *sats,
        })
        .collect();
    let sales_total = Total {
        count: by_tender.values().map(|v| v.0).sum(),
        amount: fixed(by_tender.values().map(|v| v.1).sum(), currency),
        sats: by_tender.values().map(|v| v.2).sum(),
    };
    let tips_total = fixed(tips.values().map(|v| v.1).sum(), currency);
    let tips = tips
        .into_iter()
        .map(|(staff, (count, amount))| TipLine {
            cashier: super::staff::person(names, staff.as_deref()),
            count,
            amount: fixed(amount, currency),
        })
        .collect();
    let refunds_total = fixed(refunds_by.values().map(|v| v.1).sum(), currency);
    let refunds = TENDERS
        .iter()
        .filter_map(|t| refunds_by.get(t).map(|v| (*t, v)))
        .map(|(tender, (count, amount))| RefundLine {
            tender,
            count: *count,
            amount: fixed(*amount, currency),
        })
        .collect();
    let taxes = taxes
        .into_iter()
        .map(|(_, mut summary, base, tax)| {
            summary.base = fixed(base, currency);
            summary.tax = fixed(tax, currency);
            summary
        })
        .collect();
    Figures {
        sales: sales_lines,
        sales_total,
        tips,
        tips_total,
        refunds,
        refunds_total,
        taxes,
        sats_only,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::order::{compute, PricedLine, TipAsked};
    use crate::catalog::TaxRate;

    fn rate(id: &str, name: &str, percent: &str, inclusive: bool) -> TaxRate {
        TaxRate {
            id: id.into(),
            name: name.into(),
            rate: percent.into(),
            inclusive,
        }
    }

    fn line(name: &str, price: &str, quantity: u32, tax: &TaxRate) -> PricedLine {
        PricedLine {
            item_id: None,
            name: name.into(),
            quantity,
            unit_price: price.parse().expect("price"),
            note: None,
            tax: Some((tax.clone(), tax.rate.parse().expect("rate"))),
        }
    }

    fn fact(tender: Tender, order: Order, staff: Option<&str>) -> SaleFact {
        SaleFact {
            tender,
            amount: Some(order.total_decimal()),
            sats: 1_000,
            staff_id: staff.map(str::to_string),
            order: Some(order),
        }
    }

    /// Sales of every tender add up by tender, tips by who took them, taxes by rate over every
    /// sale; a sale priced in sats is counted apart; the drawer's reckoning is float + cash in −
    /// cash out.
    #[test]
    fn figures_add_up_by_tender_cashier_and_rate() -> crate::error::Result<()> {
        let vat = rate("tax_vat", "VAT", "10", true);
        let levy = rate("tax_levy", "Levy", "5", false);
        let pct = |p: &str| TipAsked::Percent(p.parse().expect("percent"));
        // 2 × 3.50 incl. VAT, tip 10 %: 7.00 + 0.70 = 7.70, VAT 0.64.
        let a = compute(
            Some("EUR"),
            vec![line("Coffee", "3.50", 2, &vat)],
            pct("10"),
        )?;
        // 6.00 + levy 0.30 = 6.30, no tip.
        let b = compute(
            Some("EUR"),
            vec![line("Wine", "6.00", 1, &levy)],
            TipAsked::None,
        )?;
        // 2.80 incl. VAT (0.25), tip 1.00: 3.80.
        let c = compute(
            Some("EUR"),
            vec![line("Croissant", "2.80", 1, &vat)],
            TipAsked::Amount("1.00".parse().expect("tip")),
        )?;
        let sats_only = compute(None, vec![line("Sticker", "500", 1, &vat)], TipAsked::None)?;
        let sales = vec![
            fact(Tender::Cash, a, Some("stf_a")),
            fact(Tender::Card, b, Some("stf_b")),
            fact(Tender::Lightning, c, None),
            SaleFact {
                tender: Tender::Lightning,
                amount: None,
                sats: 500,
                staff_id: None,
                order: Some(sats_only),
            },
        ];
        let refunds = vec![RefundFact {
            tender: Tender::Cash,
            amount: Some("2.00".parse().expect("refund")),
        }];
        let names: HashMap<String, String> = [("stf_a", "Alice"), ("stf_b", "Bob")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let f = figures("EUR", &sales, &refunds, &names);
        let by = |t: Tender| f.sales.iter().find(|l| l.tender == t).cloned();
        assert_eq!(
            by(Tender::Cash).map(|l| (l.count, l.amount)),
            Some((1, "7.70".into()))
        );
        assert_eq!(by(Tender::Card).map(|l| l.amount), Some("6.30".into()));
        assert_eq!(
            by(Tender::Lightning).map(|l| (l.count, l.amount, l.sats)),
            Some((2, "3.80".into(), 1_500))
        );
        assert_eq!(f.sales_total.amount, "17.80");
        assert_eq!(
            f.sats_only,
            SatsOnly {
                count: 1,
                sats: 500
            }
        );
        assert_eq!(f.tips_total, "1.70");
        let tip_of = |who: Option<&str>| {
            f.tips
                .iter()
                .find(|t| t.cashier.as_ref().map(|c| c.name.as_str()) == who)
                .map(|t| t.amount.clone())
        };
        assert_eq!(tip_of(Some("Alice")), Some("0.70".into()));
        assert_eq!(tip_of(None), Some("1.00".into()));
        assert_eq!(tip_of(Some("Bob")), None);
        let tax = |name: &str| {
            f.taxes
                .iter()
                .find(|t| t.name == name)
                .map(|t| (t.base.clone(), t.tax.clone()))
        };
        assert_eq!(tax("VAT"), Some(("8.91".into(), "0.89".into())));
        assert_eq!(tax("Levy"), Some(("6.00".into(), "0.30".into())));
        assert_eq!(f.refunds_total, "2.00");
        let (cash_in, cash_out) = cash_flows(&sales, &refunds);
        let drawer = Drawer {
            float: "100.00".parse().expect("float"),
            counted: Some("105.20".parse().expect("counted")),
        };
        let cash = cash_summary(&drawer, cash_in, cash_out, "EUR");
        assert_eq!(cash.expected, "105.70");
        assert_eq!(cash.difference.as_deref(), Some("-0.50"));
        Ok(())
    }
}
