//! The host of an installed app's wallets: the desktop app (started without `--sandbox` or
//! `--network`) and `payaimld app` run through it.
//!
//! At first start there is no wallet, so the host serves the first-run setup instead of the API:
//! the merchant chooses the sandbox or a real network, and for a real one gets new recovery words
//! (and types three of them back) or restores from their own. The choice is kept in the home
//! folder ([`payaiml_core::profile`]); every later start runs the chosen wallet straight away,
//! and Settings can switch to another one (each has its own data dir, so nothing is lost).
//!
//! One listener serves every phase, so the address never changes. Whoever holds the host's
//! token (the desktop webview, or the link `payaimld app` prints) may run the setup and is
//! handed the running wallet's admin key: the token is the owner's, like the desktop window.

mod routes;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use payaiml_core::ldk_node::bip39::Mnemonic;
use payaiml_core::profile::{self, Profile};
use payaiml_core::App;
use serde::Serialize;
use tokio::sync::{oneshot, watch, Notify};
use tokio::task::JoinHandle;

use crate::cli::{FrontDoor, Settings};
use crate::running::{Running, StartError, StartOptions};

pub(crate) use routes::{openapi, routes};

/// Where the host is in its cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// No wallet is chosen, or the chosen real wallet has no recovery words yet.
    Setup,
    /// The chosen wallet is starting (a sandbox takes some seconds: it starts its own bitcoind).
    Starting,
    /// The wallet runs; the API answers.
    Ready,
    /// The chosen wallet could not start; `message` says why. Choose again, or fix and restart.
    Failed,
}

/// The host's state, as the setup screen and the desktop shell see it.
#[derive(Clone)]
pub struct HostStatus {
    /// The phase.
    pub phase: Phase,
    /// The chosen wallet, if any.
    pub profile: Option<Profile>,
    /// Why it failed, in the `failed` phase.
    pub message: Option<String>,
    /// The running wallet's admin key, in the `ready` phase.
    pub admin_key: Option<String>,
    /// The running wallet's read-only key for the customer display, in the `ready` phase.
    pub display_key: Option<String>,
    /// The running wallet, in the `ready` phase (for the desktop's tray).
    pub app: Option<Arc<App>>,
    /// The file the last export wrote, and its size in bytes.
    pub exported: Option<(PathBuf, u64)>,
}

impl HostStatus {
    fn new(phase: Phase, profile: Option<Profile>) -> Self {
        HostStatus {
            phase,
            profile,
            message: None,
            admin_key: None,
            display_key: None,
            app: None,
            exported: None,
        }
    }
}

/// New words shown to the merchant and not yet confirmed: kept in memory only, for the wallet
/// they were made for, with the three positions (1-based) the merchant must type back.
struct PendingWords {
    profile: Profile,
    words: Mnemonic,
    ask: [usize; 3],
}

/// What the setup routes and the host's cycle share.
pub struct HostShared {
    token: String,
    home: PathBuf,
    settings: Settings,
    door: FrontDoor,
    status: watch::Sender<HostStatus>,
    pending: Mutex<Option<PendingWords>>,
    /// Wakes the cycle after the choice changed or a wallet was made.
    reload: Notify,
    /// An export asked for from Settings, with its passphrase: the cycle stops the wallet, writes
    /// the file and retires the data dir (a wallet must be stopped to be moved).
    export: Mutex<Option<String>>,
    /// Whether a setup screen has asked for the status yet (logged once: a sign in the log
    /// that the window or the link reached the app).
    seen: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for HostShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostShared")
            .field("home", &self.home)
            .field("phase", &self.status.borrow().phase)
            .finish_non_exhaustive()
    }
}

impl HostShared {
    fn status(&self) -> HostStatus {
        self.status.borrow().clone()
    }

    fn set(&self, status: HostStatus) {
        self.status.send_replace(status);
    }

    /// Shows `phase` for `profile` at once and wakes the cycle, which then does the work (start,
    /// switch, restart, export) and sets the phase it really reaches.
    fn begin(&self, phase: Phase, profile: Option<Profile>) {
        self.set(HostStatus::new(phase, profile));
        self.reload.notify_one();
    }

    /// The settings and core configuration of `profile`.
    fn config_of(
        &self,
        profile: Profile,
    ) -> Result<(Settings, bool, payaiml_core::Config), String> {
        let (settings, sandbox) = self.settings.for_profile(profile, &self.home)?;
        let config = settings.config(sandbox, self.door)?;
        Ok((settings, sandbox, config))
    }

