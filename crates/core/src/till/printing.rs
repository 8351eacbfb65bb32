//! Receipt and kitchen printers, and the task that feeds them.
//!
//! - A printer speaks ESC/POS over raw TCP (port 9100, what network receipt printers listen on)
//!   or through a device file (`/dev/usb/lp0` on Linux, where the `usblp` driver puts a USB
//!   printer; the user needs write access to it, usually the `lp` group).
//! - What is owed to a printer is a row of `print_jobs`, queued in the transaction that makes it
//!   owed ([`crate::print_queue`]). One task sends them, in order per printer, rendering each
//!   from the stored sale when it is sent ([`super::escpos`]).
//! - Before a network job the task asks the printer for its paper sensor (`DLE EOT 4`); a printer
//!   that answers "paper end" fails the job as *out of paper* without sending it. A printer that
//!   does not answer within 300 ms is sent the job anyway (many do not answer).
//! - A job that cannot be sent is retried by itself, 1 s doubling up to a minute, 15 times (about
//!   10 minutes); then it is `failed`, shown at the counter until someone retries or cancels it.
//!   Nothing is dropped silently.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::Local;
use serde::{Deserialize, Serialize};
use sqlx::SqliteConnection;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use super::escpos::{self, Paper, ReceiptView};
use super::{Till, TillState};
use crate::error::{Error, ErrorCode, Result};
use crate::events::EventRecord;
use crate::invoices::{Invoice, InvoiceStatus};
use crate::settings::shop_details;
use crate::store::{page, parse_cursor, Page, Sequenced, Store};
use crate::util::{group_thousands, local, new_id, now_ms, rfc3339};

/// Tries before a job waits for a person.
pub const MAX_ATTEMPTS: i64 = 15;
/// The longest wait between tries.
const LONGEST_BACKOFF_MS: i64 = 60_000;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const STATUS_TIMEOUT: Duration = Duration::from_millis(300);
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// The most printers.
pub const MAX_PRINTERS: i64 = 20;

/// How a printer is reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Connection {
    /// Raw TCP (ESC/POS printers' port 9100).
    Network {
        /// Its address or host name.
        #[schema(min_length = 1, max_length = 253)]
        host: String,
        /// Its port (default 9100).
        #[serde(default = "default_port")]
        #[schema(minimum = 1, maximum = 65535)]
        port: u16,
    },
    /// A device file (Linux: `/dev/usb/lp0`).
    Usb {
        /// Its path, under `/dev/`.
        #[schema(min_length = 6, max_length = 255, pattern = "^/dev/[^\\x00-\\x1f]+$")]
        path: String,
    },
}

fn default_port() -> u16 {
    9100
}

impl Connection {
    fn check(&self) -> Result<()> {
        match self {
            Connection::Network { host, port } => {
                let ok = !host.is_empty()
                    && host.len() <= 253
                    && host.chars().all(|c| {
                        c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']')
                    });
                if !ok {
                    return Err(Error::invalid(
                        "connection.host",
                        "a printer's host is an IP address or host name (such as 192.168.1.50)",
                    ));
                }
                if *port == 0 {
                    return Err(Error::invalid("connection.port", "a port is 1 to 65535"));
                }
            }
            Connection::Usb { path } => {
                if !path.starts_with("/dev/")
                    || path.contains("/../")
                    || path.len() > 255
                    || path.chars().any(char::is_control)
                {
                    return Err(Error::invalid(
                        "connection.path",
                        "a USB printer is a device under /dev (such as /dev/usb/lp0)",
                    ));
                }
            }
        }
        Ok(())
    }
}

/// What a printer prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Customers' receipts (and Z-reports).
    Receipt,
    /// Order tickets for the kitchen or bar: lines and notes, no prices.
    Kitchen,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Receipt => "receipt",
            Role::Kitchen => "kitchen",
        }
    }
}

/// A new printer.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPrinter {
    /// Its name at the counter ("Counter", "Kitchen"), 1 to 40 bytes.
    #[schema(
        min_length = 1,
        max_length = 40,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]+$"
    )]
    pub name: String,
    /// How it is reached.
    pub connection: Connection,
    /// Its roll: `58mm` or `80mm`.
    pub paper: Paper,
    /// `receipt` or `kitchen`.
    pub role: Role,
    /// Print by itself when a till sale is paid (default false).
    #[serde(default)]
    pub auto_print: bool,
    /// A cash drawer is plugged into it: opened on cash sales and at a shift's start (default false).
    #[serde(default)]
    pub cash_drawer: bool,
}

/// A change to a printer: any of its fields.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrinterChange {
    /// 1 to 40 bytes.
    #[schema(
        min_length = 1,
        max_length = 40,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]+$"
    )]
    pub name: Option<String>,
    /// How it is reached.
    pub connection: Option<Connection>,
    /// Its roll.
    pub paper: Option<Paper>,
    /// What it prints.
    pub role: Option<Role>,
    /// Print by itself when a till sale is paid.
    pub auto_print: Option<bool>,
    /// A cash drawer is plugged into it.
    pub cash_drawer: Option<bool>,
}

