//! Settings the merchant changes from the dashboard, reached through [`Settings`]
//! (`app.settings()`): desktop notifications (at once), and the Lightning service provider with
//! the fee cap it is held to (at the node's next start: ldk-node takes its LSP when the node is
//! built), the merchant's currency and the exchange rate providers (at once). A choice made in
//! the dashboard is stored and wins over the start-up settings (flags and `PAYAIML_*` variables)
//! from then on. The LSP's token lives in the secret store.

use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};

use crate::config::{Config, Lsp};
use crate::error::{Error, ErrorCode, Result};
use crate::rates::service::{currency_code, parse_providers_column, providers_column};
use crate::rates::{Provider, RateService};
use crate::secrets::SecretStore;
use crate::store::Store;

const NOTIFICATIONS: &str = "notifications";
/// The LSP chosen in the dashboard: `{"node_id", "address"}`, or `none` for no LSP.
const LSP: &str = "lsp";
/// Its token, in the secret store.
pub(crate) const LSP_TOKEN: &str = "lsp-token";
/// The fee cap chosen in the dashboard, `{"base_sat", "ppm"}`.
const LSP_CAP: &str = "lsp_max_fee";
/// The merchant's currency (`EUR`), or `none` for sats only.
const CURRENCY: &str = "currency";
/// The rate providers the merchant uses: comma-separated ids.
const RATE_PROVIDERS: &str = "rate_providers";
/// The shop's details for receipts, as JSON.
const SHOP: &str = "shop";
/// The counter's choices (tip presets, whether the cashier may refund), as JSON.
const COUNTER: &str = "counter";
/// The backup target (without its token, which is in the secret store).
const BACKUP: &str = "backup";
const BACKUP_TOKEN: &str = "backup-token";
/// The largest proportional cap accepted: 10 % of a payment.
const MAX_LSP_PPM: u64 = 100_000;

/// What the Settings page shows.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = Settings)]
pub struct SettingsView {
    /// The Bitcoin network.
    pub network: String,
    /// Where the API listens (as configured; port 0 means "picked at start").
    pub listen: String,
    /// The data folder: SQLite, the LDK store.
    pub data_dir: String,
    /// Where secrets live: `keyring` or `file`.
    pub secrets: String,
    /// Desktop notifications for received payments.
    pub notifications: bool,
    /// The LSP that opens a channel when an invoice needs one (null: none), as the node runs now.
    pub lsp: Option<LspView>,
    /// Whether an LSP change saved from the dashboard waits for the node's next start.
    pub restart_required: bool,
    /// Whether this is the sandbox, whose LSP is its own (the Settings page cannot change it).
    pub sandbox: bool,
    /// The merchant's currency, shown beside sats everywhere (ISO 4217); null for sats only,
    /// when no exchange rate is ever fetched unless a request names a currency.
    pub currency: Option<String>,
    /// The exchange rate providers in use, by id (`coinbase`, `kraken`, `bitstamp`,
    /// `coingecko`).
    pub rate_providers: Vec<Provider>,
    /// What receipts say about the shop.
    pub shop: ShopDetails,
    /// The counter's choices: the tip presets, and whether the cashier may refund.
    pub counter: CounterSettings,
    /// Where the backup goes from the next start (null: no backup). How current it is: the
    /// `backup` of `/v1/health`.
    pub backup: Option<BackupView>,
    /// The public key (PEM) of this wallet's JWTs, for a VSS server in JWT mode (vss-server:
    /// `VSS_JWT_RSA_PEM`). Derived from the recovery words: a restored wallet has the same.
    pub backup_jwt_public_key: String,
}

/// How the point of sale works, as the owner sets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CounterSettings {
    /// The tip percentages offered beside "No tip" and "Other amount", smallest first (1 to 4,
    /// each above 0 and at most 100, as decimal strings: "10", "12.5").
    #[schema(schema_with = tip_presets_schema, example = json!(["10", "15", "20"]))]
    pub tip_presets: Vec<String>,
    /// Whether the locked counter (the cashier's key) may refund the sales it made while
    /// locked. Off: only a key that may send money (the owner's) refunds. On needs
    /// `cashier_refund_limit`.
    pub cashier_refunds: bool,
    /// The most the locked counter may refund in a day (the merchant's day, from local
    /// midnight), in sats, fees included; null: no limit set, so the counter does not refund.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 2_100_000_000_000_000_u64)]
    pub cashier_refund_limit: Option<u64>,
}

