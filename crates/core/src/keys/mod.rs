//! API keys, reached through [`Keys`] (`app.keys()`): creation, listing, revocation,
//! authentication, and the app's own keys (the dashboard's admin key, the customer display's
//! read-only key). Their rows are in [`db`].
//!
//! A key reads `pk_<id>_<secret>`: the id (12 characters) finds the row, the secret (32
//! alphanumerics, ~190 bits) proves possession. SQLite keeps only a SHA-256 of the whole key, which
//! is enough for a random secret of that length (no password stretching needed); the full key is
//! kept in the secret store so the owner can reveal it again from the dashboard.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

mod cache;
mod db;

use serde::Serialize;
use subtle::ConstantTimeEq;

use crate::error::{Error, ErrorCode, Result};
use crate::secrets::SecretStore;
use crate::store::Store;
use crate::util::{now_ms, random_alnum, random_lower, rfc3339, sha256_hex};

/// A permission a key can carry.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
pub enum Permission {
    /// Read invoices, payments, balance, events.
    #[serde(rename = "lightning:read")]
    LightningRead,
    /// Create invoices.
    #[serde(rename = "lightning:receive")]
    LightningReceive,
    /// Create invoices and send payments.
    #[serde(rename = "lightning:write")]
    LightningWrite,
    /// Manage API keys and webhooks.
    #[serde(rename = "keys:manage")]
    KeysManage,
    /// Manage the node: channels, on-chain funds, sandbox controls.
    #[serde(rename = "node:manage")]
    NodeManage,
    /// Manage the catalog: items and tax rates (reading it needs `lightning:read` or
    /// `lightning:receive`).
    #[serde(rename = "catalog:manage")]
    CatalogManage,
    /// Show the point of sale's current sale on a customer display, and answer its tip question;
    /// nothing else. A key with only this permission is refused by every other endpoint.
    #[serde(rename = "display:read")]
    DisplayRead,
}

impl Permission {
    /// Every permission, in documentation order.
    pub const ALL: [Permission; 7] = [
        Permission::LightningRead,
        Permission::LightningReceive,
        Permission::LightningWrite,
        Permission::KeysManage,
        Permission::NodeManage,
        Permission::CatalogManage,
        Permission::DisplayRead,
    ];

    /// The permission's API name, e.g. `lightning:read`.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::LightningRead => "lightning:read",
            Permission::LightningReceive => "lightning:receive",
            Permission::LightningWrite => "lightning:write",
            Permission::KeysManage => "keys:manage",
            Permission::NodeManage => "node:manage",
            Permission::CatalogManage => "catalog:manage",
            Permission::DisplayRead => "display:read",
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Permission {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Permission::ALL
            .into_iter()
            .find(|p| p.as_str() == s.trim())
            .ok_or_else(|| {
                let known: Vec<&str> = Permission::ALL.iter().map(|p| p.as_str()).collect();
                Error::invalid(
                    "permissions",
                    format!("unknown permission '{s}': use one of {}", known.join(", ")),
                )
            })
    }
}

/// What a key is to the app itself. The app's own keys are handed out by the app alone (the admin
/// key to the dashboard, the cashier's key to the locked counter, a display's key at pairing):
/// no other key may reveal them, and only the admin key may revoke the cashier's and the
/// displays'. Without this, any key holding the admin key's seven permissions could read the
/// admin key, and with it the recovery words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum KeyRole {
    /// The dashboard's admin key.
    Admin,
    /// The locked counter's key: a new one each time the app is locked, revoked at unlock.
    Cashier,
    /// A customer display's key (`display:read` alone).
    Display,
}

impl KeyRole {
    /// The role's stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyRole::Admin => "admin",
            KeyRole::Cashier => "cashier",
            KeyRole::Display => "display",
        }
    }
}

impl FromStr for KeyRole {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        [KeyRole::Admin, KeyRole::Cashier, KeyRole::Display]
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| Error::Config(format!("unknown key role '{s}'")))
    }
}