/// How a printer is doing, from its jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PrinterState {
    /// Its last job printed and none is failing.
    Ready,
    /// A job could not be sent (it is being retried, or waits for a person).
    Failing,
    /// Nothing sent yet.
    Unknown,
}

/// A printer's state.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PrinterStatus {
    /// `ready`, `failing` or `unknown`.
    pub state: PrinterState,
    /// Why the last try failed, while failing.
    pub last_error: Option<String>,
    /// Jobs waiting to be sent (retries included).
    pub queued: u64,
    /// Jobs that gave up and wait for a person (retry or cancel).
    pub failed: u64,
    /// When it last printed.
    pub last_printed_at: Option<String>,
}

/// A printer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PrinterInfo {
    /// `prn_…`
    pub id: String,
    /// Its name.
    pub name: String,
    /// How it is reached.
    pub connection: Connection,
    /// Its roll.
    pub paper: Paper,
    /// What it prints.
    pub role: Role,
    /// Whether it prints by itself when a till sale is paid.
    pub auto_print: bool,
    /// Whether a cash drawer is plugged into it.
    pub cash_drawer: bool,
    /// When it was added.
    pub created_at: String,
    /// How it is doing.
    pub status: PrinterStatus,
}

/// What a job prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// A customer's receipt.
    Receipt,
    /// A kitchen ticket.
    Kitchen,
    /// A test page.
    Test,
    /// The cash drawer alone.
    Drawer,
    /// A Z-report.
    ZReport,
}

impl JobKind {
    fn parse(text: &str) -> JobKind {
        match text {
            "kitchen" => JobKind::Kitchen,
            "test" => JobKind::Test,
            "drawer" => JobKind::Drawer,
            "z_report" => JobKind::ZReport,
            _ => JobKind::Receipt,
        }
    }
    fn as_str(self) -> &'static str {
        match self {
            JobKind::Receipt => "receipt",
            JobKind::Kitchen => "kitchen",
            JobKind::Test => "test",
            JobKind::Drawer => "drawer",
            JobKind::ZReport => "z_report",
        }
    }
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Waiting to be sent, or being retried.
    Queued,
    /// Sent to the printer.
    Printed,
    /// Gave up after its tries: waits for a person.
    Failed,
    /// Given up on by a person.
    Cancelled,
}

impl JobState {
    fn parse(text: &str) -> JobState {
        match text {
            "printed" => JobState::Printed,
            "failed" => JobState::Failed,
            "cancelled" => JobState::Cancelled,
            _ => JobState::Queued,
        }
    }
    /// Its name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Printed => "printed",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }
}

/// A print job.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PrintJob {
    /// `pjb_…`
    pub id: String,
    /// The printer.
    pub printer_id: String,
    /// What it prints.
    pub kind: JobKind,
    /// The sale (`inv_…`, `sale_…`) or shift (`shf_…`, `day:YYYY-MM-DD`) it prints.
    pub subject: Option<String>,
    /// Whether it opens the cash drawer.
    pub drawer: bool,
    /// Where it stands.
    pub state: JobState,
    /// Tries so far.
    pub attempts: u32,
    /// Why the last try failed.
    pub last_error: Option<String>,
    /// When it was queued.
    pub created_at: String,
    /// When it printed.
    pub printed_at: Option<String>,
}

#[derive(sqlx::FromRow)]
struct PrinterRow {
    id: String,
    name: String,
    connection: String,
    paper: String,
    role: String,
    auto_print: bool,
    cash_drawer: bool,
    created_at: i64,
}

impl PrinterRow {
    fn connection(&self) -> Result<Connection> {
        serde_json::from_str(&self.connection).map_err(|e| {
            Error::Config(format!(
                "printer {} has an unreadable connection: {e}",
                self.id
            ))
        })
    }
    fn role(&self) -> Role {
        if self.role == "kitchen" {
            Role::Kitchen
        } else {
            Role::Receipt
        }
    }
}

#[derive(sqlx::FromRow)]
struct JobRow {
    seq: i64,
    id: String,
    printer_id: String,
    kind: String,
    subject: Option<String>,
    drawer: bool,
    state: String,
    attempts: i64,
    last_error: Option<String>,
    created_at: i64,
    printed_at: Option<i64>,
}

impl Sequenced for JobRow {
    fn seq(&self) -> i64 {
        self.seq
    }
}

impl JobRow {
    fn into_job(self) -> PrintJob {
        PrintJob {
            id: self.id,
            printer_id: self.printer_id,
            kind: JobKind::parse(&self.kind),
            subject: self.subject,
            drawer: self.drawer,
            state: JobState::parse(&self.state),
            attempts: u32::try_from(self.attempts.max(0)).unwrap_or(u32::MAX),
            last_error: self.last_error,
            created_at: rfc3339(self.created_at),
            printed_at: self.printed_at.map(rfc3339),
        }
    }
}

const PRINTER_COLUMNS: &str =
    "id, name, connection, paper, role, auto_print, cash_drawer, created_at";
