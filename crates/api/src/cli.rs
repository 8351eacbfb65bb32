//! Every setting of an instance, defined once for both front doors: each is a flag of
//! `payaimld` and a `PAYAIML_*` environment variable, with one default. The desktop app parses
//! the same definition from its environment (and its command line), so a setting one front door
//! honours the other honours too.
//!
//! One default differs on purpose: desktop notifications are on in the desktop app (a merchant at
//! the counter wants to hear of a payment) and off in `payaimld` (a server has no desktop). Both
//! accept `--notify[=true|false]` / `PAYAIML_NOTIFY`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::Args;
use payaiml_core::profile::Profile;
use payaiml_core::rates::Provider;
use payaiml_core::sandbox::Sandbox;
use payaiml_core::{App, ChainSource, Config, Network, SecretsBackend};

/// The settings common to `payaimld serve`, `payaimld sandbox` and the desktop app.
#[derive(Args, Debug, Clone)]
pub struct Settings {
    /// Data directory [default: the OS app-data dir, per network; `sandbox` for the sandbox]
    #[arg(long, global = true, env = "PAYAIML_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// API listen address (port 0 picks a free port)
    #[arg(long, global = true, env = "PAYAIML_LISTEN", default_value = payaiml_core::config::DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// Bitcoin network: bitcoin, testnet, signet or regtest (the sandbox is always regtest)
    /// [default: bitcoin; the desktop app and `payaimld app` ask at first start when it is not
    /// given]
    #[arg(long, global = true, env = "PAYAIML_NETWORK")]
    pub network: Option<Network>,
    /// Where secrets live: keyring (the OS keyring) or file (mode 0600 in the data dir)
    #[arg(
        long,
        global = true,
        env = "PAYAIML_SECRETS",
        default_value = "keyring"
    )]
    pub secrets: SecretsBackend,
    /// Folder of the built dashboard (ui/dist) to serve at / for browsers (the desktop app has
    /// its own copy)
    #[arg(long, global = true, env = "PAYAIML_UI_DIR")]
    pub ui_dir: Option<PathBuf>,
    /// Write the admin key to this file (mode 0600) at every start, instead of printing it; it is
    /// printed only when standard output is a terminal, never into a service log
    #[arg(long, global = true, env = "PAYAIML_ADMIN_KEY_FILE")]
    pub admin_key_file: Option<PathBuf>,
    /// Show a desktop notification for each received payment (needs a desktop session's D-Bus)
    /// [default: on in the desktop app, off in payaimld]
    #[arg(long, global = true, env = "PAYAIML_NOTIFY", num_args = 0..=1,
          default_missing_value = "true", require_equals = true, value_parser = BoolishValueParser::new())]
    pub notify: Option<bool>,
    /// Waits after each failed webhook attempt, e.g. 10s,1m,5m [default: 10s,1m,5m,30m,2h,6h,12h,24h]
    #[arg(long, global = true, env = "PAYAIML_WEBHOOK_RETRIES", value_parser = parse_retries)]
    pub webhook_retries: Option<Retries>,
    /// Routing fee cap of a payment without its own max_fee: this many sats...
    #[arg(long, global = true, env = "PAYAIML_MAX_FEE_BASE_SAT", default_value_t = payaiml_core::config::DEFAULT_MAX_FEE_BASE_SAT)]
    pub max_fee_base_sat: u64,
    /// ...plus this many millionths of the amount (10000 = 1 %)
    #[arg(long, global = true, env = "PAYAIML_MAX_FEE_PPM", default_value_t = payaiml_core::config::DEFAULT_MAX_FEE_PPM)]
    pub max_fee_ppm: u64,
    /// Requests with one unknown API key a client may make per minute before 429 (15 times as many across all keys)
    #[arg(long, global = true, env = "PAYAIML_AUTH_FAILURES_PER_MINUTE", default_value_t = payaiml_core::config::DEFAULT_AUTH_FAILURES_PER_MINUTE, value_parser = clap::value_parser!(u32).range(1..))]
    pub auth_failures_per_minute: u32,
    /// The Lightning service provider (LSPS2) that opens a channel to this node when an invoice
    /// asks more than its channels can receive, as NODE_ID@HOST:PORT
    #[arg(long, global = true, env = "PAYAIML_LSP", value_parser = parse_lsp)]
    pub lsp: Option<(String, String)>,
    /// The token the LSP gave you, if it asks for one
    #[arg(long, global = true, env = "PAYAIML_LSP_TOKEN", hide_env_values = true)]
    pub lsp_token: Option<String>,
    /// Back up the node's channel state, as it changes, to a VSS server (http://HOST:PORT/vss) or
    /// a folder on another device (an absolute path); encrypted with keys from the recovery words
    #[arg(long, global = true, env = "PAYAIML_BACKUP", value_parser = parse_backup)]
    pub backup: Option<payaiml_core::backup::TargetConfig>,
    /// The bearer token the VSS server expects, if it checks one
    #[arg(
        long,
        global = true,
        env = "PAYAIML_BACKUP_TOKEN",
        hide_env_values = true
    )]
    pub backup_token: Option<String>,
    /// Sign each request to the VSS server with a JWT of the wallet's own RSA key (derived from
    /// the recovery words), for a server in JWT mode given its public half (`payaimld backup-key`)
    #[arg(long, global = true, env = "PAYAIML_BACKUP_JWT")]
    pub backup_jwt: bool,
    /// The most the LSP may keep for opening a channel: this many sats...
    #[arg(long, global = true, env = "PAYAIML_LSP_MAX_FEE_BASE_SAT", default_value_t = payaiml_core::config::DEFAULT_LSP_MAX_FEE_BASE_SAT)]
    pub lsp_max_fee_base_sat: u64,
    /// ...plus this many millionths of the payment (10000 = 1 %)
    #[arg(long, global = true, env = "PAYAIML_LSP_MAX_FEE_PPM", default_value_t = payaiml_core::config::DEFAULT_LSP_MAX_FEE_PPM)]
    pub lsp_max_fee_ppm: u64,
    /// A rate provider's base URL instead of its public one, as PROVIDER=URL (coinbase, kraken,
    /// bitstamp, coingecko), e.g. for a proxy; repeat or separate with commas
    #[arg(long = "rate-url", global = true, env = "PAYAIML_RATE_URLS", value_delimiter = ',', value_parser = parse_rate_url)]
    pub rate_urls: Vec<(Provider, String)>,
    /// The oldest an exchange rate quote may be and still price a sale, e.g. 5m
    #[arg(long, global = true, env = "PAYAIML_RATE_MAX_AGE", default_value = "5m", value_parser = parse_positive_duration)]
    pub rate_max_age: Duration,
    /// How often a rate in use is fetched again, e.g. 60s
    #[arg(long, global = true, env = "PAYAIML_RATE_REFRESH", default_value = "60s", value_parser = parse_positive_duration)]
    pub rate_refresh: Duration,
    /// The sandbox only: start the merchant with no channels and no funds, and the sandbox's own
    /// LSP set up, to try the first payment of a new node (its own data dir: `sandbox-fresh`)
    #[arg(long, global = true, env = "PAYAIML_SANDBOX_FRESH")]
    pub fresh: bool,
    /// Log filter, e.g. info, debug, or info,ldk_node=debug
    #[arg(long, global = true, env = "PAYAIML_LOG", default_value = payaiml_core::config::DEFAULT_LOG)]
    pub log_level: String,
    /// Where the node learns about the chain, and how it meets peers (not for the sandbox,
    /// which runs its own bitcoind)
    #[command(flatten)]
    pub chain: ChainSettings,
    /// The bitcoind binary of the sandbox [default: scripts/install-bitcoind.sh's, else bitcoind
    /// on PATH]
    #[arg(long, global = true, env = "PAYAIML_BITCOIND")]
    pub bitcoind: Option<PathBuf>,
}

