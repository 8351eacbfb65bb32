//! Bearer-key authentication, permission checks, and the limit on failed attempts.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use payaiml_core::keys::{ApiKey, AuthFailure, Permission};

use crate::error::{ApiError, ApiResult};
use crate::state::ApiState;

/// The authenticated key of a request.
pub struct Auth {
    /// The key.
    pub key: ApiKey,
}

impl Auth {
    /// Fails with 403 unless the key carries `permission`.
    pub fn require(&self, permission: Permission) -> ApiResult<()> {
        if self.key.allows(permission) {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "missing_permission",
                format!("this API key lacks the '{permission}' permission"),
            ))
        }
    }
}

/// Reads the key from `Authorization: Bearer <key>`, or, on a WebSocket upgrade (browsers cannot
/// set headers there), from `Sec-WebSocket-Protocol: bearer, <key>`.
pub fn bearer(parts: &Parts) -> Option<&str> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let (scheme, token) = value.to_str().ok()?.trim().split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then_some(token.trim());
    }
    let protocols = parts
        .headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)?
        .to_str()
        .ok()?;
    let mut items = protocols.split(',').map(str::trim);
    let (scheme, token) = (items.next()?, items.next()?);
    scheme.eq_ignore_ascii_case("bearer").then_some(token)
}

impl FromRequestParts<ApiState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        if let Some(wait) = state.limiter.blocked(ip) {
            return Err(rate_limited(wait));
        }
        let Some(token) = bearer(parts) else {
            let err = if parts.headers.contains_key(header::AUTHORIZATION) {
                ApiError::unauthorized(
                    "malformed_api_key",
                    "the Authorization header must read 'Bearer <API key>'",
                )
            } else {
                ApiError::unauthorized(
                    "missing_api_key",
                    "send your API key as 'Authorization: Bearer <key>'",
                )
            };
            return Err(err);
        };
        match state.app.keys().authenticate(token).await? {
            Ok(key) => Ok(Auth { key }),
            Err(failure) => {
                state.limiter.record(ip);
                Err(match failure {
                    AuthFailure::Malformed => ApiError::unauthorized(
                        "malformed_api_key",
                        "this is not a PayAiML API key (they look like pk_<id>_<secret>)",
                    ),
                    AuthFailure::Unknown => {
                        ApiError::unauthorized("invalid_api_key", "this API key is not valid")
                    }
                    AuthFailure::Revoked => {
                        ApiError::unauthorized("revoked_api_key", "this API key was revoked")
                    }
                    AuthFailure::Expired => {
                        ApiError::unauthorized("expired_api_key", "this API key has expired")
                    }
                })
            }
        }
    }
}

fn rate_limited(wait: Duration) -> ApiError {
    let secs = wait.as_secs().max(1);
    let mut e = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("too many failed authentication attempts; retry in {secs} s"),
    );
    e.retry_after = Some(secs);
    e
}

/// Counts failed authentications per client address in a sliding window; past the limit, that
/// address gets 429 before its key is even looked at. Valid keys are 190-bit random strings, so
/// this is about not being a free oracle for scanners, and about keeping the log quiet.
pub struct AuthLimiter {
    window: Duration,
    max_failures: usize,
    failures: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

impl AuthLimiter {
    /// A limiter allowing `max_failures` per `window`.
    pub fn new(max_failures: usize, window: Duration) -> Self {
        AuthLimiter {
            window,
            max_failures,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// If `ip` is over the limit, how long until it may try again.
    pub fn blocked(&self, ip: IpAddr) -> Option<Duration> {
        let mut map = self.failures.lock().ok()?;
        let now = Instant::now();
        let entry = map.get_mut(&ip)?;
        while entry
            .front()
            .is_some_and(|t| now.duration_since(*t) > self.window)
        {
            entry.pop_front();
        }
        if entry.len() >= self.max_failures {
            entry
                .front()
                .map(|t| self.window.saturating_sub(now.duration_since(*t)))
        } else {
            None
        }
    }

    /// Records a failure for `ip`.
    pub fn record(&self, ip: IpAddr) {
        let Ok(mut map) = self.failures.lock() else {
            return;
        };
        let now = Instant::now();
        if map.len() > 4096 {
            let window = self.window;
            map.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) <= window));
        }
        let entry = map.entry(ip).or_default();
        entry.push_back(now);
        while entry.len() > self.max_failures {
            entry.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_blocks_after_max_failures() {
        let limiter = AuthLimiter::new(3, Duration::from_secs(60));
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let other = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
        for _ in 0..2 {
            limiter.record(ip);
        }
        assert!(limiter.blocked(ip).is_none());
        limiter.record(ip);
        assert!(limiter.blocked(ip).is_some());
        assert!(limiter.blocked(other).is_none());
    }
}