const JOB_COLUMNS: &str =
    "seq, id, printer_id, kind, subject, drawer, state, attempts, last_error, \
     created_at, printed_at";

fn check_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.len() > 40 || name.chars().any(char::is_control) {
        return Err(Error::invalid(
            "name",
            "a printer's name is 1 to 40 bytes, on one line",
        ));
    }
    Ok(name.to_string())
}

/// A printer not removed.
async fn printer_row(store: &Store, id: &str) -> Result<PrinterRow> {
    sqlx::query_as(&format!(
        "SELECT {PRINTER_COLUMNS} FROM printers WHERE id = ? AND archived_at IS NULL"
    ))
    .bind(id)
    .fetch_optional(store.pool())
    .await?
    .ok_or_else(|| Error::NotFound {
        kind: "printer",
        id: id.to_string(),
    })
}

async fn status(store: &Store, printer_id: &str) -> Result<PrinterStatus> {
    let (queued, failed, retrying): (i64, i64, i64) = sqlx::query_as(
        "SELECT COALESCE(SUM(state = 'queued'), 0), COALESCE(SUM(state = 'failed'), 0),
                COALESCE(SUM(state = 'queued' AND attempts > 0), 0)
         FROM print_jobs WHERE printer_id = ? AND state IN ('queued', 'failed')",
    )
    .bind(printer_id)
    .fetch_one(store.pool())
    .await?;
    let last_printed: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(printed_at) FROM print_jobs WHERE printer_id = ? AND state = 'printed'",
    )
    .bind(printer_id)
    .fetch_one(store.pool())
    .await?;
    let last_error: Option<String> = if failed + retrying > 0 {
        sqlx::query_scalar(
            "SELECT last_error FROM print_jobs
             WHERE printer_id = ? AND state IN ('queued', 'failed') AND last_error IS NOT NULL
             ORDER BY seq DESC LIMIT 1",
        )
        .bind(printer_id)
        .fetch_optional(store.pool())
        .await?
        .flatten()
    } else {
        None
    };
    Ok(PrinterStatus {
        state: if failed + retrying > 0 {
            PrinterState::Failing
        } else if last_printed.is_some() {
            PrinterState::Ready
        } else {
            PrinterState::Unknown
        },
        last_error,
        queued: queued.max(0) as u64,
        failed: failed.max(0) as u64,
        last_printed_at: last_printed.map(rfc3339),
    })
}

/// Queues the Z-report of `subject` (a shift id, or `day:YYYY-MM-DD`) on every receipt printer.
pub(crate) async fn queue_report(tx: &mut SqliteConnection, subject: &str) -> Result<u64> {
    queue(tx, None, JobKind::ZReport, Some(subject), false).await
}

/// Queues one job of `kind` on `printer` (or every printer of its kind's role).
async fn queue(
    tx: &mut SqliteConnection,
    printer: Option<&str>,
    kind: JobKind,
    subject: Option<&str>,
    drawer: bool,
) -> Result<u64> {
    let role = match kind {
        JobKind::Kitchen => Some("kitchen"),
        JobKind::Receipt | JobKind::ZReport => Some("receipt"),
        JobKind::Test | JobKind::Drawer => None,
    };
    let now = now_ms();
    Ok(sqlx::query(
        "INSERT INTO print_jobs (id, printer_id, kind, subject, drawer, state, next_attempt_at, created_at)
         SELECT 'pjb_' || lower(hex(randomblob(10))), id, ?1, ?2, ?3, 'queued', ?4, ?4
         FROM printers
         WHERE archived_at IS NULL AND (?5 IS NULL OR id = ?5) AND (?5 IS NOT NULL OR ?6 IS NULL OR role = ?6)
         ORDER BY seq",
    )
    .bind(kind.as_str())
    .bind(subject)
    .bind(drawer)
    .bind(now)
    .bind(printer)
    .bind(role)
    .execute(&mut *tx)
    .await?
    .rows_affected())
}

/// A printer found attached.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FoundPrinter {
    /// How to reach it.
    pub connection: Connection,
    /// What it says it is, when it says.
    pub description: String,
}

/// The USB printers attached (Linux: the `usblp` driver's `/dev/usb/lp*`, described from sysfs).
fn scan_usb() -> Vec<FoundPrinter> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/dev/usb") else {
        return found;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if !name.starts_with("lp") {
            continue;
        }
        let sys = format!("/sys/class/usbmisc/{name}/device/..");
        let read = |f: &str| {
            std::fs::read_to_string(format!("{sys}/{f}"))
                .map(|s| s.trim().to_string())
                .unwrap_or_default()
        };
        let description = format!("{} {}", read("manufacturer"), read("product"))
            .trim()
            .to_string();
        found.push(FoundPrinter {
            connection: Connection::Usb {
                path: format!("/dev/usb/{name}"),
            },
            description: if description.is_empty() {
                "USB printer".into()
            } else {
                description
            },
        });
    }
    found.sort_by(|a, b| a.description.cmp(&b.description));
    found
}

