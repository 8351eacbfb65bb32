//! The API's error type and its one mapping to HTTP: every non-2xx response is
//! `{"error": {"code", "message", "field"?}}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use payaiml_core::Error as CoreError;
use serde::Serialize;

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable snake_case code.
    pub code: &'static str,
    /// A sentence for people.
    pub message: String,
    /// The request field it concerns.
    pub field: Option<String>,
    /// Seconds to wait, for 429.
    pub retry_after: Option<u64>,
}

/// The body of every error response.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The error object.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code to branch on.
    pub code: String,
    /// A human sentence.
    pub message: String,
    /// The request field at fault, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    /// An error with a status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            retry_after: None,
        }
    }

    /// The same error about `field`.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// 401 with `code`.
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    /// 403 with `code`.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    /// 400 about a field.
    pub fn bad_field(field: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_field", message).with_field(field)
    }

    /// 500 `internal_error`; `detail` goes to the log only (see [`IntoResponse`]).
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", detail)
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        let status = match &e {
            CoreError::InvalidField { .. } => StatusCode::BAD_REQUEST,
            CoreError::Unprocessable { .. } | CoreError::InsufficientBalance(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            CoreError::NotFound { .. } => StatusCode::NOT_FOUND,
            CoreError::DuplicatePayment { .. } | CoreError::IdempotencyConflict(_) => {
                StatusCode::CONFLICT
            }
            CoreError::BudgetExceeded { .. } | CoreError::Forbidden { .. } => StatusCode::FORBIDDEN,
            CoreError::NodeNotReady(_) => StatusCode::SERVICE_UNAVAILABLE,
            CoreError::Node(_)
            | CoreError::Secrets(_)
            | CoreError::Database(_)
            | CoreError::Migration(_)
            | CoreError::Io { .. }
            | CoreError::Config(_)
            | CoreError::Sandbox(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError {
            status,
            code: e.code(),
            message: e.to_string(),
            field: e.field().map(str::to_string),
            retry_after: None,
        }
    }
}

impl ApiError {
    /// The JSON body of this error.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message.clone(),
                field: self.field.clone(),
            },
        }
    }
}

impl ApiError {
    /// The status and body to send. A 500 other than a node or sandbox failure says only that
    /// something failed on our side and a reference to find it in the log: its real text (a
    /// database error, a file path, a keyring message) is logged for the operator, never sent to
    /// whoever called the API.
    pub fn public(self) -> (StatusCode, ErrorBody) {
        let mut shown = self;
        // Node and sandbox messages are written for the merchant (see `node::explain`); the
        // rest of our 500s carry database, file and keyring text.
        if shown.status == StatusCode::INTERNAL_SERVER_ERROR
            && !matches!(shown.code, "node_error" | "sandbox_error")
        {
            let reference = payaiml_core::util::new_id("err");
            tracing::error!(%reference, code = shown.code, message = %shown.message, "request failed");
            shown.message = format!(
                "something went wrong on the server (reference {reference}); the server log has the details"
            );
            shown.field = None;
        } else if shown.status.is_server_error() {
            tracing::warn!(code = shown.code, message = %shown.message, "request refused");
        }
        (shown.status, shown.body())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry_after = self.retry_after;
        let (status, body) = self.public();
        let mut response = (status, axum::Json(body)).into_response();
        if let Some(secs) = retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

/// Result alias for handlers.
pub type ApiResult<T> = Result<T, ApiError>;
