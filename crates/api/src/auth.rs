//! Bearer-key authentication, permission checks, and the limit on failed attempts.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use payaiml_core::keys::{ApiKey, AuthFailure, Permission};

use crate::error::{ApiError, ApiResult};
use crate::state::ApiState;
use payaiml_core::ErrorCode;

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
            Err(ApiError::new(
                ErrorCode::MissingPermission,
                format!("this API key lacks the '{permission}' permission"),
            ))
        }
    }
}

/// Reads the key from `Authorization: Bearer <key>` (or `token <key>`, the scheme BTCPay's
/// Greenfield clients send), or, on a WebSocket upgrade (browsers cannot set headers there),
/// from `Sec-WebSocket-Protocol: bearer, <key>`.
pub fn bearer(parts: &Parts) -> Option<&str> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let (scheme, token) = value.to_str().ok()?.trim().split_once(' ')?;
        return (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token"))
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

    /// A customer display's key (`display:read` alone) is refused here, so every route but
    /// `/v1/display` (which takes [`DisplayAuth`]) is closed to it whatever its own checks say.
    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        let key = authenticate(parts, state).await?;
        if key.display_only() {
            return Err(ApiError::new(
                ErrorCode::MissingPermission,
                "this is a customer display's key: it shows the point of sale's current sale (/v1/display) and nothing else",
            ));
        }
        Ok(Auth { key })
    }
}

/// The key of a request to `/v1/display`: a display's own key, or a key that runs a point of
/// sale or reads invoices.
pub struct DisplayAuth {
    /// The key.
    pub key: ApiKey,
}

impl FromRequestParts<ApiState> for DisplayAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        let key = authenticate(parts, state).await?;
        let allowed = [
            Permission::DisplayRead,
            Permission::LightningReceive,
            Permission::LightningRead,
        ];
        if !allowed.into_iter().any(|p| key.allows(p)) {
            return Err(ApiError::new(
                ErrorCode::MissingPermission,
                "this API key lacks the 'display:read' permission (or lightning:receive or lightning:read)",
            ));
        }
        Ok(DisplayAuth { key })
    }
}

/// The key a request presents, checked.
///
/// The key is checked first: a request with a valid key is never refused by the failed-auth
/// limiter, whatever other clients on the same address do. Only unknown or malformed keys
/// count as failures (a revoked or expired key is a known client to be told so, not a
/// guess), per client address and per presented key, so that one plugin polling with a stale
/// key is slowed down without locking out the dashboard or the other integrations.
pub(crate) async fn authenticate(parts: &Parts, state: &ApiState) -> Result<ApiKey, ApiError> {
    let ip = client_ip(parts);
    let Some(token) = bearer(parts) else {
        if parts.headers.contains_key(header::AUTHORIZATION) {
            let presented = parts
                .headers
                .get(header::AUTHORIZATION)
                .map(|v| v.as_bytes())
                .unwrap_or_default();
            if let Some(wait) = state.limiter.fail(ip, presented) {
                return Err(rate_limited(wait));
            }
            return Err(ApiError::new(
                ErrorCode::MalformedApiKey,
                "the Authorization header must read 'Bearer <API key>'",
            ));
        }
        return Err(ApiError::new(
            ErrorCode::MissingApiKey,
            "send your API key as 'Authorization: Bearer <key>'",
        ));
    };
    let failure = match state.app.keys().authenticate(token).await? {
        Ok(key) => return Ok(key),
        Err(failure) => failure,
    };
    if matches!(failure, AuthFailure::Malformed | AuthFailure::Unknown) {
        if let Some(wait) = state.limiter.fail(ip, token.as_bytes()) {
            return Err(rate_limited(wait));
        }
    }
    Err(refused(failure))
}

/// The answer to a key that does not work, with its code.
pub(crate) fn refused(failure: AuthFailure) -> ApiError {
    let code = match failure {
        AuthFailure::Revoked => ErrorCode::RevokedApiKey,
        AuthFailure::Expired => ErrorCode::ExpiredApiKey,
        AuthFailure::Malformed => ErrorCode::MalformedApiKey,
        AuthFailure::Unknown => ErrorCode::InvalidApiKey,
    };
    ApiError::new(code, failure.message())
}

/// The client's address (loopback when the connection's is not known, as in tests).
pub fn client_ip(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

pub(crate) fn rate_limited(wait: Duration) -> ApiError {
    let secs = wait.as_secs().max(1);
    let mut e = ApiError::new(
        ErrorCode::RateLimited,
        format!("too many requests with unknown API keys from this client; retry in {secs} s"),
    );
    e.retry_after = Some(secs);
    e
}

pub use crate::limiter::AuthLimiter;

/// The client's address, as an extractor (for the routes that take no key but count failures).
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(parts)))
    }
}