impl Till<'_> {
    async fn printer_row(&self, id: &str) -> Result<PrinterRow> {
        printer_row(self.store, id).await
    }

    async fn printer_info(&self, row: PrinterRow) -> Result<PrinterInfo> {
        Ok(PrinterInfo {
            connection: row.connection()?,
            paper: Paper::parse(&row.paper),
            role: row.role(),
            status: status(self.store, &row.id).await?,
            id: row.id,
            name: row.name,
            auto_print: row.auto_print,
            cash_drawer: row.cash_drawer,
            created_at: rfc3339(row.created_at),
        })
    }

    /// Every printer with its status.
    pub async fn printers(&self) -> Result<Vec<PrinterInfo>> {
        let rows: Vec<PrinterRow> = sqlx::query_as(&format!(
            "SELECT {PRINTER_COLUMNS} FROM printers WHERE archived_at IS NULL ORDER BY seq"
        ))
        .fetch_all(self.store.pool())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(self.printer_info(row).await?);
        }
        Ok(out)
    }

    /// One printer.
    pub async fn printer(&self, id: &str) -> Result<PrinterInfo> {
        let row = self.printer_row(id).await?;
        self.printer_info(row).await
    }

    /// Adds a printer.
    pub async fn add_printer(&self, new: NewPrinter) -> Result<PrinterInfo> {
        let name = check_name(&new.name)?;
        new.connection.check()?;
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM printers WHERE archived_at IS NULL")
                .fetch_one(self.store.pool())
                .await?;
        if count >= MAX_PRINTERS {
            return Err(Error::unprocessable(
                ErrorCode::TillFull,
                None,
                format!("the till has {MAX_PRINTERS} printers already: remove one first"),
            ));
        }
        let id = new_id("prn");
        let connection = serde_json::to_string(&new.connection)
            .map_err(|e| Error::Config(format!("cannot write the connection: {e}")))?;
        sqlx::query(
            "INSERT INTO printers (id, name, connection, paper, role, auto_print, cash_drawer, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(&name)
        .bind(&connection)
        .bind(new.paper.as_str())
        .bind(new.role.as_str())
        .bind(new.auto_print)
        .bind(new.cash_drawer)
        .bind(now_ms())
        .execute(self.store.writer())
        .await?;
        self.printer(&id).await
    }

    /// Changes a printer.
    pub async fn change_printer(&self, id: &str, change: PrinterChange) -> Result<PrinterInfo> {
        self.printer_row(id).await?;
        let name = change.name.as_deref().map(check_name).transpose()?;
        if let Some(c) = &change.connection {
            c.check()?;
        }
        let connection = change
            .connection
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| Error::Config(format!("cannot write the connection: {e}")))?;
        sqlx::query(
            "UPDATE printers SET name = COALESCE(?, name), connection = COALESCE(?, connection),
                 paper = COALESCE(?, paper), role = COALESCE(?, role),
                 auto_print = COALESCE(?, auto_print), cash_drawer = COALESCE(?, cash_drawer)
             WHERE id = ? AND archived_at IS NULL",
        )
        .bind(name)
        .bind(connection)
        .bind(change.paper.map(Paper::as_str))
        .bind(change.role.map(Role::as_str))
        .bind(change.auto_print)
        .bind(change.cash_drawer)
        .bind(id)
        .execute(self.store.writer())
        .await?;
        self.state.print_bell.notify_one();
        self.printer(id).await
    }

    /// Removes a printer; its waiting jobs are cancelled.
    pub async fn remove_printer(&self, id: &str) -> Result<()> {
        self.printer_row(id).await?;
        let mut tx = self.store.begin_write().await?;
        sqlx::query("UPDATE printers SET archived_at = ? WHERE id = ?")
            .bind(now_ms())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE print_jobs SET state = 'cancelled' WHERE printer_id = ? AND state IN ('queued', 'failed')",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The USB printers attached to this computer.
    pub async fn scan_printers(&self) -> Result<Vec<FoundPrinter>> {
        tokio::task::spawn_blocking(scan_usb)
            .await
            .map_err(|e| Error::Config(format!("scan task: {e}")))
    }

    async fn queued(
        &self,
        printer: Option<&str>,
        kind: JobKind,
        subject: Option<&str>,
    ) -> Result<Vec<PrintJob>> {
        let mut tx = self.store.begin_write().await?;
        let since: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM print_jobs")
            .fetch_one(&mut *tx)
            .await?;
        queue(&mut tx, printer, kind, subject, false).await?;
        let rows: Vec<JobRow> = sqlx::query_as(&format!(
            "SELECT {JOB_COLUMNS} FROM print_jobs WHERE seq > ? ORDER BY seq"
        ))
        .bind(since)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        self.state.print_bell.notify_one();
        if rows.is_empty() {
            return Err(Error::conflict(
                ErrorCode::PrintingConflict,
                match kind {
                    JobKind::Kitchen => {
                        "no kitchen printer is set up: add one in Settings → Printers"
                    }
                    _ => "no receipt printer is set up: add one in Settings → Printers",
                },
            ));
        }
        Ok(rows.into_iter().map(JobRow::into_job).collect())
    }

    /// Prints a test page on `printer`.
    pub async fn print_test(&self, printer: &str) -> Result<PrintJob> {
        self.printer_row(printer).await?;
        let mut jobs = self.queued(Some(printer), JobKind::Test, None).await?;
        jobs.pop().ok_or_else(|| Error::NotFound {
            kind: "printer",
            id: printer.to_string(),
        })
    }

    /// Prints the receipt of a paid invoice or of a cash or card sale again (on `printer`, or
    /// every receipt printer); `kitchen` prints its order ticket instead.
    pub async fn print_sale(
        &self,
        subject: &str,
        printer: Option<&str>,
        kitchen: bool,
    ) -> Result<Vec<PrintJob>> {
        if subject.starts_with("sale_") {
            self.sale(subject, None).await?;
        } else {
            let invoice = self.invoices.get(subject).await?;
            if invoice.status != InvoiceStatus::Paid {
                return Err(Error::conflict(
                    ErrorCode::InvoiceNotPaid,
                    format!(
                        "invoice {} is not paid: a receipt is printed once it is paid",
                        invoice.id
                    ),
                ));
            }
        }
        if let Some(p) = printer {
            self.printer_row(p).await?;
        }
        let kind = if kitchen {
            JobKind::Kitchen
        } else {
            JobKind::Receipt
        };
        self.queued(printer, kind, Some(subject)).await
    }

    /// Prints a shift's Z-report (or a day's: `day:YYYY-MM-DD`) on the receipt printers.
    pub async fn print_report(&self, subject: &str) -> Result<Vec<PrintJob>> {
        if !subject.starts_with("day:") {
            self.shift(subject).await?;
        }
        self.queued(None, JobKind::ZReport, Some(subject)).await
    }

    /// Print jobs, newest first (`state`: only those).
    pub async fn print_jobs(
        &self,
        state: Option<JobState>,
        limit: i64,
        cursor: Option<&str>,
    ) -> Result<Page<PrintJob>> {
        let before = parse_cursor(cursor)?;
        let rows: Vec<JobRow> = sqlx::query_as(&format!(
            "SELECT {JOB_COLUMNS} FROM print_jobs WHERE seq < ? AND (? IS NULL OR state = ?)
             ORDER BY seq DESC LIMIT ?"
        ))
        .bind(before)
        .bind(state.map(JobState::as_str))
        .bind(state.map(JobState::as_str))
        .bind(limit + 1)
        .fetch_all(self.store.pool())
        .await?;
        Ok(page(rows, limit, JobRow::into_job))
    }

    async fn job(&self, id: &str) -> Result<PrintJob> {
        let row: JobRow = sqlx::query_as(&format!(
            "SELECT {JOB_COLUMNS} FROM print_jobs WHERE id = ?"
        ))
        .bind(id)
        .fetch_optional(self.store.pool())
        .await?
        .ok_or_else(|| Error::NotFound {
            kind: "print job",
            id: id.to_string(),
        })?;
        Ok(row.into_job())
    }

    /// Tries a waiting or failed job again now (with a fresh count of tries).
    pub async fn retry_job(&self, id: &str) -> Result<PrintJob> {
        let done = sqlx::query(
            "UPDATE print_jobs SET state = 'queued', attempts = 0, next_attempt_at = ?
             WHERE id = ? AND state IN ('queued', 'failed')",
        )
        .bind(now_ms())
        .bind(id)
        .execute(self.store.writer())
        .await?;
        let job = self.job(id).await?;
        if done.rows_affected() == 0 {
            return Err(Error::conflict(
                ErrorCode::PrintingConflict,
                format!(
                    "print job {id} is {}: only a waiting or failed job is retried",
                    job.state.as_str()
                ),
            ));
        }
        self.state.print_bell.notify_one();
        Ok(job)
    }

    /// Gives up on a waiting or failed job.
    pub async fn cancel_job(&self, id: &str) -> Result<()> {
        let done = sqlx::query(
            "UPDATE print_jobs SET state = 'cancelled' WHERE id = ? AND state IN ('queued', 'failed')",
        )
        .bind(id)
        .execute(self.store.writer())
        .await?;
        if done.rows_affected() == 0 {
            let job = self.job(id).await?;
            return Err(Error::conflict(
                ErrorCode::PrintingConflict,
                format!(
                    "print job {id} is {}: only a waiting or failed job is cancelled",
                    job.state.as_str()
                ),
            ));
        }
        Ok(())
    }
}

