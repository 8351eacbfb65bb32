//! Cashiers: a name and their own PIN each. The owner adds and removes them; at the locked
//! counter they sign in by picking their name and typing their PIN, and every sale, refund and
//! tip they take then names them.
//!
//! Their PINs follow the owner's rules ([`crate::cashier`]): 4 to 12 digits kept as an Argon2id
//! hash; after 5 wrong PINs in a row for one person each further try for that person waits 30 s,
//! doubling up to 15 minutes, the count and the wait stored with them (a restart does not reset
//! them); sign-ins are judged one at a time and each try is counted before its PIN is checked,
//! so tries arriving at once cannot pass the limit, and a try during the wait runs no Argon2.
//!
//! Who is signed in is stored as `staff id:cashier key id`, so it holds only for the lock whose
//! key it names: a new lock, or the owner unlocking, starts with nobody.

use serde::{Deserialize, Serialize};

use super::{StaffRef, Till};
use crate::cashier::{check_pin, hash_pin, verify_pin, wait_after, FREE_TRIES};
use crate::error::{Error, ErrorCode, Result};
use crate::store::Store;
use crate::util::{new_id, now_ms, rfc3339};

/// The setting naming who is at the locked counter.
const SIGNED_IN: &str = "till_signed_in";
/// The most cashiers.
pub const MAX_STAFF: i64 = 200;
/// The longest name, in bytes.
pub const MAX_NAME_BYTES: usize = 40;

/// A cashier.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Staff {
    /// `stf_…`
    pub id: String,
    /// Their name, on receipts and reports.
    pub name: String,
    /// When they were added.
    pub created_at: String,
    /// Wrong PINs in a row so far.
    pub failed_attempts: u32,
    /// When their next try is allowed, after too many wrong PINs (null: now).
    pub retry_at: Option<String>,
}

/// A new cashier.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStaff {
    /// 1 to 40 bytes, no control characters.
    #[schema(
        min_length = 1,
        max_length = 40,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]+$"
    )]
    pub name: String,
    /// 4 to 12 digits.
    #[schema(pattern = "^[0-9]{4,12}$", example = "1357")]
    pub pin: String,
}

/// A change to a cashier: a new name, a new PIN, or both.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffChange {
    /// 1 to 40 bytes, no control characters.
    #[schema(
        min_length = 1,
        max_length = 40,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]+$"
    )]
    pub name: Option<String>,
    /// 4 to 12 digits (resets their wrong-PIN count).
    #[schema(pattern = "^[0-9]{4,12}$")]
    pub pin: Option<String>,
}

/// A cashier signing in at the counter.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    /// The cashier (`stf_…`).
    pub staff_id: String,
    /// Their PIN.
    #[schema(pattern = "^[0-9]{4,12}$")]
    pub pin: String,
}

#[derive(sqlx::FromRow)]
struct StaffRow {
    id: String,
    name: String,
    created_at: i64,
    failures: i64,
    retry_at: i64,
}

impl StaffRow {
    fn into_staff(self) -> Staff {
        let now = now_ms();
        Staff {
            id: self.id,
            name: self.name,
            created_at: rfc3339(self.created_at),
            failed_attempts: u32::try_from(self.failures.max(0)).unwrap_or(u32::MAX),
            retry_at: (self.retry_at > now).then(|| rfc3339(self.retry_at)),
        }
    }
}

fn check_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.len() > MAX_NAME_BYTES {
        return Err(Error::invalid(
            "name",
            format!("a cashier's name is 1 to {MAX_NAME_BYTES} bytes"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid(
            "name",
            "a cashier's name has no control characters",
        ));
    }
    Ok(name.to_string())
}

/// How many cashiers there are (not counting removed ones).
pub(crate) async fn count(store: &Store) -> Result<u64> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM staff WHERE archived_at IS NULL")
        .fetch_one(store.pool())
        .await?;
    Ok(n.max(0) as u64)
}