/// The chain source and the node's network settings of a real (not sandbox) instance.
#[derive(Args, Debug, Clone, Default)]
pub struct ChainSettings {
    /// Esplora server URL [default: a public server for the network]
    #[arg(
        long,
        global = true,
        env = "PAYAIML_ESPLORA_URL",
        conflicts_with = "bitcoind_rpc"
    )]
    pub esplora_url: Option<String>,
    /// bitcoind RPC as host:port (with --bitcoind-rpc-user and --bitcoind-rpc-password)
    #[arg(long, global = true, env = "PAYAIML_BITCOIND_RPC", requires_all = ["bitcoind_rpc_user", "bitcoind_rpc_password"])]
    pub bitcoind_rpc: Option<String>,
    /// bitcoind RPC user
    #[arg(long, global = true, env = "PAYAIML_BITCOIND_RPC_USER")]
    pub bitcoind_rpc_user: Option<String>,
    /// bitcoind RPC password
    #[arg(
        long,
        global = true,
        env = "PAYAIML_BITCOIND_RPC_PASSWORD",
        hide_env_values = true
    )]
    pub bitcoind_rpc_password: Option<String>,
    /// Rapid Gossip Sync URL [default: the network's, where one exists]
    #[arg(long, global = true, env = "PAYAIML_RGS_URL")]
    pub rgs_url: Option<String>,
    /// Address the Lightning node accepts peers on
    #[arg(long, global = true, env = "PAYAIML_LN_LISTEN")]
    pub ln_listen: Option<SocketAddr>,
    /// Extra Host names the API accepts (when listening beyond loopback)
    #[arg(
        long = "allow-host",
        global = true,
        env = "PAYAIML_ALLOW_HOSTS",
        value_delimiter = ','
    )]
    pub allow_hosts: Vec<String>,
    /// The address shops and their customers reach this server at, when it is behind a reverse
    /// proxy or a public name (e.g. https://pay.shop.example): the hosted checkout links
    /// (`checkoutLink`) are made from it [default: the address each request came to]
    #[arg(long, global = true, env = "PAYAIML_PUBLIC_URL", value_parser = public_url)]
    pub public_url: Option<String>,
}