/// `counter` of a settings change, with its one rule across fields in the schema too: refunds
/// on need a limit (`CounterSettings::validate` refuses one without), so a request the schema
/// allows is one the server accepts.
fn counter_change_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{
        AdditionalProperties, ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type,
    };
    let limit = |nullable: bool| {
        ObjectBuilder::new()
            .schema_type(if nullable {
                SchemaType::from_iter([Type::Integer, Type::Null])
            } else {
                SchemaType::new(Type::Integer)
            })
            .minimum(Some(1))
            .maximum(Some(2_100_000_000_000_000_u64))
            .description(Some(
                "The most the locked counter may refund in a day (the merchant's day), in sats, \
                 fees included",
            ))
    };
    let counter = |refunds: bool| {
        let object = ObjectBuilder::new()
            .property("tip_presets", tip_presets_schema())
            .required("tip_presets")
            .property(
                "cashier_refunds",
                ObjectBuilder::new()
                    .schema_type(Type::Boolean)
                    .enum_values(Some([refunds])),
            )
            .required("cashier_refunds")
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        if refunds {
            object
                .property("cashier_refund_limit", limit(false))
                .required("cashier_refund_limit")
        } else {
            object.property("cashier_refund_limit", limit(true))
        }
    };
    Schema::OneOf(
        OneOfBuilder::new()
            .item(counter(false))
            .item(counter(true))
            .description(Some(
                "The counter's choices, replaced as a whole: the tip presets, and whether the \
                 locked counter may refund, which needs `cashier_refund_limit`",
            ))
            .build(),
    )
}

/// `tip_presets` of [`CounterSettings`]: 1 to 4 percentages above 0 and at most 100 with at most
/// 3 decimals, each once (as `CounterSettings::validate` reads them).
fn tip_presets_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .items(ObjectBuilder::new().schema_type(Type::String).pattern(Some(
            "^(100([.]0{1,3})?|[1-9][0-9]?([.][0-9]{1,3})?|0[.]([1-9][0-9]{0,2}|0[1-9][0-9]?|00[1-9]))$",
        )))
        .min_items(Some(1))
        .max_items(Some(4))
        .unique_items(true)
        .description(Some(
            "The tip percentages offered beside \"No tip\" and \"Other amount\": 1 to 4, each \
             above 0 and at most 100 with at most 3 decimals (\"10\", \"12.5\"), each once (one \
             written two ways, \"10\" and \"10.0\", is kept once).",
        ))
        .build()
}

impl Default for CounterSettings {
    fn default() -> Self {
        CounterSettings {
            tip_presets: vec!["10".into(), "15".into(), "20".into()],
            cashier_refunds: false,
            cashier_refund_limit: None,
        }
    }
}

impl CounterSettings {
    /// Checks the presets (normalised, smallest first, each value once), naming what is wrong.
    fn validate(mut self) -> Result<CounterSettings> {
        if !(1..=4).contains(&self.tip_presets.len()) {
            return Err(Error::invalid(
                "counter.tip_presets",
                "give 1 to 4 tip percentages (the point of sale always offers no tip and another amount too)",
            ));
        }
        let mut values = Vec::with_capacity(self.tip_presets.len());
        for text in &self.tip_presets {
            let value =
                crate::catalog::order::parse_percent(text.trim(), "counter.tip_presets", 100)?;
            if value.is_zero() {
                return Err(Error::invalid(
                    "counter.tip_presets",
                    "a tip preset of 0 % is the \"No tip\" button, which is always there",
                ));
            }
            values.push(value);
        }
        // One percentage written two ways ("10", "10.0") is one preset: no schema can say
        // "unique by value", so the server merges them rather than refusing a valid-looking list.
        values.sort();
        values.dedup();
        self.tip_presets = values.iter().map(|v| v.to_string()).collect();
        match self.cashier_refund_limit {
            Some(limit) if limit == 0 || limit > crate::invoices::MAX_SATS as u64 => {
                return Err(Error::invalid(
                    "counter.cashier_refund_limit",
                    "the counter's daily refund limit is a number of sats from 1 to 21 million BTC (or null for none)",
                ))
            }
            None if self.cashier_refunds => {
                return Err(Error::invalid(
                    "counter.cashier_refund_limit",
                    "set the most the counter may refund per day (in sats) to let it refund",
                ))
            }
            _ => {}
        }
        Ok(self)
    }
}

