//! Nostr Wallet Connect (NIP-47) connections, reached through [`Nwc`] (`app.nwc()`).
//!
//! An app outside the shop's network (a web shop on a hosting server, a phone POS) cannot reach
//! the node's API on the merchant's computer. With NWC the wallet keeps one outgoing connection
//! to a relay and the app sends it encrypted requests there. Each connection here **is one of the
//! API keys**: its permissions, daily budget, expiry and revocation are the key's, checked on
//! every request exactly as the REST API checks them; what this module adds is the connection's
//! Nostr identities and relays, and the two durable tables the service works from
//! ([`requests`]: every request answered once; the outbox: every answer and notification kept
//! until a relay takes it).
//!
//! Each connection has a wallet-service key pair of its own (not one for the whole wallet), so
//! that its info event (kind 13194, replaceable per author) lists exactly the methods that
//! connection may use, and a leaked app secret reveals nothing about the other connections. Both
//! secret keys and the connection URI live in the secret store, like a key's secret.
//!
//! The relay client itself is a front door (it runs beside the HTTP server, in the API crate);
//! this module only keeps what it needs and what it reports ([`NwcStatus`]).

use std::collections::BTreeSet;
use std::sync::Mutex;

use nostr_sdk::prelude::{Keys as NostrKeys, PublicKey, SecretKey};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::error::{Error, Result};
use crate::keys::{ApiKey, Keys, NewKey, Permission};
use crate::secrets::SecretStore;
use crate::store::Store;
use crate::util::{now_ms, rfc3339};

pub mod requests;
pub mod wire;

pub use nostr_sdk;

/// What a connection may do, chosen when it is made. Each is a set of the keys' permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    /// Make invoices, and look up and list the invoices it made (`lightning:receive`). It can
    /// never pay: a POS app or a web shop's checkout.
    #[default]
    Receive,
    /// Also read the balance and every invoice and payment (`lightning:read` +
    /// `lightning:receive`).
    Read,
    /// Also pay invoices within a daily budget, which is then required (`lightning:read` +
    /// `lightning:write`).
    Pay,
}

impl Access {
    /// The key permissions this access stands for.
    pub fn permissions(self) -> BTreeSet<Permission> {
        match self {
            Access::Receive => [Permission::LightningReceive].into(),
            Access::Read => [Permission::LightningRead, Permission::LightningReceive].into(),
            Access::Pay => [Permission::LightningRead, Permission::LightningWrite].into(),
        }
    }

    /// The access a key's permissions give (the narrowest one that they cover).
    pub fn of(key: &ApiKey) -> Access {
        if key.allows(Permission::LightningWrite) {
            Access::Pay
        } else if key.allows(Permission::LightningRead) {
            Access::Read
        } else {
            Access::Receive
        }
    }

    /// The NIP-47 methods a connection with this access may call, in the order the info event
    /// lists them. `get_info` is always allowed: it says what the others are.
    pub fn methods(self) -> &'static [&'static str] {
        match self {
            Access::Receive => &[
                "get_info",
                "make_invoice",
                "lookup_invoice",
                "list_transactions",
            ],
            Access::Read => &[
                "get_info",
                "get_balance",
                "make_invoice",
                "lookup_invoice",
                "list_transactions",
            ],
            Access::Pay => &[
                "get_info",
                "get_balance",
                "make_invoice",
                "lookup_invoice",
                "list_transactions",
                "pay_invoice",
                "multi_pay_invoice",
            ],
        }
    }

    /// The notifications it receives: `payment_received` for the invoices it may read, and
    /// `payment_sent` where it may read payments.
    pub fn notifications(self) -> &'static [&'static str] {
        match self {
            Access::Receive => &["payment_received"],
            Access::Read | Access::Pay => &["payment_received", "payment_sent"],
        }
    }
}

