//! The desktop app's settings: the same definition `payaimld` uses ([`Settings`]), read from the
//! `PAYAIML_*` environment variables (and from flags, when started from a terminal), with the
//! same defaults. `PAYAIML_SANDBOX=1` (`--sandbox`) runs the regtest sandbox, as `payaimld
//! sandbox` does; `PAYAIML_NETWORK` runs that network's wallet; with neither the app hosts the
//! install's wallets and opens on the first-run setup until one is chosen.

use clap::Parser;
use payaiml_api::cli::Settings;

/// PayAiML Merchant desktop app.
#[derive(Parser, Debug)]
#[command(name = "payaiml-desktop", version)]
pub struct DesktopCli {
    /// Run on a private regtest chain with its own bitcoind and a funded "customer" node
    #[arg(long, env = "PAYAIML_SANDBOX", num_args = 0..=1, default_missing_value = "true",
          require_equals = true, value_parser = clap::builder::BoolishValueParser::new(),
          default_value = "false")]
    pub sandbox: bool,
    #[command(flatten)]
    pub settings: Settings,
}

impl DesktopCli {
    /// Whether the app hosts this install's wallets (no flag names one): the first start asks
    /// which, with the setup; `--data-dir` is then the home folder of them all.
    pub fn hosts_wallets(&self) -> bool {
        !self.sandbox && self.settings.network.is_none() && !self.settings.fresh
    }
}
