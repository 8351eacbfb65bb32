//! `/v1/events`: the durable event log, for catching up.

use axum::extract::State;
use axum::Json;
use payaiml_core::events::EventRecord;
use payaiml_core::keys::Permission;
use serde::{Deserialize, Serialize};

use super::ApiQuery;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::ApiState;

/// Query of the event log.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Return events with `seq` greater than this (default 0).
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// The newest `tail` events (1 to 1000), oldest first; with `after`, the newest among those
    /// after it. `limit` does not apply.
    #[param(minimum = 1, maximum = 1000)]
    pub tail: Option<i64>,
}

/// A slice of the event log.
#[derive(Serialize, utoipa::ToSchema)]
pub struct EventsBody {
    /// Events, oldest first.
    pub data: Vec<EventRecord>,
    /// The `seq` to pass as `after` next time.
    pub last_seq: i64,
}

/// Events after `after`, oldest first. Needs `lightning:read`.
#[utoipa::path(get, path = "/v1/events", tag = "events", params(EventsQuery),
    responses((status = 200, body = EventsBody), (status = "4XX", body = ErrorBody)))]
pub async fn list_events(
    State(state): State<ApiState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> ApiResult<Json<EventsBody>> {
    auth.require(Permission::LightningRead)?;
    let after = q.after.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::bad_field(
            "after",
            "after must be 0 or a seq from an earlier answer",
        ));
    }
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_field(
            "limit",
            "limit must be between 1 and 1000",
        ));
    }
    let data = match q.tail {
        None => state.app.events().list(after, limit).await?,
        // With `after`, the newest `tail` events among those after it.
        Some(n) if (1..=1000).contains(&n) => {
            let mut newest = state.app.events().tail(n).await?;
            newest.retain(|e| e.seq > after);
            newest
        }
        Some(_) => {
            return Err(ApiError::bad_field(
                "tail",
                "tail must be between 1 and 1000",
            ))
        }
    };
    let last_seq = data.last().map(|e| e.seq).unwrap_or(after);
    Ok(Json(EventsBody { data, last_seq }))
}
