//! The till, reached through [`Till`] (`app.till()`): what a counter that runs all day needs
//! beside taking Lightning payments.
//!
//! - **Staff** ([`staff`]): cashiers with a name and their own PIN, who sign in at the locked
//!   counter without the owner. Who is at the till is kept with the cashier's key of the current
//!   lock, so a new lock (or the owner unlocking, which revokes that key) starts with nobody.
//! - **Shifts** ([`shifts`]): the cash drawer's day, opened with a float and closed with the cash
//!   counted; its Z-report ([`zreport`]) is kept as closed.
//! - **Sales in cash or by card** ([`sales`]): the same cart, taxes and tip as a Lightning sale,
//!   recorded with their tender; the books (Z-report, CSV, journal) hold every tender.
//! - **Printers** ([`printing`]): ESC/POS receipt and kitchen printers on the network or a device
//!   file, fed from a persistent queue ([`crate::print_queue`]) by one task, without a dialog.
//!
//! A sale taken at the till (any invoice of the locked counter's key, and a cart the owner
//! charges with the dashboard's admin key) carries a stamp: who took it and in which shift,
//! written in the invoice's own transaction.

pub mod books;
pub mod escpos;
pub mod printing;
mod report_page;
pub mod sales;
pub mod shifts;
pub mod staff;
pub mod zreport;

use serde::Serialize;
use sqlx::SqliteConnection;
use tokio::sync::broadcast;

use crate::cashier::{Cashier, CashierStatus, LockState};
use crate::error::{Error, ErrorCode, Result};
use crate::events::EventRecord;
use crate::invoices::{CreateInvoice, Invoice, Invoices};
use crate::keys::Keys;
use crate::rates::RateService;
use crate::store::Store;
use crate::util::now_ms;

/// A person at the till, as sales and shifts name them (`null` in their place: the owner).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct StaffRef {
    /// `stf_…`
    pub id: String,
    /// Their name.
    pub name: String,
}

/// The counter as the dashboard sees it: the cashier lock, who is signed in, the open shift.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CounterStatus {
    /// The lock.
    #[serde(flatten)]
    pub lock: CashierStatus,
    /// Who is signed in at the locked counter (null: nobody, or the owner when unlocked).
    pub staff: Option<StaffRef>,
    /// How many cashiers there are.
    pub staff_count: u64,
    /// Whether sales are refused until a cashier signs in (locked, cashiers exist, nobody in).
    pub sign_in_required: bool,
    /// The open shift, if any.
    pub shift: Option<shifts::Shift>,
}

/// What the till keeps in memory: one PIN judged at a time, and the printing task's bell.
#[derive(Debug, Default)]
pub struct TillState {
    judging: tokio::sync::Mutex<()>,
    /// Rung when a print job is queued outside a logged event (which rings it through the feed).
    pub(crate) print_bell: tokio::sync::Notify,
}

/// Who took a sale and in which shift: the stamp written with it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Stamp {
    pub staff_id: Option<String>,
    pub shift_id: Option<String>,
}

impl Stamp {
    pub(crate) async fn write(&self, conn: &mut SqliteConnection, subject: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO till_stamps (subject_id, staff_id, shift_id, created_at) VALUES (?, ?, ?, ?)
             ON CONFLICT(subject_id) DO NOTHING",
        )
        .bind(subject)
        .bind(&self.staff_id)
        .bind(&self.shift_id)
        .bind(now_ms())
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
}

/// The till. Borrowed from [`crate::App`].
pub struct Till<'a> {
    pub(crate) store: &'a Store,
    pub(crate) keys: &'a Keys,
    pub(crate) invoices: Invoices<'a>,
    pub(crate) rates: &'a RateService,
    pub(crate) live: &'a broadcast::Sender<EventRecord>,
    pub(crate) lock: &'a LockState,
    pub(crate) state: &'a TillState,
}

impl<'a> Till<'a> {
    pub(crate) fn new(
        store: &'a Store,
        keys: &'a Keys,
        invoices: Invoices<'a>,
        rates: &'a RateService,
        live: &'a broadcast::Sender<EventRecord>,
        lock: &'a LockState,
        state: &'a TillState,
    ) -> Self {
        Till {
            store,
            keys,
            invoices,
            rates,
            live,
            lock,
            state,
        }
    }

    fn cashier(&self) -> Cashier<'a> {
        Cashier::new(self.store, self.keys, self.lock)
    }

    /// The counter as the key `key_id` sees it.
    pub async fn status(&self, key_id: &str) -> Result<CounterStatus> {
        let lock = self.cashier().status(key_id).await?;
        let staff = self.signed_in().await?;
        let staff_count = staff::count(self.store).await?;
        Ok(CounterStatus {
            sign_in_required: lock.locked && staff_count > 0 && staff.is_none(),
            lock,
            staff,
            staff_count,
            shift: shifts::open_shift(self.store).await?,
        })
    }

    /// Whether `key_id` is one of the till's own keys: the dashboard's admin key (the owner) or
    /// the cashier's key of the current lock.
    pub async fn is_till_key(&self, key_id: &str) -> Result<bool> {
        Ok(self.keys.is_admin(key_id).await? || self.keys.is_cashier(key_id).await?)
    }

    /// The stamp of a sale `key_id` takes now: who (the signed-in cashier with the cashier's key,
    /// the owner with the admin key) and the open shift. `None` for any other key (a shop's own
    /// software is not the till). Refuses with `409 sign_in_required` at a locked counter with
    /// cashiers and nobody signed in.
    pub(crate) async fn stamp_for(&self, key_id: &str) -> Result<Option<Stamp>> {
        let staff_id = if self.keys.is_cashier(key_id).await? && self.lock.is_locked() {
            match self.signed_in().await? {
                Some(s) => Some(s.id),
                None if staff::count(self.store).await? > 0 => {
                    return Err(Error::conflict(
                        ErrorCode::SignInRequired,
                        "a cashier must sign in with their PIN before taking a sale",
                    ))
                }
                None => None,
            }
        } else if self.keys.is_admin(key_id).await? {
            None
        } else {
            return Ok(None);
        };
        let shift_id = shifts::open_shift_id(self.store).await?;
        Ok(Some(Stamp { staff_id, shift_id }))
    }

    /// Makes an invoice as `POST /v1/lightning/invoices` does; a till sale (any invoice of the
    /// locked counter's key, and one the owner makes from a cart) is stamped with who took it
    /// and the shift, in its own transaction.
    pub async fn create_invoice(&self, request: CreateInvoice, key_id: &str) -> Result<Invoice> {
        let stamp = if request.cart.is_some() || self.keys.is_cashier(key_id).await? {
            self.stamp_for(key_id).await?
        } else {
            None
        };
        let Some(stamp) = stamp else {
            return self.invoices.create(request, Some(key_id)).await;
        };
        let also: crate::invoices::AlsoWrite = Box::new(move |conn, invoice_id| {
            Box::pin(async move { stamp.write(conn, &invoice_id).await })
        });
        self.invoices
            .create_with(request, Some(key_id), Some(also))
            .await
    }

    /// Records who refunded the invoice sale with the refund payment `payment_id`, and in which
    /// shift, when a till key did (its own small write, after the refund's record).
    pub async fn stamp_refund(&self, payment_id: &str, key_id: &str) -> Result<()> {
        let stamp = match self.stamp_for(key_id).await {
            Ok(Some(stamp)) => stamp,
            Ok(None) | Err(_) => return Ok(()),
        };
        let mut conn = self.store.writer().acquire().await?;
        stamp.write(&mut conn, payment_id).await
    }
}