/// What is needed to make a connection.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConnection {
    /// A name for people: the app it is for (1–100 characters).
    pub name: String,
    /// `receive` (default), `read` or `pay`.
    #[serde(default)]
    pub access: Access,
    /// Max sats it may pay per UTC day (fees included): required with `pay`, refused otherwise.
    pub budget: Option<u64>,
    /// When it stops working (RFC 3339), if ever.
    pub expires_at: Option<String>,
    /// The relays (`wss://…`, or `ws://` for a relay on this computer or network), 1 to 5; default:
    /// the relay last used for a connection (none the first time: the merchant chooses).
    #[serde(default)]
    pub relays: Vec<String>,
}

/// A connection as listed: its key's fields and its Nostr side.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NwcConnection {
    /// The connection's API key (the key's id is the connection's id): permissions, budget,
    /// expiry, last use, revocation.
    pub key: ApiKey,
    /// What it may do.
    pub access: Access,
    /// The NIP-47 methods it may call (also in its info event).
    pub methods: Vec<&'static str>,
    /// The notifications it gets.
    pub notifications: Vec<&'static str>,
    /// The wallet service's public key for it (hex), the host part of its URI.
    pub wallet_pubkey: String,
    /// The app's public key (hex): only its requests are answered.
    pub client_pubkey: String,
    /// The relays it listens on.
    pub relays: Vec<String>,
    /// `nip44_v2`, or `nip04` once the app spoke the older encryption.
    pub encryption: &'static str,
    /// When it was made.
    pub created_at: String,
}

/// A connection just made: the only time its URI is returned with it (the owner may reveal it
/// again, as a key's secret).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedConnection {
    /// The connection.
    #[serde(flatten)]
    pub connection: NwcConnection,
    /// `nostr+walletconnect://<wallet pubkey>?relay=…&secret=…`: what the app is given (as text
    /// or QR). Whoever holds it can use the connection, within its limits.
    pub uri: String,
}

/// A live connection as the service needs it: the key to check and the secret key to answer
/// with.
#[derive(Clone, Debug)]
pub struct LiveConnection {
    /// The connection's key (checked again on every request).
    pub key: ApiKey,
    /// The wallet service's key pair for this connection.
    pub wallet: NostrKeys,
    /// The app's public key.
    pub client: PublicKey,
    /// Its relays.
    pub relays: Vec<String>,
    /// Whether its notifications also go out NIP-04 encrypted.
    pub legacy_nip04: bool,
    /// Whether it was live when read (not revoked, not expired): only live connections get
    /// notifications and an info event; the others' requests are refused.
    pub live: bool,
}

/// One relay as the service sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RelayState {
    /// Its URL.
    pub url: String,
    /// Whether the connection to it is up now.
    pub connected: bool,
    /// `connected`, `connecting`, `disconnected` (retrying with backoff) or `stopped`.
    pub status: String,
    /// Since when it has been down (null while connected).
    pub down_since: Option<String>,
}

/// The service's state, in `/v1/health` and on the Overview.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NwcStatus {
    /// `ok` (every relay connected), `degraded` (some down: requests through the others still
    /// work) or `down` (no relay connected: apps cannot reach the wallet now).
    pub status: String,
    /// Live connections.
    pub connections: u32,
    /// Every relay the live connections use.
    pub relays: Vec<RelayState>,
    /// Answers and notifications waiting for a relay to take them.
    pub outbox: u64,
}

/// What the app keeps for the service: its wake-up bell and its last report.
#[derive(Debug, Default)]
pub struct NwcState {
    /// Rung when connections change (made, revoked): the service resubscribes at once.
    pub changed: Notify,
    status: Mutex<Option<NwcStatus>>,
}

impl NwcState {
    /// Records the service's view (None: no live connection, nothing to report).
    pub fn report(&self, status: Option<NwcStatus>) {
        if let Ok(mut s) = self.status.lock() {
            *s = status;
        }
    }
}

/// The setting that keeps the relay of the last connection made, offered for the next one. There
/// is no built-in default: the app connects to no relay the merchant did not choose.
const RELAY_SETTING: &str = "nwc.relay";

/// How long a revoked or expired connection's requests are still answered (with a refusal).
const REFUSED_FOR_MS: i64 = 24 * 3600 * 1000;

fn wallet_secret_name(id: &str) -> String {
    format!("nwc/{id}/wallet")
}

fn uri_secret_name(id: &str) -> String {
    format!("nwc/{id}/uri")
}