// ---- the printing task ----

/// What the task needs, owned.
pub(crate) struct Printing {
    pub store: Store,
    pub rates_currency: Arc<dyn Fn() -> Option<String> + Send + Sync>,
    pub state: Arc<TillState>,
}

fn money(amount: &str, currency: Option<&str>) -> String {
    match currency {
        Some(c) => format!("{amount} {c}"),
        None => format!("{amount} sat"),
    }
}

fn local_time(ms: i64) -> String {
    local(&Local, ms).format("%Y-%m-%d %H:%M").to_string()
}

fn parse_time(rfc: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc)
        .map(|t| t.timestamp_millis())
        .unwrap_or_default()
}

async fn cashier_of(store: &Store, subject: &str) -> Result<Option<String>> {
    let staff: Option<Option<String>> =
        sqlx::query_scalar("SELECT staff_id FROM till_stamps WHERE subject_id = ?")
            .bind(subject)
            .fetch_optional(store.pool())
            .await?;
    let Some(Some(id)) = staff else {
        return Ok(None);
    };
    let names = super::staff::names(store).await?;
    Ok(names.get(&id).cloned())
}

/// The receipt of a paid invoice.
async fn invoice_view(store: &Store, invoice: &Invoice) -> Result<ReceiptView> {
    let sats = invoice.amount_received_msat.unwrap_or(0) / 1000;
    let currency = invoice.order.as_ref().and_then(|o| o.currency.clone());
    let total = match &invoice.order {
        Some(o) => money(&o.total, currency.as_deref()),
        None => match invoice.fiat.as_ref().filter(|f| f.priced_in_fiat) {
            Some(f) => money(f.amount.as_deref().unwrap_or("0"), Some(&f.currency)),
            None => format!("{} sat", group_thousands(sats)),
        },
    };
    let sats_line = Some(match &invoice.fiat {
        Some(f) => format!(
            "{} sat at {} {}/BTC",
            group_thousands(sats),
            f.rate,
            f.currency
        ),
        None => format!("{} sat", group_thousands(sats)),
    });
    let paid = invoice
        .paid_at
        .as_deref()
        .map(parse_time)
        .unwrap_or_else(now_ms);
    let onchain = invoice
        .onchain
        .as_ref()
        .and_then(|o| o.txid.as_ref())
        .is_some();
    Ok(ReceiptView {
        reference: invoice.id.clone(),
        time: local_time(paid),
        order: invoice.order.clone(),
        total,
        sats_line,
        tender: if onchain {
            "Bitcoin on-chain"
        } else {
            "Lightning"
        }
        .into(),
        tender_lines: Vec::new(),
        cashier: cashier_of(store, &invoice.id).await?,
        description: Some(invoice.description.clone()),
    })
}

