//! PayAiML Merchant desktop shell. It starts the core and the same local API that `payaimld`
//! serves, on one tokio runtime shared with Tauri, and hands the webview how to reach it through
//! one command; the dashboard then talks to the API exactly as in a browser. Started without
//! `--sandbox` or `--network`, it hosts this install's wallets ([`payaiml_api::host`]): the first
//! start opens on the setup. Beyond that
//! only native things live here: the windows (dashboard, customer display), the tray, one
//! instance at a time. No business logic.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod downloads;
mod settings;
mod tray;
mod windows;

use clap::Parser;
use payaiml_api::cli::FrontDoor;
use payaiml_api::host::{Host, HostStatus};
use payaiml_api::Running;
use serde::Serialize;
use tauri::Manager;
use tokio::sync::{oneshot, watch};

/// What the webview needs to reach the API: its address and key, or, when the app hosts
/// several wallets, the host's token (the webview then runs the setup and gets the running
/// wallet's key from the API).
#[derive(Clone, Serialize)]
struct Connection {
    base_url: String,
    admin_token: String,
    host_token: Option<String>,
}

/// How the webviews reach the API.
enum Shell {
    /// One wallet, chosen by flags (`--sandbox`, `--network`): the dashboard gets the admin key;
    /// the customer display, which only shows the current invoice, gets a read-only key, so a
    /// page in the window facing the customer can never reach the admin token.
    Direct {
        main: Connection,
        customer: Connection,
        /// The running wallet: while it is locked to the point of sale, the dashboard gets the
        /// cashier's key instead of the admin key.
        app: std::sync::Arc<payaiml_core::App>,
    },
    /// The wallets of this install, with the first-run setup: the keys are the running wallet's.
    Hosted {
        base_url: String,
        token: String,
        status: watch::Receiver<HostStatus>,
    },
}

#[tauri::command]
async fn connection(
    window: tauri::WebviewWindow,
    state: tauri::State<'_, Shell>,
) -> Result<Connection, String> {
    match (state.inner(), window.label()) {
        (Shell::Direct { main, app, .. }, windows::MAIN) if app.cashier().is_locked() => {
            let key = app
                .cashier()
                .cashier_key()
                .await
                .map_err(|e| e.to_string())?;
            Ok(Connection {
                admin_token: key,
                ..main.clone()
            })
        }
        (Shell::Direct { main, .. }, windows::MAIN) => Ok(main.clone()),
        (Shell::Direct { customer, .. }, windows::CUSTOMER) => Ok(customer.clone()),
        (
            Shell::Hosted {
                base_url, token, ..
            },
            windows::MAIN,
        ) => Ok(Connection {
            base_url: base_url.clone(),
            admin_token: String::new(),
            host_token: Some(token.clone()),
        }),
        (
            Shell::Hosted {
                base_url, status, ..
            },
            windows::CUSTOMER,
        ) => {
            let key = status.borrow().display_key.clone();
            key.map(|admin_token| Connection {
                base_url: base_url.clone(),
                admin_token,
                host_token: None,
            })
            .ok_or_else(|| "no wallet is running yet: finish the setup in the main window".into())
        }
        (_, other) => Err(format!("the window '{other}' has no API connection")),
    }
}

/// The webview's own origins (Linux/macOS, Windows); the API gives CORS access to these only.
const WEBVIEW_ORIGINS: [&str; 3] = [
    "tauri://localhost",
    "http://tauri.localhost",
    "https://tauri.localhost",
];

/// Shows a shop plugin's pairing request in the main window (set once the window exists): the
/// dashboard is not served over HTTP here, so the merchant's browser waits while they answer in
/// the app (see `payaiml_api::pairing`).
static PAIRING_WINDOW: std::sync::LazyLock<payaiml_api::pairing::PairingWindow> =
    std::sync::LazyLock::new(Default::default);

fn start_options(cli: &settings::DesktopCli) -> payaiml_api::StartOptions {
    payaiml_api::StartOptions {
        router: payaiml_api::Options {
            ui_dir: None,
            allowed_origins: WEBVIEW_ORIGINS.iter().map(|o| o.to_string()).collect(),
            host: None,
            pairing_window: PAIRING_WINDOW.clone(),
        },
        admin_key_file: cli.settings.admin_key_file.clone(),
        // As `payaimld sandbox` does: the sandbox's admin key, for trying the API beside the app
        // (printed only to a terminal, or written to PAYAIML_ADMIN_KEY_FILE).
        always_show_key: cli.sandbox,
    }
}

/// Opens the one wallet the flags name and serves the API through the start-up `payaimld` uses.
async fn start_direct(cli: &settings::DesktopCli) -> Result<(Running, Shell), String> {
    let launched = cli.settings.launch(cli.sandbox, FrontDoor::Desktop).await?;
    let running = payaiml_api::start(launched, start_options(cli))
        .await
        .map_err(|e| e.to_string())?;
    let display_token = match running.app.keys().display_key().await {
        Ok((key, _)) => key,
        Err(e) => {
            let _ = running.stop().await;
            return Err(e.to_string());
        }
    };
    let base_url = running.base_url();
    let shell = Shell::Direct {
        main: Connection {
            base_url: base_url.clone(),
            admin_token: running.admin_key.clone(),
            host_token: None,
        },
        customer: Connection {
            base_url,
            admin_token: display_token,
            host_token: None,
        },
        app: running.app.clone(),
    };
    Ok((running, shell))
}

