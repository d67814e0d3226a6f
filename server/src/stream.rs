//! One play: claim the data port, then send the file's bytes on schedule.

use std::net::IpAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, sleep_until, timeout};
use tokio_util::sync::CancellationToken;
use tracing::{debug, instrument};

use crate::pace::Pacer;
use crate::source::Source;

/// Bytes handed to the kernel at once when nothing paces the stream.
const UNPACED_CHUNK: usize = 1024 * 1024;

/// Everything one play needs, prepared by the `play` command before it answers.
#[derive(Debug)]
pub struct Play {
    /// The fresh data port.
    pub listener: TcpListener,
    /// The song file, opened before the reply so its size is known.
    pub file: std::fs::File,
    /// The file's size: exactly this many bytes are sent.
    pub size: u64,
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
enum StreamError {
    #[error("the data port was not claimed in time")]
    Unclaimed,
    #[error("the file ended after {sent} of {size} bytes")]
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
    let mut cfg = Sending {
        size: play.size,
        stall: play.stall_timeout,
        pacing: play.pacer.map(|pacer| Pacing::new(pacer, &play.file)),
    };
    let sent = send(play.file, &mut socket, &mut cfg, play.chunk_size).await?;
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

struct Sending {
    size: u64,
    stall: Duration,
    pacing: Option<Pacing>,
}

/// A paced stream's pacer, and what it reads the octets it times through.
struct Pacing {
    pacer: Pacer,
    /// A second handle on the song file, read with positioned reads (the stream itself goes
    /// out with `sendfile`, which never shows the octets), when the pacer must see them.
    peek: Option<std::fs::File>,
    /// Octets fed to the pacer so far.
    fed: u64,
}

/// Octets read for a pacer at most at once (a paced chunk is 16 KiB).
const PEEK: usize = 64 * 1024;

thread_local! {
    /// One buffer per worker thread for the octets a pacer reads: it is read and fed with no
    /// `await` between, so streams need no buffer of their own (1,000 streams would hold
    /// 16 MB).
    static SCRATCH: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0; PEEK]);
}

impl Pacing {
    fn new(pacer: Pacer, file: &std::fs::File) -> Self {
        // Without a second handle the pacer learns nothing: the stream then goes unpaced.
        let peek = pacer
            .needs_octets()
            .then(|| file.try_clone().ok())
            .flatten();
        Self {
            pacer,
            peek,
            fed: 0,
        }
    }

    /// When the octets from `offset` to `end` may start to go out, after the stream's start.
    /// Reads them for the pacer first where it needs them (from the page cache, just before
    /// `sendfile` copies them from there too).
    fn due(&mut self, offset: u64, end: u64) -> Duration {
        while let Some(peek) = self.peek.as_ref().filter(|_| self.fed < end) {
            let want = usize::try_from(end - self.fed).unwrap_or(PEEK).min(PEEK);
            let read = SCRATCH.with_borrow_mut(|buf| {
                let n = tapedeck_media::read::read_full(peek, &mut buf[..want], self.fed)?;
                self.pacer.feed(&buf[..n]);
                Ok::<_, std::io::Error>(n)
            });
            match read {
                Ok(n) if n > 0 => self.fed += n as u64,
                // The file ended or failed: the pacer learns no more (the rest goes unpaced).
                _ => self.peek = None,
            }
        }
        self.pacer.due(offset)
    }
}

async fn send(
    file: std::fs::File,
    socket: &mut TcpStream,
    cfg: &mut Sending,
    chunk: usize,
) -> Result<u64, StreamError> {
    let start = Instant::now();
    let mut source = Source::new(file);
    let chunk = if cfg.pacing.is_some() {
        chunk.max(1)
    } else {
        UNPACED_CHUNK
    };
    let mut sent = 0u64;
    while sent < cfg.size {
        let want = usize::try_from(cfg.size - sent)
            .unwrap_or(usize::MAX)
            .min(chunk);
        if let Some(pacing) = &mut cfg.pacing {
            // Only sleep when ahead: tokio rounds a timer up to the next millisecond, so even
            // a deadline already passed would delay the burst (and the first byte) by up to 1 ms.
            let due = start + pacing.due(sent, sent + want as u64);
            if due > Instant::now() {
                sleep_until(due).await;
            }
        }
        let n = timeout(cfg.stall, source.send(socket, want))
            .await
            .map_err(|_| StreamError::Stalled)??;
        if n == 0 {
            return Err(StreamError::Truncated {
                sent,
                size: cfg.size,
            });
        }
        sent += n as u64;
    }
    Ok(sent)
}
