//! One start-up for both front doors: bind the listener, make sure the admin key exists, serve
//! the API in the background, print where it is; and one way to stop (the server first, then the
//! app and its sandbox), on a signal or when the desktop window closes.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use payaiml_core::sandbox::Sandbox;
use payaiml_core::App;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::cli::Launched;

/// How the API is started, beyond the app itself.
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// The router's options (the dashboard folder, CORS origins).
    pub router: crate::Options,
    /// Where to write the admin key (mode 0600) instead of printing it.
    pub admin_key_file: Option<PathBuf>,
    /// Print the admin key (to a terminal only) at every start, not only when it was just made:
    /// the sandbox does, so the key for trying the API is always at hand.
    pub always_show_key: bool,
}

/// Why the API could not start. The app has been shut down when this is returned.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The listen address could not be bound.
    #[error(
        "cannot listen on {address}: {source} (set --listen / PAYAIML_LISTEN to another address)"
    )]
    Listen {
        /// The address asked for.
        address: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The core failed (the admin key could not be made or written, say).
    #[error(transparent)]
    Core(#[from] payaiml_core::Error),
}

/// The API serving an app. Stop it with [`Running::stop`] (or [`Running::until_signal`]).
pub struct Running {
    /// The app.
    pub app: Arc<App>,
    /// The regtest sandbox beside it, if any.
    pub sandbox: Option<Arc<Sandbox>>,
    /// The address the API listens on (the port picked, when 0 was asked for).
    pub bound: SocketAddr,
    /// The dashboard's admin key.
    pub admin_key: String,
    stop_server: oneshot::Sender<()>,
    server: JoinHandle<std::io::Result<()>>,
}

/// Serves the API for `launched` and prints `api: http://…` and the admin key notice, after the
/// start-up log, set apart where a person looks. On failure the app is shut down before the
/// error is returned, so nothing is left running.
pub async fn start(launched: Launched, options: StartOptions) -> Result<Running, StartError> {
    let address = launched.app.config().listen;
    match tokio::net::TcpListener::bind(address).await {
        Ok(listener) => start_on(launched, options, listener).await,
        Err(source) => {
            stop_app(&launched.app, launched.sandbox.as_deref()).await;
            Err(StartError::Listen { address, source })
        }
    }
}

/// [`start`] on a listener the caller bound already (the host of several wallets keeps one
/// listener, so the address stays the same when the merchant switches wallets).
pub async fn start_on(
    launched: Launched,
    options: StartOptions,
    listener: tokio::net::TcpListener,
) -> Result<Running, StartError> {
    let Launched { app, sandbox } = launched;
    match serve_app(&app, sandbox.clone(), options, listener).await {
        Ok((bound, admin_key, stop_server, server)) => Ok(Running {
            app,
            sandbox,
            bound,
            admin_key,
            stop_server,
            server,
        }),
        Err(e) => {
            stop_app(&app, sandbox.as_deref()).await;
            Err(e)
        }
    }
}

type Served = (
    SocketAddr,
    String,
    oneshot::Sender<()>,
    JoinHandle<std::io::Result<()>>,
);

async fn serve_app(
    app: &Arc<App>,
    sandbox: Option<Arc<Sandbox>>,
    options: StartOptions,
    listener: tokio::net::TcpListener,
) -> Result<Served, StartError> {
    let address = app.config().listen;
    let bound = listener
        .local_addr()
        .map_err(|source| StartError::Listen { address, source })?;
    let (admin_key, created) = app.keys().admin_key().await?;
    let notice = payaiml_core::admin_key_notice(
        &admin_key,
        options.admin_key_file.as_deref(),
        created || options.always_show_key,
    )?;
    let router = crate::router(app.clone(), sandbox, bound, options.router);
    let (stop_server, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(crate::serve(listener, router, async {
        let _ = stopped.await;
    }));
    tracing::info!(%bound, "API listening");
    // The other front door: Nostr Wallet Connect through relays, for apps outside the network.
    // It ends when the app shuts down.
    drop(crate::nwc::spawn(app.clone()));
    // Not `println!`: a closed standard output (a pipe whose reader left) must not bring down
    // a running node, and with a wallet switch these lines come again later.
    let mut out = String::from("\napi: http://");
    out.push_str(&bound.to_string());
    if let Some(line) = notice {
        out.push('\n');
        out.push_str(&line);
    }
    say(&out);
    Ok((bound, admin_key, stop_server, server))
}

impl Running {
    /// The API's base URL, `http://host:port`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.bound)
    }

    /// Serves until SIGINT or SIGTERM (or the server fails), then stops everything.
    pub async fn until_signal(mut self) -> std::io::Result<()> {
        let failed = tokio::select! {
            _ = shutdown_signal() => None,
            served = &mut self.server => Some(served),
        };
        match failed {
            None => self.stop().await,
            Some(served) => {
                stop_app(&self.app, self.sandbox.as_deref()).await;
                served.unwrap_or_else(|e| Err(std::io::Error::other(e)))
            }
        }
    }

    /// Stops serving (requests in progress finish, for at most 10 s), then the app: payments in
    /// flight settle, the node persists and stops, then the sandbox's customer node and bitcoind.
    pub async fn stop(self) -> std::io::Result<()> {
        tracing::info!("shutting down");
        let _ = self.stop_server.send(());
        let served = match tokio::time::timeout(Duration::from_secs(10), self.server).await {
            Ok(Ok(served)) => served,
            Ok(Err(e)) => Err(std::io::Error::other(e)),
            Err(_) => Ok(()),
        };
        stop_app(&self.app, self.sandbox.as_deref()).await;
        served
    }
}

/// The app first (its node, then its database), then the sandbox's customer node and bitcoind.
pub(crate) async fn stop_app(app: &App, sandbox: Option<&Sandbox>) {
    app.shutdown().await;
    if let Some(sandbox) = sandbox {
        sandbox.stop().await;
    }
}

/// Writes `text` and a newline to standard output, ignoring a closed one.
pub fn say(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{text}").and_then(|()| stdout.flush());
}

/// Resolves on SIGINT or SIGTERM (Ctrl-C elsewhere).
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => std::future::pending::<()>().await,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
