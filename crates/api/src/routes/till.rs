//! The till: cashiers (`/v1/staff`, `/v1/cashier/sign-in`), shifts and Z-reports
//! (`/v1/shifts`, `/v1/reports/z`), sales in cash or by card (`/v1/sales`), and receipt printers
//! (`/v1/printers`, `/v1/print-jobs`).
//!
//! Who may do what:
//! - The owner (the dashboard's admin key) manages cashiers and printers.
//! - The till's keys (the admin key, and the locked counter's cashier key) open and close shifts,
//!   sign cashiers in, print, and read the open shift's figures.
//! - Sales in cash or by card are made with `lightning:receive` (a point of sale's key), and read
//!   with `lightning:read` (or, with `lightning:receive` only, the ones that key made).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use payaiml_core::keys::Permission;
use payaiml_core::reports::parse_date;
use payaiml_core::till::printing::{
    FoundPrinter, JobState, NewPrinter, PrintJob, PrinterChange, PrinterInfo,
};
use payaiml_core::till::sales::{NewSale, OtherTender, Sale, SaleRefund};
use payaiml_core::till::shifts::{CloseShift, OpenShift, Shift};
use payaiml_core::till::staff::{NewStaff, SignIn, Staff, StaffChange};
use payaiml_core::till::zreport::ZReport;
use payaiml_core::till::CounterStatus;
use payaiml_core::ErrorCode;

use super::cashier::owner_only;
use super::invoices::{printable, readable_by, ReceiptQuery};
use super::{idempotent, limit, ApiQuery, ListBody, PageBody};
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::ApiJson;
use crate::state::ApiState;

async fn till_only(state: &ApiState, auth: &Auth, what: &str) -> ApiResult<()> {
    if state.app.till().is_till_key(&auth.key.id).await? {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::AdminOnly,
            format!("only the till (the dashboard's own key, or the locked counter's) can {what}"),
        ))
    }
}

/// Query of a list.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the page before.
    #[param(pattern = "^([1-9][0-9]{0,17})?$")]
    pub cursor: Option<String>,
}

// ---- staff ----

/// The cashiers. The owner, and the locked counter (which shows their names to pick).
#[utoipa::path(get, path = "/v1/staff", tag = "till",
    responses((status = 200, body = ListBody<Staff>), (status = "4XX", body = ErrorBody)))]
pub async fn list_staff(
    State(state): State<ApiState>,
    auth: Auth,
) -> ApiResult<Json<ListBody<Staff>>> {
    till_only(&state, &auth, "list the cashiers").await?;
    Ok(Json(ListBody {
        data: state.app.till().staff().await?,
    }))
}

/// Add a cashier with their own PIN (4 to 12 digits, kept as an Argon2id hash). Owner only.
#[utoipa::path(post, path = "/v1/staff", tag = "till", request_body = NewStaff,
    responses((status = 201, body = Staff), (status = "4XX", body = ErrorBody)))]
pub async fn add_staff(
    State(state): State<ApiState>,
    auth: Auth,
    body: ApiJson<NewStaff>,
) -> ApiResult<(StatusCode, Json<Staff>)> {
    owner_only(&state, &auth, "add cashiers").await?;
    let staff = state.app.till().add_staff(body.value).await?;
    Ok((StatusCode::CREATED, Json(staff)))
}

/// Rename a cashier or give them a new PIN. Owner only.
#[utoipa::path(patch, path = "/v1/staff/{id}", tag = "till", request_body = StaffChange,
    params(("id" = String, Path, description = "cashier id (stf_…)")),
    responses((status = 200, body = Staff), (status = "4XX", body = ErrorBody)))]
pub async fn change_staff(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
    body: ApiJson<StaffChange>,
) -> ApiResult<Json<Staff>> {
    owner_only(&state, &auth, "change cashiers").await?;
    Ok(Json(state.app.till().change_staff(&id, body.value).await?))
}

/// Remove a cashier: they can no longer sign in, and stay named in their sales. Owner only.
#[utoipa::path(delete, path = "/v1/staff/{id}", tag = "till",
    params(("id" = String, Path, description = "cashier id (stf_…)")),
    responses((status = 204), (status = "4XX", body = ErrorBody)))]
