//! Reports, reached through [`Reports`] (`app.reports()`): a day's sales (the Overview and the
//! daily report), sales by day, and every transaction of a period as CSV ([`csv`]) for the
//! accountant.
//!
//! **Days are the merchant's.** A day runs from local midnight to the next, in the time zone of
//! the computer the app runs on (`TZ` when set), and times in reports are written in it too.
//!
//! **Sales** are paid invoices, counted when paid, with what arrived (after an LSP's fee for
//! opening a channel, which is counted apart). **In the merchant's currency** each sale counts
//! at the rate recorded when its invoice was made (the price as asked when it was priced in
//! that currency), never at today's rate; a sale recorded in sats only, or in another currency,
//! is left out of the currency totals and counted in `without_rate`, so no total mixes rates
//! it does not have. Averages are rounded half up (to the sat, to the currency's decimals).

pub mod csv;
pub mod journal;

use chrono::{DateTime, Duration, Local, NaiveDate, TimeZone, Timelike};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::invoices::{self, Invoice};
use crate::payments::{self, Payment};
use crate::rates::record::fixed;
use crate::rates::RateService;
use crate::store::Store;

/// The most days one request of sales by day may cover.
pub const MAX_DAYS: u32 = 366;

/// Counts and sums of sales.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Totals {
    /// How many.
    pub count: u64,
    /// Their sum in sats (of the msat sum, rounded down).
    pub sats: u64,
    /// Their exact sum in millisatoshis.
    pub msat: u64,
    /// Their sum in the merchant's currency (decimal string), of those with a rate in it.
    pub fiat: Option<String>,
    /// The average sale in sats (rounded half up); null with no sale.
    pub average_sats: Option<u64>,
    /// The average sale in the merchant's currency, of those with a rate in it.
    pub average_fiat: Option<String>,
    /// Sales left out of the currency totals: made in sats only, or in another currency.
    pub without_rate: u64,
}

/// One hour or one day of sales.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Bucket {
    /// `14` (the hour 14:00–15:00) or `2026-11-30`.
    pub label: String,
    /// When it starts (RFC 3339, in the merchant's time zone).
    pub start: String,
    /// Sales in it.
    pub count: u64,
    /// Their sum in sats.
    pub sats: u64,
    /// Their sum in the merchant's currency, of those with a rate in it.
    pub fiat: Option<String>,
}

/// What went out: payments sent that succeeded or may still.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Sent {
    /// How many.
    pub count: u64,
    /// Their sum in sats (rounded up from msat), fees apart.
    pub sats: u64,
    /// Routing fees paid, in sats (rounded up).
    pub fee_sats: u64,
    /// Their sum in the merchant's currency, of those with a rate in it.
    pub fiat: Option<String>,
    /// Their fees in the merchant's currency.
    pub fee_fiat: Option<String>,
}

/// One day of business.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DayReport {
    /// The day, `YYYY-MM-DD`, in the merchant's time zone.
    pub date: String,
    /// That time zone's offset from UTC at the day's start (`+01:00`).
    pub utc_offset: String,
    /// The merchant's currency (null: sats only).
    pub currency: Option<String>,
    /// The day's sales.
    pub sales: Totals,
    /// What LSPs kept of the day's sales for opening channels, in sats (rounded up).
    pub lsp_fee_sats: u64,
    /// The same in the merchant's currency.
    pub lsp_fee_fiat: Option<String>,
    /// Payments sent that day (refunds apart).
    pub sent: Sent,
    /// Refunds sent that day, for sales of any day.
    pub refunds: Sent,
    /// When the first sale was paid.
    pub first_sale_at: Option<String>,
    /// When the last sale was paid.
    pub last_sale_at: Option<String>,
    /// The day's sales hour by hour (24 hours, 0 to 23, by the local clock).
    pub by_hour: Vec<Bucket>,
    /// The parts of the day's sales made from a cart (net, tax per rate, tips), one entry per
    /// unit they were charged in (usually one: the merchant's currency).
    pub parts: Vec<Parts>,
}

