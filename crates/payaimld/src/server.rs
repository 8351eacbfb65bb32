//! `serve` and `sandbox`: start the app, serve the API, stop cleanly on SIGINT/SIGTERM.

use std::sync::Arc;

use anyhow::Context;
use payaiml_core::{App, ChainSource};

use crate::cli::{Cli, SandboxArgs, ServeArgs};

pub async fn serve(cli: &Cli, args: &ServeArgs) -> anyhow::Result<()> {
    let mut config = cli.config(false);
    if let Some(url) = &args.esplora_url {
        config.chain_source = Some(ChainSource::Esplora { url: url.clone() });
    }
    if let Some(rpc) = &args.bitcoind_rpc {
        let (host, port) = rpc
            .rsplit_once(':')
            .context("--bitcoind-rpc must be host:port")?;
        config.chain_source = Some(ChainSource::BitcoindRpc {
            host: host.to_string(),
            port: port
                .parse()
                .context("--bitcoind-rpc port must be a number")?,
            user: args.bitcoind_rpc_user.clone().unwrap_or_default(),
            password: args.bitcoind_rpc_password.clone().unwrap_or_default(),
        });
    }
    config.rgs_url = args.rgs_url.clone();
    config.ln_listen = args.ln_listen;
    config.allowed_hosts = args.allow_hosts.clone();
    let app = App::open(config).await?;
    app.start();
    run_api(app, false, cli.ui_dir.clone(), cli.admin_key_file.clone()).await
}

pub async fn sandbox(cli: &Cli, args: &SandboxArgs) -> anyhow::Result<()> {
    let config = cli.config(true);
    let bitcoind = args
        .bitcoind
        .clone()
        .unwrap_or_else(payaiml_core::sandbox::default_bitcoind);
    tracing::info!(data_dir = %config.data_dir.display(), "starting the regtest sandbox");
    let app = payaiml_core::sandbox::launch(config, &bitcoind).await?;
    run_api(app, true, cli.ui_dir.clone(), cli.admin_key_file.clone()).await
}

async fn run_api(
    app: Arc<App>,
    always_print_key: bool,
    ui_dir: Option<std::path::PathBuf>,
    admin_key_file: Option<std::path::PathBuf>,
) -> anyhow::Result<()> {
    let listen = app.config().listen;
    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(l) => l,
        Err(e) => {
            app.shutdown().await;
            return Err(e).with_context(|| format!("cannot listen on {listen}"));
        }
    };
    let (bound, (admin_key, created)) = match prepare(&app, &listener).await {
        Ok(ready) => ready,
        Err(e) => {
            app.shutdown().await;
            return Err(e);
        }
    };
    let options = payaiml_api::Options {
        ui_dir,
        allowed_origins: Vec::new(),
    };
    let router = payaiml_api::router(app.clone(), bound, options);
    let notice = match payaiml_core::admin_key_notice(
        &admin_key,
        admin_key_file.as_deref(),
        created || always_print_key,
    ) {
        Ok(notice) => notice,
        Err(e) => {
            app.shutdown().await;
            return Err(e.into());
        }
    };
    tracing::info!(%bound, "API listening");
    // The address and the key come last, after the start-up log, set apart where a person
    // looks.
    println!();
    println!("api: http://{bound}");
    if let Some(line) = notice {
        println!("{line}");
    }
    let served = payaiml_api::serve(listener, router, shutdown_signal()).await;
    tracing::info!("shutting down");
    app.shutdown().await;
    served.context("the API server failed")
}

async fn prepare(
    app: &App,
    listener: &tokio::net::TcpListener,
) -> anyhow::Result<(std::net::SocketAddr, (String, bool))> {
    Ok((listener.local_addr()?, app.admin_key().await?))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
