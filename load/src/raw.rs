//! A listener over the raw protocol: a control connection, and a data connection per play.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, bail};
use tapedeck_protocol::{Command, Reply, SongId};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use crate::transport::Incoming;

/// How long a stopped play's data connection may stay open after `stopped` before that counts
/// as an error (the server must have closed it before replying).
const CLOSE_GRACE: Duration = Duration::from_secs(2);

#[derive(Debug)]
pub struct Raw {
    addr: SocketAddr,
    replies: BufReader<OwnedReadHalf>,
    commands: OwnedWriteHalf,
    data: Option<TcpStream>,
    buf: Vec<u8>,
    got: u64,
    octets: u64,
}

impl Raw {
    pub async fn connect(addr: SocketAddr) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(addr).await.context("connect")?;
        let (r, w) = stream.into_split();
        Ok(Self {
            addr,
            replies: BufReader::new(r),
            commands: w,
            data: None,
            buf: vec![0; 16 * 1024],
            got: 0,
            octets: 0,
        })
    }

    /// Sends one command line and returns its reply line.
    pub async fn command(&mut self, line: &str) -> anyhow::Result<String> {
        self.commands
            .write_all(format!("{line}\n").as_bytes())
            .await
            .context("send command")?;
        loop {
            let mut reply = String::new();
            let n = (&mut self.replies)
                .take(64 * 1024 * 1024)
                .read_line(&mut reply)
                .await
                .context("read reply")?;
            if n == 0 {
                bail!("server closed the control connection");
            }
            // Events (PROTOCOL.md 6.6) come between replies; none concerns a listener.
            if tapedeck_protocol::Event::parse(reply.trim_end()).is_none() {
                return Ok(reply.trim_end().to_owned());
            }
        }
    }

    /// Plays `id`: returns the song's length once the data port is claimed.
    pub async fn play(&mut self, id: u32) -> anyhow::Result<u64> {
        self.data = None;
        let line = self.command(&format!("play {id}")).await?;
        let (port, token, octets) = match Reply::parse(&Command::Play(SongId(id), None), &line)? {
            Reply::Port {
                port, token, bytes, ..
            } => (port, token, bytes),
            other => bail!("play answered {other}"),
        };
        let mut data = TcpStream::connect((self.addr.ip(), port))
            .await
            .context("connect to the data port")?;
        data.write_all(format!("{token}\n").as_bytes())
            .await
            .context("claim")?;
        self.data = Some(data);
        (self.got, self.octets) = (0, octets);
        Ok(octets)
    }

    /// The next thing the current play delivers.
    pub async fn next(&mut self) -> anyhow::Result<Incoming> {
        let Some(data) = self.data.as_mut() else {
            bail!("nothing is playing");
        };
        let n = data.read(&mut self.buf).await.context("data connection")?;
        if n > 0 {
            self.got += n as u64;
            return Ok(Incoming::Audio(n));
        }
        self.data = None;
        if self.got == self.octets {
            Ok(Incoming::End)
        } else {
            Ok(Incoming::Cut(format!(
                "data connection closed after {} of {} bytes",
                self.got, self.octets
            )))
        }
    }

    /// Stops; returns the bytes that arrived on the stopped play's connection after `stopped`
    /// beyond those already waiting in the socket when it came.
    pub async fn stop(&mut self) -> anyhow::Result<u64> {
        let line = self.command("stop").await?;
        if line != "stopped" {
            bail!("stop answered {line:?}");
        }
        let Some(mut data) = self.data.take() else {
            return Ok(0);
        };
        // What the kernel already holds was sent before the reply.
        loop {
            match data.try_read(&mut self.buf) {
                Ok(0) => return Ok(0),
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(_) => return Ok(0),
            }
        }
        let mut after = 0u64;
        let drained = tokio::time::timeout(CLOSE_GRACE, async {
            loop {
                match data.read(&mut self.buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => after += n as u64,
                }
            }
        })
        .await;
        if drained.is_err() {
            bail!("the data connection stayed open after `stopped`");
        }
        Ok(after)
    }

    /// Waits `pause` between plays: nothing can arrive on the raw protocol then.
    pub async fn idle(&mut self, pause: Duration) -> u64 {
        tokio::time::sleep(pause).await;
        0
    }
}