/// The counter's settings as stored (none yet: the defaults). Refunds allowed without a daily
/// limit (as stored before there was one) read as off until the owner sets one.
pub(crate) async fn counter_settings(store: &Store) -> Result<CounterSettings> {
    let mut counter: CounterSettings = store
        .setting(COUNTER)
        .await?
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default();
    if counter.cashier_refund_limit.is_none() {
        counter.cashier_refunds = false;
    }
    Ok(counter)
}

/// What a receipt says about the shop (each may be empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShopDetails {
    /// The shop's name, at the top (up to 80 characters).
    #[serde(default)]
    #[schema(max_length = 80, pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*$")]
    pub name: String,
    /// Its address, on one or more lines (up to 300 characters).
    #[serde(default)]
    #[schema(max_length = 300, pattern = "^[^\\x00-\\x09\\x0b-\\x1f\\x7f-\\x9f]*$")]
    pub address: String,
    /// A tax or VAT number (up to 40 characters).
    #[serde(default)]
    #[schema(max_length = 40, pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*$")]
    pub tax_id: String,
    /// A line at the bottom ("Thank you!"), on one or more lines (up to 300 characters).
    #[serde(default)]
    #[schema(max_length = 300, pattern = "^[^\\x00-\\x09\\x0b-\\x1f\\x7f-\\x9f]*$")]
    pub footer: String,
}

impl ShopDetails {
    /// Checks lengths and characters (line breaks only in the address and the footer).
    fn validate(mut self) -> Result<ShopDetails> {
        let check = |text: &mut String, field: &'static str, max: usize, lines: bool| {
            *text = text.trim().replace("\r\n", "\n");
            if text.len() > max {
                return Err(Error::invalid(
                    field,
                    format!("{field} is at most {max} bytes"),
                ));
            }
            if text
                .chars()
                .any(|c| c.is_control() && !(lines && c == '\n'))
            {
                return Err(Error::invalid(
                    field,
                    format!(
                        "{field} must not hold control characters{}",
                        if lines {
                            " (line breaks are fine)"
                        } else {
                            " or line breaks"
                        }
                    ),
                ));
            }
            Ok(())
        };
        check(&mut self.name, "shop.name", 80, false)?;
        check(&mut self.address, "shop.address", 300, true)?;
        check(&mut self.tax_id, "shop.tax_id", 40, false)?;
        check(&mut self.footer, "shop.footer", 300, true)?;
        Ok(self)
    }
}

/// The shop's details as stored (none yet: all empty).
pub(crate) async fn shop_details(store: &Store) -> Result<ShopDetails> {
    Ok(store
        .setting(SHOP)
        .await?
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default())
}

/// The LSP as the Settings page and the point of sale show it (never its token).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LspView {
    /// Its node id.
    pub node_id: String,
    /// Where it listens.
    pub address: String,
    /// The most it may keep for opening a channel: this many sats...
    pub max_fee_base_sat: u64,
    /// ...plus this many millionths of the payment.
    pub max_fee_ppm: u64,
}

/// A change of settings; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsChange {
    /// Desktop notifications on or off.
    pub notifications: Option<bool>,
    /// The LSP to use from the node's next start; `null` for none.
    #[serde(default, deserialize_with = "crate::util::present")]
    #[schema(nullable)]
    pub lsp: Option<Option<LspChange>>,
    /// The most an LSP may keep for opening a channel, from the next start: this many sats...
    pub lsp_max_fee_base_sat: Option<u64>,
    /// ...plus this many millionths of the payment (10000 = 1 %; at most 100000).
    #[schema(maximum = 100000)]
    pub lsp_max_fee_ppm: Option<u64>,
    /// The merchant's currency (USD, EUR, GBP, CHF, CAD, AUD or JPY); `null` for sats only.
    #[serde(default, deserialize_with = "crate::util::present")]
    #[schema(schema_with = crate::rates::nullable_currency_schema, example = "EUR")]
    pub currency: Option<Option<String>>,
    /// The exchange rate providers to use (at least one).
    #[schema(value_type = Option<Vec<Provider>>, min_items = 1)]
    pub rate_providers: Option<Vec<String>>,
    /// What receipts say about the shop (replaces all four).
    pub shop: Option<ShopDetails>,
    /// The counter's choices (replaces both).
    #[schema(schema_with = counter_change_schema)]
    pub counter: Option<CounterSettings>,
    /// Where the backup goes from the next start; `null` for no backup. The target must answer
    /// now (a folder that exists, a server that replies), or the change is refused.
    #[serde(default, deserialize_with = "crate::util::present")]
    #[schema(nullable)]
    pub backup: Option<Option<BackupChange>>,
}