/// The parts of sales charged in one unit, as recorded with each sale.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Parts {
    /// The unit: an ISO 4217 code, or null for sats.
    pub currency: Option<String>,
    /// How many sales.
    pub count: u64,
    /// Their totals without tax or tip.
    pub net: String,
    /// Their taxes.
    pub tax: String,
    /// Per tax rate: name, rate, whether included, base and tax.
    pub taxes: Vec<crate::catalog::order::TaxLine>,
    /// Their tips.
    pub tip: String,
    /// What the customers paid: net + tax + tip.
    pub total: String,
}

/// Adds up the parts of `sales` made from a cart, per unit, in the order units first appear.
fn parts_of(sales: &[(i64, Invoice)]) -> Vec<Parts> {
    use crate::catalog::order::TaxLine;
    struct Acc {
        currency: Option<String>,
        count: u64,
        net: Decimal,
        tax: Decimal,
        tip: Decimal,
        taxes: Vec<(TaxLine, Decimal, Decimal)>,
    }
    let num = |t: &str| t.parse::<Decimal>().unwrap_or_default();
    let mut units: Vec<Acc> = Vec::new();
    for order in sales.iter().filter_map(|(_, i)| i.order.as_ref()) {
        let acc = match units.iter().position(|u| u.currency == order.currency) {
            Some(n) => &mut units[n],
            None => {
                units.push(Acc {
                    currency: order.currency.clone(),
                    count: 0,
                    net: Decimal::ZERO,
                    tax: Decimal::ZERO,
                    tip: Decimal::ZERO,
                    taxes: Vec::new(),
                });
                let last = units.len() - 1;
                &mut units[last]
            }
        };
        acc.count += 1;
        acc.net += num(&order.net);
        acc.tax += num(&order.tax);
        acc.tip += num(&order.tip);
        for line in &order.taxes {
            match acc.taxes.iter_mut().find(|(t, _, _)| t.rate == line.rate) {
                Some((_, base, amount)) => {
                    *base += num(&line.base);
                    *amount += num(&line.amount);
                }
                None => acc
                    .taxes
                    .push((line.clone(), num(&line.base), num(&line.amount))),
            }
        }
    }
    units
        .into_iter()
        .map(|u| {
            let text = |d: Decimal| match u.currency.as_deref() {
                Some(c) => fixed(d, c),
                None => d.normalize().to_string(),
            };
            Parts {
                count: u.count,
                net: text(u.net),
                tax: text(u.tax),
                tip: text(u.tip),
                total: text(u.net + u.tax + u.tip),
                taxes: u
                    .taxes
                    .into_iter()
                    .map(|(t, base, amount)| crate::catalog::order::TaxLine {
                        rate: t.rate,
                        base: text(base),
                        amount: text(amount),
                    })
                    .collect(),
                currency: u.currency,
            }
        })
        .collect()
}

/// Sales day by day.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DaysReport {
    /// The merchant's currency (null: sats only).
    pub currency: Option<String>,
    /// All of them together.
    pub total: Totals,
    /// Oldest first, ending with the day asked for.
    pub days: Vec<Bucket>,
}

/// The first and last dates a report or a period may name. Beyond them chrono's own range is
/// near (its `%Y` reads signed years of six digits, and a day added to its last date panics),
/// and no sale of this app is dated there. The OpenAPI document states the same bounds.
pub const FIRST_DATE: &str = "1970-01-01";
/// See [`FIRST_DATE`].
pub const LAST_DATE: &str = "9999-12-31";

/// Reads `YYYY-MM-DD`: four digits of year, from [`FIRST_DATE`] to [`LAST_DATE`].
pub fn parse_date(text: &str, field: &'static str) -> Result<NaiveDate> {
    read_date(text).ok_or_else(|| {
        Error::invalid_query(
            field,
            format!(
                "'{text}' is not a date written as 2026-11-30 (from {FIRST_DATE} to {LAST_DATE})"
            ),
        )
    })
}