pub async fn remove_staff(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    owner_only(&state, &auth, "remove cashiers").await?;
    state.app.till().remove_staff(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A cashier signs in at the locked counter with their PIN (the cashier's key): their sales,
/// refunds and tips name them from now on. 5 wrong PINs in a row for one person, then each try
/// waits 30 s doubling up to 15 minutes (`429 rate_limited`).
#[utoipa::path(post, path = "/v1/cashier/sign-in", tag = "cashier", request_body = SignIn,
    responses((status = 200, body = CounterStatus), (status = "4XX", body = ErrorBody)))]
pub async fn sign_in(
    State(state): State<ApiState>,
    auth: Auth,
    body: ApiJson<SignIn>,
) -> ApiResult<Json<CounterStatus>> {
    let till = state.app.till();
    till.sign_in(&auth.key.id, &body.value).await?;
    Ok(Json(till.status(&auth.key.id).await?))
}

/// Sign the cashier out: the counter asks for a PIN before the next sale.
#[utoipa::path(post, path = "/v1/cashier/sign-out", tag = "cashier",
    responses((status = 200, body = CounterStatus), (status = "4XX", body = ErrorBody)))]
pub async fn sign_out(State(state): State<ApiState>, auth: Auth) -> ApiResult<Json<CounterStatus>> {
    till_only(&state, &auth, "sign a cashier out").await?;
    let till = state.app.till();
    till.sign_out().await?;
    Ok(Json(till.status(&auth.key.id).await?))
}

// ---- shifts ----

/// Shifts, newest first (without their reports).
#[utoipa::path(get, path = "/v1/shifts", tag = "till", params(ListQuery),
    responses((status = 200, body = PageBody<Shift>), (status = "4XX", body = ErrorBody)))]
pub async fn list_shifts(
    State(state): State<ApiState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<PageBody<Shift>>> {
    till_only(&state, &auth, "read shifts").await?;
    let page = state
        .app
        .till()
        .shifts(limit(q.limit)?, q.cursor.as_deref())
        .await?;
    Ok(Json(page.into()))
}

/// Open a shift with the float in the drawer (in the shop's currency); opens the drawer. One at
/// a time (`409 shift_conflict`).
#[utoipa::path(post, path = "/v1/shifts", tag = "till", request_body = OpenShift,
    responses((status = 201, body = Shift), (status = "4XX", body = ErrorBody)))]
pub async fn open_shift(
    State(state): State<ApiState>,
    auth: Auth,
    body: ApiJson<OpenShift>,
) -> ApiResult<(StatusCode, Json<Shift>)> {
    till_only(&state, &auth, "open a shift").await?;
    let shift = state
        .app
        .till()
        .open_shift(body.value, &auth.key.id)
        .await?;
    Ok((StatusCode::CREATED, Json(shift)))
}

/// The open shift with its figures so far (`404` when none is open).
#[utoipa::path(get, path = "/v1/shifts/current", tag = "till",
    responses((status = 200, body = Shift), (status = "4XX", body = ErrorBody)))]
pub async fn current_shift(State(state): State<ApiState>, auth: Auth) -> ApiResult<Json<Shift>> {
    till_only(&state, &auth, "read shifts").await?;
    Ok(Json(state.app.till().current_shift().await?))
}

/// One shift with its Z-report (as closed; an open one's figures so far).
#[utoipa::path(get, path = "/v1/shifts/{id}", tag = "till",
    params(("id" = String, Path, description = "shift id (shf_…)")),
    responses((status = 200, body = Shift), (status = "4XX", body = ErrorBody)))]
pub async fn get_shift(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Shift>> {
    till_only(&state, &auth, "read shifts").await?;
    Ok(Json(state.app.till().shift(&id).await?))
}

/// Close the open shift with the cash counted: its Z-report is kept and printed on the receipt
/// printers.
#[utoipa::path(post, path = "/v1/shifts/{id}/close", tag = "till", request_body = CloseShift,
    params(("id" = String, Path, description = "shift id (shf_…)")),
    responses((status = 200, body = Shift), (status = "4XX", body = ErrorBody)))]
