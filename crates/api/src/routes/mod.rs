//! Routes, one file per domain, and helpers they share.

pub mod cashier;
pub mod catalog;
pub mod display;
pub mod events;
pub mod greenfield;
pub mod health;
pub mod invoices;
pub mod keys;
pub mod node;
pub mod nwc;
pub mod offers;
pub mod payments;
pub mod rates;
pub mod reports;
pub mod sandbox;
pub mod settings;
pub mod stream;
pub mod till;
pub mod wallet;
pub mod webhooks;

use std::future::Future;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use payaiml_core::idempotency::{self, Begin};
use payaiml_core::Page;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::state::ApiState;
use payaiml_core::ErrorCode;

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
            .map_err(|e| ApiError::new(ErrorCode::InvalidQuery, e.body_text()))
    }
}

/// Query of the invoice list.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvoiceListQuery {
    /// Only invoices in this status.
    #[param(schema_with = invoice_statuses)]
    pub status: Option<String>,
    /// Text in the description, external id or payer's note (case ignored for ASCII letters),
    /// or an invoice id or payment hash in full; at most 100 characters, spaces around it
    /// ignored (empty: no text to look for).
    #[param(max_length = 100)]
    pub q: Option<String>,
    /// At least this many sats (the amount asked; for an invoice whose payer chose, received).
    #[param(minimum = 0, maximum = 2_100_000_000_000_000_i64)]
    pub min_amount: Option<u64>,
    /// At most this many sats.
    #[param(minimum = 0, maximum = 2_100_000_000_000_000_i64)]
    pub max_amount: Option<u64>,
    /// Made on or after this day (`2026-11-01`, from its start in the merchant's time zone) or
    /// time (RFC 3339).
    #[param(
        pattern = "^((19[7-9][0-9]|[2-9][0-9]{3})-((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)|(19(7[26]|8[048]|9[26])|[2-9][0-9](0[48]|[2468][048]|[13579][26])|([2468][048]|[3579][26])00)-02-29)([Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]{1,9})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))?$"
    )]
    pub from: Option<String>,
    /// Made on or before this day (`2026-11-30`, to its end) or before this time (RFC 3339).
    #[param(
        pattern = "^((19[7-9][0-9]|[2-9][0-9]{3})-((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)|(19(7[26]|8[048]|9[26])|[2-9][0-9](0[48]|[2468][048]|[13579][26])|([2468][048]|[3579][26])00)-02-29)([Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]{1,9})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))?$"
    )]
    pub to: Option<String>,
    /// 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page (opaque; today a positive whole number).
    #[param(pattern = "^([1-9][0-9]{0,17})?$")]
    pub cursor: Option<String>,
}

/// Query of the payment list.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PaymentListQuery {
    /// Only payments in this status.
    #[param(schema_with = payment_statuses)]
    pub status: Option<String>,
    /// 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page (opaque; today a positive whole number).
    #[param(pattern = "^([1-9][0-9]{0,17})?$")]
    pub cursor: Option<String>,
}

/// A string that is one of `values`, for the OpenAPI document. (The handlers read the status as
/// text, so that an unknown one gets a message naming the valid ones.)
fn one_of(values: &[&str]) -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(values.iter().copied()))
        .build()
}

fn invoice_statuses() -> utoipa::openapi::Object {
    one_of(&["pending", "paid", "expired"])
}

fn payment_statuses() -> utoipa::openapi::Object {
    one_of(&["pending", "succeeded", "failed"])
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
///
/// The work and the recording of its answer run in their own task: a client that disconnects
/// mid-request (its request future is dropped) does not stop a payment half-way, and the answer
/// it missed is stored for its retry.
pub async fn idempotent<T, F>(
    state: &ApiState,
    auth: &Auth,
    headers: &HeaderMap,
    route: &str,
    canonical_body: &str,
    run: F,
) -> Response
where
    T: Serialize + Send + 'static,
    F: Future<Output = ApiResult<T>> + Send + 'static,
{
    let idem = match headers.get("idempotency-key").map(|v| v.to_str()) {
        None => None,
        Some(Ok(v)) => Some(v.to_string()),
        Some(Err(_)) => {
            return ApiError::bad_field("Idempotency-Key", "Idempotency-Key must be ASCII")
                .into_response()
        }
    };
    if let Some(idem) = &idem {
        if let Err(e) = idempotency::validate_key(idem) {
            return ApiError::from(e).into_response();
        }
    }
    let records = state.app.idempotency();
    let key_id = auth.key.id.clone();
    let route = route.to_string();
    let hash = payaiml_core::util::sha256_hex(canonical_body.as_bytes());
    // The work in a task of its own, so that a panic in it is an answer (500) like any other
    // failure: its key is then forgotten instead of staying "in progress" until it goes stale.
    let run = async move {
        match tokio::spawn(run).await {
            Ok(result) => Answer::from(result),
            Err(e) => Answer::from(Err::<(), _>(task_failed(e))),
        }
    };
    // From the claim of the key to the stored answer, in one task that outlives the request.
    let finished = tokio::spawn(async move {
        let Some(idem) = idem else {
            return run.await;
        };
        match records.begin(&key_id, &idem, &route, &hash).await {
            Ok(Begin::Replay { status, body }) => {
                return Answer {
                    status: StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
                    body,
                    replayed: true,
                }
            }
            Ok(Begin::Fresh) => {}
            Err(e) => return Answer::from(Err::<(), _>(ApiError::from(e))),
        }
        let answer = run.await;
        let recorded = if answer.status.is_server_error() {
            records.forget(&key_id, &idem).await
        } else {
            records
                .finish(&key_id, &idem, answer.status.as_u16(), &answer.body)
                .await
        };
        if let Err(e) = recorded {
            tracing::error!(error = %e, "recording an idempotent response failed");
        }
        answer
    })
    .await;
    match finished {
        Ok(answer) => answer.into_response(),
        Err(e) => task_failed(e).into_response(),
    }
}

/// A creating request's answer as stored for `Idempotency-Key` replays: status and JSON body.
struct Answer {
    status: StatusCode,
    body: String,
    replayed: bool,
}

impl<T: Serialize> From<ApiResult<T>> for Answer {
    fn from(result: ApiResult<T>) -> Self {
        match result {
            Ok(value) => Answer {
                status: StatusCode::CREATED,
                body: serde_json::to_string(&value).unwrap_or_default(),
                replayed: false,
            },
            Err(e) => {
                let (status, body) = e.public();
                Answer {
                    status,
                    body: serde_json::to_string(&body).unwrap_or_default(),
                    replayed: false,
                }
            }
        }
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if self.replayed {
            response
                .headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
        }
        response
    }
}

fn task_failed(e: tokio::task::JoinError) -> ApiError {
    ApiError::internal(format!("request task failed: {e}"))
}