/// What a key asks to do with another key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAction {
    /// Read its secret again.
    Reveal,
    /// Revoke it.
    Revoke,
}

/// A stored API key, without its secret.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApiKey {
    /// The key's id (the part after `pk_`).
    pub id: String,
    /// A name chosen by the owner.
    pub name: String,
    /// The permissions it carries.
    pub permissions: BTreeSet<Permission>,
    /// Max sats it may send per UTC day, if limited.
    pub budget: Option<u64>,
    /// When it stops working, if ever.
    pub expires_at: Option<String>,
    /// When it was created.
    pub created_at: String,
    /// When it last authenticated a request.
    pub last_used_at: Option<String>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<String>,
    /// The visible beginning of the key, to recognise it (`pk_<id>_…`).
    pub prefix: String,
    /// What the key is to the app (`admin`, `cashier`, `display`), or null for a key made by a
    /// person. The app's own keys are never revealed through another key.
    pub role: Option<KeyRole>,
    #[serde(skip)]
    pub(crate) expires_at_ms: Option<i64>,
    #[serde(skip)]
    pub(crate) revoked: bool,
    #[serde(skip)]
    pub(crate) last_used_at_ms: Option<i64>,
}

impl ApiKey {
    /// Whether the key carries `permission`. `lightning:write` implies `lightning:receive`.
    pub fn allows(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
            || (permission == Permission::LightningReceive
                && self.permissions.contains(&Permission::LightningWrite))
    }

    /// Whether the key is a customer display's: `display:read` and nothing else. Such a key
    /// reaches only `/v1/display` (see the API's `Auth` extractor).
    pub fn display_only(&self) -> bool {
        self.permissions.len() == 1 && self.permissions.contains(&Permission::DisplayRead)
    }

