//! Command-line commands. Every setting is defined once, in [`payaiml_api::cli::Settings`], as a
//! flag and a `PAYAIML_*` environment variable that the desktop app reads too.

use clap::{Parser, Subcommand};
use payaiml_api::cli::{FrontDoor, Settings};
use payaiml_core::Config;

/// PayAiML Merchant daemon: your own Lightning node with a local payments API.
#[derive(Parser, Debug)]
#[command(name = "payaimld", version)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Make the wallet of a node on purpose (a real network's must be): new recovery words,
    /// shown once on this terminal to write down, or --restore from words read from standard
    /// input (regtest nodes otherwise make their own)
    Init {
        /// Restore a wallet from its recovery words (read from standard input)
        #[arg(long)]
        restore: bool,
    },
    /// Run the node and the API
    Serve,
    /// Print the public key (PEM) whose JWTs this wallet sends a VSS server with --backup-jwt:
    /// give it to the server (vss-server: VSS_JWT_RSA_PEM, or rsa_pem in its config). It comes
    /// from the recovery words, so a restored wallet has the same one
    BackupKey,
    /// Run as the desktop app does, with the dashboard in a browser: the first start opens on
    /// the setup (the sandbox, or a real wallet with its recovery words), later starts run the
    /// wallet chosen, and Settings can switch between them. --data-dir is then the home folder
    /// holding one data dir per wallet. Prints the dashboard's link (with its token) on a terminal
    App {
        /// Write the dashboard's link (it holds the token that runs the setup) to this file,
        /// mode 0600, instead of printing it
        #[arg(long, env = "PAYAIML_LINK_FILE")]
        link_file: Option<std::path::PathBuf>,
    },
    /// Run on a private regtest chain with its own bitcoind and a funded "customer" node
    Sandbox,
    /// Move this wallet to another computer: write everything (channel state, history, keys,
    /// webhooks, secrets) to FILE, encrypted with a passphrase (asked on a terminal, else one
    /// line of standard input), then retire this data dir for good: it never starts again here,
    /// because running an old copy of channel state can lose the channels' money. The app must
    /// be stopped
    Export {
        /// The file to write (it must not exist)
        file: std::path::PathBuf,
        /// Export the sandbox's data dir (with its bitcoind and customer node)
        #[arg(long)]
        sandbox: bool,
    },
    /// Bring a wallet exported with `export` onto this computer, into a new, empty data dir
    /// [default: the usual data dir of the wallet's network]; passphrase as for export
    Import {
        /// The export file
        file: std::path::PathBuf,
    },
    /// Print the API's OpenAPI document (as served at /v1/openapi.json, sandbox routes
    /// included) and exit; the SDK's and the dashboard's TypeScript types are generated from it
    Openapi,
    /// Manage API keys (works while the server runs)
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
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
    /// The configuration of the real node these flags describe (the `keys` commands use its data
    /// dir).
    pub fn config(&self) -> anyhow::Result<Config> {
        self.settings
            .config(false, FrontDoor::Daemon)
            .map_err(anyhow::Error::msg)
    }
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
