//! The cashier lock, reached through [`Cashier`] (`app.cashier()`): the owner sets a PIN and
//! locks the app to the point of sale; while it is locked, the dashboard works with the
//! cashier's key, which can make invoices and read only its own (and the catalog), never send
//! money, see keys, webhooks, settings or the recovery words. Unlocking takes the PIN and gives
//! the dashboard its admin key back.
//!
//! - The PIN (4 to 12 digits) is kept as an Argon2id hash (PHC string) in the database.
//! - Wrong PINs are limited: after 5 in a row, each further try waits 30 s, doubling per wrong
//!   PIN up to 15 minutes. The count and the wait are stored, so a restart does not reset them.
//!   Unlocks are judged one at a time (a lock held across the wait check, the count and the
//!   Argon2 check), and each try is counted before its PIN is checked (a right PIN then resets
//!   the count), so however many tries arrive at once, and whether or not their clients wait for
//!   the answer, at most 5 PINs are checked before the wait starts; a try that arrives during
//!   the wait is refused without running Argon2 (whose memory, taken by hundreds of tries at
//!   once, would be gigabytes). Locking and handing out the cashier's key take the same lock, so
//!   no key is made while an unlock revokes it.
//! - The cashier's key lives for one lock: a new one is made at each lock and revoked at unlock
//!   (and at start, if the app stopped unlocked with one still live), so a copy taken from the
//!   counter's browser stops working when the owner takes the counter back.
//! - The counter refunds only while locked, only sales made under the current lock (its key
//!   made them), and only when the owner allows it with a daily limit.
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
    /// Held while the lock changes or its key is handed out (lock, unlock, the cashier's key):
    /// one at a time.
    judging: tokio::sync::Mutex<()>,
}

impl LockState {
    /// Whether the app is locked now.
    pub fn is_locked(&self) -> bool {
        self.locked.load(Ordering::SeqCst)
    }
}

/// Reads the stored lock into `state` when the app opens. An app that stopped unlocked between
/// unlocking and revoking the cashier's key revokes it now.
pub(crate) async fn load(store: &Store, keys: &Keys, state: &LockState) -> Result<()> {
    let locked = store.setting(LOCKED).await?.as_deref() == Some("1");
    state.locked.store(locked, Ordering::SeqCst);
    if !locked {
        // Not a reason to refuse to start: the next unlock or start tries again.
        if let Err(e) = keys.retire_cashier_key().await {
            tracing::warn!(error = %e, "could not revoke a cashier's key left live while unlocked");
        }
    }
    Ok(())
}

pub(crate) fn check_pin(pin: &str) -> Result<()> {
    if !(4..=12).contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid("pin", "a PIN is 4 to 12 digits"));
    }
    Ok(())
}

/// The wait after `failures` wrong PINs in a row (none within the free tries).
pub(crate) fn wait_after(failures: u32) -> i64 {
    if failures < FREE_TRIES {
        return 0;
    }
    let doublings = (failures - FREE_TRIES).min(10);
    (FIRST_WAIT_MS << doublings).min(LONGEST_WAIT_MS)
}

/// The Argon2id hash (PHC string, random salt) of a PIN already checked, computed off the async
/// workers.
pub(crate) async fn hash_pin(pin: &str) -> Result<String> {
    let pin = pin.to_string();
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut salt);
        let salt =
            SaltString::encode_b64(&salt).map_err(|e| Error::Config(format!("PIN salt: {e}")))?;
        Argon2::default()
            .hash_password(pin.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Config(format!("PIN hash: {e}")))
    })
    .await
    .map_err(|e| Error::Config(format!("PIN hash task: {e}")))?
}

