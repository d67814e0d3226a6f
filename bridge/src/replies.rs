//! Server to browser: each reply line goes to the browser as a text message, in command order;
//! the bridge answers its own rejections in that same order, and a `port` reply starts the
//! play's data pump.

use std::collections::VecDeque;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::time::Duration;

use tapedeck_protocol::{Command, Event, Reply};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::net::tcp::OwnedReadHalf;
use tokio::sync::mpsc;

use crate::browser::{MAX_PENDING, Pending};
use crate::data::{self, Claim};
use crate::outbox::Out;

/// The longest reply line the bridge forwards (an `info` of about 50,000 songs); a longer one
/// is answered as an error in its place (PROTOCOL.md 16.3). [`crate::Config::max_reply_len`]
/// may lower it.
pub const MAX_REPLY_LEN: usize = 16 << 20;

/// Why the server side ended.
#[derive(Debug)]
pub enum ServerEnd {
    /// The server closed the control connection (crash, restart, shutdown, idle timeout).
    Closed,
    /// The browser said `quit` and the server said `bye`.
    Quit,
    /// The server broke the connection, or sent a line nothing asked for over the limit.
    Broken,
    /// The browser side is gone.
    BrowserGone,
}

type PlayFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The server side of one session.
pub struct Replies {
    reader: BufReader<OwnedReadHalf>,
    /// Entries from the browser side, in the order the browser sent them.
    incoming: mpsc::Receiver<Pending>,
    /// Messages awaiting their reply, oldest first.
    pending: VecDeque<Pending>,
    out: mpsc::Sender<Out>,
    /// The configured server's address: data ports are claimed there and nowhere else.
    server: IpAddr,
    connect_timeout: Duration,
    /// The current play's data pump; dropping it closes the data connection.
    play: Option<PlayFuture>,
    /// The longest reply forwarded.
    limit: usize,
    /// Whether the rest of an over-long reply is being read and dropped.
    discarding: bool,
}

impl Replies {
    pub fn new(
        reader: OwnedReadHalf,
        incoming: mpsc::Receiver<Pending>,
        out: mpsc::Sender<Out>,
        server: IpAddr,
        connect_timeout: Duration,
        limit: usize,
    ) -> Self {
        let reader = BufReader::new(reader);
        let pending = VecDeque::new();
        Self {
            reader,
            incoming,
            pending,
            out,
            server,
            connect_timeout,
            play: None,
            limit: limit.min(MAX_REPLY_LEN),
            discarding: false,
        }
    }

    pub async fn run(mut self) -> ServerEnd {
        let mut line = Vec::new();
        loop {
            let step = tokio::select! {
                read = read_reply(&mut self.reader, &mut line, self.limit, &mut self.discarding) => {
                    match read {
                        Ok(Read::Line) => self.on_reply(std::mem::take(&mut line)).await,
                        Ok(Read::Dropped) => self.on_too_long().await,
                        Ok(Read::End) => Err(ServerEnd::Closed),
                        Err(_) => Err(ServerEnd::Broken),
                    }
                },
                entry = self.incoming.recv(), if self.pending.len() < MAX_PENDING => match entry {
                    Some(entry) => {
                        self.pending.push_back(entry);
                        self.answer_local().await
                    }
                    None => Err(ServerEnd::BrowserGone),
                },
                () = poll_play(&mut self.play), if self.play.is_some() => {
                    self.play = None;
                    Ok(())
                }
            };
            if let Err(end) = step {
                return end;
            }
        }
    }

    /// Handles one reply line. `Err` ends the session, saying why (so do the other steps).
    async fn on_reply(&mut self, mut line: Vec<u8>) -> Result<(), ServerEnd> {
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        let Ok(line) = String::from_utf8(line) else {
            return Err(ServerEnd::Broken);
        };
        // An event of the server's (PROTOCOL.md 6.6) answers nothing: forwarded as it is.
        if Event::parse(&line).is_some() {
            return self.send(Out::Text(line)).await;
        }
        self.catch_up().await?;
        let Some(Pending::Server {
            command,
            generation,
        }) = self.pending.pop_front()
        else {
            return self.unprompted(line).await;
        };
        if command.as_ref().is_some_and(Command::ends_play) {
            self.play = None;
        }
        // The replies the bridge acts on are parsed, once, knowing the command they answer;
        // the others (`info` can be megabytes) are forwarded unread.
        let reply = command
            .filter(|c| matches!(c, Command::Play(..) | Command::Quit))
            .and_then(|c| Reply::parse(&c, &line).ok());
        let quit = reply == Some(Reply::Bye);
        if let Some(Reply::Port {
            port, token, bytes, ..
        }) = reply
        {
            let claim = Claim {
                addr: SocketAddr::new(self.server, port),
                token,
                bytes,
                generation,
            };
            self.play = Some(Box::pin(data::pump(
                claim,
                self.out.clone(),
                self.connect_timeout,
            )));
        }
        self.send(Out::Text(line)).await?;
        if quit {
            return Err(ServerEnd::Quit);
        }
        self.answer_local().await
    }