/// A date written exactly `YYYY-MM-DD` within the bounds, or `None`.
fn read_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    let first = NaiveDate::from_ymd_opt(1970, 1, 1)?;
    let last = NaiveDate::from_ymd_opt(9999, 12, 31)?;
    (shaped && (first..=last).contains(&date)).then_some(date)
}

/// Reads a bound of a period: a date (`2026-11-30`: its local start, or for the end of a
/// period its end, so `to` includes that day) or an RFC 3339 time. Unix ms.
pub fn parse_bound(text: &str, field: &'static str, end: bool) -> Result<i64> {
    let text = text.trim();
    // A time's date obeys the same bounds as a date's, and its separator is `T`.
    let time = || {
        text.get(..10)
            .and_then(read_date)
            .filter(|_| matches!(text.as_bytes().get(10), Some(b'T' | b't')))
            // chrono takes a leap second (:60), which the document's pattern does not.
            .filter(|_| text.get(17..19) != Some("60"))
            .and_then(|_| DateTime::parse_from_rfc3339(text).ok())
    };
    match (read_date(text), time()) {
        (Some(date), _) => {
            let date = if end { date + Duration::days(1) } else { date };
            Ok(day_start(&Local, date))
        }
        (None, Some(time)) => Ok(time.timestamp_millis()),
        (None, None) => Err(Error::invalid_query(
            field,
            format!(
                "'{text}' is not a date (2026-11-30, from {FIRST_DATE} to {LAST_DATE}) or a time (2026-11-30T14:00:00+01:00)"
            ),
        )),
    }
}

pub(crate) use crate::util::{day_start, local};

fn local_rfc3339<Tz: TimeZone>(tz: &Tz, ms: i64) -> String
where
    Tz::Offset: std::fmt::Display,
{
    local(tz, ms).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// Adds sales up, in `currency` where they have a rate in it.
#[derive(Default)]
struct Sum {
    count: u64,
    msat: u64,
    fiat: Decimal,
    with_rate: u64,
}

impl Sum {
    fn add(&mut self, invoice: &Invoice, currency: Option<&str>) {
        self.count += 1;
        self.msat += received_msat(invoice);
        if let Some(value) = fiat_of(invoice, currency) {
            self.fiat += value;
            self.with_rate += 1;
        }
    }

    fn fiat(&self, currency: Option<&str>) -> Option<String> {
        currency.map(|c| fixed(self.fiat, c))
    }

    fn totals(&self, currency: Option<&str>) -> Totals {
        let average_sats = (self.count > 0).then(|| {
            (Decimal::from(self.msat) / Decimal::from(1000 * self.count))
                .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
                .try_into()
                .unwrap_or(0u64)
        });
        let average_fiat = match currency {
            Some(c) if self.with_rate > 0 => {
                let decimals = crate::rates::minor_units(c).unwrap_or(2);
                let avg = (self.fiat / Decimal::from(self.with_rate))
                    .round_dp_with_strategy(decimals, RoundingStrategy::MidpointAwayFromZero);
                Some(fixed(avg, c))
            }
            _ => None,
        };
        Totals {
            count: self.count,
            sats: self.msat / 1000,
            msat: self.msat,
            fiat: self.fiat(currency),
            average_sats,
            average_fiat,
            without_rate: if currency.is_some() {
                self.count - self.with_rate
            } else {
                0
            },
        }
    }
}

/// What arrived for a paid invoice, in msat.
fn received_msat(invoice: &Invoice) -> u64 {
    invoice.amount_received_msat.unwrap_or_default()
}

/// An invoice's value in `currency`, if it was recorded in it.
fn fiat_of(invoice: &Invoice, currency: Option<&str>) -> Option<Decimal> {
    let fiat = invoice.fiat.as_ref()?;
    if Some(fiat.currency.as_str()) != currency {
        return None;
    }
    fiat.amount.as_deref()?.parse().ok()
}

/// A payment's value and fee in `currency`, if it was recorded in it.
fn payment_fiat(payment: &Payment, currency: Option<&str>) -> Option<(Decimal, Decimal)> {
    let fiat = payment.fiat.as_ref()?;
    if Some(fiat.currency.as_str()) != currency {
        return None;
    }
    let amount = fiat.amount.as_deref()?.parse().ok()?;
    let fee = fiat
        .fee
        .as_deref()
        .and_then(|f| f.parse().ok())
        .unwrap_or_default();
    Some((amount, fee))
}

/// Count, sats, fees and their value in `currency` of `payments`.
fn sent_totals<'p>(payments: impl Iterator<Item = &'p Payment>, currency: Option<&str>) -> Sent {
    let mut out = Sent::default();
    let (mut sent_msat, mut fee_msat) = (0u64, 0u64);
    let (mut sent_fiat, mut fee_fiat) = (Decimal::ZERO, Decimal::ZERO);
    for payment in payments {
        out.count += 1;
        sent_msat += payment.amount_msat;
        fee_msat += payment.fee_msat.unwrap_or(0);
        if let Some((amount, fee)) = payment_fiat(payment, currency) {
            sent_fiat += amount;
            fee_fiat += fee;
        }
    }
    out.sats = sent_msat.div_ceil(1000);
    out.fee_sats = fee_msat.div_ceil(1000);
    out.fiat = currency.map(|c| fixed(sent_fiat, c));
    out.fee_fiat = currency.map(|c| fixed(fee_fiat, c));
    out
}