/// The receipt of a cash or card sale.
fn sale_view(sale: &super::sales::Sale) -> ReceiptView {
    let mut tender_lines = Vec::new();
    if let (Some(received), Some(change)) = (&sale.cash_received, &sale.change) {
        tender_lines.push(("Cash received".to_string(), received.clone()));
        tender_lines.push(("Change".to_string(), change.clone()));
    }
    if let Some(reference) = &sale.reference {
        tender_lines.push(("Card ref.".to_string(), reference.clone()));
    }
    let refunded: rust_decimal::Decimal = sale.refunded.parse().unwrap_or_default();
    if !refunded.is_zero() {
        tender_lines.push(("Refunded".to_string(), sale.refunded.clone()));
    }
    ReceiptView {
        reference: sale.id.clone(),
        time: local_time(parse_time(&sale.created_at)),
        order: Some(sale.order.clone()),
        total: money(&sale.total, Some(&sale.currency)),
        sats_line: None,
        tender: match sale.tender {
            super::sales::Tender::Card => "Card",
            _ => "Cash",
        }
        .into(),
        tender_lines,
        cashier: sale.cashier.as_ref().map(|c| c.name.clone()),
        description: None,
    }
}

impl Printing {
    /// Runs until `stop`: sends due jobs, then sleeps until the next is due, a job is queued
    /// (the bell), or an event is logged (a paid till sale queues its tickets with it).
    pub(crate) async fn run(
        self,
        mut live: broadcast::Receiver<EventRecord>,
        stop: CancellationToken,
    ) {
        // The feed only wakes the loop; once it is closed (the app stopping) the bell and the
        // timer still do.
        let mut listening = true;
        loop {
            let next = match self.round(&stop).await {
                Ok(next) => next,
                Err(e) => {
                    tracing::warn!(error = %e, "the print queue could not be read; trying again");
                    Some(now_ms() + 2_000)
                }
            };
            let wait = next
                .map(|at| (at - now_ms()).clamp(0, 5_000))
                .unwrap_or(5_000) as u64;
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = self.state.print_bell.notified() => {}
                heard = live.recv(), if listening => {
                    if matches!(heard, Err(broadcast::error::RecvError::Closed)) {
                        listening = false;
                    }
                }
                _ = tokio::time::sleep(Duration::from_millis(wait)) => {}
            }
        }
    }

    /// Sends every due job, in order per printer (a printer that fails keeps its later jobs for
    /// its next try), until `stop` (a job being sent is finished first: cut off, it could print
    /// twice); returns when the next waiting job is due.
    async fn round(&self, stop: &CancellationToken) -> Result<Option<i64>> {
        let now = now_ms();
        let due: Vec<(String, String, String, Option<String>, bool, i64)> = sqlx::query_as(
            "SELECT id, printer_id, kind, subject, drawer, attempts FROM print_jobs
             WHERE state = 'queued' AND next_attempt_at <= ? ORDER BY seq",
        )
        .bind(now)
        .fetch_all(self.store.pool())
        .await?;
        let mut blocked: HashSet<String> = HashSet::new();
        for (id, printer_id, kind, subject, drawer, attempts) in due {
            if stop.is_cancelled() {
                break;
            }
            if blocked.contains(&printer_id) {
                continue;
            }
            // A later job must not overtake an earlier one still waiting for its retry.
            let earlier: Option<i64> = sqlx::query_scalar(
                "SELECT 1 FROM print_jobs WHERE printer_id = ? AND state = 'queued'
                   AND seq < (SELECT seq FROM print_jobs WHERE id = ?) LIMIT 1",
            )
            .bind(&printer_id)
            .bind(&id)
            .fetch_optional(self.store.pool())
            .await?;
            if earlier.is_some() {
                blocked.insert(printer_id);
                continue;
            }
            let outcome = self
                .send_job(
                    &printer_id,
                    JobKind::parse(&kind),
                    subject.as_deref(),
                    drawer,
                )
                .await;
            match outcome {
                Ok(()) => {
                    sqlx::query(
                        "UPDATE print_jobs SET state = 'printed', printed_at = ?, attempts = attempts + 1,
                             last_error = NULL WHERE id = ? AND state = 'queued'",
                    )
                    .bind(now_ms())
                    .bind(&id)
                    .execute(self.store.writer())
                    .await?;
                }
                Err(e) => {
                    let attempts = attempts + 1;
                    let wait = (1_000i64 << (attempts - 1).clamp(0, 16)).min(LONGEST_BACKOFF_MS);
                    let state = if attempts >= MAX_ATTEMPTS {
                        "failed"
                    } else {
                        "queued"
                    };
                    tracing::warn!(job = %id, printer = %printer_id, attempts, error = %e, "a print job failed");
                    sqlx::query(
                        "UPDATE print_jobs SET state = ?, attempts = ?, last_error = ?, next_attempt_at = ?
                         WHERE id = ? AND state = 'queued'",
                    )
                    .bind(state)
                    .bind(attempts)
                    .bind(e.to_string())
                    .bind(now_ms() + wait)
                    .bind(&id)
                    .execute(self.store.writer())
                    .await?;
                    blocked.insert(printer_id);
                }
            }
        }
        Ok(
            sqlx::query_scalar(
                "SELECT MIN(next_attempt_at) FROM print_jobs WHERE state = 'queued'",
            )
            .fetch_one(self.store.pool())
            .await?,
        )
    }

    /// Renders and sends one job.
    async fn send_job(
        &self,
        printer_id: &str,
        kind: JobKind,
        subject: Option<&str>,
        drawer: bool,
    ) -> Result<()> {
        // A removed printer's waiting jobs were cancelled with it: none is sent to it.
        let row = printer_row(&self.store, printer_id).await?;
        let bytes = self.render(&row, kind, subject, drawer).await?;
        send(&row.connection()?, &bytes)
            .await
            .map_err(Error::Config)
    }

    async fn render(
        &self,
        printer: &PrinterRow,
        kind: JobKind,
        subject: Option<&str>,
        drawer: bool,
    ) -> Result<Vec<u8>> {
        let paper = Paper::parse(&printer.paper);
        let shop = shop_details(&self.store).await?;
        let view = || async {
            let subject = subject.unwrap_or_default();
            if subject.starts_with("sale_") {
                let names = super::staff::names(&self.store).await?;
                let row = super::sales::sale_row(self.store.pool(), subject, None).await?;
                Ok::<ReceiptView, Error>(sale_view(&row.into_sale(&names)?))
            } else {
                let invoice = crate::invoices::db::get(&self.store, subject).await?;
                invoice_view(&self.store, &invoice).await
            }
        };
        match kind {
            JobKind::Receipt => escpos::receipt(&shop, &view().await?, paper, drawer),
            JobKind::Kitchen => escpos::kitchen(&view().await?, paper),
            JobKind::Test => escpos::test_page(&printer.name, paper),
            JobKind::Drawer => escpos::drawer_kick(),
            JobKind::ZReport => {
                let subject = subject.unwrap_or_default();
                let (z, title) = self.report(subject).await?;
                escpos::report(&shop, &z, &title, paper)
            }
        }
    }

    async fn report(&self, subject: &str) -> Result<(super::zreport::ZReport, String)> {
        if let Some(date) = subject.strip_prefix("day:") {
            let date = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
                .map_err(|_| Error::invalid("date", "a day is YYYY-MM-DD"))?;
            let currency = (self.rates_currency)();
            let z = super::shifts::day_report_for(&self.store, date, currency).await?;
            return Ok((z, format!("Z-report {date}")));
        }
        let z = super::shifts::stored_report(&self.store, subject).await?;
        Ok((z, "Z-report (shift)".into()))
    }
}

