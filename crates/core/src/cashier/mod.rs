//! The cashier lock, reached through [`Cashier`] (`app.cashier()`): the owner sets a PIN and
//! locks the app to the point of sale; while it is locked, the dashboard works with the
//! cashier's key, which can make invoices and read only its own (and the catalog), never send
//! money, see keys, webhooks, settings or the recovery words. Unlocking takes the PIN and gives
//! the dashboard its admin key back.
//!
//! - The PIN (4 to 12 digits) is kept as an Argon2id hash (PHC string) in the database.
//! - Wrong PINs are limited: after 5 in a row, each further try waits 30 s, doubling per wrong
//!   PIN up to 15 minutes. The count and the wait are stored, so a restart does not reset them.
//! - The lock is stored too: the app starts locked if it stopped locked. The state is also
//!   kept in memory, so the desktop shell and the setup routes can check it without a query.

use std::sync::atomic::{AtomicBool, Ordering};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorCode, Result};
use crate::keys::Keys;
use crate::store::Store;
use crate::util::{now_ms, rfc3339};

const PIN: &str = "cashier_pin";
const LOCKED: &str = "cashier_locked";
const FAILURES: &str = "cashier_failures";
const RETRY_AT: &str = "cashier_retry_at";
/// Wrong PINs allowed in a row before each try must wait.
pub const FREE_TRIES: u32 = 5;
const FIRST_WAIT_MS: i64 = 30_000;
const LONGEST_WAIT_MS: i64 = 15 * 60_000;

/// The lock as the dashboard sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CashierStatus {
    /// Whether the app is locked to the point of sale.
    pub locked: bool,
    /// Whether the owner has set a PIN (locking needs one).
    pub pin_set: bool,
    /// Whether the key asking is the cashier's own.
    pub you_are_cashier: bool,
    /// Wrong PINs in a row so far.
    pub failed_attempts: u32,
    /// When the next try is allowed, after too many wrong PINs (null: now).
    pub retry_at: Option<String>,
    /// How the point of sale works (tip presets; whether the cashier may refund), for every key
    /// that runs one (the cashier's cannot read the settings).
    pub counter: crate::settings::CounterSettings,
}

/// A PIN to set, or to unlock with.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PinBody {
    /// 4 to 12 digits.
    #[schema(pattern = "^[0-9]{4,12}$", example = "2468")]
    pub pin: String,
}

/// What locking or unlocking hands the dashboard: the key it works with from now on.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CashierKey {
    /// Whether the app is now locked.
    pub locked: bool,
    /// The key to use: the cashier's while locked, the admin key once unlocked.
    pub key: String,
}

/// The lock state kept in memory beside the database (see the module doc).
#[derive(Debug, Default)]
pub struct LockState {
    locked: AtomicBool,
}

impl LockState {
    /// Whether the app is locked now.
    pub fn is_locked(&self) -> bool {
        self.locked.load(Ordering::SeqCst)
    }
}

/// Reads the stored lock into `state` when the app opens.
pub(crate) async fn load(store: &Store, state: &LockState) -> Result<()> {
    let locked = store.setting(LOCKED).await?.as_deref() == Some("1");
    state.locked.store(locked, Ordering::SeqCst);
    Ok(())
}

fn check_pin(pin: &str) -> Result<()> {
    if !(4..=12).contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid("pin", "a PIN is 4 to 12 digits"));
    }
    Ok(())
}

/// The wait after `failures` wrong PINs in a row (none within the free tries).
fn wait_after(failures: u32) -> i64 {
    if failures < FREE_TRIES {
        return 0;
    }
    let doublings = (failures - FREE_TRIES).min(10);
    (FIRST_WAIT_MS << doublings).min(LONGEST_WAIT_MS)
}

/// The cashier lock. Borrowed from [`crate::App`].
pub struct Cashier<'a> {
    store: &'a Store,
    keys: &'a Keys,
    state: &'a LockState,
}

impl<'a> Cashier<'a> {
    pub(crate) fn new(store: &'a Store, keys: &'a Keys, state: &'a LockState) -> Self {
        Cashier { store, keys, state }
    }

    /// Whether the app is locked.
    pub fn is_locked(&self) -> bool {
        self.state.is_locked()
    }

    /// The lock, as the key `key_id` sees it.
    pub async fn status(&self, key_id: &str) -> Result<CashierStatus> {
        let failures = self.failures().await?;
        let retry_at = self.retry_at().await?.filter(|at| *at > now_ms());
        Ok(CashierStatus {
            locked: self.is_locked(),
            pin_set: self.store.setting(PIN).await?.is_some(),
            you_are_cashier: self.keys.is_cashier(key_id).await?,
            failed_attempts: failures,
            retry_at: retry_at.map(rfc3339),
            counter: crate::settings::counter_settings(self.store).await?,
        })
    }