    /// Checks that this key may create, reveal or revoke a key with `permissions`, `budget` and
    /// expiry `expires_at_ms`: no permission it lacks, no looser daily budget, no later expiry.
    /// Without this, a `keys:manage` key could mint itself an unlimited admin key, or reveal
    /// the dashboard's.
    pub fn may_manage(
        &self,
        permissions: &BTreeSet<Permission>,
        budget: Option<u64>,
        expires_at_ms: Option<i64>,
    ) -> Result<()> {
        if let Some(missing) = permissions.iter().find(|p| !self.allows(**p)) {
            return Err(Error::forbidden(
                ErrorCode::KeyScopeExceeded,
                Some("permissions"),
                format!("this API key cannot manage a key with the '{missing}' permission, which it does not have itself"),
            ));
        }
        if let Some(own) = self.budget {
            // Budgets are per key: a limited key making paying keys would add up their budgets.
            if permissions.contains(&Permission::LightningWrite) {
                return Err(Error::forbidden(
                    ErrorCode::KeyScopeExceeded,
                    Some("permissions"),
                    format!("this API key has a daily budget of {own} sat, so it cannot manage keys that can pay (lightning:write): their budgets would add to its own; use a key without a budget"),
                ));
            }
            if budget.is_none_or(|b| b > own) {
                return Err(Error::forbidden(
                    ErrorCode::KeyScopeExceeded,
                    Some("budget"),
                    format!("this API key has a daily budget of {own} sat: it can only manage keys with a budget of at most {own} sat"),
                ));
            }
        }
        if let Some(own) = self.expires_at_ms {
            if expires_at_ms.is_none_or(|at| at > own) {
                return Err(Error::forbidden(
                    ErrorCode::KeyScopeExceeded,
                    Some("expires_at"),
                    format!(
                        "this API key expires at {}: it can only manage keys that expire no later",
                        rfc3339(own)
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Whether the key still works at `now_ms`: `Err` says why not. (Checked again by long-lived
    /// sessions such as the event stream, which must end when their key is revoked.)
    pub fn check_live(&self, now_ms: i64) -> std::result::Result<(), AuthFailure> {
        if self.revoked {
            Err(AuthFailure::Revoked)
        } else if matches!(self.expires_at_ms, Some(at) if at <= now_ms) {
            Err(AuthFailure::Expired)
        } else {
            Ok(())
        }
    }

    /// Whether this key may reveal or revoke `other`. A key may always manage itself (reveal, or
    /// revoke when it leaked). The app's own keys are protected whatever this key holds: the
    /// admin key is managed by no other key; the cashier's and the displays' are never revealed
    /// (the app hands them out itself) and are revoked by the admin key alone. Any other key is
    /// managed within this key's own scope ([`ApiKey::may_manage`]).
    pub fn may_manage_key(&self, other: &ApiKey, action: KeyAction) -> Result<()> {
        if other.id == self.id {
            return Ok(());
        }
        let role = other
            .role
            .or(other.display_only().then_some(KeyRole::Display));
        let refused = |message: &str| {
            Err(Error::forbidden(
                ErrorCode::KeyProtected,
                None,
                message.to_string(),
            ))
        };
        match (role, action) {
            (Some(KeyRole::Admin), _) => refused(
                "this is the dashboard's admin key: no other key can reveal or revoke it, whatever it holds",
            ),
            (Some(KeyRole::Cashier), KeyAction::Reveal) => refused(
                "this is the cashier's key: the app hands it to the locked counter itself, and no key can reveal it",
            ),
            (Some(KeyRole::Display), KeyAction::Reveal) => refused(
                "this is a customer display's key: the display received it when it paired, and no key can reveal it",
            ),
            (Some(KeyRole::Cashier | KeyRole::Display), KeyAction::Revoke)
                if self.role != Some(KeyRole::Admin) =>
            {
                refused("only the dashboard's admin key can revoke the cashier's or a display's key")
            }
            (Some(KeyRole::Cashier | KeyRole::Display), KeyAction::Revoke) => Ok(()),
            (None, _) => self.may_manage(&other.permissions, other.budget, other.expires_at_ms),
        }
    }
}

/// What is needed to create a key.
#[derive(Debug, Clone)]
pub struct NewKey {
    /// A name for people (1–100 characters).
    pub name: String,
    /// Its permissions (at least one).
    pub permissions: BTreeSet<Permission>,
    /// Daily send budget in sats.
    pub budget: Option<u64>,
    /// Expiry, unix milliseconds.
    pub expires_at_ms: Option<i64>,
}

/// A key just created: the only time its secret is returned.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedKey {
    /// The stored key.
    #[serde(flatten)]
    pub key: ApiKey,
    /// The full key to put in `Authorization: Bearer …`.
    pub secret: String,
}

/// Why a presented key was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// Not of the `pk_<id>_<secret>` form.
    Malformed,
    /// No such key, or the secret does not match.
    Unknown,
    /// Revoked.
    Revoked,
    /// Past its expiry.
    Expired,
}

impl AuthFailure {
    /// Why, said for the client (the API's 401 messages and the stream's close reason).
    pub fn message(self) -> &'static str {
        match self {
            AuthFailure::Malformed => {
                "this is not a PayAiML API key (they look like pk_<id>_<secret>)"
            }
            AuthFailure::Unknown => "this API key is not valid",
            AuthFailure::Revoked => "this API key was revoked",
            AuthFailure::Expired => "this API key has expired",
        }
    }
}

/// The key registry.
#[derive(Clone, Debug)]
pub struct Keys {
    store: Store,
    secrets: SecretStore,
    /// Keys already read (see [`cache`]).
    cache: std::sync::Arc<cache::KeyCache>,
}

/// How stale `last_used_at` may get before a request refreshes it.
const LAST_USED_PRECISION_MS: i64 = 60_000;

pub(crate) fn secret_name(id: &str) -> String {
    format!("api-key/{id}")
}

impl Keys {
    /// A registry over the store and secret store. `marker` is the file beside the database by
    /// which processes sharing it announce revocations (see [`cache`]).
    pub(crate) fn new(store: Store, secrets: SecretStore, marker: std::path::PathBuf) -> Self {
        Keys {
            store,
            secrets,
            cache: std::sync::Arc::new(cache::KeyCache::new(marker)),
        }
    }

    /// Creates a key, keeps its full value in the secret store, and returns it once.
    pub async fn create(&self, new: NewKey) -> Result<CreatedKey> {
        self.create_as(new, None).await
    }

    /// [`Keys::create`] for one of the app's own keys.
    pub(crate) async fn create_as(&self, new: NewKey, role: Option<KeyRole>) -> Result<CreatedKey> {
        let name = new.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(Error::invalid("name", "name must be 1 to 100 characters"));
        }
        if new.permissions.is_empty() {
            return Err(Error::invalid(
                "permissions",
                "give at least one permission",
            ));
        }
        if new.budget == Some(0) {
            return Err(Error::invalid(
                "budget",
                "budget must be a positive number of sats",
            ));
        }
        let now = now_ms();
        if matches!(new.expires_at_ms, Some(at) if at <= now) {
            return Err(Error::invalid(
                "expires_at",
                "expires_at must be in the future",
            ));
        }
        let id = random_lower(12);
        let secret = format!("pk_{id}_{}", random_alnum(32));
        // The secret store first: a key that is in SQLite but not in the keyring could never be
        // revealed again, while a stray keyring entry is harmless.
        self.secrets.set(&secret_name(&id), &secret).await?;
        let perms = join_permissions(&new.permissions);
        let budget = new.budget.map(|b| b as i64);
        sqlx::query(
            "INSERT INTO api_keys (id, name, secret_hash, permissions, budget_sat, expires_at, created_at, role)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(&name)
        .bind(sha256_hex(secret.as_bytes()))
        .bind(&perms)
        .bind(budget)
        .bind(new.expires_at_ms)
        .bind(now)
        .bind(role.map(KeyRole::as_str))
        .execute(self.store.pool())
        .await?;
        let key = self.get(&id).await?;
        Ok(CreatedKey { key, secret })
    }

    /// One key by id.
    pub async fn get(&self, id: &str) -> Result<ApiKey> {
        db::get(&self.store, id)
            .await?
            .map(ApiKey::from)
            .ok_or_else(|| Error::NotFound {
                kind: "key",
                id: id.to_string(),
            })
    }

    /// Every key, newest first, revoked ones included (marked).
    pub async fn list(&self) -> Result<Vec<ApiKey>> {
        Ok(db::list(&self.store)
            .await?
            .into_iter()
            .map(ApiKey::from)
            .collect())
    }

    /// Revokes a key (next request fails) and forgets its secret.
    pub async fn revoke(&self, id: &str) -> Result<ApiKey> {
        let id = key_id(id);
        // Forgotten before and after the write: a request that read the key meanwhile does not
        // keep it (see `cache`).
        self.cache.forget();
        let done =
            sqlx::query("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
                .bind(now_ms())
                .bind(id)
                .execute(self.store.pool())
                .await;
        self.cache.forget();
        let done = done?;
        let announced = self.cache.announce();
        let key = self.get(id).await?;
        if done.rows_affected() > 0 {
            self.secrets.delete(&secret_name(id)).await?;
        }
        // The revocation is in the database and the secret gone; a serving process beside this
        // one would keep honouring a key it already knew. Say so rather than pretend.
        announced.map_err(|e| {
            Error::io(
                "telling a running server that a key was revoked (restart it to be sure)",
                e,
            )
        })?;
        Ok(key)
    }

    #[cfg(test)]
    pub(crate) fn secrets_for_tests(&self) -> &SecretStore {
        &self.secrets
    }

    /// A live key's full value from the secret store; `None` if the key is revoked or unknown or
    /// its secret is gone from the store. A store that cannot be read is an error, not `None`.
    pub(crate) async fn reveal_live(&self, id: &str) -> Result<Option<String>> {
        match self.get(id).await {
            Ok(key) if !key.revoked => self.secrets.get(&secret_name(id)).await,
            Ok(_) | Err(Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Reveals a key's full value from the secret store.
    pub async fn reveal(&self, id: &str) -> Result<String> {
        let key = self.get(id).await?;
        if key.revoked {
            return Err(Error::unprocessable(
                ErrorCode::KeyRevoked,
                None,
                "this key is revoked",
            ));
        }
        self.secrets
            .get(&secret_name(id))
            .await?
            .ok_or_else(|| Error::Secrets(format!("key {id} is not in the secret store any more")))
    }

    /// Checks a presented key. On success records `last_used_at` and returns the key.
    pub async fn authenticate(
        &self,
        presented: &str,
    ) -> Result<std::result::Result<ApiKey, AuthFailure>> {
        let Some(id) = parse_key_id(presented) else {
            return Ok(Err(AuthFailure::Malformed));
        };
        let row = match self.cache.get(id) {
            (Some(row), _) => row,
            (None, generation) => {
                let Some(row) = db::get(&self.store, id).await? else {
                    return Ok(Err(AuthFailure::Unknown));
                };
                self.cache.keep(row.clone(), generation);
                row
            }
        };
        let presented_hash = sha256_hex(presented.as_bytes());
        // Constant time, so the time to refuse says nothing about how much of the hash matched.
        if !bool::from(row.secret_hash.as_bytes().ct_eq(presented_hash.as_bytes())) {
            return Ok(Err(AuthFailure::Unknown));
        }
        let key = ApiKey::from(row);
        let now = now_ms();
        if let Err(failure) = key.check_live(now) {
            return Ok(Err(failure));
        }
        self.used(&key, now).await?;
        Ok(Ok(key))
    }

    /// Records that `key` was used at `now` (a request that came another way than a bearer
    /// header: a wallet connection's, through its relay). `last_used_at` is for people ("used 5
    /// minutes ago"): minute precision spares every request a synchronous database write.
    pub async fn used(&self, key: &ApiKey, now: i64) -> Result<()> {
        if key
            .last_used_at_ms
            .is_none_or(|at| now - at >= LAST_USED_PRECISION_MS)
        {
            sqlx::query("UPDATE api_keys SET last_used_at = ? WHERE id = ?")
                .bind(now)
                .bind(&key.id)
                .execute(self.store.writer())
                .await?;
            self.cache.used(&key.id, now);
        }
        Ok(())
    }
}

/// The settings rows that name the app's own keys.
const ADMIN_KEY_SETTING: &str = "admin_key_id";
const DISPLAY_KEY_SETTING: &str = "display_key_id";
const CASHIER_KEY_SETTING: &str = "cashier_key_id";
const CASHIER_KEY_NAME: &str = "Cashier (point of sale)";

impl Keys {
    /// Returns the dashboard's admin key, creating it on first start. The second value is true
    /// when it was created by this call.
    ///
    /// A new admin key is made only when the old one is really gone (revoked, or its secret
    /// missing from the secret store), and then the old one is revoked: never two live admin
    /// keys. A secret store that cannot be read right now is an error, not a reason to mint one.
    pub async fn admin_key(&self) -> Result<(String, bool)> {
        self.own_key(
            ADMIN_KEY_SETTING,
            "Dashboard admin",
            Permission::ALL.into_iter().collect(),
            KeyRole::Admin,
        )
        .await
    }

    /// Whether `key_id` is the dashboard's admin key (the one key the recovery words are shown
    /// to; another key with every permission is not it).
    pub async fn is_admin(&self, key_id: &str) -> Result<bool> {
        Ok(self.store.setting(ADMIN_KEY_SETTING).await?.as_deref() == Some(key_id))
    }

    /// The key of the desktop app's customer display window: `display:read` only (it shows the
    /// point of sale's current sale and nothing else), made on first use like
    /// [`Keys::admin_key`].
    pub async fn display_key(&self) -> Result<(String, bool)> {
        self.own_key(
            DISPLAY_KEY_SETTING,
            "Customer display (this computer)",
            [Permission::DisplayRead].into_iter().collect(),
            KeyRole::Display,
        )
        .await
    }

    /// The cashier's key, which the dashboard uses while the app is locked to the point of sale:
    /// it makes invoices and reads only its own, and the catalog; nothing else. It lives for one
    /// lock: [`Keys::new_cashier_key`] makes it when the app locks and [`Keys::retire_cashier_key`]
    /// revokes it at unlock, so a copy taken from the counter's browser stops working then. This
    /// returns the current one (made again if its secret went missing from the secret store).
    pub async fn cashier_key(&self) -> Result<(String, bool)> {
        self.own_key(
            CASHIER_KEY_SETTING,
            CASHIER_KEY_NAME,
            [Permission::LightningReceive].into_iter().collect(),
            KeyRole::Cashier,
        )
        .await
    }

    /// A new cashier's key for a new lock; the previous one, if still live, is revoked first.
    pub async fn new_cashier_key(&self) -> Result<String> {
        self.retire_cashier_key().await?;
        self.mint_own(
            CASHIER_KEY_SETTING,
            CASHIER_KEY_NAME,
            [Permission::LightningReceive].into_iter().collect(),
            KeyRole::Cashier,
        )
        .await
    }

    /// Revokes the cashier's key, if there is one (the app unlocks, or opened unlocked).
    pub async fn retire_cashier_key(&self) -> Result<()> {
        let Some(id) = self.store.setting(CASHIER_KEY_SETTING).await? else {
            return Ok(());
        };
        match self.get(&id).await {
            Ok(key) if !key.revoked => {
                self.revoke(&id).await?;
            }
            Ok(_) | Err(Error::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
        Ok(())
    }

    /// Whether `key_id` is the cashier's key.
    pub async fn is_cashier(&self, key_id: &str) -> Result<bool> {
        Ok(self.store.setting(CASHIER_KEY_SETTING).await?.as_deref() == Some(key_id))
    }

    async fn own_key(
        &self,
        setting: &str,
        name: &str,
        permissions: BTreeSet<Permission>,
        role: KeyRole,
    ) -> Result<(String, bool)> {
        if let Some(id) = self.store.setting(setting).await? {
            if let Some(secret) = self.reveal_live(&id).await? {
                return Ok((secret, false));
            }
            match self.revoke(&id).await {
                Ok(_) | Err(Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
            tracing::warn!(old = %id, key = name, "a key's secret is gone from the secret store: made a new one and revoked the old one");
        }
        Ok((self.mint_own(setting, name, permissions, role).await?, true))
    }

    /// Makes one of the app's own keys and names it in `setting`.
    async fn mint_own(
        &self,
        setting: &str,
        name: &str,
        permissions: BTreeSet<Permission>,
        role: KeyRole,
    ) -> Result<String> {
        let created = self
            .create_as(
                NewKey {
                    name: name.into(),
                    permissions,
                    budget: None,
                    expires_at_ms: None,
                },
                Some(role),
            )
            .await?;
        self.store.set_setting(setting, &created.key.id).await?;
        Ok(created.secret)
    }
}

/// The key id in an id, `pk_<id>` or a whole key (all three name a key to revoke).
pub fn key_id(text: &str) -> &str {
    text.strip_prefix("pk_")
        .and_then(|rest| rest.split('_').next())
        .unwrap_or(text)
}

fn parse_key_id(presented: &str) -> Option<&str> {
    let rest = presented.strip_prefix("pk_")?;
    let (id, secret) = rest.split_once('_')?;
    let ok = id.len() == 12
        && secret.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && secret.bytes().all(|b| b.is_ascii_alphanumeric());
    ok.then_some(id)
}

/// Parses a comma-separated or repeated list of permission names.
pub fn parse_permissions<'a>(
    names: impl IntoIterator<Item = &'a str>,
) -> Result<BTreeSet<Permission>> {
    names
        .into_iter()
        .flat_map(|n| n.split(','))
        .filter(|n| !n.trim().is_empty())
        .map(Permission::from_str)
        .collect()
}

fn join_permissions(perms: &BTreeSet<Permission>) -> String {
    perms
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SecretsBackend;
    use crate::store::test_support::temp_store;

    async fn registry() -> (tempfile::TempDir, Keys) {
        let (dir, store) = temp_store().await;
        let secrets = SecretStore::open(SecretsBackend::File, dir.path(), "t")
            .await
            .expect("secrets");
        let marker = dir.path().join("keys.changed");
        (dir, Keys::new(store, secrets, marker))
    }

    fn new_key(perms: &[&str]) -> NewKey {
        NewKey {
            name: "shop".into(),
            permissions: parse_permissions(perms.iter().copied()).expect("perms"),
            budget: None,
            expires_at_ms: None,
        }
    }

    #[tokio::test]
    async fn create_authenticate_revoke() -> Result<()> {
        let (_dir, keys) = registry().await;
        let created = keys
            .create(new_key(&["lightning:read,lightning:write"]))
            .await?;
        assert!(created.secret.starts_with(&created.key.prefix));
        let key = keys
            .authenticate(&created.secret)
            .await?
            .expect("valid key");
        assert!(key.allows(Permission::LightningReceive));
        assert!(!key.allows(Permission::KeysManage));
        assert_eq!(keys.reveal(&key.id).await?, created.secret);

        let mut wrong = created.secret.clone();
        wrong.pop();
        wrong.push(if created.secret.ends_with('A') {
            'B'
        } else {
            'A'
        });
        assert_eq!(
            keys.authenticate(&wrong).await?.err(),
            Some(AuthFailure::Unknown)
        );
        assert_eq!(
            keys.authenticate("nonsense").await?.err(),
            Some(AuthFailure::Malformed)
        );

        keys.revoke(&key.id).await?;
        assert_eq!(
            keys.authenticate(&created.secret).await?.err(),
            Some(AuthFailure::Revoked)
        );
        assert!(keys.reveal(&key.id).await.is_err());
        Ok(())
    }

    /// Keys are checked from memory once read; a revocation still takes effect at once, also
    /// one made by another process on the same database (the `keys` command beside a daemon).
    #[tokio::test]
    async fn a_revocation_by_another_process_takes_effect_at_once() -> Result<()> {
        let (dir, keys) = registry().await;
        let created = keys.create(new_key(&["lightning:read"])).await?;
        assert!(keys.authenticate(&created.secret).await?.is_ok());
        // Served from memory now: a change written behind the registry's back is not seen...
        sqlx::query("UPDATE api_keys SET name = 'renamed' WHERE id = ?")
            .bind(&created.key.id)
            .execute(keys.store.pool())
            .await?;
        assert_eq!(
            keys.authenticate(&created.secret).await?.map(|k| k.name),
            Ok("shop".to_string())
        );
        // ...but a revocation by another registry on the same database and marker is.
        let other = Keys::new(
            keys.store.clone(),
            keys.secrets.clone(),
            dir.path().join("keys.changed"),
        );
        other.revoke(&created.key.id).await?;
        assert_eq!(
            keys.authenticate(&created.secret).await?.err(),
            Some(AuthFailure::Revoked)
        );
        Ok(())
    }

    /// The app's own keys are protected whatever the asking key holds: a key with all seven
    /// permissions (what the admin key holds) cannot reveal or revoke the admin key, nor reveal
    /// the cashier's or a display's; only the admin key revokes those two.
    #[tokio::test]
    async fn the_apps_own_keys_are_never_revealed_through_another_key() -> Result<()> {
        let (_dir, keys) = registry().await;
        let (admin_secret, _) = keys.admin_key().await?;
        let admin = keys.authenticate(&admin_secret).await?.expect("admin");
        let everything = keys
            .create(NewKey {
                permissions: Permission::ALL.into_iter().collect(),
                ..new_key(&["lightning:read"])
            })
            .await?
            .key;
        assert_eq!(everything.permissions, admin.permissions);
        let cashier = keys.new_cashier_key().await?;
        let cashier = keys.authenticate(&cashier).await?.expect("cashier");
        let (display, _) = keys.display_key().await?;
        let display = keys.authenticate(&display).await?.expect("display");
        let code = |r: Result<()>| r.err().map(|e| e.code().as_str());
        for action in [KeyAction::Reveal, KeyAction::Revoke] {
            assert_eq!(
                code(everything.may_manage_key(&admin, action)),
                Some("key_protected"),
                "{action:?} the admin key"
            );
        }
        for own in [&cashier, &display] {
            assert_eq!(
                code(everything.may_manage_key(own, KeyAction::Reveal)),
                Some("key_protected")
            );
            assert_eq!(
                code(everything.may_manage_key(own, KeyAction::Revoke)),
                Some("key_protected")
            );
            assert_eq!(
                code(admin.may_manage_key(own, KeyAction::Reveal)),
                Some("key_protected"),
                "not even the admin key reads them"
            );
            assert!(admin.may_manage_key(own, KeyAction::Revoke).is_ok());
        }
        assert!(admin.may_manage_key(&everything, KeyAction::Reveal).is_ok());
        assert!(admin.may_manage_key(&admin, KeyAction::Reveal).is_ok());
        Ok(())
    }

    #[tokio::test]
    async fn rejects_bad_new_keys() {
        let (_dir, keys) = registry().await;
        assert!(parse_permissions(["lightning:fly"]).is_err());
        assert!(keys.create(new_key(&[])).await.is_err());
        let mut k = new_key(&["lightning:read"]);
        k.expires_at_ms = Some(now_ms() - 1);
        assert_eq!(
            keys.create(k).await.err().map(|e| e.field()),
            Some(Some("expires_at"))
        );
    }

    #[tokio::test]
    async fn a_key_manages_only_keys_within_its_own_scope() -> Result<()> {
        let (_dir, keys) = registry().await;
        let mut manager = new_key(&["keys:manage", "lightning:write"]);
        manager.budget = Some(1000);
        manager.expires_at_ms = Some(now_ms() + 86_400_000);
        let manager = keys.create(manager).await?.key;
        let admin = keys
            .create(NewKey {
                permissions: Permission::ALL.into_iter().collect(),
                ..new_key(&["lightning:read"])
            })
            .await?
            .key;
        let perms = |p: &[&str]| parse_permissions(p.iter().copied()).expect("perms");
        let within = (Some(500), manager.expires_at_ms);
        let code = |r: Result<()>| r.err().map(|e| (e.code().as_str(), e.field()));
        assert!(manager
            .may_manage(&perms(&["lightning:receive"]), within.0, within.1)
            .is_ok());
        assert_eq!(
            code(manager.may_manage(&perms(&["node:manage"]), within.0, within.1)),
            Some(("key_scope_exceeded", Some("permissions")))
        );
        assert_eq!(
            code(manager.may_manage(&perms(&["lightning:receive"]), None, within.1)),
            Some(("key_scope_exceeded", Some("budget"))),
            "an unlimited key from a limited one"
        );
        assert_eq!(
            code(manager.may_manage(&perms(&["lightning:receive"]), Some(1001), within.1)),
            Some(("key_scope_exceeded", Some("budget")))
        );
        assert_eq!(
            code(manager.may_manage(&perms(&["lightning:receive"]), within.0, None)),
            Some(("key_scope_exceeded", Some("expires_at")))
        );
        assert_eq!(
            code(manager.may_manage(&perms(&["lightning:write"]), within.0, within.1)),
            Some(("key_scope_exceeded", Some("permissions"))),
            "a limited key cannot multiply its budget through paying keys"
        );
        assert!(
            manager.may_manage_key(&admin, KeyAction::Reveal).is_err(),
            "cannot reveal a key with more rights"
        );
        assert!(manager.may_manage_key(&manager, KeyAction::Reveal).is_ok());
        assert!(admin.may_manage_key(&manager, KeyAction::Revoke).is_ok());
        Ok(())
    }
}