/// A backup target, as the merchant enters it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BackupChange {
    /// A VSS server's URL (`https://host/vss`) or an absolute folder path (`/mnt/nas/payaiml`).
    #[schema(pattern = "^(https?://[^/\\s][^\\s]*|file:///.*|/.*)$")]
    pub target: String,
    /// The bearer token the VSS server expects, if it checks one (kept in the secret store,
    /// never shown again).
    #[serde(default)]
    pub token: Option<String>,
    /// Sign each request with a JWT of the wallet's own key instead (vss-server's JWT mode;
    /// the server must have been given `jwt_public_key`).
    #[serde(default)]
    pub jwt: bool,
}

/// The backup target in effect from the next start (its token never shown).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BackupView {
    /// `vss` or `folder`.
    pub kind: String,
    /// The server's URL or the folder.
    pub target: String,
    /// Whether a token is kept for the server.
    pub token_set: bool,
    /// Whether requests carry a JWT of the wallet's own key.
    pub jwt: bool,
}

/// An LSP, as the merchant enters or picks it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LspChange {
    /// Its node id (66 hex characters).
    #[schema(pattern = "^0[23][0-9a-fA-F]{64}$")]
    pub node_id: String,
    /// Where it listens, `host:port`.
    #[schema(pattern = "^[^:\\s]+:[1-9][0-9]{0,4}$")]
    pub address: String,
    /// The token it gave you, if it asks for one (kept in the secret store, never shown again).
    #[serde(default)]
    pub token: Option<String>,
}

/// The LSP as stored (its token is in the secret store).
#[derive(Serialize, Deserialize)]
struct StoredLsp {
    node_id: String,
    address: String,
}

#[derive(Serialize, Deserialize)]
struct StoredCap {
    base_sat: u64,
    ppm: u64,
}

impl LspChange {
    /// Checks the node id and the address, with messages that say what is wrong.
    fn validate(mut self) -> Result<LspChange> {
        self.node_id = self.node_id.trim().to_ascii_lowercase();
        self.address = self.address.trim().to_string();
        let id_ok = self.node_id.len() == 66
            && <ldk_node::bitcoin::secp256k1::PublicKey as std::str::FromStr>::from_str(
                &self.node_id,
            )
            .is_ok();
        if !id_ok {
            return Err(Error::invalid(
                "lsp.node_id",
                format!(
                    "'{}' is not a node id: 66 hex characters, as the provider publishes it",
                    self.node_id
                ),
            ));
        }
        let port_ok = self.address.rsplit_once(':').is_some_and(|(host, port)| {
            !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0)
        });
        if !port_ok {
            return Err(Error::invalid(
                "lsp.address",
                format!(
                    "'{}' is not HOST:PORT (for example 203.0.113.7:9735)",
                    self.address
                ),
            ));
        }
        self.token = self
            .token
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        Ok(self)
    }
}

/// The running settings. Borrowed from [`crate::App`].
pub struct Settings<'a> {
    store: &'a Store,
    secrets: &'a SecretStore,
    config: &'a Config,
    rates: &'a RateService,
    /// Desktop notifications on or off (read by the notification task at each event).
    notify: &'a AtomicBool,
    /// The backup's keys (a target is tried with them before it is kept).
    sealer: &'a crate::backup::Sealer,
}

impl<'a> Settings<'a> {
    pub(crate) fn new(
        store: &'a Store,
        secrets: &'a SecretStore,
        config: &'a Config,
        rates: &'a RateService,
        notify: &'a AtomicBool,
        sealer: &'a crate::backup::Sealer,
    ) -> Self {
        Settings {
            store,
            secrets,
            config,
            rates,
            notify,
            sealer,
        }
    }

