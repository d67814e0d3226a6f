//! One play: claim the data port, then send the file's bytes on schedule.

use std::net::IpAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;
use tracing::{debug, instrument};

use crate::body::Body;
use crate::pace::Pacer;
use crate::send::Sending;

/// Everything one play needs, prepared by the `play` command before it answers.
#[derive(Debug)]
pub struct Play {
    /// The fresh data port.
    pub listener: TcpListener,
    /// What to send: the song file, or a stream planned from it (a play from a position).
    pub body: Body,
    /// The token the client must present.
    pub token: String,
    /// The control connection's peer: only it may claim the port.
    pub peer: IpAddr,
    /// When bytes may go out; `None` is as fast as the peer reads.
    pub pacer: Option<Pacer>,
    /// How long the port waits to be claimed.
    pub claim_timeout: Duration,
    /// How long one write may wait for the peer.
    pub stall_timeout: Duration,
    /// Bytes per paced write.
    pub chunk_size: usize,
}

/// How a stream ended.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("the data port was not claimed in time")]
    Unclaimed,
    #[error("the file ended after {sent} of {size} octets")]
    Truncated { sent: u64, size: u64 },
    #[error("the client did not take the data for too long")]
    Stalled,
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Runs the play until it completes, fails or `cancel` fires. Never panics; logs its own end.
#[instrument(skip_all, fields(song = song))]
pub async fn run(play: Play, song: u32, cancel: CancellationToken) {
    tokio::select! {
        biased;
        () = cancel.cancelled() => debug!("stream stopped"),
        result = serve(play) => match result {
            Ok(sent) => debug!(sent, "stream complete"),
            Err(err) => debug!(error = %err, "stream ended early"),
        },
    }
}

async fn serve(play: Play) -> Result<u64, StreamError> {
    let claimed = crate::claim::claim(play.listener, play.peer, &play.token, play.claim_timeout);
    let mut socket = claimed.await.ok_or(StreamError::Unclaimed)?;
    socket.set_nodelay(true)?;
    let sending = Sending {
        stall: play.stall_timeout,
        chunk: play.chunk_size,
    };
    let sent = crate::send::send(&play.body, play.pacer, &mut socket, &sending).await?;
    let _ = timeout(play.stall_timeout, socket.shutdown()).await;
    linger(&mut socket).await;
    Ok(sent)
}

/// How long a finished stream waits for the client to close its side.
const LINGER: Duration = Duration::from_secs(2);

/// After the last octet and the FIN: reads and discards whatever the client sent (PROTOCOL.md
/// 7.2 lets it send anything) until it closes, for at most [`LINGER`]. Closing a socket with
/// unread input makes the kernel reset the connection and drop what it has not yet sent, so
/// the client would lose the end of its song.
async fn linger(socket: &mut TcpStream) {
    // On the heap, and only now: an array here would sit in every stream task's future.
    let mut sink = vec![0u8; 4096];
    let _ = timeout(LINGER, async {
        while matches!(socket.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
}