pub async fn close_shift(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
    body: ApiJson<CloseShift>,
) -> ApiResult<Json<Shift>> {
    till_only(&state, &auth, "close a shift").await?;
    Ok(Json(
        state
            .app
            .till()
            .close_shift(&id, body.value, &auth.key.id)
            .await?,
    ))
}

/// A shift's Z-report as a printable page.
#[utoipa::path(get, path = "/v1/shifts/{id}/report.html", tag = "till",
    params(("id" = String, Path, description = "shift id (shf_…)")),
    responses((status = 200, content_type = "text/html", body = String), (status = "4XX", body = ErrorBody)))]
pub async fn shift_report_page(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    till_only(&state, &auth, "read shifts").await?;
    let till = state.app.till();
    let shift = till.shift(&id).await?;
    let report = shift
        .report
        .clone()
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("shift {id} has no report")))?;
    Ok(printable(
        till.report_page(&report, Some(&shift)).await?,
        None,
    ))
}

/// Print a shift's Z-report on the receipt printers.
#[utoipa::path(post, path = "/v1/shifts/{id}/print", tag = "till",
    params(("id" = String, Path, description = "shift id (shf_…)")),
    responses((status = 202, body = ListBody<PrintJob>), (status = "4XX", body = ErrorBody)))]
pub async fn print_shift(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<ListBody<PrintJob>>)> {
    till_only(&state, &auth, "print").await?;
    let jobs = state.app.till().print_report(&id).await?;
    Ok((StatusCode::ACCEPTED, Json(ListBody { data: jobs })))
}

/// Query of a day's Z-report.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ZQuery {
    /// The day, `YYYY-MM-DD` (default: today).
    #[param(
        pattern = "^((19[7-9][0-9]|[2-9][0-9]{3})-((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)|(19(7[26]|8[048]|9[26])|[2-9][0-9](0[48]|[2468][048]|[13579][26])|([2468][048]|[3579][26])00)-02-29)$",
        example = "2026-12-08"
    )]
    pub date: Option<String>,
}

impl ZQuery {
    fn date(&self) -> ApiResult<chrono::NaiveDate> {
        Ok(match &self.date {
            Some(d) => parse_date(d, "date")?,
            None => payaiml_core::reports::Reports::today(),
        })
    }
}

/// A day's Z-report: every till sale of the day by tender, tips by cashier, refunds, taxes by
/// rate, and the day's shifts with their drawers. Needs `lightning:read` or a till key.
#[utoipa::path(get, path = "/v1/reports/z", tag = "reports", params(ZQuery),
    responses((status = 200, body = ZReport), (status = "4XX", body = ErrorBody)))]
pub async fn day_z(
    State(state): State<ApiState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ZQuery>,
) -> ApiResult<Json<ZReport>> {
    if !auth.key.allows(Permission::LightningRead) {
        till_only(&state, &auth, "read the Z-report").await?;
    }
    Ok(Json(state.app.till().day_report(q.date()?).await?))
}

/// A day's Z-report as a printable page.
#[utoipa::path(get, path = "/v1/reports/z.html", tag = "reports", params(ZQuery),
    responses((status = 200, content_type = "text/html", body = String), (status = "4XX", body = ErrorBody)))]
pub async fn day_z_page(
    State(state): State<ApiState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ZQuery>,
) -> ApiResult<Response> {
    if !auth.key.allows(Permission::LightningRead) {
        till_only(&state, &auth, "read the Z-report").await?;
    }
    let till = state.app.till();
    let report = till.day_report(q.date()?).await?;
    Ok(printable(till.report_page(&report, None).await?, None))
}

/// Print a day's Z-report on the receipt printers.
#[utoipa::path(post, path = "/v1/reports/z/print", tag = "reports", params(ZQuery),
    responses((status = 202, body = ListBody<PrintJob>), (status = "4XX", body = ErrorBody)))]
