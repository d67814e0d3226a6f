//! The state the server keeps per client, and what each command does to it.

use std::net::SocketAddr;
use std::sync::Arc;

use tapedeck_media::{Clock, Format};
use tapedeck_protocol::{Command, Reply, SongId};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use crate::claim::new_token;
use crate::pace::Pacer;
use crate::server::Shared;
use crate::stream::{self, Play};

/// One control connection's state.
#[derive(Debug)]
pub struct Session {
    /// Library, config and the task tracker.
    shared: Arc<Shared>,
    /// Where the client connects from: only this address may claim its data ports.
    peer: SocketAddr,
    /// The address the client reached us on: data ports are opened on the same interface.
    local: SocketAddr,
    /// The connection's cancellation; each play gets a child token.
    cancel: CancellationToken,
    /// The current play, if any (it may have finished on its own).
    current: Option<Current>,
}

#[derive(Debug)]
struct Current {
    cancel: CancellationToken,
    task: JoinHandle<()>,
}

/// What to send back for one command.
#[derive(Debug)]
pub enum Answer {
    /// A reply rendered once for the life of the library (`list`, `info`).
    Rendered(Arc<str>),
    /// Any other reply.
    Reply(Reply),
}

impl Session {
    pub fn new(
        shared: Arc<Shared>,
        peer: SocketAddr,
        local: SocketAddr,
        cancel: CancellationToken,
    ) -> Self {
        Self {
            shared,
            peer,
            local,
            cancel,
            current: None,
        }
    }

    /// Carries out `command` and says what to answer.
    pub async fn handle(&mut self, command: Command) -> Answer {
        let library = &self.shared.library;
        match command {
            Command::List => Answer::Rendered(library.list_line().clone()),
            Command::Info(None) => Answer::Rendered(library.info_line().clone()),
            Command::Info(Some(id)) => match library.get(id) {
                Some(song) => Answer::Rendered(song.info_line.clone()),
                None => error("no such song"),
            },
            Command::Play(id) => self.play(id).await,
            Command::Stop => {
                self.stop().await;
                Answer::Reply(Reply::Stopped)
            }
            Command::Quit => Answer::Reply(Reply::Bye),
        }
    }

    /// Whether a stream is still going on (claimed or waiting to be).
    pub fn is_streaming(&self) -> bool {
        self.current.as_ref().is_some_and(|c| !c.task.is_finished())
    }

    /// Ends the current play, if any, and waits until its data connection is closed.
    pub async fn stop(&mut self) {
        if let Some(current) = self.current.take() {
            current.cancel.cancel();
            // The task only ends by returning; a JoinError would mean it panicked, and the
            // stream is gone either way.
            let _ = current.task.await;
        }
    }

    async fn play(&mut self, id: SongId) -> Answer {
        self.stop().await;
        let Some(song) = self.shared.library.get(id) else {
            return error("no such song");
        };
        let (play, reply) = match self.prepare(song).await {
            Ok(prepared) => prepared,
            Err(reason) => return error(reason),
        };
        let cancel = self.cancel.child_token();
        let task = self
            .shared
            .tracker
            .spawn(stream::run(play, id.0, cancel.clone()));
        self.current = Some(Current { cancel, task });
        Answer::Reply(reply)
    }

    /// Opens the file and a fresh data port; the error is the reason to send.
    async fn prepare(&self, song: &crate::library::Song) -> Result<(Play, Reply), &'static str> {
        let format = Format::from_extension(&song.info.format);
        let (file, size, clock) = open(song.path.clone(), format).await.map_err(|err| {
            warn!(song = %song.info.name, error = %err, "cannot open a song");
            "song unavailable"
        })?;
        let listener = self
            .shared
            .data_ports
            .bind(self.local.ip())
            .map_err(|err| {
                warn!(error = %err, "cannot open a data port");
                "no data port available"
            })?;
        let port = listener
            .local_addr()
            .map_err(|_| "no data port available")?
            .port();
        let token = new_token().map_err(|_| "internal error")?;
        let config = &self.shared.config;
        let reply = Reply::Port {
            port,
            token: token.clone(),
            bytes: size,
        };
        let play = Play {
            listener,
            file,
            size,
            token,
            peer: self.peer.ip().to_canonical(),
            pacer: config.pacing.map(|pacing| Pacer::new(pacing, clock)),
            claim_timeout: config.claim_timeout,
            stall_timeout: config.stall_timeout,
            chunk_size: config.chunk_size,
        };
        Ok((play, reply))
    }
}

/// Opens a song file, reads its size and sets up its media clock in one trip to the blocking
/// pool (the play path's latency is mostly such trips). A file whose clock cannot be read is
/// still played, unpaced.
async fn open(
    path: std::path::PathBuf,
    format: Option<Format>,
) -> std::io::Result<(std::fs::File, u64, Clock)> {
    let opened = tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&path)?;
        let size = file.metadata()?.len();
        let clock = format.map_or_else(
            || Ok(Clock::unknown()),
            |format| Clock::open(format, &file, size),
        );
        let clock = clock.unwrap_or_else(|err| {
            debug!(path = %path.display(), error = %err, "no media clock: the song goes unpaced");
            Clock::unknown()
        });
        Ok::<_, std::io::Error>((file, size, clock))
    });
    opened.await.map_err(std::io::Error::other)?
}

fn error(reason: &str) -> Answer {
    Answer::Reply(Reply::Error(reason.to_owned()))
}