/// `--public-url`: an absolute http(s) URL, kept without a trailing slash.
fn public_url(text: &str) -> Result<String, String> {
    let trimmed = text.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or("--public-url must start with https:// (or http://)")?;
    if rest.is_empty() || rest.contains(char::is_whitespace) {
        return Err("--public-url must name a host, e.g. https://pay.shop.example".into());
    }
    Ok(trimmed.to_string())
}

/// Which front door reads the settings: it decides the one default that differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrontDoor {
    /// `payaimld`: notifications off unless asked for.
    Daemon,
    /// The desktop app: notifications on unless turned off.
    Desktop,
}

/// An app opened and started from [`Settings`], with its sandbox when it runs one.
pub struct Launched {
    /// The app, started.
    pub app: Arc<App>,
    /// The regtest sandbox beside it, if any.
    pub sandbox: Option<Arc<Sandbox>>,
}

impl Settings {
    /// The core configuration these settings describe. `sandbox` picks regtest and the sandbox's
    /// own data dir default; the chain settings then do not apply (the sandbox runs its own
    /// bitcoind), and giving them is an error rather than something silently ignored.
    pub fn config(&self, sandbox: bool, door: FrontDoor) -> Result<Config, String> {
        let network = if sandbox {
            Network::Regtest
        } else {
            self.network.unwrap_or(Network::Bitcoin)
        };
        let mut config = Config::new(network);
        config.data_dir = self.data_dir.clone().unwrap_or_else(|| {
            if sandbox {
                payaiml_core::sandbox::default_data_dir()
            } else {
                payaiml_core::config::default_data_dir(network.as_str())
            }
        });
        config.listen = self.listen;
        config.secrets = self.secrets;
        config.notifications = self.notify.unwrap_or(door == FrontDoor::Desktop);
        if let Some(retries) = &self.webhook_retries {
            config.webhook_retries = retries.0.clone();
        }
        config.max_fee_base_sat = self.max_fee_base_sat;
        config.max_fee_ppm = self.max_fee_ppm;
        config.auth_failures_per_minute = self.auth_failures_per_minute;
        config.allowed_hosts = self.chain.allow_hosts.clone();
        config.public_url = self.chain.public_url.clone();
        config.rates.urls = self.rate_urls.iter().cloned().collect();
        config.rates.max_age = self.rate_max_age;
        config.rates.refresh = self.rate_refresh;
        config.lsp_max_fee_base_sat = self.lsp_max_fee_base_sat;
        config.lsp_max_fee_ppm = self.lsp_max_fee_ppm;
        config.backup = self
            .backup
            .clone()
            .map(|target| target.with_auth(self.backup_token.clone(), self.backup_jwt));
        if sandbox {
            config.sandbox = true;
            if self.lsp.is_some() {
                return Err(
                    "--lsp (PAYAIML_LSP) does not apply to the sandbox, which runs its own LSP \
                            with --fresh"
                        .into(),
                );
            }
            if self.fresh && self.data_dir.is_none() {
                config.data_dir = payaiml_core::config::default_data_dir("sandbox-fresh");
            }
            if let Some(name) = self.chain.chain_setting_given() {
                return Err(format!(
                    "{name} does not apply to the sandbox, which runs its own bitcoind; \
                     leave it out, or run a real node (payaimld serve)"
                ));
            }
            return Ok(config);
        }
        if self.fresh {
            return Err("--fresh is for the sandbox only (payaimld sandbox --fresh)".into());
        }
        config.lsp = self
            .lsp
            .clone()
            .map(|(node_id, address)| payaiml_core::config::Lsp {
                node_id,
                address,
                token: self.lsp_token.clone(),
            });
        config.chain_source = self.chain.chain_source()?;
        config.rgs_url = self.chain.rgs_url.clone();
        config.ln_listen = self.chain.ln_listen;
        Ok(config)
    }

