//! The state every handler shares.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use payaiml_core::sandbox::Sandbox;
use payaiml_core::App;

use crate::limiter::AuthLimiter;

/// Shared handler state. Cheap to clone.
#[derive(Clone)]
pub struct ApiState {
    /// The application.
    pub app: Arc<App>,
    /// The regtest sandbox beside it, if it runs one.
    pub sandbox: Option<Arc<Sandbox>>,
    /// Failed-authentication limiter.
    pub limiter: Arc<AuthLimiter>,
    /// `Host` names accepted (lowercase, without port).
    pub allowed_hosts: Arc<Vec<String>>,
    /// Browser origins given CORS access (the desktop webview only).
    pub allowed_origins: Arc<Vec<String>>,
    /// Whether the dashboard is served at `/` (the pairing page then opens there).
    pub dashboard_served: bool,
    /// Shop plugins' pairing requests waiting for the merchant in the app's window.
    pub pairings: Arc<crate::pairing::PendingPairings>,
    /// What shows a pairing request in the app's window (the desktop app sets it).
    pub pairing_window: crate::pairing::PairingWindow,
}

impl ApiState {
    /// State for an API bound to `bound`.
    pub fn new(
        app: Arc<App>,
        sandbox: Option<Arc<Sandbox>>,
        bound: SocketAddr,
        allowed_origins: Vec<String>,
    ) -> Self {
        let guard = crate::safety::Guard::new(bound, &app.config().allowed_hosts, allowed_origins);
        let per_key = app.config().auth_failures_per_minute.max(1) as usize;
        ApiState {
            app,
            sandbox,
            limiter: Arc::new(AuthLimiter::new(
                per_key,
                per_key.saturating_mul(15),
                Duration::from_secs(60),
            )),
            allowed_hosts: guard.allowed_hosts,
            allowed_origins: guard.allowed_origins,
            dashboard_served: false,
            pairings: Arc::default(),
            pairing_window: Default::default(),
        }
    }
}
