//! Local-server safety: the `Host` check against DNS rebinding, panics turned into the error
//! shape, and answers for unknown routes and methods.

use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::ApiState;

/// Rejects requests whose `Host` is not the bound address, `localhost` or `127.0.0.1` (or a host
/// the operator allowed). A web page on another origin that rebinds its DNS name to 127.0.0.1
/// still sends its own name as `Host`, so it never reaches the API.
pub async fn check_host(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| request.uri().authority().map(|a| a.to_string()));
    let allowed = host.as_deref().map(host_name).is_some_and(|name| {
        let name = name.to_ascii_lowercase();
        state.allowed_hosts.iter().any(|h| *h == name)
    });
    if !allowed {
        let shown = host.unwrap_or_else(|| "(none)".into());
        return ApiError::forbidden(
            "host_not_allowed",
            format!(
                "Host '{shown}' is not allowed: call the API as 127.0.0.1 or localhost (or start the server with --allow-host)"
            ),
        )
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
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        "internal error; see the server log",
    )
    .into_response()
}

/// 404 for paths the API does not have.
pub async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no endpoint {method} {}", uri.path()),
    )
}

/// 405 for a known path with another method.
pub async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
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