pub async fn print_day_z(
    State(state): State<ApiState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ZQuery>,
) -> ApiResult<(StatusCode, Json<ListBody<PrintJob>>)> {
    till_only(&state, &auth, "print").await?;
    let subject = format!("day:{}", q.date()?);
    let jobs = state.app.till().print_report(&subject).await?;
    Ok((StatusCode::ACCEPTED, Json(ListBody { data: jobs })))
}

// ---- sales in cash or by card ----

/// Record a sale paid in cash or by card (an outside terminal): the same cart as an invoice, in
/// the shop's currency. Cash needs an open shift (`409 shift_required`), says the change, and
/// opens the drawer; the receipt prints by itself where a printer is set to. Logs
/// `sale.completed`. Needs `lightning:receive`. Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/sales", tag = "till", request_body = NewSale,
    params(("Idempotency-Key" = Option<String>, Header, description = "replays the first response for the same request; 1 to 255 visible ASCII characters", pattern = "^[!-~]{1,255}$", max_length = 255)),
    responses((status = 201, body = Sale), (status = "4XX", body = ErrorBody)))]
pub async fn create_sale(
    State(state): State<ApiState>,
    auth: Auth,
    headers: HeaderMap,
    body: ApiJson<NewSale>,
) -> Response {
    if let Err(e) = auth.require(Permission::LightningReceive) {
        return e.into_response();
    }
    let app = state.app.clone();
    let key_id = auth.key.id.clone();
    idempotent(
        &state,
        &auth,
        &headers,
        "POST /v1/sales",
        &body.canonical,
        async move { Ok(app.till().record_sale(body.value, &key_id).await?) },
    )
    .await
}

/// Query of the sales list.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SalesQuery {
    /// Only `cash` or only `card`.
    pub tender: Option<OtherTender>,
    /// 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the page before.
    #[param(pattern = "^([1-9][0-9]{0,17})?$")]
    pub cursor: Option<String>,
}

/// Sales in cash or by card, newest first. `lightning:read` reads all; `lightning:receive` the
/// ones its key made.
#[utoipa::path(get, path = "/v1/sales", tag = "till", params(SalesQuery),
    responses((status = 200, body = PageBody<Sale>), (status = "4XX", body = ErrorBody)))]
pub async fn list_sales(
    State(state): State<ApiState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<SalesQuery>,
) -> ApiResult<Json<PageBody<Sale>>> {
    let only = readable_by(&auth)?;
    let page = state
        .app
        .till()
        .sales(q.tender, only, limit(q.limit)?, q.cursor.as_deref())
        .await?;
    Ok(Json(page.into()))
}

/// One sale in cash or by card.
#[utoipa::path(get, path = "/v1/sales/{id}", tag = "till",
    params(("id" = String, Path, description = "sale id (sale_…)")),
    responses((status = 200, body = Sale), (status = "4XX", body = ErrorBody)))]
pub async fn get_sale(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Sale>> {
    let only = readable_by(&auth)?;
    Ok(Json(state.app.till().sale(&id, only).await?))
}

/// Hand back money of a cash or card sale (all that is left unless `amount` says less): cash
/// from the drawer of the open shift, a card on the terminal. Logs `sale.refunded`. The owner,
/// or the locked counter when the owner lets it refund (Settings → counter).
#[utoipa::path(post, path = "/v1/sales/{id}/refund", tag = "till", request_body = SaleRefund,
    params(("id" = String, Path, description = "sale id (sale_…)")),
    responses((status = 200, body = Sale), (status = "4XX", body = ErrorBody)))]
pub async fn refund_sale(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
    body: ApiJson<SaleRefund>,
) -> ApiResult<Json<Sale>> {
    if auth.require(Permission::LightningWrite).is_err() {
        let counter = state.app.settings().get().await?.counter;
        let cashier = state.app.keys().is_cashier(&auth.key.id).await?;
        if !(cashier && counter.cashier_refunds) {
            auth.require(Permission::LightningWrite)?;
        }
    }
    Ok(Json(
        state
            .app
            .till()
            .refund_sale(&id, body.value, &auth.key.id)
            .await?,
    ))
}

