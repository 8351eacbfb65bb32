//! The desktop app's settings, from `PAYAIML_*` environment variables (the same names `payaimld`
//! reads), with the same defaults.

use std::path::PathBuf;

use payaiml_core::{ChainSource, Config, Network, SecretsBackend};

pub struct Settings {
    pub config: Config,
    /// Set when the app runs the regtest sandbox (`PAYAIML_SANDBOX=1`): the bitcoind to start.
    pub sandbox_bitcoind: Option<PathBuf>,
    /// `PAYAIML_ADMIN_KEY_FILE`: where to write the admin key (mode 0600) instead of printing it.
    pub admin_key_file: Option<PathBuf>,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

pub fn from_env() -> Result<Settings, String> {
    let sandbox = var("PAYAIML_SANDBOX").is_some_and(|v| v != "0");
    let network: Network = match (sandbox, var("PAYAIML_NETWORK")) {
        (true, _) => Network::Regtest,
        (false, Some(n)) => n.parse().map_err(|e: payaiml_core::Error| e.to_string())?,
        (false, None) => Network::Bitcoin,
    };
    let mut config = Config::new(network);
    config.data_dir = match var("PAYAIML_DATA_DIR") {
        Some(dir) => PathBuf::from(dir),
        None if sandbox => payaiml_core::sandbox::default_data_dir(),
        None => config.data_dir,
    };
    if let Some(listen) = var("PAYAIML_LISTEN") {
        config.listen = listen
            .parse()
            .map_err(|e| format!("PAYAIML_LISTEN '{listen}': {e}"))?;
    }
    if let Some(secrets) = var("PAYAIML_SECRETS") {
        config.secrets = secrets
            .parse::<SecretsBackend>()
            .map_err(|e| e.to_string())?;
    }
    if let Some(url) = var("PAYAIML_ESPLORA_URL") {
        config.chain_source = Some(ChainSource::Esplora { url });
    }
    config.rgs_url = var("PAYAIML_RGS_URL");
    // A desktop app tells the merchant at the counter that money came in, unless told not to.
    config.notifications =
        var("PAYAIML_NOTIFY").is_none_or(|v| !matches!(v.as_str(), "0" | "false" | "no" | "off"));
    if let Some(text) = var("PAYAIML_WEBHOOK_RETRIES") {
        config.webhook_retries =
            payaiml_core::webhooks::parse_schedule(&text).map_err(|e| e.to_string())?;
    }
    for (name, field) in [
        ("PAYAIML_MAX_FEE_BASE_SAT", &mut config.max_fee_base_sat),
        ("PAYAIML_MAX_FEE_PPM", &mut config.max_fee_ppm),
    ] {
        if let Some(text) = var(name) {
            *field = text
                .parse()
                .map_err(|_| format!("{name} '{text}' is not a whole number"))?;
        }
    }
    if let Some(text) = var("PAYAIML_AUTH_FAILURES_PER_MINUTE") {
        config.auth_failures_per_minute =
            text.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
                format!("PAYAIML_AUTH_FAILURES_PER_MINUTE '{text}' is not a whole number from 1")
            })?;
    }
    let sandbox_bitcoind = sandbox.then(|| {
        var("PAYAIML_BITCOIND")
            .map(PathBuf::from)
            .unwrap_or_else(payaiml_core::sandbox::default_bitcoind)
    });
    Ok(Settings {
        config,
        sandbox_bitcoind,
        admin_key_file: var("PAYAIML_ADMIN_KEY_FILE").map(PathBuf::from),
    })
}
