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
}

impl ApiState {
    /// State for an API bound to `bound`.
    pub fn new(
        app: Arc<App>,
        sandbox: Option<Arc<Sandbox>>,
        bound: SocketAddr,
        allowed_origins: Vec<String>,
    ) -> Self {
        let mut hosts = vec![
            "localhost".to_string(),
            "127.0.0.1".to_string(),
            "[::1]".to_string(),
        ];
        let ip = match bound.ip() {
            std::net::IpAddr::V6(v6) => format!("[{v6}]"),
            v4 => v4.to_string(),
        };
        if !bound.ip().is_unspecified() && !hosts.contains(&ip) {
            hosts.push(ip);
        }
        hosts.extend(
            app.config()
                .allowed_hosts
                .iter()
                .map(|h| h.to_ascii_lowercase()),
        );
        let per_key = app.config().auth_failures_per_minute.max(1) as usize;
        ApiState {
            app,
            sandbox,
            limiter: Arc::new(AuthLimiter::new(
                per_key,
                per_key.saturating_mul(15),
                Duration::from_secs(60),
            )),
            allowed_hosts: Arc::new(hosts),
            allowed_origins: Arc::new(allowed_origins),
        }
    }
}
