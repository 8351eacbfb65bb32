//! The API's error type and its one mapping to HTTP: every non-2xx response is
//! `{"error": {"code", "message", "field"?}}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use payaiml_core::{Error as CoreError, ErrorCode};
use serde::Serialize;

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code.
    pub code: ErrorCode,
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
    /// Stable code to branch on (the closed set of [`ErrorCode`]).
    pub code: ErrorCode,
    /// A human sentence.
    pub message: String,
    /// The request field at fault, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    /// An error with a code and message; the code decides the HTTP status.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            status: status_of(code),
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

    /// 400 about a field.
    pub fn bad_field(field: &str, message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidField, message).with_field(field)
    }

    /// 500 `internal_error`; `detail` goes to the log only (see [`IntoResponse`]).
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::InternalError, detail)
    }
}

/// The HTTP status of every error with `code`.
fn status_of(code: ErrorCode) -> StatusCode {
    StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        ApiError {
            status: status_of(e.code()),
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
                code: self.code,
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
            && !matches!(shown.code, ErrorCode::NodeError | ErrorCode::SandboxError)
        {
            let reference = payaiml_core::util::new_id("err");
            tracing::error!(%reference, code = %shown.code, message = %shown.message, "request failed");
            shown.message = format!(
                "something went wrong on the server (reference {reference}); the server log has the details"
            );
            shown.field = None;
        } else if shown.status.is_server_error() {
            tracing::warn!(code = %shown.code, message = %shown.message, "request refused");
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code the server can send is in docs/api.md's table, with the status it is sent
    /// with; a new code cannot ship undocumented.
    #[test]
    fn every_code_is_documented_with_its_status() {
        let doc =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api.md"))
                .expect("docs/api.md");
        for code in ErrorCode::ALL {
            let row = format!("| {} | `{}` |", code.http_status(), code.as_str());
            assert!(
                doc.contains(&row),
                "docs/api.md lacks the row starting {row}"
            );
            assert_eq!(status_of(code).as_u16(), code.http_status());
        }
    }

    /// A core error keeps its code and gets the code's status.
    #[test]
    fn core_errors_map_to_their_code_and_status() {
        let e = ApiError::from(CoreError::NodeNotReady("starting".into()));
        assert_eq!(
            (e.status, e.code),
            (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::NodeNotReady)
        );
        let e = ApiError::from(CoreError::NotFound {
            kind: "invoice",
            id: "x".into(),
        });
        assert_eq!(
            (e.status, e.code),
            (StatusCode::NOT_FOUND, ErrorCode::NotFound)
        );
    }
}