    /// The current settings.
    pub async fn get(&self) -> Result<SettingsView> {
        let mut next = self.config.clone();
        apply_stored(self.store, self.secrets, &mut next).await?;
        let restart_required = next.backup != self.config.backup
            || (!self.config.sandbox
                && (next.lsp != self.config.lsp
                    || next.lsp_max_fee_base_sat != self.config.lsp_max_fee_base_sat
                    || next.lsp_max_fee_ppm != self.config.lsp_max_fee_ppm));
        Ok(SettingsView {
            restart_required,
            sandbox: self.config.sandbox,
            network: self.config.network.to_string(),
            listen: self.config.listen.to_string(),
            data_dir: self.config.data_dir.display().to_string(),
            secrets: format!("{:?}", self.config.secrets).to_lowercase(),
            notifications: self.notify.load(Ordering::Relaxed),
            currency: self.rates.merchant_currency(),
            rate_providers: self.rates.enabled(),
            shop: shop_details(self.store).await?,
            counter: counter_settings(self.store).await?,
            backup: next.backup.as_ref().map(|target| match target {
                crate::backup::TargetConfig::Vss { url, token, jwt } => BackupView {
                    kind: "vss".into(),
                    target: url.clone(),
                    token_set: token.is_some(),
                    jwt: *jwt,
                },
                crate::backup::TargetConfig::Folder { path } => BackupView {
                    kind: "folder".into(),
                    target: path.display().to_string(),
                    token_set: false,
                    jwt: false,
                },
            }),
            backup_jwt_public_key: {
                let sealer = self.sealer();
                tokio::task::spawn_blocking(move || sealer.jwt_public_pem())
                    .await
                    .map_err(|e| Error::Backup(format!("the key task failed: {e}")))??
            },
            lsp: self.config.lsp.as_ref().map(|lsp| LspView {
                node_id: lsp.node_id.clone(),
                address: lsp.address.clone(),
                max_fee_base_sat: self.config.lsp_max_fee_base_sat,
                max_fee_ppm: self.config.lsp_max_fee_ppm,
            }),
        })
    }

    /// `change` as a target, once it answers: a folder that exists and takes a file, a server
    /// that lists this wallet's objects. A target that cannot be reached now is refused with why,
    /// rather than found behind at the next start.
    async fn reachable_target(&self, change: BackupChange) -> Result<crate::backup::TargetConfig> {
        let target = crate::backup::TargetConfig::parse(&change.target)
            .map_err(|e| Error::invalid("backup.target", e.to_string()))?;
        let target = match target {
            vss @ crate::backup::TargetConfig::Vss { .. } => {
                vss.with_auth(change.token, change.jwt)
            }
            crate::backup::TargetConfig::Folder { path } => {
                if !path.is_dir() {
                    // The request is right; the folder is not there now: like a server that
                    // does not answer, the target is unavailable (503).
                    return Err(Error::Unprocessable {
                        code: ErrorCode::BackupUnavailable,
                        field: Some("backup.target"),
                        message: format!(
                            "the folder {} does not exist: is the drive or network share mounted?",
                            path.display()
                        ),
                    });
                }
                crate::backup::TargetConfig::Folder { path }
            }
        };
        let sealer = self.sealer();
        let opened = crate::backup::Target::open(&target, &sealer)?;
        let probe = sealer.seal_name("probe");
        let answered = async {
            opened
                .put(&probe, sealer.seal("probe", Vec::new(), 0))
                .await?;
            opened.delete(&probe).await
        }
        .await;
        if let Err(e) = answered {
            return Err(Error::Unprocessable {
                code: ErrorCode::BackupUnavailable,
                field: Some("backup.target"),
                message: format!("{} did not take a test write: {e}", opened.describe()),
            });
        }
        Ok(target)
    }

    fn sealer(&self) -> crate::backup::Sealer {
        self.sealer.clone()
    }