/// Whether `meta` is a character device or a pipe (where a USB printer's driver, or a spooler,
/// takes bytes), not a regular file or a directory.
#[cfg(unix)]
fn is_device(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    let kind = meta.file_type();
    kind.is_char_device() || kind.is_fifo()
}

/// Elsewhere a printer's port is a device name (such as `COM3`) with no file type to check.
#[cfg(not(unix))]
fn is_device(meta: &std::fs::Metadata) -> bool {
    !meta.is_dir()
}

/// Sends `bytes` to a printer; the error says why it could not, for the counter.
async fn send(connection: &Connection, bytes: &[u8]) -> std::result::Result<(), String> {
    let unreachable = |what: String| what;
    match connection {
        Connection::Network { host, port } => {
            let address = format!("{host}:{port}");
            let mut stream =
                tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(&address))
                    .await
                    .map_err(|_| {
                        unreachable(format!(
                            "the printer at {address} did not answer (offline?)"
                        ))
                    })?
                    .map_err(|e| {
                        unreachable(format!("cannot reach the printer at {address}: {e}"))
                    })?;
            // DLE EOT 4: the roll paper sensor. Bits 5 and 6 set: the paper has run out.
            stream
                .write_all(&[0x10, 0x04, 0x04])
                .await
                .map_err(|e| unreachable(format!("the printer at {address} hung up: {e}")))?;
            let mut answer = [0u8; 1];
            if let Ok(Ok(1)) = tokio::time::timeout(STATUS_TIMEOUT, stream.read(&mut answer)).await
            {
                if answer[0] & 0x60 == 0x60 {
                    return Err(unreachable(format!(
                        "the printer at {address} is out of paper"
                    )));
                }
            }
            tokio::time::timeout(WRITE_TIMEOUT, async {
                stream.write_all(bytes).await?;
                stream.flush().await?;
                stream.shutdown().await
            })
            .await
            .map_err(|_| unreachable(format!("the printer at {address} stopped taking data")))?
            .map_err(|e| unreachable(format!("the printer at {address} hung up: {e}")))?;
            Ok(())
        }
        Connection::Usb { path } => {
            // Only a device (or a pipe to a print spooler): never append receipts to a file.
            let meta = tokio::fs::metadata(path).await.map_err(|e| {
                unreachable(format!(
                    "cannot open the printer {path}: {e} (is it plugged in?)"
                ))
            })?;
            if !is_device(&meta) {
                return Err(unreachable(format!(
                    "{path} is not a printer device (a character device such as /dev/usb/lp0)"
                )));
            }
            let mut file = tokio::fs::OpenOptions::new()
                .append(true)
                .open(path)
                .await
                .map_err(|e| unreachable(format!("cannot open the printer {path}: {e} (is it plugged in, and may this user write to it?)")))?;
            tokio::time::timeout(WRITE_TIMEOUT, async {
                file.write_all(bytes).await?;
                file.flush().await
            })
            .await
            .map_err(|_| unreachable(format!("the printer {path} stopped taking data")))?
            .map_err(|e| unreachable(format!("writing to the printer {path} failed: {e}")))?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The USB path: bytes written whole to a device-like file (a named pipe here, as a spooler
    /// would offer; a real `/dev/usb/lp0` is a character device), and a regular file refused, so
    /// receipts never land in a file by mistake.
    #[cfg(unix)]
    #[tokio::test]
    async fn a_device_gets_the_bytes_and_a_plain_file_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let pipe = dir.path().join("lp0");
        let made = std::process::Command::new("mkfifo")
            .arg(&pipe)
            .status()
            .expect("mkfifo");
        assert!(made.success());
        let reader = {
            let pipe = pipe.clone();
            std::thread::spawn(move || std::fs::read(pipe).expect("read the pipe"))
        };
        let bytes = escpos::test_page("Counter", Paper::Roll58).expect("test page");
        let usb = Connection::Usb {
            path: pipe.to_string_lossy().to_string(),
        };
        send(&usb, &bytes).await.expect("sent to the pipe");
        assert_eq!(reader.join().expect("reader"), bytes);

        let file = dir.path().join("receipt.txt");
        std::fs::write(&file, b"").expect("file");
        let refused = send(
            &Connection::Usb {
                path: file.to_string_lossy().to_string(),
            },
            &bytes,
        )
        .await
        .expect_err("a plain file is no printer");
        assert!(refused.contains("is not a printer device"), "{refused}");
        assert_eq!(std::fs::read(&file).expect("file").len(), 0);
    }

    #[test]
    fn a_usb_printer_is_a_device_under_dev() {
        let usb = |p: &str| Connection::Usb { path: p.into() }.check();
        assert!(usb("/dev/usb/lp0").is_ok());
        for bad in ["lp0", "/etc/passwd", "/dev/../etc/passwd", "/dev/usb/lp0\n"] {
            assert!(usb(bad).is_err(), "{bad:?}");
        }
        let net = |h: &str| {
            Connection::Network {
                host: h.into(),
                port: 9100,
            }
            .check()
        };
        assert!(net("192.168.1.50").is_ok() && net("printer.local").is_ok());
        assert!(net("bad host!").is_err() && net("").is_err());
    }
}
