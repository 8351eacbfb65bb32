//! `payaimld`: PayAiML Merchant without a desktop — `init`, `serve`, `sandbox`, `app`, `export`,
//! `import`, `keys` and `openapi`.

mod app_cmd;
mod cli;
mod init_cmd;
mod keys_cmd;
mod move_cmd;
mod server;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    payaiml_api::cli::init_logging(&cli.settings.log_level);
    let runtime = match payaiml_api::cli::runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: cli::Cli) -> anyhow::Result<()> {
    match &cli.command {
        cli::Command::Init { restore } => init_cmd::run(&cli, *restore).await,
        cli::Command::Serve => server::run(&cli, false).await,
        cli::Command::BackupKey => {
            let config = cli.config()?;
            print!("{}", payaiml_core::App::backup_public_key(&config).await?);
            Ok(())
        }
        cli::Command::Sandbox => server::run(&cli, true).await,
        cli::Command::App { link_file } => app_cmd::run(&cli, link_file.as_deref()).await,
        cli::Command::Keys { command } => keys_cmd::run(&cli, command).await,
        cli::Command::Export { file, sandbox } => move_cmd::export(&cli, file, *sandbox).await,
        cli::Command::Import { file } => move_cmd::import(&cli, file).await,
        cli::Command::Openapi => {
            use std::io::Write;
            let doc = payaiml_api::openapi_document(true).to_pretty_json()?;
            // A closed pipe (`| head`) is not an error worth a panic.
            let _ = writeln!(std::io::stdout(), "{doc}");
            Ok(())
        }
    }
}
