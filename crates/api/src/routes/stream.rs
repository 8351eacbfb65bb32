//! `GET /v1/events/ws`: the event log as a WebSocket stream. `?after=<seq>` replays the log from
//! there, then live events follow with no gap and no repeat (the live feed is subscribed to
//! before the replay starts, and anything at or below the last `seq` sent is skipped; a jump in
//! `seq` is filled from the log). One JSON event per text frame, the same objects as
//! `GET /v1/events`.
//!
//! Browsers cannot set `Authorization` on a WebSocket, so the key may also come as
//! `Sec-WebSocket-Protocol: bearer, <key>` (the server then selects `bearer`). A browser's
//! `Origin` must be the API's own origin or the desktop webview's; anything else is refused, so a
//! web page the merchant visits cannot read their payments.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::Response;
use payaiml_core::events::EventRecord;
use payaiml_core::keys::{AuthFailure, Permission};
use payaiml_core::App;
use serde::Deserialize;
use tokio::sync::broadcast;

use super::ApiQuery;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::ApiState;
use payaiml_core::ErrorCode;

/// Close code for a consumer that fell too far behind the live stream; the reason says
/// `resume with ?after=<seq>`, the last event it was sent.
pub const CLOSE_BEHIND: u16 = 4000;
/// Close code when the server stops (the standard "going away").
pub const CLOSE_GOING_AWAY: u16 = 1001;
/// Close code when the key that opened the stream is revoked or expires; the reason says which.
/// A leaked key that is revoked stops streaming within [`KEY_CHECK_EVERY`].
pub const CLOSE_KEY_REVOKED: u16 = 4001;
/// How often a stream checks that its key still works.
const KEY_CHECK_EVERY: Duration = Duration::from_secs(2);
/// How often the server pings an idle connection.
const PING_EVERY: Duration = Duration::from_secs(20);
/// A frame the client does not take within this time ends the connection.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// Events read from the log per query while replaying.
const REPLAY_PAGE: i64 = 500;

/// Query of the stream.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Replay events with `seq` greater than this before streaming live ones. Omitted: live only.
    #[param(minimum = 0)]
    pub after: Option<i64>,
}

/// Stream events over a WebSocket. Needs `lightning:read`. Close code 4000 means the client fell
/// too far behind: reconnect with `?after=` the last `seq` received; 4001 means the key was
/// revoked or has expired.
#[utoipa::path(get, path = "/v1/events/ws", tag = "events", params(StreamQuery),
    responses((status = 101, description = "switching to the WebSocket protocol"),
        (status = "4XX", body = ErrorBody)))]
pub async fn events_ws(
    State(state): State<ApiState>,
    origin: OriginChecked,
    auth: Auth,
    ApiQuery(q): ApiQuery<StreamQuery>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    let _ = origin;
    auth.require(Permission::LightningRead)?;
    // The query first: a bad `after` is a 400 whether or not the request is an upgrade.
    let start = match q.after {
        Some(after) if after < 0 => {
            return Err(ApiError::bad_field(
                "after",
                "after must be 0 or a seq from an earlier event",
            ))
        }
        Some(after) => {
            // A seq this log never reached (another instance's, or a restored backup's) would
            // make the stream skip live events up to it: say so instead.
            let latest = state.app.events().latest().await?;
            if after > latest {
                return Err(ApiError::bad_field(
                    "after",
                    format!("after={after} is beyond the end of the event log (the latest seq is {latest}); resume from a seq this server sent, or 0 for everything"),
                ));
            }
            Some(after)
        }
        None => None,
    };
    let upgrade = upgrade.map_err(|e| {
        ApiError::new(
            ErrorCode::WebsocketRequired,
            format!("this endpoint speaks WebSocket only ({e})"),
        )
    })?;
    let app = state.app.clone();
    let key_id = auth.key.id.clone();
    Ok(upgrade
        .protocols(["bearer"])
        .on_upgrade(move |socket| session(socket, app, start, key_id)))
}

