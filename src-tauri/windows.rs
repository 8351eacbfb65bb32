//! The app's windows: the dashboard (from `tauri.conf.json`, created once the core is up so its
//! first call to `connection` finds an answer) and the customer display, a second window that
//! mirrors the point-of-sale invoice and can be dragged to a screen facing the customer.

use tauri::{AppHandle, Manager, WebviewUrl, WebviewWindowBuilder};

pub const MAIN: &str = "main";
pub const CUSTOMER: &str = "customer";

/// Creates the dashboard window as configured.
pub fn create_main(app: &AppHandle) -> tauri::Result<()> {
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|w| w.label == MAIN)
        .cloned()
        .ok_or_else(|| tauri::Error::WindowNotFound)?;
    WebviewWindowBuilder::from_config(app, &config)?.build()?;
    Ok(())
}

/// Brings the dashboard forward, on `route` (`/`, `/pos`, …) if given.
pub fn show_main(app: &AppHandle, route: Option<&str>) {
    if let Some(window) = app.get_webview_window(MAIN) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
        if let Some(route) = route {
            // The dashboard routes on the URL hash; this is the one place the shell steers it.
            let _ = window.eval(format!("location.hash = {}", serde_json::json!(route)));
        }
    }
}

/// Opens (or brings forward) the customer display.
pub fn open_customer_display(app: &AppHandle) -> tauri::Result<()> {
    if let Some(window) = app.get_webview_window(CUSTOMER) {
        window.show()?;
        return window.set_focus();
    }
    WebviewWindowBuilder::new(app, CUSTOMER, WebviewUrl::App("index.html#/display".into()))
        .title("PayAiML Merchant — customer display")
        .inner_size(720.0, 820.0)
        .min_inner_size(360.0, 420.0)
        .build()?;
    Ok(())
}

#[tauri::command]
pub async fn customer_display(app: AppHandle) -> Result<(), String> {
    open_customer_display(&app).map_err(|e| e.to_string())
}
