//! One WebSocket session: one control connection to the server, opened when the WebSocket
//! opens and closed when either side goes away, and the data connection of the current play.

use std::sync::Arc;

use axum::extract::ws::WebSocket;
use futures_util::StreamExt;
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
/// "Bad Gateway": the server behind the bridge is unreachable or went away.
const BAD_GATEWAY: u16 = 1014;

/// Runs a session until the browser or the server goes away, or the bridge shuts down.
#[instrument(skip_all)]
pub async fn run(socket: WebSocket, shared: Arc<Shared>) {
    let config = &shared.config;
    let (sink, stream) = socket.split();
    let (out, queue) = mpsc::channel(OUT_QUEUE);
    let generation = Generation::default();
    let writer = outbox::write(sink, queue, generation.clone(), config.stall_timeout);
    tokio::pin!(writer);
    let control = match timeout(config.connect_timeout, TcpStream::connect(config.server)).await {
        Ok(Ok(control)) => control,
        _ => return close(out, writer, BAD_GATEWAY, "server unavailable").await,
    };
    let _ = control.set_nodelay(true);
    let (reader, writer_half) = control.into_split();
    let (pending_tx, pending_rx) = mpsc::channel(MAX_PENDING);
    let browser = browser::pump(stream, writer_half, pending_tx, out.clone(), generation, config.stall_timeout);
    let replies = Replies::new(reader, pending_rx, out.clone(), config.server.ip(), config.connect_timeout);
    tokio::select! {
        end = browser => match end {
            BrowserEnd::Gone => debug!("browser left"),
            BrowserEnd::ServerGone => close(out, writer, BAD_GATEWAY, "server connection lost").await,
        },
        end = replies.run() => match end {
            ServerEnd::Quit => close(out, writer, NORMAL, "bye").await,
            ServerEnd::BrowserGone => debug!("browser left"),
            ServerEnd::Closed | ServerEnd::Broken => {
                close(out, writer, BAD_GATEWAY, "server connection lost").await;
            }
        },
        end = &mut writer => debug!(%end, "session ended"),
        () = shared.cancel.cancelled() => close(out, writer, GOING_AWAY, "bridge shutting down").await,
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
            let _ = out.send(Out::Text(Event::Error(reason.into()).to_string())).await;
        }
        let _ = out.send(Out::Close(code, reason)).await;
    };
    let _ = timeout(std::time::Duration::from_secs(1), async { tokio::join!(messages, writer) }).await;
    debug!(code, reason, "session closed");
}
