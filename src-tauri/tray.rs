//! The tray icon: the node's state and balance at a glance, and the ways in (dashboard, point of
//! sale, customer display) and out (quit, which stops the node cleanly).

use std::sync::Arc;
use std::time::Duration;

use payaiml_core::node::NodeState;
use payaiml_core::App;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::AppHandle;

use crate::windows;

/// The wallet running now, if any.
pub type Current = Box<dyn Fn() -> Option<Arc<App>> + Send + 'static>;

/// Builds the tray and keeps its status line current, for the wallet `current` gives (none
/// while the first-run setup runs or a wallet starts). A desktop without a tray (no
/// StatusNotifier host) only loses the icon: the failure is logged.
pub fn install(handle: &AppHandle, current: Current) {
    if let Err(e) = build(handle, current) {
        tracing::warn!(error = %e, "no tray icon on this desktop");
    }
}

fn build(handle: &AppHandle, current: Current) -> tauri::Result<()> {
    let status = MenuItem::with_id(handle, "status", "Starting…", false, None::<&str>)?;
    let menu = Menu::with_items(
        handle,
        &[
            &status,
            &PredefinedMenuItem::separator(handle)?,
            &MenuItem::with_id(handle, "dashboard", "Open dashboard", true, None::<&str>)?,
            &MenuItem::with_id(handle, "pos", "Point of sale", true, None::<&str>)?,
            &MenuItem::with_id(handle, "display", "Customer display", true, None::<&str>)?,
            &PredefinedMenuItem::separator(handle)?,
            &MenuItem::with_id(handle, "quit", "Quit", true, None::<&str>)?,
        ],
    )?;
    let mut builder = TrayIconBuilder::with_id("main")
        .menu(&menu)
        .tooltip("PayAiML Merchant")
        .on_menu_event(|handle, event| match event.id().as_ref() {
            "dashboard" => windows::show_main(handle, Some("/")),
            "pos" => windows::show_main(handle, Some("/pos")),
            "display" => {
                if let Err(e) = windows::open_customer_display(handle) {
                    tracing::warn!(error = %e, "opening the customer display failed");
                }
            }
            "quit" => handle.exit(0),
            _ => {}
        });
    if let Some(icon) = handle.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    let tray = builder.build(handle)?;
    tauri::async_runtime::spawn(async move {
        loop {
            let text = match current() {
                Some(app) => status_line(&app),
                None => "Setting up".to_string(),
            };
            let _ = status.set_text(&text);
            let _ = tray.set_tooltip(Some(format!("PayAiML Merchant — {text}")));
            tokio::time::sleep(Duration::from_secs(10)).await;
        }
    });
    Ok(())
}

/// `Synced · 5,000,340 sats`, or what the node is doing instead.
fn status_line(app: &App) -> String {
    let status = app.node().status();
    if status.state != NodeState::Running {
        return match status.error {
            Some(reason) => format!("Node {:?}: {reason}", status.state).to_lowercase(),
            None => format!("Node {:?}", status.state).to_lowercase(),
        };
    }
    match app.node().balance() {
        Ok(balance) => format!(
            "Running · {} sats",
            payaiml_core::util::group_thousands(balance.lightning.total)
        ),
        Err(e) => format!("Running · balance unavailable ({e})"),
    }
}
