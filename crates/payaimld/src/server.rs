//! `serve` and `sandbox`: open the app from the shared settings and serve the API until SIGINT or
//! SIGTERM, through the same start-up as the desktop app.

use anyhow::Context;
use payaiml_api::cli::FrontDoor;

use crate::cli::Cli;

pub async fn run(cli: &Cli, sandbox: bool) -> anyhow::Result<()> {
    let launched = cli
        .settings
        .launch(sandbox, FrontDoor::Daemon)
        .await
        .map_err(anyhow::Error::msg)?;
    let options = payaiml_api::StartOptions {
        router: payaiml_api::Options {
            ui_dir: cli.settings.ui_dir.clone(),
            allowed_origins: Vec::new(),
            host: None,
            pairing_window: Default::default(),
        },
        admin_key_file: cli.settings.admin_key_file.clone(),
        always_show_key: sandbox,
    };
    let running = payaiml_api::start(launched, options).await?;
    running
        .until_signal()
        .await
        .context("the API server failed")
}