/// The secret-store names a live connection uses (for moves and backups).
pub(crate) fn secret_names(id: &str) -> [String; 2] {
    [wallet_secret_name(id), uri_secret_name(id)]
}

/// Checks a relay URL: `wss://host[:port][/path]`, or `ws://` (no TLS: for a relay on this
/// computer or the shop's own network). Returns it as given, trimmed.
pub fn check_relay(url: &str) -> Result<String> {
    let url = url.trim();
    let parsed = reqwest::Url::parse(url).map_err(|e| {
        Error::invalid(
            "relays",
            format!("'{url}' is not a relay URL ({e}): write it as wss://relay.example.com"),
        )
    })?;
    if !matches!(parsed.scheme(), "wss" | "ws") || parsed.host_str().is_none() {
        return Err(Error::invalid(
            "relays",
            format!("'{url}' is not a relay URL: relays are reached at wss://host (or ws:// on this computer or network)"),
        ));
    }
    if url.len() > 300 {
        return Err(Error::invalid(
            "relays",
            "a relay URL is at most 300 characters",
        ));
    }
    Ok(url.to_string())
}

/// What a relay URL keeps as it is inside the URI's query: letters, digits and RFC 3986's
/// unreserved marks (`wss%3A%2F%2Frelay.example.com%2Fv1`, as other wallets write it).
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The connection URI of NIP-47: the wallet's public key as host, each relay and the app's
/// secret as parameters.
pub fn connection_uri(wallet: &PublicKey, relays: &[String], secret: &SecretKey) -> String {
    let mut uri = format!("nostr+walletconnect://{}?", wallet.to_hex());
    for relay in relays {
        uri.push_str("relay=");
        uri.push_str(&percent_encoding::utf8_percent_encode(relay, QUERY_VALUE).to_string());
        uri.push('&');
    }
    uri.push_str("secret=");
    uri.push_str(&secret.to_secret_hex());
    uri
}

#[derive(sqlx::FromRow)]
struct Row {
    key_id: String,
    wallet_pubkey: String,
    client_pubkey: String,
    relays: String,
    legacy_encryption: Option<String>,
    created_at: i64,
}

fn connection(row: Row, key: ApiKey) -> NwcConnection {
    let access = Access::of(&key);
    NwcConnection {
        access,
        methods: access.methods().to_vec(),
        notifications: access.notifications().to_vec(),
        wallet_pubkey: row.wallet_pubkey,
        client_pubkey: row.client_pubkey,
        relays: row.relays.lines().map(str::to_string).collect(),
        encryption: if row.legacy_encryption.is_some() {
            "nip04"
        } else {
            "nip44_v2"
        },
        created_at: rfc3339(row.created_at),
        key,
    }
}

/// Connections: make, list, reveal, revoke; and the live ones for the service.
pub struct Nwc<'a> {
    store: &'a Store,
    keys: &'a Keys,
    secrets: &'a SecretStore,
    state: &'a NwcState,
}

impl<'a> Nwc<'a> {
    pub(crate) fn new(
        store: &'a Store,
        keys: &'a Keys,
        secrets: &'a SecretStore,
        state: &'a NwcState,
    ) -> Self {
        Nwc {
            store,
            keys,
            secrets,
            state,
        }
    }