    /// Whether `profile` can start without asking anything: a sandbox always can (it makes its
    /// own wallet); a real wallet once its words were made or restored.
    async fn can_start(&self, profile: Profile) -> Result<bool, String> {
        if profile.is_sandbox() {
            return Ok(true);
        }
        let (_, _, config) = self.config_of(profile)?;
        App::has_wallet(&config).await.map_err(|e| e.to_string())
    }

    /// Whether `profile` has a data dir with something in it (for the list of wallets; cheap, no
    /// lock taken, so it also answers for the wallet that runs).
    fn has_data(&self, profile: Profile) -> bool {
        std::fs::read_dir(profile.data_dir(&self.home)).is_ok_and(|mut d| d.next().is_some())
    }
}

/// The host, bound and not yet running: see [`Host::run`].
pub struct Host {
    shared: Arc<HostShared>,
    listener: std::net::TcpListener,
    bound: SocketAddr,
    options: StartOptions,
}

impl Host {
    /// Binds the listen address of `settings` and makes the host's token. `home` holds the
    /// choice and one data dir per wallet.
    pub fn bind(
        settings: Settings,
        door: FrontDoor,
        home: PathBuf,
        mut options: StartOptions,
    ) -> Result<Host, StartError> {
        let address = settings.listen;
        let listener = std::net::TcpListener::bind(address)
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .map_err(|source| StartError::Listen { address, source })?;
        let bound = listener
            .local_addr()
            .map_err(|source| StartError::Listen { address, source })?;
        let (status, _) = watch::channel(HostStatus::new(Phase::Setup, None));
        let shared = Arc::new(HostShared {
            token: payaiml_core::util::random_lower(32),
            home,
            settings,
            door,
            status,
            pending: Mutex::new(None),
            reload: Notify::new(),
            export: Mutex::new(None),
            seen: std::sync::atomic::AtomicBool::new(false),
        });
        options.router.host = Some(shared.clone());
        // The host hands out the admin key itself (GET /v1/setup); printing it at every start
        // would only put it in more places.
        options.always_show_key = false;
        Ok(Host {
            shared,
            listener,
            bound,
            options,
        })
    }

    /// `http://host:port`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.bound)
    }

    /// The token that runs the setup and receives the admin key.
    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// The dashboard's link with the token, for a browser (`payaimld app`).
    pub fn link(&self) -> String {
        format!("{}/#/setup?token={}", self.base_url(), self.shared.token)
    }

    /// The host's state, updated as it changes.
    pub fn status(&self) -> watch::Receiver<HostStatus> {
        self.shared.status.subscribe()
    }

    /// Runs the cycle until `shutdown` resolves: setup when needed, then the chosen wallet, again
    /// after every switch. Stops the running wallet cleanly before returning.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) -> std::io::Result<()> {
        let Host {
            shared,
            listener,
            options,
            ..
        } = self;
        let mut shutdown = std::pin::pin!(shutdown);
        let mut setup: Option<SetupServer> = None;
        loop {
            let choice = match profile::load_choice(&shared.home) {
                Ok(choice) => choice,
                Err(e) => {
                    fail(&shared, None, e.to_string());
                    None
                }
            };
            let ready_to_start = match choice {
                Some(p) => match shared.can_start(p).await {
                    Ok(can) => can,
                    Err(e) => {
                        fail(&shared, Some(p), e);
                        false
                    }
                },
                None => false,
            };
            if setup.is_none() {
                setup = Some(SetupServer::start(&shared, &listener, &options)?);
            }
            let Some(profile) = choice.filter(|_| ready_to_start) else {
                if shared.status().phase != Phase::Failed {
                    shared.set(HostStatus::new(Phase::Setup, choice));
                }
                tokio::select! {
                    _ = shared.reload.notified() => continue,
                    _ = &mut shutdown => break,
                }
            };
            shared.set(HostStatus::new(Phase::Starting, Some(profile)));
            // Not raced against `shutdown`: a sandbox half started would leave its bitcoind
            // behind. A start takes seconds; the stop follows it.
            let running =
                match start_profile(&shared, profile, &listener, &options, &mut setup).await {
                    Ok(running) => running,
                    Err(message) => {
                        fail(&shared, Some(profile), message);
                        if setup.is_none() {
                            setup = Some(SetupServer::start(&shared, &listener, &options)?);
                        }
                        tokio::select! {
                            _ = shared.reload.notified() => continue,
                            _ = &mut shutdown => break,
                        }
                    }
                };
            let stop = tokio::select! {
                _ = shared.reload.notified() => false,
                _ = &mut shutdown => true,
            };
            shared.set(HostStatus::new(Phase::Starting, Some(profile)));
            if let Err(e) = running.stop().await {
                tracing::error!(error = %e, "the API server failed");
            }
            if stop {
                return Ok(());
            }
            let export = shared.export.lock().ok().and_then(|mut e| e.take());
            if let Some(passphrase) = export {
                export_stopped(&shared, profile, &passphrase).await;
            }
        }
        if let Some(server) = setup {
            server.stop().await;
        }
        Ok(())
    }
}

