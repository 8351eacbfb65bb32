//! Routes, one file per domain, and helpers they share.

pub mod events;
pub mod health;
pub mod invoices;
pub mod keys;
pub mod node;
pub mod payments;
pub mod sandbox;
pub mod settings;
pub mod stream;
pub mod wallet;
pub mod webhooks;

use std::future::Future;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use payaiml_core::idempotency::{self, Begin};
use payaiml_core::invoices::Page;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::state::ApiState;

/// A page of results with the cursor for the next one.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PageBody<T> {
    /// The items, newest first.
    pub data: Vec<T>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T> From<Page<T>> for PageBody<T> {
    fn from(p: Page<T>) -> Self {
        PageBody {
            data: p.data,
            next_cursor: p.next_cursor,
        }
    }
}

/// A list without paging.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ListBody<T> {
    /// The items.
    pub data: Vec<T>,
}

/// Query-string extractor whose errors use the API's error shape.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))
    }
}

/// Query of a paged list (invoices, payments).
#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// Only items in this status.
    pub status: Option<String>,
    /// 1 to 100 (default 20).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// `?limit=` checked: 1 to 100, default 20.
pub fn limit(value: Option<i64>) -> ApiResult<i64> {
    match value {
        None => Ok(20),
        Some(n) if (1..=100).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::bad_field(
            "limit",
            "limit must be between 1 and 100",
        )),
    }
}

/// Runs a creating request under its `Idempotency-Key`, if it has one: a retry of the same request
/// gets the first response again, a different request under the same key gets 409.
pub async fn idempotent<T, F>(
    state: &ApiState,
    auth: &Auth,
    headers: &HeaderMap,
    route: &str,
    canonical_body: &str,
    run: F,
) -> Response
where
    T: Serialize,
    F: Future<Output = ApiResult<T>>,
{
    let Some(value) = headers.get("idempotency-key") else {
        return respond(run.await);
    };
    let store = state.app.store();
    let idem = match value.to_str() {
        Ok(v) => v.to_string(),
        Err(_) => {
            return ApiError::bad_field("Idempotency-Key", "Idempotency-Key must be ASCII")
                .into_response()
        }
    };
    if let Err(e) = idempotency::validate_key(&idem) {
        return ApiError::from(e).into_response();
    }
    let hash = payaiml_core::util::sha256_hex(canonical_body.as_bytes());
    match idempotency::begin(store, &auth.key.id, &idem, route, &hash).await {
        Ok(Begin::Replay { status, body }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let mut response = (status, body).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
                .headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
            return response;
        }
        Ok(Begin::Fresh) => {}
        Err(e) => return ApiError::from(e).into_response(),
    }
    let (status, body) = match run.await {
        Ok(value) => (
            StatusCode::CREATED,
            serde_json::to_string(&value).unwrap_or_default(),
        ),
        Err(e) => (
            e.status,
            serde_json::to_string(&e.body()).unwrap_or_default(),
        ),
    };
    let recorded = if status.is_server_error() {
        idempotency::forget(store, &auth.key.id, &idem).await
    } else {
        idempotency::finish(store, &auth.key.id, &idem, status.as_u16(), &body).await
    };
    if let Err(e) = recorded {
        tracing::error!(error = %e, "recording an idempotent response failed");
    }
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn respond<T: Serialize>(result: ApiResult<T>) -> Response {
    match result {
        Ok(value) => (StatusCode::CREATED, axum::Json(value)).into_response(),
        Err(e) => e.into_response(),
    }
}