    /// The settings of `profile` in the home folder `home` (the first-run setup's choice), and
    /// whether it is a sandbox: its own data dir inside `home`, its network, and only the settings
    /// that apply to it (a sandbox runs its own chain and LSP, so the chain settings and `--lsp`
    /// given for the real wallets are left out rather than refused).
    pub fn for_profile(&self, profile: Profile, home: &Path) -> Result<(Settings, bool), String> {
        let mut settings = self.clone();
        settings.data_dir = Some(profile.data_dir(home));
        settings.network = Some(profile.network());
        settings.fresh = profile == Profile::SandboxFresh;
        if profile.is_sandbox() {
            settings.lsp = None;
            settings.lsp_token = None;
            settings.chain = ChainSettings {
                allow_hosts: self.chain.allow_hosts.clone(),
                public_url: self.chain.public_url.clone(),
                ..ChainSettings::default()
            };
        } else if profile == Profile::Regtest && !self.chain.has_chain_source() {
            return Err(Profile::REGTEST_NEEDS.into());
        }
        Ok((settings, profile.is_sandbox()))
    }

    /// The sandbox's bitcoind binary.
    pub fn bitcoind(&self) -> PathBuf {
        self.bitcoind
            .clone()
            .unwrap_or_else(payaiml_core::sandbox::default_bitcoind)
    }

    /// Opens the app and starts it: the sandbox (its own bitcoind, the app on it, a customer
    /// node) when `sandbox`, else the node on the configured chain source.
    pub async fn launch(&self, sandbox: bool, door: FrontDoor) -> Result<Launched, String> {
        let config = self.config(sandbox, door)?;
        if sandbox {
            tracing::info!(data_dir = %config.data_dir.display(), "starting the regtest sandbox");
            let (app, sandbox) =
                payaiml_core::sandbox::launch(config, &self.bitcoind(), self.fresh)
                    .await
                    .map_err(|e| e.to_string())?;
            return Ok(Launched {
                app,
                sandbox: Some(sandbox),
            });
        }
        let app = App::open(config).await.map_err(|e| e.to_string())?;
        app.start();
        Ok(Launched { app, sandbox: None })
    }
}

impl ChainSettings {
    /// Whether a chain source of the merchant's own is given (a regtest wallet needs one).
    pub fn has_chain_source(&self) -> bool {
        self.esplora_url.is_some() || self.bitcoind_rpc.is_some()
    }