    /// Makes a connection on behalf of `by` (who may only give what it holds, as with keys), and
    /// returns it with its URI, once.
    pub async fn create(&self, new: NewConnection, by: &ApiKey) -> Result<CreatedConnection> {
        let permissions = new.access.permissions();
        match (new.access, new.budget) {
            (Access::Pay, None) => {
                return Err(Error::invalid(
                    "budget",
                    "a connection that can pay needs a daily budget in sats: an app reached \
                     through a relay should never be able to empty the wallet",
                ))
            }
            (Access::Receive | Access::Read, Some(_)) => {
                return Err(Error::invalid(
                    "budget",
                    "only a connection that can pay has a budget: leave budget out, or choose access \"pay\"",
                ))
            }
            _ => {}
        }
        let expires_at_ms = new
            .expires_at
            .as_deref()
            .map(|t| {
                chrono::DateTime::parse_from_rfc3339(t)
                    .map(|d| d.timestamp_millis())
                    .map_err(|_| {
                        Error::invalid(
                            "expires_at",
                            "expires_at must be an RFC 3339 time, e.g. 2027-01-31T18:00:00Z",
                        )
                    })
            })
            .transpose()?;
        let mut relays = Vec::new();
        for relay in &new.relays {
            let relay = check_relay(relay)?;
            if !relays.contains(&relay) {
                relays.push(relay);
            }
        }
        if relays.is_empty() {
            match self.default_relay().await? {
                Some(relay) => relays.push(relay),
                None => {
                    return Err(Error::invalid(
                        "relays",
                        "say which relay the app and the wallet meet on, e.g. wss://relay.getalby.com/v1 \
                         (any relay that passes NIP-47's events on)",
                    ))
                }
            }
        }
        if relays.len() > 5 {
            return Err(Error::invalid("relays", "give at most 5 relays"));
        }
        by.may_manage(&permissions, new.budget, expires_at_ms)?;
        let created = self
            .keys
            .create(NewKey {
                name: new.name,
                permissions,
                budget: new.budget,
                expires_at_ms,
            })
            .await?;
        let id = created.key.id.clone();
        let wallet = NostrKeys::generate();
        let client = NostrKeys::generate();
        let uri = connection_uri(&wallet.public_key(), &relays, client.secret_key());
        // The secrets first, as for keys: a row without them could never answer.
        self.secrets
            .set(
                &wallet_secret_name(&id),
                &wallet.secret_key().to_secret_hex(),
            )
            .await?;
        self.secrets.set(&uri_secret_name(&id), &uri).await?;
        let now = now_ms();
        let written = sqlx::query(
            "INSERT INTO nwc_connections (key_id, wallet_pubkey, client_pubkey, relays, created_at)
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(wallet.public_key().to_hex())
        .bind(client.public_key().to_hex())
        .bind(relays.join("\n"))
        .bind(now)
        .execute(self.store.pool())
        .await;
        if let Err(e) = written {
            // A key without its connection would be a bearer key nobody asked for.
            let _ = self.keys.revoke(&id).await;
            return Err(e.into());
        }
        if let Some(first) = relays.first() {
            self.store.set_setting(RELAY_SETTING, first).await?;
        }
        self.state.changed.notify_one();
        Ok(CreatedConnection {
            connection: self.get(&id).await?,
            uri,
        })
    }

    /// The relay new connections use unless told otherwise: the first relay of the last one
    /// made, if any.
    pub async fn default_relay(&self) -> Result<Option<String>> {
        self.store.setting(RELAY_SETTING).await
    }

    /// One connection by its id (its key's id, or the whole `pk_…` form).
    pub async fn get(&self, id: &str) -> Result<NwcConnection> {
        let id = crate::keys::key_id(id);
        let row: Option<Row> = sqlx::query_as(
            "SELECT key_id, wallet_pubkey, client_pubkey, relays, legacy_encryption, created_at
             FROM nwc_connections WHERE key_id = ?",
        )
        .bind(id)
        .fetch_optional(self.store.pool())
        .await?;
        let row = row.ok_or_else(|| Error::NotFound {
            kind: "connection",
            id: id.to_string(),
        })?;
        let key = self.keys.get(&row.key_id).await?;
        Ok(connection(row, key))
    }

    /// Every connection, newest first, revoked ones included (their key says so).
    pub async fn list(&self) -> Result<Vec<NwcConnection>> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT key_id, wallet_pubkey, client_pubkey, relays, legacy_encryption, created_at
             FROM nwc_connections ORDER BY created_at DESC, key_id",
        )
        .fetch_all(self.store.pool())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let key = self.keys.get(&row.key_id).await?;
            out.push(connection(row, key));
        }
        Ok(out)
    }

    /// The connection's URI again, from the secret store (a revoked one has none).
    pub async fn reveal(&self, id: &str) -> Result<String> {
        let connection = self.get(id).await?;
        if connection.key.revoked {
            return Err(Error::unprocessable(
                crate::error::ErrorCode::KeyRevoked,
                None,
                "this connection is revoked",
            ));
        }
        self.secrets
            .get(&uri_secret_name(&connection.key.id))
            .await?
            .ok_or_else(|| {
                Error::Secrets(format!(
                    "connection {} is not in the secret store any more",
                    connection.key.id
                ))
            })
    }

    /// Revokes a connection: its key is revoked (every request checks the key, so the next one
    /// is refused with `UNAUTHORIZED`) and its URI, which holds the app's secret, is forgotten.
    /// The wallet side's key is kept: it only signs those refusals.
    pub async fn revoke(&self, id: &str) -> Result<NwcConnection> {
        let connection = self.get(id).await?;
        self.keys.revoke(&connection.key.id).await?;
        self.secrets
            .delete(&uri_secret_name(&connection.key.id))
            .await?;
        // Notifications queued for it are not sent any more (what it asks from now on is
        // refused, and those refusals are sent).
        self.requests().drop_owed_to(&connection.key.id).await?;
        self.state.changed.notify_one();
        self.get(&connection.key.id).await
    }

    /// Whether `key_id` is a connection's key (its secret is not a bearer key anyone holds: the
    /// app holds the Nostr secret instead).
    pub async fn is_connection(&self, key_id: &str) -> Result<bool> {
        Ok(
            sqlx::query_scalar::<_, i64>("SELECT 1 FROM nwc_connections WHERE key_id = ?")
                .bind(key_id)
                .fetch_optional(self.store.pool())
                .await?
                .is_some(),
        )
    }

    /// The connections the service answers, with their secret keys: the live ones, and those
    /// revoked or expired in the last day, whose requests get `UNAUTHORIZED` (an app told why
    /// beats an app left waiting). One whose secret is gone from the secret store is left out.
    pub async fn serving(&self) -> Result<Vec<LiveConnection>> {
        let now = now_ms();
        let mut out = Vec::new();
        for c in self.list().await? {
            let ended_at = c
                .key
                .revoked_at
                .as_deref()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.timestamp_millis())
                .or(c.key.expires_at_ms.filter(|&at| at <= now));
            if ended_at.is_some_and(|at| now - at > REFUSED_FOR_MS) {
                continue;
            }
            let Some(secret) = self.secrets.get(&wallet_secret_name(&c.key.id)).await? else {
                if c.key.check_live(now).is_ok() {
                    tracing::warn!(connection = %c.key.id, "a connection's secret key is gone from the secret store: it cannot answer");
                }
                continue;
            };
            let (Ok(wallet), Ok(client)) = (
                NostrKeys::parse(&secret),
                PublicKey::from_hex(&c.client_pubkey),
            ) else {
                tracing::warn!(connection = %c.key.id, "a connection's keys cannot be read");
                continue;
            };
            out.push(LiveConnection {
                live: c.key.check_live(now).is_ok(),
                legacy_nip04: c.encryption == "nip04",
                key: c.key,
                wallet,
                client,
                relays: c.relays,
            });
        }
        Ok(out)
    }

    /// Remembers that the app of `key_id` spoke NIP-04 (its notifications then also go out
    /// that way).
    pub async fn mark_legacy(&self, key_id: &str) -> Result<()> {
        sqlx::query(
            "UPDATE nwc_connections SET legacy_encryption = 'nip04' WHERE key_id = ? AND legacy_encryption IS NULL",
        )
        .bind(key_id)
        .execute(self.store.pool())
        .await?;
        Ok(())
    }

    /// The durable request log and outbox.
    pub fn requests(&self) -> requests::Requests<'a> {
        requests::Requests::new(self.store)
    }

    /// The bell the service waits on (connections changed).
    pub fn changed(&self) -> &'a Notify {
        &self.state.changed
    }

    /// Records the service's view of its relays.
    pub fn report(&self, status: Option<NwcStatus>) {
        self.state.report(status);
    }

    /// The service's last report; None when no connection is live.
    pub fn status(&self) -> Option<NwcStatus> {
        self.state.status.lock().ok().and_then(|s| s.clone())
    }
}

#[cfg(test)]
mod tests;