/// The report of `date` in `tz` from its sales and payments.
pub(crate) fn day_report<Tz: TimeZone>(
    tz: &Tz,
    date: NaiveDate,
    currency: Option<&str>,
    sales: &[(i64, Invoice)],
    sent: &[(i64, Payment)],
) -> DayReport
where
    Tz::Offset: std::fmt::Display,
{
    let start = day_start(tz, date);
    let mut hours: Vec<Sum> = (0..24).map(|_| Sum::default()).collect();
    let mut all = Sum::default();
    let (mut lsp_msat, mut lsp_fiat) = (0u64, Decimal::ZERO);
    for (at, invoice) in sales {
        all.add(invoice, currency);
        let hour = local(tz, *at).hour() as usize;
        if let Some(h) = hours.get_mut(hour) {
            h.add(invoice, currency);
        }
        if let Some(lsp) = &invoice.lsp {
            lsp_msat += lsp.fee_msat.unwrap_or(0);
            if let Some(fee) = invoice
                .fiat
                .as_ref()
                .filter(|f| Some(f.currency.as_str()) == currency)
                .and_then(|f| f.fee.as_deref())
                .and_then(|f| f.parse::<Decimal>().ok())
            {
                lsp_fiat += fee;
            }
        }
    }
    let payments = || sent.iter().map(|(_, p)| p);
    let out = sent_totals(payments().filter(|p| p.refund_of.is_none()), currency);
    let refunds = sent_totals(payments().filter(|p| p.refund_of.is_some()), currency);
    let by_hour = hours
        .iter()
        .enumerate()
        .map(|(hour, sum)| {
            let naive = date.and_hms_opt(hour as u32, 0, 0).unwrap_or_default();
            let at = tz
                .from_local_datetime(&naive)
                .earliest()
                .map(|t| t.timestamp_millis())
                .unwrap_or(start + hour as i64 * 3_600_000);
            Bucket {
                label: format!("{hour:02}"),
                start: local_rfc3339(tz, at),
                count: sum.count,
                sats: sum.msat / 1000,
                fiat: sum.fiat(currency),
            }
        })
        .collect();
    DayReport {
        date: date.to_string(),
        utc_offset: local(tz, start).offset().to_string(),
        currency: currency.map(str::to_string),
        sales: all.totals(currency),
        lsp_fee_sats: lsp_msat.div_ceil(1000),
        lsp_fee_fiat: currency.map(|c| fixed(lsp_fiat, c)),
        sent: out,
        refunds,
        first_sale_at: sales.first().map(|(at, _)| local_rfc3339(tz, *at)),
        last_sale_at: sales.last().map(|(at, _)| local_rfc3339(tz, *at)),
        by_hour,
        parts: parts_of(sales),
    }
}

