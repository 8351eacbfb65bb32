//! Configuration of one PayAiML Merchant instance, with its defaults.
//!
//! | setting | default | notes |
//! |---|---|---|
//! | `network` | `bitcoin` | `bitcoin`, `testnet`, `signet` or `regtest` |
//! | `data_dir` | OS app-data dir `/com.payaiml.merchant/<network>` | SQLite, the LDK store, the secrets file if chosen |
//! | `chain_source` | Esplora for the network (see [`Network::default_esplora_url`]) | or bitcoind RPC; regtest has no default |
//! | `rgs_url` | Rapid Gossip Sync server for `bitcoin` and `testnet` | none for `signet` / `regtest` (peer-to-peer gossip) |
//! | `listen` | `127.0.0.1:3737` | the REST + WebSocket API |
//! | `ln_listen` | none | address the Lightning node accepts peers on |
//! | `secrets` | `keyring` | `keyring` (OS keyring) or `file` (mode 0600 in the data dir) |
//! | `allowed_hosts` | none | extra `Host` names accepted besides the bound address, `localhost`, `127.0.0.1` |
//! | `public_url` | none | the address shops reach the server at, for checkout links (else each request's own) |
//! | `notifications` | off (`payaimld`), on (desktop app) | a desktop notification per received payment |
//! | `webhook_retries` | 10s,1m,5m,30m,2h,6h,12h,24h | the wait after each failed webhook attempt (±20 % jitter) |
//! | `max_fee_base_sat` | 10 | routing fee cap of a payment: this many sats... |
//! | `max_fee_ppm` | 10000 | ...plus this many millionths of the amount (10000 = 1 %), rounded down to the msat |
//! | `lsp` | none | an LSPS2 provider (node id, address, token) that opens a channel when an invoice needs one |
//! | `lsp_max_fee_base_sat`, `lsp_max_fee_ppm` | 5000, 10000 | the most an LSP may keep for opening a channel: sats plus millionths of the payment, rounded down |
//! | `auth_failures_per_minute` | 20 | requests with one unknown or malformed key a client may make per minute before `429`; 15 times as many across all keys |

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

use crate::error::{Error, Result};

/// The default API listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:3737";
/// The default log filter of both front doors: our own `info` lines, and only warnings and
/// errors from the Lightning libraries, whose `info` is a developer's diary (peer messages,
/// chain polling) that would bury the lines a merchant needs. `PAYAIML_LOG=info` shows it all.
pub const DEFAULT_LOG: &str = "info,ldk_node=warn,lightning=warn,lightning_background_processor=warn,\
     lightning_net_tokio=warn,lightning_liquidity=warn,lightning_transaction_sync=warn,bdk_wallet=warn";

/// 21 million BTC in millisatoshis: the most any amount can be.
const MAX_MSAT: u64 = 21_000_000 * 100_000_000 * 1000;

/// The default routing fee cap's fixed part, in sats.
pub const DEFAULT_MAX_FEE_BASE_SAT: u64 = 10;
/// The default routing fee cap's proportional part, in millionths of the amount (1 %).
pub const DEFAULT_MAX_FEE_PPM: u64 = 10_000;
/// The default number of requests with one unknown key a client may make per minute.
pub const DEFAULT_AUTH_FAILURES_PER_MINUTE: u32 = 20;
/// The default backoff after each failed webhook attempt: about 10 s, 1 min, 5 min, 30 min, 2 h,
/// 6 h, 12 h, 24 h (each ±20 % jitter), then the delivery is given up (and can be redelivered by
/// hand).
pub const DEFAULT_WEBHOOK_RETRIES: [std::time::Duration; 8] = [
    std::time::Duration::from_secs(10),
    std::time::Duration::from_secs(60),
    std::time::Duration::from_secs(300),
    std::time::Duration::from_secs(1800),
    std::time::Duration::from_secs(7200),
    std::time::Duration::from_secs(21_600),
    std::time::Duration::from_secs(43_200),
    std::time::Duration::from_secs(86_400),
];
/// The default fee cap for a channel opened by the LSP: this many sats...
pub const DEFAULT_LSP_MAX_FEE_BASE_SAT: u64 = 5_000;
/// ...plus this many millionths of the payment (10,000 = 1 %).
pub const DEFAULT_LSP_MAX_FEE_PPM: u64 = 10_000;
/// The application identifier, also the name of its data folder.
pub const APP_ID: &str = "com.payaiml.merchant";

