//! Command-line flags; each global flag can also come from a `PAYAIML_*` environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use payaiml_core::{Config, Network, SecretsBackend};

/// PayAiML Merchant daemon: your own Lightning node with a local payments API.
#[derive(Parser, Debug)]
#[command(name = "payaimld", version)]
pub struct Cli {
    /// Data directory [default: the OS app-data dir, per network; `sandbox` for the sandbox]
    #[arg(long, global = true, env = "PAYAIML_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// API listen address (port 0 picks a free port)
    #[arg(long, global = true, env = "PAYAIML_LISTEN", default_value = payaiml_core::config::DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// Bitcoin network: bitcoin, testnet, signet or regtest
    #[arg(
        long,
        global = true,
        env = "PAYAIML_NETWORK",
        default_value = "bitcoin"
    )]
    pub network: Network,
    /// Where secrets live: keyring (the OS keyring) or file (mode 0600 in the data dir)
    #[arg(
        long,
        global = true,
        env = "PAYAIML_SECRETS",
        default_value = "keyring"
    )]
    pub secrets: SecretsBackend,
    /// Folder of the built dashboard (ui/dist) to serve at / for browsers
    #[arg(long, global = true, env = "PAYAIML_UI_DIR")]
    pub ui_dir: Option<PathBuf>,
    /// Write the admin key to this file (mode 0600) at every start, instead of printing it; it is
    /// printed only when standard output is a terminal, never into a service log
    #[arg(long, global = true, env = "PAYAIML_ADMIN_KEY_FILE")]
    pub admin_key_file: Option<PathBuf>,
    /// Show a desktop notification for each received payment (needs a desktop session's D-Bus)
    #[arg(long, global = true, env = "PAYAIML_NOTIFY")]
    pub notify: bool,
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
    /// Log filter, e.g. info, debug, or info,ldk_node=debug
    #[arg(long, global = true, env = "PAYAIML_LOG", default_value = payaiml_core::config::DEFAULT_LOG)]
    pub log_level: String,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the node and the API
    Serve(ServeArgs),
    /// Run on a private regtest chain with its own bitcoind and a funded "customer" node
    Sandbox(SandboxArgs),
    /// Manage API keys (works while the server runs)
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Esplora server URL [default: a public server for the network]
    #[arg(long, env = "PAYAIML_ESPLORA_URL", conflicts_with = "bitcoind_rpc")]
    pub esplora_url: Option<String>,
    /// bitcoind RPC as host:port (with --bitcoind-rpc-user and --bitcoind-rpc-password)
    #[arg(long, env = "PAYAIML_BITCOIND_RPC", requires_all = ["bitcoind_rpc_user", "bitcoind_rpc_password"])]
    pub bitcoind_rpc: Option<String>,
    /// bitcoind RPC user
    #[arg(long, env = "PAYAIML_BITCOIND_RPC_USER")]
    pub bitcoind_rpc_user: Option<String>,
    /// bitcoind RPC password
    #[arg(long, env = "PAYAIML_BITCOIND_RPC_PASSWORD", hide_env_values = true)]
    pub bitcoind_rpc_password: Option<String>,
    /// Rapid Gossip Sync URL [default: the network's, where one exists]
    #[arg(long, env = "PAYAIML_RGS_URL")]
    pub rgs_url: Option<String>,
    /// Address the Lightning node accepts peers on
    #[arg(long, env = "PAYAIML_LN_LISTEN")]
    pub ln_listen: Option<SocketAddr>,
    /// Extra Host names the API accepts (when listening beyond loopback)
    #[arg(
        long = "allow-host",
        env = "PAYAIML_ALLOW_HOSTS",
        value_delimiter = ','
    )]
    pub allow_hosts: Vec<String>,
}

#[derive(Args, Debug)]
pub struct SandboxArgs {
    /// The bitcoind binary [default: scripts/install-bitcoind.sh's, else bitcoind on PATH]
    #[arg(long, env = "PAYAIML_BITCOIND")]
    pub bitcoind: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Create a key; its secret is printed once, as the last line
    Create {
        /// A name to recognise it by
        #[arg(long)]
        name: String,
        /// Comma-separated: lightning:read, lightning:receive, lightning:write, keys:manage, node:manage
        #[arg(long, value_delimiter = ',', required = true)]
        permissions: Vec<String>,
        /// Max sats it may send per UTC day
        #[arg(long)]
        budget: Option<u64>,
        /// Lifetime such as 30d, 12h, 15m or 90s
        #[arg(long)]
        expires_in: Option<String>,
    },
    /// List keys
    List,
    /// Revoke a key by id
    Revoke {
        /// The key id (or the whole key)
        id: String,
    },
}

impl Cli {
    /// The core configuration these flags describe (`sandbox` picks its own data dir default).
    pub fn config(&self, sandbox: bool) -> Config {
        let network = if sandbox {
            Network::Regtest
        } else {
            self.network
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
        config.notifications = self.notify;
        if let Some(retries) = &self.webhook_retries {
            config.webhook_retries = retries.0.clone();
        }
        config.max_fee_base_sat = self.max_fee_base_sat;
        config.max_fee_ppm = self.max_fee_ppm;
        config.auth_failures_per_minute = self.auth_failures_per_minute;
        config
    }
}

/// A webhook retry schedule.
#[derive(Debug, Clone)]
pub struct Retries(pub Vec<std::time::Duration>);

fn parse_retries(text: &str) -> Result<Retries, String> {
    payaiml_core::webhooks::parse_schedule(text)
        .map(Retries)
        .map_err(|e| e.to_string())
}

/// Parses `30d`, `12h`, `15m`, `90s` or plain seconds.
pub fn parse_duration(text: &str) -> anyhow::Result<std::time::Duration> {
    payaiml_core::util::parse_duration(text).ok_or_else(|| {
        anyhow::anyhow!(
            "'{}' is not a positive duration like 30d, 12h, 15m or 90s",
            text.trim()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90").ok().map(|d| d.as_secs()), Some(90));
        assert_eq!(parse_duration("2h").ok().map(|d| d.as_secs()), Some(7200));
        assert_eq!(
            parse_duration("30d").ok().map(|d| d.as_secs()),
            Some(2_592_000)
        );
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5w").is_err());
    }
}