/// Sales by day for `days` days ending with `last`.
pub(crate) fn days_report<Tz: TimeZone>(
    tz: &Tz,
    last: NaiveDate,
    days: u32,
    currency: Option<&str>,
    sales: &[(i64, Invoice)],
) -> DaysReport
where
    Tz::Offset: std::fmt::Display,
{
    let first = last - Duration::days(i64::from(days.max(1)) - 1);
    let mut sums: Vec<Sum> = (0..days.max(1)).map(|_| Sum::default()).collect();
    let mut total = Sum::default();
    for (at, invoice) in sales {
        let day = local(tz, *at).date_naive();
        let index = (day - first).num_days();
        if let Some(sum) = usize::try_from(index).ok().and_then(|i| sums.get_mut(i)) {
            sum.add(invoice, currency);
            total.add(invoice, currency);
        }
    }
    let days = sums
        .iter()
        .enumerate()
        .map(|(i, sum)| {
            let date = first + Duration::days(i as i64);
            Bucket {
                label: date.to_string(),
                start: local_rfc3339(tz, day_start(tz, date)),
                count: sum.count,
                sats: sum.msat / 1000,
                fiat: sum.fiat(currency),
            }
        })
        .collect();
    DaysReport {
        currency: currency.map(str::to_string),
        total: total.totals(currency),
        days,
    }
}

/// Reports. Borrowed from [`crate::App`].
pub struct Reports<'a> {
    store: &'a Store,
    rates: &'a RateService,
}

impl<'a> Reports<'a> {
    pub(crate) fn new(store: &'a Store, rates: &'a RateService) -> Self {
        Reports { store, rates }
    }

    /// Today in the merchant's time zone.
    pub fn today() -> NaiveDate {
        Local::now().date_naive()
    }

    /// One day of business (today when `None`).
    pub async fn day(&self, date: Option<NaiveDate>) -> Result<DayReport> {
        let date = date.unwrap_or_else(Self::today);
        let (from, to) = (
            day_start(&Local, date),
            day_start(&Local, date + Duration::days(1)),
        );
        let sales = invoices::db::paid_between(self.store, from, to).await?;
        let sent = payments::db::live_between(self.store, from, to).await?;
        let currency = self.rates.merchant_currency();
        Ok(day_report(&Local, date, currency.as_deref(), &sales, &sent))
    }

    /// Sales by day, `days` days (1 to [`MAX_DAYS`]) ending with `last` (today when `None`).
    pub async fn days(&self, last: Option<NaiveDate>, days: u32) -> Result<DaysReport> {
        if !(1..=MAX_DAYS).contains(&days) {
            return Err(Error::invalid_query(
                "days",
                format!("days must be from 1 to {MAX_DAYS}; got {days}"),
            ));
        }
        let last = last.unwrap_or_else(Self::today);
        let first = last - Duration::days(i64::from(days) - 1);
        let (from, to) = (
            day_start(&Local, first),
            day_start(&Local, last + Duration::days(1)),
        );
        let sales = invoices::db::paid_between(self.store, from, to).await?;
        let currency = self.rates.merchant_currency();
        Ok(days_report(&Local, last, days, currency.as_deref(), &sales))
    }

    /// Every sale and payment sent with `from <= time < to` (unix ms) as CSV ([`csv`]).
    pub async fn transactions_csv(&self, from: i64, to: i64) -> Result<String> {
        let sales = invoices::db::paid_between(self.store, from, to).await?;
        let sent = payments::db::live_between(self.store, from, to).await?;
        let till = crate::till::books::load(self.store, from, to).await?;
        csv::transactions(&Local, &sales, &sent, &till)
    }