/// A Bitcoin network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    /// Bitcoin mainnet.
    Bitcoin,
    /// Testnet (v3).
    Testnet,
    /// Signet.
    Signet,
    /// A local regtest chain (the sandbox).
    Regtest,
}

impl Network {
    /// The network's lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Network::Bitcoin => "bitcoin",
            Network::Testnet => "testnet",
            Network::Signet => "signet",
            Network::Regtest => "regtest",
        }
    }

    /// The public Esplora server used when no chain source is configured.
    pub fn default_esplora_url(self) -> Option<&'static str> {
        match self {
            Network::Bitcoin => Some("https://blockstream.info/api"),
            Network::Testnet => Some("https://blockstream.info/testnet/api"),
            Network::Signet => Some("https://mempool.space/signet/api"),
            Network::Regtest => None,
        }
    }

    /// The Rapid Gossip Sync server for the network, where one exists.
    pub fn default_rgs_url(self) -> Option<&'static str> {
        match self {
            Network::Bitcoin => Some("https://rapidsync.lightningdevkit.org/snapshot"),
            Network::Testnet => Some("https://rapidsync.lightningdevkit.org/testnet/snapshot"),
            Network::Signet | Network::Regtest => None,
        }
    }

    pub(crate) fn to_ldk(self) -> ldk_node::bitcoin::Network {
        match self {
            Network::Bitcoin => ldk_node::bitcoin::Network::Bitcoin,
            Network::Testnet => ldk_node::bitcoin::Network::Testnet,
            Network::Signet => ldk_node::bitcoin::Network::Signet,
            Network::Regtest => ldk_node::bitcoin::Network::Regtest,
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Network {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "bitcoin" | "mainnet" => Ok(Network::Bitcoin),
            "testnet" => Ok(Network::Testnet),
            "signet" => Ok(Network::Signet),
            "regtest" => Ok(Network::Regtest),
            other => Err(Error::Config(format!(
                "unknown network '{other}': use bitcoin, testnet, signet or regtest"
            ))),
        }
    }
}

/// Where the node learns about the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainSource {
    /// An Esplora HTTP server.
    Esplora {
        /// Base URL, e.g. `https://blockstream.info/api`.
        url: String,
    },
    /// A bitcoind JSON-RPC server.
    BitcoindRpc {
        /// Host name or IP.
        host: String,
        /// RPC port.
        port: u16,
        /// RPC user.
        user: String,
        /// RPC password.
        password: String,
    },
}

impl ChainSource {
    /// A description safe for logs and `/v1/health` (never the RPC password).
    pub fn describe(&self) -> String {
        match self {
            ChainSource::Esplora { url } => format!("esplora {url}"),
            ChainSource::BitcoindRpc { host, port, .. } => format!("bitcoind rpc {host}:{port}"),
        }
    }
}

/// A Lightning service provider that opens a channel to this node just in time (LSPS2) when an
/// invoice asks more than the channels can receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lsp {
    /// Its node id (66 hex characters).
    pub node_id: String,
    /// Where it listens, `host:port`.
    pub address: String,
    /// The token it gave the merchant, if it asks for one.
    pub token: Option<String>,
}

/// Which secret store keeps the node seed, API keys and webhook secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretsBackend {
    /// The OS keyring (Secret Service, Keychain, Windows Credential Manager).
    Keyring,
    /// A file with mode 0600 in the data dir, for servers without a keyring.
    File,
}

impl FromStr for SecretsBackend {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "keyring" => Ok(SecretsBackend::Keyring),
            "file" => Ok(SecretsBackend::File),
            other => Err(Error::Config(format!(
                "unknown secrets backend '{other}': use keyring or file"
            ))),
        }
    }
}

