//! PayAiML Merchant desktop shell. It starts the core and the same local API that `payaimld`
//! serves, on one tokio runtime shared with Tauri, and hands the webview `{base_url, admin_token}`
//! through one command; the dashboard then talks to the API exactly as in a browser. Beyond that
//! only native things live here: the windows (dashboard, customer display), the tray, one
//! instance at a time. No business logic.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod settings;
mod tray;
mod windows;

use std::sync::Arc;

use payaiml_core::App;
use serde::Serialize;
use tauri::Manager;
use tokio::sync::oneshot;

/// What the webview needs to reach the API.
#[derive(Clone, Serialize)]
struct Connection {
    base_url: String,
    admin_token: String,
}

/// Each window's connection: the dashboard gets the admin key; the customer display, which only
/// shows the current invoice, gets a read-only key, so a page in the window facing the customer
/// can never reach the admin token.
struct Connections {
    main: Connection,
    customer: Connection,
}

#[tauri::command]
async fn connection(
    window: tauri::WebviewWindow,
    state: tauri::State<'_, Connections>,
) -> Result<Connection, String> {
    match window.label() {
        windows::MAIN => Ok(state.main.clone()),
        windows::CUSTOMER => Ok(state.customer.clone()),
        other => Err(format!("the window '{other}' has no API connection")),
    }
}

/// The webview's own origins (Linux/macOS, Windows); the API gives CORS access to these only.
const WEBVIEW_ORIGINS: [&str; 3] = [
    "tauri://localhost",
    "http://tauri.localhost",
    "https://tauri.localhost",
];

struct Started {
    app: Arc<App>,
    connections: Connections,
    stop_api: oneshot::Sender<()>,
    api: tokio::task::JoinHandle<()>,
}

async fn start() -> Result<Started, String> {
    let settings = settings::from_env()?;
    let app = match &settings.sandbox_bitcoind {
        Some(bitcoind) => payaiml_core::sandbox::launch(settings.config.clone(), bitcoind).await,
        None => {
            let app = App::open(settings.config.clone()).await;
            if let Ok(app) = &app {
                app.start();
            }
            app
        }
    }
    .map_err(|e| e.to_string())?;
    let listen = settings.config.listen;
    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(l) => l,
        Err(e) => {
            app.shutdown().await;
            return Err(format!(
                "cannot listen on {listen}: {e} (set PAYAIML_LISTEN to another address)"
            ));
        }
    };
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    let (admin_token, _) = app.admin_key().await.map_err(|e| e.to_string())?;
    let options = payaiml_api::Options {
        ui_dir: None,
        allowed_origins: WEBVIEW_ORIGINS.iter().map(|o| o.to_string()).collect(),
    };
    let router = payaiml_api::router(app.clone(), bound, options);
    let (stop_api, stopped) = oneshot::channel::<()>();
    let api = tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        if let Err(e) = payaiml_api::serve(listener, router, shutdown).await {
            tracing::error!(error = %e, "the API server failed");
        }
    });
    let (display_token, _) = app.display_key().await.map_err(|e| e.to_string())?;
    let base_url = format!("http://{bound}");
    tracing::info!(%base_url, "API listening");
    println!("api: {base_url}");
    // As `payaimld sandbox` does: the sandbox's admin key, for trying the API beside the app
    // (printed only to a terminal, or written to PAYAIML_ADMIN_KEY_FILE).
    let notice = payaiml_core::admin_key_notice(
        &admin_token,
        settings.admin_key_file.as_deref(),
        settings.sandbox_bitcoind.is_some(),
    )
    .map_err(|e| e.to_string())?;
    if let Some(line) = notice {
        println!("{line}");
    }
    Ok(Started {
        app,
        connections: Connections {
            main: Connection {
                base_url: base_url.clone(),
                admin_token,
            },
            customer: Connection {
                base_url,
                admin_token: display_token,
            },
        },
        stop_api,
        api,
    })
}

fn main() -> std::process::ExitCode {
    let filter =
        std::env::var("PAYAIML_LOG").unwrap_or_else(|_| payaiml_core::config::DEFAULT_LOG.into());
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
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
    tauri::async_runtime::set(runtime.handle().clone());
    // Tauri first, without windows: a second launch finds the first here (single-instance
    // plugin), brings its window forward and exits, before it touches the data dir.
    let built = tauri::Builder::default()
        .plugin(tauri_plugin_single_instance::init(|handle, _args, _cwd| {
            windows::show_main(handle, None);
        }))
        .invoke_handler(tauri::generate_handler![
            connection,
            windows::customer_display
        ])
        .build(tauri::generate_context!());
    let tauri_app = match built {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: cannot start the desktop app: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let started = match runtime.block_on(start()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let Started {
        app,
        connections,
        stop_api,
        api,
    } = started;
    tauri_app.manage(connections);
    if let Err(e) = windows::create_main(tauri_app.handle()) {
        eprintln!("error: cannot open the window: {e}");
        runtime.block_on(app.shutdown());
        return std::process::ExitCode::FAILURE;
    }
    tray::install(tauri_app.handle(), app.clone());
    // SIGINT/SIGTERM close the app the same way as quitting from the window: through the Exit
    // event below, so the node stops cleanly.
    let handle = tauri_app.handle().clone();
    tauri::async_runtime::spawn(async move {
        shutdown_signal().await;
        handle.exit(0);
    });
    let mut stop_api = Some(stop_api);
    let mut api = Some(api);
    tauri_app.run(move |_handle, event| {
        if let tauri::RunEvent::Exit = event {
            // Stop serving, then stop the node cleanly (LDK persists its state) before the
            // process ends.
            if let Some(stop) = stop_api.take() {
                let _ = stop.send(());
            }
            let app = app.clone();
            let api = api.take();
            tauri::async_runtime::block_on(async move {
                if let Some(api) = api {
                    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), api).await;
                }
                app.shutdown().await;
            });
        }
    });
    std::process::ExitCode::SUCCESS
}

async fn shutdown_signal() {
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