/// Refuses a browser `Origin` other than the API's own or the desktop webview's. Requests
/// without `Origin` (shop software, curl) pass: it is browsers this protects against.
pub struct OriginChecked;

impl FromRequestParts<ApiState> for OriginChecked {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let Some(origin) = parts.headers.get(header::ORIGIN) else {
            return Ok(OriginChecked);
        };
        let origin = origin.to_str().unwrap_or_default().to_ascii_lowercase();
        let own = parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(|host| format!("http://{}", host.to_ascii_lowercase()));
        if Some(&origin) == own.as_ref() || state.allowed_origins.contains(&origin) {
            Ok(OriginChecked)
        } else {
            Err(ApiError::new(
                ErrorCode::OriginNotAllowed,
                format!("WebSocket connections from the web origin '{origin}' are not allowed"),
            ))
        }
    }
}

async fn session(mut socket: WebSocket, app: Arc<App>, start: Option<i64>, key_id: String) {
    // Subscribe before replaying, so nothing committed during the replay is missed.
    let mut live = app.events().subscribe();
    let closing = app.closing();
    let mut last = match start {
        Some(after) => after,
        // Live only: start at the log's end.
        None => match app.events().latest().await {
            Ok(seq) => seq,
            Err(e) => {
                tracing::error!(error = %e, "reading the event log for a stream failed");
                return;
            }
        },
    };
    if start.is_some() && catch_up(&mut socket, &app, &mut last).await.is_err() {
        return;
    }
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut key_check = tokio::time::interval(KEY_CHECK_EVERY);
    key_check.tick().await;
    loop {
        tokio::select! {
            received = live.recv() => match received {
                Ok(record) if record.seq <= last => {}
                Ok(record) if record.seq == last + 1 => {
                    if send(&mut socket, &record).await.is_err() {
                        return;
                    }
                    last = record.seq;
                }
                // A jump: events committed by another task are still on their way; the log
                // has them already.
                Ok(_) => {
                    if catch_up(&mut socket, &app, &mut last).await.is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let reason = format!("too far behind; resume with ?after={last}");
                    close(&mut socket, CLOSE_BEHIND, reason).await;
                    return;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                // Pongs, and anything a client says: the stream is one-way.
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                let sent = tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Ping(Default::default()))).await;
                if !matches!(sent, Ok(Ok(()))) {
                    return;
                }
            }
            _ = closing.cancelled() => {
                close(&mut socket, CLOSE_GOING_AWAY, "the server is stopping".into()).await;
                return;
            }
            _ = key_check.tick() => {
                let reason = match app.keys().get(&key_id).await {
                    Ok(key) => match key.check_live(payaiml_core::util::now_ms()) {
                        Ok(()) => continue,
                        Err(failure) => failure.message(),
                    },
                    Err(payaiml_core::Error::NotFound { .. }) => AuthFailure::Revoked.message(),
                    // The database is busy or failing: check again at the next tick.
                    Err(_) => continue,
                };
                close(&mut socket, CLOSE_KEY_REVOKED, reason.into()).await;
                return;
            }
        }
    }
}

/// Sends everything in the log after `last`, advancing it.
async fn catch_up(socket: &mut WebSocket, app: &App, last: &mut i64) -> Result<(), ()> {
    loop {
        let batch = app.events().list(*last, REPLAY_PAGE).await.map_err(
            |e| tracing::error!(error = %e, "reading the event log for a stream failed"),
        )?;
        let full = batch.len() as i64 == REPLAY_PAGE;
        for record in &batch {
            send(socket, record).await?;
            *last = record.seq;
        }
        if !full {
            return Ok(());
        }
    }
}

async fn send(socket: &mut WebSocket, record: &EventRecord) -> Result<(), ()> {
    let text = serde_json::to_string(record).map_err(|_| ())?;
    match tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Text(text.into()))).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(()),
    }
}

async fn close(socket: &mut WebSocket, code: u16, reason: String) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Close(Some(frame)))).await;
}