/// The whole configuration of one instance.
#[derive(Debug, Clone)]
pub struct Config {
    /// The Bitcoin network.
    pub network: Network,
    /// Where SQLite, the LDK store and (if chosen) the secrets file live.
    pub data_dir: PathBuf,
    /// The chain source; `None` means the network's default Esplora server.
    pub chain_source: Option<ChainSource>,
    /// Rapid Gossip Sync URL; `None` means the network's default, if any.
    pub rgs_url: Option<String>,
    /// The API's listen address.
    pub listen: SocketAddr,
    /// The Lightning node's peer listening address, if any.
    pub ln_listen: Option<SocketAddr>,
    /// The secret store backend.
    pub secrets: SecretsBackend,
    /// Extra `Host` header values the API accepts (e.g. a LAN name when listening beyond loopback).
    pub allowed_hosts: Vec<String>,
    /// The address shops and their customers reach the server at (behind a proxy or a public
    /// name), for the hosted checkout's links; `None`: the address each request came to.
    pub public_url: Option<String>,
    /// Show a desktop notification for each received payment.
    pub notifications: bool,
    /// The wait after each failed webhook attempt; after the last, the delivery is given up.
    pub webhook_retries: Vec<std::time::Duration>,
    /// The routing fee cap of a payment without its own `max_fee`: this many sats...
    pub max_fee_base_sat: u64,
    /// ...plus this many millionths of the amount.
    pub max_fee_ppm: u64,
    /// How many requests with one unknown or malformed key a client may make per minute before
    /// it gets `429` (and 15 times as many across all the keys it tries). Valid keys are never
    /// limited.
    pub auth_failures_per_minute: u32,
    /// The LSP that opens channels just in time, if any.
    pub lsp: Option<Lsp>,
    /// The most an LSP may keep for opening a channel: this many sats...
    pub lsp_max_fee_base_sat: u64,
    /// ...plus this many millionths of the payment.
    pub lsp_max_fee_ppm: u64,
    /// Whether this instance is the regtest sandbox (set by [`crate::sandbox::launch`]; health
    /// reports it).
    pub sandbox: bool,
    /// Where exchange rates come from, and how old they may be.
    pub rates: crate::rates::RatesConfig,
    /// Where the node's channel state is backed up as it changes, if anywhere.
    pub backup: Option<crate::backup::TargetConfig>,
}

