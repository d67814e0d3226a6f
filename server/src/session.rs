//! The state the server keeps per client, and what each command does to it.

use std::net::SocketAddr;
use std::sync::Arc;

use tapedeck_media::Format;
use tapedeck_protocol::{Command, Reply, SongId};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::warn;

use crate::claim::new_token;
use crate::library::Library;
use crate::open::open;
use crate::pace::Pacer;
use crate::shared::Shared;
use crate::sign_in::SignIn;
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
    /// The current transfer of cover art, if any: a new `art` ends it; a play does not.
    art: Option<Current>,
    /// Who the client is.
    pub sign_in: SignIn,
}

#[derive(Debug)]
struct Current {
    cancel: CancellationToken,
    task: JoinHandle<()>,
}

/// What to send back for one command.
#[derive(Debug)]
pub enum Answer {
    /// A reply rendered once for the life of the library snapshot (`list`, `info`).
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
            sign_in: SignIn::new(peer.ip(), &shared.config.bridges),
            shared,
            peer,
            local,
            cancel,
            current: None,
            art: None,
        }
    }

    /// Carries out `command` and says what to answer.
    pub async fn handle(&mut self, command: Command) -> Answer {
        if SignIn::handles(&command) {
            let accounts = Arc::clone(&self.shared.accounts);
            return Answer::Reply(self.sign_in.handle(&accounts, command).await);
        }
        if command != Command::Quit && !self.sign_in.allows(&self.shared.accounts) {
            return error("sign in first");
        }
        let library = self.shared.library();
        match command {
            Command::List => rendered(library, Library::list_line).await,
            Command::Info(None) => rendered(library, Library::info_line).await,
            Command::Info(Some(id)) => match library.get(id) {
                Some(song) => Answer::Reply(Reply::Song(song.info())),
                None => error("no such song"),
            },
            Command::Songs { from, count, order } if library.is_sorted(order) => {
                Answer::Reply(Reply::Page(library.page(from, count, order)))
            }
            Command::Songs { from, count, order } => {
                blocking(move || Reply::Page(library.page(from, count, order))).await
            }
            Command::Search { count, query } => {
                blocking(move || Reply::Found(library.search(&query, count))).await
            }
            Command::Artists { .. } | Command::Albums { .. } | Command::Album(_) => {
                browse(library, command).await
            }
            Command::Play(id, from_ms) => self.play(&library, id, from_ms).await,
            Command::Art(id, px) => self.art(&library, id, px).await,
            Command::Stop => {
                self.stop().await;
                Answer::Reply(Reply::Stopped)
            }
            Command::Quit => Answer::Reply(Reply::Bye),
            Command::Place(place) => self.place(place).await,
            _ => error("internal error"),
        }
    }

    /// `place`: where this user left off; `place <json>`: keeps it.
    async fn place(&self, place: Option<tapedeck_protocol::Place>) -> Answer {
        let accounts = &self.shared.accounts;
        let Some(user) = self.sign_in.place_owner(accounts) else {
            return error("sign in first");
        };
        let done = match place {
            None => accounts.place(user).await.map(Reply::Place),
            Some(place) => accounts.keep_place(user, &place).await.map(|()| Reply::Ok),
        };
        Answer::Reply(done.unwrap_or_else(|err| Reply::Error(err.to_string())))
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

    /// Ends everything of this client: its play and its transfer of art (the connection is
    /// closing).
    pub async fn close(&mut self) {
        self.stop().await;
        self.end_art().await;
    }

    async fn end_art(&mut self) {
        if let Some(previous) = self.art.take() {
            previous.cancel.cancel();
            let _ = previous.task.await;
        }
    }

    async fn play(&mut self, library: &Library, id: SongId, from_ms: Option<u32>) -> Answer {
        self.stop().await;
        let Some(song) = library.get(id) else {
            return error("no such song");
        };
        let (play, reply) = match self.prepare(library, song, from_ms).await {
            Ok(prepared) => prepared,
            Err(reason) => return error(reason),
        };
        self.current = Some(self.spawn(play, id));
        Answer::Reply(reply)
    }

    /// Runs `transfer` (of song `id`) in a task of its own, cancelled with the connection.
    fn spawn(&self, transfer: Play, id: SongId) -> Current {
        let cancel = self.cancel.child_token();
        let task = self
            .shared
            .tracker
            .spawn(stream::run(transfer, id.0, cancel.clone()));
        Current { cancel, task }
    }

    /// `art <id> [<px>]`: the song's thumbnail, made (or found made) off the async threads,
    /// on a fresh data port claimed like a play's, sent as fast as the client reads.
    async fn art(&mut self, library: &Library, id: SongId, px: Option<u32>) -> Answer {
        self.end_art().await;
        let Some(song) = library.get(id) else {
            return error("no such song");
        };
        let Some(art) = song.art() else {
            return error("no art");
        };
        let (path, px) = (library.path_of(song), crate::art::size_for(px));
        let shared = Arc::clone(&self.shared);
        let made = tokio::task::spawn_blocking(move || shared.thumbnails.get(&path, &art, px));
        let thumbnail = match made.await {
            Ok(Ok(made)) => made,
            Ok(Err(err)) => {
                warn!(song = %song.name(), error = %err, "cannot serve a song's art");
                return error("art unreadable");
            }
            Err(_) => return error("internal error"),
        };
        let body = crate::body::Body::made(thumbnail.to_vec());
        let bytes = body.len();
        let (transfer, port, token) = match self.transfer(body, None) {
            Ok(made) => made,
            Err(reason) => return error(reason),
        };
        self.art = Some(self.spawn(transfer, id));
        Answer::Reply(Reply::Art {
            port,
            token,
            bytes,
            media_type: crate::art::MEDIA_TYPE.to_owned(),
        })
    }

    /// The transfer of `body` on a fresh data port, paced by `pacer` if given: with the port
    /// and the token to announce. The error is the reason to send.
    fn transfer(
        &self,
        body: crate::body::Body,
        pacer: Option<Pacer>,
    ) -> Result<(Play, u16, String), &'static str> {
        let (listener, port, token) = self.data_port()?;
        let config = &self.shared.config;
        let play = Play {
            listener,
            body,
            token: token.clone(),
            peer: self.peer.ip().to_canonical(),
            pacer,
            claim_timeout: config.claim_timeout,
            stall_timeout: config.stall_timeout,
            chunk_size: config.chunk_size,
        };
        Ok((play, port, token))
    }

    /// A fresh data port and its token; the error is the reason to send.
    fn data_port(&self) -> Result<(tokio::net::TcpListener, u16, String), &'static str> {
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
        Ok((listener, port, token))
    }

    /// Opens the song (from `from_ms` if given) and a fresh data port; the error is the reason
    /// to send.
    async fn prepare(
        &self,
        library: &Library,
        song: crate::library::Song<'_>,
        from_ms: Option<u32>,
    ) -> Result<(Play, Reply), &'static str> {
        let format = Format::from_extension(song.format());
        let opened = open(library.path_of(song), format, from_ms)
            .await
            .map_err(|err| {
                warn!(song = %song.name(), error = %err, "cannot play a song as asked");
                err.reason()
            })?;
        let (bytes, skip) = (opened.body.len(), opened.skip);
        let pacer = (self.shared.config.pacing).map(|pacing| Pacer::new(pacing, opened.clock));
        let (play, port, token) = self.transfer(opened.body, pacer)?;
        let reply = Reply::Port {
            port,
            token,
            bytes,
            skip,
        };
        Ok((play, reply))
    }
}

