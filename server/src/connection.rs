//! One control connection: reads command lines, answers each in order, and keeps the session's
//! stream going alongside. Commands are never blocked behind audio: streams run in their own
//! tasks.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tapedeck_protocol::{Command, Event, LineBuffer, MAX_LINE_LEN, Reply};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until, timeout};
use tokio_util::sync::CancellationToken;
use tracing::{debug, instrument};

use crate::session::{Answer, Session};
use crate::shared::Shared;

/// Room for small replies; large rendered replies (`info`) bypass the buffer.
const WRITE_BUFFER: usize = 2048;

/// Why a connection ended. Only for the log: the client was told where it could be.
#[derive(Debug)]
#[expect(dead_code, reason = "the fields are read through Debug, in the log")]
enum End {
    ClientClosed,
    Quit,
    LineTooLong,
    IdleTimeout,
    LineTimeout,
    Shutdown,
    SignedOut,
    Io(io::Error),
}

struct Connection {
    reader: OwnedReadHalf,
    writer: BufWriter<OwnedWriteHalf>,
    lines: LineBuffer,
    session: Session,
    shared: Arc<Shared>,
    /// When the last command arrived (for the idle timeout).
    last_command: Instant,
    /// When the unfinished line in `lines` began (for the line timeout).
    partial_since: Option<Instant>,
    /// Changes of the library, told to the client between replies; `None` once the server
    /// stops making them.
    changes: Option<watch::Receiver<u64>>,
}

/// Serves one client until it leaves, misbehaves, idles out or the server shuts down; then
/// stops its stream and releases everything it held.
#[instrument(skip_all, fields(peer = %peer))]
pub async fn serve(
    socket: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    cancel: CancellationToken,
) {
    let local = match socket.local_addr() {
        Ok(local) => local,
        Err(err) => return debug!(error = %err, "connection lost before it started"),
    };
    let _ = socket.set_nodelay(true);
    let (reader, writer) = socket.into_split();
    let mut conn = Connection {
        reader,
        writer: BufWriter::with_capacity(WRITE_BUFFER, writer),
        lines: LineBuffer::new(MAX_LINE_LEN),
        session: Session::new(shared.clone(), peer, local, cancel.clone()),
        changes: Some(shared.library_changes()),
        shared,
        last_command: Instant::now(),
        partial_since: None,
    };
    let end = tokio::select! {
        end = conn.run() => end,
        () = cancel.cancelled() => End::Shutdown,
    };
    conn.session.close().await;
    conn.farewell(&end).await;
    debug!(?end, "connection closed");
}

impl Connection {
    async fn run(&mut self) -> End {
        let mut buf = [0u8; MAX_LINE_LEN + 2];
        loop {
            if let Err(end) = self.answer_complete_lines().await {
                return end;
            }
            let deadline = self.deadline();
            let room = self.lines.room().min(buf.len());
            let session_ended = self.session.sign_in.ended();
            tokio::select! {
                () = ended(session_ended) => return End::SignedOut,
                read = self.reader.read(&mut buf[..room]) => match read {
                    Ok(0) => return End::ClientClosed,
                    Ok(n) => self.received(&buf[..n]),
                    Err(err) => return End::Io(err),
                },
                () = sleep_until(deadline) => {
                    if let Some(end) = self.timed_out() {
                        return end;
                    }
                }
                changed = changed(&mut self.changes) => match changed {
                    // Nothing of the library reaches a client that may not see it yet.
                    Ok(()) if !self.session.sign_in.allows(&self.shared.accounts) => {}
                    Ok(()) => {
                        if let Err(err) = self.tell(&Event::LibraryChanged).await {
                            return End::Io(err);
                        }
                    }
                    Err(_) => self.changes = None,
                },
            }
        }
    }

    fn received(&mut self, bytes: &[u8]) {
        self.lines.push(bytes);
        self.partial_since.get_or_insert_with(Instant::now);
    }

    /// The next moment something times out, if nothing arrives before.
    fn deadline(&self) -> Instant {
        let config = &self.shared.config;
        let idle = self.last_command + config.idle_timeout;
        match self.partial_since {
            Some(since) => idle.min(since + config.line_timeout),
            None => idle,
        }
    }

