//! Local-server safety: the `Host` check against DNS rebinding, CORS for the desktop webview
//! only, panics turned into the error shape, and answers for unknown routes and methods.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::error::ApiError;
use payaiml_core::ErrorCode;

/// Who may reach a local server: the `Host` names it answers to and the browser origins given
/// CORS access. Both the API and the first-run setup are served behind the same guard.
#[derive(Clone, Debug)]
pub struct Guard {
    /// `Host` names accepted (lowercase, without port).
    pub allowed_hosts: Arc<Vec<String>>,
    /// Browser origins given CORS access (the desktop webview only).
    pub allowed_origins: Arc<Vec<String>>,
}

impl Guard {
    /// The guard of a server bound to `bound`: loopback names, the bound address itself, and the
    /// operator's `extra_hosts`.
    pub fn new(bound: SocketAddr, extra_hosts: &[String], allowed_origins: Vec<String>) -> Self {
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
        hosts.extend(extra_hosts.iter().map(|h| h.to_ascii_lowercase()));
        Guard {
            allowed_hosts: Arc::new(hosts),
            allowed_origins: Arc::new(allowed_origins),
        }
    }

    /// `routes` behind the guard: CORS for the allowed origins only, the `Host` check, and panics
    /// answered in the error shape.
    pub fn wrap(&self, routes: axum::Router) -> axum::Router {
        let routes = match cors_layer(&self.allowed_origins) {
            Some(cors) => routes
                .layer(cors)
                .layer(axum::middleware::from_fn_with_state(
                    self.clone(),
                    refuse_foreign_preflight,
                )),
            None => routes,
        };
        routes
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                check_host,
            ))
            .layer(tower_http::catch_panic::CatchPanicLayer::custom(
                panic_response,
            ))
    }
}

/// Rejects requests whose `Host` is not the bound address, `localhost` or `127.0.0.1` (or a host
/// the operator allowed). A web page on another origin that rebinds its DNS name to 127.0.0.1
/// still sends its own name as `Host`, so it never reaches the API.
pub async fn check_host(State(state): State<Guard>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| request.uri().authority().map(|a| a.to_string()));
    let allowed = host.as_deref().map(host_name).is_some_and(|name| {
        let name = name.to_ascii_lowercase();
        state.allowed_hosts.contains(&name)
    });
    if !allowed {
        let shown = host.unwrap_or_else(|| "(none)".into());
        return ApiError::new(ErrorCode::HostNotAllowed,
            format!(
                "Host '{shown}' is not allowed: call the API as 127.0.0.1 or localhost (or start the server with --allow-host)"
            ),
        )
        .into_response();
    }
    next.run(request).await
}

/// CORS for the desktop webview's own origins only, by tower-http: requests from any other
/// origin get no CORS headers, so a web page cannot read the API's answers. `None` (no origins,
/// as in `payaimld`) sends no CORS headers at all.
pub fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("idempotency-key"),
            ])
            .max_age(Duration::from_secs(600)),
    )
}

/// Refuses a preflight from an origin outside the allow-list outright (tower-http's layer would
/// answer it `200` without CORS headers, which a browser also refuses, but less plainly).
pub async fn refuse_foreign_preflight(
    State(state): State<Guard>,
    request: Request,
    next: Next,
) -> Response {
    let foreign = request.method() == Method::OPTIONS
        && !request
            .headers()
            .get(header::ORIGIN)
            .and_then(|o| o.to_str().ok())
            .is_some_and(|o| state.allowed_origins.iter().any(|a| a == o));
    if foreign {
        let uri = request.uri().clone();
        return method_not_allowed(Method::OPTIONS, uri)
            .await
            .into_response();
    }
    next.run(request).await
}

/// The name part of a `Host` value (`[::1]:3737` → `[::1]`, `localhost:3737` → `localhost`).
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map(|i| &host[..=i]).unwrap_or(host);
    }
    host.rsplit_once(':').map(|(name, _)| name).unwrap_or(host)
}

/// A panic in a handler is a bug; the client still gets the error shape.
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::internal("a request handler panicked").into_response()
}

/// 404 for paths the API does not have.
pub async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        format!("no endpoint {method} {}", uri.path()),
    )
}

/// 405 for a known path with another method.
pub async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        format!("{} does not accept {method}", uri.path()),
    )
}

#[cfg(test)]
mod tests {
    use super::host_name;

    #[test]
    fn host_names() {
        assert_eq!(host_name("localhost:3737"), "localhost");
        assert_eq!(host_name("127.0.0.1"), "127.0.0.1");
        assert_eq!(host_name("[::1]:3737"), "[::1]");
        assert_eq!(host_name("evil.example"), "evil.example");
    }
}