/// What runs under the windows, and how it stops.
enum Core {
    Direct(Running),
    Hosted {
        stop: oneshot::Sender<()>,
        task: tauri::async_runtime::JoinHandle<std::io::Result<()>>,
    },
}

impl Core {
    /// Stops serving, then the node cleanly (LDK persists its state).
    async fn stop(self) -> std::io::Result<()> {
        match self {
            Core::Direct(running) => running.stop().await,
            Core::Hosted { stop, task } => {
                let _ = stop.send(());
                task.await
                    .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())))
            }
        }
    }
}

/// Starts the core: the wallet the flags name, or, when they name none, the host of this
/// install's wallets (the first start opens on the setup).
fn start(
    runtime: &tokio::runtime::Runtime,
    cli: &settings::DesktopCli,
) -> Result<(Core, Shell, tray::Current), String> {
    if cli.hosts_wallets() {
        let home = cli
            .settings
            .data_dir
            .clone()
            .unwrap_or_else(payaiml_core::config::default_home);
        let host = {
            let _guard = runtime.enter();
            Host::bind(
                cli.settings.clone(),
                FrontDoor::Desktop,
                home,
                start_options(cli),
            )
            .map_err(|e| e.to_string())?
        };
        let status = host.status();
        let shell = Shell::Hosted {
            base_url: host.base_url(),
            token: host.token().to_string(),
            status: status.clone(),
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tauri::async_runtime::spawn(host.run(async {
            let _ = stopped.await;
        }));
        let current: tray::Current = Box::new(move || status.borrow().app.clone());
        return Ok((Core::Hosted { stop, task }, shell, current));
    }
    let (running, shell) = runtime.block_on(start_direct(cli))?;
    let app = running.app.clone();
    let current: tray::Current = Box::new(move || Some(app.clone()));
    Ok((Core::Direct(running), shell, current))
}

/// Starts the app again once this process has ended: after LDK found the node's channel state
/// behind (an old backup), the process must end (LDK's locks are poisoned), and the next start
/// makes the recovery (payaiml_core::node::behind). A small shell waits for this process, so the
/// data folder's lock and the single-instance name are free when the new one starts.
fn start_again_after_exit() {
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let pid = std::process::id().to_string();
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Unix only: on Windows the merchant starts the app again (the message says so).
    #[cfg(unix)]
    {
        let spawned = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(r#"while kill -0 "$1" 2>/dev/null; do sleep 0.2; done; shift; exec "$@""#)
            .arg("payaiml-restart")
            .arg(&pid)
            .arg(&exe)
            .args(&args)
            .env(payaiml_core::node::behind::RESTARTED, "1")
            .spawn();
        if let Err(e) = spawned {
            eprintln!("could not start the app again: {e}; start it again yourself");
        }
    }
    #[cfg(not(unix))]
    let _ = (pid, args, exe);
}

fn main() -> std::process::ExitCode {
    payaiml_core::node::behind::before_exit(start_again_after_exit);
    let cli = settings::DesktopCli::parse();
    payaiml_api::cli::init_logging(&cli.settings.log_level);
    let runtime = match payaiml_api::cli::runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    tauri::async_runtime::set(runtime.handle().clone());
    // Tauri first, without windows: a second launch finds the first here (single-instance
    // plugin), brings its window forward and exits, before it touches the data dir.
    let built = tauri::Builder::default()
        .plugin(tauri_plugin_single_instance::init(|handle, _args, _cwd| {
            windows::show_main(handle, None);
        }))
        .invoke_handler(tauri::generate_handler![
            connection,
            windows::customer_display,
            downloads::save_download
        ])
        .build(tauri::generate_context!());
    let tauri_app = match built {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: cannot start the desktop app: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let (core, shell, current) = match start(&runtime, &cli) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    tauri_app.manage(shell);
    if let Err(e) = windows::create_main(tauri_app.handle()) {
        eprintln!("error: cannot open the window: {e}");
        let _ = runtime.block_on(core.stop());
        return std::process::ExitCode::FAILURE;
    }
    tray::install(tauri_app.handle(), current);
    let shown = tauri_app.handle().clone();
    let _ = PAIRING_WINDOW.0.set(Box::new(move |route: &str| {
        windows::show_main(&shown, Some(route))
    }));
    // SIGINT/SIGTERM close the app the same way as quitting from the window: through the Exit
    // event below, so the node stops cleanly.
    let handle = tauri_app.handle().clone();
    tauri::async_runtime::spawn(async move {
        payaiml_api::running::shutdown_signal().await;
        handle.exit(0);
    });
    let mut core = Some(core);
    tauri_app.run(move |_handle, event| {
        if let tauri::RunEvent::Exit = event {
            if let Some(core) = core.take() {
                if let Err(e) = tauri::async_runtime::block_on(core.stop()) {
                    tracing::error!(error = %e, "the API server failed");
                }
            }
        }
    });
    std::process::ExitCode::SUCCESS
}