    fn chain_source(&self) -> Result<Option<ChainSource>, String> {
        if let Some(url) = &self.esplora_url {
            return Ok(Some(ChainSource::Esplora { url: url.clone() }));
        }
        let Some(rpc) = &self.bitcoind_rpc else {
            return Ok(None);
        };
        let (host, port) = rpc
            .rsplit_once(':')
            .ok_or("--bitcoind-rpc (PAYAIML_BITCOIND_RPC) must be host:port")?;
        let port = port.parse().map_err(|_| {
            format!("--bitcoind-rpc (PAYAIML_BITCOIND_RPC): the port of '{rpc}' must be a number")
        })?;
        Ok(Some(ChainSource::BitcoindRpc {
            host: host.to_string(),
            port,
            user: self.bitcoind_rpc_user.clone().unwrap_or_default(),
            password: self.bitcoind_rpc_password.clone().unwrap_or_default(),
        }))
    }

    /// The first chain setting given, by its flag name.
    fn chain_setting_given(&self) -> Option<&'static str> {
        [
            (
                self.esplora_url.is_some(),
                "--esplora-url (PAYAIML_ESPLORA_URL)",
            ),
            (
                self.bitcoind_rpc.is_some(),
                "--bitcoind-rpc (PAYAIML_BITCOIND_RPC)",
            ),
            (self.rgs_url.is_some(), "--rgs-url (PAYAIML_RGS_URL)"),
            (self.ln_listen.is_some(), "--ln-listen (PAYAIML_LN_LISTEN)"),
        ]
        .into_iter()
        .find_map(|(given, name)| given.then_some(name))
    }
}

/// `NODE_ID@HOST:PORT`, the form node addresses are shared in.
fn parse_backup(text: &str) -> Result<payaiml_core::backup::TargetConfig, String> {
    payaiml_core::backup::TargetConfig::parse(text).map_err(|e| e.to_string())
}

fn parse_lsp(text: &str) -> Result<(String, String), String> {
    let (id, address) = text
        .trim()
        .split_once('@')
        .ok_or("give the LSP as NODE_ID@HOST:PORT")?;
    if id.len() != 66 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("'{id}' is not a node id (66 hex characters)"));
    }
    if !address.contains(':') {
        return Err(format!("'{address}' is not HOST:PORT"));
    }
    Ok((id.to_string(), address.to_string()))
}

/// A webhook retry schedule.
#[derive(Debug, Clone)]
pub struct Retries(pub Vec<std::time::Duration>);

/// `kraken=http://127.0.0.1:9000`: a provider and an http(s) base URL.
fn parse_rate_url(text: &str) -> Result<(Provider, String), String> {
    let (provider, url) = text.split_once('=').ok_or_else(|| {
        format!("'{text}' is not PROVIDER=URL (e.g. kraken=https://proxy.example/kraken)")
    })?;
    let provider: Provider = provider.parse()?;
    let url = url.trim();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!("'{url}' is not an http:// or https:// URL"));
    }
    Ok((provider, url.to_string()))
}

fn parse_positive_duration(text: &str) -> Result<Duration, String> {
    payaiml_core::util::parse_duration(text)
        .ok_or_else(|| format!("'{text}' is not a duration such as 90s or 5m"))
}

fn parse_retries(text: &str) -> Result<Retries, String> {
    payaiml_core::webhooks::parse_schedule(text)
        .map(Retries)
        .map_err(|e| e.to_string())
}

