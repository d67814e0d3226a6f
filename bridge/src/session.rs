//! One WebSocket session: one control connection to the server, opened when the WebSocket
//! opens and closed when either side goes away, and the data connection of the current play.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::WebSocket;
use futures_util::StreamExt;
use futures_util::future::{FusedFuture, FutureExt};
use tapedeck_protocol::Event;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::timeout;
use tracing::{debug, instrument};

use crate::Shared;
use crate::browser::{self, BrowserEnd, MAX_PENDING};
use crate::outbox::{self, Generation, OUT_QUEUE, Out};
use crate::replies::{Replies, ServerEnd};

/// Close codes (RFC 6455 and the IANA registry).
const NORMAL: u16 = 1000;
const GOING_AWAY: u16 = 1001;
/// "Try Again Later": the server behind the bridge is unreachable or went away. (1014, "Bad
/// Gateway", would say it more exactly, but RFC 6455 stacks such as tungstenite reject it.)
const TRY_AGAIN_LATER: u16 = 1013;
/// "Message Too Big": the browser sent more than the mapping allows in one message.
const MESSAGE_TOO_BIG: u16 = 1009;

/// How long a closing session waits for the browser to acknowledge the close.
const CLOSING_HANDSHAKE: Duration = Duration::from_secs(1);

/// Runs a session until the browser or the server goes away, or the bridge shuts down.
#[instrument(skip_all)]
pub async fn run(socket: WebSocket, shared: Arc<Shared>, control: TcpStream) {
    let config = &shared.config;
    let (sink, stream) = socket.split();
    let (out, queue) = mpsc::channel(OUT_QUEUE);
    let generation = Generation::default();
    let writer = outbox::write(sink, queue, generation.clone(), config.stall_timeout);
    tokio::pin!(writer);
    let (reader, writer_half) = control.into_split();
    let (pending_tx, pending_rx) = mpsc::channel(MAX_PENDING);
    let browser = browser::pump(
        stream,
        writer_half,
        pending_tx,
        out.clone(),
        generation,
        config.stall_timeout,
    )
    .fuse();
    let replies = Replies::new(
        reader,
        pending_rx,
        out.clone(),
        config.server.ip(),
        config.connect_timeout,
        config.max_reply_len,
    );
    tokio::pin!(browser);
    let closing = tokio::select! {
        end = &mut browser => match end {
            BrowserEnd::Gone => return debug!("browser left"),
            BrowserEnd::ServerGone => (TRY_AGAIN_LATER, "server connection lost"),
            BrowserEnd::TooBig => (MESSAGE_TOO_BIG, "message too big"),
        },
        end = replies.run() => match end {
            ServerEnd::Quit => (NORMAL, "bye"),
            ServerEnd::BrowserGone => return debug!("browser left"),
            ServerEnd::Closed | ServerEnd::Broken => (TRY_AGAIN_LATER, "server connection lost"),
        },
        end = &mut writer => return debug!(%end, "session ended"),
        () = shared.cancel.cancelled() => (GOING_AWAY, "bridge shutting down"),
    };
    close(out, writer, closing.0, closing.1).await;
    // The closing handshake: read on until the browser's own Close, so the socket is not
    // dropped with unread data (which would reset it before the browser reads our Close).
    // Unless the browser side has ended already (the server went away, or a message was
    // too big): a finished future must not be polled again.
    if !browser.is_terminated() {
        let _ = timeout(CLOSING_HANDSHAKE, browser).await;
    }
}

/// Tells the browser why (an error event, unless the close is normal), closes the WebSocket
/// with `code`, and waits a moment for the writer to get it out.
async fn close(
    out: mpsc::Sender<Out>,
    writer: std::pin::Pin<&mut impl std::future::Future<Output = outbox::WriteEnd>>,
    code: u16,
    reason: &'static str,
) {
    // The queue may be full of audio: send while the writer drains it, not before.
    let messages = async move {
        if code != NORMAL {
            let _ = out
                .send(Out::Text(Event::Error(reason.into()).to_string()))
                .await;
        }
        let _ = out.send(Out::Close(code, reason)).await;
    };
    let _ = timeout(CLOSING_HANDSHAKE, async { tokio::join!(messages, writer) }).await;
    debug!(code, reason, "session closed");
}