/// A cash or card sale's receipt as a printable HTML page (self-contained), laid out for an
/// 80 mm roll or A4.
#[utoipa::path(get, path = "/v1/sales/{id}/receipt", tag = "till",
    params(("id" = String, Path, description = "sale id (sale_…)"), ReceiptQuery),
    responses((status = 200, content_type = "text/html", body = String), (status = "4XX", body = ErrorBody)))]
pub async fn sale_receipt(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ReceiptQuery>,
) -> ApiResult<Response> {
    let only = readable_by(&auth)?;
    let paper = q.paper()?;
    let sale = state.app.till().sale(&id, only).await?;
    let page = state.app.receipts().sale_html(&sale, paper).await?;
    Ok(printable(
        page,
        (q.download == Some(true)).then(|| format!("receipt-{id}.html")),
    ))
}

/// Query of a reprint.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PrintQuery {
    /// One printer (`prn_…`); default: every receipt printer (every kitchen printer with
    /// `kitchen`).
    pub printer_id: Option<String>,
    /// Print the kitchen's order ticket instead of the receipt.
    pub kitchen: Option<bool>,
}

/// Print a cash or card sale's receipt (again).
#[utoipa::path(post, path = "/v1/sales/{id}/print", tag = "till", params(("id" = String, Path, description = "sale id (sale_…)"), PrintQuery),
    responses((status = 202, body = ListBody<PrintJob>), (status = "4XX", body = ErrorBody)))]
pub async fn print_sale(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PrintQuery>,
) -> ApiResult<(StatusCode, Json<ListBody<PrintJob>>)> {
    till_only(&state, &auth, "print").await?;
    let till = state.app.till();
    let only = readable_by(&auth)?;
    till.sale(&id, only).await?;
    let jobs = till
        .print_sale(&id, q.printer_id.as_deref(), q.kitchen == Some(true))
        .await?;
    Ok((StatusCode::ACCEPTED, Json(ListBody { data: jobs })))
}

/// Print a paid invoice's receipt (again), from history or at the counter.
#[utoipa::path(post, path = "/v1/lightning/invoices/{id}/print", tag = "invoices", params(("id" = String, Path, description = "invoice id"), PrintQuery),
    responses((status = 202, body = ListBody<PrintJob>), (status = "4XX", body = ErrorBody)))]
pub async fn print_invoice(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PrintQuery>,
) -> ApiResult<(StatusCode, Json<ListBody<PrintJob>>)> {
    till_only(&state, &auth, "print").await?;
    let invoice = match readable_by(&auth)? {
        None => state.app.invoices().get(&id).await?,
        Some(key) => state.app.invoices().get_made_by(&id, key).await?,
    };
    let jobs = state
        .app
        .till()
        .print_sale(
            &invoice.id,
            q.printer_id.as_deref(),
            q.kitchen == Some(true),
        )
        .await?;
    Ok((StatusCode::ACCEPTED, Json(ListBody { data: jobs })))
}

// ---- printers ----

/// The printers with their status (ready, failing with the last error, jobs waiting).
#[utoipa::path(get, path = "/v1/printers", tag = "till",
    responses((status = 200, body = ListBody<PrinterInfo>), (status = "4XX", body = ErrorBody)))]
pub async fn list_printers(
    State(state): State<ApiState>,
    auth: Auth,
) -> ApiResult<Json<ListBody<PrinterInfo>>> {
    till_only(&state, &auth, "read the printers").await?;
    Ok(Json(ListBody {
        data: state.app.till().printers().await?,
    }))
}

/// Add an ESC/POS printer: on the network (raw TCP, port 9100) or a device file (Linux:
/// `/dev/usb/lp0`). Owner only.
#[utoipa::path(post, path = "/v1/printers", tag = "till", request_body = NewPrinter,
    responses((status = 201, body = PrinterInfo), (status = "4XX", body = ErrorBody)))]
pub async fn add_printer(
    State(state): State<ApiState>,
    auth: Auth,
    body: ApiJson<NewPrinter>,
) -> ApiResult<(StatusCode, Json<PrinterInfo>)> {
    owner_only(&state, &auth, "add printers").await?;
    let printer = state.app.till().add_printer(body.value).await?;
    Ok((StatusCode::CREATED, Json(printer)))
}