/// Every name by id, removed cashiers too (for reports of the past).
pub(crate) async fn names(store: &Store) -> Result<std::collections::HashMap<String, String>> {
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT id, name FROM staff")
        .fetch_all(store.pool())
        .await?;
    Ok(rows.into_iter().collect())
}

/// The person a stored staff id names (removed ones too).
pub(crate) fn person(
    names: &std::collections::HashMap<String, String>,
    id: Option<&str>,
) -> Option<StaffRef> {
    id.map(|id| StaffRef {
        id: id.to_string(),
        name: names.get(id).cloned().unwrap_or_else(|| "(removed)".into()),
    })
}

impl Till<'_> {
    /// Every cashier, in the order they were added.
    pub async fn staff(&self) -> Result<Vec<Staff>> {
        let rows: Vec<StaffRow> = sqlx::query_as(
            "SELECT id, name, created_at, failures, retry_at FROM staff
             WHERE archived_at IS NULL ORDER BY seq",
        )
        .fetch_all(self.store.pool())
        .await?;
        Ok(rows.into_iter().map(StaffRow::into_staff).collect())
    }

    async fn staff_row(&self, id: &str) -> Result<StaffRow> {
        sqlx::query_as(
            "SELECT id, name, created_at, failures, retry_at FROM staff
             WHERE id = ? AND archived_at IS NULL",
        )
        .bind(id)
        .fetch_optional(self.store.pool())
        .await?
        .ok_or_else(|| Error::NotFound {
            kind: "cashier",
            id: id.to_string(),
        })
    }

    /// Adds a cashier.
    pub async fn add_staff(&self, new: NewStaff) -> Result<Staff> {
        let name = check_name(&new.name)?;
        check_pin(&new.pin)?;
        if count(self.store).await? as i64 >= MAX_STAFF {
            return Err(Error::unprocessable(
                ErrorCode::TillFull,
                None,
                format!("the till has {MAX_STAFF} cashiers already: remove one first"),
            ));
        }
        let hash = hash_pin(&new.pin).await?;
        let id = new_id("stf");
        sqlx::query("INSERT INTO staff (id, name, pin_hash, created_at) VALUES (?, ?, ?, ?)")
            .bind(&id)
            .bind(&name)
            .bind(&hash)
            .bind(now_ms())
            .execute(self.store.writer())
            .await?;
        Ok(self.staff_row(&id).await?.into_staff())
    }

    /// Renames a cashier, or gives them a new PIN (which clears their wrong-PIN count).
    pub async fn change_staff(&self, id: &str, change: StaffChange) -> Result<Staff> {
        self.staff_row(id).await?;
        let name = change.name.as_deref().map(check_name).transpose()?;
        if let Some(pin) = &change.pin {
            check_pin(pin)?;
        }
        let hash = match &change.pin {
            Some(pin) => Some(hash_pin(pin).await?),
            None => None,
        };
        sqlx::query(
            "UPDATE staff SET name = COALESCE(?, name), pin_hash = COALESCE(?, pin_hash),
                 failures = CASE WHEN ? THEN 0 ELSE failures END,
                 retry_at = CASE WHEN ? THEN 0 ELSE retry_at END
             WHERE id = ? AND archived_at IS NULL",
        )
        .bind(name)
        .bind(&hash)
        .bind(hash.is_some())
        .bind(hash.is_some())
        .bind(id)
        .execute(self.store.writer())
        .await?;
        Ok(self.staff_row(id).await?.into_staff())
    }

    /// Removes a cashier: they can no longer sign in (and are signed out), and stay named in
    /// the sales they took.
    pub async fn remove_staff(&self, id: &str) -> Result<()> {
        let _turn = self.state.judging.lock().await;
        let done =
            sqlx::query("UPDATE staff SET archived_at = ? WHERE id = ? AND archived_at IS NULL")
                .bind(now_ms())
                .bind(id)
                .execute(self.store.writer())
                .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound {
                kind: "cashier",
                id: id.to_string(),
            });
        }
        if self.signed_in_raw().await?.is_some_and(|(s, _)| s == id) {
            self.store.set_setting(SIGNED_IN, "").await?;
        }
        Ok(())
    }

    async fn signed_in_raw(&self) -> Result<Option<(String, String)>> {
        Ok(self.store.setting(SIGNED_IN).await?.and_then(|v| {
            v.split_once(':')
                .map(|(s, k)| (s.to_string(), k.to_string()))
        }))
    }

    /// Who is signed in at the locked counter now (nobody when unlocked, or when the lock whose
    /// key they signed in with has ended).
    pub async fn signed_in(&self) -> Result<Option<StaffRef>> {
        if !self.lock.is_locked() {
            return Ok(None);
        }
        let Some((staff_id, key_id)) = self.signed_in_raw().await? else {
            return Ok(None);
        };
        if !self.keys.is_cashier(&key_id).await? {
            return Ok(None);
        }
        match self.staff_row(&staff_id).await {
            Ok(row) => Ok(Some(StaffRef {
                id: row.id,
                name: row.name,
            })),
            Err(Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A cashier signs in at the locked counter with their PIN (the key asking must be the
    /// cashier's key of this lock). Wrong PINs are counted for that person and, past the free
    /// tries, each must wait (`429 rate_limited`).
    pub async fn sign_in(&self, key_id: &str, body: &SignIn) -> Result<StaffRef> {
        if !self.lock.is_locked() || !self.keys.is_cashier(key_id).await? {
            return Err(Error::conflict(
                ErrorCode::CashierConflict,
                "cashiers sign in at the locked counter: lock the app to the point of sale first",
            ));
        }
        judge(
            self.store,
            &self.state.judging,
            &body.staff_id,
            &body.pin,
            key_id,
        )
        .await
    }

    /// Signs the cashier out: the counter asks for a PIN before the next sale.
    pub async fn sign_out(&self) -> Result<()> {
        let _turn = self.state.judging.lock().await;
        self.store.set_setting(SIGNED_IN, "").await
    }
}

/// Judges one sign-in of `staff_id` with `pin` and, when right, signs them in with the cashier's
/// key `key_id`: one at a time (`judging`), the try counted before the PIN is checked.
async fn judge(
    store: &Store,
    judging: &tokio::sync::Mutex<()>,
    staff_id: &str,
    pin: &str,
    key_id: &str,
) -> Result<StaffRef> {
    let _turn = judging.lock().await;
    let row: Option<(String, String, String, i64)> = sqlx::query_as(
        "SELECT id, name, pin_hash, retry_at FROM staff WHERE id = ? AND archived_at IS NULL",
    )
    .bind(staff_id)
    .fetch_optional(store.pool())
    .await?;
    let Some((id, name, hash, retry_at)) = row else {
        return Err(Error::NotFound {
            kind: "cashier",
            id: staff_id.to_string(),
        });
    };
    let now = now_ms();
    if retry_at > now {
        return Err(Error::forbidden(
            ErrorCode::RateLimited,
            Some("pin"),
            format!(
                "too many wrong PINs for {name}: try again in {} s",
                (retry_at - now + 999) / 1000
            ),
        ));
    }
    // Counted, and the wait it calls for started, in one transaction before the PIN is
    // checked (a right PIN resets them below).
    let mut counting = store.writer().begin().await?;
    let failures: i64 = sqlx::query_scalar(
        "UPDATE staff SET failures = failures + 1 WHERE id = ? RETURNING failures",
    )
    .bind(&id)
    .fetch_one(&mut *counting)
    .await?;
    let failures = u32::try_from(failures.max(0)).unwrap_or(u32::MAX);
    let wait = wait_after(failures);
    if wait > 0 {
        sqlx::query("UPDATE staff SET retry_at = ? WHERE id = ?")
            .bind(now + wait)
            .bind(&id)
            .execute(&mut *counting)
            .await?;
    }
    counting.commit().await?;
    if !verify_pin(hash, pin).await? {
        let left = FREE_TRIES.saturating_sub(failures);
        return Err(Error::forbidden(
            ErrorCode::WrongPin,
            Some("pin"),
            if left > 0 {
                format!("wrong PIN for {name} ({left} more tries before each must wait)")
            } else {
                format!(
                    "wrong PIN for {name}: the next try can be made in {} s",
                    wait / 1000
                )
            },
        ));
    }
    let mut tx = store.writer().begin().await?;
    sqlx::query("UPDATE staff SET failures = 0, retry_at = 0 WHERE id = ?")
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO settings (name, value) VALUES (?, ?)
             ON CONFLICT(name) DO UPDATE SET value = excluded.value",
    )
    .bind(SIGNED_IN)
    .bind(format!("{id}:{key_id}"))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(StaffRef { id, name })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::temp_store;

    async fn cashier(store: &Store, name: &str, pin: &str) -> Result<String> {
        let id = new_id("stf");
        sqlx::query("INSERT INTO staff (id, name, pin_hash, created_at) VALUES (?, ?, ?, ?)")
            .bind(&id)
            .bind(name)
            .bind(hash_pin(pin).await?)
            .bind(now_ms())
            .execute(store.writer())
            .await?;
        Ok(id)
    }

    /// However many wrong PINs for one cashier arrive at once, at most the free tries are
    /// judged before their wait starts (the rest are refused without Argon2); another cashier
    /// is not held up by it; and a right PIN signs in and clears the count.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_wrong_pins_cannot_pass_the_limit_and_count_per_cashier() -> Result<()> {
        let (_dir, store) = temp_store().await;
        let alice = cashier(&store, "Alice", "1357").await?;
        let bob = cashier(&store, "Bob", "2468").await?;
        let judging = std::sync::Arc::new(tokio::sync::Mutex::new(()));
        let tries: Vec<_> = (0..60)
            .map(|i| {
                let (store, judging, alice) = (store.clone(), judging.clone(), alice.clone());
                tokio::spawn(async move {
                    judge(&store, &judging, &alice, &format!("{:04}", 2000 + i), "key").await
                })
            })
            .collect();
        let mut answers = Vec::new();
        for t in tries {
            answers.push(t.await.expect("sign-in task"));
        }
        let count = |code: ErrorCode| {
            answers
                .iter()
                .filter(|a| matches!(a, Err(e) if e.code() == code))
                .count()
        };
        let (wrong, waiting) = (count(ErrorCode::WrongPin), count(ErrorCode::RateLimited));
        assert!(wrong <= FREE_TRIES as usize, "{wrong} wrong PINs judged");
        assert_eq!(wrong + waiting, 60, "every try is one or the other");
        // Alice waits, even with her right PIN; Bob signs in.
        let right = judge(&store, &judging, &alice, "1357", "key").await;
        assert_eq!(right.err().map(|e| e.code()), Some(ErrorCode::RateLimited));
        let signed = judge(&store, &judging, &bob, "2468", "key").await?;
        assert_eq!(signed.name, "Bob");
        assert_eq!(store.setting(SIGNED_IN).await?, Some(format!("{bob}:key")));
        // Her wait over (moved into the past here), the right PIN signs in and clears the count.
        sqlx::query("UPDATE staff SET retry_at = 1 WHERE id = ?")
            .bind(&alice)
            .execute(store.writer())
            .await?;
        judge(&store, &judging, &alice, "1357", "key").await?;
        let (failures, retry_at): (i64, i64) =
            sqlx::query_as("SELECT failures, retry_at FROM staff WHERE id = ?")
                .bind(&alice)
                .fetch_one(store.pool())
                .await?;
        assert_eq!((failures, retry_at), (0, 0));
        Ok(())
    }

    #[test]
    fn names_are_one_line_of_at_most_forty_bytes() {
        assert_eq!(check_name("  Alice ").ok().as_deref(), Some("Alice"));
        for bad in ["", "   ", "a\nb", &"x".repeat(41)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