    /// Applies and stores a change. Everything is checked before anything is stored.
    pub async fn change(&self, change: SettingsChange) -> Result<SettingsView> {
        let touches_lsp = change.lsp.is_some()
            || change.lsp_max_fee_base_sat.is_some()
            || change.lsp_max_fee_ppm.is_some();
        if touches_lsp && self.config.sandbox {
            return Err(Error::Unprocessable {
                code: ErrorCode::FixedInSandbox,
                field: Some("lsp"),
                message: "the sandbox runs its own LSP (the fresh sandbox uses it); set a \
                          provider on a real wallet"
                    .into(),
            });
        }
        if change.lsp_max_fee_ppm.is_some_and(|ppm| ppm > MAX_LSP_PPM) {
            return Err(Error::invalid(
                "lsp_max_fee_ppm",
                format!("at most {MAX_LSP_PPM} (10 % of the payment)"),
            ));
        }
        let lsp = change
            .lsp
            .map(|l| l.map(LspChange::validate).transpose())
            .transpose()?;
        let currency = change
            .currency
            .map(|c| c.map(|c| currency_code(&c, "currency")).transpose())
            .transpose()?;
        let providers = change
            .rate_providers
            .map(|list| {
                let mut chosen: Vec<Provider> = list
                    .iter()
                    .map(|id| {
                        id.parse()
                            .map_err(|e: String| Error::invalid("rate_providers", e))
                    })
                    .collect::<Result<_>>()?;
                chosen.sort();
                chosen.dedup();
                if chosen.is_empty() {
                    return Err(Error::invalid(
                        "rate_providers",
                        "choose at least one rate provider (to fetch no rates at all, count in \
                         sats only: currency null)",
                    ));
                }
                Ok(chosen)
            })
            .transpose()?;
        let shop = change.shop.map(ShopDetails::validate).transpose()?;
        let counter = change.counter.map(CounterSettings::validate).transpose()?;
        let backup = match change.backup {
            Some(Some(backup)) => Some(Some(self.reachable_target(backup).await?)),
            Some(None) => Some(None),
            None => None,
        };
        if let Some(shop) = shop {
            let json = serde_json::to_string(&shop)
                .map_err(|e| Error::Config(format!("cannot store the shop's details: {e}")))?;
            self.store.set_setting(SHOP, &json).await?;
        }
        if let Some(counter) = counter {
            let json = serde_json::to_string(&counter)
                .map_err(|e| Error::Config(format!("cannot store the counter's settings: {e}")))?;
            self.store.set_setting(COUNTER, &json).await?;
        }
        if let Some(lsp) = lsp {
            match lsp {
                Some(lsp) => {
                    match &lsp.token {
                        Some(token) => self.secrets.set(LSP_TOKEN, token).await?,
                        None => self.secrets.delete(LSP_TOKEN).await?,
                    }
                    let json = serde_json::to_string(&StoredLsp {
                        node_id: lsp.node_id,
                        address: lsp.address,
                    })
                    .map_err(|e| Error::Config(format!("cannot store the LSP: {e}")))?;
                    self.store.set_setting(LSP, &json).await?;
                }
                None => {
                    self.secrets.delete(LSP_TOKEN).await?;
                    self.store.set_setting(LSP, "none").await?;
                }
            }
        }
        match backup {
            Some(Some(target)) => store_backup_target(self.store, self.secrets, &target).await?,
            Some(None) => {
                self.secrets.delete(BACKUP_TOKEN).await?;
                self.store.set_setting(BACKUP, "none").await?;
            }
            None => {}
        }
        if change.lsp_max_fee_base_sat.is_some() || change.lsp_max_fee_ppm.is_some() {
            let mut next = self.config.clone();
            apply_stored(self.store, self.secrets, &mut next).await?;
            let cap = StoredCap {
                base_sat: change
                    .lsp_max_fee_base_sat
                    .unwrap_or(next.lsp_max_fee_base_sat),
                ppm: change.lsp_max_fee_ppm.unwrap_or(next.lsp_max_fee_ppm),
            };
            let json = serde_json::to_string(&cap)
                .map_err(|e| Error::Config(format!("cannot store the fee cap: {e}")))?;
            self.store.set_setting(LSP_CAP, &json).await?;
        }
        if currency.is_some() || providers.is_some() {
            if let Some(currency) = &currency {
                let value = currency.as_deref().unwrap_or("none");
                self.store.set_setting(CURRENCY, value).await?;
            }
            if let Some(providers) = &providers {
                self.store
                    .set_setting(RATE_PROVIDERS, &providers_column(providers))
                    .await?;
            }
            self.rates.set_choice(
                currency.unwrap_or_else(|| self.rates.merchant_currency()),
                providers.unwrap_or_else(|| self.rates.enabled()),
            );
        }
        if let Some(on) = change.notifications {
            self.store
                .set_setting(NOTIFICATIONS, if on { "on" } else { "off" })
                .await?;
            self.notify.store(on, Ordering::Relaxed);
        }
        self.get().await
    }
}

