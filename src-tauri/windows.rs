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
    lighten(&WebviewWindowBuilder::from_config(app, &config)?.build()?);
    Ok(())
}

/// Makes a window's webview cost less memory (Linux, WebKitGTK): pages drawn on the CPU, not
/// composited through OpenGL, and the memory caches of a single-document viewer. The dashboard
/// and the display are plain pages with no animation worth a GPU. On a machine without one
/// (most POS boxes and VMs) compositing goes through Mesa's software renderer, whose buffers
/// made half of the page process's own memory: idle with its window open, the app's processes
/// together took 343 MB (PSS) composited and about 265 MB drawn on the CPU (`make bench`).
fn lighten(window: &tauri::WebviewWindow) {
    #[cfg(target_os = "linux")]
    let lightened = window.with_webview(|webview| {
        use webkit2gtk::{
            CacheModel, HardwareAccelerationPolicy, SettingsExt, WebContextExt, WebViewExt,
        };
        let view = webview.inner();
        if let Some(settings) = WebViewExt::settings(&view) {
            settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
        }
        if let Some(context) = view.context() {
            context.set_cache_model(CacheModel::DocumentViewer);
        }
    });
    #[cfg(not(target_os = "linux"))]
    let lightened: tauri::Result<()> = Ok(());
    if let Err(e) = lightened {
        tracing::warn!(error = %e, "could not set the webview's memory settings");
    }
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
    let window =
        WebviewWindowBuilder::new(app, CUSTOMER, WebviewUrl::App("index.html#/display".into()))
            .title("PayAiML Merchant — customer display")
            .inner_size(720.0, 820.0)
            .min_inner_size(360.0, 420.0)
            .build()?;
    lighten(&window);
    Ok(())
}

#[tauri::command]
pub async fn customer_display(app: AppHandle) -> Result<(), String> {
    open_customer_display(&app).map_err(|e| e.to_string())
}
