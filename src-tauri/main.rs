//! PayAiML Merchant desktop shell. It starts the core and the same local API that `payaimld`
//! serves, on one tokio runtime shared with Tauri, and hands the webview `{base_url, admin_token}`
//! through one command; the dashboard then talks to the API exactly as in a browser. Beyond that
//! only native things live here: the windows (dashboard, customer display), the tray, one
//! instance at a time. No business logic.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod settings;
mod tray;
mod windows;

use clap::Parser;
use payaiml_api::cli::FrontDoor;
use payaiml_api::Running;
use serde::Serialize;
use tauri::Manager;

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

/// Opens the app from the settings and serves the API through the start-up `payaimld` uses.
async fn start(cli: &settings::DesktopCli) -> Result<(Running, Connections), String> {
    let launched = cli.settings.launch(cli.sandbox, FrontDoor::Desktop).await?;
    let options = payaiml_api::StartOptions {
        router: payaiml_api::Options {
            ui_dir: None,
            allowed_origins: WEBVIEW_ORIGINS.iter().map(|o| o.to_string()).collect(),
        },
        admin_key_file: cli.settings.admin_key_file.clone(),
        // As `payaimld sandbox` does: the sandbox's admin key, for trying the API beside the app
        // (printed only to a terminal, or written to PAYAIML_ADMIN_KEY_FILE).
        always_show_key: cli.sandbox,
    };
    let running = payaiml_api::start(launched, options)
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
    let connections = Connections {
        main: Connection {
            base_url: base_url.clone(),
            admin_token: running.admin_key.clone(),
        },
        customer: Connection {
            base_url,
            admin_token: display_token,
        },
    };
    Ok((running, connections))
}

fn main() -> std::process::ExitCode {
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
    let (running, connections) = match runtime.block_on(start(&cli)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    tauri_app.manage(connections);
    if let Err(e) = windows::create_main(tauri_app.handle()) {
        eprintln!("error: cannot open the window: {e}");
        let _ = runtime.block_on(running.stop());
        return std::process::ExitCode::FAILURE;
    }
    tray::install(tauri_app.handle(), running.app.clone());
    // SIGINT/SIGTERM close the app the same way as quitting from the window: through the Exit
    // event below, so the node stops cleanly.
    let handle = tauri_app.handle().clone();
    tauri::async_runtime::spawn(async move {
        payaiml_api::running::shutdown_signal().await;
        handle.exit(0);
    });
    let mut running = Some(running);
    tauri_app.run(move |_handle, event| {
        if let tauri::RunEvent::Exit = event {
            // Stop serving, then stop the node cleanly (LDK persists its state) before the
            // process ends.
            if let Some(running) = running.take() {
                if let Err(e) = tauri::async_runtime::block_on(running.stop()) {
                    tracing::error!(error = %e, "the API server failed");
                }
            }
        }
    });
    std::process::ExitCode::SUCCESS
}
