//! Local-server safety: the `Host` check against DNS rebinding, panics turned into the error
//! shape, and answers for unknown routes and methods.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::ApiState;
use payaiml_core::ErrorCode;

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

/// CORS for the desktop webview's own origins only. Requests from any other origin get no CORS
/// headers, so a web page cannot read the API's answers; a preflight from such an origin is
/// refused outright.
pub async fn cors(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .map(str::to_string);
    let allowed = origin.filter(|o| state.allowed_origins.iter().any(|a| a == o));
    if request.method() == Method::OPTIONS {
        return match allowed {
            Some(origin) => {
                let mut response = StatusCode::NO_CONTENT.into_response();
                add_cors(&mut response, &origin);
                let headers = response.headers_mut();
                headers.insert(
                    header::ACCESS_CONTROL_ALLOW_METHODS,
                    HeaderValue::from_static("GET, POST, DELETE"),
                );
                headers.insert(
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    HeaderValue::from_static("authorization, content-type, idempotency-key"),
                );
                headers.insert(
                    header::ACCESS_CONTROL_MAX_AGE,
                    HeaderValue::from_static("600"),
                );
                response
            }
            None => next.run(request).await,
        };
    }
    let mut response = next.run(request).await;
    if let Some(origin) = allowed {
        add_cors(&mut response, &origin);
    }
    response
}

fn add_cors(response: &mut Response, origin: &str) {
    if let Ok(value) = HeaderValue::from_str(origin) {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
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