/// Change a printer. Owner only.
#[utoipa::path(patch, path = "/v1/printers/{id}", tag = "till", request_body = PrinterChange,
    params(("id" = String, Path, description = "printer id (prn_…)")),
    responses((status = 200, body = PrinterInfo), (status = "4XX", body = ErrorBody)))]
pub async fn change_printer(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
    body: ApiJson<PrinterChange>,
) -> ApiResult<Json<PrinterInfo>> {
    owner_only(&state, &auth, "change printers").await?;
    Ok(Json(
        state.app.till().change_printer(&id, body.value).await?,
    ))
}

/// Remove a printer (its waiting jobs are cancelled). Owner only.
#[utoipa::path(delete, path = "/v1/printers/{id}", tag = "till",
    params(("id" = String, Path, description = "printer id (prn_…)")),
    responses((status = 204), (status = "4XX", body = ErrorBody)))]
pub async fn remove_printer(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    owner_only(&state, &auth, "remove printers").await?;
    state.app.till().remove_printer(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The USB printers attached to this computer (Linux: `/dev/usb/lp*`). Network printers are
/// added by address. Owner only.
#[utoipa::path(get, path = "/v1/printers/scan", tag = "till",
    responses((status = 200, body = ListBody<FoundPrinter>), (status = "4XX", body = ErrorBody)))]
pub async fn scan_printers(
    State(state): State<ApiState>,
    auth: Auth,
) -> ApiResult<Json<ListBody<FoundPrinter>>> {
    owner_only(&state, &auth, "look for printers").await?;
    Ok(Json(ListBody {
        data: state.app.till().scan_printers().await?,
    }))
}

/// Print a test page. Owner only.
#[utoipa::path(post, path = "/v1/printers/{id}/test", tag = "till",
    params(("id" = String, Path, description = "printer id (prn_…)")),
    responses((status = 202, body = PrintJob), (status = "4XX", body = ErrorBody)))]
pub async fn test_printer(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<PrintJob>)> {
    owner_only(&state, &auth, "print a test page").await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(state.app.till().print_test(&id).await?),
    ))
}

/// Query of the print jobs.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobsQuery {
    /// Only jobs in this state.
    pub state: Option<JobState>,
    /// 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the page before.
    #[param(pattern = "^([1-9][0-9]{0,17})?$")]
    pub cursor: Option<String>,
}

/// Print jobs, newest first.
#[utoipa::path(get, path = "/v1/print-jobs", tag = "till", params(JobsQuery),
    responses((status = 200, body = PageBody<PrintJob>), (status = "4XX", body = ErrorBody)))]
pub async fn list_print_jobs(
    State(state): State<ApiState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<JobsQuery>,
) -> ApiResult<Json<PageBody<PrintJob>>> {
    till_only(&state, &auth, "read the print jobs").await?;
    let page = state
        .app
        .till()
        .print_jobs(q.state, limit(q.limit)?, q.cursor.as_deref())
        .await?;
    Ok(Json(page.into()))
}

/// Try a waiting or failed print job again now.
#[utoipa::path(post, path = "/v1/print-jobs/{id}/retry", tag = "till",
    params(("id" = String, Path, description = "print job id (pjb_…)")),
    responses((status = 200, body = PrintJob), (status = "4XX", body = ErrorBody)))]
pub async fn retry_print_job(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<PrintJob>> {
    till_only(&state, &auth, "retry printing").await?;
    Ok(Json(state.app.till().retry_job(&id).await?))
}

/// Give up on a waiting or failed print job.
#[utoipa::path(delete, path = "/v1/print-jobs/{id}", tag = "till",
    params(("id" = String, Path, description = "print job id (pjb_…)")),
    responses((status = 204), (status = "4XX", body = ErrorBody)))]
pub async fn cancel_print_job(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    till_only(&state, &auth, "cancel printing").await?;
    state.app.till().cancel_job(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}
