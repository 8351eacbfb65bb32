//! BTCPay's error format, for every answer of the Greenfield-compatible API that is not a
//! success: `{code, message}` (kebab-case codes such as `invoice-not-found`,
//! `missing-permission` with `missingPermission`, `unauthenticated`), and for a request field at
//! fault, 422 with a list of `{path, message}`. BTCPay's shop plugins read only the status and
//! show the body's text to the merchant, so every message says what to do.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use payaiml_core::{Error as CoreError, ErrorCode};
use serde_json::json;

use crate::error::ApiError;

/// An error answered in BTCPay's format.
#[derive(Debug)]
pub struct GfError {
    status: StatusCode,
    body: serde_json::Value,
    retry_after: Option<u64>,
}

/// Result alias for the Greenfield handlers.
pub type GfResult<T> = Result<T, GfError>;

impl GfError {
    /// `{code, message}` with `status`.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        GfError {
            status,
            body: json!({ "code": code, "message": message.into() }),
            retry_after: None,
        }
    }

    /// 403 for a key without `permission` (BTCPay names it in `missingPermission`).
    pub fn missing_permission(permission: &str) -> Self {
        GfError {
            status: StatusCode::FORBIDDEN,
            body: json!({
                "code": "missing-permission",
                "message": format!("this API key lacks the permission \"{permission}\": pair the shop again (or make a key in the dashboard with what it needs)"),
                "missingPermission": permission,
            }),
            retry_after: None,
        }
    }

    /// 422 about one request field.
    pub fn validation(path: &str, message: impl Into<String>) -> Self {
        GfError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: json!([{ "path": path, "message": message.into() }]),
            retry_after: None,
        }
    }

    /// 404 for a route outside the subset this server speaks.
    pub fn not_supported(method: &str, path: &str) -> Self {
        GfError::new(
            StatusCode::NOT_FOUND,
            "not-supported",
            format!("{method} {path} is not supported by PayAiML Merchant's BTCPay-compatible API (docs/api.md lists what is)"),
        )
    }
}

impl From<ApiError> for GfError {
    fn from(e: ApiError) -> Self {
        let retry_after = e.retry_after;
        let code = e.code;
        let field = e.field.clone();
        let (status, body) = e.public();
        let message = body.error.message;
        let mut out = match (code, field) {
            (
                ErrorCode::MissingApiKey
                | ErrorCode::MalformedApiKey
                | ErrorCode::InvalidApiKey
                | ErrorCode::RevokedApiKey
                | ErrorCode::ExpiredApiKey,
                _,
            ) => GfError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                format!("{message} (send it as 'Authorization: token <key>')"),
            ),
            (ErrorCode::MissingPermission, _) => {
                GfError::new(StatusCode::FORBIDDEN, "missing-permission", message)
            }
            (_, Some(path)) if status.is_client_error() && status != StatusCode::CONFLICT => {
                GfError::validation(&path, message)
            }
            (code, _) => GfError::new(status, &code.as_str().replace('_', "-"), message),
        };
        out.retry_after = retry_after;
        out
    }
}

impl From<CoreError> for GfError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::NotFound { kind, id } => GfError::new(
                StatusCode::NOT_FOUND,
                &format!("{kind}-not-found"),
                format!("no {kind} with id '{id}' in this shop"),
            ),
            other => ApiError::from(other).into(),
        }
    }
}

impl IntoResponse for GfError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body)).into_response();
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_errors_take_btcpays_shapes() {
        let e = GfError::from(CoreError::NotFound {
            kind: "invoice",
            id: "inv_x".into(),
        });
        assert_eq!(e.status, StatusCode::NOT_FOUND);
        assert_eq!(e.body["code"], "invoice-not-found");
        let e = GfError::from(CoreError::InvalidField {
            field: "amount",
            message: "bad".into(),
        });
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.body, json!([{"path": "amount", "message": "bad"}]));
        let e = GfError::from(ApiError::new(
            ErrorCode::InvalidApiKey,
            "this API key is not valid",
        ));
        assert_eq!(
            (e.status, e.body["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("unauthenticated"))
        );
        let e = GfError::from(CoreError::NodeNotReady("starting".into()));
        assert_eq!(
            (e.status, e.body["code"].as_str()),
            (StatusCode::SERVICE_UNAVAILABLE, Some("node-not-ready"))
        );
    }
}