impl Config {
    /// A configuration with every default for `network`.
    pub fn new(network: Network) -> Self {
        Config {
            network,
            data_dir: default_data_dir(network.as_str()),
            chain_source: None,
            rgs_url: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 3737)),
            ln_listen: None,
            secrets: SecretsBackend::Keyring,
            allowed_hosts: Vec::new(),
            public_url: None,
            notifications: false,
            webhook_retries: DEFAULT_WEBHOOK_RETRIES.to_vec(),
            lsp: None,
            lsp_max_fee_base_sat: DEFAULT_LSP_MAX_FEE_BASE_SAT,
            lsp_max_fee_ppm: DEFAULT_LSP_MAX_FEE_PPM,
            sandbox: false,
            max_fee_base_sat: DEFAULT_MAX_FEE_BASE_SAT,
            max_fee_ppm: DEFAULT_MAX_FEE_PPM,
            auth_failures_per_minute: DEFAULT_AUTH_FAILURES_PER_MINUTE,
            rates: crate::rates::RatesConfig::default(),
            backup: None,
        }
    }

    /// The routing fee cap for a payment of `amount_msat` without its own `max_fee`:
    /// `max_fee_base_sat × 1000 + ⌊amount_msat × max_fee_ppm / 1 000 000⌋` msat (rounded down,
    /// in the payer's favour; saturating, and at most 21 million BTC, so no setting overflows it).
    pub fn default_max_fee_msat(&self, amount_msat: u64) -> u64 {
        let proportional = (u128::from(amount_msat) * u128::from(self.max_fee_ppm)) / 1_000_000;
        self.max_fee_base_sat
            .saturating_mul(1000)
            .saturating_add(u64::try_from(proportional).unwrap_or(u64::MAX))
            // Never beyond 21 million BTC, so any setting stays a valid amount in the database.
            .min(MAX_MSAT)
    }

    /// The most an LSP may keep for opening a channel with a payment of `amount_msat`:
    /// `lsp_max_fee_base_sat × 1000 + ⌊amount_msat × lsp_max_fee_ppm / 1 000 000⌋` msat, rounded
    /// down (in the merchant's favour) and saturating, like the routing fee cap.
    pub fn lsp_fee_cap_msat(&self, amount_msat: u64) -> u64 {
        let proportional = (u128::from(amount_msat) * u128::from(self.lsp_max_fee_ppm)) / 1_000_000;
        self.lsp_max_fee_base_sat
            .saturating_mul(1000)
            .saturating_add(u64::try_from(proportional).unwrap_or(u64::MAX))
            .min(MAX_MSAT)
    }

    /// The chain source in effect: the configured one or the network's default.
    pub fn effective_chain_source(&self) -> Result<ChainSource> {
        if let Some(source) = &self.chain_source {
            return Ok(source.clone());
        }
        self.network
            .default_esplora_url()
            .map(|url| ChainSource::Esplora { url: url.to_string() })
            .ok_or_else(|| {
                Error::Config(format!(
                    "the {} network has no default chain source: give an Esplora URL or bitcoind RPC settings",
                    self.network
                ))
            })
    }

    /// The RGS URL in effect, if any.
    pub fn effective_rgs_url(&self) -> Option<String> {
        self.rgs_url
            .clone()
            .or_else(|| self.network.default_rgs_url().map(str::to_string))
    }

    /// Path of the SQLite database.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("payaiml.sqlite")
    }

    /// The file by which processes sharing the database announce a revoked API key (the `keys`
    /// command beside a serving daemon): see `keys::cache`.
    pub fn keys_marker_path(&self) -> PathBuf {
        self.data_dir.join("keys.changed")
    }

    /// Path of the LDK node's own storage.
    pub fn ldk_dir(&self) -> PathBuf {
        self.data_dir.join("ldk")
    }
}

/// The OS app-data directory for this application, with `leaf` appended
/// (`~/.local/share/com.payaiml.merchant/<leaf>` on Linux).
pub fn default_data_dir(leaf: &str) -> PathBuf {
    default_home().join(leaf)
}

/// The install's home folder: one data dir per wallet inside it, and the kept choice of which
/// runs (see [`crate::profile`]).
pub fn default_home() -> PathBuf {
    os_data_dir().join(APP_ID)
}

fn os_data_dir() -> PathBuf {
    dirs::data_dir().unwrap_or_else(|| PathBuf::from("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_parse_and_have_sources() {
        assert_eq!("Regtest".parse::<Network>().ok(), Some(Network::Regtest));
        assert!("moon".parse::<Network>().is_err());
        assert!(Config::new(Network::Regtest)
            .effective_chain_source()
            .is_err());
        assert!(matches!(
            Config::new(Network::Signet).effective_chain_source(),
            Ok(ChainSource::Esplora { .. })
        ));
        assert_eq!(Config::new(Network::Signet).effective_rgs_url(), None);
        assert!(Config::new(Network::Bitcoin).effective_rgs_url().is_some());
    }

    #[test]
    fn fee_cap_rounds_down_and_saturates() {
        let config = Config::new(Network::Regtest);
        assert_eq!(config.default_max_fee_msat(0), 10_000);
        assert_eq!(config.default_max_fee_msat(1_000_000), 20_000);
        assert_eq!(
            config.default_max_fee_msat(99),
            10_000,
            "0.99 msat rounds down"
        );
        let huge = Config {
            max_fee_base_sat: u64::MAX,
            ..Config::new(Network::Regtest)
        };
        assert_eq!(huge.default_max_fee_msat(u64::MAX), MAX_MSAT);
    }

    #[test]
    fn describe_hides_rpc_password() {
        let source = ChainSource::BitcoindRpc {
            host: "127.0.0.1".into(),
            port: 18443,
            user: "u".into(),
            password: "hunter2".into(),
        };
        assert!(!source.describe().contains("hunter2"));
    }
}
