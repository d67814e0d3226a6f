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

/// The longest reply line the bridge accepts (an `info` of about 50,000 songs).
pub const MAX_REPLY_LEN: usize = 16 << 20;

/// Why the server side ended.
#[derive(Debug)]
pub enum ServerEnd {
    /// The server closed the control connection (crash, restart, shutdown, idle timeout).
    Closed,
    /// The browser said `quit` and the server said `bye`.
    Quit,
    /// The server sent a line over [`MAX_REPLY_LEN`] or broke the connection.
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
}

impl Replies {
    pub fn new(
        reader: OwnedReadHalf,
        incoming: mpsc::Receiver<Pending>,
        out: mpsc::Sender<Out>,
        server: IpAddr,
        connect_timeout: Duration,
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
        }
    }

    pub async fn run(mut self) -> ServerEnd {
        let mut line = Vec::new();
        loop {
            let step = tokio::select! {
                read = read_reply(&mut self.reader, &mut line) => match read {
                    Ok(true) => self.on_reply(std::mem::take(&mut line)).await,
                    Ok(false) => Err(ServerEnd::Closed),
                    Err(_) => Err(ServerEnd::Broken),
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
        self.catch_up().await?;
        let Some(Pending::Server {
            command,
            generation,
        }) = self.pending.pop_front()
        else {
            return self.unprompted(line).await;
        };
        if command.is_some_and(|c| c.ends_play()) {
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

/// Reads one reply line into `line` (cancel-safe: a partial line stays in `line`). `Ok(false)`
/// at end of stream.
async fn read_reply(
    reader: &mut BufReader<OwnedReadHalf>,
    line: &mut Vec<u8>,
) -> std::io::Result<bool> {
    let room = (MAX_REPLY_LEN + 1).saturating_sub(line.len()) as u64;
    let n = (&mut *reader).take(room).read_until(b'\n', line).await?;
    if line.last() == Some(&b'\n') {
        return Ok(true);
    }
    if n == 0 && line.is_empty() {
        return Ok(false);
    }
    // Only the limit or the end of the stream stop `read_until` short of a line feed.
    Err(std::io::Error::other("reply too long or cut off"))
}

async fn poll_play(play: &mut Option<PlayFuture>) {
    match play {
        Some(play) => play.await,
        None => std::future::pending().await,
    }
}
