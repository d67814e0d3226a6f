//! Sending a play's octets: the parts of its body in order, the file's ranges with `sendfile`
//! on Linux, each chunk when the pacer says it is due.

use std::time::Duration;

use tapedeck_media::seek::Part;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep_until, timeout};

use crate::body::Body;
use crate::pace::Pacer;
use crate::source::Source;
use crate::stream::StreamError;

/// Octets handed to the kernel at once when nothing paces the stream.
const UNPACED_CHUNK: usize = 1024 * 1024;

/// Octets read for a pacer at most at once (a paced chunk is 16 KiB).
const PEEK: usize = 64 * 1024;

thread_local! {
    /// One buffer per worker thread for the octets a pacer reads: it is read and fed with no
    /// `await` between, so streams need no buffer of their own (1,000 streams would hold
    /// 16 MB).
    static SCRATCH: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0; PEEK]);
}

/// How a play is sent.
#[derive(Debug, Clone, Copy)]
pub struct Sending {
    /// How long one write may wait for the peer.
    pub stall: Duration,
    /// Octets per paced write.
    pub chunk: usize,
}

/// Sends `body` to `socket`, paced by `pacer` if there is one; returns the octets sent.
pub async fn send(
    body: &Body,
    pacer: Option<Pacer>,
    socket: &mut TcpStream,
    how: &Sending,
) -> Result<u64, StreamError> {
    let mut pacing = pacer.map(|pacer| Pacing {
        pacer,
        fed: 0,
        learning: true,
    });
    let chunk = if pacing.is_some() {
        how.chunk.max(1)
    } else {
        UNPACED_CHUNK
    };
    let (start, size) = (Instant::now(), body.len());
    let mut sent = 0u64;
    for part in &body.parts {
        let mut out = Out::new(part, body)?;
        let end = sent + part.len();
        while sent < end {
            let want = usize::try_from(end - sent).unwrap_or(usize::MAX).min(chunk);
            if let Some(pacing) = &mut pacing {
                // Only sleep when ahead: tokio rounds a timer up to the next millisecond, so
                // even a deadline already passed would delay the first octet by up to 1 ms.
                let due = start + pacing.due(body, sent, sent + want as u64);
                if due > Instant::now() {
                    sleep_until(due).await;
                }
            }
            let n = timeout(how.stall, out.send(socket, want))
                .await
                .map_err(|_| StreamError::Stalled)??;
            if n == 0 {
                return Err(StreamError::Truncated { sent, size });
            }
            sent += n as u64;
        }
    }
    Ok(sent)
}

/// Where one part's octets come from.
enum Out<'a> {
    Made { bytes: &'a [u8], at: usize },
    File(Source),
}

impl<'a> Out<'a> {
    fn new(part: &'a Part, body: &Body) -> std::io::Result<Self> {
        Ok(match part {
            Part::Made(bytes) => Out::Made { bytes, at: 0 },
            Part::File(range) => Out::File(Source::new(body.file()?.try_clone()?, range.start)?),
        })
    }

    /// Sends up to `max` of the next octets; how many went, 0 if the file ended.
    async fn send(&mut self, socket: &mut TcpStream, max: usize) -> std::io::Result<usize> {
        match self {
            Out::Made { bytes, at } => {
                let piece = &bytes[*at..(*at + max).min(bytes.len())];
                socket.write_all(piece).await?;
                *at += piece.len();
                Ok(piece.len())
            }
            Out::File(source) => source.send(socket, max).await,
        }
    }
}

/// A paced stream's pacer, fed the body's octets just before they go out.
struct Pacing {
    pacer: Pacer,
    /// Octets fed to the pacer so far.
    fed: u64,
    /// Whether the pacer still learns: a read that fails or ends stops it (the rest then goes
    /// unpaced).
    learning: bool,
}

impl Pacing {
    /// When the octets from `offset` to `end` may start to go out, after the stream's start.
    /// Reads them for the pacer first where it needs them (from the page cache, just before
    /// `sendfile` copies them from there too).
    fn due(&mut self, body: &Body, offset: u64, end: u64) -> Duration {
        while self.learning && self.pacer.needs_octets() && self.fed < end {
            let want = usize::try_from(end - self.fed).unwrap_or(PEEK).min(PEEK);
            let read = SCRATCH.with_borrow_mut(|buf| {
                let n = tapedeck_media::read::read_full(body, &mut buf[..want], self.fed)?;
                self.pacer.feed(&buf[..n]);
                Ok::<_, std::io::Error>(n)
            });
            match read {
                Ok(n) if n > 0 => self.fed += n as u64,
                _ => self.learning = false,
            }
        }
        self.pacer.due(offset)
    }
}