/// Puts the backup target, the LSP and the fee cap chosen in the dashboard, if any, into
/// `config` (the LSP not for the sandbox, which brings its own).
pub(crate) async fn apply_stored(
    store: &Store,
    secrets: &SecretStore,
    config: &mut Config,
) -> Result<()> {
    match store.setting(BACKUP).await?.as_deref() {
        None => {}
        Some("none") => config.backup = None,
        Some(json) => {
            let mut target: crate::backup::TargetConfig =
                serde_json::from_str(json).map_err(|e| {
                    Error::Config(format!(
                        "the stored backup target is damaged ({e}); set it again in Settings"
                    ))
                })?;
            if let crate::backup::TargetConfig::Vss { token, .. } = &mut target {
                *token = secrets.get(BACKUP_TOKEN).await?;
            }
            config.backup = Some(target);
        }
    }
    if config.sandbox {
        return Ok(());
    }
    match store.setting(LSP).await?.as_deref() {
        None => {}
        Some("none") => config.lsp = None,
        Some(json) => {
            let lsp: StoredLsp = serde_json::from_str(json).map_err(|e| {
                Error::Config(format!(
                    "the stored LSP setting is damaged ({e}); set it again in Settings"
                ))
            })?;
            config.lsp = Some(Lsp {
                node_id: lsp.node_id,
                address: lsp.address,
                token: secrets.get(LSP_TOKEN).await?,
            });
        }
    }
    if let Some(json) = store.setting(LSP_CAP).await? {
        let cap: StoredCap = serde_json::from_str(&json).map_err(|e| {
            Error::Config(format!(
                "the stored LSP fee cap is damaged ({e}); set it again in Settings"
            ))
        })?;
        config.lsp_max_fee_base_sat = cap.base_sat;
        config.lsp_max_fee_ppm = cap.ppm;
    }
    Ok(())
}

/// Keeps `target` as the backup target of every later start (its token in the secret store).
pub(crate) async fn store_backup_target(
    store: &Store,
    secrets: &SecretStore,
    target: &crate::backup::TargetConfig,
) -> Result<()> {
    let json = serde_json::to_string(target)
        .map_err(|e| Error::Config(format!("cannot record the backup target: {e}")))?;
    match target {
        crate::backup::TargetConfig::Vss {
            token: Some(token), ..
        } => secrets.set(BACKUP_TOKEN, token).await?,
        _ => secrets.delete(BACKUP_TOKEN).await?,
    }
    store.set_setting(BACKUP, &json).await
}

/// The merchant's stored currency and rate providers, given to `rates` (sats only and every
/// provider when nothing was chosen).
pub(crate) async fn apply_rates_choice(store: &Store, rates: &RateService) -> Result<()> {
    let currency = match store.setting(CURRENCY).await?.as_deref() {
        None | Some("none") => None,
        Some(code) => currency_code(code, "currency").ok(),
    };
    let providers = match store.setting(RATE_PROVIDERS).await? {
        Some(text) => parse_providers_column(&text),
        None => crate::rates::providers::ALL.to_vec(),
    };
    rates.set_choice(currency, providers);
    Ok(())
}

/// The stored notifications choice, if the merchant made one.
pub(crate) async fn stored_notifications(store: &Store) -> Result<Option<bool>> {
    Ok(store.setting(NOTIFICATIONS).await?.map(|v| v == "on"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn presets(list: &[&str]) -> Result<Vec<String>> {
        CounterSettings {
            tip_presets: list.iter().map(|p| p.to_string()).collect(),
            ..CounterSettings::default()
        }
        .validate()
        .map(|c| c.tip_presets)
    }

    #[test]
    fn tip_presets_are_read_as_the_document_says() -> Result<()> {
        // Normalised, smallest first; one percentage written two ways is one preset.
        assert_eq!(presets(&["20", "12.50", "5"])?, ["5", "12.5", "20"]);
        assert_eq!(
            presets(&["100.0", "100.000", "9", "0.348"])?,
            ["0.348", "9", "100"]
        );
        for bad in [
            &[][..],
            &["0"],
            &["101"],
            &["1.2345"],
            &["-1"],
            &["1", "2", "3", "4", "5"],
        ] {
            assert!(presets(bad).is_err(), "{bad:?}");
        }
        Ok(())
    }
}