/// Whether `pin` is a PIN and matches `hash`, computed off the async workers. A malformed PIN
/// is simply wrong (it counts as a try like any other).
pub(crate) async fn verify_pin(hash: String, pin: &str) -> Result<bool> {
    let given = pin.to_string();
    tokio::task::spawn_blocking(move || {
        check_pin(&given).is_ok()
            && PasswordHash::new(&hash).is_ok_and(|parsed| {
                Argon2::default()
                    .verify_password(given.as_bytes(), &parsed)
                    .is_ok()
            })
    })
    .await
    .map_err(|e| Error::Config(format!("PIN check task: {e}")))
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
    /// `invoice`, and within what: only the cashier's key of the current lock, only while the
    /// app is locked, only a sale that key made (so a sale of this lock), and only when the owner
    /// allows the counter to refund (Settings → counter) with a daily limit. `None`: it may not.
    /// The refund is then capped by what that sale received, like every refund, and by what is
    /// left of the day's limit (checked with the refund's record, under the payments' lock).
    pub async fn refund_allowance(
        &self,
        key_id: &str,
        invoice: &str,
    ) -> Result<Option<crate::payments::DailyLimit>> {
        let counter = crate::settings::counter_settings(self.store).await?;
        let Some(limit) = counter
            .cashier_refund_limit
            .filter(|_| counter.cashier_refunds)
        else {
            return Ok(None);
        };
        if !self.is_locked() || !self.keys.is_cashier(key_id).await? {
            return Ok(None);
        }
        match crate::invoices::db::get_made_by(self.store, invoice, Some(key_id)).await {
            Ok(_) => Ok(Some(crate::payments::DailyLimit {
                limit_msat: limit.saturating_mul(1000),
                since_ms: crate::util::day_start(&chrono::Local, chrono::Local::now().date_naive()),
            })),
            Err(Error::NotFound { .. }) => Ok(None),
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
        let hash = hash_pin(pin).await?;
        self.store.set_setting(PIN, &hash).await?;
        self.store.set_setting(FAILURES, "0").await?;
        self.store.set_setting(RETRY_AT, "0").await
    }

    /// Locks the app to the point of sale; returns the cashier's key for the dashboard to use.
    pub async fn lock(&self) -> Result<CashierKey> {
        let _turn = self.state.judging.lock().await;
        if self.store.setting(PIN).await?.is_none() {
            return Err(Error::conflict(
                ErrorCode::CashierConflict,
                "set a PIN first: unlocking will need it",
            ));
        }
        if self.is_locked() {
            return Err(Error::conflict(
                ErrorCode::CashierConflict,
                "the app is locked already",
            ));
        }
        let key = self.keys.new_cashier_key().await?;
        if let Err(e) = self.store.set_setting(LOCKED, "1").await {
            // Not locked after all: the new key must not outlive this failure.
            if let Err(revoking) = self.keys.retire_cashier_key().await {
                tracing::warn!(error = %revoking, "could not revoke the cashier's key of a lock that failed");
            }
            return Err(e);
        }
        self.state.locked.store(true, Ordering::SeqCst);
        Ok(CashierKey { locked: true, key })
    }

    /// The cashier's key while locked (the dashboard asks again after a restart). There is none
    /// while unlocked.
    pub async fn cashier_key(&self) -> Result<String> {
        let _turn = self.state.judging.lock().await;
        if !self.is_locked() {
            return Err(Error::conflict(
                ErrorCode::CashierConflict,
                "the app is not locked, so there is no cashier's key",
            ));
        }
        Ok(self.keys.cashier_key().await?.0)
    }

    /// Unlocks with the owner's PIN; returns the admin key and revokes the cashier's. Wrong PINs
    /// are counted and, past the free tries, each must wait (`429 rate_limited`, saying until
    /// when). Tries are judged one at a time (see the module doc).
    pub async fn unlock(&self, pin: &str) -> Result<CashierKey> {
        let _turn = self.state.judging.lock().await;
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
        // Counted before the PIN is checked: a client that hangs up while Argon2 runs has still
        // used a try (a right PIN resets the count below).
        let (failures, wait) = self.count_wrong_pin(now).await?;
        let right = verify_pin(hash, pin).await?;
        if !right {
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
        // The cashier's key first: should this fail, the app stays locked and the owner tries
        // again (a locked app whose key is gone gets a new one from `cashier_key`).
        self.keys.retire_cashier_key().await?;
        let mut tx = self.store.pool().begin().await?;
        for (name, value) in [(FAILURES, "0"), (RETRY_AT, "0"), (LOCKED, "0")] {
            sqlx::query(
                "INSERT INTO settings (name, value) VALUES (?, ?)
                 ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            )
            .bind(name)
            .bind(value)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.state.locked.store(false, Ordering::SeqCst);
        let (key, _) = self.keys.admin_key().await?;
        Ok(CashierKey { locked: false, key })
    }

    /// Counts one more try and starts the wait it calls for, in one transaction whose count is one
    /// SQL statement; returns the count and the wait (ms).
    async fn count_wrong_pin(&self, now: i64) -> Result<(u32, i64)> {
        let mut tx = self.store.pool().begin().await?;
        let failures: i64 = sqlx::query_scalar(
            "INSERT INTO settings (name, value) VALUES (?, '1')
             ON CONFLICT(name) DO UPDATE SET value = CAST(value AS INTEGER) + 1
             RETURNING CAST(value AS INTEGER)",
        )
        .bind(FAILURES)
        .fetch_one(&mut *tx)
        .await?;
        let failures = u32::try_from(failures.max(0)).unwrap_or(u32::MAX);
        let wait = wait_after(failures);
        if wait > 0 {
            sqlx::query(
                "INSERT INTO settings (name, value) VALUES (?, ?)
                 ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            )
            .bind(RETRY_AT)
            .bind((now + wait).to_string())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok((failures, wait))
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
    use crate::config::SecretsBackend;
    use crate::keys::AuthFailure;
    use crate::secrets::SecretStore;
    use crate::store::test_support::temp_store;

    /// A store, its keys and a lock state, with the PIN 2468 set.
    async fn counter() -> (tempfile::TempDir, Store, Keys, LockState) {
        let (dir, store) = temp_store().await;
        let secrets = SecretStore::open(SecretsBackend::File, dir.path(), "t")
            .await
            .expect("secrets");
        let keys = Keys::new(store.clone(), secrets, dir.path().join("keys.changed"));
        let state = LockState::default();
        Cashier::new(&store, &keys, &state)
            .set_pin("2468")
            .await
            .expect("pin");
        (dir, store, keys, state)
    }

    /// However many wrong PINs arrive at once, at most the free tries are judged before the
    /// wait starts; the rest are refused without running Argon2, and after the wait the right
    /// PIN still unlocks.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_wrong_pins_cannot_pass_the_limit() -> Result<()> {
        let (_dir, store, keys, state) = counter().await;
        let state = std::sync::Arc::new(state);
        let cashier = Cashier::new(&store, &keys, &state);
        cashier.lock().await?;
        let tries: Vec<_> = (0..100)
            .map(|i| {
                let (store, keys, state) = (store.clone(), keys.clone(), state.clone());
                tokio::spawn(async move {
                    Cashier::new(&store, &keys, &state)
                        .unlock(&format!("{:04}", 1000 + i))
                        .await
                })
            })
            .collect();
        let mut answers = Vec::new();
        for t in tries {
            answers.push(t.await.expect("unlock task"));
        }
        let count = |code: ErrorCode| {
            answers
                .iter()
                .filter(|a| matches!(a, Err(e) if e.code() == code))
                .count()
        };
        let (wrong, waiting) = (count(ErrorCode::WrongPin), count(ErrorCode::RateLimited));
        assert!(wrong <= FREE_TRIES as usize, "{wrong} wrong PINs judged");
        assert_eq!(wrong + waiting, 100, "every try is one or the other");
        assert!(cashier.is_locked());
        assert_eq!(cashier.failures().await?, wrong as u32);
        // The wait runs out (moved into the past here): the right PIN unlocks.
        store.set_setting(RETRY_AT, "1").await?;
        assert!(!cashier.unlock("2468").await?.locked);
        assert_eq!(cashier.failures().await?, 0);
        Ok(())
    }

    /// Each lock has its own cashier's key, revoked at unlock, and no other is made meanwhile.
    #[tokio::test]
    async fn the_cashier_key_lives_for_one_lock() -> Result<()> {
        let (_dir, store, keys, state) = counter().await;
        let cashier = Cashier::new(&store, &keys, &state);
        assert!(cashier.cashier_key().await.is_err(), "none while unlocked");
        // Two locks at once (a double click): one locks, and only its key is live.
        let (a, b) = tokio::join!(cashier.lock(), cashier.lock());
        assert!(a.is_ok() != b.is_ok(), "one lock, one refusal");
        let first = a.or(b)?.key;
        assert_eq!(
            cashier.cashier_key().await?,
            first,
            "the same within a lock"
        );
        assert!(cashier.lock().await.is_err(), "locked already");
        cashier.unlock("2468").await?;
        assert_eq!(
            keys.authenticate(&first).await?.err(),
            Some(AuthFailure::Revoked),
            "revoked at unlock"
        );
        let second = cashier.lock().await?.key;
        assert_ne!(first, second);
        let key = keys.authenticate(&second).await?.expect("live");
        assert_eq!(key.role, Some(crate::keys::KeyRole::Cashier));
        assert!(cashier.status(&key.id).await?.you_are_cashier);
        // A restart that finds the app unlocked with a live cashier's key revokes it.
        store.set_setting(LOCKED, "0").await?;
        let restarted = LockState::default();
        load(&store, &keys, &restarted).await?;
        assert_eq!(
            keys.authenticate(&second).await?.err(),
            Some(AuthFailure::Revoked)
        );
        Ok(())
    }

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