    /// Every sale, refund and payment sent with `from <= time < to` (unix ms) as an hledger
    /// journal ([`journal`]).
    pub async fn journal(&self, from: i64, to: i64) -> Result<String> {
        let sales = invoices::db::paid_between(self.store, from, to).await?;
        let sent = payments::db::live_between(self.store, from, to).await?;
        let till = crate::till::books::load(self.store, from, to).await?;
        let currency = self.rates.merchant_currency();
        Ok(journal::journal(
            &Local,
            currency.as_deref(),
            &sales,
            &sent,
            &till,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invoices::db::{insert, mark_paid, NewInvoiceRow};
    use crate::invoices::CreateInvoice;
    use crate::rates::{Rate, Recorded};
    use crate::store::test_support::temp_store;
    use chrono::FixedOffset;

    /// Makes and pays an invoice of `sats` at `paid_at`, priced in EUR when `price` is given,
    /// recorded at 60,000 EUR/BTC when `rated`.
    async fn sale(
        store: &Store,
        n: u32,
        sats: u64,
        price: Option<&str>,
        rated: bool,
        description: &str,
        paid_at: i64,
    ) -> Result<()> {
        let valid = CreateInvoice {
            amount: Some(sats as i64),
            description: Some(description.into()),
            ..Default::default()
        }
        .validate()?;
        let rate = Rate {
            per_btc: "60000".parse().unwrap_or_default(),
            sources: vec!["coinbase".into(), "kraken".into()],
            as_of: paid_at - 1000,
        };
        let fiat = rated.then(|| Recorded::of("EUR", &rate, price.and_then(|p| p.parse().ok())));
        let hash = format!("{n:064x}");
        insert(
            store,
            NewInvoiceRow {
                id: &format!("inv_{n}"),
                payment_hash: &hash,
                payment_request: "lnbcrt…",
                valid: &valid,
                created_at: paid_at - 5000,
                key_id: None,
                warnings: &[],
                lsp: None,
                fiat: fiat.as_ref(),
                onchain_address: None,
                also: None,
            },
        )
        .await?;
        let mut tx = store.begin_write().await?;
        mark_paid(&mut tx, &hash, sats * 1000, None, paid_at).await?;
        tx.commit().await?;
        Ok(())
    }

    #[tokio::test]
    async fn a_day_adds_up_in_sats_and_at_each_recorded_rate() -> Result<()> {
        let (_dir, store) = temp_store().await;
        let tz = FixedOffset::east_opt(3600)
            .unwrap_or(FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!()));
        let date = parse_date("2026-11-30", "date")?;
        let start = day_start(&tz, date);
        assert_eq!(
            start, 1_795_993_200_000,
            "local midnight at UTC+1 is 23:00 UTC the day before"
        );
        let hour = 3_600_000;
        // 09:10 a coffee priced 3.50 EUR (5,833 sats); 09:40 a tea in sats at the recorded rate;
        // 14:05 a sale in sats-only mode; the day before and the day after do not count.
        sale(
            &store,
            1,
            5_833,
            Some("3.50"),
            true,
            "Coffee",
            start + 9 * hour + 600_000,
        )
        .await?;
        sale(
            &store,
            2,
            2_000,
            None,
            true,
            "=cmd|' /C calc'!A0",
            start + 9 * hour + 2_400_000,
        )
        .await?;
        sale(
            &store,
            3,
            10_000,
            None,
            false,
            "Cake, large",
            start + 14 * hour + 300_000,
        )
        .await?;
        sale(&store, 4, 1_000, None, true, "yesterday", start - 1).await?;
        sale(&store, 5, 1_000, None, true, "tomorrow", start + 24 * hour).await?;

        let sales = invoices::db::paid_between(&store, start, start + 24 * hour).await?;
        let report = day_report(&tz, date, Some("EUR"), &sales, &[]);
        assert_eq!(report.sales.count, 3);
        assert_eq!(report.sales.sats, 17_833);
        // 3.50 as priced + 2,000 sats at 60,000 = 1.20; the sats-only sale has no rate.
        assert_eq!(report.sales.fiat.as_deref(), Some("4.70"));
        assert_eq!(report.sales.without_rate, 1);
        assert_eq!(
            report.sales.average_sats,
            Some(5_944),
            "17,833 / 3 = 5,944.33"
        );
        assert_eq!(report.sales.average_fiat.as_deref(), Some("2.35"));
        assert_eq!(report.by_hour.len(), 24);
        assert_eq!(report.by_hour[9].count, 2);
        assert_eq!(report.by_hour[9].fiat.as_deref(), Some("4.70"));
        assert_eq!(report.by_hour[14].sats, 10_000);
        assert_eq!(report.by_hour[14].start, "2026-11-30T14:00:00+01:00");
        assert_eq!(
            report.first_sale_at.as_deref(),
            Some("2026-11-30T09:10:00+01:00")
        );
        assert_eq!(
            report.last_sale_at.as_deref(),
            Some("2026-11-30T14:05:00+01:00")
        );
        assert_eq!(report.utc_offset, "+01:00");

        // By day: the day before, the day, and nothing after.
        let all = invoices::db::paid_between(&store, start - 24 * hour, start + 24 * hour).await?;
        let days = days_report(&tz, date, 2, Some("EUR"), &all);
        assert_eq!(days.days.len(), 2);
        assert_eq!(
            (days.days[0].label.as_str(), days.days[0].count),
            ("2026-11-29", 1)
        );
        assert_eq!(
            (days.days[1].label.as_str(), days.days[1].count),
            ("2026-11-30", 3)
        );
        assert_eq!(days.total.sats, 18_833);

        // Sats only: no currency totals at all.
        let sats_only = day_report(&tz, date, None, &sales, &[]);
        assert_eq!(sats_only.sales.fiat, None);
        assert_eq!(sats_only.sales.without_rate, 0);

        // The CSV: a header, one row per sale in time order, quoted where needed, formulas
        // neutralised, local and UTC times.
        let text = csv::transactions(&tz, &sales, &[], &Default::default())?;
        let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert_eq!(lines[0], csv::HEADER.join(","));
        assert!(lines[1].starts_with("2026-11-30 09:10:00,2026-11-30T08:10:00Z,received,paid,5833,5833000,,,3.50,,EUR,60000,coinbase kraken,"), "{}", lines[1]);
        assert!(lines[2].contains(",'=cmd|' /C calc'!A0,"), "{}", lines[2]);
        assert!(lines[3].contains(",,,,,\"Cake, large\","), "{}", lines[3]);
        Ok(())
    }

    /// Dates at chrono's edge (a sign and six digits of year) panicked when a day was added;
    /// they are refused naming the field, as are dates outside 1970 to 9999.
    #[test]
    fn far_dates_are_refused_not_panicked_on() {
        for text in [
            "+262142-12-31",
            "+262143-12-31",
            "-262143-01-01",
            "262142-12-31",
            "1969-12-31",
            "10000-01-01",
            "+2026-11-30",
            "2026-1-30",
            "2026-11-30T14:00:00",
            "+262142-12-31T00:00:00Z",
            "0001-01-01T00:00:00Z",
            "2026-11-30 14:00:00Z",
        ] {
            for end in [false, true] {
                let err = parse_bound(text, "to", end).err();
                assert_eq!(err.as_ref().and_then(Error::field), Some("to"), "{text}");
            }
            assert!(parse_date(text, "date").is_err(), "{text}");
        }
        assert!(parse_bound(LAST_DATE, "to", true).is_ok());
        assert!(parse_bound(FIRST_DATE, "from", false).is_ok());
        assert!(parse_date(LAST_DATE, "date").is_ok());
    }

    #[test]
    fn bounds_read_dates_and_times() {
        assert!(parse_bound("2026-11-30T14:00:00+01:00", "from", false)
            .is_ok_and(|ms| ms == 1_796_043_600_000));
        let err = parse_bound("yesterday", "from", false).err();
        assert_eq!(
            err.as_ref().map(Error::code),
            Some(crate::error::ErrorCode::InvalidQuery)
        );
        assert!(parse_date("30/11/2026", "date").is_err());
    }
}