/// Logs to standard error with `filter` (an `EnvFilter` directive such as the default
/// [`payaiml_core::config::DEFAULT_LOG`]); colours only on a terminal.
///
/// The relay pool's own lines are left out unless the filter names them: it logs every failed
/// reconnect to a relay that is down as an error, once per retry, while the wallet's own
/// service says once that a relay went down and once that it came back (and `/v1/health` says
/// it meanwhile).
pub fn init_logging(filter: &str) {
    let filter = if filter.contains("nostr") {
        filter.to_string()
    } else {
        format!("{filter},nostr_relay_pool=off")
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

/// The one multi-thread runtime of a front door: the API, the node (ldk-node is given this
/// handle) and the sandbox all run on it.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        settings: Settings,
    }

    fn parse(args: &[&str]) -> Result<Settings, clap::Error> {
        Cli::try_parse_from(std::iter::once("test").chain(args.iter().copied())).map(|c| c.settings)
    }

    #[test]
    fn flags_give_the_config() -> Result<(), String> {
        let s = parse(&[
            "--network",
            "regtest",
            "--bitcoind-rpc",
            "127.0.0.1:18443",
            "--bitcoind-rpc-user",
            "u",
            "--bitcoind-rpc-password",
            "p",
            "--ln-listen",
            "127.0.0.1:9735",
            "--allow-host",
            "shop.local,till.local",
            "--notify=false",
            "--max-fee-ppm",
            "5000",
        ])
        .map_err(|e| e.to_string())?;
        let config = s.config(false, FrontDoor::Desktop)?;
        assert_eq!(
            config.chain_source,
            Some(ChainSource::BitcoindRpc {
                host: "127.0.0.1".into(),
                port: 18443,
                user: "u".into(),
                password: "p".into()
            })
        );
        assert_eq!(
            config.ln_listen,
            Some(SocketAddr::from(([127, 0, 0, 1], 9735)))
        );
        assert_eq!(config.allowed_hosts, ["shop.local", "till.local"]);
        assert!(
            !config.notifications,
            "--notify=false wins over the desktop default"
        );
        assert_eq!(config.max_fee_ppm, 5000);
        Ok(())
    }

    #[test]
    fn defaults_differ_only_in_notifications() -> Result<(), String> {
        let s = parse(&[]).map_err(|e| e.to_string())?;
        let daemon = s.config(false, FrontDoor::Daemon)?;
        let desktop = s.config(false, FrontDoor::Desktop)?;
        assert!(!daemon.notifications && desktop.notifications);
        assert_eq!(
            format!(
                "{:?}",
                Config {
                    notifications: true,
                    ..daemon
                }
            ),
            format!("{desktop:?}")
        );
        let on = parse(&["--notify"]).map_err(|e| e.to_string())?;
        assert_eq!(on.notify, Some(true));
        Ok(())
    }

    #[test]
    fn the_sandbox_refuses_chain_settings() -> Result<(), String> {
        let s = parse(&["--esplora-url", "http://127.0.0.1:3000"]).map_err(|e| e.to_string())?;
        let err = s.config(true, FrontDoor::Daemon).err().unwrap_or_default();
        assert!(err.contains("--esplora-url"), "{err}");
        assert_eq!(
            parse(&[])
                .map_err(|e| e.to_string())?
                .config(true, FrontDoor::Daemon)?
                .network,
            Network::Regtest
        );
        assert!(
            parse(&["--bitcoind-rpc", "127.0.0.1:1"]).is_err(),
            "user and password are required"
        );
        assert!(
            parse(&["--lsp", &format!("02{}@127.0.0.1:9735", "ab".repeat(32))])
                .map_err(|e| e.to_string())?
                .config(true, FrontDoor::Daemon)
                .is_err(),
            "the sandbox runs its own LSP"
        );
        Ok(())
    }

    #[test]
    fn the_lsp_is_read_as_node_id_at_address() -> Result<(), String> {
        let id = format!("02{}", "ab".repeat(32));
        let s = parse(&[
            "--lsp",
            &format!("{id}@lsp.example:9735"),
            "--lsp-token",
            "t",
        ])
        .map_err(|e| e.to_string())?;
        let lsp = s.config(false, FrontDoor::Daemon)?.lsp.ok_or("no lsp")?;
        assert_eq!(
            (lsp.node_id.as_str(), lsp.address.as_str()),
            (id.as_str(), "lsp.example:9735")
        );
        assert_eq!(lsp.token.as_deref(), Some("t"));
        assert!(parse(&["--lsp", "lsp.example:9735"]).is_err(), "no node id");
        assert!(
            parse(&["--lsp", &format!("{id}@nowhere")]).is_err(),
            "no port"
        );
        let fresh = parse(&["--fresh"]).map_err(|e| e.to_string())?;
        assert!(
            fresh.config(false, FrontDoor::Daemon).is_err(),
            "--fresh is for the sandbox"
        );
        assert!(fresh
            .config(true, FrontDoor::Daemon)?
            .data_dir
            .ends_with("sandbox-fresh"));
        Ok(())
    }
}