/// A whole-library reply, rendered off the async threads if this snapshot has not rendered it
/// yet (at a million songs that takes most of a second).
async fn rendered(library: Arc<Library>, render: fn(&Library) -> Arc<str>) -> Answer {
    match tokio::task::spawn_blocking(move || render(&library)).await {
        Ok(line) => Answer::Rendered(line),
        Err(_) => error("internal error"),
    }
}

/// The reply `answer` makes, made off the async threads (a first search folds the library, a
/// first page in an order sorts it).
async fn blocking(answer: impl FnOnce() -> Reply + Send + 'static) -> Answer {
    match tokio::task::spawn_blocking(answer).await {
        Ok(reply) => Answer::Reply(reply),
        Err(_) => error("internal error"),
    }
}

/// `artists`, `albums` and `album`, off the async threads (the first one groups the library).
async fn browse(library: Arc<Library>, command: Command) -> Answer {
    let answer = tokio::task::spawn_blocking(move || {
        let browse = library.browse();
        match command {
            Command::Artists { from, count } => Some(Reply::Artists(browse.artists(from, count))),
            Command::Albums {
                from,
                count,
                artist,
            } => Some(Reply::Albums(browse.albums(from, count, artist.as_deref()))),
            Command::Album(id) => library
                .place(id)
                .and_then(|place| browse.album(library.songs(), place))
                .map(Reply::Album),
            _ => None,
        }
    });
    match answer.await {
        Ok(Some(reply)) => Answer::Reply(reply),
        Ok(None) => error("no such song"),
        Err(_) => error("internal error"),
    }
}

fn error(reason: &str) -> Answer {
    Answer::Reply(Reply::Error(reason.to_owned()))
}