    /// Decides what a passed deadline means; a playing client is not idle.
    fn timed_out(&mut self) -> Option<End> {
        let now = Instant::now();
        let config = &self.shared.config;
        if self
            .partial_since
            .is_some_and(|since| now >= since + config.line_timeout)
        {
            return Some(End::LineTimeout);
        }
        if self.session.is_streaming() {
            self.last_command = now;
            return None;
        }
        (now >= self.last_command + config.idle_timeout).then_some(End::IdleTimeout)
    }

    /// Answers every complete line received so far, in order, then flushes once: pipelined
    /// commands get their replies in one write.
    async fn answer_complete_lines(&mut self) -> Result<(), End> {
        let mut answered = false;
        loop {
            let line = match self.lines.next_line() {
                Ok(Some(line)) => line,
                Ok(None) => break,
                Err(_) => return Err(End::LineTooLong),
            };
            answered = true;
            self.last_command = Instant::now();
            let quit = self.answer(&line).await.map_err(End::Io)?;
            if quit {
                return Err(End::Quit);
            }
        }
        if !self.lines.has_partial_line() {
            self.partial_since = None;
        } else if answered {
            self.partial_since = Some(Instant::now());
        }
        if answered {
            self.flush().await.map_err(End::Io)?;
        }
        Ok(())
    }

    /// Answers one line; `true` when the client said `quit`.
    async fn answer(&mut self, line: &[u8]) -> io::Result<bool> {
        let (answer, quit) = match Command::parse(line) {
            Ok(command) => {
                let quit = command == Command::Quit;
                (self.session.handle(command).await, quit)
            }
            Err(err) => (Answer::Reply(Reply::Error(err.to_string())), false),
        };
        let write = async {
            match &answer {
                Answer::Rendered(text) => self.writer.write_all(text.as_bytes()).await?,
                Answer::Reply(reply) => self.writer.write_all(reply.to_string().as_bytes()).await?,
            }
            self.writer.write_all(b"\n").await
        };
        timeout(self.shared.config.stall_timeout, write)
            .await
            .map_err(stalled)??;
        Ok(quit)
    }

    /// Sends an event line (PROTOCOL.md 6.6), between replies.
    async fn tell(&mut self, event: &Event) -> io::Result<()> {
        let line = format!("{event}\n");
        timeout(
            self.shared.config.stall_timeout,
            self.writer.write_all(line.as_bytes()),
        )
        .await
        .map_err(stalled)??;
        self.flush().await
    }

    async fn flush(&mut self) -> io::Result<()> {
        timeout(self.shared.config.stall_timeout, self.writer.flush())
            .await
            .map_err(stalled)?
    }

    /// Tells the client why the server is closing, where there is something to tell.
    async fn farewell(&mut self, end: &End) {
        let reason = match end {
            End::Quit => "",
            End::LineTooLong => "error line too long\n",
            End::IdleTimeout => "error idle timeout\n",
            End::LineTimeout => "error line timeout\n",
            End::Shutdown => "error server shutting down\n",
            End::SignedOut => "error signed out\n",
            End::ClientClosed | End::Io(_) => return,
        };
        let goodbye = async {
            self.writer.write_all(reason.as_bytes()).await?;
            self.writer.flush().await?;
            self.writer.shutdown().await
        };
        let _ = timeout(std::time::Duration::from_secs(1), goodbye).await;
    }
}

/// When the session signed in with ends; never, without one.
async fn ended(session: Option<CancellationToken>) {
    match session {
        Some(token) => token.cancelled().await,
        None => std::future::pending().await,
    }
}

/// The next change of the library; never, once changes have ended.
async fn changed(
    changes: &mut Option<watch::Receiver<u64>>,
) -> Result<(), watch::error::RecvError> {
    match changes {
        Some(changes) => changes.changed().await,
        None => std::future::pending().await,
    }
}

fn stalled(_: tokio::time::error::Elapsed) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "the client stopped reading")
}