/// Exports the stopped wallet `profile` into the home folder's `exports/` and leaves the outcome
/// in the status: the file (and the retired wallet's refusal, once the cycle looks at it again),
/// or why it failed (the wallet then starts again, unchanged).
async fn export_stopped(shared: &HostShared, profile: Profile, passphrase: &str) {
    let outcome = async {
        let (_, _, config) = shared.config_of(profile)?;
        let stamp =
            payaiml_core::util::rfc3339(payaiml_core::util::now_ms()).replace([':', '-'], "");
        let dir = shared.home.join("exports");
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let file = dir.join(format!("{}-{stamp}.payaiml", profile.as_str()));
        payaiml_core::moving::export(&config, &file, passphrase)
            .await
            .map_err(|e| e.to_string())
    }
    .await;
    match outcome {
        Ok(done) => {
            tracing::info!(file = %done.file.display(), "wallet exported from Settings");
            shared.set(HostStatus {
                exported: Some((done.file, done.bytes)),
                message: Some(format!(
                    "the {} wallet was exported and is retired on this computer",
                    profile.as_str()
                )),
                ..HostStatus::new(Phase::Failed, Some(profile))
            });
        }
        Err(message) => fail(
            shared,
            Some(profile),
            format!("the export failed: {message}"),
        ),
    }
}

/// Records a failure the merchant should see on the setup screen (keeping the file of an export
/// just made, which is what the merchant needs next).
fn fail(shared: &HostShared, profile: Option<Profile>, message: String) {
    tracing::error!(profile = profile.map(Profile::as_str), %message, "the wallet cannot start");
    let exported = shared.status().exported;
    shared.set(HostStatus {
        message: Some(message),
        exported,
        ..HostStatus::new(Phase::Failed, profile)
    });
}

/// Launches `profile` and serves its API on the host's listener, in place of the setup server
/// (which answers status requests until the wallet is ready to take over).
async fn start_profile(
    shared: &Arc<HostShared>,
    profile: Profile,
    listener: &std::net::TcpListener,
    options: &StartOptions,
    setup: &mut Option<SetupServer>,
) -> Result<Running, String> {
    let (settings, sandbox, _) = shared.config_of(profile)?;
    let launched = settings.launch(sandbox, shared.door).await?;
    if let Some(server) = setup.take() {
        server.stop().await;
    }
    let listener = tokio_listener(listener).map_err(|e| e.to_string())?;
    let running = crate::running::start_on(launched, options.clone(), listener)
        .await
        .map_err(|e| e.to_string())?;
    let display_key = match running.app.keys().display_key().await {
        Ok((key, _)) => key,
        Err(e) => {
            let _ = running.stop().await;
            return Err(e.to_string());
        }
    };
    shared.set(HostStatus {
        admin_key: Some(running.admin_key.clone()),
        display_key: Some(display_key),
        app: Some(running.app.clone()),
        ..HostStatus::new(Phase::Ready, Some(profile))
    });
    tracing::info!(profile = profile.as_str(), "wallet ready");
    Ok(running)
}

/// Another handle on the host's one listening socket, for the next server.
fn tokio_listener(listener: &std::net::TcpListener) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::from_std(listener.try_clone()?)
}

/// The server of the setup phase: the setup routes, the dashboard's files, and `setup_required`
/// for every other API path.
struct SetupServer {
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl SetupServer {
    fn start(
        shared: &Arc<HostShared>,
        listener: &std::net::TcpListener,
        options: &StartOptions,
    ) -> std::io::Result<SetupServer> {
        let bound = listener.local_addr()?;
        let router = routes::setup_router(shared.clone(), bound, &options.router);
        let listener = tokio_listener(listener)?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(crate::serve(listener, router, async {
            let _ = stopped.await;
        }));
        Ok(SetupServer { stop, task })
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        match tokio::time::timeout(std::time::Duration::from_secs(10), self.task).await {
            Ok(Ok(Err(e))) => tracing::error!(error = %e, "the setup server failed"),
            Ok(Err(e)) => tracing::error!(error = %e, "the setup server panicked"),
            _ => {}
        }
    }
}
