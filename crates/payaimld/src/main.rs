//! `payaimld`: PayAiML Merchant without a desktop — `serve`, `sandbox` and `keys`.

mod cli;
mod keys_cmd;
mod server;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    init_logging(&cli.log_level);
    // One multi-thread runtime for everything: the API, the node (ldk-node is given this handle)
    // and the sandbox.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
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
        cli::Command::Serve(args) => server::serve(&cli, args).await,
        cli::Command::Sandbox(args) => server::sandbox(&cli, args).await,
        cli::Command::Keys { command } => keys_cmd::run(&cli, command).await,
    }
}

fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
