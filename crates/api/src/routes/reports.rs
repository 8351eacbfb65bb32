//! `/v1/reports`: a day's sales, sales by day, and the transactions CSV. Days and times are the
//! merchant's: the time zone of the computer the app runs on. Needs `lightning:read`.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use payaiml_core::keys::Permission;
use payaiml_core::reports::{parse_bound, parse_date, DayReport, DaysReport};

use super::ApiQuery;
use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::state::ApiState;

/// Query of a day's report.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DayQuery {
    /// The day, `YYYY-MM-DD` (default: today).
    #[param(
        pattern = "^((19[7-9][0-9]|[2-9][0-9]{3})-((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)|(19(7[26]|8[048]|9[26])|[2-9][0-9](0[48]|[2468][048]|[13579][26])|([2468][048]|[3579][26])00)-02-29)$",
        example = "2026-11-30"
    )]
    pub date: Option<String>,
}

/// Query of sales by day.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DaysQuery {
    /// The last day, `YYYY-MM-DD` (default: today).
    #[param(
        pattern = "^((19[7-9][0-9]|[2-9][0-9]{3})-((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)|(19(7[26]|8[048]|9[26])|[2-9][0-9](0[48]|[2468][048]|[13579][26])|([2468][048]|[3579][26])00)-02-29)$"
    )]
    pub to: Option<String>,
    /// How many days, 1 to 366 (default 30).
    #[param(minimum = 1, maximum = 366)]
    pub days: Option<u32>,
}

/// Query of the transactions report.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// From this day (`2026-11-01`, from its start) or time (RFC 3339); default: the beginning.
    #[param(
        pattern = "^((19[7-9][0-9]|[2-9][0-9]{3})-((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)|(19(7[26]|8[048]|9[26])|[2-9][0-9](0[48]|[2468][048]|[13579][26])|([2468][048]|[3579][26])00)-02-29)([Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]{1,9})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))?$"
    )]
    pub from: Option<String>,
    /// To this day (`2026-11-30`, to its end) or time (RFC 3339, excluded); default: now.
    #[param(
        pattern = "^((19[7-9][0-9]|[2-9][0-9]{3})-((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)|(19(7[26]|8[048]|9[26])|[2-9][0-9](0[48]|[2468][048]|[13579][26])|([2468][048]|[3579][26])00)-02-29)([Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]{1,9})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))?$"
    )]
    pub to: Option<String>,
}

/// `body` as a file to save, named `name`, never cached.
fn attachment(content_type: &'static str, name: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response()
}

impl PeriodQuery {
    /// The period in unix ms: from its start (default: the beginning) to its end (default: now).
    fn bounds(&self) -> ApiResult<(i64, i64)> {
        let from = self
            .from
            .as_deref()
            .map(|f| parse_bound(f, "from", false))
            .transpose()?
            .unwrap_or(0);
        let to = self
            .to
            .as_deref()
            .map(|t| parse_bound(t, "to", true))
            .transpose()?
            .unwrap_or(i64::MAX);
        Ok((from, to))
    }
}

/// One day of business: the day's sales (count, totals in sats and in the merchant's currency,
/// average), what LSPs kept, payments sent and their fees, the first and last sale, and sales
/// hour by hour.
#[utoipa::path(get, path = "/v1/reports/day", tag = "reports", params(DayQuery),
    responses((status = 200, body = DayReport), (status = "4XX", body = ErrorBody)))]
pub async fn day(
    State(state): State<ApiState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<DayQuery>,
) -> ApiResult<Json<DayReport>> {
    auth.require(Permission::LightningRead)?;
    let date = q
        .date
        .as_deref()
        .map(|d| parse_date(d, "date"))
        .transpose()?;
    Ok(Json(state.app.reports().day(date).await?))
}

/// Sales day by day (30 days ending today by default).
#[utoipa::path(get, path = "/v1/reports/days", tag = "reports", params(DaysQuery),
    responses((status = 200, body = DaysReport), (status = "4XX", body = ErrorBody)))]
pub async fn days(
    State(state): State<ApiState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<DaysQuery>,
) -> ApiResult<Json<DaysReport>> {
    auth.require(Permission::LightningRead)?;
    let to = q.to.as_deref().map(|d| parse_date(d, "to")).transpose()?;
    Ok(Json(
        state.app.reports().days(to, q.days.unwrap_or(30)).await?,
    ))
}

/// Every sale (paid invoice) and every payment sent that succeeded or is pending in a period,
/// oldest first, as CSV (RFC 4180, UTF-8, CRLF): time in the merchant's time zone and in UTC,
/// direction, status, sats, msat, fee, the value and fee in the merchant's currency at the rate
/// recorded then, the rate and its sources, description, external id, invoice id, payment id and
/// payment hash. Text a spreadsheet would run as a formula starts with `'`.
#[utoipa::path(get, path = "/v1/reports/transactions.csv", tag = "reports", params(PeriodQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = "4XX", body = ErrorBody)))]
pub async fn transactions_csv(
    State(state): State<ApiState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> ApiResult<Response> {
    auth.require(Permission::LightningRead)?;
    let (from, to) = q.bounds()?;
    let csv = state.app.reports().transactions_csv(from, to).await?;
    let name = format!(
        "payaiml-transactions-{}.csv",
        payaiml_core::reports::Reports::today()
    );
    Ok(attachment("text/csv; charset=utf-8", &name, csv))
}

/// The period's books as a plain-text accounting journal in hledger's format (Ledger reads it
/// too): every sale (any tender), refund and payment sent, each a balanced transaction, with
/// sats at the cost of their price, taxes per rate, tips, and the tender, cashier and shift as
/// tags. Check or total it with `hledger -f payaiml.journal balance`. Needs `lightning:read`.
#[utoipa::path(get, path = "/v1/reports/journal", tag = "reports", params(PeriodQuery),
    responses((status = 200, content_type = "text/plain", body = String), (status = "4XX", body = ErrorBody)))]
pub async fn journal(
    State(state): State<ApiState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> ApiResult<Response> {
    auth.require(Permission::LightningRead)?;
    let (from, to) = q.bounds()?;
    let text = state.app.reports().journal(from, to).await?;
    let name = format!(
        "payaiml-{}.journal",
        payaiml_core::reports::Reports::today()
    );
    Ok(attachment("text/plain; charset=utf-8", &name, text))
}
