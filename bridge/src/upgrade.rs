//! The `/ws` endpoint: checks the Origin and the session cap before upgrading, and sets every
//! WebSocket buffer explicitly.

use std::sync::Arc;

use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::{HeaderMap, StatusCode, header::ORIGIN};
use axum::response::{IntoResponse, Response};
use tracing::{debug, warn};

use crate::Shared;
use crate::data::CHUNK;
use crate::replies::MAX_REPLY_LEN;

/// Bytes the WebSocket reads from the socket at a time. tungstenite's default (128 KiB, since
/// 0.25 allocated eagerly per connection) would dwarf an idle session's other state.
const READ_BUFFER: usize = 4 * 1024;
/// The largest message a browser may send. Commands are at most 1 KiB (longer ones get an
/// error reply); anything beyond this is a protocol violation and closes the WebSocket (1009).
const MAX_INCOMING: usize = 64 * 1024;
/// The most a session may have serialised but not yet written: one maximal reply and a chunk
/// of audio. tungstenite's default is unlimited.
const MAX_WRITE_BUFFER: usize = MAX_REPLY_LEN + 2 * CHUNK;

pub async fn websocket(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if crate::auth::foreign_origin(&shared.config, &headers) {
        warn!(origin = ?headers.get(ORIGIN), "WebSocket refused: foreign origin");
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    let Ok(permit) = shared.sessions.clone().try_acquire_owned() else {
        warn!("WebSocket refused: too many sessions");
        return (StatusCode::SERVICE_UNAVAILABLE, "too many sessions").into_response();
    };
    // Signed in before upgrading: a browser without a session gets 401, not a WebSocket.
    let control = match crate::auth::sign_in(&shared.config, &headers).await {
        Ok(signed) => signed.control,
        Err(refused) => {
            debug!(%refused, "WebSocket refused");
            return crate::login::refusal(&refused);
        }
    };
    upgrade
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_write_buffer_size(MAX_WRITE_BUFFER)
        .max_message_size(MAX_INCOMING)
        .max_frame_size(MAX_INCOMING)
        .on_upgrade(move |socket| {
            let session = crate::session::run(socket, shared.clone(), control);
            shared.tracker.track_future(async move {
                session.await;
                drop(permit);
            })
        })
}
