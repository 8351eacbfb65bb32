//! `app`: the wallets of an install, as the desktop app runs them, with the dashboard in a
//! browser. The first start serves the setup; see [`payaiml_api::host`].

use std::path::Path;

use anyhow::Context;
use payaiml_api::cli::FrontDoor;
use payaiml_api::host::Host;
use payaiml_api::running::say;

use crate::cli::Cli;

pub async fn run(cli: &Cli, link_file: Option<&Path>) -> anyhow::Result<()> {
    let settings = &cli.settings;
    if settings.network.is_some() || settings.fresh {
        anyhow::bail!(
            "`payaimld app` asks which wallet to run at its first start (and Settings switches); \
             to run one network directly, use `payaimld serve --network …` or `payaimld sandbox`"
        );
    }
    let home = settings
        .data_dir
        .clone()
        .unwrap_or_else(payaiml_core::config::default_home);
    let options = payaiml_api::StartOptions {
        router: payaiml_api::Options {
            ui_dir: settings.ui_dir.clone(),
            allowed_origins: Vec::new(),
            host: None,
            pairing_window: Default::default(),
        },
        admin_key_file: settings.admin_key_file.clone(),
        always_show_key: false,
    };
    let host = Host::bind(settings.clone(), FrontDoor::Daemon, home.clone(), options)?;
    let link = host.link();
    say(&format!("home: {}", home.display()));
    match link_file {
        Some(path) => {
            payaiml_core::util::write_private_file(path, link.as_bytes())
                .with_context(|| format!("cannot write the link to {}", path.display()))?;
            say(&format!("dashboard: the link is in {}", path.display()));
        }
        None if std::io::IsTerminal::is_terminal(&std::io::stdout()) => {
            say(&format!(
                "dashboard: {link}\n(the link holds this start's token: whoever has it runs \
                 the wallet)"
            ));
        }
        None => say(&format!(
            "dashboard: {} (the link with its token is printed on a terminal only; use \
             --link-file)",
            host.base_url()
        )),
    }
    host.run(payaiml_api::running::shutdown_signal())
        .await
        .context("the app failed")
}