    /// A reply over the limit, read and dropped: its command is answered with an error in its
    /// place, and the session goes on.
    async fn on_too_long(&mut self) -> Result<(), ServerEnd> {
        self.catch_up().await?;
        let Some(Pending::Server { command, .. }) = self.pending.pop_front() else {
            return Err(ServerEnd::Broken);
        };
        if command.as_ref().is_some_and(Command::ends_play) {
            self.play = None;
        }
        let reason = format!("reply too large (over {} octets)", self.limit);
        self.send(Out::Text(Reply::Error(reason).to_string()))
            .await?;
        self.answer_local().await
    }

    /// A line that answers no command: the server's last words before it closes.
    async fn unprompted(&mut self, line: String) -> Result<(), ServerEnd> {
        let reason = line.strip_prefix("error ").unwrap_or(&line);
        self.send(Out::Text(Event::Error(reason.to_owned()).to_string()))
            .await
    }

    /// Takes entries already queued until one awaits a server reply: the browser side queues
    /// an entry before it writes its line, so a reply's entry is always queued by then.
    async fn catch_up(&mut self) -> Result<(), ServerEnd> {
        loop {
            self.answer_local().await?;
            if !self.pending.is_empty() {
                return Ok(());
            }
            match self.incoming.try_recv() {
                Ok(entry) => self.pending.push_back(entry),
                Err(_) => return Ok(()),
            }
        }
    }

    /// Answers the bridge's own rejections that are now first in line.
    async fn answer_local(&mut self) -> Result<(), ServerEnd> {
        while let Some(Pending::Local(_)) = self.pending.front() {
            if let Some(Pending::Local(reply)) = self.pending.pop_front() {
                self.send(Out::Text(reply.to_string())).await?;
            }
        }
        Ok(())
    }

    async fn send(&mut self, out: Out) -> Result<(), ServerEnd> {
        self.out.send(out).await.map_err(|_| ServerEnd::BrowserGone)
    }
}

/// What reading a reply line gave.
enum Read {
    /// A whole line, in the buffer.
    Line,
    /// A line over the limit, read to its end and dropped.
    Dropped,
    /// The server closed the connection between lines.
    End,
}

/// Reads one reply line of at most `limit` octets into `line`; a longer one is read to its
/// end and dropped (`discarding` says one is being dropped). Cancel-safe: a partial line stays
/// in `line`, and a drop in progress goes on at the next call.
async fn read_reply(
    reader: &mut BufReader<OwnedReadHalf>,
    line: &mut Vec<u8>,
    limit: usize,
    discarding: &mut bool,
) -> std::io::Result<Read> {
    if !*discarding {
        let room = (limit + 1).saturating_sub(line.len()) as u64;
        let n = (&mut *reader).take(room).read_until(b'\n', line).await?;
        if line.last() == Some(&b'\n') {
            return Ok(Read::Line);
        }
        if n == 0 && line.is_empty() {
            return Ok(Read::End);
        }
        if line.len() <= limit {
            return Err(std::io::Error::other("reply cut off"));
        }
        *line = Vec::new();
        *discarding = true;
    }
    if discard_line(reader).await? {
        *discarding = false;
        Ok(Read::Dropped)
    } else {
        Ok(Read::End)
    }
}

/// Reads and drops the rest of a line, through its line feed; `Ok(false)` if the stream ends
/// first. Cancel-safe: what was dropped stays dropped, and a new call goes on.
async fn discard_line(reader: &mut BufReader<OwnedReadHalf>) -> std::io::Result<bool> {
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            return Ok(false);
        }
        let (used, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(at) => (at + 1, true),
            None => (buf.len(), false),
        };
        reader.consume(used);
        if done {
            return Ok(true);
        }
    }
}

async fn poll_play(play: &mut Option<PlayFuture>) {
    match play {
        Some(play) => play.await,
        None => std::future::pending().await,
    }
}
