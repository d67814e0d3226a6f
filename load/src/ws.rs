//! A listener over the bridge's WebSocket, as a browser speaks it (PROTOCOL.md, section 16).

use std::time::Duration;

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use tapedeck_protocol::{Command, Event, Reply, SongId};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::transport::Incoming;

#[derive(Debug)]
pub struct Ws {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Bytes of the current play received, and announced.
    got: u64,
    octets: u64,
}

/// One message, sorted.
enum Got {
    Audio(usize),
    Event(Event),
    Reply(String),
}

impl Ws {
    /// Opens the WebSocket at `url`, with the session cookie if `session` is given.
    pub async fn connect(url: &str, session: Option<&str>) -> anyhow::Result<Self> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = url.into_client_request().context("the WebSocket URL")?;
        if let Some(id) = session {
            let cookie = format!("tapedeck_session={id}").parse().context("cookie")?;
            request.headers_mut().insert("cookie", cookie);
        }
        let (socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .context("open the WebSocket")?;
        Ok(Self {
            socket,
            got: 0,
            octets: 0,
        })
    }

    async fn receive(&mut self) -> anyhow::Result<Got> {
        loop {
            let message = self
                .socket
                .next()
                .await
                .context("the bridge closed the WebSocket")?
                .context("WebSocket")?;
            match message {
                Message::Binary(bytes) => return Ok(Got::Audio(bytes.len())),
                Message::Text(text) => {
                    return Ok(match Event::parse(&text) {
                        Some(event) => Got::Event(event),
                        None => Got::Reply(text.to_string()),
                    });
                }
                Message::Close(frame) => bail!("the bridge closed the WebSocket: {frame:?}"),
                _ => {}
            }
        }
    }

    /// Sends one command and returns its reply; audio and events before it belong to an
    /// earlier play (they were queued before the command was seen).
    pub async fn command(&mut self, line: &str) -> anyhow::Result<String> {
        self.socket
            .send(Message::text(line))
            .await
            .context("send command")?;
        loop {
            if let Got::Reply(reply) = self.receive().await? {
                return Ok(reply);
            }
        }
    }

    pub async fn play(&mut self, id: u32) -> anyhow::Result<u64> {
        let line = self.command(&format!("play {id}")).await?;
        match Reply::parse(&Command::Play(SongId(id), None), &line)? {
            Reply::Port { bytes, .. } => {
                (self.got, self.octets) = (0, bytes);
                Ok(bytes)
            }
            other => bail!("play answered {other}"),
        }
    }

    pub async fn next(&mut self) -> anyhow::Result<Incoming> {
        loop {
            if let Some(incoming) = self.incoming().await? {
                return Ok(incoming);
            }
        }
    }

    /// The next message that concerns the play (`None` for an event that does not).
    async fn incoming(&mut self) -> anyhow::Result<Option<Incoming>> {
        Ok(Some(match self.receive().await? {
            Got::Event(Event::LibraryChanged | Event::Other(_)) => return Ok(None),
            Got::Audio(n) => {
                self.got += n as u64;
                Incoming::Audio(n)
            }
            // The song is complete only if every announced byte came, none more.
            Got::Event(Event::End) if self.got == self.octets => Incoming::End,
            Got::Event(Event::End) => Incoming::Cut(format!(
                "`event end` after {} of {} bytes",
                self.got, self.octets
            )),
            Got::Event(Event::Error(reason)) => Incoming::Cut(reason),
            Got::Reply(reply) => bail!("a reply nobody asked for: {reply:?}"),
        }))
    }

    /// Stops. Audio before `stopped` was queued before it; none may follow (section 16.4),
    /// which [`Ws::idle`] watches for.
    pub async fn stop(&mut self) -> anyhow::Result<u64> {
        let line = self.command("stop").await?;
        if line != "stopped" {
            bail!("stop answered {line:?}");
        }
        Ok(0)
    }

    /// Waits `pause` between plays, counting any audio that arrives meanwhile: after a
    /// `stopped`, every such byte is one too many.
    pub async fn idle(&mut self, pause: Duration) -> u64 {
        let mut after = 0;
        let _ = tokio::time::timeout(pause, async {
            while let Ok(got) = self.receive().await {
                if let Got::Audio(n) = got {
                    after += n as u64;
                }
            }
        })
        .await;
        after
    }
}
