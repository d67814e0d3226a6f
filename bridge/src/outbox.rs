//! Everything a session sends its browser goes through one bounded queue and one writer, so
//! messages keep their order; audio of a superseded play is dropped at the last moment.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use bytes::Bytes;
use futures_util::SinkExt;
use futures_util::stream::SplitSink;
use tapedeck_protocol::Event;
use tokio::sync::mpsc;
use tokio::time::timeout;

/// Messages waiting for the browser, at most. With audio chunks of at most 64 KiB this bounds
/// a session's queued audio to 256 KiB, and it is what makes the data port read only as fast
/// as the browser takes the bytes.
pub const OUT_QUEUE: usize = 4;

/// One message for the browser.
#[derive(Debug)]
pub enum Out {
    /// A reply, or an event of the session itself: always sent.
    Text(String),
    /// Audio of the play of this generation.
    Audio(u64, Bytes),
    /// An event of the play of this generation.
    PlayEvent(u64, Event),
    /// Close the WebSocket, after everything queued before.
    Close(u16, &'static str),
}

/// The generation of the current play: bumped whenever the browser sends `play`, `stop` or
/// `quit`, the moment from which earlier audio is unwanted.
#[derive(Debug, Clone, Default)]
pub struct Generation(Arc<AtomicU64>);

impl Generation {
    pub fn current(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }

    /// Starts a new generation and returns it.
    pub fn bump(&self) -> u64 {
        self.0.fetch_add(1, Ordering::SeqCst) + 1
    }
}

/// Why the writer stopped.
#[derive(Debug, thiserror::Error)]
pub enum WriteEnd {
    #[error("the session closed the WebSocket")]
    Closed,
    #[error("the browser took nothing for too long")]
    Stalled,
    #[error("the WebSocket failed: {0}")]
    Failed(#[from] axum::Error),
}

/// Sends queued messages in order until the queue closes, a `Close` is sent, or the browser
/// fails or stalls. Audio and play events of an old generation are dropped, never sent.
pub async fn write(
    mut sink: SplitSink<WebSocket, Message>,
    mut queue: mpsc::Receiver<Out>,
    generation: Generation,
    stall: Duration,
) -> WriteEnd {
    while let Some(out) = queue.recv().await {
        let message = match out {
            Out::Text(text) => Message::Text(text.into()),
            Out::Audio(play, bytes) if play == generation.current() => Message::Binary(bytes),
            Out::PlayEvent(play, event) if play == generation.current() => {
                Message::Text(event.to_string().into())
            }
            Out::Audio(..) | Out::PlayEvent(..) => continue,
            Out::Close(code, reason) => {
                let frame = CloseFrame {
                    code,
                    reason: reason.into(),
                };
                let _ = timeout(stall, sink.send(Message::Close(Some(frame)))).await;
                return WriteEnd::Closed;
            }
        };
        match timeout(stall, sink.send(message)).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => return WriteEnd::Failed(err),
            Err(_) => return WriteEnd::Stalled,
        }
    }
    WriteEnd::Closed
}