    /// Whether the key `key_id`, which may not send money, may still refund the invoice
    /// `invoice`: only the cashier's key, only when the owner allows the counter to refund
    /// (Settings → counter), and only a sale it made itself. The refund is then capped by what
    /// that sale received, like every refund.
    pub async fn may_refund(&self, key_id: &str, invoice: &str) -> Result<bool> {
        if !crate::settings::counter_settings(self.store)
            .await?
            .cashier_refunds
            || !self.keys.is_cashier(key_id).await?
        {
            return Ok(false);
        }
        match crate::invoices::db::get_made_by(self.store, invoice, Some(key_id)).await {
            Ok(_) => Ok(true),
            Err(Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Sets (or changes) the owner's PIN. Not while locked: the cashier must not change it.
    pub async fn set_pin(&self, pin: &str) -> Result<()> {
        check_pin(pin)?;
        if self.is_locked() {
            return Err(Error::conflict(
                ErrorCode::CashierConflict,
                "the app is locked: unlock it before changing the PIN",
            ));
        }
        let pin = pin.to_string();
        let hash = tokio::task::spawn_blocking(move || {
            let mut salt = [0u8; 16];
            rand::thread_rng().fill_bytes(&mut salt);
            let salt = SaltString::encode_b64(&salt)
                .map_err(|e| Error::Config(format!("PIN salt: {e}")))?;
            Argon2::default()
                .hash_password(pin.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| Error::Config(format!("PIN hash: {e}")))
        })
        .await
        .map_err(|e| Error::Config(format!("PIN hash task: {e}")))??;
        self.store.set_setting(PIN, &hash).await?;
        self.store.set_setting(FAILURES, "0").await?;
        self.store.set_setting(RETRY_AT, "0").await
    }

    /// Locks the app to the point of sale; returns the cashier's key for the dashboard to use.
    pub async fn lock(&self) -> Result<CashierKey> {
        if self.store.setting(PIN).await?.is_none() {
            return Err(Error::conflict(
                ErrorCode::CashierConflict,
                "set a PIN first: unlocking will need it",
            ));
        }
        let (key, _) = self.keys.cashier_key().await?;
        self.store.set_setting(LOCKED, "1").await?;
        self.state.locked.store(true, Ordering::SeqCst);
        Ok(CashierKey { locked: true, key })
    }

    /// The cashier's key while locked (the dashboard asks again after a restart).
    pub async fn cashier_key(&self) -> Result<String> {
        Ok(self.keys.cashier_key().await?.0)
    }

    /// Unlocks with the owner's PIN; returns the admin key. Wrong PINs are counted and, past
    /// the free tries, each must wait (`429 rate_limited`, saying until when).
    pub async fn unlock(&self, pin: &str) -> Result<CashierKey> {
        if !self.is_locked() {
            return Err(Error::conflict(
                ErrorCode::CashierConflict,
                "the app is not locked",
            ));
        }
        let now = now_ms();
        if let Some(at) = self.retry_at().await?.filter(|at| *at > now) {
            return Err(Error::forbidden(
                ErrorCode::RateLimited,
                Some("pin"),
                format!(
                    "too many wrong PINs: try again in {} s",
                    (at - now + 999) / 1000
                ),
            ));
        }
        let hash = self
            .store
            .setting(PIN)
            .await?
            .ok_or_else(|| Error::conflict(ErrorCode::CashierConflict, "no PIN is set"))?;
        let given = pin.to_string();
        let right = tokio::task::spawn_blocking(move || {
            check_pin(&given).is_ok()
                && PasswordHash::new(&hash).is_ok_and(|parsed| {
                    Argon2::default()
                        .verify_password(given.as_bytes(), &parsed)
                        .is_ok()
                })
        })
        .await
        .map_err(|e| Error::Config(format!("PIN check task: {e}")))?;
        if !right {
            let failures = self.failures().await? + 1;
            self.store
                .set_setting(FAILURES, &failures.to_string())
                .await?;
            let wait = wait_after(failures);
            if wait > 0 {
                self.store
                    .set_setting(RETRY_AT, &(now + wait).to_string())
                    .await?;
            }
            let left = FREE_TRIES.saturating_sub(failures);
            return Err(Error::forbidden(
                ErrorCode::WrongPin,
                Some("pin"),
                if left > 0 {
                    format!("wrong PIN ({left} more tries before each must wait)")
                } else {
                    format!("wrong PIN: the next try can be made in {} s", wait / 1000)
                },
            ));
        }
        self.store.set_setting(FAILURES, "0").await?;
        self.store.set_setting(RETRY_AT, "0").await?;
        self.store.set_setting(LOCKED, "0").await?;
        self.state.locked.store(false, Ordering::SeqCst);
        let (key, _) = self.keys.admin_key().await?;
        Ok(CashierKey { locked: false, key })
    }

    async fn failures(&self) -> Result<u32> {
        Ok(self
            .store
            .setting(FAILURES)
            .await?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    async fn retry_at(&self) -> Result<Option<i64>> {
        Ok(self
            .store
            .setting(RETRY_AT)
            .await?
            .and_then(|v| v.parse().ok())
            .filter(|at: &i64| *at > 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_after_the_free_tries_and_stop_at_fifteen_minutes() {
        assert_eq!(wait_after(4), 0);
        assert_eq!(wait_after(5), 30_000);
        assert_eq!(wait_after(6), 60_000);
        assert_eq!(wait_after(9), 480_000);
        assert_eq!(wait_after(10), LONGEST_WAIT_MS);
        assert_eq!(wait_after(50), LONGEST_WAIT_MS);
    }

    #[test]
    fn a_pin_is_four_to_twelve_digits() {
        assert!(check_pin("1234").is_ok());
        assert!(check_pin("123456789012").is_ok());
        for bad in ["123", "1234567890123", "12a4", " 1234", ""] {
            assert!(check_pin(bad).is_err(), "{bad}");
        }
    }
}
