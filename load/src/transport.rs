//! The two ways a listener reaches the server, behind one interface.

use std::net::SocketAddr;
use std::time::Duration;

use crate::raw::Raw;
use crate::ws::Ws;

/// Where listeners connect, and the session each signs in with (a server with accounts).
#[derive(Debug, Clone)]
pub enum Target {
    /// The server's control port.
    Server(SocketAddr, Option<String>),
    /// The bridge's WebSocket URL.
    Bridge(String, Option<String>),
}

/// What a play delivers next.
#[derive(Debug)]
pub enum Incoming {
    /// Bytes of the song.
    Audio(usize),
    /// The song is complete.
    End,
    /// The play ended early, without a stop; the reason.
    Cut(String),
}

/// One listener's session.
#[derive(Debug)]
pub enum Conn {
    Raw(Raw),
    Ws(Box<Ws>),
}

impl Conn {
    pub async fn connect(target: &Target) -> anyhow::Result<Self> {
        Ok(match target {
            Target::Server(addr, session) => {
                let mut raw = Raw::connect(*addr).await?;
                if let Some(id) = session {
                    let reply = raw.command(&format!("session {id}")).await?;
                    anyhow::ensure!(reply.starts_with("user "), "session refused: {reply}");
                }
                Self::Raw(raw)
            }
            Target::Bridge(url, session) => {
                Self::Ws(Box::new(Ws::connect(url, session.as_deref()).await?))
            }
        })
    }

    pub async fn command(&mut self, line: &str) -> anyhow::Result<String> {
        match self {
            Self::Raw(c) => c.command(line).await,
            Self::Ws(c) => c.command(line).await,
        }
    }

    /// Plays song `id`; returns its length in bytes.
    pub async fn play(&mut self, id: u32) -> anyhow::Result<u64> {
        match self {
            Self::Raw(c) => c.play(id).await,
            Self::Ws(c) => c.play(id).await,
        }
    }

    pub async fn next(&mut self) -> anyhow::Result<Incoming> {
        match self {
            Self::Raw(c) => c.next().await,
            Self::Ws(c) => c.next().await,
        }
    }

    /// Stops; returns bytes of the stopped play seen after the reply.
    pub async fn stop(&mut self) -> anyhow::Result<u64> {
        match self {
            Self::Raw(c) => c.stop().await,
            Self::Ws(c) => c.stop().await,
        }
    }

    /// Pauses between plays; returns stray audio bytes that arrived meanwhile.
    pub async fn idle(&mut self, pause: Duration) -> u64 {
        match self {
            Self::Raw(c) => c.idle(pause).await,
            Self::Ws(c) => c.idle(pause).await,
        }
    }
}
